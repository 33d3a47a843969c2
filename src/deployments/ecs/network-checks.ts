/**
 * What an `ImmutableFargateService` checks of the network it is given, before anything is deployed:
 *
 * - A listener's default action is one action. A service given a listener without `listenerPriority`
 *   and `listenerConditions` becomes that default action, replacing what was there (the listener's own
 *   default, or another service's target group, whose service ECS then refuses: its target group has
 *   no load balancer). So that is an error whenever the listener has a default action already, another
 *   service of the app was given it, or it is imported (its default action cannot be read, and
 *   aws-cdk-lib refuses to add one).
 * - A Fargate task pulls its image and writes its logs through the network: from a public subnet only
 *   with a public IP (through the internet gateway), from a private subnet through a NAT gateway or
 *   VPC endpoints. Tasks placed in public subnets without a public IP, or in isolated subnets of a VPC
 *   of the app without an ECR endpoint, cannot start: a warning names the props.
 *
 * Internal: never exported from the package.
 */
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IConstruct } from 'constructs';
import { Problem, warn } from '../../internal/errors';

/** The services of the app that took a listener's default action, by listener. */
const defaultActionOwners = new WeakMap<elbv2.IApplicationListener, string>();

/**
 * The problem with making the service's target group the listener's default action, or undefined
 * when it may: the listener has none yet, and no other service took it. Records the service as the
 * one that takes it.
 */
export function listenerDefaultActionProblem(service: IConstruct, listener: elbv2.IApplicationListener): Problem | undefined {
  const fix = 'Pass listenerPriority and listenerConditions (for example elbv2.ListenerCondition.pathPatterns([\'/api/*\']) or hostHeaders([...])), '
    + 'so that this service gets a listener rule of its own and the default action stays as it is.';
  const prop = 'listenerPriority and listenerConditions';
  const owner = defaultActionOwners.get(listener);
  if (owner !== undefined) {
    return {
      prop,
      problem: `are missing, and service ${owner} already forwards listener ${listener.node.path}'s default action to its target group: this service would replace it, `
        + `so ${owner}'s target group would be attached to no load balancer, which ECS refuses when it creates that service`,
      fix,
    };
  }
  if (!(listener instanceof elbv2.ApplicationListener)) {
    return { prop, problem: `are missing, and listener ${listener.node.path} is imported, whose default action this app can neither read nor replace`, fix };
  }
  const current = Stack.of(listener).resolve((listener.node.defaultChild as elbv2.CfnListener).defaultActions);
  if (Array.isArray(current) && current.length > 0) {
    return {
      prop,
      problem: `are missing, and listener ${listener.node.path} has a default action already (${describeActions(current)}), which this service's target group would replace`,
      fix,
    };
  }
  defaultActionOwners.set(listener, service.node.path);
  return undefined;
}

function describeActions(actions: Array<{ Type?: string; type?: string }>): string {
  return actions.map((a) => a.Type ?? a.type ?? 'an action').join(', ');
}

/**
 * Warns when the tasks' subnets have no way to the registry: public subnets without a public IP, or
 * isolated subnets of a VPC of the app that has no ECR endpoint. Subnets an imported VPC does not
 * describe (no type) are not judged.
 */
export function warnIfNoRouteToRegistry(
  service: IConstruct, vpc: ec2.IVpc, vpcSubnets: ec2.SubnetSelection | undefined, assignPublicIp: boolean,
): void {
  let selected: ec2.SelectedSubnets;
  try {
    // As ecs.FargateService chooses them: public subnets when assignPublicIp, else the VPC's default choice.
    selected = vpc.selectSubnets(vpcSubnets ?? (assignPublicIp ? { subnetType: ec2.SubnetType.PUBLIC } : {}));
  } catch {
    return;
  }
  const ids = new Set(selected.subnetIds);
  const inPublic = vpc.publicSubnets.some((s) => ids.has(s.subnetId));
  const inIsolated = vpc.isolatedSubnets.some((s) => ids.has(s.subnetId));
  const endpoints = 'VPC endpoints for ECR (com.amazonaws.<region>.ecr.api and .ecr.dkr), S3 (a gateway endpoint, for the image layers) and CloudWatch Logs';
  if (inPublic && !assignPublicIp) {
    warn(service, 'no-route-to-registry',
      `the tasks run in public subnets (${describeSelection(vpcSubnets)}) without a public IP (assignPublicIp is false): a public subnet reaches the internet only with one, `
      + 'so the tasks cannot pull their image from ECR (CannotPullContainerError) unless the VPC has '
      + `${endpoints}. Set assignPublicIp: true, or pass vpcSubnets of private subnets with a NAT gateway.`);
    return;
  }
  if (inIsolated && !hasEcrEndpoint(vpc)) {
    warn(service, 'no-route-to-registry',
      `the tasks run in isolated subnets (${describeSelection(vpcSubnets)}), which have no NAT gateway: they cannot pull their image from ECR (CannotPullContainerError) unless the VPC has `
      + `${endpoints}. Add those endpoints, or pass vpcSubnets of private subnets with a NAT gateway (or public subnets with assignPublicIp: true).`);
  }
}

function describeSelection(vpcSubnets: ec2.SubnetSelection | undefined): string {
  if (vpcSubnets === undefined) return 'the VPC\'s default choice, as vpcSubnets is not given';
  return `vpcSubnets ${vpcSubnets.subnetType ?? vpcSubnets.subnetGroupName ?? 'as given'}`;
}

/** Whether a VPC of the app has an interface endpoint for ECR's registry in its stack (an imported VPC cannot tell: it may). */
function hasEcrEndpoint(vpc: ec2.IVpc): boolean {
  if (!(vpc instanceof ec2.Vpc)) return true;
  const stack = Stack.of(vpc);
  const vpcId = JSON.stringify(stack.resolve(vpc.vpcId));
  return stack.node.findAll().some((c) => {
    if (!(c instanceof ec2.CfnVPCEndpoint)) return false;
    return JSON.stringify(stack.resolve(c.vpcId)) === vpcId && /ecr\.dkr/.test(JSON.stringify(stack.resolve(c.serviceName)));
  });
}
