/**
 * Integration app: a small Amazon Linux 2023 bake with EC2 Image Builder at deploy time, one shell
 * step and one test step. The base image is pinned by an id of us-east-1; to deploy in another region, or with
 * a newer base, take the id of
 * `aws ssm get-parameter --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`
 * in that region (BaseImage.fromSsmParameter does this at synth time in an app with an account).
 *
 * Deploy it with integ-runner in an account: the deployment waits for the bake (about 20 minutes),
 * and the assertion checks that the AMI exists, is available and carries the bake's fingerprint.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AmiBake, BakeStep, BaseImage } from '../src';

const app = new App();
const stack = new Stack(app, 'AmiBakeInteg');

const bake = new AmiBake(stack, 'Web', {
  // Amazon Linux 2023 (x86_64) in us-east-1.
  baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'),
  steps: [BakeStep.shell([
    'dnf install -y nginx',
    'systemctl enable nginx',
    'echo "baked by cdk-immutable-deploys" > /usr/share/nginx/html/index.html',
  ])],
  testSteps: [BakeStep.shell([
    'rpm -q nginx',
    'systemctl is-enabled nginx',
    'grep -q "baked by cdk-immutable-deploys" /usr/share/nginx/html/index.html',
  ])],
  buildTimeout: Duration.hours(2),
  retainImages: 2,
  logRetention: logs.RetentionDays.ONE_WEEK,
});
// An integration test leaves no log group behind (the lifecycle policy cleans up the AMIs).
bake.logGroup.applyRemovalPolicy(RemovalPolicy.DESTROY);

new CfnOutput(stack, 'AmiId', { value: bake.amiId });

const integ = new IntegTest(app, 'AmiBakeTest', { testCases: [stack], diffAssets: true });

// The AMI exists, is available and is named by the bake's fingerprint.
integ.assertions
  .awsApiCall('EC2', 'describeImages', { ImageIds: [bake.amiId] })
  .expect(ExpectedResult.objectLike({
    Images: [{ State: 'available', Tags: [{ Key: 'cdk-immutable-deploys:fingerprint', Value: bake.fingerprint }] }],
  }));

app.synth();
