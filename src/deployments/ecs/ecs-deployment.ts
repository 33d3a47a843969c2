import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { EcsDeploymentSettings } from './deployment-settings';

/**
 * Options every ECS deployment strategy shares.
 */
export interface EcsDeploymentCommonOptions {
  /**
   * How long ECS ignores failing load balancer health checks of a task that has just started.
   * Only used when the service is behind a load balancer.
   *
   * @default Duration.seconds(60)
   */
  readonly healthCheckGracePeriod?: Duration;

  /**
   * CloudWatch alarms that roll the deployment back when any of them goes into ALARM during the
   * deployment (and its bake time). The circuit breaker rolls back a deployment whose tasks do not
   * become healthy whatever this says.
   *
   * @default - no alarms; the circuit breaker alone rolls back
   */
  readonly alarms?: cloudwatch.IAlarm[];
}

/**
 * Options of a rolling replacement.
 */
export interface RollingDeploymentOptions extends EcsDeploymentCommonOptions {
  /**
   * The lower limit of running, healthy tasks during a deployment, as a percentage of the desired
   * count. 100 keeps full capacity: old tasks stop only once new ones are healthy.
   *
   * @default 100
   */
  readonly minHealthyPercent?: number;

  /**
   * The upper limit of tasks (old and new) during a deployment, as a percentage of the desired count.
   * 200 starts a whole new set of tasks beside the old one.
   *
   * @default 200
   */
  readonly maxHealthyPercent?: number;
}

/**
 * Options of ECS's native blue/green deployment (and of its canary and linear variants) behind an
 * Application Load Balancer.
 *
 * The service's `targetGroup` is the production (blue) target group; the production listener rule
 * forwards to both target groups, with weights (for example 100 to `targetGroup`, 0 to
 * `alternateTargetGroup`), and ECS shifts the weights at each deployment.
 */
export interface BlueGreenDeploymentOptions extends EcsDeploymentCommonOptions {
  /**
   * The alternate (green) target group that new tasks register with before traffic shifts to them.
   * It must differ from the service's `targetGroup`, use target type IP and the container's port.
   */
  readonly alternateTargetGroup: elbv2.IApplicationTargetGroup;

  /**
   * The listener rule that routes production traffic, forwarding to both target groups.
   */
  readonly productionListenerRule: elbv2.ApplicationListenerRule;

  /**
   * A listener rule (usually on a separate test listener) that ECS points at the new tasks before
   * production traffic shifts, so they can be tested.
   *
   * @default - no test traffic
   */
  readonly testListenerRule?: elbv2.ApplicationListenerRule;

  /**
   * How long the old (blue) tasks keep running after production traffic has shifted, during which an
   * alarm or a failing hook still rolls back at once. Whole minutes, 0 to 1440.
   *
   * @default Duration.minutes(10)
   */
  readonly bakeTime?: Duration;

  /**
   * A Lambda function ECS invokes at `lifecycleHookStages`; it answers `SUCCEEDED`, `FAILED` (roll back)
   * or `IN_PROGRESS` (ask again later), for example to run tests against the test listener.
   *
   * @default - no lifecycle hook
   */
  readonly lifecycleHook?: lambda.IFunction;

  /**
   * The deployment stages at which `lifecycleHook` runs.
   *
   * @default - `POST_TEST_TRAFFIC_SHIFT` when there is a test listener rule, else `POST_SCALE_UP`
   */
  readonly lifecycleHookStages?: ecs.DeploymentLifecycleStage[];

  /**
   * The role ECS assumes to register tasks with the target groups and shift the listener rules.
   *
   * @default - a new role allowed to describe load balancer resources, and to change only these two
   * target groups and these listener rules
   */
  readonly infrastructureRole?: iam.IRole;
}

/**
 * Options of a canary deployment: a share of production traffic first, the rest after a bake.
 */
export interface CanaryDeploymentOptions extends BlueGreenDeploymentOptions {
  /**
   * The percentage of production traffic shifted first, 0.1 to 100 in steps of 0.1.
   *
   * @default 5
   */
  readonly stepPercent?: number;

  /**
   * How long the canary share runs before the rest of the traffic shifts, 0 to 1440 minutes.
   *
   * @default Duration.minutes(10)
   */
  readonly stepBakeTime?: Duration;
}

/**
 * Options of a linear deployment: production traffic shifts in equal steps.
 */
export interface LinearDeploymentOptions extends BlueGreenDeploymentOptions {
  /**
   * The percentage of production traffic shifted at each step, 3 to 100 in steps of 0.1.
   *
   * @default 10
   */
  readonly stepPercent?: number;

  /**
   * How long to wait between steps, 0 to 1440 minutes.
   *
   * @default Duration.minutes(6)
   */
  readonly stepBakeTime?: Duration;
}

const DEFAULT_GRACE = Duration.seconds(60);
const DEFAULT_BAKE = Duration.minutes(10);

/**
 * How an ImmutableFargateService replaces its tasks when the artifact (and so the task definition)
 * changes. Every strategy keeps the old tasks serving until the new ones are healthy, and rolls back
 * on its own: the deployment circuit breaker with rollback is always on.
 */
