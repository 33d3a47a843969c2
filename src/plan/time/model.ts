/**
 * The deploy-time model: how long a deploy takes, phase by phase on its critical path, from the
 * constants of `constants.ts` and the settings of the app (its target groups, its strategies, its
 * Dockerfile's steps). Every phase is a range, low to high; a path's range is the sum of its phases'.
 * A model, not a measurement: nothing here reaches AWS.
 *
 * Used by the plan command (`estimate.ts`, for the stacks of an assembly) and by the benchmark
 * (bench/src/deploy-time.ts, for the scenarios of issue 28 against the alternatives).
 *
 * Internal: never exported from the package index.
 */
import { AWS_DEFAULTS, CONSTANTS, ConstantName, Span } from './constants';

/** One phase of a deploy's critical path. */
export interface Phase {
  /** What happens. */
  readonly name: string;
  /** Seconds, at least. */
  readonly low: number;
  /** Seconds, at most. */
  readonly high: number;
  /** Where the range comes from: a constant's name (`constants.ts`), a setting of the app, or both. */
  readonly basis: string;
}

/** A path of phases, one after the other, and where the new version starts serving on it. */
export interface PhasePath {
  readonly phases: Phase[];
  /** How many of `phases` have passed when the new version serves (takes traffic); undefined when the path serves nothing new. */
  readonly servingAfter?: number;
}

/** A phase whose range is a constant's. */
export function constantPhase(name: ConstantName, label?: string): Phase {
  const constant = CONSTANTS[name];
  return { name: label ?? constant.what, low: constant.low, high: constant.high, basis: name };
}

/** A phase whose range comes from a setting (of the app, the stack or the library). */
export function settingPhase(name: string, span: Span, basis: string): Phase {
  return { name, low: span.low, high: span.high, basis };
}

/** A span of exactly `seconds`. */
export function exactly(seconds: number): Span {
  return { low: seconds, high: seconds };
}

/** The sum of the phases' ranges. */
export function total(phases: Phase[]): Span {
  return { low: phases.reduce((s, p) => s + p.low, 0), high: phases.reduce((s, p) => s + p.high, 0) };
}

/** The range of the longest of several paths that run at the same time (each bound is the largest). */
export function longest(spans: Span[]): Span {
  if (spans.length === 0) return exactly(0);
  return { low: Math.max(...spans.map((s) => s.low)), high: Math.max(...spans.map((s) => s.high)) };
}

/** The middle of a range: the model's single figure, when one is asked for. */
export function middle(span: Span): number {
  return (span.low + span.high) / 2;
}

// ---------------------------------------------------------------------------------------------
// The app: what its Dockerfile runs, how it starts and stops. Settings of the user's app: the plan
// cannot read them from a template, so it uses GENERIC_APP and says so.

/** The steps of an app's image build and its start and stop, as ranges in seconds. */
export interface AppSteps {
  readonly name: string;
  /** Pulling the base images of every stage. */
  readonly basePull: Span;
  /** A builder stage's dependency install (`npm ci`, `mvn dependency:go-offline`); zero without a builder stage. */
  readonly dependencies: Span;
  /** Pulling the layers of that install back from a build cache, when the next step needs them. */
  readonly dependencyLayers: Span;
  /** The steps a one-line change runs again (a `COPY` of the sources, a compile). */
  readonly change: Span;
  /** The final stage's own steps after the change (`COPY --from=build`). */
  readonly finalStage: Span;
  /** Pushing the layers a one-line change makes, from within the region. */
  readonly pushChanged: Span;
  /** Pushing every layer, base layers included (the first build into a repository). */
  readonly pushAll: Span;
  /** Pushing the changed layers from a developer's machine or a CI runner outside AWS. */
  readonly pushChangedRemote: Span;
  /** Pushing every layer from there (to a registry that has none of them: another account's). */
  readonly pushAllRemote: Span;
  /** From the container's start until it answers its health check. */
  readonly start: Span;
  /** From SIGTERM until it exits (at most the stop timeout). */
  readonly stop: Span;
}

/** The plan's app: what it assumes of a Dockerfile it cannot time. */
export const GENERIC_APP: AppSteps = {
  name: 'an app of unknown build steps (assumed: a small multi-stage build)',
  basePull: { low: 5, high: 25 },
  dependencies: { low: 20, high: 180 },
  dependencyLayers: { low: 2, high: 20 },
  change: { low: 5, high: 60 },
  finalStage: { low: 1, high: 10 },
  pushChanged: { low: 1, high: 10 },
  pushAll: { low: 5, high: 45 },
  pushChangedRemote: { low: 2, high: 30 },
  pushAllRemote: { low: 20, high: 300 },
  start: { low: 1, high: 15 },
  stop: { low: 0, high: 30 },
};

