/**
 * A small evaluator of who may call a KMS operation on a key, for tests: the key's policy, the
 * caller's IAM policies and the key's grants, as AWS KMS combines them ("Determining access to an
 * AWS KMS key", KMS Developer Guide):
 *
 * - an explicit Deny in the key policy or the caller's IAM policies denies;
 * - a key-policy statement whose principal is the caller (its ARN, or `*` with conditions that match)
 *   allows a caller of the key's account on its own; a caller of another account also needs its own
 *   IAM policy to allow;
 * - a key-policy statement whose principal is an account (`arn:aws:iam::<id>:root`) allows nothing by
 *   itself: it lets that account's IAM policies decide, so the caller's IAM policy must allow too;
 * - a grant for the caller allows the grant's operations.
 *
 * Conditions: StringEquals, StringLike, ArnEquals, ArnLike, Bool and Null, with the ForAllValues: and
 * ForAnyValue: set operators. Values are compared after the template's `Fn::Join` and pseudo
 * parameters are resolved (`resolve()`).
 */

export type Statement = {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS?: string | string[]; Service?: string | string[] };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: { [operator: string]: { [key: string]: unknown } };
};

export interface PolicyDocument {
  readonly Statement: Statement[];
}

/** A request to KMS: who calls, what, on which key, with which request context. */
export interface KmsRequest {
  readonly principalArn: string;
  readonly action: string;
  readonly keyArn: string;
  readonly context?: { [key: string]: string | string[] | boolean };
}

export interface Grant {
  readonly grantee: string;
  readonly operations: string[];
}

export interface KeyAccess {
  readonly keyPolicy: PolicyDocument;
  /** The IAM policies of each caller (by principal ARN); none for a caller with no IAM policy. */
  readonly identityPolicies?: { [principalArn: string]: PolicyDocument[] };
  readonly grants?: Grant[];
}

export type Decision = 'allowed' | 'denied';

export function evaluate(access: KeyAccess, request: KmsRequest): Decision {
  const keyAccount = request.keyArn.split(':')[4];
  const callerAccount = request.principalArn.split(':')[4];
  const context: { [key: string]: string | string[] | boolean } = {
    'aws:PrincipalArn': request.principalArn,
    'aws:PrincipalAccount': callerAccount,
    'kms:CallerAccount': callerAccount,
    ...request.context,
  };
  const identity = (access.identityPolicies?.[request.principalArn] ?? []).flatMap((p) => p.Statement);
  const keyStatements = access.keyPolicy.Statement;
  const applies = (s: Statement, resource: string) => actionMatches(s.Action, request.action) && resourceMatches(s.Resource ?? '*', resource) && conditionsHold(s.Condition, context);

  if ([...keyStatements.filter((s) => principalMatch(s, request.principalArn) !== 'none'), ...identity].some((s) => s.Effect === 'Deny' && applies(s, request.keyArn))) {
    return 'denied';
  }
  const identityAllows = identity.some((s) => s.Effect === 'Allow' && applies(s, request.keyArn));
  for (const s of keyStatements) {
    if (s.Effect !== 'Allow' || !applies(s, request.keyArn)) continue;
    const match = principalMatch(s, request.principalArn);
    if (match === 'direct' && (callerAccount === keyAccount || identityAllows)) return 'allowed';
    if (match === 'account' && identityAllows) return 'allowed';
  }
  const operation = request.action.replace(/^kms:/, '');
  if ((access.grants ?? []).some((g) => g.grantee === request.principalArn && g.operations.includes(operation))) return 'allowed';
  return 'denied';
}

/** How a key-policy statement names the caller: directly, through its account, or not. */
function principalMatch(s: Statement, principalArn: string): 'direct' | 'account' | 'none' {
  if (s.Principal === '*') return 'direct';
  const aws = [s.Principal?.AWS ?? []].flat();
  if (aws.includes('*') || aws.includes(principalArn)) return 'direct';
  const account = principalArn.split(':')[4];
  if (aws.some((p) => p === account || p === `arn:aws:iam::${account}:root`)) return 'account';
  return 'none';
}

function actionMatches(actions: string | string[], action: string): boolean {
  return [actions].flat().some((a) => wildcard(a, action, true));
}

function resourceMatches(resources: string | string[], resource: string): boolean {
  return [resources].flat().some((r) => r === '*' || resource === '*' || wildcard(r, resource, false));
}

/** `*` and `?` wildcards; actions compare without case. */
function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, ignoreCase ? 'i' : '');
  return re.test(value);
}

function conditionsHold(conditions: Statement['Condition'], context: { [key: string]: string | string[] | boolean }): boolean {
  for (const [operator, entries] of Object.entries(conditions ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      if (!conditionHolds(operator, context[key], [expected].flat().map(String))) return false;
    }
  }
  return true;
}

function conditionHolds(operator: string, actual: string | string[] | boolean | undefined, expected: string[]): boolean {
  const [set, op] = operator.includes(':') ? operator.split(':') : ['', operator];
  if (op === 'Null') return (actual === undefined) === (expected[0] === 'true');
  if (actual === undefined) return set === 'ForAllValues';
  const values = [actual].flat().map(String);
  const one = (value: string) => expected.some((e) => {
    switch (op) {
      case 'StringEquals': case 'ArnEquals': case 'Bool': return value === e;
      case 'StringLike': case 'ArnLike': return wildcard(e, value, false);
      default: throw new Error(`condition operator ${operator} is not evaluated here`);
    }
  });
  if (set === 'ForAllValues') return values.every(one);
  if (set === 'ForAnyValue') return values.some(one);
  return values.length === 1 && one(values[0]);
}

/** The template's value with `Fn::Join`, `Ref` of pseudo parameters and `Fn::GetAtt` resolved (the latter by `attributes`). */
type Env = { account: string; region: string; partition?: string };
export function resolve(value: unknown, env: Env, attributes: { [ref: string]: string } = {}): any {
  if (Array.isArray(value)) return value.map((v) => resolve(v, env, attributes));
  if (value === null || typeof value !== 'object') return value;
  const o = value as { [key: string]: any };
  if ('Fn::Join' in o) return (o['Fn::Join'][1] as unknown[]).map((v) => resolve(v, env, attributes)).join(o['Fn::Join'][0]);
  if ('Ref' in o) {
    const pseudo: { [k: string]: string } = {
      'AWS::Partition': env.partition ?? 'aws', 'AWS::AccountId': env.account, 'AWS::Region': env.region, 'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[o.Ref] ?? attributes[o.Ref] ?? `<${o.Ref}>`;
  }
  if ('Fn::GetAtt' in o) {
    const ref = (o['Fn::GetAtt'] as string[]).join('.');
    return attributes[ref] ?? `<${ref}>`;
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, env, attributes)]));
}
