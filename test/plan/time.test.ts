import { CONSTANTS } from '../../src/plan/time/constants';
import {
  ALB_DEFAULT_TARGET_GROUP, amiBake, buildSteps, deployEstimate, DeployEstimate, fargateRollout, GENERIC_APP, libraryImageBuild, middle, total,
} from '../../src/plan/time/model';
import { EXAMPLE_APP, NODE_SERVICE, SCENARIOS, VariantName } from '../../src/plan/time/scenarios';

/**
 * The deploy-time model (issue 28, item 1): every constant has a source; the phases follow what AWS
 * documents (one passing check makes a new target healthy, ECS waits for the drain); and the library's
 * scenarios meet the bar.
 */

function scenario(id: string, variant: VariantName, app = NODE_SERVICE): DeployEstimate {
  const s = SCENARIOS.find((x) => x.id === id)!;
  const paths = s.run(variant, app);
  if (!paths) throw new Error(`${variant} cannot run ${id}`);
  return deployEstimate(paths);
}

describe('the constants', () => {
  test('every constant is a range with a kind, what it times and its basis; AWS figures and defaults name where AWS says so', () => {
    for (const [name, c] of Object.entries(CONSTANTS)) {
      expect({ name, ok: c.low >= 0 && c.low <= c.high }).toEqual({ name, ok: true });
      expect(c.what.length).toBeGreaterThan(10);
      expect(c.basis.length).toBeGreaterThan(10);
      if (c.kind === 'aws-figure' || c.kind === 'aws-default') expect({ name, urls: c.urls.length > 0 }).toEqual({ name, urls: true });
      for (const url of c.urls) expect(url).toMatch(/^https:\/\//);
    }
  });

  test('an assumption says it is one and what it rests on', () => {
    const assumptions = Object.values(CONSTANTS).filter((c) => c.kind === 'assumption');
    expect(assumptions.length).toBeGreaterThan(0);
    for (const c of assumptions) expect(c.basis).toMatch(/no AWS figure|not documented|no documented/);
  });
});

describe('the phases', () => {
  test('a new target waits at most one health-check interval for its only needed check, whatever the healthy threshold', () => {
    // WHEN
    const path = fargateRollout({ app: GENERIC_APP, targetGroup: { intervalSeconds: 10, deregistrationDelaySeconds: 30, source: 'test' }, stopTimeoutSeconds: 30, strategy: { kind: 'rolling' } });
    // THEN
    const check = path.phases.find((p) => p.basis.startsWith('firstHealthCheck'))!;
    expect([check.low, check.high]).toEqual([0, 10]);
    const drain = path.phases.find((p) => p.basis.startsWith('drain'))!;
    expect([drain.low, drain.high]).toEqual([30, 30]);
    // The new version serves once its tasks pass their check: before the old ones drain.
    expect(path.phases[path.servingAfter! - 1]).toBe(check);
  });

  test('the ALB\'s defaults: up to 30 s to the first check, 300 s of draining', () => {
    const path = fargateRollout({ app: GENERIC_APP, targetGroup: ALB_DEFAULT_TARGET_GROUP, stopTimeoutSeconds: 30, strategy: { kind: 'rolling' } });
    expect(path.phases.find((p) => p.basis.startsWith('firstHealthCheck'))!.high).toEqual(30);
    expect(path.phases.find((p) => p.basis.startsWith('drain'))!.low).toEqual(300);
  });

  test('a stop never takes longer than the stop timeout, and a new service neither drains nor stops anything', () => {
    const slow = { ...GENERIC_APP, stop: { low: 60, high: 90 } };
    const rolling = fargateRollout({ app: slow, targetGroup: ALB_DEFAULT_TARGET_GROUP, stopTimeoutSeconds: 30, strategy: { kind: 'rolling' } });
    expect(rolling.phases.find((p) => p.basis.startsWith('stopTimeout'))).toMatchObject({ low: 30, high: 30 });
    const created = fargateRollout({ app: slow, targetGroup: ALB_DEFAULT_TARGET_GROUP, stopTimeoutSeconds: 30, strategy: { kind: 'rolling' }, create: true });
    expect(created.phases.map((p) => p.basis)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^(drain|stopTimeout)/)]));
  });

  test('a build with the build cache takes the builder stage\'s dependency layers from the cache; with an inline cache it installs them again', () => {
    expect(buildSteps(NODE_SERVICE, 'all-stages').map((p) => p.name)).not.toContain('run the builder stage\'s dependency install again');
    expect(buildSteps(NODE_SERVICE, 'final-stage').map((p) => p.name)).toContain('run the builder stage\'s dependency install again');
    const cached = libraryImageBuild({ platform: 'linux/amd64', cache: 'all-stages', app: NODE_SERVICE });
    expect(cached.map((p) => p.basis)).toEqual(expect.arrayContaining(['buildkitStart', 'cacheExport', 'codebuildProvisioningAmd64']));
    expect(libraryImageBuild({ platform: 'linux/arm64', cache: 'final-stage', app: NODE_SERVICE }).map((p) => p.basis)).toContain('codebuildProvisioningArm64');
  });

  test('a bake without test steps launches no test instance', () => {
    expect(amiBake({ steps: { low: 60, high: 60 }, tests: false, copyRegions: 0 }).map((p) => p.basis)).not.toContain('testInstance');
    expect(amiBake({ steps: { low: 60, high: 60 }, tests: true, copyRegions: 1 }).map((p) => p.basis)).toEqual(expect.arrayContaining(['testInstance', 'copyRegion']));
  });

  test('paths at the same time: the range of the longest; the CLI before and the cleanup after', () => {
    const a = { phases: [{ name: 'a', low: 10, high: 100, basis: 'x' }] };
    const b = { phases: [{ name: 'b', low: 50, high: 60, basis: 'x' }], servingAfter: 1 };
    const e = deployEstimate({ changes: true, paths: [a, b] });
    expect(e.low).toEqual(CONSTANTS.cliChangeSet.low + 50 + CONSTANTS.cfnCleanup.low);
    expect(e.high).toEqual(CONSTANTS.cliChangeSet.high + 100 + CONSTANTS.cfnCleanup.high);
    expect(e.phases.map((p) => p.name)).toEqual([CONSTANTS.cliChangeSet.what, 'a', CONSTANTS.cfnCleanup.what]);
    expect(e.serving).toEqual({ low: CONSTANTS.cliChangeSet.low + 50, high: CONSTANTS.cliChangeSet.high + 60 });
  });
});

