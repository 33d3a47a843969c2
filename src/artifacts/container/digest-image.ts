/**
 * An ECS container image named by digest, for the artifacts' `containerImage`. Like `ecs.EcrImage`,
 * it grants pull to the task's execution role, but it also takes a digest known only at deploy time
 * (a build's wait data, a lookup's result).
 *
 * Internal: never exported from the package.
 */
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import type { IContainerArtifact } from './artifact';
import { checkTaskPlatform } from '../../internal/pairing';

export class DigestImage extends ecs.ContainerImage {
  constructor(private readonly artifact: IContainerArtifact) {
    super();
  }

  public bind(_scope: Construct, containerDefinition: ecs.ContainerDefinition): ecs.ContainerImageConfig {
    checkTaskPlatform(containerDefinition, this.artifact);
    this.artifact.grantPull(containerDefinition.taskDefinition.obtainExecutionRole());
    return { imageName: this.artifact.imageUri };
  }
}
