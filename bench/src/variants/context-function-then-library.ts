/** The app with one Lambda function, plus one of this library's ContainerImageBuild. */
import type { Stack } from 'aws-cdk-lib';
import { build as base } from './context-function-only';
import { build as image } from './context-library';

export function build(stack: Stack): void {
  base(stack);
  image(stack);
}
