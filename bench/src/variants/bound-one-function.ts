/**
 * Bounds, not alternatives: the fixed part any design with one deploy-time function per stack adds
 * (issue 9 asks for exactly one): aws-cdk-lib's Lambda module, one function with inline code and its
 * role, and the custom resource that calls it. Added to the fleets floor (`fleets`) or to the
 * containers floor with each service's build context as an S3 asset (`containers`).
 */
import { CustomResource, type Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BOUND_FAMILY_ENV } from '../common';
import { build as containers } from './bound-containers-context';
import { build as fleets } from './fleets-floor';

export function addOneFunction(stack: Stack): void {
  const fn = new lambda.Function(stack, 'Runtime', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
  new CustomResource(stack, 'Jobs', { serviceToken: fn.functionArn, resourceType: 'Custom::Jobs' });
}

export function build(stack: Stack, n: number): void {
  (process.env[BOUND_FAMILY_ENV] === 'containers' ? containers : fleets)(stack, n);
  addOneFunction(stack);
}
