/** One build context as this library's ContainerImageBuild. */
import type { Stack } from 'aws-cdk-lib';
import { library, singleContextDir } from '../common';

const { ContainerImageBuild } = library();

export function build(stack: Stack): void {
  new ContainerImageBuild(stack, 'Image', { directory: singleContextDir() });
}
