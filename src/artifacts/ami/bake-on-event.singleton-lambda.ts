/**
 * `onEvent` of the AMI bake provider. It only names the resource: the physical id of a bake is the
 * image recipe version ARN, which the fingerprint determines (of a result, the fingerprint). All the work (reuse, or one
 * `CreateImage`; cancel on delete) happens in `isComplete`, where throttling means "try again".
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { BakeResourceProps, BakeResultProps } from './types';

export interface OnEventResponse {
  readonly PhysicalResourceId?: string;
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const props = event.ResourceProperties as unknown as BakeResourceProps & Partial<BakeResultProps>;
  if (props.Mode === 'result') return { PhysicalResourceId: `result:${props.Fingerprint}` };
  return { PhysicalResourceId: props.RecipeArn };
}
