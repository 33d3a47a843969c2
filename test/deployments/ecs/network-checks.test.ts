/**
 * What an ImmutableFargateService checks of its network before anything is deployed: a listener's
 * default action is taken by one service only, and never replaced silently; tasks placed where they
 * cannot reach the registry are named in a warning.
 */
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { artifact, importedVpc, newStack } from './fixtures';
import { ImmutableFargateService, ImmutableFargateServiceProps } from '../../../src';

/** A load balancer with a listener that has no default action yet. */
function bareListener(stack: Stack, vpc: ec2.IVpc): elbv2.ApplicationListener {
  const lb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: false });
  return lb.addListener('Http', { port: 80, open: false });
}

function run(stack: Stack, id: string, props: Partial<ImmutableFargateServiceProps>): ImmutableFargateService {
  return new ImmutableFargateService(stack, id, { vpc: importedVpc(stack), artifact: artifact(stack, undefined, undefined, `${id}Artifact`), containerPort: 8080, ...props });
}

const noRoute = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cannot pull their image from ECR'));

describe('two services on one listener', () => {
  test('the second service without a rule of its own is an error naming the first: it would take the default action, leaving the first without a load balancer', () => {
    // GIVEN a service that took the listener's default action
    const stack = newStack();
    const listener = bareListener(stack, importedVpc(stack));
    run(stack, 'A', { listener });
    // WHEN / THEN
    expect(() => run(stack, 'B', { listener })).toThrow(
      /^S\/B \[ImmutableFargateService\]: listenerPriority and listenerConditions are missing, and service S\/A already forwards listener S\/Alb\/Http's default action to its target group.*ECS refuses.*Pass listenerPriority and listenerConditions/);
  });

  test('a service with a priority and conditions gets a rule of its own beside it', () => {
    const stack = newStack();
    const listener = bareListener(stack, importedVpc(stack));
    run(stack, 'A', { listener });
    expect(() => run(stack, 'B', { listener, listenerPriority: 10, listenerConditions: [elbv2.ListenerCondition.pathPatterns(['/api/*'])] })).not.toThrow();
  });

  test('a listener with a default action of its own (a fixed 404) is not replaced silently: an error, unless the service gets a rule', () => {
    const stack = newStack();
    const listener = bareListener(stack, importedVpc(stack));
    listener.addAction('NotFound', { action: elbv2.ListenerAction.fixedResponse(404) });
    expect(() => run(stack, 'A', { listener })).toThrow(/listener S\/Alb\/Http has a default action already \(fixed-response\), which this service's target group would replace/);
    expect(() => run(stack, 'B', { listener, listenerPriority: 5, listenerConditions: [elbv2.ListenerCondition.hostHeaders(['api.example.com'])] })).not.toThrow();
  });

  test('an imported listener without a rule: this library\'s error, with what to do, not aws-cdk-lib\'s', () => {
    const stack = newStack();
    const listener = elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Imported', {
      listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/web/0123456789abcdef/0123456789abcdef',
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0'),
    });
    expect(() => run(stack, 'A', { listener })).toThrow(/listener S\/Imported is imported, whose default action this app can neither read nor replace\. Pass listenerPriority/);
  });
});

describe('subnets that can reach no registry', () => {
  /** A VPC like a default VPC: public subnets only. */
  const publicOnly = (stack: Stack) => ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'], publicSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'],
  });

  test('public subnets without a public IP (a default VPC, assignPublicIp left false): a warning naming assignPublicIp and vpcSubnets', () => {
    const stack = newStack();
    new ImmutableFargateService(stack, 'Web', { vpc: publicOnly(stack), artifact: artifact(stack) });
    Annotations.fromStack(stack).hasWarning('/S/Web', Match.stringLikeRegexp(
      'the tasks run in public subnets \\(the VPC\'s default choice, as vpcSubnets is not given\\) without a public IP \\(assignPublicIp is false\\).*CannotPullContainerError.*Set assignPublicIp: true, or pass vpcSubnets'));
    const chosen = newStack();
    new ImmutableFargateService(chosen, 'Web', { vpc: importedVpc(chosen), artifact: artifact(chosen), vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } });
    expect(noRoute(chosen)).toHaveLength(1);
  });

  test('public subnets with a public IP, or private subnets: no warning', () => {
    const withIp = newStack();
    new ImmutableFargateService(withIp, 'Web', { vpc: publicOnly(withIp), artifact: artifact(withIp), assignPublicIp: true });
    expect(noRoute(withIp)).toEqual([]);
    const privateOnes = newStack();
    new ImmutableFargateService(privateOnes, 'Web', { vpc: importedVpc(privateOnes), artifact: artifact(privateOnes) });
    expect(noRoute(privateOnes)).toEqual([]);
  });

  test('isolated subnets of a VPC of the app: a warning, unless the VPC has an ECR endpoint', () => {
    const make = (endpoint: boolean) => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'App', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
      if (endpoint) vpc.addInterfaceEndpoint('EcrDocker', { service: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER });
      new ImmutableFargateService(stack, 'Web', { vpc, artifact: artifact(stack) });
      return stack;
    };
    const bare = make(false);
    Annotations.fromStack(bare).hasWarning('/S/Web', Match.stringLikeRegexp('the tasks run in isolated subnets.*no NAT gateway.*VPC endpoints for ECR'));
    expect(noRoute(make(true))).toEqual([]);
  });
});
