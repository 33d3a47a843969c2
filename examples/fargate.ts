import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { addPublicLoadBalancer } from './load-balancer';
import { IContainerArtifact, ImmutableFargateService } from '../src';

/**
 * Runs the example's container image behind a public Application Load Balancer. The task definition
 * names the image by digest: a new build is a new revision and a rolling replacement (new tasks
 * healthy before old ones stop, rolled back on failure); an unchanged build changes nothing.
 */
export function addImmutableFargateService(stack: Stack, artifact: IContainerArtifact, vpc: ec2.IVpc): ImmutableFargateService {
  const listener = addPublicLoadBalancer(stack, 'Web', vpc);

  const service = new ImmutableFargateService(stack, 'Web', {
    vpc,
    artifact,
    containerPort: 8080,
    listener,
    loadBalancerHealthCheck: { path: '/health', interval: Duration.seconds(15), healthyThresholdCount: 2 },
    environment: { LOG_LEVEL: 'info' },
  });

  return service;
}
