import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type { BlueGreenDeploymentOptions } from './ecs-deployment';

/**
 * What an EcsDeployment asks of the service; read by ImmutableFargateService.
 * Not exported from the package.
 */
export interface EcsDeploymentSettings {
  readonly strategy: ecs.DeploymentStrategy;
  readonly minHealthyPercent: number;
  readonly maxHealthyPercent: number;
  readonly healthCheckGracePeriod: Duration;
  readonly alarms: cloudwatch.IAlarm[];
  /** Only for the blue/green family. */
  readonly trafficShift?: BlueGreenDeploymentOptions;
  readonly bakeTime?: Duration;
  readonly canary?: ecs.TrafficShiftConfig;
  readonly linear?: ecs.TrafficShiftConfig;
}
