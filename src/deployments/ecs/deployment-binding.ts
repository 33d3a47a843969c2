/**
 * What an EcsDeployment sees of the service it is bound to, and what it renders for it.
 * Not exported from the package.
 */
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import { constructError, Problem, SynthError } from '../../internal/errors';

/** The construct type named in the errors a deployment raises for its service. */
export const SERVICE_TYPE = 'ImmutableFargateService';

/** The service a deployment is bound to. */
export interface EcsDeploymentTarget {
  /** The ImmutableFargateService: what the deployment makes (roles) goes in it; errors and warnings name it. */
  readonly scope: Construct;
  /** The production target group the service registers with, when it is given one. */
  readonly targetGroup?: elbv2.IApplicationTargetGroup;
  /** Whether the service routes from a listener through a target group of its own. */
  readonly hasListener: boolean;
}

/** The service props a deployment owns. */
export type DeploymentServiceProps = Pick<ecs.FargateServiceProps,
'minHealthyPercent' | 'maxHealthyPercent' | 'circuitBreaker' | 'deploymentAlarms' | 'healthCheckGracePeriod'
| 'deploymentStrategy' | 'bakeTime' | 'canaryConfiguration' | 'linearConfiguration' | 'lifecycleHooks'>;

/** What a deployment renders for its service. */
export interface EcsDeploymentPlan {
  /** The props of the ECS service that the deployment decides. */
  readonly serviceProps: DeploymentServiceProps;
  /** The alternate (green) target, registered with the production target group. */
  readonly alternateTarget?: ecs.IAlternateTarget;
  /** Warnings of the ECS service (the L2) that the deployment answers, with the reason. */
  readonly acknowledgedWarnings?: AcknowledgedWarning[];
}

/** A warning id and why it does not apply. */
export interface AcknowledgedWarning {
  readonly id: string;
  readonly reason: string;
}

/** The error a deployment raises about its service. */
export function serviceError(target: EcsDeploymentTarget, problem: Problem): SynthError {
  return constructError(target.scope, SERVICE_TYPE, problem);
}
