/**
 * How the target group that `ImmutableFargateService` creates for a `listener` checks new tasks and
 * drains old ones, unless the service's props say otherwise. Plain numbers, no aws-cdk-lib: the
 * deploy-time model of the benchmark (`src/plan/time/`) reads the same ones.
 *
 * - A newly registered target counts healthy after one passing check (ELB, ECS docs): what delays a new
 *   task is the wait for that first check, up to one interval. 10 s instead of the ALB's 30 s.
 * - Two passing checks (the ALB's minimum, instead of its default 5) bring back a target that failed its
 *   first checks, such as a task slower to start than its grace period.
 * - A target is taken out of service after as many failed checks as make the ALB default's 60 s
 *   (2 failures 30 s apart): checking more often does not make a healthy task fail sooner.
 * - Old tasks drain for 30 s instead of the ALB's 300 s: requests up to 30 s long finish. ECS's own
 *   guidance is 5 s for services that answer in under a second, never for long-lived requests
 *   (uploads, streaming): those raise `deregistrationDelay`.
 *
 * Internal: not exported from the package.
 */

/** The defaults, in seconds and counts. */
export const TARGET_GROUP_DEFAULTS = {
  /** Seconds between health checks of a target (ALB default: 30). */
  healthCheckIntervalSeconds: 10,
  /** Consecutive passing checks that bring an unhealthy target back (ALB default: 5, minimum 2). */
  healthyThresholdCount: 2,
  /** How long a target fails its checks before it is taken out of service: the ALB default's 2 × 30 s. */
  unhealthyAfterSeconds: 60,
  /** How long a deregistered target drains (ALB default: 300). */
  deregistrationDelaySeconds: 30,
} as const;

/** The ALB's own limits on these settings. */
export const TARGET_GROUP_LIMITS = {
  minThresholdCount: 2,
  maxThresholdCount: 10,
  maxDeregistrationDelaySeconds: 3600,
} as const;

/**
 * The unhealthy threshold that takes a target out after about `unhealthyAfterSeconds` of failures at
 * this interval, within the ALB's 2 to 10.
 *
 * @param intervalSeconds the seconds between checks
 */
export function unhealthyThresholdFor(intervalSeconds: number): number {
  const checks = Math.ceil(TARGET_GROUP_DEFAULTS.unhealthyAfterSeconds / intervalSeconds);
  return Math.min(TARGET_GROUP_LIMITS.maxThresholdCount, Math.max(TARGET_GROUP_LIMITS.minThresholdCount, checks));
}
