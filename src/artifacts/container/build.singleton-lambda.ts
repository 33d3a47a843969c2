/**
 * `onEvent` of `Custom::ContainerImageBuild`. It names the resource after the image it stands for
 * (`<repository URI>:<fingerprint tag>`) and does nothing else: `isComplete` does all the work,
 * reading the world afresh on every call, so that a replayed event or a throttled call can never
 * start a second build or fail a deployment.
 */
import type { BuildEvent, BuildResourceProperties, OnEventResult } from './types';

const REQUIRED: (keyof BuildResourceProperties)[] = ['ProjectName', 'RepositoryUri', 'ImageTag', 'SourceBucket', 'SourceKey', 'Dockerfile', 'Platform'];

export async function handler(event: BuildEvent): Promise<OnEventResult> {
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId ?? event.RequestId };
  }
  const props = event.ResourceProperties;
  const missing = REQUIRED.filter((k) => typeof props[k] !== 'string' || props[k] === '');
  if (missing.length > 0) {
    throw new Error(`Custom::ContainerImageBuild received no ${missing.join(', ')}. Define the resource with the ContainerImageBuild construct.`);
  }
  return { PhysicalResourceId: physicalResourceId(props) };
}

/** The image the resource stands for: a new fingerprint is a new resource, and the old one is deleted (no image is). */
export function physicalResourceId(props: BuildResourceProperties): string {
  return `${props.RepositoryUri}:${props.ImageTag}`;
}
