/** Containers with this library: per artifact a ContainerImageBuild and an ImmutableFargateService, all in one cluster. */
import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { contextDir, library } from '../common';

const { ContainerImageBuild, ImmutableFargateService } = library();

export function build(stack: Stack, n: number): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  for (let i = 0; i < n; i++) {
    const artifact = new ContainerImageBuild(stack, `Image${i}`, { directory: contextDir(i) });
    new ImmutableFargateService(stack, `Service${i}`, { cluster, artifact, desiredCount: 2 });
  }
}
