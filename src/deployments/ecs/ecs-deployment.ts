import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DeploymentServiceProps, EcsDeploymentPlan, EcsDeploymentTarget, serviceError } from './deployment-binding';
import { acknowledgeInlinePolicy } from '../../internal/baseline';
import { checkConstraints } from '../../internal/constraints';
import { known, optionError, warn } from '../../internal/errors';

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
   * deployment (and its bake time). With rolling and blue/green deployments the circuit breaker also
   * rolls back a deployment whose tasks do not become healthy; canary and linear deployments have no
   * circuit breaker, so their alarms (and lifecycle hook) are what rolls them back.
   *
   * @default - no alarms; rolling and blue/green deployments roll back on the circuit breaker alone
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
const MAX_BAKE_MINUTES = 1440;

/**
 * How an ImmutableFargateService replaces its tasks when the artifact (and so the task definition)
 * changes. Every strategy keeps the old tasks serving until the new ones are healthy. Rolling and
 * blue/green deployments roll back on their own with the deployment circuit breaker; canary and linear
 * deployments, which ECS runs without it, roll back on their alarms and lifecycle hook.
 *
 * Each strategy checks its own options when it is made, and renders the service's deployment
 * configuration (and, for the blue/green family, the alternate target, its role and the lifecycle
 * hook) once it is bound to a service.
 */
export abstract class EcsDeployment {
  /**
   * A rolling replacement: new tasks start beside the old ones (minimum healthy 100 %, maximum 200 % by
   * default), old tasks stop once the new ones are healthy, and a deployment whose tasks fail rolls back.
   *
   * @param options percentages, grace period and alarms
   */
  public static rolling(options: RollingDeploymentOptions = {}): EcsDeployment {
    return new RollingDeployment(options);
  }

  /**
   * ECS's native blue/green deployment: a full set of new tasks registers with the alternate target
   * group, optionally receives test traffic, then takes all production traffic at once; the old tasks
   * stay for the bake time so that a rollback is instant.
   *
   * @param options the alternate target group, listener rules, bake time and hook
   */
  public static blueGreen(options: BlueGreenDeploymentOptions): EcsDeployment {
    return new TrafficShiftDeployment('EcsDeployment.blueGreen()', ecs.DeploymentStrategy.BLUE_GREEN, options, {});
  }

  /**
   * ECS's native canary deployment: like `blueGreen()`, but `stepPercent` of production traffic goes to
   * the new tasks first, and the rest after `stepBakeTime`.
   *
   * @param options as for blueGreen(), plus the canary step
   */
  public static canary(options: CanaryDeploymentOptions): EcsDeployment {
    return new TrafficShiftDeployment('EcsDeployment.canary()', ecs.DeploymentStrategy.CANARY, options, {
      canaryConfiguration: { stepPercent: options?.stepPercent ?? 5, stepBakeTime: options?.stepBakeTime ?? Duration.minutes(10) },
    });
  }

  /**
   * ECS's native linear deployment: like `blueGreen()`, but production traffic shifts in steps of
   * `stepPercent`, `stepBakeTime` apart.
   *
   * @param options as for blueGreen(), plus the step
   */
  public static linear(options: LinearDeploymentOptions): EcsDeployment {
    return new TrafficShiftDeployment('EcsDeployment.linear()', ecs.DeploymentStrategy.LINEAR, options, {
      linearConfiguration: { stepPercent: options?.stepPercent ?? 10, stepBakeTime: options?.stepBakeTime ?? Duration.minutes(6) },
    });
  }

  /** The ECS deployment strategy (`ROLLING`, `BLUE_GREEN`, `CANARY` or `LINEAR`). */
  public readonly strategy: ecs.DeploymentStrategy;

  /**
   * @param strategy the ECS deployment strategy
   */
  protected constructor(strategy: ecs.DeploymentStrategy) {
    this.strategy = strategy;
  }

  /**
   * Checks what needs the service, and renders what the deployment owns of it.
   *
   * @internal
   */
  public abstract _bind(target: EcsDeploymentTarget): EcsDeploymentPlan;
}

