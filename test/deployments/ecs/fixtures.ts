import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { BlueGreenDeploymentOptions, ContainerArtifact, ContainerPlatform, EcsDeployment, IContainerArtifact, ImmutableFargateService, ImmutableFargateServiceProps } from '../../../src';
import { newTestApp } from '../../kit';

export const DIGEST_A = `sha256:${'a'.repeat(64)}`;
export const DIGEST_B = `sha256:${'b'.repeat(64)}`;
/** The tag of the fixture's artifacts: the image is pinned by digest, never by it. */
export const FIXTURE_TAG = 'fp-0123456789abcdef';

/** A VPC imported with attributes: no resources of its own, so nothing for the validators to find. */
export function importedVpc(scope: Construct): ec2.IVpc {
  const existing = scope.node.tryFindChild('Vpc') as ec2.IVpc | undefined;
  if (existing) return existing;
  return ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: '10.0.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    publicSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'],
    privateSubnetIds: ['subnet-00000000000000003', 'subnet-00000000000000004'],
  });
}

export function artifact(scope: Construct, digest = DIGEST_A, platform = ContainerPlatform.LINUX_AMD64, id = 'Artifact'): IContainerArtifact {
  const repository = ecr.Repository.fromRepositoryAttributes(scope, `${id}Repo`, {
    repositoryArn: Stack.of(scope).formatArn({ service: 'ecr', resource: 'repository', resourceName: 'web' }),
    repositoryName: 'web',
  });
  // A tag unlike the digest, so that a test of "pinned by digest" fails if the tag is used instead.
  return ContainerArtifact.fromDigest(scope, id, { repository, imageDigest: digest, imageTag: FIXTURE_TAG, platform });
}

/**
 * An Application Load Balancer with a production listener (weighted rule to blue and green) and a test
 * listener, as ECS native blue/green wants them.
 */
export interface Alb {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly blue: elbv2.ApplicationTargetGroup;
  readonly green: elbv2.ApplicationTargetGroup;
  readonly productionRule: elbv2.ApplicationListenerRule;
  readonly testRule: elbv2.ApplicationListenerRule;
}

export function alb(scope: Construct, vpc: ec2.IVpc): Alb {
  const sg = new ec2.SecurityGroup(scope, 'AlbSg', { vpc, description: 'test load balancer' });
  sg.addIngressRule(ec2.Peer.ipv4('10.0.0.0/16'), ec2.Port.tcp(80), 'from inside the VPC');
  sg.addIngressRule(ec2.Peer.ipv4('10.0.0.0/16'), ec2.Port.tcp(8080), 'tests, from inside the VPC');
  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'Alb', { vpc, securityGroup: sg, internetFacing: false });
  loadBalancer.setAttribute('routing.http.drop_invalid_header_fields.enabled', 'true');
  Validations.of(loadBalancer).acknowledge({ id: 'AwsSolutions-ELB2', reason: 'A test fixture around the service under test; it is never deployed.' });
  const listener = loadBalancer.addListener('Http', {
    port: 80,
    open: false,
    defaultAction: elbv2.ListenerAction.fixedResponse(404),
  });
  const testListener = loadBalancer.addListener('Test', {
    port: 8080,
    protocol: elbv2.ApplicationProtocol.HTTP,
    open: false,
    defaultAction: elbv2.ListenerAction.fixedResponse(404),
  });
  const group = (id: string) =>
    new elbv2.ApplicationTargetGroup(scope, id, {
      vpc,
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      healthCheck: { path: '/health' },
    });
  const blue = group('Blue');
  const green = group('Green');
  const weighted = elbv2.ListenerAction.weightedForward([
    { targetGroup: blue, weight: 100 },
    { targetGroup: green, weight: 0 },
  ]);
  const productionRule = new elbv2.ApplicationListenerRule(scope, 'ProductionRule', {
    listener,
    priority: 1,
    conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])],
    action: weighted,
  });
  const testRule = new elbv2.ApplicationListenerRule(scope, 'TestRule', {
    listener: testListener,
    priority: 1,
    conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])],
    action: elbv2.ListenerAction.weightedForward([
      { targetGroup: blue, weight: 100 },
      { targetGroup: green, weight: 0 },
    ]),
  });
  return { loadBalancer, listener, blue, green, productionRule, testRule };
}

export const ENV = { account: '111111111111', region: 'us-east-1' };

/** A stack in a fixed environment, in an app that runs the validators. */
export function newStack(): Stack {
  return new Stack(newTestApp(), 'S', { env: ENV });
}

/** An ImmutableFargateService `Web` in a new cluster in the imported VPC (unless a cluster is given), running `artifact()`. */
export function service(stack: Stack, props: Partial<ImmutableFargateServiceProps> = {}): ImmutableFargateService {
  return new ImmutableFargateService(stack, 'Web', {
    vpc: props.cluster ? undefined : importedVpc(stack),
    artifact: props.artifact ?? artifact(stack),
    ...props,
  });
}

/** The only resource of a type in a template. */
export function onlyResource(template: Template, type: string): any {
  const resources = Object.values(template.findResources(type));
  expect(resources).toHaveLength(1);
  return resources[0];
}

/** The ARN of the test's lifecycle hook function. */
export const HOOK_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:smoke-test';

/** The lifecycle hook function of a test, imported by ARN. */
export function hookFunction(stack: Stack): lambda.IFunction {
  return lambda.Function.fromFunctionArn(stack, 'Hook', HOOK_ARN);
}

/** What every blue/green deployment of a test starts from: green as the alternate, the production rule. */
export function trafficShift(lb: Alb): Pick<BlueGreenDeploymentOptions, 'alternateTargetGroup' | 'productionListenerRule'> {
  return { alternateTargetGroup: lb.green, productionListenerRule: lb.productionRule };
}

/** A load-balanced service and what it was made with. */
export interface BlueGreenSetup {
  readonly stack: Stack;
  readonly lb: Alb;
  readonly web: ImmutableFargateService;
}

/**
 * A service on port 8080, registered with the blue target group of a new load balancer, deployed by
 * what `deployment` makes of that load balancer (and the stack, for anything else it needs).
 */
export function blueGreenService(
  deployment: (lb: Alb, stack: Stack) => EcsDeployment,
  props: Partial<ImmutableFargateServiceProps> = {},
): BlueGreenSetup {
  const stack = newStack();
  const lb = alb(stack, importedVpc(stack));
  const web = service(stack, { containerPort: 8080, targetGroup: lb.blue, deployment: deployment(lb, stack), ...props });
  return { stack, lb, web };
}
