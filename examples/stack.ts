import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { addAmiBake } from './ami';
import { addImmutableAutoScalingGroup } from './autoscaling';
import { addContainerImageBuild } from './container';
import { addImmutableFargateService } from './fargate';

/**
 * The example app's stack: what `npx cdk synth` synthesizes at the root of the repository.
 *
 * Both halves of immutable deploys, side by side in one VPC:
 * - a container image built from `examples/container-app` at deploy time, run on Fargate pinned to its digest;
 * - an AMI baked with EC2 Image Builder at deploy time, run in an Auto Scaling group pinned to its
 *   launch-template version.
 * Change a file of the container app or a bake step and deploy: a new artifact, and a replacement.
 * Deploy again without changes: nothing is built and nothing changes.
 */
export class ExampleStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    vpc.addFlowLog('FlowLog');

    const image = addContainerImageBuild(this);
    addImmutableFargateService(this, image, vpc);

    const ami = addAmiBake(this);
    addImmutableAutoScalingGroup(this, ami, vpc);
  }
}