/** What every strategy sends: its alarms (rolling back on ALARM) and its grace period behind a load balancer. */
function commonServiceProps(target: EcsDeploymentTarget, options: EcsDeploymentCommonOptions): DeploymentServiceProps {
  const alarms = options.alarms ?? [];
  const loadBalanced = target.targetGroup !== undefined || target.hasListener;
  return {
    deploymentAlarms: alarms.length > 0
      ? { alarmNames: alarms.map((a) => a.alarmName), behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM }
      : undefined,
    healthCheckGracePeriod: loadBalanced ? options.healthCheckGracePeriod ?? DEFAULT_GRACE : undefined,
  };
}

class RollingDeployment extends EcsDeployment {
  private readonly minHealthyPercent: number;
  private readonly maxHealthyPercent: number;

  constructor(private readonly options: RollingDeploymentOptions) {
    super(ecs.DeploymentStrategy.ROLLING);
    const factory = 'EcsDeployment.rolling()';
    checkConstraints(factory, [['EcsDeployment.rolling.healthCheckGracePeriod', 'healthCheckGracePeriod', options.healthCheckGracePeriod]]);
    const min = options.minHealthyPercent ?? 100;
    const max = options.maxHealthyPercent ?? 200;
    checkPercent(factory, 'minHealthyPercent', min, 0, 100);
    checkPercent(factory, 'maxHealthyPercent', max, 100, Number.MAX_SAFE_INTEGER);
    if (known(min, max) && min >= max) {
      throw optionError(factory, {
        prop: 'minHealthyPercent',
        value: min,
        problem: `should be lower than maxHealthyPercent (${max}), or ECS can neither start a new task nor stop an old one`,
        fix: 'Lower minHealthyPercent or raise maxHealthyPercent (the defaults are 100 and 200).',
      });
    }
    this.minHealthyPercent = min;
    this.maxHealthyPercent = max;
  }

  public _bind(target: EcsDeploymentTarget): EcsDeploymentPlan {
    if (known(this.minHealthyPercent) && this.minHealthyPercent < 100) {
      warn(target.scope, 'min-healthy-below-100',
        `minHealthyPercent (${this.minHealthyPercent}) lets ECS stop old tasks before their replacements are healthy, so capacity drops during each deployment. Keep 100 unless the cluster cannot hold the extra tasks.`);
    }
    return {
      serviceProps: {
        ...commonServiceProps(target, this.options),
        deploymentStrategy: this.strategy,
        minHealthyPercent: this.minHealthyPercent,
        maxHealthyPercent: this.maxHealthyPercent,
        circuitBreaker: { enable: true, rollback: true },
      },
    };
  }
}

/** The steps of a canary or linear deployment. */
interface TrafficShiftSteps {
  readonly canaryConfiguration?: ecs.TrafficShiftConfig;
  readonly linearConfiguration?: ecs.TrafficShiftConfig;
}

/** ECS's native blue/green deployment and its canary and linear variants. */
class TrafficShiftDeployment extends EcsDeployment {
  private readonly bakeTime: Duration;

  /**
   * @param factory the factory call, as errors name it: `EcsDeployment.canary()`
   */
  constructor(
    private readonly factory: string,
    strategy: ecs.DeploymentStrategy,
    private readonly options: BlueGreenDeploymentOptions,
    private readonly steps: TrafficShiftSteps,
  ) {
    super(strategy);
    this.checkOptions();
    this.bakeTime = options.bakeTime ?? DEFAULT_BAKE;
  }

  public _bind(target: EcsDeploymentTarget): EcsDeploymentPlan {
    const production = target.targetGroup;
    if (!production) {
      throw serviceError(target, {
        prop: 'targetGroup',
        problem: `is missing: ${this.factory} needs targetGroup, the production target group that productionListenerRule forwards to`
          + (target.hasListener ? ' (listener cannot be used: the rule must forward to both target groups)' : ''),
        fix: 'Pass targetGroup and containerPort.',
      });
    }
    if (this.options.alternateTargetGroup === production) {
      throw serviceError(target, {
        prop: `${this.factory} alternateTargetGroup`,
        problem: 'is the service\'s targetGroup',
        fix: 'Pass a second target group for the new tasks.',
      });
    }
    const stepped = this.strategy !== ecs.DeploymentStrategy.BLUE_GREEN;
    if (stepped) this.warnIfUnwatched(target);
    this.warnAboutRuleWeights(target);
    return {
      serviceProps: {
        ...commonServiceProps(target, this.options),
        deploymentStrategy: this.strategy,
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        // ECS documents the circuit breaker for rolling and blue/green deployments only
        // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-failure-detection.html):
        // a canary or linear deployment is protected by its alarms, its lifecycle hook and its bake times.
        circuitBreaker: stepped ? undefined : { enable: true, rollback: true },
        bakeTime: this.bakeTime,
        lifecycleHooks: this.lifecycleHooks(target),
        ...this.steps,
      },
      alternateTarget: this.alternateTarget(target, production),
      acknowledgedWarnings: stepped ? [{
        id: '@aws-cdk/aws-ecs:shouldUseCircuitBreaker',
        reason: `${this.factory}: ECS documents the deployment circuit breaker for rolling and blue/green deployments only; alarms and the lifecycle hook roll a canary or linear deployment back.`,
      }] : undefined,
    };
  }

