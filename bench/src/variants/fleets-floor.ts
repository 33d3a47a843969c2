/** The floor for fleets, in plain aws-cdk-lib: per artifact a launch template on a fixed AMI and an Auto Scaling group. */
import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { FIXED_AMI } from '../common';
import { plainGroup } from './fleet-common';

export function build(stack: Stack, n: number): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  for (let i = 0; i < n; i++) {
    plainGroup(stack, vpc, i, FIXED_AMI);
  }
}
