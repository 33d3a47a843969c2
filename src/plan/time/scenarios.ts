/**
 * The scenarios of issue 28 for the deploy-time model: five deploys (a one-line change to a Fargate
 * service, a change to a fleet's bake, a no-op, a revert, a promotion), each as plain aws-cdk-lib,
 * @cdklabs/deploy-time-build, this library before issue 28 and this library now would run it, for two
 * reference apps whose step times are assumed (settings of a user's app, the same for every variant).
 *
 * The benchmark prints them (bench/src/deploy-time.ts); the tests hold the library to them
 * (test/plan/time.test.ts). The plan command does not use them: it models the stacks it reads.
 *
 * Internal: never exported from the package index, and not shipped (the plan command does not reach it).
 */
import { AWS_DEFAULTS, Span } from './constants';
import * as model from './model';
import type { AppSteps, DeployPaths, Phase, PhasePath, TargetGroupTiming } from './model';
import { TARGET_GROUP_DEFAULTS } from '../../deployments/ecs/target-group-defaults';

// ---------------------------------------------------------------------------------------------
// The apps: settings of the user's app (how long its Dockerfile's steps, start and stop take),
// assumed for the model's two reference apps. They are the same for every variant.

/** examples/container-app: static files on nginx (alpine, about 20 MB), one stage. */
export const EXAMPLE_APP: AppSteps = {
  name: 'the example app (examples/container-app: nginx, one stage)',
  basePull: { low: 2, high: 8 },
  dependencies: { low: 0, high: 0 },
  dependencyLayers: { low: 0, high: 0 },
  change: { low: 1, high: 3 },
  finalStage: { low: 0, high: 0 },
  pushChanged: { low: 1, high: 5 },
  pushAll: { low: 3, high: 10 },
  pushChangedRemote: { low: 2, high: 15 },
  pushAllRemote: { low: 10, high: 60 },
  start: { low: 1, high: 3 },
  // nginx stops on its STOPSIGNAL at once when it has no requests in flight.
  stop: { low: 0, high: 2 },
};

/** A Node.js service: a builder stage (`npm ci`, `npm run build`) and a slim runtime stage; the common shape. */
export const NODE_SERVICE: AppSteps = {
  name: 'a multi-stage Node.js service (npm ci and a compile in a builder stage, a slim runtime stage)',
  basePull: { low: 10, high: 25 },
  dependencies: { low: 60, high: 180 },
  dependencyLayers: { low: 5, high: 20 },
  change: { low: 15, high: 60 },
  finalStage: { low: 3, high: 10 },
  pushChanged: { low: 2, high: 10 },
  pushAll: { low: 15, high: 45 },
  pushChangedRemote: { low: 5, high: 30 },
  pushAllRemote: { low: 60, high: 300 },
  start: { low: 2, high: 10 },
  // It closes its server on SIGTERM (ECS's guidance); one that ignores SIGTERM waits the whole stop timeout.
  stop: { low: 0, high: 2 },
};

/** The example's bake (examples/promotion.ts): dnf install nginx, a reboot, two test commands; one region. */
export const EXAMPLE_BAKE = { steps: { low: 60, high: 180 } as Span, testSteps: { low: 1, high: 10 } as Span, appStart: { low: 1, high: 5 } as Span };

// ---------------------------------------------------------------------------------------------
// The variants

export type VariantName = 'plain' | 'deploy-time-build' | 'before' | 'after';
export const VARIANTS: Array<{ name: VariantName; title: string }> = [
  { name: 'plain', title: 'plain aws-cdk-lib (DockerImageAsset by the CLI, FargateService)' },
  { name: 'deploy-time-build', title: '@cdklabs/deploy-time-build 0.0.6 (FargateService)' },
  { name: 'before', title: 'this library before (main at 3ed92a8)' },
  { name: 'after', title: 'this library now' },
];

/** The service's target group as each variant leaves it. */
function serviceTargetGroup(variant: VariantName): TargetGroupTiming {
  if (variant !== 'after') return model.ALB_DEFAULT_TARGET_GROUP;
  return {
    intervalSeconds: TARGET_GROUP_DEFAULTS.healthCheckIntervalSeconds,
    deregistrationDelaySeconds: TARGET_GROUP_DEFAULTS.deregistrationDelaySeconds,
    source: 'library default (src/deployments/ecs/target-group-defaults.ts)',
  };
}

