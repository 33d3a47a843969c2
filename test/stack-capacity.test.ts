/**
 * How many artifacts with their deployments fit one stack, as the benchmark builds them (issue 9):
 * CloudFormation takes at most 500 resources and a 1 MB template (from S3) per stack. A VPC, the
 * shared parts, and 60 fleets (an AmiBake and its ImmutableAutoScalingGroup each), or 60 services
 * (a ContainerImageBuild and its ImmutableFargateService each), must fit.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AmiBake, BakeStep, BaseImage, ContainerImageBuild, ImmutableAutoScalingGroup, ImmutableFargateService } from '../src';

const N = 60;
// CloudFormation quotas: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
const MAX_RESOURCES = 500;
const MAX_TEMPLATE_BYTES = 1_000_000;

function synthesized(build: (stack: Stack, vpc: ec2.Vpc) => void): { resources: number; bytes: number; byType: Map<string, number> } {
  const app = new App({ context: { '@aws-cdk/core:stackResourceLimit': 0 } });
  const stack = new Stack(app, 'Capacity', { env: { account: '123456789012', region: 'eu-west-1' } });
  build(stack, new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }));
  const assembly = app.synth();
  const file = path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile);
  const template = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byType = new Map<string, number>();
  for (const r of Object.values<any>(template.Resources)) byType.set(r.Type, (byType.get(r.Type) ?? 0) + 1);
  return { resources: Object.keys(template.Resources).length, bytes: fs.statSync(file).size, byType };
}

test(`${N} fleets fit one stack: 6 resources each (4 for the bake beyond its launch template and group), under 500 resources and 1 MB`, () => {
  const { resources, bytes, byType } = synthesized((stack, vpc) => {
    for (let i = 0; i < N; i++) {
      const artifact = new AmiBake(stack, `Bake${i}`, { baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'), steps: [BakeStep.shell([`echo ${i} > /etc/artifact`])] });
      new ImmutableAutoScalingGroup(stack, `Group${i}`, { vpc, artifact, instanceType: new ec2.InstanceType('t3.micro') });
    }
  });
  expect(resources).toBeLessThanOrEqual(MAX_RESOURCES);
  expect(bytes).toBeLessThan(MAX_TEMPLATE_BYTES);
  // per fleet: launch template, group, wait, result lookup (the AMI read back), distribution (no lifecycle policy: the runtime prunes);
  // one shared security group; no wait-condition handle (a wait takes SignalResource through its creation policy).
  // No log group per bake: the runtime creates or adopts /aws/imagebuilder/<bake> (a retained group of a
  // fixed name in the template would collide on a re-created stack or a revert).
  for (const type of ['AWS::EC2::LaunchTemplate', 'AWS::AutoScaling::AutoScalingGroup', 'AWS::CloudFormation::WaitCondition', 'Custom::CdkImmutableDeploysLookup',
    'AWS::ImageBuilder::DistributionConfiguration']) {
    expect([type, byType.get(type)]).toEqual([type, N]);
  }
  expect(byType.get('AWS::Logs::LogGroup') ?? 0).toBe(0);
  expect(byType.get('AWS::ImageBuilder::LifecyclePolicy') ?? 0).toBe(0);
  expect(byType.get('AWS::CloudFormation::WaitConditionHandle')).toBeUndefined();
  expect(byType.get('AWS::EC2::SecurityGroup')).toBe(1);
  expect([...byType.values()].reduce((a, b) => a + b, 0)).toBe(resources);
  expect(resources - 6 * N).toBeLessThan(45); // the VPC (21) and what the stack shares
  expect(byType.get('AWS::Lambda::Function')).toBe(1);
});

test(`${N} services fit one stack: 7 resources each, under 500 resources and 1 MB`, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'capacity-'));
  const { resources, bytes, byType } = synthesized((stack, vpc) => {
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
    for (let i = 0; i < N; i++) {
      const dir = path.join(root, `ctx-${i}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/\n');
      fs.writeFileSync(path.join(dir, 'index.html'), `<h1>${i}</h1>`);
      const artifact = new ContainerImageBuild(stack, `Image${i}`, { directory: dir });
      new ImmutableFargateService(stack, `Service${i}`, { cluster, artifact, desiredCount: 2 });
    }
  });
  expect(resources).toBeLessThanOrEqual(MAX_RESOURCES);
  expect(bytes).toBeLessThan(MAX_TEMPLATE_BYTES);
  expect(byType.get('AWS::ECS::Service')).toBe(N);
  // per service: its build's repository, wait and result lookup (the digest read back); no wait-condition handle
  expect(byType.get('AWS::CloudFormation::WaitCondition')).toBe(N);
  expect(byType.get('Custom::CdkImmutableDeploysLookup')).toBe(N);
  expect(byType.get('AWS::CloudFormation::WaitConditionHandle')).toBeUndefined();
  expect(resources - 7 * N).toBeLessThan(45);
  expect(byType.get('AWS::Lambda::Function')).toBe(1);
});
