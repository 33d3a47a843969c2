/**
 * A composed app: everything the library creates, in one stack. Both artifacts (a container image
 * built with CodeBuild and an AMI baked with Image Builder), both deployments (a Fargate service and
 * an Auto Scaling group), and every option that adds resources: builds in a VPC, a bake with test
 * steps, a customer-managed root-volume key and distribution to another region and account, the
 * image's replication to another region (and the destination side of replication from another
 * account), removal policy DESTROY on both artifacts (its delete permissions), blue/green with a test
 * listener rule, an instance refresh with alarms, the notification topic, and a group of an AMI
 * imported with another account's key (its KMS grant).
 *
 * The security baseline (`security-baseline.test.ts`) runs every checker on it; `test/checks` proves
 * it trips no ImmutabilityChecks rule.
 */
import * as path from 'path';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import {
  AmiArtifact,
  AmiBake,
  BakeStep,
  BaseImage,
  ContainerImageBuild,
  ContainerPlatform,
  EcsDeployment,
  ImmutableAutoScalingGroup,
  ImmutableFargateService,
  InstanceHealthCheck,
  ReplacementStrategy,
  ReplicationDestination,
} from '../src';

export const COMPOSED_ENV = { account: '111111111111', region: 'us-east-1' };
const VPC_CIDR = '10.0.0.0/16';

/**
 * Acknowledges findings on a resource of the fixture around the library (its VPC, load balancer,
 * alarm, keys): the baseline is about what the library creates, and each of these is the test's own.
 */
function fixture(scope: IConstruct, what: string, ...ids: string[]): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id, reason: `The test's own ${what}, around the library's resources: not created by the library.` })));
}

