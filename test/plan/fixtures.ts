/**
 * Cloud assemblies for the plan command's tests: one small app (an image on Fargate, an AMI on an Auto
 * Scaling group), synthesized in variants into temporary directories, as `cdk synth` writes them.
 * Each synth of an app with an AmiBake costs about a second: tests synthesize each variant once.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, NestedStack, Stack, Stage } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AmiBake, BakeStep, BaseImage, ContainerImageBuild, ImmutableAutoScalingGroup, ImmutableFargateService, ReplacementStrategy } from '../../src';
import { main } from '../../src/plan/cli';
import type { Plan, StackPlan } from '../../src/plan/plan';

export interface Variant {
  /** The web site's one line: a code change changes it. */
  readonly site: string;
  /** The bake's shell step: an AMI step change changes it. */
  readonly step: string;
  /** A second stage, `Prod`, with the same stack: a nested assembly. */
  readonly prodStage?: boolean;
}

export const BASE: Variant = { site: '<h1>hello</h1>', step: 'dnf install -y nginx' };

const roots: string[] = [];

/** A temporary directory, removed by `cleanUp()`. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(dir);
  return dir;
}

export function cleanUp(): void {
  for (const dir of roots.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

class WebStack extends Stack {
  constructor(scope: Construct, id: string, variant: Variant, context: string) {
    super(scope, id);
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const image = new ContainerImageBuild(this, 'Image', { directory: context });
    new ImmutableFargateService(this, 'Web', { vpc, artifact: image });
    const ami = new AmiBake(this, 'Ami', {
      baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'),
      steps: [BakeStep.shell([variant.step])],
    });
    new ImmutableAutoScalingGroup(this, 'Fleet', {
      vpc,
      artifact: ami,
      instanceType: new ec2.InstanceType('t3.micro'),
      minCapacity: 2,
      maxCapacity: 4,
      replacement: ReplacementStrategy.replaceGroup({ timeout: Duration.minutes(15) }),
    });
  }
}

/** Synthesizes a variant into a new directory and returns it (a `cdk.out`). */
export function synthesize(variant: Variant): string {
  const context = tempDir('plan-context-');
  fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/index.html\n');
  fs.writeFileSync(path.join(context, 'index.html'), `${variant.site}\n`);
  const outdir = tempDir('plan-cdk-out-');
  const app = new App({ outdir });
  new WebStack(app, 'Web', variant, context);
  if (variant.prodStage) {
    const prod = new Stage(app, 'Prod');
    new WebStack(prod, 'Web', variant, context);
  }
  app.synth();
  return outdir;
}

/** A variant of the nested app: an image and its service in `Parent/Inner`, a bake in `Parent/Inner/Deeper`. */
export interface NestedVariant {
  readonly site: string;
  readonly step: string;
  /** A role in `Parent/Inner` that may read a bucket: IAM permissions broaden inside the nested stack. */
  readonly grant?: boolean;
  /** Without `Parent/Inner` (and so `Parent/Inner/Deeper`): the nested stacks are removed. */
  readonly withoutInner?: boolean;
  /** As `cdk synth` writes it (aws:asset:path on the nested stack resources), or as a plain `app.synth()`. */
  readonly assetMetadata?: boolean;
}

export const NESTED: NestedVariant = { site: '<h1>nested</h1>', step: 'dnf install -y nginx', assetMetadata: true };

