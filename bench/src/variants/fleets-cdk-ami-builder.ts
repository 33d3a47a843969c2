/** Fleets with @jjrawlins/cdk-ami-builder: per artifact an `ImagePipeline` (built at deploy time), run by a plain group. */
import { ImagePipeline } from '@jjrawlins/cdk-ami-builder';
import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { FIXED_AMI } from '../common';
import { bakeCommands, plainGroup } from './fleet-common';

export function build(stack: Stack, n: number): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  for (let i = 0; i < n; i++) {
    const pipeline = new ImagePipeline(stack, `Pipeline${i}`, {
      vpc,
      parentImage: FIXED_AMI,
      components: [{
        name: `Install${i}`,
        platform: 'Linux',
        componentDocument: { phases: [{ name: 'build', steps: [{ name: 'Install', action: 'ExecuteBash', inputs: { commands: bakeCommands(i) } }] }] },
      }],
    });
    plainGroup(stack, vpc, i, pipeline.imageId);
  }
}