  /**
   * ECS rewrites the production (and test) listener rule's forward weights at every deployment; the
   * template keeps the weights it was written with. A stack update that changes a rule puts the
   * template's weights back, which can send production traffic to the target group whose tasks ECS
   * has already stopped (https://github.com/aws/aws-cdk/issues/36649). CloudFormation offers no way to
   * leave a property to another owner, so the library says it, on every such service.
   */
  private warnAboutRuleWeights(target: EcsDeploymentTarget): void {
    const o = this.options;
    const rules = [o.productionListenerRule, ...(o.testListenerRule ? [o.testListenerRule] : [])].map((r) => r.node.path);
    warn(target.scope, 'listener-rule-weights-owned-by-ecs',
      `${this.factory}: after the first deployment ECS owns the forward weights of ${rules.join(' and ')}, and rewrites them at every deployment. `
      + 'A stack update that changes such a rule (its action, conditions or priority) restores the weights in the template, which can send production traffic '
      + 'to a target group with no tasks (aws-cdk#36649). Leave these rules unchanged once deployed; to change one, first set its template weights to the live '
      + 'ones (aws elbv2 describe-rules), or route through a new rule. Acknowledge this warning once the team knows.');
  }

  /**
   * A canary or linear deployment has no circuit breaker: only CloudWatch alarms and a lifecycle hook
   * can fail it. Without either, a new revision whose tasks pass the target group's health check takes
   * all traffic whatever its errors.
   */
  private warnIfUnwatched(target: EcsDeploymentTarget): void {
    if ((this.options.alarms ?? []).length === 0 && !this.options.lifecycleHook) {
      warn(target.scope, 'traffic-shift-without-rollback-trigger',
        `${this.factory} has neither alarms nor a lifecycleHook: ECS sends no circuit breaker with a canary or linear deployment, so nothing rolls it back once the new tasks pass the target group's health check. `
        + 'Pass alarms (for example the target group\'s 5xx count) or a lifecycleHook that tests the new revision.');
    }
  }

  private checkOptions(): void {
    const options = this.options;
    const factory = this.factory;
    const key = factory.replace('()', '');
    const steps = options as CanaryDeploymentOptions;
    checkConstraints(factory, [[`${key}.healthCheckGracePeriod`, 'healthCheckGracePeriod', options?.healthCheckGracePeriod], [`${key}.stepBakeTime`, 'stepBakeTime', steps?.stepBakeTime], [`${key}.bakeTime`, 'bakeTime', options?.bakeTime]]);
    if (!options?.alternateTargetGroup) {
      throw optionError(factory, {
        prop: 'alternateTargetGroup',
        problem: 'is missing',
        fix: 'Pass the second (green) target group, which the productionListenerRule forwards to with weight 0.',
      });
    }
    if (!options.productionListenerRule) {
      throw optionError(factory, {
        prop: 'productionListenerRule',
        problem: 'is missing',
        fix: 'Pass the listener rule that forwards production traffic to both target groups; ECS shifts its weights.',
      });
    }
    if (options.testListenerRule === options.productionListenerRule) {
      throw optionError(factory, {
        prop: 'testListenerRule',
        problem: 'is the productionListenerRule',
        fix: 'Pass a separate rule (usually on a test listener), or leave testListenerRule out.',
      });
    }
    const bakeTime = options.bakeTime;
    if (bakeTime !== undefined && known(bakeTime)) {
      const minutes = bakeTime.toSeconds() / 60;
      if (!Number.isInteger(minutes) || minutes < 0 || minutes > MAX_BAKE_MINUTES) {
        throw optionError(factory, {
          prop: 'bakeTime',
          value: bakeTime,
          problem: `should be whole minutes from 0 to ${MAX_BAKE_MINUTES} (24 hours), as ECS counts it in minutes`,
          fix: 'Pass Duration.minutes(n).',
        });
      }
    }
    const stages = options.lifecycleHookStages;
    if (stages && !options.lifecycleHook) {
      throw optionError(factory, {
        prop: 'lifecycleHookStages',
        value: stages.join(', '),
        problem: 'is set without lifecycleHook',
        fix: 'Pass the Lambda function to run at these stages, or leave lifecycleHookStages out.',
      });
    }
    if (stages && stages.length === 0) {
      throw optionError(factory, { prop: 'lifecycleHookStages', problem: 'is empty', fix: 'List at least one stage, or leave it out for the default.' });
    }
  }

