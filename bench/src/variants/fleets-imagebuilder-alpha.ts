/** Fleets with @aws-cdk/aws-imagebuilder-alpha: per artifact a component, a recipe and an `Image` (built at deploy time), run by a plain group. */
import * as imagebuilder from '@aws-cdk/aws-imagebuilder-alpha';
import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { FIXED_AMI } from '../common';
import { bakeCommands, plainGroup } from './fleet-common';

export function build(stack: Stack, n: number): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  for (let i = 0; i < n; i++) {
    const component = new imagebuilder.Component(stack, `Component${i}`, {
      platform: imagebuilder.Platform.LINUX,
      data: imagebuilder.ComponentData.fromJsonObject({
        schemaVersion: '1.0',
        phases: [{ name: 'build', steps: [{ name: 'Install', action: 'ExecuteBash', inputs: { commands: bakeCommands(i) } }] }],
      }),
    });
    const recipe = new imagebuilder.ImageRecipe(stack, `Recipe${i}`, {
      baseImage: imagebuilder.BaseImage.fromAmiId(FIXED_AMI),
      components: [{ component }],
    });
    const image = new imagebuilder.Image(stack, `Image${i}`, { recipe });
    plainGroup(stack, vpc, i, image.imageId);
  }
}
