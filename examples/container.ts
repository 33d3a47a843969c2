import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { ContainerImageBuild, ContainerPlatform } from '../src';

/**
 * Builds the example web site's image (`examples/container-app`) with CodeBuild at deploy time, on
 * Graviton, and pushes it to a new tag-immutable repository, tagged by the fingerprint of its
 * sources. Deploying again without changing them reuses the image and starts no build.
 */
export function addContainerImageBuild(stack: Stack): ContainerImageBuild {
  return new ContainerImageBuild(stack, 'WebImage', {
    directory: path.join(__dirname, 'container-app'),
    platform: ContainerPlatform.LINUX_ARM64,
    retainImages: 20,
  });
}
