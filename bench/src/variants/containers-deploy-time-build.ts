/** Containers with @cdklabs/deploy-time-build: per artifact its ContainerImageBuild (CodeBuild at deploy time) and a plain Fargate service. */
import { ContainerImageBuild } from '@cdklabs/deploy-time-build';
import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { contextDir } from '../common';

export function build(stack: Stack, n: number): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  for (let i = 0; i < n; i++) {
    const image = new ContainerImageBuild(stack, `Image${i}`, { directory: contextDir(i) });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, `Task${i}`, { cpu: 256, memoryLimitMiB: 512 });
    taskDefinition.addContainer('app', { image: image.toEcsDockerImageCode() });
    new ecs.FargateService(stack, `Service${i}`, { cluster, taskDefinition, desiredCount: 2 });
  }
}