export class EcsDeployment {
  /**
   * A rolling replacement: new tasks start beside the old ones (minimum healthy 100 %, maximum 200 % by
   * default), old tasks stop once the new ones are healthy, and a deployment whose tasks fail rolls back.
   *
   * @param options percentages, grace period and alarms
   */
  public static rolling(options: RollingDeploymentOptions = {}): EcsDeployment {
    const min = options.minHealthyPercent ?? 100;
    const max = options.maxHealthyPercent ?? 200;
    checkPercent('minHealthyPercent', min, 0, 100);
    checkPercent('maxHealthyPercent', max, 100, Number.MAX_SAFE_INTEGER);
    if (!Token.isUnresolved(min) && !Token.isUnresolved(max) && min >= max) {
      throw new Error(
        `EcsDeployment.rolling(): minHealthyPercent (${min}) should be lower than maxHealthyPercent (${max}), or ECS can neither start a new task nor stop an old one. Lower minHealthyPercent or raise maxHealthyPercent (the defaults are 100 and 200).`,
      );
    }
    return new EcsDeployment(ecs.DeploymentStrategy.ROLLING, {
      strategy: ecs.DeploymentStrategy.ROLLING,
      minHealthyPercent: min,
      maxHealthyPercent: max,
      healthCheckGracePeriod: options.healthCheckGracePeriod ?? DEFAULT_GRACE,
      alarms: options.alarms ?? [],
    });
  }

  /**
   * ECS's native blue/green deployment: a full set of new tasks registers with the alternate target
   * group, optionally receives test traffic, then takes all production traffic at once; the old tasks
   * stay for the bake time so that a rollback is instant.
   *
   * @param options the alternate target group, listener rules, bake time and hook
   */
  public static blueGreen(options: BlueGreenDeploymentOptions): EcsDeployment {
    return EcsDeployment.trafficShift('blueGreen', ecs.DeploymentStrategy.BLUE_GREEN, options);
  }

  /**
   * ECS's native canary deployment: like `blueGreen()`, but `stepPercent` of production traffic goes to
   * the new tasks first, and the rest after `stepBakeTime`.
   *
   * @param options as for blueGreen(), plus the canary step
   */
  public static canary(options: CanaryDeploymentOptions): EcsDeployment {
    return EcsDeployment.trafficShift('canary', ecs.DeploymentStrategy.CANARY, options, {
      canary: { stepPercent: options.stepPercent ?? 5, stepBakeTime: options.stepBakeTime ?? Duration.minutes(10) },
    });
  }

  /**
   * ECS's native linear deployment: like `blueGreen()`, but production traffic shifts in steps of
   * `stepPercent`, `stepBakeTime` apart.
   *
   * @param options as for blueGreen(), plus the step
   */
  public static linear(options: LinearDeploymentOptions): EcsDeployment {
    return EcsDeployment.trafficShift('linear', ecs.DeploymentStrategy.LINEAR, options, {
      linear: { stepPercent: options.stepPercent ?? 10, stepBakeTime: options.stepBakeTime ?? Duration.minutes(6) },
    });
  }

  private static trafficShift(
    method: string,
    strategy: ecs.DeploymentStrategy,
    options: BlueGreenDeploymentOptions,
    steps: { canary?: ecs.TrafficShiftConfig; linear?: ecs.TrafficShiftConfig } = {},
  ): EcsDeployment {
    if (!options?.alternateTargetGroup) {
      throw new Error(
        `EcsDeployment.${method}(): alternateTargetGroup is missing. Pass the second (green) target group, which the productionListenerRule forwards to with weight 0.`,
      );
    }
    if (!options.productionListenerRule) {
      throw new Error(
        `EcsDeployment.${method}(): productionListenerRule is missing. Pass the listener rule that forwards production traffic to both target groups; ECS shifts its weights.`,
      );
    }
    if (options.testListenerRule === options.productionListenerRule) {
      throw new Error(
        `EcsDeployment.${method}(): testListenerRule is the productionListenerRule. Pass a separate rule (usually on a test listener), or leave testListenerRule out.`,
      );
    }
    const bakeTime = options.bakeTime ?? DEFAULT_BAKE;
    if (!bakeTime.isUnresolved()) {
      const minutes = bakeTime.toSeconds() / 60;
      if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) {
        throw new Error(
          `EcsDeployment.${method}(): bakeTime (${bakeTime.toHumanString()}) should be whole minutes from 0 to 1440 (24 hours), as ECS counts it in minutes.`,
        );
      }
    }
    if (options.lifecycleHookStages && !options.lifecycleHook) {
      throw new Error(
        `EcsDeployment.${method}(): lifecycleHookStages (${options.lifecycleHookStages.join(', ')}) is set without lifecycleHook. Pass the Lambda function to run at these stages, or leave lifecycleHookStages out.`,
      );
    }
    if (options.lifecycleHookStages && options.lifecycleHookStages.length === 0) {
      throw new Error(`EcsDeployment.${method}(): lifecycleHookStages is empty. List at least one stage, or leave it out for the default.`);
    }
    return new EcsDeployment(strategy, {
      strategy,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: options.healthCheckGracePeriod ?? DEFAULT_GRACE,
      alarms: options.alarms ?? [],
      trafficShift: options,
      bakeTime,
      ...steps,
    });
  }

  /**
   * @param strategy the ECS deployment strategy
   * @param _settings what the strategy asks of the service
   */
  private constructor(
    /** The ECS deployment strategy (`ROLLING`, `BLUE_GREEN`, `CANARY` or `LINEAR`). */
    public readonly strategy: ecs.DeploymentStrategy,
    /** @internal */
    public readonly _settings: EcsDeploymentSettings,
  ) {}
}

function checkPercent(name: string, value: number, lowest: number, highest: number) {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < lowest || value > highest) {
    const range = highest === Number.MAX_SAFE_INTEGER ? `${lowest} or more` : `from ${lowest} to ${highest}`;
    throw new Error(`EcsDeployment.rolling(): ${name} (${value}) should be a whole number ${range}.`);
  }
}
