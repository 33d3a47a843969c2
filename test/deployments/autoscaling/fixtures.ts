import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AmiArtifact } from '../../../src/artifacts/ami/artifact';
import { ImmutableAutoScalingGroup, ImmutableAutoScalingGroupProps, InstanceHealthCheck } from '../../../src/deployments/autoscaling';
import { newTestApp } from '../../kit';

/** A stack in a fixed environment with a VPC that keeps flow logs (so the VPC itself is clean). */
export function fixture(app: App = newTestApp()): { app: App; stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  vpc.addFlowLog('FlowLog');
  return { app, stack, vpc };
}

export const AMI_A = 'ami-0123456789abcdef0';
export const AMI_B = 'ami-0fedcba9876543210';
export const INSTANCE_TYPE = new ec2.InstanceType('t3.small');

/** A group of 2 to 4 instances with an HTTP health check, in a new fixture stack; `overrides` replace any prop. */
export function group(overrides: Partial<ImmutableAutoScalingGroupProps> = {}) {
  const { stack, vpc } = fixture();
  const fleet = new ImmutableAutoScalingGroup(stack, 'Fleet', {
    vpc,
    artifact: AmiArtifact.fromAmiId(AMI_A),
    instanceType: INSTANCE_TYPE,
    minCapacity: 2,
    maxCapacity: 4,
    healthCheck: InstanceHealthCheck.http({ port: 8080, path: '/health' }),
    ...overrides,
  });
  return { stack, vpc, fleet };
}

/** `group()`, attached to the target group of an internal Application Load Balancer. */
export function withAlb(overrides: Partial<ImmutableAutoScalingGroupProps> = {}) {
  const g = group(overrides);
  const alb = new elbv2.ApplicationLoadBalancer(g.stack, 'Alb', { vpc: g.vpc, internetFacing: false });
  const listener = alb.addListener('Http', { port: 80, open: false });
  const targetGroup = new elbv2.ApplicationTargetGroup(g.stack, 'Targets', {
    vpc: g.vpc,
    port: 8080,
    protocol: elbv2.ApplicationProtocol.HTTP,
    healthCheck: { path: '/health' },
  });
  listener.addTargetGroups('Default', { targetGroups: [targetGroup] });
  g.fleet.attachToApplicationTargetGroup(targetGroup);
  return { ...g, alb, targetGroup };
}

/** The stack's only Auto Scaling group, as it stands in the template (properties and policies). */
export function groupResource(stack: Stack): any {
  const groups = Object.values(Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup'));
  if (groups.length !== 1) throw new Error(`expected one Auto Scaling group, found ${groups.length}`);
  return groups[0];
}
