/** Fleets with this library: per artifact an AmiBake and an ImmutableAutoScalingGroup. */
import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { FIXED_AMI, library } from '../common';
import { bakeCommands } from './fleet-common';

const { AmiBake, BakeStep, BaseImage, ImmutableAutoScalingGroup } = library();

export function build(stack: Stack, n: number): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  for (let i = 0; i < n; i++) {
    const artifact = new AmiBake(stack, `Bake${i}`, {
      baseImage: BaseImage.fromAmiId(FIXED_AMI),
      steps: [BakeStep.shell(bakeCommands(i))],
    });
    new ImmutableAutoScalingGroup(stack, `Group${i}`, {
      vpc,
      artifact,
      instanceType: new ec2.InstanceType('t3.micro'),
      minCapacity: 1,
      maxCapacity: 2,
    });
  }
}
