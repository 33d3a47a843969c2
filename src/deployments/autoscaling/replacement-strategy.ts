import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEFAULT_SIGNAL_TIMEOUT, groupError, renderCreationSignals, ReplacementPlan, ReplacementTarget } from './replacement-binding';
import { checkConstraint, checkConstraints } from '../../internal/constraints';
import { known, optionError, warn } from '../../internal/errors';

/**
 * Options for `ReplacementStrategy.replaceGroup()`.
 */
export interface ReplaceGroupOptions {
  /**
   * How many instances of the new group must signal healthy before it takes over.
   *
   * Must not exceed `minCapacity`: the new group may start with only that many instances.
   *
   * @default - the group's `minCapacity`
   */
  readonly signalCount?: number;

  /**
   * The percentage of the signalled instances that must report SUCCESS.
   *
   * @default 100
   */
  readonly minSuccessPercentage?: number;

  /**
   * How long CloudFormation waits for the new group's signals before it rolls back to the old group.
   *
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
}

/**
 * Options for `ReplacementStrategy.rolling()`.
 */
export interface RollingReplacementOptions {
  /**
   * How many instances are replaced at a time.
   *
   * @default 1
   */
  readonly maxBatchSize?: number;

  /**
   * How many instances stay in service while old ones are replaced. Must be below `maxCapacity`,
   * or the update can never start a batch.
   *
   * @default - `minCapacity`, or `maxCapacity - 1` when that is lower
   */
  readonly minInstancesInService?: number;

  /**
   * Whether each batch waits for its new instances to signal healthy.
   *
   * @default true
   */
  readonly waitOnResourceSignals?: boolean;

  /**
   * With signals, how long to wait for each batch's signals; without, how long to pause between
   * batches. At most one hour.
   *
   * @default Duration.minutes(15) with signals, no pause without
   */
  readonly pauseTime?: Duration;

  /**
   * The percentage of a batch's instances that must report SUCCESS.
   *
   * @default 100
   */
  readonly minSuccessPercentage?: number;
}

/**
 * Options for `ReplacementStrategy.instanceRefresh()`.
 */
export interface InstanceRefreshReplacementOptions {
  /**
   * The percentage of the desired capacity that must stay in service and healthy during the refresh.
   *
   * @default 100
   */
  readonly minHealthyPercentage?: number;

  /**
   * The percentage of the desired capacity that may be in service or pending during the refresh,
   * from 100 to 200, and at most 100 above `minHealthyPercentage`. With 100 / 200, new instances
   * launch and become healthy before old ones terminate.
   *
   * @default 200
   */
  readonly maxHealthyPercentage?: number;

  /**
   * How long a new instance warms up after it enters service before the refresh counts it as
   * healthy (and terminates an old one). An instance refresh does not wait for CloudFormation
   * signals: keep this at least the health check's timeout plus the boot time, so that an instance
   * whose check fails has marked itself Unhealthy before it counts.
   *
   * @default - the health check's timeout plus 5 minutes of boot time (5 minutes with
   * `InstanceHealthCheck.none()`: never the group's grace period, which is 0 without a load balancer)
   */
  readonly instanceWarmup?: Duration;

  /**
   * How long to wait after the last instance is replaced before the update counts as done, while
   * the alarms still watch. At most 48 hours.
   *
   * @default - no bake time
   */
  readonly bakeTime?: Duration;

  /**
   * Percentages of replaced instances at which the refresh pauses for `checkpointDelay`, in
   * ascending order from 1 to 100; the last must be 100.
   *
   * @default - no checkpoints
   */
  readonly checkpoints?: number[];

  /**
   * How long the refresh pauses at each checkpoint. At most 48 hours.
   *
   * @default - one hour when `checkpoints` are given
   */
  readonly checkpointDelay?: Duration;

  /**
   * CloudWatch alarms that fail the refresh when they go into ALARM, which rolls the stack (and
   * the instances) back to the previous launch-template version. At most 10.
   *
   * @default - no alarms
   */
  readonly alarms?: cloudwatch.IAlarm[];

  /**
   * Whether instances already on the new launch-template version are left alone.
   *
   * @default true
   */
  readonly skipMatching?: boolean;

