/**
 * The plan's estimate of how long each stack's deploy takes: the phases the deploy-time model
 * (`model.ts`) predicts for what the plan found (what is built, baked or reused, what is replaced and
 * by which strategy), with the health checks, drains and stop timeouts the template sets, as a range.
 *
 * What a template cannot say (how long a Dockerfile's steps or a bake's steps run, how fast the app
 * starts) comes from `GENERIC_APP` and the notes say so.
 *
 * Internal to the plan command: never exported from the package.
 */
import type { Template, TemplateResource } from '../assembly';
import type { ArtifactMetadata, DeploymentMetadata, RunsArtifact } from '../metadata';
import { AWS_DEFAULTS, Span } from './constants';
import {
  ALB_DEFAULT_TARGET_GROUP, amiBake, artifactLookup, BuildPlatform, deployEstimate, EcsStrategy, fargateRollout, GENERIC_APP,
  GroupStrategy, groupRollout, imageReused, libraryImageBuild, Phase, PhasePath, TargetGroupTiming, total,
} from './model';

/** How the plan describes an artifact's and a deployment's change (the plan's own row types, by value). */
export interface EstimateInput {
  readonly template: Template;
  readonly artifacts: ArtifactChange[];
  readonly deployments: DeploymentChange[];
  /** Whether anything at all changes in the stack. */
  readonly changes: boolean;
  /** How many other resources are created, replaced or changed: the model does not time them. */
  readonly otherChanges: number;
}

type Resources = { readonly [id: string]: TemplateResource };
/** An artifact of the template and what the plan found happens to it. */
type ArtifactChange = ArtifactMetadata & { readonly logicalId: string; readonly change: string };
/** A deployment of the template, the artifacts it runs, and what the plan found happens to it. */
type DeploymentChange = DeploymentMetadata & { readonly logicalId: string; readonly artifacts: RunsArtifact[]; readonly change: string };

/** One phase of the estimate, as the plan prints it and `--json` carries it. */
export interface EstimatePhase {
  readonly name: string;
  readonly lowSeconds: number;
  readonly highSeconds: number;
  /** The model's constant (`src/plan/time/constants.ts`) or the setting the range comes from. */
  readonly basis: string;
}

/** A stack's estimate. */
export interface StackEstimate {
  /** Always `model`: a prediction from documented defaults and assumptions, not a measurement. */
  readonly kind: 'model';
  readonly lowSeconds: number;
  readonly highSeconds: number;
  /** When the new version takes traffic, from the start of `cdk deploy`; absent when nothing new serves. */
  readonly servingLowSeconds?: number;
  readonly servingHighSeconds?: number;
  /** The phases of the longest path, in order. */
  readonly phases: EstimatePhase[];
  /** What the estimate assumed. */
  readonly notes: string[];
}

const TARGET_GROUP = 'AWS::ElasticLoadBalancingV2::TargetGroup';
const DEREGISTRATION_DELAY = 'deregistration_delay.timeout_seconds';

/** The estimate of one stack's deploy. */
export function estimateStack(input: EstimateInput): StackEstimate {
  const notes = new Set<string>();
  const resources = input.template.Resources ?? {};
  const artifactPath = (a: ArtifactChange) => pathOfArtifact(input.template, a, notes);

  const consumed = new Set<string>();
  const paths: PhasePath[] = [];
  for (const deployment of input.deployments) {
    if (deployment.change !== 'replace' && deployment.change !== 'added') continue;
    // The deployment waits for every artifact it runs: the longest of their paths comes first.
    const before: Phase[][] = deployment.artifacts.map((runs) => {
      const row = input.artifacts.find((a) => runs.path !== undefined && a.path === runs.path);
      if (!row) return artifactLookup();
      consumed.add(row.path);
      return artifactPath(row);
    });
    const first = before.sort((a, b) => total(b).high - total(a).high)[0] ?? [];
    const rollout = rolloutOf(input.template, resources, deployment, notes);
    const servingAfter = rollout.servingAfter === undefined ? undefined : first.length + rollout.servingAfter;
    paths.push({ phases: [...first, ...rollout.phases], servingAfter });
  }
  for (const artifact of input.artifacts.filter((a) => !consumed.has(a.path))) {
    const phases = artifactPath(artifact);
    if (phases.length > 0) paths.push({ phases });
  }
  const estimate = deployEstimate({ paths, changes: input.changes });
  if (!input.changes) notes.add('the template equals the deployed one: the CDK CLI skips the stack.');
  if (input.otherChanges > 0) {
    notes.add(`${input.otherChanges} other resource${input.otherChanges === 1 ? '' : 's'} change${input.otherChanges === 1 ? 's' : ''} beside the artifacts and deployments, untimed: a new VPC, NAT gateway or load balancer adds minutes to a first deploy.`);
  }
  return {
    kind: 'model',
    lowSeconds: estimate.low,
    highSeconds: estimate.high,
    ...(estimate.serving ? { servingLowSeconds: estimate.serving.low, servingHighSeconds: estimate.serving.high } : {}),
    phases: estimate.phases.map((p) => ({ name: p.name, lowSeconds: p.low, highSeconds: p.high, basis: p.basis })),
    notes: [...notes],
  };
}