// ---------------------------------------------------------------------------------------------
// Images

/** How an image build reuses earlier layers. */
export type CacheMode =
  /** Every stage's layers of the repository's last build (this library with its build cache, a warm local Docker). */
  | 'all-stages'
  /** The final stage's layers only (an inline cache: this library before the build cache). */
  | 'final-stage'
  /** Nothing: every step runs (no cache, or the first build). */
  | 'none';

/** The build steps of an image under a cache mode, after a one-line change. */
export function buildSteps(app: AppSteps, cache: CacheMode): Phase[] {
  const base = settingPhase('pull the base images', app.basePull, `app: ${app.name}`);
  const change = settingPhase('run the steps the change touches (copy the sources, compile)', app.change, `app: ${app.name}`);
  const final = settingPhase('run the final stage\'s steps', app.finalStage, `app: ${app.name}`);
  const dependencies = settingPhase('run the builder stage\'s dependency install again', app.dependencies, `app: ${app.name}`);
  if (cache === 'all-stages') {
    return [base, settingPhase('take the dependency layers from the cache', app.dependencyLayers, `app: ${app.name}`), change, final];
  }
  return [base, dependencies, change, final];
}

/** Where a library image build runs. */
export type BuildPlatform = 'linux/amd64' | 'linux/arm64';

/** An image build by this library: the runtime starts a CodeBuild build, waits for its end, signals. */
export interface LibraryBuildOptions {
  readonly platform: BuildPlatform;
  /** `all-stages` with the build cache (this version), `final-stage` with the inline cache (before it), `none` without a cache. */
  readonly cache: CacheMode;
  readonly app: AppSteps;
  /** The first build into the repository: every layer is pushed. */
  readonly firstPush?: boolean;
}

/** The phases of an image build by this library. */
export function libraryImageBuild(o: LibraryBuildOptions): Phase[] {
  const registryCache = o.cache === 'all-stages';
  return [
    constantPhase('runtimeStart'),
    constantPhase('codebuildQueue'),
    constantPhase(o.platform === 'linux/arm64' ? 'codebuildProvisioningArm64' : 'codebuildProvisioningAmd64'),
    constantPhase('codebuildSetup'),
    ...(registryCache ? [constantPhase('buildkitStart')] : []),
    ...buildSteps(o.app, o.cache),
    settingPhase(o.firstPush ? 'push every layer' : 'push the changed layers', o.firstPush ? o.app.pushAll : o.app.pushChanged, `app: ${o.app.name}`),
    ...(registryCache ? [constantPhase('cacheExport')] : []),
    constantPhase('codebuildFinish'),
    constantPhase('runtimeNotice'),
  ];
}

/** The phases of an image build by `@cdklabs/deploy-time-build` (0.0.6): CodeBuild, no cache unless configured, no reuse. */
export function deployTimeBuildImage(o: { platform: BuildPlatform; app: AppSteps; firstPush?: boolean }): Phase[] {
  return [
    constantPhase('runtimeStart', 'CloudFormation invokes the construct\'s custom-resource function, which starts a CodeBuild build'),
    constantPhase('codebuildQueue'),
    constantPhase(o.platform === 'linux/arm64' ? 'codebuildProvisioningArm64' : 'codebuildProvisioningAmd64'),
    constantPhase('codebuildSetup'),
    ...buildSteps(o.app, 'none'),
    constantPhase('loadIntoDaemon'),
    settingPhase(o.firstPush ? 'push every layer' : 'push the changed layers', o.firstPush ? o.app.pushAll : o.app.pushChanged, `app: ${o.app.name}`),
    constantPhase('codebuildFinish'),
    constantPhase('responseFromBuild'),
  ];
}

