/** One build context as aws-cdk-lib's DockerImageAsset (built by the CDK CLI with local Docker): the floor of the context rows. */
import type { Stack } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import { singleContextDir } from '../common';

export function build(stack: Stack): void {
  new ecrAssets.DockerImageAsset(stack, 'Image', { directory: singleContextDir() });
}
