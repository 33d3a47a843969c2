/** One build context as @cdklabs/deploy-time-build's ContainerImageBuild. */
import { ContainerImageBuild } from '@cdklabs/deploy-time-build';
import type { Stack } from 'aws-cdk-lib';
import { singleContextDir } from '../common';

export function build(stack: Stack): void {
  new ContainerImageBuild(stack, 'Image', { directory: singleContextDir() });
}