/** The phases of a `DockerImageAsset` built by the CDK CLI on the deploying machine and pushed from it. */
export function cliImageAsset(o: { app: AppSteps; warmLocalCache: boolean; toEmptyRegistry?: boolean }): Phase[] {
  const steps = o.warmLocalCache
    // A warm local Docker keeps every stage and the base images.
    ? [
      settingPhase('run the steps the change touches (copy the sources, compile), locally', o.app.change, `app: ${o.app.name}`),
      settingPhase('run the final stage\'s steps, locally', o.app.finalStage, `app: ${o.app.name}`),
    ]
    : buildSteps(o.app, 'none').map((p) => ({ ...p, name: `${p.name}, locally` }));
  const push = o.toEmptyRegistry
    ? settingPhase('push every layer from the deploying machine (the registry has none)', o.app.pushAllRemote, `app: ${o.app.name}`)
    : settingPhase('push the changed layers from the deploying machine', o.app.pushChangedRemote, `app: ${o.app.name}`);
  return [...steps, push];
}

/** An image whose fingerprint (or asset hash) exists: nothing is built. */
export function imageReused(by: 'library' | 'cli'): Phase[] {
  return [constantPhase(by === 'library' ? 'runtimeReuse' : 'assetExists')];
}

/** An artifact imported by fingerprint into another stack (promotion). */
export function artifactLookup(): Phase[] {
  return [constantPhase('lookup')];
}

// ---------------------------------------------------------------------------------------------
// AMIs

/** An AMI bake by this library with EC2 Image Builder. */
export interface BakeOptions {
  /** The bake's own steps (the build components), a setting of the app. */
  readonly steps: Span;
  /** Whether the bake has test steps (Image Builder's test stage runs only then). */
  readonly tests: boolean;
  /** The test steps' own time. */
  readonly testSteps?: Span;
  /** Regions besides the stack's that the AMI is copied to. */
  readonly copyRegions: number;
  /** Who drives the bake: this library's runtime (the default), or CloudFormation (an `AWS::ImageBuilder::Image` resource). */
  readonly by?: 'library' | 'cloudformation';
}

/** The phases of an AMI bake. */
export function amiBake(o: BakeOptions): Phase[] {
  const cloudformation = o.by === 'cloudformation';
  return [
    constantPhase('imageBuilderApi', cloudformation ? 'CloudFormation creates the component, recipe and image resources' : undefined),
    constantPhase('buildInstance'),
    settingPhase('run the bake\'s steps on the build instance', o.steps, 'app: the bake\'s steps'),
    constantPhase('createAmi'),
    ...(o.tests
      ? [constantPhase('testInstance'), settingPhase('run the test steps', o.testSteps ?? { low: 1, high: 30 }, 'app: the bake\'s test steps')]
      : []),
    constantPhase('distributeLocal'),
    ...(o.copyRegions > 0 ? [constantPhase('copyRegion', `Image Builder copies the AMI to ${o.copyRegions} other region${o.copyRegions === 1 ? '' : 's'}, at once`)] : []),
    constantPhase(cloudformation ? 'cfnImageStable' : 'runtimeNotice'),
  ];
}

// ---------------------------------------------------------------------------------------------
// Rollouts

/** What a target group does to a rollout, as the template (or the ALB's defaults) set it. */
export interface TargetGroupTiming {
  /** Seconds between health checks: a new target waits up to one interval for its first (and only needed) check. */
  readonly intervalSeconds: number;
  /** How long a deregistered target drains before ECS or Auto Scaling stops it. */
  readonly deregistrationDelaySeconds: number;
  /** Where the settings come from: `library`, `ALB default`, `the template`. */
  readonly source: string;
}

/** The ALB's defaults for a target group that sets nothing. */
export const ALB_DEFAULT_TARGET_GROUP: TargetGroupTiming = {
  intervalSeconds: AWS_DEFAULTS.healthCheckIntervalSeconds,
  deregistrationDelaySeconds: AWS_DEFAULTS.deregistrationDelaySeconds,
  source: 'ALB default',
};

/** How an ECS service replaces its tasks (from its deployment configuration). */
export type EcsStrategy =
  | { readonly kind: 'rolling' }
  | { readonly kind: 'blue-green'; readonly bakeMinutes: number }
  | { readonly kind: 'canary'; readonly stepBakeMinutes: number; readonly bakeMinutes: number }
  | { readonly kind: 'linear'; readonly stepPercent: number; readonly stepBakeMinutes: number; readonly bakeMinutes: number };

/** A Fargate service's rollout of a new task-definition revision. */
export interface FargateRolloutOptions {
  readonly app: AppSteps;
  /** Its production target group; undefined for a service behind no load balancer. */
  readonly targetGroup?: TargetGroupTiming;
  /** The container's stop timeout (Fargate's default 30 s). */
  readonly stopTimeoutSeconds: number;
  readonly strategy: EcsStrategy;
  /** A new service: nothing old to drain or stop. */
  readonly create?: boolean;
}

