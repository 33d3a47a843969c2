import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AmiArtifact, EcsDeployment, ReplacementStrategy } from '../../src';
import type { AssemblyStack } from '../../src/plan/assembly';
import { offline } from '../../src/plan/offline';
import { modelOf, plan } from '../../src/plan/plan';
import { describeStrategy } from '../../src/plan/strategy';
import { AMI_A, AMI_B, group } from '../deployments/autoscaling/fixtures';
import { artifact, blueGreenService, DIGEST_A, DIGEST_B, newStack, service, trafficShift } from '../deployments/ecs/fixtures';

/**
 * What deployments record for the plan (resource metadata `cdk-immutable-deploys:plan`), and the
 * strategy in words, for every strategy, read from synthesized templates. Imported artifacts
 * (`fromAmiId`, `fromDigest`) have no resource of their own: the deployment names them by id.
 */
function deploymentOf(stack: Stack) {
  const [deployment] = modelOf(Template.fromStack(stack).toJSON()).deployments;
  return deployment;
}

function assemblyStack(stack: Stack): AssemblyStack {
  const template = Template.fromStack(stack).toJSON();
  return { name: stack.stackName, stackName: stack.stackName, account: stack.account, region: stack.region, template };
}

describe('ImmutableFargateService records', () => {
  test('its artifact by path and digest, its task definition as the revision, and its strategy, on the service', () => {
    const stack = newStack();
    service(stack);
    const template = Template.fromStack(stack).toJSON();

    const deployment = deploymentOf(stack);
    const [taskDefinition] = Object.keys(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition'));
    expect(template.Resources[deployment.logicalId].Type).toEqual('AWS::ECS::Service');
    expect(deployment).toMatchObject({
      version: 1,
      role: 'deployment',
      kind: 'fargate-service',
      path: 'S/Web',
      artifacts: [{ path: 'S/Artifact', fingerprint: DIGEST_A }],
      revisions: [{ logicalId: taskDefinition, path: 'S/Web/TaskDefinition' }],
      strategy: 'ROLLING',
    });
    expect(describeStrategy(deployment)).toEqual('rolling, 100%/200%, circuit breaker rolls back');
    // What it runs is on the task definition, which a new digest changes anyway, never on the service.
    expect(template.Resources[taskDefinition].Metadata['cdk-immutable-deploys:plan']).toEqual({
      version: 1, role: 'revision', deployment: 'S/Web', artifacts: [{ path: 'S/Artifact', fingerprint: DIGEST_A }],
    });
    expect(JSON.stringify(template.Resources[deployment.logicalId].Metadata)).not.toContain(DIGEST_A);
  });

  test.each([
    ['blue/green', () => blueGreenService((lb) => EcsDeployment.blueGreen({ ...trafficShift(lb), bakeTime: Duration.minutes(15) })), 'blue/green, 15 min bake'],
    ['canary', () => blueGreenService((lb) => EcsDeployment.canary({ ...trafficShift(lb), stepPercent: 10 })), 'canary, 10% for 10 min, then the rest, 10 min bake'],
    ['linear', () => blueGreenService((lb) => EcsDeployment.linear({ ...trafficShift(lb), stepBakeTime: Duration.minutes(3) })), 'linear, 10% every 3 min, 10 min bake'],
  ])('%s, in words', (_name, make, words) => {
    expect(describeStrategy(deploymentOf(make().stack))).toEqual(words);
  });
});

describe('ImmutableAutoScalingGroup records', () => {
  test('an AMI imported by id by that id alone, its launch template as the revision, on the group', () => {
    const { stack } = group();

    const deployment = deploymentOf(stack);
    const [launchTemplate] = Object.keys(Template.fromStack(stack).findResources('AWS::EC2::LaunchTemplate'));
    expect(Template.fromStack(stack).toJSON().Resources[deployment.logicalId].Type).toEqual('AWS::AutoScaling::AutoScalingGroup');
    expect(deployment).toMatchObject({ kind: 'auto-scaling-group', artifacts: [{ fingerprint: AMI_A }], revisions: [{ logicalId: launchTemplate, path: 'Stack/Fleet/LaunchTemplate' }], strategy: 'replaceGroup' });
    expect(deployment.artifacts[0].path).toBeUndefined();
    expect(describeStrategy(deployment)).toEqual('new group beside the old, cut over on 2 signals, within 15 min');
  });

  test.each([
    ['rolling', ReplacementStrategy.rolling({ maxBatchSize: 2 }), 'rolling, 2 instances at a time, 2 kept in service, each batch waits for its signals (15 min), a failed batch rolls back'],
    ['instance refresh', ReplacementStrategy.instanceRefresh({ bakeTime: Duration.minutes(10), checkpoints: [50, 100], checkpointDelay: Duration.minutes(5) }),
      'instance refresh, 100%/200% healthy, checkpoints at 50%, 100%, 10 min bake, rolls back on failure'],
  ])('%s, in words', (_name, replacement, words) => {
    expect(describeStrategy(deploymentOf(group({ replacement }).stack))).toEqual(words);
  });
});

describe('a plan over imported artifacts', () => {
  test('a new AMI id replaces the group because of that id; a new digest replaces the service because of its artifact', async () => {
    const before = [assemblyStack(group({ artifact: AmiArtifact.fromAmiId(AMI_A) }).stack)];
    const after = [assemblyStack(group({ artifact: AmiArtifact.fromAmiId(AMI_B) }).stack)];

    const result = await plan(after, offline(before));

    expect(result.stacks[0].artifacts).toEqual([]);
    expect(result.stacks[0].deployments).toEqual([expect.objectContaining({ path: 'Stack/Fleet', change: 'replace', because: [AMI_B] })]);

    const webBefore = newStack();
    service(webBefore);
    const webAfter = newStack();
    service(webAfter, { artifact: artifact(webAfter, DIGEST_B) });
    const web = await plan([assemblyStack(webAfter)], offline([assemblyStack(webBefore)]));
    expect(web.stacks[0].deployments).toEqual([expect.objectContaining({ path: 'S/Web', change: 'replace', because: ['S/Artifact'] })]);
  });

  test('a change to the launch template alone (a new instance type) replaces the group because of the launch template', async () => {
    const before = [assemblyStack(group().stack)];
    const after = [assemblyStack(group({ instanceType: new ec2.InstanceType('t3.large') }).stack)];

    const result = await plan(after, offline(before));

    expect(result.stacks[0].deployments).toEqual([expect.objectContaining({ change: 'replace', because: ['Stack/Fleet/LaunchTemplate'] })]);
  });

  test('a change beside the deployments (the desired count) replaces nothing and is counted as an update', async () => {
    const webBefore = newStack();
    service(webBefore);
    const webAfter = newStack();
    service(webAfter, { desiredCount: 4 });

    const result = await plan([assemblyStack(webAfter)], offline([assemblyStack(webBefore)]));

    // The service itself is updated in place (its desired count), not replaced: no new tasks roll out.
    expect(result.stacks[0].deployments).toEqual([expect.objectContaining({ change: 'unchanged', because: [] })]);
    expect(result.stacks[0].otherChanges).toEqual({ WILL_UPDATE: 1 });
  });
});
