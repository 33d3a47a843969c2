/**
 * The shape of the planned per-stack runtime in plain aws-cdk-lib: one function that is the custom
 * resource's service token, no Provider, no state machine. Only to estimate what the rewrite saves.
 */
import { CustomResource, type Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { handlerDir } from '../common';

export function build(stack: Stack): void {
  const fn = new lambda.SingletonFunction(stack, 'Runtime', {
    uuid: 'bench-runtime',
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(handlerDir()),
  });
  new CustomResource(stack, 'Job', { serviceToken: fn.functionArn, resourceType: 'Custom::BenchJob' });
}
