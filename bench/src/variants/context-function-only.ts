/** An app that already has one Lambda function from an asset, as most apps do: the base for the marginal cost of one more construct. */
import type { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { handlerDir } from '../common';

export function build(stack: Stack): void {
  new lambda.Function(stack, 'AppFunction', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(handlerDir()),
  });
}
