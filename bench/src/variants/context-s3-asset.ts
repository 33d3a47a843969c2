/** One build context as a plain aws-cdk-lib S3 asset (what ContainerImageBuild uploads the context as), honouring .dockerignore. */
import { IgnoreMode, type Stack } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { singleContextDir } from '../common';

export function build(stack: Stack): void {
  new s3assets.Asset(stack, 'Context', { path: singleContextDir(), ignoreMode: IgnoreMode.DOCKER });
}
