/** The floor for containers, in plain aws-cdk-lib: per artifact a repository and a Fargate service on a fixed tag. */
import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { FIXED_TAG } from '../common';

export function build(stack: Stack, n: number): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  for (let i = 0; i < n; i++) {
    const repository = new ecr.Repository(stack, `Repository${i}`, { imageTagMutability: ecr.TagMutability.IMMUTABLE });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, `Task${i}`, { cpu: 256, memoryLimitMiB: 512 });
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromEcrRepository(repository, FIXED_TAG) });
    new ecs.FargateService(stack, `Service${i}`, { cluster, taskDefinition, desiredCount: 2 });
  }
}