/** The phases of a Fargate service's rollout, and where the new version starts serving. */
export function fargateRollout(o: FargateRolloutOptions): PhasePath {
  const start: Phase[] = [
    constantPhase('taskDefinition'),
    constantPhase('fargateTaskStart'),
    settingPhase('the app starts and answers its health check', o.app.start, `app: ${o.app.name}`),
  ];
  const tg = o.targetGroup;
  const health: Phase[] = tg
    ? [
      constantPhase('targetRegistration'),
      settingPhase(`the first health check passes (one is enough for a new target; every ${tg.intervalSeconds} s)`, { low: 0, high: tg.intervalSeconds }, `firstHealthCheck; interval ${tg.intervalSeconds} s (${tg.source})`),
    ]
    : [];
  const stopOld: Phase[] = [
    ...(tg ? [
      constantPhase('ecsNotice'),
      settingPhase(`the old tasks drain (deregistration delay ${tg.deregistrationDelaySeconds} s)`, exactly(tg.deregistrationDelaySeconds), `drain; ${tg.source}`),
    ] : []),
    settingPhase('the old tasks stop (SIGTERM, at most the stop timeout)', { low: Math.min(o.app.stop.low, o.stopTimeoutSeconds), high: Math.min(o.app.stop.high, o.stopTimeoutSeconds) },
      `stopTimeout ${o.stopTimeoutSeconds} s; app: ${o.app.name}`),
  ];
  const end = [constantPhase('cfnEcsStable')];
  if (o.create) return { phases: [...start, ...health, ...end], servingAfter: start.length + health.length };
  const s = o.strategy;
  if (s.kind === 'rolling') {
    const serving = start.length + health.length;
    return { phases: [...start, ...health, ...stopOld, ...end], servingAfter: serving };
  }
  // Blue/green and its variants: the new tasks register with the alternate target group; ECS moves the
  // production listener's weights (in steps for canary and linear), keeps the old tasks for the bake time,
  // then drains and stops them.
  const shifts: Phase[] = [];
  if (s.kind === 'canary') {
    shifts.push(constantPhase('trafficShift', 'ECS shifts the canary share of production traffic'),
      settingPhase('the canary bakes', exactly(s.stepBakeMinutes * 60), 'setting: canary step bake time'));
  } else if (s.kind === 'linear') {
    const steps = Math.ceil(100 / s.stepPercent);
    for (let i = 1; i < steps; i++) {
      shifts.push(constantPhase('trafficShift', `ECS shifts step ${i} of ${steps}`), settingPhase(`step ${i} bakes`, exactly(s.stepBakeMinutes * 60), 'setting: linear step bake time'));
    }
  }
  shifts.push(constantPhase('trafficShift', 'ECS shifts all production traffic to the new tasks'));
  const serving = start.length + health.length + shifts.length;
  const bake = settingPhase('the old tasks stay for the bake time (instant rollback)', exactly(s.bakeMinutes * 60), 'setting: bake time');
  return { phases: [...start, ...health, ...shifts, bake, ...stopOld, ...end], servingAfter: serving };
}

/** An Auto Scaling group's replacement of its instances (from its update policy). */
export type GroupStrategy =
  | { readonly kind: 'replace-group' }
  | { readonly kind: 'rolling'; readonly batches: number }
  | { readonly kind: 'instance-refresh'; readonly warmupSeconds: number; readonly bakeSeconds: number; readonly checkpointDelaySeconds: number };

/** A group's rollout of a new launch-template version. */
export interface GroupRolloutOptions {
  readonly strategy: GroupStrategy;
  /** The app on the instance: from boot to its health check answering. */
  readonly appStart: Span;
  /** The group's target group, if it is behind a load balancer. */
  readonly targetGroup?: TargetGroupTiming;
  /** A new group: nothing old to drain or terminate. */
  readonly create?: boolean;
}