  /**
   * How long CloudFormation waits for the signals of the first instances when the group is created.
   * (An instance refresh itself does not read signals: a failing instance marks itself Unhealthy.)
   *
   * @default Duration.minutes(15)
   */
  readonly creationTimeout?: Duration;
}

const MAX_ALARMS = 10;
const MAX_REFRESH_WAIT = Duration.hours(48);
const MAX_PAUSE = Duration.hours(1);
/** Time from launch to the start of the health check (boot and user data), added to the instance-refresh warmup. */
const BOOT_ALLOWANCE = Duration.minutes(5);

/**
 * How a new launch-template version (a new AMI) replaces the running instances.
 *
 * Each strategy checks its own options when it is made, and renders the group's update policy,
 * creation policy and warnings once it is bound to a group.
 */
export abstract class ReplacementStrategy {
  /**
   * A new Auto Scaling group beside the old one (CloudFormation's replacing update). The new group
   * takes over once its instances signal healthy; on failure or timeout CloudFormation deletes it
   * and the old group, untouched, keeps serving.
   *
   * Needs room for twice the capacity while both groups run. The new group starts at
   * `desiredCapacity` (or `minCapacity` when that is not set), not at the size scaling had grown
   * the old group to: set `desiredCapacity`, or a `minCapacity` that carries the traffic, for a
   * fleet that scales out.
   */
  public static replaceGroup(options: ReplaceGroupOptions = {}): ReplacementStrategy {
    return new ReplaceGroupStrategy(options);
  }

  /**
   * Replaces instances in place, a batch at a time (CloudFormation's rolling update), each batch
   * waiting for its instances to signal healthy. A failed batch rolls the stack back, which rolls
   * the instances back to the previous launch-template version.
   */
  public static rolling(options: RollingReplacementOptions = {}): ReplacementStrategy {
    return new RollingStrategy(options);
  }

  /**
   * An Auto Scaling instance refresh started by CloudFormation (the `AutoScalingInstanceRefresh`
   * update policy): launch-before-terminate by default, with checkpoints, CloudWatch alarms and a
   * bake time. A failed refresh or an alarm fails the update and CloudFormation rolls back to the
   * previous launch-template version.
   */
  public static instanceRefresh(options: InstanceRefreshReplacementOptions = {}): ReplacementStrategy {
    return new InstanceRefreshStrategy(options);
  }

  /** The name of the strategy: `replaceGroup`, `rolling` or `instanceRefresh`. */
  public readonly strategyName: string;

  /**
   * @param strategyName the name of the strategy, as `strategyName` returns it
   */
  protected constructor(strategyName: string) {
    this.strategyName = strategyName;
  }

  /**
   * Checks what needs the group, and renders the group's update and creation policies.
   *
   * @internal
   */
  public abstract _bind(target: ReplacementTarget): ReplacementPlan;
}

class ReplaceGroupStrategy extends ReplacementStrategy {
  private readonly timeout: Duration;

  constructor(private readonly options: ReplaceGroupOptions) {
    super('replaceGroup');
    const factory = 'ReplacementStrategy.replaceGroup()';
    checkConstraint(factory, 'ReplacementStrategy.replaceGroup.timeout', 'timeout', options.timeout);
    if (options.signalCount !== undefined) {
      checkWholeNumber(factory, 'signalCount', options.signalCount, 1, Number.MAX_SAFE_INTEGER,
        'so that a new group takes over only once its instances are healthy. Pass a signalCount from 1 to minCapacity.');
    }
    checkPercentage(factory, 'minSuccessPercentage', options.minSuccessPercentage, 0, 100);
    this.timeout = options.timeout ?? DEFAULT_SIGNAL_TIMEOUT;
  }

  public _bind(target: ReplacementTarget): ReplacementPlan {
    const min = target.minCapacity;
    const count = this.options.signalCount ?? min;
    if (known(count, min)) {
      if (!Number.isInteger(count) || count < 1) {
        throw groupError(target, {
          prop: 'signalCount',
          value: count,
          problem: 'must be a whole number of at least 1, so that a new group takes over only once its instances are healthy',
          fix: 'Set minCapacity to 1 or more.',
        });
      }
      if (count > min) {
        throw groupError(target, {
          prop: 'signalCount',
          value: count,
          problem: `is above minCapacity (${min}): a new group may start with only ${min} instance(s) and would never collect ${count} signals`,
          fix: 'Lower signalCount or raise minCapacity.',
        });
      }
    }
    return {
      updatePolicy: autoscaling.UpdatePolicy.replacingUpdate(),
      creationPolicy: renderCreationSignals(target, { count, timeout: this.timeout, minSuccessPercentage: this.options.minSuccessPercentage }),
    };
  }
}

class RollingStrategy extends ReplacementStrategy {
  private readonly maxBatchSize: number;
  private readonly wait: boolean;

