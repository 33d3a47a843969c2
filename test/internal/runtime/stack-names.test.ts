/**
 * Names that must be unique per deployed stack in an account and region (review runtime #1): the
 * runtime's rule names and the bakes' name prefix, for nested stacks whose construct path is the same
 * in two deployed stacks (one app deployed under two stack names, or two apps).
 */
import { App, Duration, Names, NestedStack, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AmiBakeInfrastructure } from '../../../src/artifacts/ami/bake-infrastructure';
import { DeployTimeRuntime } from '../../../src/internal/runtime/runtime';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** `Main/Builds` under a root stack of this name (none: the name CDK derives), optionally in a stage. */
function nested(stackName?: string, stage?: string) {
  const app = new App();
  const scope = stage ? new Stage(app, stage) : app;
  const root = new Stack(scope, 'Main', { env: ENV, ...(stackName ? { stackName } : {}) });
  const builds = new NestedStack(root, 'Builds');
  DeployTimeRuntime.of(builds).addJob(builds, { kind: 'container-build', fingerprint: 'a'.repeat(64), spec: {}, timeout: Duration.hours(1), readBack: {} });
  const rules = Object.values(Template.fromStack(builds).findResources('AWS::Events::Rule')).map((r: any) => r.Properties.Name as string).sort();
  return { builds, rules, prefix: AmiBakeInfrastructure.of(builds).namePrefix };
}

describe('names of a nested stack\'s runtime and bakes (review runtime #1)', () => {
  test('GIVEN one app deployed as two root stacks WHEN their nested stacks share a construct path THEN rule names and bake prefixes differ', () => {
    const a = nested('Main-feature-a');
    const b = nested('Main-feature-b');
    expect(a.rules).toHaveLength(2);
    expect(a.rules.filter((n) => b.rules.includes(n))).toEqual([]);
    expect(a.prefix).not.toEqual(b.prefix);
    // every name stays within EventBridge's 64 characters and under the permission's prefix
    for (const name of a.rules) expect(name.length).toBeLessThanOrEqual(64);
    expect(a.rules[0].replace(/-events$/, '')).toEqual(a.rules[1].replace(/-poll$/, ''));
  });

  test('GIVEN the same root stack name THEN the names are the same on every synthesis (an update keeps its rules and bake names)', () => {
    expect(nested('Main-feature-a').rules).toEqual(nested('Main-feature-a').rules);
    expect(nested('Main-feature-a').prefix).toEqual(nested('Main-feature-a').prefix);
  });

  test('GIVEN a root stack with the name CDK derives from its path THEN the names are those of before (no resource of an existing stack is renamed)', () => {
    for (const stage of [undefined, 'Dev']) {
      const { builds, rules, prefix } = nested(undefined, stage);
      const old = `cdk-immutable-deploys-${Names.uniqueId(builds).slice(-16)}`;
      expect(rules).toEqual([`${old}-events`, `${old}-poll`]);
      expect(prefix).toMatch(new RegExp(`^${builds.node.path.toLowerCase().replace(/\//g, '-')}-[0-9a-f]{6}$`));
    }
  });

  test('GIVEN a top-level stack THEN its names come from its own stack name, as before', () => {
    const stack = new Stack(new App(), 'Main', { env: ENV, stackName: 'Main-feature-a' });
    expect(AmiBakeInfrastructure.of(stack).namePrefix).toMatch(/^main-feature-a-[0-9a-f]{6}$/);
  });
});
