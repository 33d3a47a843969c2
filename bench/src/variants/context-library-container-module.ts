/**
 * One ContainerImageBuild, importing only the library's container module (lib/artifacts/container)
 * instead of its index: what the import would cost if the index did not load the AMI half and the
 * deployments too. Users import the index; this variant only measures the difference.
 */
import * as path from 'path';
import type { Stack } from 'aws-cdk-lib';
import { singleContextDir } from '../common';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ContainerImageBuild }: typeof import('../../..') = require(path.resolve(__dirname, '..', '..', '..', 'lib', 'artifacts', 'container'));

export function build(stack: Stack): void {
  new ContainerImageBuild(stack, 'Image', { directory: singleContextDir() });
}
