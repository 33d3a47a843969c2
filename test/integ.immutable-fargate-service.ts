/**
 * Integration app: an image built at deploy time by ContainerImageBuild (CodeBuild, no local Docker),
 * run by an ImmutableFargateService behind an internet-facing Application Load Balancer.
 *
 * Deploy it with integ-runner in an account: the assertions wait until the load balancer answers
 * from the new tasks, the service's deployment has completed, and the running task definition
 * names the image by the very digest that was built.
 */
import * as path from 'path';
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ContainerImageBuild, ContainerPlatform, ImmutableFargateService } from '../src';

const app = new App();
const stack = new Stack(app, 'ImmutableFargateServiceInteg');

const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });

const image = new ContainerImageBuild(stack, 'Image', {
  directory: path.join(__dirname, 'deployments', 'ecs', 'fixtures', 'web'),
  platform: ContainerPlatform.LINUX_ARM64,
});

const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', { vpc, internetFacing: true });
const listener = loadBalancer.addListener('Http', { port: 80, open: true });

const web = new ImmutableFargateService(stack, 'Web', {
  vpc,
  artifact: image,
  cpu: 256,
  memoryLimitMiB: 512,
  desiredCount: 2,
  containerPort: 8080,
  listener,
  loadBalancerHealthCheck: { path: '/health', healthyThresholdCount: 2, interval: Duration.seconds(10), timeout: Duration.seconds(5) },
  environment: { LOG_LEVEL: 'info' },
  logRetention: logs.RetentionDays.ONE_WEEK,
});
// An integration test leaves nothing behind.
web.logGroup.applyRemovalPolicy(RemovalPolicy.DESTROY);

new CfnOutput(stack, 'Url', { value: `http://${loadBalancer.loadBalancerDnsName}/` });

const integ = new IntegTest(app, 'ImmutableFargateServiceTest', {
  testCases: [stack],
  diffAssets: true,
});

// The load balancer answers from the new tasks.
integ.assertions
  .httpApiCall(`http://${loadBalancer.loadBalancerDnsName}/health`)
  .expect(ExpectedResult.objectLike({ status: 200 }))
  .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) });

// The service runs the task definition of this deployment, and that deployment has completed.
integ.assertions
  .awsApiCall('ECS', 'describeServices', { cluster: web.cluster.clusterArn, services: [web.service.serviceArn] })
  .expect(ExpectedResult.objectLike({
    services: [{ taskDefinition: web.taskDefinition.taskDefinitionArn, deployments: [{ rolloutState: 'COMPLETED' }] }],
  }))
  .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) });

// The task definition names the image by the digest that was built, not by a tag.
integ.assertions
  .awsApiCall('ECS', 'describeTaskDefinition', { taskDefinition: web.taskDefinition.taskDefinitionArn })
  .expect(ExpectedResult.objectLike({
    taskDefinition: { containerDefinitions: [{ name: 'app', image: image.imageUri, readonlyRootFilesystem: true }] },
  }));

app.synth();
