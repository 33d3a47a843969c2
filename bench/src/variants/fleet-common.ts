/** What every fleet variant runs its AMI in: a plain launch template (IMDSv2) and Auto Scaling group. */
import type { Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** An AMI id (a literal or a token) as a machine image, with no lookup, mapping or SSM parameter. */
export function pinnedImage(imageId: string): ec2.IMachineImage {
  return {
    getImage: () => ({ imageId, osType: ec2.OperatingSystemType.LINUX, userData: ec2.UserData.forLinux() }),
  };
}

export function plainGroup(stack: Stack, vpc: ec2.IVpc, i: number, imageId: string): void {
  const launchTemplate = new ec2.LaunchTemplate(stack, `LaunchTemplate${i}`, {
    machineImage: pinnedImage(imageId),
    instanceType: new ec2.InstanceType('t3.micro'),
    requireImdsv2: true,
  });
  new autoscaling.AutoScalingGroup(stack, `Group${i}`, { vpc, launchTemplate, minCapacity: 1, maxCapacity: 2 });
}

/** The shell commands of bake `i`: different for every artifact, so that no two bakes are the same image. */
export function bakeCommands(i: number): string[] {
  return ['dnf install -y nginx', 'systemctl enable nginx', `echo ${i} > /etc/bench-artifact`];
}
