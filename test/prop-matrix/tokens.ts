/**
 * A token of each type the public API takes, and the check that no token text lands inside a string
 * that CloudFormation or AWS parses later.
 *
 * The tokens are CloudFormation parameters (`Probe`, `ProbeNumber`, `ProbeList`), so that wherever
 * one lands in the template it is recognisable. A token is in the wrong place when:
 * - unresolved token text (`${Token[...]}`, `#{Token[...]}`) is in any string of the template: it
 *   reaches AWS as text;
 * - a resolved token was serialized into a string (`{"Ref":...}` or `"Fn::` inside a string): a
 *   document (a policy, a job's settings, a component document) holds the reference, not its value;
 * - a probe is spliced by `Fn::Join` into a JSON document (a literal part around it holds `{` and a
 *   quote before it): a value with a quote breaks the document AWS parses.
 */
import { CfnParameter, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { TypeRef } from './assembly';
import { AmiArtifact, ContainerArtifact } from '../../src';

export const PROBES = ['Probe', 'ProbeNumber', 'ProbeList'];

function parameter(stack: Stack, id: string, type: string): CfnParameter {
  return (stack.node.tryFindChild(id) as CfnParameter | undefined) ?? new CfnParameter(stack, id, { type });
}
const str = (stack: Stack) => parameter(stack, 'Probe', 'String').valueAsString;
const num = (stack: Stack) => parameter(stack, 'ProbeNumber', 'Number').valueAsNumber;
const list = (stack: Stack) => parameter(stack, 'ProbeList', 'CommaDelimitedList').valueAsList;

/** Enums and enum-like classes: their members are constants in every jsii language, so no token can be passed. */
const CONSTANTS = new Set([
  'aws-cdk-lib.aws_ec2.InstanceArchitecture', 'aws-cdk-lib.aws_ec2.OperatingSystemType', 'aws-cdk-lib.aws_logs.RetentionDays',
  'aws-cdk-lib.RemovalPolicy', 'aws-cdk-lib.aws_codebuild.ComputeType', 'aws-cdk-lib.aws_ecs.DeploymentLifecycleStage',
  'cdk-immutable-deploys.CheckLevel', 'cdk-immutable-deploys.ContainerPlatform',
]);

/** The library's own choice classes: a token goes into their factories' parameters, each probed on its own. */
const FACTORIES = new Set([
  'cdk-immutable-deploys.BaseImage', 'cdk-immutable-deploys.BakeStep', 'cdk-immutable-deploys.EcsDeployment',
  'cdk-immutable-deploys.ReplacementStrategy', 'cdk-immutable-deploys.InstanceHealthCheck', 'cdk-immutable-deploys.Fingerprint',
]);

let counter = 0;
const next = (base: string) => `${base}${++counter}`;

/** Resources imported with token attributes: what a user passes when the resource comes from a parameter or another stack. */
const REFERENCES: { [fqn: string]: (stack: Stack) => unknown } = {
  'aws-cdk-lib.Duration': (s) => Duration.seconds(num(s)),
  'aws-cdk-lib.Size': (s) => Size.gibibytes(num(s)),
  'aws-cdk-lib.aws_ec2.InstanceType': (s) => new ec2.InstanceType(str(s)),
  'aws-cdk-lib.aws_ec2.IVpc': (s) => ec2.Vpc.fromVpcAttributes(s, next('ProbeVpc'), {
    vpcId: str(s),
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-00000000000000011', 'subnet-00000000000000012'],
    publicSubnetIds: ['subnet-00000000000000013', 'subnet-00000000000000014'],
  }),
  'aws-cdk-lib.aws_ec2.SubnetSelection': (s) => ({ subnets: [ec2.Subnet.fromSubnetAttributes(s, next('ProbeSubnet'), { subnetId: str(s), availabilityZone: 'eu-west-1a' })] }),
  'aws-cdk-lib.aws_ec2.ISecurityGroup': (s) => ec2.SecurityGroup.fromSecurityGroupId(s, next('ProbeSg'), str(s)),
  'aws-cdk-lib.aws_ec2.UserData': (s) => {
    const userData = ec2.UserData.forLinux();
    userData.addCommands(`echo ${str(s)}`);
    return userData;
  },
  'aws-cdk-lib.aws_kms.IKey': (s) => kms.Key.fromKeyArn(s, next('ProbeKey'), str(s)),
  'aws-cdk-lib.aws_ecr.IRepository': (s) => ecr.Repository.fromRepositoryAttributes(s, next('ProbeRepo'), { repositoryArn: str(s), repositoryName: str(s) }),
  'aws-cdk-lib.aws_iam.IRole': (s) => iam.Role.fromRoleArn(s, next('ProbeRole'), str(s)),
  'aws-cdk-lib.aws_iam.IGrantable': (s) => iam.Role.fromRoleArn(s, next('ProbeRole'), str(s)),
  'aws-cdk-lib.aws_sns.ITopic': (s) => sns.Topic.fromTopicArn(s, next('ProbeTopic'), str(s)),
  'aws-cdk-lib.aws_cloudwatch.IAlarm': (s) => cloudwatch.Alarm.fromAlarmArn(s, next('ProbeAlarm'), str(s)),
  'aws-cdk-lib.aws_lambda.IFunction': (s) => lambda.Function.fromFunctionArn(s, next('ProbeFunction'), str(s)),
  'aws-cdk-lib.aws_ecs.ICluster': (s) => ecs.Cluster.fromClusterAttributes(s, next('ProbeCluster'), {
    clusterName: str(s), vpc: ec2.Vpc.fromVpcAttributes(s, next('ProbeClusterVpc'), { vpcId: 'vpc-01234567', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-01234567'] }),
  }),
  'aws-cdk-lib.aws_ecs.Secret': (s) => ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretCompleteArn(s, next('ProbeSecret'), str(s))),
  'aws-cdk-lib.aws_ecs.HealthCheck': (s) => ({ command: ['CMD-SHELL', str(s)] }),
  'aws-cdk-lib.aws_elasticloadbalancingv2.HealthCheck': (s) => ({ path: str(s) }),
  'aws-cdk-lib.aws_elasticloadbalancingv2.ListenerCondition': (s) => elbv2.ListenerCondition.pathPatterns([str(s)]),
  'aws-cdk-lib.aws_elasticloadbalancingv2.IApplicationTargetGroup': (s) => elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(s, next('ProbeTargets'), { targetGroupArn: str(s) }),
  'aws-cdk-lib.aws_elasticloadbalancingv2.IApplicationListener': (s) => elbv2.ApplicationListener.fromApplicationListenerAttributes(s, next('ProbeListener'), {
    listenerArn: str(s), securityGroup: ec2.SecurityGroup.fromSecurityGroupId(s, next('ProbeListenerSg'), 'sg-01234567'),
  }),
  'aws-cdk-lib.aws_logs.ILogGroup': (s) => logs.LogGroup.fromLogGroupArn(s, next('ProbeLogs'), str(s)),
  'cdk-immutable-deploys.IAmiArtifact': (s) => AmiArtifact.fromAmiId(str(s)),
  'cdk-immutable-deploys.IContainerArtifact': (s) => ContainerArtifact.fromDigest(s, next('ProbeArtifact'), {
    repository: ecr.Repository.fromRepositoryAttributes(s, next('ProbeArtifactRepo'), { repositoryArn: str(s), repositoryName: str(s) }), imageDigest: str(s),
  }),
};

/** Why a type has no token form, for those that have none. */
const NO_TOKEN: { [fqn: string]: string } = {
  'aws-cdk-lib.aws_elasticloadbalancingv2.ApplicationListenerRule': 'a listener rule of this app (a construct; there is no import of one)',
  'constructs.IConstruct': 'the construct an Aspect visits: aws-cdk-lib passes it',
};

/** A token of `type` in `stack`, or why the type has none. */
export function tokenOf(type: TypeRef, stack: Stack): { value: unknown } | { none: string } {
  if (type.primitive === 'string' || type.primitive === 'any') return { value: str(stack) };
  if (type.primitive === 'number') return { value: num(stack) };
  if (type.primitive === 'boolean') return { none: 'a boolean: aws-cdk-lib has no boolean token that every jsii language can pass' };
  if (type.collection) {
    const element = type.collection.elementtype;
    if (type.collection.kind === 'array') {
      if (element.primitive === 'string') return { value: list(stack) };
      const inner = tokenOf(element, stack);
      return 'none' in inner ? inner : { value: [inner.value] };
    }
    const inner = tokenOf(element, stack);
    return 'none' in inner ? inner : { value: { probe: inner.value } };
  }
  const fqn = type.fqn!;
  if (CONSTANTS.has(fqn)) return { none: 'an enum or enum-like class: its members are constants in every jsii language' };
  if (FACTORIES.has(fqn)) return { none: 'a choice made by the library\'s factories, whose parameters are probed with tokens on their own' };
  if (NO_TOKEN[fqn]) return { none: NO_TOKEN[fqn] };
  const make = REFERENCES[fqn];
  if (!make) throw new Error(`No token form known for ${fqn}: add one to test/prop-matrix/tokens.ts (REFERENCES, or NO_TOKEN with why).`);
  return { value: make(stack) };
}

/** Where the template holds token text in a string AWS parses later: a description of each place. */
export function tokenTextFindings(template: unknown): string[] {
  const findings: string[] = [];
  const isProbe = (v: unknown) => typeof v === 'object' && v !== null && PROBES.includes((v as { Ref?: string }).Ref ?? '');
  const walk = (value: unknown, where: string) => {
    if (typeof value === 'number' && Token.isUnresolved(value)) findings.push(`${where}: a number token's marker (${value})`);
    if (typeof value === 'string') {
      if (/\$\{Token\[|#\{Token\[|Token\[TOKEN\./.test(value)) findings.push(`${where}: unresolved token text in '${value.slice(0, 120)}'`);
      if (/-1\.888154589/.test(value)) findings.push(`${where}: a number token's marker written as text in '${value.slice(0, 120)}'`);
      if (/\{"Ref":|"Fn::/.test(value)) findings.push(`${where}: a reference serialized into a string '${value.slice(0, 120)}'`);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${where}[${i}]`));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join && Array.isArray(join[1])) {
      const parts = join[1];
      const literal = parts.filter((p) => typeof p === 'string').join('');
      parts.forEach((part, i) => {
        const before = parts[i - 1];
        if (isProbe(part) && typeof before === 'string' && /"$/.test(before) && /[{[]/.test(literal) && /":/.test(literal)) {
          findings.push(`${where}: a token spliced into a JSON document '${literal.slice(0, 120)}'`);
        }
      });
    }
    for (const [k, v] of Object.entries(value)) walk(v, where ? `${where}.${k}` : k);
  };
  walk(template, '');
  return findings;
}