/** The composed app's stack, in `app`. */
export function composedStack(app: App, id = 'Composed'): Stack {
  const stack = new Stack(app, id, { env: COMPOSED_ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, ipAddresses: ec2.IpAddresses.cidr(VPC_CIDR) });
  vpc.addFlowLog('FlowLog');
  fixture(vpc, 'VPC',
    'NIST.800.53.R5-VPCDefaultSecurityGroupClosed', 'NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled', 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW',
    'NIST.800.53.R5-IAMNoInlinePolicy', 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
    'cdk-validator-cfnguard::subnet_auto_assign_public_ip_disabled_check', 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check');

  // Both artifacts, built in the VPC.
  const image = new ContainerImageBuild(stack, 'Image', {
    directory: path.join(__dirname, 'deployments', 'ecs', 'fixtures', 'web'),
    platform: ContainerPlatform.LINUX_ARM64,
    vpc,
    requireImmutableTags: true,
    replicateTo: [{ region: 'eu-west-1' }],
    removalPolicy: RemovalPolicy.DESTROY,
  });
  new ReplicationDestination(stack, 'Replicas', { sourceAccounts: ['222222222222'] });
  const key = new kms.Key(stack, 'AmiKey', { enableKeyRotation: true, description: 'AMI root volumes' });
  fixture(key, 'key (its default policy delegates to IAM)', 'cdk-validator-cfnguard::kms_create_grant_aws_service_check');
  const ami = new AmiBake(stack, 'Ami', {
    baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'),
    vpc,
    steps: [BakeStep.shell(['dnf install -y nginx', 'echo ok > /usr/share/nginx/html/health', 'systemctl enable nginx'])],
    testSteps: [BakeStep.shell(['rpm -q nginx'])],
    rootVolumeKey: key,
    distribution: { regions: ['eu-west-1'], accounts: ['222222222222'] },
    logRetention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });

  // An internal load balancer with a production and a test listener, for both deployments.
  const albSecurityGroup = new ec2.SecurityGroup(stack, 'AlbSecurityGroup', { vpc, description: 'internal load balancer' });
  albSecurityGroup.addIngressRule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(80), 'production, from inside the VPC');
  albSecurityGroup.addIngressRule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(8080), 'tests, from inside the VPC');
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: false, securityGroup: albSecurityGroup });
  loadBalancer.setAttribute('routing.http.drop_invalid_header_fields.enabled', 'true');
  fixture(loadBalancer, 'load balancer (HTTP inside the VPC, no WAF, logs or deletion protection)',
    'AwsSolutions-ELB2', 'NIST.800.53.R5-ALBWAFEnabled', 'NIST.800.53.R5-ELBDeletionProtectionEnabled', 'NIST.800.53.R5-ELBLoggingEnabled',
    'NIST.800.53.R5-ALBHttpToHttpsRedirection', 'NIST.800.53.R5-ELBv2ACMCertificateRequired',
    'cdk-validator-cfnguard::alb_http_to_https_redirection_check', 'cdk-validator-cfnguard::elbv2_deletion_protection_enabled_check',
    'cdk-validator-cfnguard::elbv2_logging_enabled_check');
  const listener = loadBalancer.addListener('Http', { port: 80, open: false, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  const testListener = loadBalancer.addListener('Test', { port: 8080, protocol: elbv2.ApplicationProtocol.HTTP, open: false, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  const targets = (targetId: string, targetType: elbv2.TargetType, port: number) => new elbv2.ApplicationTargetGroup(stack, targetId, {
    vpc, port, protocol: elbv2.ApplicationProtocol.HTTP, targetType, healthCheck: { path: '/health' },
  });
  const blue = targets('Blue', elbv2.TargetType.IP, 8080);
  const green = targets('Green', elbv2.TargetType.IP, 8080);
  const weighted = () => elbv2.ListenerAction.weightedForward([{ targetGroup: blue, weight: 100 }, { targetGroup: green, weight: 0 }]);
  const productionRule = new elbv2.ApplicationListenerRule(stack, 'ProductionRule', {
    listener, priority: 1, conditions: [elbv2.ListenerCondition.pathPatterns(['/app/*'])], action: weighted(),
  });
  const testRule = new elbv2.ApplicationListenerRule(stack, 'TestRule', {
    listener: testListener, priority: 1, conditions: [elbv2.ListenerCondition.pathPatterns(['/app/*'])], action: weighted(),
  });

  // Both deployments.
  new ImmutableFargateService(stack, 'Web', {
    vpc,
    artifact: image,
    containerPort: 8080,
    targetGroup: blue,
    deployment: EcsDeployment.blueGreen({
      alternateTargetGroup: green,
      productionListenerRule: productionRule,
      testListenerRule: testRule,
      bakeTime: Duration.minutes(10),
    }),
  });
  const fleetTargets = targets('FleetTargets', elbv2.TargetType.INSTANCE, 80);
  listener.addTargetGroups('Fleet', { targetGroups: [fleetTargets] });
  const unhealthy = new cloudwatch.Alarm(stack, 'UnhealthyHosts', {
    metric: fleetTargets.metrics.unhealthyHostCount(),
    threshold: 1,
    evaluationPeriods: 1,
  });
  fixture(unhealthy, 'alarm (the instance refresh reads it as a rollback trigger; it notifies nobody)',
    'NIST.800.53.R5-CloudWatchAlarmAction', 'cdk-validator-cfnguard::cloudwatch_alarm_action_check');
  const topicKey = new kms.Key(stack, 'TopicKey', { enableKeyRotation: true });
  fixture(topicKey, 'key (its default policy delegates to IAM)', 'cdk-validator-cfnguard::kms_create_grant_aws_service_check');
  const fleet = new ImmutableAutoScalingGroup(stack, 'Fleet', {
    vpc,
    artifact: ami,
    instanceType: new ec2.InstanceType('t3.micro'),
    minCapacity: 2,
    maxCapacity: 4,
    healthCheck: InstanceHealthCheck.http({ port: 80, path: '/health' }),
    replacement: ReplacementStrategy.instanceRefresh({ alarms: [unhealthy], bakeTime: Duration.minutes(5) }),
    notificationTopic: new sns.Topic(stack, 'FleetEvents', { enforceSSL: true, masterKey: topicKey }),
  });
  fleet.attachToApplicationTargetGroup(fleetTargets);

  // A group of an AMI another account baked, encrypted with that account's key: the stack's runtime grants this account's Auto Scaling role its use.
  new ImmutableAutoScalingGroup(stack, 'ImportedFleet', {
    vpc,
    artifact: AmiArtifact.fromFingerprint(stack, 'ImportedAmi', {
      fingerprint: 'ab'.repeat(32),
      owner: '222222222222',
      encryptionKeyArn: 'arn:aws:kms:us-east-1:222222222222:key/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d',
    }),
    instanceType: new ec2.InstanceType('t3.micro'),
    notificationTopic: new sns.Topic(stack, 'ImportedFleetEvents', { enforceSSL: true, masterKey: topicKey }),
  });
  return stack;
}