function rollout(variant: VariantName, app: AppSteps): PhasePath {
  return model.fargateRollout({
    app,
    targetGroup: serviceTargetGroup(variant),
    stopTimeoutSeconds: AWS_DEFAULTS.stopTimeoutSeconds,
    strategy: { kind: 'rolling' },
  });
}

function then(first: Phase[], second: PhasePath): PhasePath {
  return { phases: [...first, ...second.phases], servingAfter: second.servingAfter === undefined ? undefined : first.length + second.servingAfter };
}

// ---------------------------------------------------------------------------------------------
// The scenarios: what each variant runs

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** The paths of the deploy per variant; undefined when the variant cannot do it. */
  readonly run: (variant: VariantName, app: AppSteps) => DeployPaths | undefined;
}

export const SCENARIOS: Scenario[] = [
  {
    id: 'one-line',
    title: 'a one-line change to a Fargate service behind a load balancer, 2 tasks',
    run: (v, app) => {
      // Plain: the CLI builds the image on the deploying machine (a warm local Docker) and pushes it before the change set.
      if (v === 'plain') return { changes: true, cliAssets: model.cliImageAsset({ app, warmLocalCache: true }), paths: [rollout(v, app)] };
      const build = v === 'deploy-time-build' ? model.deployTimeBuildImage({ platform: 'linux/amd64', app })
        : model.libraryImageBuild({ platform: 'linux/amd64', cache: v === 'after' ? 'all-stages' : 'final-stage', app });
      return { changes: true, paths: [then(build, rollout(v, app))] };
    },
  },
  {
    id: 'bake',
    title: 'a change to a fleet\'s bake (2 instances behind a load balancer)',
    run: (v) => {
      if (v === 'deploy-time-build') return undefined;
      // The fleet's target group is the user's in every variant (the library creates none for a group): the ALB's defaults.
      const tg = model.ALB_DEFAULT_TARGET_GROUP;
      const bake = model.amiBake({ steps: EXAMPLE_BAKE.steps, tests: true, testSteps: EXAMPLE_BAKE.testSteps, copyRegions: 0, by: v === 'plain' ? 'cloudformation' : 'library' });
      // Plain: an AutoScalingGroup with UpdatePolicy.rollingUpdate() and its defaults (one instance at a time, no signals).
      const group = v === 'plain'
        ? model.groupRollout({ strategy: { kind: 'rolling', batches: 2 }, appStart: EXAMPLE_BAKE.appStart, targetGroup: tg })
        : model.groupRollout({ strategy: { kind: 'replace-group' }, appStart: EXAMPLE_BAKE.appStart, targetGroup: tg });
      return { changes: true, paths: [then(bake, group)] };
    },
  },
  {
    id: 'no-op',
    title: 'a no-op deploy (nothing changed)',
    run: () => ({ changes: false, paths: [] }),
  },
  {
    id: 'revert',
    title: 'a revert of the one-line change',
    run: (v, app) => {
      if (v === 'plain') return { changes: true, cliAssets: model.imageReused('cli'), paths: [rollout(v, app)] };
      const image = v === 'deploy-time-build'
        // deploy-time-build tags each build with a new random tag and reuses nothing: the revert builds again, cold.
        ? model.deployTimeBuildImage({ platform: 'linux/amd64', app })
        : model.imageReused('library');
      return { changes: true, paths: [then(image, rollout(v, app))] };
    },
  },
  {
    id: 'promotion',
    title: 'promotion of the tested artifact to production (another account)',
    run: (v, app) => {
      // Plain: the asset is published to production's bootstrap repository: built from the warm local cache, every layer pushed.
      if (v === 'plain') return { changes: true, cliAssets: model.cliImageAsset({ app, warmLocalCache: true, toEmptyRegistry: true }), paths: [rollout(v, app)] };
      // deploy-time-build builds in each stack that uses it: production builds its own, cold.
      const image = v === 'deploy-time-build' ? model.deployTimeBuildImage({ platform: 'linux/amd64', app, firstPush: true }) : model.artifactLookup();
      return { changes: true, paths: [then(image, rollout(v, app))] };
    },
  },
];