/** What an artifact adds to the deploy: a build or bake, a reuse, or nothing. */
function pathOfArtifact(template: Template, artifact: ArtifactChange, notes: Set<string>): Phase[] {
  if (artifact.change === 'unchanged' || artifact.change === 'removed') return [];
  if (artifact.change === 'reuse') return imageReused('library');
  const spec = jobSpecOf(template, artifact.logicalId);
  if (artifact.kind === 'ami') {
    notes.add('a bake\'s own steps take 1 to 10 minutes, its test steps up to a minute: the template cannot say how long they run.');
    const copies = Array.isArray(spec.CopyRegions) ? spec.CopyRegions.length : 0;
    return amiBake({ steps: { low: 60, high: 600 }, tests: spec.TestsEnabled === 'true', testSteps: { low: 1, high: 60 }, copyRegions: copies });
  }
  notes.add(`an image's Dockerfile steps are those of ${GENERIC_APP.name}: the template cannot say how long they run.`);
  const platform: BuildPlatform = spec.Platform === 'linux/arm64' ? 'linux/arm64' : 'linux/amd64';
  const first = artifact.change === 'added';
  return libraryImageBuild({ platform, cache: spec.Cache === 'false' || first ? 'none' : 'all-stages', app: GENERIC_APP, firstPush: first });
}

/** The settings the stack's runtime passes to an artifact's job (its `Jobs` entry). */
function jobSpecOf(template: Template, logicalId: string): { [name: string]: unknown } {
  for (const resource of Object.values(template.Resources ?? {})) {
    const jobs = (resource.Properties?.Jobs ?? []) as Array<{ Key?: unknown; Spec?: { [name: string]: unknown } }>;
    if (!Array.isArray(jobs)) continue;
    const job = jobs.find((j) => j?.Key === logicalId);
    if (job?.Spec) return job.Spec;
  }
  return {};
}

/** The rollout of a deployment, from its metadata and the resources of the template it names. */
function rolloutOf(template: Template, resources: Resources, deployment: DeploymentChange, notes: Set<string>): PhasePath {
  const resource = resources[deployment.logicalId];
  const settings = (deployment.settings ?? {}) as { [name: string]: any };
  const create = deployment.change === 'added';
  notes.add(`the app starts in ${span(GENERIC_APP.start)} and exits ${span(GENERIC_APP.stop)} after SIGTERM.`);
  if (deployment.kind === 'fargate-service') {
    const loadBalancers = (resource?.Properties?.LoadBalancers ?? []) as Array<{ TargetGroupArn?: unknown }>;
    const targetGroup = loadBalancers.length > 0 ? targetGroupTiming(template, loadBalancers[0].TargetGroupArn, notes) : undefined;
    return fargateRollout({
      app: GENERIC_APP,
      targetGroup,
      stopTimeoutSeconds: stopTimeoutOf(resources, deployment.revisions[0]?.logicalId),
      strategy: ecsStrategyOf(settings.deploymentConfiguration ?? {}),
      create,
    });
  }
  const arns = (resource?.Properties?.TargetGroupARNs ?? []) as unknown[];
  const targetGroup = arns.length > 0 ? targetGroupTiming(template, arns[0], notes) : undefined;
  const capacity = numberOf(resource?.Properties?.DesiredCapacity) ?? numberOf(resource?.Properties?.MinSize) ?? 1;
  return groupRollout({ strategy: groupStrategyOf(settings.updatePolicy ?? {}, capacity), appStart: GENERIC_APP.start, targetGroup, create });
}

