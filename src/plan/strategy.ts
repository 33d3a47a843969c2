/**
 * A deployment's replacement strategy in words, from what it recorded in its metadata: the update and
 * creation policies of an Auto Scaling group, the deployment configuration of an ECS service.
 *
 * Internal to the plan command: never exported from the package.
 */
import type { DeploymentMetadata } from './metadata';

type Settings = { readonly [name: string]: any };

/**
 * How the deployment replaces what runs, e.g. "rolling, 100%/200%, circuit breaker rolls back"; for
 * a deployment the deploy adds, how it is created (there is nothing to replace yet).
 */
export function describeStrategy(deployment: DeploymentMetadata, change?: 'added'): string {
  const settings = (deployment.settings ?? {}) as Settings;
  if (change === 'added') return describeCreation(deployment.kind, settings.creationPolicy ?? {});
  if (deployment.kind === 'auto-scaling-group') return describeGroup(deployment.strategy, settings.updatePolicy ?? {}, settings.creationPolicy ?? {});
  if (deployment.kind === 'fargate-service') return describeService(settings.deploymentConfiguration ?? {});
  return deployment.strategy;
}

function describeCreation(kind: string, creation: Settings): string {
  const signals = creation.resourceSignal;
  if (kind !== 'auto-scaling-group' || !signals) return 'created';
  const count = signals.count ?? 1;
  return `new group, created on ${count} signal${count === 1 ? '' : 's'}${signals.timeout ? `, within ${duration(signals.timeout)}` : ''}`;
}

function describeGroup(strategy: string, update: Settings, creation: Settings): string {
  const signals = creation.resourceSignal ?? {};
  const count = signals.count ?? 1;
  const within = signals.timeout ? `, within ${duration(signals.timeout)}` : '';
  if (update.autoScalingReplacingUpdate?.willReplace) {
    return `new group beside the old, cut over on ${count} signal${count === 1 ? '' : 's'}${within}`;
  }
  const rolling = update.autoScalingRollingUpdate;
  if (rolling) {
    const batch = rolling.maxBatchSize ?? 1;
    const parts = [`rolling, ${batch} instance${batch === 1 ? '' : 's'} at a time`, `${rolling.minInstancesInService ?? 0} kept in service`];
    if (rolling.waitOnResourceSignals) parts.push(`each batch waits for its signals${rolling.pauseTime ? ` (${duration(rolling.pauseTime)})` : ''}`);
    parts.push('a failed batch rolls back');
    return parts.join(', ');
  }
  const refresh = update.autoScalingInstanceRefresh;
  if (refresh) {
    const preferences = refresh.preferences ?? {};
    const parts = [`instance refresh, ${preferences.minHealthyPercentage ?? 90}%/${preferences.maxHealthyPercentage ?? 100}% healthy`];
    if (preferences.checkpointPercentages) parts.push(`checkpoints at ${preferences.checkpointPercentages.map((p: number) => `${p}%`).join(', ')}`);
    if (preferences.bakeTime !== undefined) parts.push(`${minutes(preferences.bakeTime)} bake`);
    const alarms = preferences.alarmSpecification?.alarms ?? [];
    if (alarms.length > 0) parts.push(`${alarms.length} alarm${alarms.length === 1 ? '' : 's'} watched`);
    parts.push('rolls back on failure');
    return parts.join(', ');
  }
  return strategy;
}

function describeService(configuration: Settings): string {
  const strategy = configuration.strategy ?? 'ROLLING';
  const alarms = configuration.alarms?.enable ? (configuration.alarms.alarmNames ?? []).length : 0;
  const alarmWords = alarms > 0 ? `, ${alarms} alarm${alarms === 1 ? '' : 's'} roll back` : '';
  const bake = configuration.bakeTimeInMinutes !== undefined ? `, ${configuration.bakeTimeInMinutes} min bake` : '';
  if (strategy === 'BLUE_GREEN') return `blue/green${bake}${alarmWords}`;
  if (strategy === 'CANARY') {
    const canary = configuration.canaryConfiguration ?? {};
    return `canary, ${canary.canaryPercent ?? '?'}% for ${canary.canaryBakeTimeInMinutes ?? '?'} min, then the rest${bake}${alarmWords}`;
  }
  if (strategy === 'LINEAR') {
    const linear = configuration.linearConfiguration ?? {};
    return `linear, ${linear.stepPercent ?? '?'}% every ${linear.stepBakeTimeInMinutes ?? '?'} min${bake}${alarmWords}`;
  }
  const breaker = configuration.deploymentCircuitBreaker ?? {};
  const rollback = breaker.enable ? (breaker.rollback ? ', circuit breaker rolls back' : ', circuit breaker stops') : '';
  return `rolling, ${configuration.minimumHealthyPercent ?? 100}%/${configuration.maximumPercent ?? 200}%${rollback}${alarmWords}`;
}

/** `PT15M` is "15 min"; seconds as a number are minutes and seconds too. */
function duration(value: unknown): string {
  if (typeof value === 'number') return minutes(value);
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(String(value));
  if (!match) return String(value);
  return minutes((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0));
}

function minutes(seconds: number): string {
  if (seconds % 60 !== 0) return `${seconds} s`;
  return `${seconds / 60} min`;
}