  constructor(private readonly options: RollingReplacementOptions) {
    super('rolling');
    const factory = 'ReplacementStrategy.rolling()';
    checkConstraints(factory, [['ReplacementStrategy.rolling.pauseTime', 'pauseTime', options.pauseTime], ['ReplacementStrategy.rolling.minSuccessPercentage', 'minSuccessPercentage', options.minSuccessPercentage]]);
    this.maxBatchSize = options.maxBatchSize ?? 1;
    this.wait = options.waitOnResourceSignals ?? true;
    checkWholeNumber(factory, 'maxBatchSize', this.maxBatchSize, 1, Number.MAX_SAFE_INTEGER, 'Pass 1 or more.');
    if (known(options.minInstancesInService) && options.minInstancesInService !== undefined && options.minInstancesInService < 0) {
      throw optionError(factory, { prop: 'minInstancesInService', value: options.minInstancesInService, problem: 'must not be negative', fix: 'Pass 0 or more, below maxCapacity.' });
    }
    checkPercentage(factory, 'minSuccessPercentage', options.minSuccessPercentage, 0, 100);
    const pause = options.pauseTime;
    if (pause !== undefined && known(pause) && pause.toSeconds() > MAX_PAUSE.toSeconds()) {
      throw optionError(factory, { prop: 'pauseTime', value: pause, problem: 'is above CloudFormation\'s limit of one hour', fix: 'Pass at most Duration.hours(1).' });
    }
  }

  public _bind(target: ReplacementTarget): ReplacementPlan {
    const minInService = this.options.minInstancesInService ?? defaultMinInService(target.minCapacity, target.maxCapacity);
    if (known(minInService, target.maxCapacity) && minInService >= target.maxCapacity) {
      throw groupError(target, {
        prop: 'minInstancesInService',
        value: minInService,
        problem: `must be below maxCapacity (${target.maxCapacity}), or a rolling update can never take an instance out of service`,
        fix: 'Lower minInstancesInService or raise maxCapacity.',
      });
    }
    if (this.wait && known(target.minCapacity) && target.minCapacity === 0) {
      warn(target.scope, 'rolling-without-creation-signals',
        'minCapacity is 0: the group is created without waiting for signals; rolling batches still wait for theirs.');
    }
    const signalTimeout = this.options.pauseTime ?? DEFAULT_SIGNAL_TIMEOUT;
    return {
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: this.maxBatchSize,
        minInstancesInService: minInService,
        waitOnResourceSignals: this.wait,
        pauseTime: this.options.pauseTime ?? (this.wait ? DEFAULT_SIGNAL_TIMEOUT : Duration.seconds(0)),
        minSuccessPercentage: this.options.minSuccessPercentage,
      }),
      creationPolicy: renderCreationSignals(target, {
        count: target.minCapacity,
        timeout: signalTimeout,
        minSuccessPercentage: this.options.minSuccessPercentage,
      }),
    };
  }
}

class InstanceRefreshStrategy extends ReplacementStrategy {
  private readonly minHealthy: number;
  private readonly maxHealthy: number;
  private readonly alarms: cloudwatch.IAlarm[];

  constructor(private readonly options: InstanceRefreshReplacementOptions) {
    super('instanceRefresh');
    const factory = 'ReplacementStrategy.instanceRefresh()';
    checkConstraint(factory, 'ReplacementStrategy.instanceRefresh.creationTimeout', 'creationTimeout', options.creationTimeout);
    this.minHealthy = options.minHealthyPercentage ?? 100;
    this.maxHealthy = options.maxHealthyPercentage ?? 200;
    this.alarms = options.alarms ?? [];
    checkPercentage(factory, 'minHealthyPercentage', this.minHealthy, 0, 100);
    checkPercentage(factory, 'maxHealthyPercentage', this.maxHealthy, 100, 200);
    if (known(this.minHealthy, this.maxHealthy) && this.maxHealthy - this.minHealthy > 100) {
      throw optionError(factory, {
        prop: 'maxHealthyPercentage',
        value: this.maxHealthy,
        problem: `is more than 100 above minHealthyPercentage (${this.minHealthy})`,
        fix: 'Raise minHealthyPercentage or lower maxHealthyPercentage.',
      });
    }
    if (this.alarms.length > MAX_ALARMS) {
      throw optionError(factory, {
        prop: 'alarms',
        problem: `has ${this.alarms.length} alarms; an instance refresh watches at most ${MAX_ALARMS}`,
        fix: 'Combine them with a cloudwatch.CompositeAlarm.',
      });
    }
    checkRefreshWait(factory, 'bakeTime', options.bakeTime);
    checkRefreshWait(factory, 'checkpointDelay', options.checkpointDelay);
    checkCheckpoints(factory, options.checkpoints, options.checkpointDelay);
  }

