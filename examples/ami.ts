import { Duration, Stack } from 'aws-cdk-lib';
import { AmiBake, BakeStep, BaseImage } from '../src';

/**
 * Bakes the web server's AMI with EC2 Image Builder at deploy time: nginx on Amazon Linux 2023,
 * checked by a test step on an instance launched from the new image. Deploying again without
 * changing any step (or the base image) reuses the AMI and starts no bake.
 */
export function addAmiBake(stack: Stack): AmiBake {
  return new AmiBake(stack, 'WebAmi', {
    // Amazon Linux 2023 (x86_64) in us-east-1: pinned, so a new base image is a reviewed change.
    baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'),
    steps: [
      BakeStep.shell(['dnf install -y nginx', 'systemctl enable nginx']),
      BakeStep.reboot(),
    ],
    testSteps: [BakeStep.shell(['rpm -q nginx', 'systemctl is-enabled nginx'])],
    buildTimeout: Duration.hours(2),
    retainImages: 3,
  });
}
