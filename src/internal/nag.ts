/**
 * Acknowledging cdk-nag findings by their exact ids, and the handler plumbing every deploy-time
 * construct shares (singleton handler functions behind one Provider per stack).
 *
 * cdk-nag names many findings with the offending value, e.g.
 * `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:imagebuilder:<AWS::Region>:<AWS::AccountId>:image/x/1.2.3/*]`,
 * and only an acknowledgement of that exact id covers it. aws-cdk-lib (2.271.0 and later) scopes an
 * acknowledgement to the construct that makes it and its children, so acknowledging the exact id on
 * the narrowest construct hides nothing else in the user's app. Values are flattened the way
 * cdk-nag flattens them (`<Ref>`, `<Logical.Attr>`).
 *
 * Internal: never exported from the package.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { IConstruct } from 'constructs';

/** A finding to acknowledge, with the reason a reviewer reads. */
export interface NagAcknowledgement {
  readonly id: string;
  readonly reason: string;
}

/** Acknowledges findings on a construct and its children. */
export function acknowledgeExact(scope: IConstruct, ...findings: NagAcknowledgement[]): void {
  Validations.of(scope).acknowledge(...findings);
}

/** A value (string with tokens) as cdk-nag prints it in finding ids. */
export function nagValue(scope: IConstruct, value: string): string {
  return flatten(Stack.of(scope).resolve(value));
}

/**
 * Acknowledges every wildcard of a statement (actions and resources with `*`) on `scope`:
 * the `AwsSolutions-IAM5` findings it would raise.
 */
export function acknowledgeWildcards(scope: IConstruct, actions: string[], resources: string[], reason: string): void {
  const ids = [
    ...actions.filter((a) => a.includes('*')).map((a) => `AwsSolutions-IAM5[Action::${a}]`),
    ...resources.map((r) => nagValue(scope, r)).filter((r) => r.includes('*')).map((r) => `AwsSolutions-IAM5[Resource::${r}]`),
  ];
  acknowledgeExact(scope, ...[...new Set(ids)].map((id) => ({ id, reason })));
}

/** The id of an AWS-managed-policy finding. */
export function managedPolicyFinding(policyName: string): string {
  return `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policyName}]`;
}

/** The stack-level function behind a singleton handler (where its role and policies live). */
export function functionOf(fn: lambda.SingletonFunction): lambda.Function {
  const host = fn.role?.node.scope;
  if (!(host instanceof lambda.Function)) throw new Error(`cannot find the function of ${fn.node.path}`);
  return host;
}

const BASIC_EXECUTION = managedPolicyFinding('service-role/AWSLambdaBasicExecutionRole');

/** Acknowledges the AWS managed policy of a singleton handler's role: it only writes the handler's own logs. */
export function acknowledgeHandler(fn: lambda.SingletonFunction): void {
  acknowledgeExact(functionOf(fn), {
    id: BASIC_EXECUTION,
    reason: 'The handler uses AWSLambdaBasicExecutionRole, which only lets it write its own CloudWatch logs; its other permissions are on exact ARNs.',
  });
}

/**
 * Acknowledges what aws-cdk-lib's Provider framework and the singleton handlers it wraps raise,
 * with the reasons that hold for them. The handlers' own permissions are on exact ARNs.
 */
export function acknowledgeProvider(provider: cr.Provider, handlers: lambda.SingletonFunction[]): void {
  handlers.forEach(acknowledgeHandler);
  const invoked = [
    ...handlers.map(functionOf),
    provider.node.tryFindChild('framework-isComplete'),
    provider.node.tryFindChild('framework-onTimeout'),
  ].filter((c): c is lambda.Function => c instanceof lambda.Function);
  acknowledgeExact(provider,
    { id: BASIC_EXECUTION, reason: "aws-cdk-lib's Provider framework functions use AWSLambdaBasicExecutionRole, which only lets them write their own logs." },
    ...invoked.map((fn) => ({
      id: `AwsSolutions-IAM5[Resource::${nagValue(provider, fn.functionArn)}:*]`,
      reason: "aws-cdk-lib's Provider framework invokes the function it wraps on any of its versions ('<function ARN>:*'), which is still that one function.",
    })),
    { id: 'AwsSolutions-L1', reason: "aws-cdk-lib's Provider framework functions use the newest Node.js runtime aws-cdk-lib knows; it moves with aws-cdk-lib." },
    { id: 'AwsSolutions-SF1', reason: "The Provider framework's waiter state machine only polls isComplete, which logs every poll to its own log group." },
    { id: 'AwsSolutions-SF2', reason: "The Provider framework's waiter state machine only polls isComplete; X-Ray tracing would add cost and no insight." },
  );
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  const o = node as Record<string, any>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'];
    return (items as unknown[]).map(flatten).join(delimiter);
  }
  if (o['Fn::Sub']) return flatten(o['Fn::Sub']);
  if (o['Fn::GetAtt']) return `<${flatten(o['Fn::GetAtt'][0])}.${flatten(o['Fn::GetAtt'][1])}>`;
  if (o['Fn::ImportValue']) return flatten(o['Fn::ImportValue']);
  if (o.Ref) return `<${flatten(o.Ref)}>`;
  return JSON.stringify(node);
}