  public _bind(target: ReplacementTarget): ReplacementPlan {
    return {
      updatePolicy: autoscaling.UpdatePolicy.instanceRefresh({
        strategy: autoscaling.InstanceRefreshStrategy.ROLLING,
        minHealthyPercentage: this.minHealthy,
        maxHealthyPercentage: this.maxHealthy,
        skipMatching: this.options.skipMatching ?? true,
        instanceWarmup: this.instanceWarmup(target),
        bakeTime: this.options.bakeTime,
        checkpointPercentages: this.options.checkpoints,
        checkpointDelay: this.options.checkpointDelay,
        alarms: this.alarms.length > 0 ? this.alarms : undefined,
      }),
      // An instance refresh does not read signals; the group's creation does.
      creationPolicy: renderCreationSignals(target, { count: target.minCapacity, timeout: this.options.creationTimeout ?? DEFAULT_SIGNAL_TIMEOUT }),
    };
  }

  /**
   * An instance refresh does not read CloudFormation signals: it counts a new instance as healthy
   * once it is InService and its warmup has passed. Without a warmup it takes the group's
   * DefaultInstanceWarmup (never set here) or else its grace period, which is 0 unless a load
   * balancer is attached: a new instance would count at once, before it booted and before its own
   * health check ran, and the old instances would be terminated (AMI review #5). So the default
   * warmup always covers the boot, and the whole health check: a failing instance has marked itself
   * Unhealthy before it could count. With no health check (`none()`) it is the boot allowance alone.
   */
  private instanceWarmup(target: ReplacementTarget): Duration {
    const probe = target.healthCheckTimeout;
    const given = this.options.instanceWarmup;
    if (given === undefined) {
      return probe.plus(BOOT_ALLOWANCE);
    }
    if (known(given, probe) && given.toSeconds() < probe.toSeconds()) {
      warn(target.scope, 'instance-warmup-shorter-than-health-check',
        `replacement instanceWarmup (${given.toHumanString()}) is shorter than the health check's timeout (${probe.toHumanString()}): `
        + 'the instance refresh may count a new instance as healthy, and terminate an old one, before the new instance\'s own health check has failed. '
        + 'Leave instanceWarmup out, or make it at least the health check\'s timeout plus the boot time.');
    }
    return given;
  }
}

function checkWholeNumber(factory: string, prop: string, value: number | undefined, low: number, high: number, fix: string): void {
  if (value === undefined || !known(value)) return;
  if (!Number.isInteger(value) || value < low || value > high) {
    const range = high === Number.MAX_SAFE_INTEGER ? `of at least ${low}` : `from ${low} to ${high}`;
    throw optionError(factory, { prop, value, problem: `must be a whole number ${range}`, fix });
  }
}

function checkPercentage(factory: string, prop: string, value: number | undefined, low: number, high: number): void {
  checkWholeNumber(factory, prop, value, low, high, `Pass a whole percentage from ${low} to ${high}.`);
}

function checkRefreshWait(factory: string, prop: string, value: Duration | undefined): void {
  if (value !== undefined && known(value) && value.toSeconds() > MAX_REFRESH_WAIT.toSeconds()) {
    throw optionError(factory, { prop, value, problem: 'is above the instance-refresh limit of 48 hours', fix: 'Pass at most Duration.hours(48).' });
  }
}

function checkCheckpoints(factory: string, checkpoints: number[] | undefined, delay: Duration | undefined): void {
  if (checkpoints !== undefined && known(...checkpoints)) {
    const ascending = checkpoints.every((c, i) => Number.isInteger(c) && c >= 1 && c <= 100 && (i === 0 || c > checkpoints[i - 1]));
    if (checkpoints.length === 0 || !ascending || checkpoints[checkpoints.length - 1] !== 100) {
      throw optionError(factory, {
        prop: 'checkpoints',
        value: checkpoints,
        problem: 'must be whole percentages from 1 to 100 in ascending order, ending with 100 so that every instance is replaced',
        fix: 'Pass for example [20, 50, 100].',
      });
    }
  }
  if (delay !== undefined && checkpoints === undefined) {
    throw optionError(factory, {
      prop: 'checkpointDelay',
      problem: 'is set without checkpoints',
      fix: 'Pass checkpoints, for example [20, 50, 100], or drop checkpointDelay.',
    });
  }
}

/** `minCapacity`, or `maxCapacity - 1` when that is lower; `minCapacity` when either is a token. */
function defaultMinInService(min: number, max: number): number {
  if (!known(min, max)) return min;
  return Math.max(0, Math.min(min, max - 1));
}
