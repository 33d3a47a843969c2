/**
 * What a ReplacementStrategy sees of the group it is bound to, and what it renders for it; with the
 * rules every strategy shares. Not exported from the package.
 */
import { CfnCreationPolicy, Duration } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import { IConstruct } from 'constructs';
import { constructError, known, Problem, SynthError, warn } from '../../internal/errors';

/** The construct type named in the errors a strategy raises for its group. */
export const GROUP_TYPE = 'ImmutableAutoScalingGroup';

/** How long CloudFormation waits for signals unless a strategy's options say otherwise. */
export const DEFAULT_SIGNAL_TIMEOUT = Duration.minutes(15);

/** The group a strategy is bound to. */
export interface ReplacementTarget {
  /** The ImmutableAutoScalingGroup: errors and warnings name it. */
  readonly scope: IConstruct;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** How long each new instance probes its own health before it reports. */
  readonly healthCheckTimeout: Duration;
}

/** What a strategy renders for its group. */
export interface ReplacementPlan {
  /** The group's update policy. */
  readonly updatePolicy?: autoscaling.UpdatePolicy;
  /** The group's creation policy: the signals a new group waits for. */
  readonly creationPolicy?: CfnCreationPolicy;
}

/** What the group's creation waits for. */
export interface CreationSignals {
  /** How many instances signal; 0 means the group is created without waiting. */
  readonly count: number;
  /** How long CloudFormation waits for them. */
  readonly timeout: Duration;
  /** The percentage that must signal SUCCESS. */
  readonly minSuccessPercentage?: number;
}

/** The error a strategy raises about its group. */
export function groupError(target: ReplacementTarget, problem: Problem): SynthError {
  return constructError(target.scope, GROUP_TYPE, problem);
}

/**
 * The creation policy that waits for `signals`, and a warning when the instances' health check lasts
 * as long as the wait: a failing instance would then time the update out instead of reporting FAILURE.
 */
export function renderCreationSignals(target: ReplacementTarget, signals: CreationSignals): CfnCreationPolicy | undefined {
  const probe = target.healthCheckTimeout;
  if (known(probe, signals.timeout) && probe.toSeconds() >= signals.timeout.toSeconds()) {
    warn(target.scope, 'health-check-outlasts-signal-timeout',
      `The health check's timeout (${probe.toHumanString()}) is not shorter than the time CloudFormation waits for signals (${signals.timeout.toHumanString()}): `
      + 'a failing instance times the update out instead of reporting FAILURE. Shorten the health check timeout or lengthen the replacement timeout.');
  }
  if (signals.count === 0) return undefined;
  const minSuccess = signals.minSuccessPercentage;
  return {
    resourceSignal: { count: signals.count, timeout: signals.timeout.toIsoString() },
    autoScalingCreationPolicy: minSuccess === undefined ? undefined : { minSuccessfulInstancesPercent: minSuccess },
  };
}