  /** The alternate target group, the listener rules ECS shifts, and the role it shifts them with. */
  private alternateTarget(target: EcsDeploymentTarget, production: elbv2.IApplicationTargetGroup): ecs.IAlternateTarget {
    const o = this.options;
    const rules = [o.productionListenerRule, ...(o.testListenerRule ? [o.testListenerRule] : [])];
    return new ecs.AlternateTarget('AlternateTarget', {
      alternateTargetGroup: o.alternateTargetGroup,
      productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(o.productionListenerRule),
      testListener: o.testListenerRule ? ecs.ListenerRuleConfiguration.applicationListenerRule(o.testListenerRule) : undefined,
      role: o.infrastructureRole ?? trafficShiftRole(target.scope, production, o.alternateTargetGroup, rules),
    });
  }

  private lifecycleHooks(target: EcsDeploymentTarget): ecs.IDeploymentLifecycleHookTarget[] | undefined {
    const o = this.options;
    if (!o.lifecycleHook) return undefined;
    const stages = o.lifecycleHookStages ?? [
      o.testListenerRule ? ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT : ecs.DeploymentLifecycleStage.POST_SCALE_UP,
    ];
    // ECS invokes the function's unqualified ARN: allow exactly that, not its versions and aliases too.
    const role = new iam.Role(target.scope, 'LifecycleHookRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: 'Lets ECS invoke this service\'s deployment lifecycle hook',
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [o.lifecycleHook.functionArn],
    }));
    return [new ecs.DeploymentLifecycleLambdaTarget(o.lifecycleHook, 'LifecycleHook', { lifecycleStages: stages, role })];
  }
}

/**
 * The role ECS assumes to move blue/green traffic: it describes load balancer resources and changes
 * only these target groups and listener rules.
 */
function trafficShiftRole(
  scope: Construct,
  production: elbv2.IApplicationTargetGroup,
  alternate: elbv2.IApplicationTargetGroup,
  rules: elbv2.ApplicationListenerRule[],
): iam.IRole {
  const role = new iam.Role(scope, 'DeploymentRole', {
    assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
    description: 'Lets ECS shift blue/green traffic between this service\'s target groups',
  });
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: [
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:DescribeTargetHealth',
    ],
    resources: ['*'],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
    resources: [production.targetGroupArn, alternate.targetGroupArn],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['elasticloadbalancing:ModifyRule'],
    resources: rules.map((r) => r.listenerRuleArn),
  }));
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Only the Elastic Load Balancing Describe* actions, which support no resource-level permissions, are on *; every change is limited to the two target groups and the listener rules of this service.',
  });
  acknowledgeInlinePolicy(role.node.tryFindChild('DefaultPolicy'), 'The blue/green role\'s policy: register targets in this service\'s two target groups and modify its listener rules.');
  return role;
}

function checkPercent(factory: string, prop: string, value: number, lowest: number, highest: number) {
  if (!known(value)) return;
  if (!Number.isInteger(value) || value < lowest || value > highest) {
    const range = highest === Number.MAX_SAFE_INTEGER ? `${lowest} or more` : `from ${lowest} to ${highest}`;
    throw optionError(factory, { prop, value, problem: `should be a whole number ${range}`, fix: `Pass a whole percentage ${range}.` });
  }
}
