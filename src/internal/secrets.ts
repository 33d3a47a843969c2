/**
 * One secrets detector for every user string that lands in a template: environment variables, build
 * arguments, shell steps and component documents, user data, tags, names. The same rules everywhere:
 *
 * - a value that is a secret whatever its name (an AWS access key id, a private key, a URL with a
 *   password, a GitHub, Slack, npm or PyPI token, a JSON Web Token), or a token that resolves to a
 *   secret's value (a dynamic reference to Secrets Manager or an SSM SecureString), fails synthesis;
 * - a name that usually holds a secret (`DB_PASSWORD`, `apiKey`, an assignment `NPM_TOKEN=...` in a
 *   command) gives one warning per construct, `cdk-immutable-deploys:plaintext-secret`.
 *
 * A false positive is acknowledged the same way everywhere, with aws-cdk-lib's warning
 * acknowledgements: `Annotations.of(scope).acknowledgeWarning(id, reason)` with
 * `cdk-immutable-deploys:plaintext-secret` for a name (on the construct, at any time), and
 * `cdk-immutable-deploys:plaintext-secret-value` for a value (on the construct's scope or stack,
 * before the construct is created, since the error stops synthesis where the construct is made).
 *
 * Internal: never exported from the package.
 */
import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { PropProblems, warn, warningId } from './errors';

/** The slug that acknowledges a value that looks like a secret but is not (a documentation example). */
export const SECRET_VALUE_SLUG = 'plaintext-secret-value';

/** Names that usually hold a secret: a warning, because such a name may also hold a secret's *name*. */
const SECRET_WORDS = /(^|_)(PASSWORD|PASSWD|PASS|PASSPHRASE|PWD|SECRET|SECRETS|TOKEN|CREDENTIAL|CREDENTIALS|APIKEY|(API|PRIVATE|ACCESS|SIGNING|ENCRYPTION|SESSION|MASTER|AUTH|CLIENT)_KEY)(_|$)/;

/**
 * Names that point at a secret rather than hold one (`DB_SECRET_ARN`, `TOKEN_URL`,
 * `API_KEY_PARAMETER_NAME`): the usual way to pass a secret to an application that reads it itself.
 */
const REFERENCE_SUFFIX = /_(ARN|NAME|ID|URL|URI|ENDPOINT|PATH|FILE|PARAMETER|PARAM|HEADER|TTL|EXPIRY|EXPIRES|LENGTH)$/;

