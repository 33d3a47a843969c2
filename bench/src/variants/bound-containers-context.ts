/**
 * A bound, not an alternative: the containers floor plus, per service, its build context as a plain
 * S3 asset (staged into the cloud assembly and hashed), which any build at deploy time must upload.
 */
import type { Stack } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { contextDir } from '../common';
import { build as floor } from './containers-floor';

export function build(stack: Stack, n: number): void {
  floor(stack, n);
  for (let i = 0; i < n; i++) new s3assets.Asset(stack, `Context${i}`, { path: contextDir(i) });
}
