/**
 * The shape of today's per-stack container runtime in plain aws-cdk-lib: two handler functions behind
 * a custom-resources Provider with an isComplete handler (three framework functions and a state
 * machine), and one custom resource. Only to split the library's cost: no library code.
 */
import { CustomResource, Duration, type Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { handlerDir } from '../common';

export function build(stack: Stack): void {
  const fn = (id: string) => new lambda.SingletonFunction(stack, id, {
    uuid: `bench-${id}`,
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(handlerDir()),
  });
  const provider = new cr.Provider(stack, 'Provider', {
    onEventHandler: fn('OnEvent'),
    isCompleteHandler: fn('IsComplete'),
    queryInterval: Duration.seconds(20),
    totalTimeout: Duration.minutes(58),
  });
  new CustomResource(stack, 'Job', { serviceToken: provider.serviceToken, resourceType: 'Custom::BenchJob' });
}