/** The nested app in a new directory (a `cdk.out`): `Parent` (123456789012, eu-west-1) holds `Inner`, which holds `Deeper`. */
export function synthesizeNested(variant: NestedVariant): string {
  const context = tempDir('plan-nested-context-');
  fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/index.html\n');
  fs.writeFileSync(path.join(context, 'index.html'), `${variant.site}\n`);
  const outdir = tempDir('plan-nested-out-');
  // `cdk synth` sets this context; a plain app.synth() does not.
  const app = new App({ outdir, context: variant.assetMetadata ? { 'aws:cdk:enable-asset-metadata': true } : {} });
  const parent = new Stack(app, 'Parent', { env: { account: '123456789012', region: 'eu-west-1' } });
  new sns.Topic(parent, 'Topic');
  if (!variant.withoutInner) {
    const inner = new NestedStack(parent, 'Inner');
    const vpc = ec2.Vpc.fromVpcAttributes(inner, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-00000000000000003', 'subnet-00000000000000004'],
    });
    const image = new ContainerImageBuild(inner, 'Image', { directory: context });
    new ImmutableFargateService(inner, 'Web', { vpc, artifact: image });
    if (variant.grant) {
      const role = new iam.Role(inner, 'Reader', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      s3.Bucket.fromBucketName(inner, 'Data', 'nested-data').grantRead(role);
    }
    const deeper = new NestedStack(inner, 'Deeper');
    new AmiBake(deeper, 'Ami', { baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'), steps: [BakeStep.shell([variant.step])] });
  }
  app.synth();
  return outdir;
}

/** A stack of a hand-written assembly. */
export interface HandStack {
  readonly id: string;
  readonly stackName: string;
  /** `aws://<account>/<region>`. */
  readonly environment: string;
  /** The manifest's lookup role ARN; none for a synthesizer that names none. */
  readonly lookupRole?: string;
  readonly template: object;
}

/** A cloud assembly written by hand (no synth): a manifest and a template per stack. */
export function handAssembly(stacks: HandStack[]): string {
  const dir = tempDir('plan-hand-out-');
  const artifacts: { [id: string]: object } = {};
  for (const s of stacks) {
    const templateFile = `${s.id.replace(/\//g, '')}.template.json`;
    fs.writeFileSync(path.join(dir, templateFile), JSON.stringify(s.template));
    artifacts[s.id.replace(/\//g, '')] = {
      type: 'aws:cloudformation:stack',
      environment: s.environment,
      displayName: s.id,
      properties: {
        templateFile,
        stackName: s.stackName,
        ...(s.lookupRole ? { lookupRole: { arn: s.lookupRole, requiresBootstrapStackVersion: 8 } } : {}),
      },
    };
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '54.0.0', artifacts }));
  return dir;
}

/** The lookup role the DefaultStackSynthesizer names in the manifest (qualifier hnb659fds). */
export function lookupRoleOf(account: string, region: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role/cdk-hnb659fds-lookup-role-${account}-${region}`;
}

/**
 * A template with one AMI artifact (`<stack>/Ami`, its wait `AmiWait<fp>`) and, unless left out, the
 * Auto Scaling group that runs it, with their plan metadata as the constructs write it.
 */
export function bakeTemplate(stack: string, fingerprint: string, options: { readonly group?: boolean } = {}): object {
  const wait = `AmiWait${fingerprint.slice(0, 8)}`;
  const plan = (metadata: object) => ({ 'cdk-immutable-deploys:plan': { version: 1, ...metadata } });
  // The runtime's protocol: a wait with a creation policy (no handle) says when the bake ended; its
  // result lookup reads the AMI back, and fails with the bake's reason when it failed.
  const resources: { [id: string]: object } = {
    [wait]: {
      Type: 'AWS::CloudFormation::WaitCondition',
      CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT14400S' } },
      Metadata: plan({ role: 'artifact', kind: 'ami', path: `${stack}/Ami`, fingerprint }),
    },
    AmiResult: {
      Type: 'Custom::CdkImmutableDeploysLookup',
      Properties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:runtime', Kind: 'job-result', Path: `${stack}/Ami`, Fingerprint: fingerprint, Spec: { JobKind: 'ami-bake', Key: wait } },
      DependsOn: [wait],
    },
  };
  if (options.group ?? true) {
    resources.FleetLaunchTemplate = {
      Type: 'AWS::EC2::LaunchTemplate',
      Properties: { LaunchTemplateData: { ImageId: { 'Fn::GetAtt': ['AmiResult', 'Id'] } } },
      Metadata: plan({ role: 'revision', deployment: `${stack}/Fleet`, artifacts: [{ path: `${stack}/Ami`, fingerprint }] }),
    };
    resources.FleetGroup = {
      Type: 'AWS::AutoScaling::AutoScalingGroup',
      Properties: { MinSize: '2', MaxSize: '4', LaunchTemplate: { LaunchTemplateId: { Ref: 'FleetLaunchTemplate' }, Version: { 'Fn::GetAtt': ['FleetLaunchTemplate', 'LatestVersionNumber'] } } },
      Metadata: plan({
        role: 'deployment',
        kind: 'auto-scaling-group',
        path: `${stack}/Fleet`,
        revisions: [{ logicalId: 'FleetLaunchTemplate', path: `${stack}/Fleet/LaunchTemplate` }],
        strategy: 'replaceGroup',
        settings: { updatePolicy: { autoScalingReplacingUpdate: { willReplace: true } }, creationPolicy: { resourceSignal: { count: 2, timeout: 'PT15M' } } },
      }),
    };
  }
  return { Resources: resources };
}

/** What the command printed, and its exit code. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cdk-immutable-deploys plan <args>`. */
export async function run(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(['plan', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** The plan of `plan <args> --json`, which must print nothing on stderr. */
export async function planOf(...args: string[]): Promise<Plan> {
  const result = await run(...args, '--json');
  if (result.stderr !== '') throw new Error(`plan ${args.join(' ')} --json wrote to stderr: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** A stack of a plan, by name. */
export function stackOf(plan: Plan, name: string): StackPlan {
  const found = plan.stacks.find((s) => s.name === name);
  if (!found) throw new Error(`no stack ${name} in ${plan.stacks.map((s) => s.name).join(', ')}`);
  return found;
}
