import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { addPublicLoadBalancer } from './load-balancer';
import { IAmiArtifact, ImmutableAutoScalingGroup, InstanceHealthCheck, ReplacementStrategy } from '../src';

/**
 * Runs the example's AMI behind a public Application Load Balancer. The group is pinned to the
 * launch-template version of this exact AMI: a new bake is a new version and a replacing update
 * (a new group beside the old one, cut over once its instances answer their health check; the old
 * group untouched if they do not); an unchanged bake changes nothing.
 */
export function addImmutableAutoScalingGroup(stack: Stack, artifact: IAmiArtifact, vpc: ec2.IVpc): ImmutableAutoScalingGroup {
  const listener = addPublicLoadBalancer(stack, 'Fleet', vpc);
  const targets = new elbv2.ApplicationTargetGroup(stack, 'FleetTargets', {
    vpc,
    port: 80,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.INSTANCE,
    healthCheck: { path: '/', interval: Duration.seconds(15), healthyThresholdCount: 2 },
    deregistrationDelay: Duration.seconds(30),
  });
  listener.addTargetGroups('Fleet', { targetGroups: [targets] });

  const fleet = new ImmutableAutoScalingGroup(stack, 'Fleet', {
    vpc,
    artifact,
    instanceType: new ec2.InstanceType('t3.micro'),
    minCapacity: 2,
    maxCapacity: 4,
    healthCheck: InstanceHealthCheck.http({ port: 80, path: '/', timeout: Duration.minutes(5) }),
    replacement: ReplacementStrategy.replaceGroup({ timeout: Duration.minutes(15) }),
  });
  fleet.attachToApplicationTargetGroup(targets);

  return fleet;
}
