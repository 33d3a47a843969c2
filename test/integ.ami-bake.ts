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
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
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
  // An integration test leaves nothing behind: the AMI, its snapshots, the Image Builder resources and
  // the build log group (which the runtime creates, not the stack) go with the stack.
  removalPolicy: RemovalPolicy.DESTROY,
});

new CfnOutput(stack, 'AmiId', { value: bake.amiId });

const integ = new IntegTest(app, 'AmiBakeTest', { testCases: [stack], diffAssets: true });

// The AMI exists, is available, carries the bake's fingerprint (among the tags Image Builder adds,
// in no particular order: hence filters, not a match on the tag list), and is kept from the
// lifecycle policy while the stack uses it.
integ.assertions
  .awsApiCall('EC2', 'describeImages', {
    ImageIds: [bake.amiId],
    Filters: [
      { Name: 'tag:cdk-immutable-deploys:fingerprint', Values: [bake.fingerprint] },
      { Name: 'tag:cdk-immutable-deploys:keep', Values: ['true'] },
    ],
  })
  .expect(ExpectedResult.objectLike({
    Images: [Match.objectLike({ ImageId: bake.amiId, State: 'available' })],
  }));

app.synth();
