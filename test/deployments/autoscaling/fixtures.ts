import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { newTestApp } from '../../kit';

/** A stack in a fixed environment with a VPC that keeps flow logs (so the VPC itself is clean). */
export function fixture(app: App = newTestApp()): { app: App; stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  vpc.addFlowLog('FlowLog');
  return { app, stack, vpc };
}

export const AMI_A = 'ami-0123456789abcdef0';
export const AMI_B = 'ami-0fedcba9876543210';
