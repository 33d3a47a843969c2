/**
 * Proof of replacement: the same app synthesized with two AMI ids differs only in the launch
 * template's image. CloudFormation updates the launch template in place, which creates a new
 * version; the group's `LaunchTemplate.Version` is `Fn::GetAtt [<template>, LatestVersionNumber]`,
 * so the group's reference moves to that exact version number in the same deploy, and that change
 * of the group's launch template is what triggers its update policy.
 */
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AMI_A, AMI_B, fixture } from './fixtures';
import { AmiArtifact } from '../../../src/artifacts/ami/artifact';
import { ImmutableAutoScalingGroup, InstanceHealthCheck, ReplacementStrategy } from '../../../src/deployments/autoscaling';

type Strategy = (alarm: cloudwatch.IAlarm) => ReplacementStrategy;

/** The whole app: a group behind an ALB, running one AMI. */
function synth(amiId: string, strategy: Strategy): any {
  const { app, stack, vpc } = fixture();
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const targets = new elbv2.ApplicationTargetGroup(stack, 'Targets', { vpc, port: 8080, protocol: elbv2.ApplicationProtocol.HTTP });
  alb.addListener('Http', { port: 80 }).addTargetGroups('Default', { targetGroups: [targets] });
  const errors = new cloudwatch.Alarm(stack, 'Errors', { metric: alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT), threshold: 5, evaluationPeriods: 2 });
  const fleet = new ImmutableAutoScalingGroup(stack, 'Fleet', {
    vpc,
    artifact: AmiArtifact.fromAmiId(amiId),
    instanceType: new ec2.InstanceType('t3.small'),
    minCapacity: 2,
    maxCapacity: 4,
    healthCheck: InstanceHealthCheck.http({ port: 8080, path: '/health' }),
    replacement: strategy(errors),
  });
  fleet.attachToApplicationTargetGroup(targets);
  return app.synth().getStackArtifact(stack.artifactId).template;
}

const strategies: Array<[string, Strategy, string]> = [
  ['replaceGroup (default)', () => ReplacementStrategy.replaceGroup(), 'AutoScalingReplacingUpdate'],
  ['rolling', () => ReplacementStrategy.rolling({ maxBatchSize: 1 }), 'AutoScalingRollingUpdate'],
  ['instanceRefresh', (alarm) => ReplacementStrategy.instanceRefresh({ alarms: [alarm], bakeTime: Duration.minutes(15), checkpoints: [50, 100] }), 'AutoScalingInstanceRefresh'],
];

describe('proof of replacement', () => {
  test.each(strategies)('%s: a new AMI changes only the launch template\'s image, and the group follows its new version', (_name, strategy, policy) => {
    // GIVEN
    const before = synth(AMI_A, strategy);

    // WHEN
    const after = synth(AMI_B, strategy);
    const diff = fullDiff(before, after);

    // THEN: exactly one difference in the whole template
    expect(diff.differenceCount).toBe(1);
    const changed: string[] = [];
    diff.resources.forEachDifference((logicalId) => changed.push(logicalId));
    const lt = Object.keys(after.Resources).find((id) => after.Resources[id].Type === 'AWS::EC2::LaunchTemplate')!;
    expect(changed).toEqual([lt]);

    // ... an in-place update of the launch template (a new version), not a replacement ...
    const ltChange = diff.resources.get(lt)!;
    expect(ltChange.changeImpact).toBe(ResourceImpact.WILL_UPDATE);
    expect(Object.keys(ltChange.propertyUpdates)).toEqual(['LaunchTemplateData']);
    const { oldValue, newValue } = ltChange.propertyUpdates.LaunchTemplateData;
    expect(oldValue.ImageId).toBe(AMI_A);
    expect(newValue.ImageId).toBe(AMI_B);
    expect({ ...newValue, ImageId: AMI_A }).toEqual(oldValue);

    // ... that the group references by its exact new version number, under the chosen update policy.
    const asgId = Object.keys(after.Resources).find((id) => after.Resources[id].Type === 'AWS::AutoScaling::AutoScalingGroup')!;
    const asg = after.Resources[asgId];
    expect(asg.Properties.LaunchTemplate.Version).toEqual({ 'Fn::GetAtt': [lt, 'LatestVersionNumber'] });
    expect(Object.keys(asg.UpdatePolicy).filter((k) => k !== 'AutoScalingScheduledAction')).toEqual([policy]);
    expect(before.Resources[asgId]).toEqual(asg);
  });

  test.each(strategies)('%s: the same AMI twice gives no change at all', (_name, strategy) => {
    // GIVEN
    const once = synth(AMI_A, strategy);

    // WHEN
    const twice = synth(AMI_A, strategy);

    // THEN
    expect(fullDiff(once, twice).isEmpty).toBe(true);
    expect(JSON.stringify(twice)).toEqual(JSON.stringify(once));
  });
});
