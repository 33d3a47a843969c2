/**
 * Integration app: an AMI baked at deploy time by AmiBake (EC2 Image Builder), run by an
 * ImmutableAutoScalingGroup behind an internet-facing Application Load Balancer.
 *
 * Deploy it with integ-runner in an account, in us-east-1 (elsewhere, pass `-c baseAmiId=ami-...`,
 * an Amazon Linux 2023 x86_64 AMI of that region). The assertions wait until the load balancer
 * answers from the new instances, and check that the group is pinned to the launch template's
 * exact version and that its instances run the baked AMI. Change the bake step and deploy again
 * to watch the replacing update: a new group beside the old, cut over once its instances signal
 * healthy.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AmiBake, BakeStep, BaseImage, ImmutableAutoScalingGroup, InstanceHealthCheck, ReplacementStrategy } from '../src';

const app = new App();
const stack = new Stack(app, 'ImmutableAsgInteg');

// Amazon Linux 2023 (x86_64) in us-east-1, pinned by id; in another region, pass its id with -c baseAmiId=ami-...
const baseAmiId: string = app.node.tryGetContext('baseAmiId') ?? 'ami-0c101f26f147fa7fd';

const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });

const bake = new AmiBake(stack, 'Web', {
  baseImage: BaseImage.fromAmiId(baseAmiId),
  vpc,
  steps: [BakeStep.shell([
    'dnf install -y nginx',
    'echo ok > /usr/share/nginx/html/health',
    'systemctl enable nginx',
  ])],
  testSteps: [BakeStep.shell(['test -x /usr/sbin/nginx'])],
});

const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', { vpc, internetFacing: true });
const listener = loadBalancer.addListener('Http', { port: 80, open: true });
const targets = new elbv2.ApplicationTargetGroup(stack, 'Targets', {
  vpc,
  port: 80,
  protocol: elbv2.ApplicationProtocol.HTTP,
  targetType: elbv2.TargetType.INSTANCE,
  healthCheck: { path: '/health', healthyThresholdCount: 2, interval: Duration.seconds(10) },
  deregistrationDelay: Duration.seconds(30),
});
listener.addTargetGroups('Default', { targetGroups: [targets] });

const fleet = new ImmutableAutoScalingGroup(stack, 'Fleet', {
  vpc,
  artifact: bake,
  instanceType: new ec2.InstanceType('t3.micro'),
  minCapacity: 2,
  maxCapacity: 4,
  healthCheck: InstanceHealthCheck.http({ port: 80, path: '/health', timeout: Duration.minutes(5) }),
  replacement: ReplacementStrategy.replaceGroup({ timeout: Duration.minutes(15) }),
});
fleet.attachToApplicationTargetGroup(targets);

new CfnOutput(stack, 'Url', { value: `http://${loadBalancer.loadBalancerDnsName}/` });

const integ = new IntegTest(app, 'ImmutableAsgTest', { testCases: [stack] });

// The load balancer answers from the new instances.
integ.assertions
  .httpApiCall(`http://${loadBalancer.loadBalancerDnsName}/health`)
  .expect(ExpectedResult.objectLike({ status: 200 }))
  .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) });

// The group is pinned to the launch template's exact version number.
integ.assertions
  .awsApiCall('AutoScaling', 'describeAutoScalingGroups', { AutoScalingGroupNames: [fleet.autoScalingGroup.autoScalingGroupName] })
  .expect(ExpectedResult.objectLike({
    AutoScalingGroups: [{
      LaunchTemplate: { LaunchTemplateId: fleet.launchTemplate.launchTemplateId, Version: fleet.launchTemplate.versionNumber },
    }],
  }));

// Its instances run the baked AMI: the pinned version launches the baked AMI, and the group's running
// instances include it. EC2 returns one reservation per launch request, each with the instances it
// launched, so neither list has a fixed length: `Match.arrayWith`, not an exact array (an exact array
// could only pass for a group of one instance). test/deployments/autoscaling/integ-assertions.test.ts runs these matchers.
integ.assertions
  .awsApiCall('EC2', 'describeLaunchTemplateVersions', {
    LaunchTemplateId: fleet.launchTemplate.launchTemplateId,
    Versions: [fleet.launchTemplate.versionNumber],
  })
  .expect(ExpectedResult.objectLike({
    LaunchTemplateVersions: [Match.objectLike({ LaunchTemplateData: Match.objectLike({ ImageId: bake.amiId }) })],
  }));
integ.assertions
  .awsApiCall('EC2', 'describeInstances', {
    Filters: [
      { Name: 'tag:aws:autoscaling:groupName', Values: [fleet.autoScalingGroup.autoScalingGroupName] },
      { Name: 'instance-state-name', Values: ['running'] },
    ],
  })
  .expect(ExpectedResult.objectLike({
    Reservations: Match.arrayWith([Match.objectLike({ Instances: Match.arrayWith([Match.objectLike({ ImageId: bake.amiId })]) })]),
  }));

app.synth();