/** The health-check interval and deregistration delay of a target group of the template, or the ALB's defaults. */
function targetGroupTiming(template: Template, arn: unknown, notes: Set<string>): TargetGroupTiming {
  const ref = (arn as { Ref?: unknown } | undefined)?.Ref;
  const resource = typeof ref === 'string' ? template.Resources?.[ref] : undefined;
  if (!resource || resource.Type !== TARGET_GROUP) {
    notes.add('a target group of another stack or account: its health-check interval and deregistration delay are assumed to be the ALB\'s defaults (30 s, 300 s).');
    return { ...ALB_DEFAULT_TARGET_GROUP, source: 'assumed ALB default' };
  }
  const props = resource.Properties ?? {};
  const interval = numberOf(props.HealthCheckIntervalSeconds);
  const attributes = (props.TargetGroupAttributes ?? []) as Array<{ Key?: unknown; Value?: unknown }>;
  const delay = numberOf((Array.isArray(attributes) ? attributes : []).find((a) => a?.Key === DEREGISTRATION_DELAY)?.Value);
  return {
    intervalSeconds: interval ?? AWS_DEFAULTS.healthCheckIntervalSeconds,
    deregistrationDelaySeconds: delay ?? AWS_DEFAULTS.deregistrationDelaySeconds,
    source: interval === undefined && delay === undefined ? 'ALB default' : interval !== undefined && delay !== undefined ? 'the template' : 'the template and ALB defaults',
  };
}

/** The longest stop timeout of the task definition's containers (Fargate's default 30 s). */
function stopTimeoutOf(resources: Resources, taskDefinition: string | undefined): number {
  const containers = (taskDefinition ? resources[taskDefinition]?.Properties?.ContainerDefinitions ?? [] : []) as Array<{ StopTimeout?: unknown }>;
  const timeouts = (Array.isArray(containers) ? containers : []).map((c) => numberOf(c?.StopTimeout) ?? AWS_DEFAULTS.stopTimeoutSeconds);
  return timeouts.length > 0 ? Math.max(...timeouts) : AWS_DEFAULTS.stopTimeoutSeconds;
}

/** An ECS deployment configuration as the metadata records it (aws-cdk-lib's camelCase). */
function ecsStrategyOf(configuration: { [name: string]: any }): EcsStrategy {
  const bakeMinutes = numberOf(configuration.bakeTimeInMinutes) ?? 0;
  switch (configuration.strategy) {
    case 'BLUE_GREEN': return { kind: 'blue-green', bakeMinutes };
    case 'CANARY': return { kind: 'canary', stepBakeMinutes: numberOf(configuration.canaryConfiguration?.canaryBakeTimeInMinutes) ?? 10, bakeMinutes };
    case 'LINEAR': return {
      kind: 'linear',
      stepPercent: numberOf(configuration.linearConfiguration?.stepPercent) ?? 10,
      stepBakeMinutes: numberOf(configuration.linearConfiguration?.stepBakeTimeInMinutes) ?? 6,
      bakeMinutes,
    };
    default: return { kind: 'rolling' };
  }
}

/** An Auto Scaling group's update policy as the metadata records it. */
function groupStrategyOf(update: { [name: string]: any }, capacity: number): GroupStrategy {
  if (update.autoScalingReplacingUpdate?.willReplace) return { kind: 'replace-group' };
  const rolling = update.autoScalingRollingUpdate;
  if (rolling) return { kind: 'rolling', batches: Math.max(1, Math.ceil(capacity / (numberOf(rolling.maxBatchSize) ?? 1))) };
  const preferences = update.autoScalingInstanceRefresh?.preferences ?? {};
  return {
    kind: 'instance-refresh',
    warmupSeconds: numberOf(preferences.instanceWarmup) ?? 0,
    bakeSeconds: numberOf(preferences.bakeTime) ?? 0,
    checkpointDelaySeconds: (preferences.checkpointPercentages ?? []).length * (numberOf(preferences.checkpointDelay) ?? 0),
  };
}

/** A number of the template, or undefined when it is a token or absent. */
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

function span(s: Span): string {
  return `${s.low} to ${s.high} s`;
}
