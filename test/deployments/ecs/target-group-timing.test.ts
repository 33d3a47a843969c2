import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { alb, importedVpc, newStack, service } from './fixtures';
import { ImmutableFargateServiceProps } from '../../../src';
import { TARGET_GROUP_DEFAULTS, unhealthyThresholdFor } from '../../../src/deployments/ecs/target-group-defaults';
import { expectSynthError } from '../../synth-errors';

/**
 * Defaults that cost no safety (issue 28, item 2): the target group the service creates for a listener
 * checks a new task soon (one passing check makes a new target healthy), takes a failing task out
 * after the same 60 s as the load balancer's defaults, and drains old tasks for 30 s, not 300 s.
 */

/** The target group the service creates behind the fixture's listener, with these props. */
function targetGroupWith(props: Partial<ImmutableFargateServiceProps> = {}, stack: Stack = newStack()): any {
  const { listener } = alb(stack, importedVpc(stack));
  service(stack, { containerPort: 8080, listener, listenerPriority: 10, listenerConditions: [elbv2.ListenerCondition.pathPatterns(['/*'])], ...props });
  const groups = Template.fromStack(stack).findResources('AWS::ElasticLoadBalancingV2::TargetGroup');
  const own = Object.entries(groups).filter(([id]) => id.startsWith('WebTargetGroup'));
  expect(own).toHaveLength(1);
  return own[0][1].Properties;
}

function drainOf(properties: any): string | undefined {
  return (properties.TargetGroupAttributes ?? []).find((a: any) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
}

describe('the target group an ImmutableFargateService creates', () => {
  test('checks every 10 s, brings a target back after 2 passing checks, takes it out after 60 s of failures (6 checks), and drains old tasks for 30 s', () => {
    // WHEN
    const properties = targetGroupWith();
    // THEN
    expect(properties).toMatchObject({ HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 2, UnhealthyThresholdCount: 6 });
    expect(drainOf(properties)).toEqual('30');
    // The load balancer's defaults take a failing target out after 2 failures 30 s apart: the same 60 s.
    expect(properties.UnhealthyThresholdCount * properties.HealthCheckIntervalSeconds).toEqual(2 * 30);
  });

  test('settings given in loadBalancerHealthCheck win; the failures before unhealthy follow a given interval, within the ALB\'s 2 to 10', () => {
    // a longer interval: fewer checks make the 60 s
    expect(targetGroupWith({ loadBalancerHealthCheck: { path: '/health', interval: Duration.seconds(30) } })).toMatchObject({
      HealthCheckPath: '/health', HealthCheckIntervalSeconds: 30, HealthyThresholdCount: 2, UnhealthyThresholdCount: 2,
    });
    // the shortest interval: at most 10 checks
    expect(targetGroupWith({ loadBalancerHealthCheck: { interval: Duration.seconds(5), timeout: Duration.seconds(4) } })).toMatchObject({
      HealthCheckIntervalSeconds: 5, UnhealthyThresholdCount: 10,
    });
    // every setting given: nothing of the defaults
    const given = { interval: Duration.seconds(20), healthyThresholdCount: 3, unhealthyThresholdCount: 4 };
    expect(targetGroupWith({ loadBalancerHealthCheck: given })).toMatchObject({
      HealthCheckIntervalSeconds: 20, HealthyThresholdCount: 3, UnhealthyThresholdCount: 4,
    });
    expect(unhealthyThresholdFor(7)).toEqual(9);
  });

  test('deregistrationDelay sets the drain, 0 included', () => {
    expect(drainOf(targetGroupWith({ deregistrationDelay: Duration.minutes(2) }))).toEqual('120');
    expect(drainOf(targetGroupWith({ deregistrationDelay: Duration.seconds(0) }))).toEqual('0');
  });

  test.each([
    [Duration.seconds(3601), /deregistrationDelay \(1 hour 1 second\) should be whole seconds from 0 to 3600, the load balancer's limits\. Pass Duration\.seconds\(n\)/],
    [Duration.millis(1500), /deregistrationDelay \(1 second 500 millis\) should be whole seconds from 0 to 3600/],
  ])('deregistrationDelay %s fails at synth, naming the prop and the value', (delay, message) => {
    expect(() => targetGroupWith({ deregistrationDelay: delay })).toThrow(message);
  });

  test('a deregistrationDelay token is not checked, and reaches the template', () => {
    const stack = newStack();
    const properties = targetGroupWith({ deregistrationDelay: Duration.seconds(Token.asNumber({ Ref: 'Drain' })) }, stack);
    expect(drainOf(properties)).toEqual({ Ref: 'Drain' });
  });

  test('deregistrationDelay without a listener fails: a targetGroup you pass is yours to configure, and is left as it is', () => {
    const stack = newStack();
    const lb = alb(stack, importedVpc(stack));
    service(stack, { targetGroup: lb.blue, containerPort: 8080, deregistrationDelay: Duration.seconds(10) });
    expectSynthError(stack, /deregistrationDelay apply only with listener/);
    const other = newStack();
    const lb2 = alb(other, importedVpc(other));
    service(other, { targetGroup: lb2.blue, containerPort: 8080 });
    const groups = Template.fromStack(other).findResources('AWS::ElasticLoadBalancingV2::TargetGroup');
    const blue = Object.entries(groups).find(([id]) => id.startsWith('Blue'))![1].Properties;
    expect(blue.HealthCheckIntervalSeconds).toBeUndefined();
    expect(blue.UnhealthyThresholdCount).toBeUndefined();
    expect(drainOf(blue)).toBeUndefined();
  });

  test('the defaults are the documented ones', () => {
    expect(TARGET_GROUP_DEFAULTS).toEqual({
      healthCheckIntervalSeconds: 10, healthyThresholdCount: 2, unhealthyAfterSeconds: 60, deregistrationDelaySeconds: 30,
    });
  });
});
