import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

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
   * @default - the health check's timeout plus 5 minutes of boot time; with `InstanceHealthCheck.none()`,
   * the group's health check grace period
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

const REPLACE_GROUP = 'replaceGroup';
const ROLLING = 'rolling';
const INSTANCE_REFRESH = 'instanceRefresh';

/**
 * How a new launch-template version (a new AMI) replaces the running instances.
 */
export class ReplacementStrategy {
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
    return new ReplacementStrategy(REPLACE_GROUP, options, {}, {});
  }

  /**
   * Replaces instances in place, a batch at a time (CloudFormation's rolling update), each batch
   * waiting for its instances to signal healthy. A failed batch rolls the stack back, which rolls
   * the instances back to the previous launch-template version.
   */
  public static rolling(options: RollingReplacementOptions = {}): ReplacementStrategy {
    return new ReplacementStrategy(ROLLING, {}, options, {});
  }

  /**
   * An Auto Scaling instance refresh started by CloudFormation (the `AutoScalingInstanceRefresh`
   * update policy): launch-before-terminate by default, with checkpoints, CloudWatch alarms and a
   * bake time. A failed refresh or an alarm fails the update and CloudFormation rolls back to the
   * previous launch-template version.
   */
  public static instanceRefresh(options: InstanceRefreshReplacementOptions = {}): ReplacementStrategy {
    return new ReplacementStrategy(INSTANCE_REFRESH, {}, {}, options);
  }

  /** @internal */
  public readonly _kind: string;
  /** @internal */
  public readonly _replaceGroup: ReplaceGroupOptions;
  /** @internal */
  public readonly _rolling: RollingReplacementOptions;
  /** @internal */
  public readonly _instanceRefresh: InstanceRefreshReplacementOptions;

  private constructor(
    kind: string,
    replaceGroup: ReplaceGroupOptions,
    rolling: RollingReplacementOptions,
    instanceRefresh: InstanceRefreshReplacementOptions,
  ) {
    this._kind = kind;
    this._replaceGroup = replaceGroup;
    this._rolling = rolling;
    this._instanceRefresh = instanceRefresh;
  }

  /** The name of the strategy: `replaceGroup`, `rolling` or `instanceRefresh`. */
  public get strategyName(): string {
    return this._kind;
  }

  /** @internal */
  public get _isReplaceGroup(): boolean { return this._kind === REPLACE_GROUP; }
  /** @internal */
  public get _isRolling(): boolean { return this._kind === ROLLING; }
  /** @internal */
  public get _isInstanceRefresh(): boolean { return this._kind === INSTANCE_REFRESH; }
}