describe('the scenarios (issue 28, done when)', () => {
  test('a one-line change to the example app behind a load balancer: at most 5 minutes at the middle of the range for this library now, about half of before', () => {
    const now = scenario('one-line', 'after', EXAMPLE_APP);
    const before = scenario('one-line', 'before', EXAMPLE_APP);
    expect(middle(now)).toBeLessThanOrEqual(300);
    expect(middle(now)).toBeLessThan(middle(before) * 0.6);
  });

  test('the multi-stage service: the build cache takes the dependency install off the path, the drain 270 s', () => {
    const now = scenario('one-line', 'after');
    const before = scenario('one-line', 'before');
    expect(middle(before) - middle(now)).toBeGreaterThan(270 + middle(NODE_SERVICE.dependencies) - 60);
    // The library now is faster than every alternative at the middle of its range.
    for (const variant of ['plain', 'deploy-time-build'] as const) expect(middle(now)).toBeLessThan(middle(scenario('one-line', variant)));
  });

  test('a no-op deploy builds nothing and waits for nothing: the CLI compares the template and skips the stack', () => {
    const e = scenario('no-op', 'after');
    expect(e.phases.map((p) => p.basis)).toEqual(['cliNoChange']);
    expect(e.serving).toBeUndefined();
  });

  test('a revert builds nothing: the fingerprint is found, and only the rollout to the old image runs', () => {
    const e = scenario('revert', 'after');
    const bases = e.phases.map((p) => p.basis);
    expect(bases).toContain('runtimeReuse');
    expect(bases.filter((b) => /codebuild|buildkit|cacheExport|runtimeNotice/.test(b))).toEqual([]);
    expect(e.phases.filter((p) => p.basis.startsWith('app:') && /build|push|pull|dependency|steps/.test(p.name))).toEqual([]);
    // deploy-time-build reuses nothing: it builds again.
    expect(scenario('revert', 'deploy-time-build').phases.map((p) => p.basis)).toContain('codebuildProvisioningAmd64');
  });

  test('a promotion looks the tested artifact up and builds nothing', () => {
    const bases = scenario('promotion', 'after').phases.map((p) => p.basis);
    expect(bases).toContain('lookup');
    expect(bases.filter((b) => /codebuild/.test(b))).toEqual([]);
  });

  test('every phase of every scenario names a constant or a setting', () => {
    for (const s of SCENARIOS) {
      for (const variant of ['plain', 'deploy-time-build', 'before', 'after'] as const) {
        const paths = s.run(variant, NODE_SERVICE);
        if (!paths) continue;
        for (const p of deployEstimate(paths).phases) {
          const [first] = p.basis.split(';');
          expect({ phase: p.name, ok: first in CONSTANTS || /^(app|setting|stopTimeout)\b/.test(first) }).toEqual({ phase: p.name, ok: true });
        }
      }
    }
    expect(total([]).high).toEqual(0);
  });
});
