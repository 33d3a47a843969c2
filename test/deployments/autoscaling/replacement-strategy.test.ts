import { CfnParameter, Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AMI_A, fixture, group, groupResource, INSTANCE_TYPE } from './fixtures';
import { AmiArtifact } from '../../../src/artifacts/ami/artifact';
import { ImmutableAutoScalingGroup, InstanceHealthCheck, ReplacementStrategy } from '../../../src/deployments/autoscaling';
import type { ReplacementPlan, ReplacementTarget } from '../../../src/deployments/autoscaling/replacement-binding';
import { renderCreationSignals } from '../../../src/deployments/autoscaling/replacement-binding';
import { warn } from '../../../src/internal/errors';

/**
 * A fourth strategy, for this test only: every instance at once, in one rolling batch, once all
 * instances of the new version have signalled. Adding it touches no other file: the group only
 * asks its strategy what to render.
 */
class AllAtOnce extends ReplacementStrategy {
  constructor() {
    super('allAtOnce');
  }

  public _bind(target: ReplacementTarget): ReplacementPlan {
    warn(target.scope, 'all-at-once', 'Every instance is replaced at once: capacity drops to zero during the update.');
    return {
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({ maxBatchSize: target.maxCapacity, minInstancesInService: 0 }),
      creationPolicy: renderCreationSignals(target, { count: target.minCapacity, timeout: Duration.minutes(5) }),
    };
  }
}