/** The phases of a group's rollout, and where the new version starts serving. */
export function groupRollout(o: GroupRolloutOptions): PhasePath {
  const tg = o.targetGroup;
  const launch: Phase[] = [
    constantPhase('instanceLaunch'),
    settingPhase('the app starts and answers the instance\'s own health check', o.appStart, 'app: the instance\'s application'),
    constantPhase('readinessProbe'),
  ];
  const healthy: Phase[] = tg
    ? [settingPhase(`the load balancer's first health check passes (every ${tg.intervalSeconds} s)`, { low: 0, high: tg.intervalSeconds }, `firstHealthCheck; interval ${tg.intervalSeconds} s (${tg.source})`)]
    : [];
  const retire: Phase[] = [
    ...(tg ? [settingPhase(`the old instances drain (deregistration delay ${tg.deregistrationDelaySeconds} s)`, exactly(tg.deregistrationDelaySeconds), `drain; ${tg.source}`)] : []),
    constantPhase('instanceTerminate'),
  ];
  if (o.create) return { phases: [...launch, ...healthy], servingAfter: launch.length + healthy.length };
  const s = o.strategy;
  if (s.kind === 'replace-group') {
    // The new group beside the old; CloudFormation deletes the old group in the cleanup, which the deploy waits for.
    return { phases: [...launch, ...healthy, ...retire], servingAfter: launch.length + healthy.length };
  }
  if (s.kind === 'rolling') {
    const batch = [...retire, ...launch, ...healthy];
    const phases: Phase[] = [];
    for (let i = 1; i <= s.batches; i++) phases.push(...batch.map((p) => ({ ...p, name: `batch ${i} of ${s.batches}: ${p.name}` })));
    return { phases, servingAfter: phases.length };
  }
  const phases: Phase[] = [
    ...launch,
    settingPhase('the refresh waits for the instance warmup', exactly(s.warmupSeconds), 'setting: instanceWarmup (or the group\'s health check grace period)'),
    ...healthy,
  ];
  const serving = phases.length;
  if (s.checkpointDelaySeconds > 0) phases.push(settingPhase('checkpoint pauses', exactly(s.checkpointDelaySeconds), 'setting: checkpointDelay'));
  phases.push(...retire);
  if (s.bakeSeconds > 0) phases.push(settingPhase('the refresh bakes', exactly(s.bakeSeconds), 'setting: bakeTime'));
  return { phases, servingAfter: serving };
}

// ---------------------------------------------------------------------------------------------
// A whole deploy

/** A deploy of one stack: the CLI, then the paths that run at the same time, then the cleanup. */
export interface DeployPaths {
  /** Paths that run at the same time, each a sequence (an artifact, then the deployment that runs it). */
  readonly paths: PhasePath[];
  /** Whether the template changes at all: an unchanged stack is skipped by the CLI. */
  readonly changes: boolean;
  /** What the CDK CLI does before the change set: building and publishing image assets on the deploying machine. */
  readonly cliAssets?: Phase[];
}

/** The estimate of a deploy: its critical path, its range, and when the new version serves. */
export interface DeployEstimate {
  /** The phases of the longest path, with the CLI's before and the cleanup after. */
  readonly phases: Phase[];
  readonly low: number;
  readonly high: number;
  /** When the new version serves, from the start of `cdk deploy`; undefined when nothing new serves. */
  readonly serving?: Span;
}

/** The estimate of a deploy from its paths. */
export function deployEstimate(d: DeployPaths): DeployEstimate {
  if (!d.changes) {
    const phases = [constantPhase('cliNoChange')];
    return { phases, ...total(phases) };
  }
  const before = [...(d.cliAssets ?? []), constantPhase('cliChangeSet')];
  const after = [constantPhase('cfnCleanup')];
  const paths = d.paths.length > 0 ? d.paths : [{ phases: [] }];
  // The critical path: the longest at its upper bound (the range of the whole is each bound's largest path).
  const critical = [...paths].sort((a, b) => total(b.phases).high - total(a.phases).high || total(b.phases).low - total(a.phases).low)[0];
  const range = longest(paths.map((p) => total(p.phases)));
  const beforeSpan = total(before);
  const servingSpans = paths.filter((p) => p.servingAfter !== undefined).map((p) => total(p.phases.slice(0, p.servingAfter)));
  const serving = servingSpans.length > 0 ? longest(servingSpans) : undefined;
  const afterSpan = total(after);
  return {
    phases: [...before, ...critical.phases, ...after],
    low: beforeSpan.low + range.low + afterSpan.low,
    high: beforeSpan.high + range.high + afterSpan.high,
    serving: serving ? { low: beforeSpan.low + serving.low, high: beforeSpan.high + serving.high } : undefined,
  };
}
