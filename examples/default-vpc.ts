import * as path from 'path';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { addPublicLoadBalancer } from './load-balancer';
import { AmiBake, BakeStep, BaseImage, ContainerImageBuild, ContainerPlatform, ImmutableAutoScalingGroup, ImmutableFargateService, InstanceHealthCheck } from '../src';

/**
 * One account's default VPC, as a new account has it: public subnets only, no NAT gateway. A Bake
 * stack bakes an AMI and builds an image; a Service stack runs both, imported by fingerprint and runs them
 * there, so it deploys after the Bake stack (`addStackDependency`). `Vpc.fromLookup()` needs
 * credentials on the first synth: commit the `cdk.context.json` it writes, and later synths need none.
 */
export function defaultVpcApp(app: App, env: StackProps['env']) {
  const bakeStack = new Stack(app, 'DefaultVpcBake', { env });
  // No vpc: Image Builder launches the build and test instances in a public subnet of the default VPC.
  const bake = new AmiBake(bakeStack, 'WebAmi', {
    baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'), // Amazon Linux 2023, x86_64, us-east-1
    steps: [BakeStep.shell(['dnf install -y nginx', 'systemctl enable nginx'])],
    testSteps: [BakeStep.shell(['rpm -q nginx'])],
  });
  const image = new ContainerImageBuild(bakeStack, 'WebImage', {
    directory: path.join(__dirname, 'container-app'),
    platform: ContainerPlatform.LINUX_ARM64,
  });

  const serviceStack = new Stack(app, 'DefaultVpcService', { env });
  serviceStack.addStackDependency(bakeStack); // the lookups by fingerprint need what the Bake stack made
  const vpc = ec2.Vpc.fromLookup(serviceStack, 'Vpc', { isDefault: true });
  const publicSubnets = { subnetType: ec2.SubnetType.PUBLIC };

  const listener = addPublicLoadBalancer(serviceStack, 'Web', vpc);
  new ImmutableFargateService(serviceStack, 'Web', {
    vpc,
    vpcSubnets: publicSubnets,
    assignPublicIp: true, // no NAT gateway: a public IP is the tasks' way to ECR
    artifact: image, // another stack's: imported by its fingerprint, through this stack's runtime
    containerPort: 8080,
    listener,
  });

  // Default subnets give every instance a public IP, so the instances can report their health.
  new ImmutableAutoScalingGroup(serviceStack, 'Fleet', {
    vpc,
    vpcSubnets: publicSubnets,
    artifact: bake, // likewise
    instanceType: new ec2.InstanceType('t3.micro'),
    minCapacity: 1,
    maxCapacity: 2,
    healthCheck: InstanceHealthCheck.http({ port: 80, path: '/' }),
  });
  return { bakeStack, serviceStack, bake, image };
}