/** Values that are a secret whatever their name. */
const SECRET_VALUES: ReadonlyArray<{ readonly what: string; readonly pattern: RegExp }> = [
  { what: 'an AWS access key id', pattern: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { what: 'a private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  // `scheme://user:password@host`, and `redis://:password@host` (no user name)
  { what: 'a URL with a password in it', pattern: /[a-z][a-z0-9+.-]*:\/\/[^/\s:@'"]*:[^/\s@'"$]+@/i },
  { what: 'a GitHub token', pattern: /\b(ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/ },
  { what: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { what: 'an npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { what: 'a PyPI token', pattern: /\bpypi-AgE[A-Za-z0-9_-]{50,}/ },
  { what: 'a JSON Web Token', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
];

/** What CloudFormation dynamic references to secrets look like once a token is resolved. */
const DYNAMIC_SECRET = /\{\{resolve:(secretsmanager|ssm-secure):/;

/** `NAME=value` in a command, a document or user data, with a literal value (not `$VAR`, not empty). */
const ASSIGNMENT = /(?:^|[\s;&|(])(?:export\s+|ENV\s+|ARG\s+|set\s+)?([A-Za-z_][A-Za-z0-9_.-]*)=("[^"$]+"|'[^']+'|[^\s;&|'"$)][^\s;&|)]*)/g;

/** What the detector finds in a value that is a secret for certain, or undefined. */
export function secretValueKind(value: string): string | undefined {
  return SECRET_VALUES.find((s) => s.pattern.test(value))?.what;
}

/** A resolved token that would put a secret's value into the template in plain text. */
export function isDynamicSecretReference(resolved: unknown): boolean {
  return DYNAMIC_SECRET.test(JSON.stringify(resolved) ?? '');
}

/** A name that usually holds a secret: dbPassword, DB_PASSWORD, db-password and db.password alike. */
export function looksLikeSecretName(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
  return SECRET_WORDS.test(words) && !REFERENCE_SUFFIX.test(words);
}

/** The secret-looking names assigned a literal value in a command, document or script. */
export function secretAssignments(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(ASSIGNMENT)) {
    if (looksLikeSecretName(match[1])) names.push(match[1]);
  }
  return names;
}

/** One user string that lands in a template. */
export interface PlainText {
  /** The prop as the user writes it: `buildArgs`, `steps[2]`, `tags`. */
  readonly prop: string;
  /** The name it is stored under, for maps (an environment variable, a build argument, a tag key). */
  readonly name?: string;
  /** The value. */
  readonly value: string;
}

/** What to do instead, per kind of prop: the end of the error's message. */
export interface SecretAdvice {
  /** Where the template keeps the value, for the message: `the task definition`, `the template`. */
  readonly storedIn: string;
  /** What to do instead, as a sentence. */
  readonly fix: (name: string | undefined) => string;
}

/** Whether `id` is acknowledged on `scope` or any of its parents (aws-cdk-lib keeps acknowledgements per app). */
function isAcknowledged(scope: IConstruct, id: string): boolean {
  const app = scope.node.root as unknown as { [key: symbol]: { has?: (node: IConstruct, ack: string) => boolean } | undefined };
  const acknowledgements = app[Symbol.for('@aws-cdk/core.Acknowledgements')];
  return typeof acknowledgements?.has === 'function' && acknowledgements.has(scope, id);
}

/**
 * Checks every string a construct writes into its template: each secret value is recorded as a
 * problem of the construct, and fails synthesis (unless acknowledged); secret-looking names give one
 * warning for the construct.
 */
export function checkPlaintextSecrets(scope: IConstruct, type: string, texts: PlainText[], advice: SecretAdvice): void {
  const suspicious: string[] = [];
  for (const text of texts) {
    const label = text.name !== undefined ? `${text.prop} ${text.name}` : text.prop;
    if (Token.isUnresolved(text.value)) {
      if (isDynamicSecretReference(tryResolve(scope, text.value)) && !isAcknowledged(scope, warningId(SECRET_VALUE_SLUG))) {
        PropProblems.of(scope, type).add({
          prop: label,
          problem: `is a secret's value (a dynamic reference to Secrets Manager or SSM SecureString), which would be stored in plain text in ${advice.storedIn}`,
          fix: advice.fix(text.name),
        });
      }
    } else {
      const kind = secretValueKind(text.value);
      if (kind && !isAcknowledged(scope, warningId(SECRET_VALUE_SLUG))) {
        PropProblems.of(scope, type).add({
          prop: label,
          problem: `holds what looks like ${kind}, which would be stored in plain text in ${advice.storedIn}`,
          fix: `${advice.fix(text.name)} If it is not a secret (a documentation example), acknowledge it before creating the construct: `
            + `Annotations.of(stack).acknowledgeWarning('${warningId(SECRET_VALUE_SLUG)}', '<why>').`,
        });
      }
      suspicious.push(...secretAssignments(text.value).map((n) => `${n} (in ${text.prop})`));
    }
    if (text.name !== undefined && looksLikeSecretName(text.name)) suspicious.push(text.name);
  }
  if (suspicious.length > 0) {
    const names = [...new Set(suspicious)];
    const many = names.length > 1;
    warn(scope, 'plaintext-secret',
      `${names.join(', ')} look${many ? '' : 's'} like ${many ? 'they hold secrets' : 'it holds a secret'}, but ${advice.storedIn} keeps ${many ? 'them' : 'it'} in plain text. `
      + `${advice.fix(undefined)} If the value is not secret (e.g. a secret's name), acknowledge this warning.`);
  }
}

/** A token's value once resolved, or undefined when it cannot be resolved yet: nothing to judge. */
function tryResolve(scope: IConstruct, value: string): unknown {
  try {
    return Stack.of(scope).resolve(value);
  } catch {
    return undefined;
  }
}

/** The advice for strings that run on an instance or name an AMI: a bake's steps, tags and name, a group's user data. */
export const INSTANCE_ADVICE: SecretAdvice = {
  storedIn: 'the template (and the image\'s component documents or tags)',
  fix: () => 'Read secrets on the instance when it needs them, from Secrets Manager or SSM Parameter Store (aws secretsmanager get-secret-value in a step or in user data), with the instance role.',
};

/** Every entry of a map of names to values, as plain texts of one prop. */
export function entriesOf(prop: string, values: { [name: string]: string } | undefined): PlainText[] {
  return Object.entries(values ?? {}).map(([name, value]) => ({ prop, name, value }));
}
