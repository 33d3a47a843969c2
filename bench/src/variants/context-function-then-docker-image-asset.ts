/** The app with one Lambda function, plus one DockerImageAsset. */
import type { Stack } from 'aws-cdk-lib';
import { build as base } from './context-function-only';
import { build as image } from './context-docker-image-asset';

export function build(stack: Stack): void {
  base(stack);
  image(stack);
}