describe('ReplacementStrategy', () => {
  describe('what each strategy renders', () => {
    test('replaceGroup is the default: a replacing update that waits for minCapacity signals', () => {
      // GIVEN
      const { stack } = group();

      // THEN
      Template.fromStack(stack).hasResource('AWS::AutoScaling::AutoScalingGroup', {
        UpdatePolicy: Match.objectLike({ AutoScalingReplacingUpdate: { WillReplace: true } }),
        CreationPolicy: { ResourceSignal: { Count: 2, Timeout: 'PT15M' } },
      });
    });

    test('replaceGroup options', () => {
      // GIVEN
      const replacement = ReplacementStrategy.replaceGroup({ signalCount: 1, minSuccessPercentage: 50, timeout: Duration.minutes(30) });
      const { stack } = group({ replacement });

      // THEN
      Template.fromStack(stack).hasResource('AWS::AutoScaling::AutoScalingGroup', {
        CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT30M' }, AutoScalingCreationPolicy: { MinSuccessfulInstancesPercent: 50 } },
      });
    });

    test('rolling: batches that wait for their signals, keeping capacity in service', () => {
      // GIVEN
      const { stack } = group({ replacement: ReplacementStrategy.rolling({ maxBatchSize: 2, pauseTime: Duration.minutes(20) }) });

      // THEN
      const asg = groupResource(stack);
      expect(asg.UpdatePolicy.AutoScalingReplacingUpdate).toBeUndefined();
      expect(asg.UpdatePolicy.AutoScalingRollingUpdate).toEqual(expect.objectContaining({
        MaxBatchSize: 2,
        MinInstancesInService: 2,
        WaitOnResourceSignals: true,
        PauseTime: 'PT20M',
      }));
      expect(asg.CreationPolicy).toEqual({ ResourceSignal: { Count: 2, Timeout: 'PT20M' } });
    });

    test('rolling with min = max keeps one instance fewer in service by default', () => {
      // GIVEN
      const { stack } = group({ minCapacity: 3, maxCapacity: 3, replacement: ReplacementStrategy.rolling() });

      // THEN
      Template.fromStack(stack).hasResource('AWS::AutoScaling::AutoScalingGroup', {
        UpdatePolicy: Match.objectLike({ AutoScalingRollingUpdate: Match.objectLike({ MinInstancesInService: 2 }) }),
      });
    });

    test('instanceRefresh: CloudFormation\'s AutoScalingInstanceRefresh policy, launch before terminate, with alarms, bake time and checkpoints', () => {
      // GIVEN
      const { stack, vpc } = fixture();
      const alarm = new cloudwatch.Alarm(stack, 'Errors', {
        metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Errors' }),
        threshold: 1,
        evaluationPeriods: 1,
      });
      new ImmutableAutoScalingGroup(stack, 'Fleet', {
        vpc,
        artifact: AmiArtifact.fromAmiId(AMI_A),
        instanceType: INSTANCE_TYPE,
        minCapacity: 2,
        maxCapacity: 4,
        replacement: ReplacementStrategy.instanceRefresh({
          alarms: [alarm],
          bakeTime: Duration.minutes(30),
          checkpoints: [25, 50, 100],
          checkpointDelay: Duration.minutes(5),
          instanceWarmup: Duration.minutes(2),
        }),
      });

      // THEN
      const asg = groupResource(stack);
      expect(asg.UpdatePolicy.AutoScalingReplacingUpdate).toBeUndefined();
      expect(asg.UpdatePolicy.AutoScalingRollingUpdate).toBeUndefined();
      expect(asg.UpdatePolicy.AutoScalingInstanceRefresh).toEqual({
        Strategy: 'Rolling',
        Preferences: {
          MinHealthyPercentage: 100,
          MaxHealthyPercentage: 200,
          SkipMatching: true,
          InstanceWarmup: 120,
          BakeTime: 1800,
          CheckpointPercentages: [25, 50, 100],
          CheckpointDelay: 300,
          AlarmSpecification: { Alarms: [{ Ref: expect.stringMatching(/^Errors/) }] },
        },
      });
      expect(asg.CreationPolicy).toEqual({ ResourceSignal: { Count: 2, Timeout: 'PT15M' } });
    });
    test('instanceRefresh without a load balancer: a new instance counts as healthy only after its own health check could have failed', () => {
      // GIVEN: no target group, so the group's grace period is 0 and an instance refresh would count
      // a new instance healthy (and terminate an old one) the moment it is InService
      const { stack } = group({
        healthCheck: InstanceHealthCheck.http({ port: 8080, timeout: Duration.minutes(7) }),
        replacement: ReplacementStrategy.instanceRefresh(),
      });

      // THEN: the warmup covers the boot and the whole probe window
      const asg = groupResource(stack);
      expect(asg.Properties.HealthCheckGracePeriod).toBeUndefined();
      expect(asg.UpdatePolicy.AutoScalingInstanceRefresh.Preferences.InstanceWarmup).toBe((7 + 5) * 60);
    });

    test('instanceRefresh with a warmup shorter than the health check warns', () => {
      const { stack } = group({
        healthCheck: InstanceHealthCheck.http({ port: 8080, timeout: Duration.minutes(10) }),
        replacement: ReplacementStrategy.instanceRefresh({ instanceWarmup: Duration.minutes(2) }),
      });
      Annotations.fromStack(stack).hasWarning('/Stack/Fleet', Match.stringLikeRegexp('instanceWarmup \\(2 minutes\\) is shorter than the health check\'s timeout \\(10 minutes\\)'));
    });

    test('instanceRefresh with no health check and no load balancer still warms up for the boot: the group has no grace period (0) nor DefaultInstanceWarmup, which AWS would take instead, and old instances would go before the new ones booted (AMI review #5)', () => {
      // GIVEN / WHEN
      const { stack } = group({ healthCheck: InstanceHealthCheck.none(), replacement: ReplacementStrategy.instanceRefresh() });
      // THEN
      const asg = groupResource(stack);
      expect(asg.Properties.HealthCheckGracePeriod ?? 0).toBe(0);
      expect(asg.Properties.DefaultInstanceWarmup).toBeUndefined();
      expect(asg.UpdatePolicy.AutoScalingInstanceRefresh.Preferences.InstanceWarmup).toBe(5 * 60);
    });
  });

  describe('a new strategy is one new class', () => {
    test('the group renders what a strategy it has never heard of asks for', () => {
      // GIVEN
      const replacement = new AllAtOnce();

      // WHEN
      const { stack, fleet } = group({ replacement });

      // THEN
      const asg = groupResource(stack);
      expect(asg.UpdatePolicy.AutoScalingRollingUpdate).toEqual(expect.objectContaining({ MaxBatchSize: 4, MinInstancesInService: 0 }));
      expect(asg.UpdatePolicy.AutoScalingReplacingUpdate).toBeUndefined();
      expect(asg.CreationPolicy).toEqual({ ResourceSignal: { Count: 2, Timeout: 'PT5M' } });
      Annotations.fromStack(stack).hasWarning('/Stack/Fleet', Match.stringLikeRegexp('Every instance is replaced at once'));
      expect(fleet.replacement.strategyName).toBe('allAtOnce');
    });
  });

  describe('each factory checks its own options when it is called', () => {
    test.each<[string, () => ReplacementStrategy, RegExp]>([
      ['rolling batch of zero', () => ReplacementStrategy.rolling({ maxBatchSize: 0 }), /maxBatchSize \(0\) must be a whole number of at least 1/],
      ['rolling with negative instances in service', () => ReplacementStrategy.rolling({ minInstancesInService: -1 }), /minInstancesInService \(-1\) must not be negative/],
      ['rolling pause above an hour', () => ReplacementStrategy.rolling({ pauseTime: Duration.minutes(90) }), /pauseTime \(1 hour 30 minutes\) is above CloudFormation's limit of one hour/],
      ['bake time over 48 hours', () => ReplacementStrategy.instanceRefresh({ bakeTime: Duration.hours(49) }), /bakeTime \(2 days 1 hour\) is above the instance-refresh limit of 48 hours/],
      ['checkpoint delay over 48 hours', () => ReplacementStrategy.instanceRefresh({ checkpoints: [50, 100], checkpointDelay: Duration.days(3) }), /checkpointDelay \(3 days\) is above/],
      ['checkpoints not ending at 100', () => ReplacementStrategy.instanceRefresh({ checkpoints: [50, 90] }), /checkpoints \(\[50, 90\]\) must be .* ending with 100/],
      ['checkpoints not ascending', () => ReplacementStrategy.instanceRefresh({ checkpoints: [60, 30, 100] }), /checkpoints \(\[60, 30, 100\]\)/],
      ['checkpoint delay without checkpoints', () => ReplacementStrategy.instanceRefresh({ checkpointDelay: Duration.minutes(5) }), /checkpointDelay is set without checkpoints/],
      ['min healthy above 100', () => ReplacementStrategy.instanceRefresh({ minHealthyPercentage: 120 }), /minHealthyPercentage \(120\) must be a whole number from 0 to 100/],
      ['max healthy below 100', () => ReplacementStrategy.instanceRefresh({ maxHealthyPercentage: 90 }), /maxHealthyPercentage \(90\) must be a whole number from 100 to 200/],
      ['healthy window over 100', () => ReplacementStrategy.instanceRefresh({ minHealthyPercentage: 50, maxHealthyPercentage: 200 }), /maxHealthyPercentage \(200\) is more than 100 above minHealthyPercentage \(50\)/],
      ['success percentage above 100', () => ReplacementStrategy.replaceGroup({ minSuccessPercentage: 101 }), /minSuccessPercentage \(101\) must be a whole number from 0 to 100/],
      ['signal count below 1', () => ReplacementStrategy.replaceGroup({ signalCount: 0 }), /signalCount \(0\) must be a whole number of at least 1/],
    ])('%s', (_name, make, message) => {
      expect(make).toThrow(message);
    });

    test('the error names the factory', () => {
      expect(() => ReplacementStrategy.rolling({ maxBatchSize: 0 })).toThrow(/^ReplacementStrategy\.rolling\(\): maxBatchSize \(0\)/);
    });

    test('more than ten alarms', () => {
      const { stack } = fixture();
      const alarms = Array.from({ length: 11 }, (_, i) => cloudwatch.Alarm.fromAlarmName(stack, `A${i}`, `alarm-${i}`));
      expect(() => ReplacementStrategy.instanceRefresh({ alarms })).toThrow(/alarms has 11 alarms; an instance refresh watches at most 10\. Combine them with a cloudwatch.CompositeAlarm/);
    });
  });

  describe('what needs the group is checked when the group binds its strategy', () => {
    test.each([
      ['min in service not below max', { minCapacity: 2, maxCapacity: 4, replacement: ReplacementStrategy.rolling({ minInstancesInService: 4 }) },
        /^Stack\/Fleet \[ImmutableAutoScalingGroup\]: minInstancesInService \(4\) must be below maxCapacity \(4\).*Lower minInstancesInService or raise maxCapacity/],
      ['replacing update with a signal count above the minimum', { minCapacity: 2, maxCapacity: 4, replacement: ReplacementStrategy.replaceGroup({ signalCount: 3 }) },
        /signalCount \(3\) is above minCapacity \(2\).*Lower signalCount or raise minCapacity/],
      ['replacing update with nothing to signal', { minCapacity: 0, maxCapacity: 4 }, /signalCount \(0\) must be a whole number of at least 1.*Set minCapacity to 1 or more/],
    ])('%s', (_name, overrides, message) => {
      expect(() => group(overrides)).toThrow(message);
    });

    test('tokens in capacity give a rolling update that keeps minCapacity in service', () => {
      const { stack, vpc } = fixture();
      const min = new CfnParameter(stack, 'Min', { type: 'Number' }).valueAsNumber;
      new ImmutableAutoScalingGroup(stack, 'Fleet', {
        vpc,
        artifact: AmiArtifact.fromAmiId(AMI_A),
        instanceType: INSTANCE_TYPE,
        minCapacity: min,
        maxCapacity: 4,
        replacement: ReplacementStrategy.rolling(),
      });
      Template.fromStack(stack).hasResource('AWS::AutoScaling::AutoScalingGroup', {
        UpdatePolicy: Match.objectLike({ AutoScalingRollingUpdate: Match.objectLike({ MinInstancesInService: { Ref: 'Min' } }) }),
      });
    });

    test('a rolling group with minCapacity 0 is created without waiting for signals, with a warning', () => {
      const { stack } = group({ minCapacity: 0, maxCapacity: 2, replacement: ReplacementStrategy.rolling() });
      Template.fromStack(stack).hasResource('AWS::AutoScaling::AutoScalingGroup', {
        CreationPolicy: Match.absent(),
        UpdatePolicy: Match.objectLike({ AutoScalingRollingUpdate: Match.objectLike({ WaitOnResourceSignals: true, MinInstancesInService: 0 }) }),
      });
      Annotations.fromStack(stack).hasWarning('/Stack/Fleet', Match.stringLikeRegexp('minCapacity is 0'));
      expect(ReplacementStrategy.rolling().strategyName).toBe('rolling');
    });
  });
});
