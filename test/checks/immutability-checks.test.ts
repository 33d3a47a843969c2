import * as fs from 'fs';
import * as path from 'path';
import { Annotations, Stack, Validations } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { checkedStack, findingsOf, summary } from './fixtures';
import { CheckLevel, ImmutabilityChecks } from '../../src';

/** Two patching associations, each in its own group construct. */
function twoPatchers(stack: Stack) {
  const groups = ['Team', 'Other'].map((id) => new Construct(stack, id));
  for (const group of groups) new ssm.CfnAssociation(group, 'Patch', { name: 'AWS-RunPatchBaseline' });
  return groups;
}

describe('ImmutabilityChecks', () => {
  test('rules are errors by default; a level for all, and per rule', () => {
    const byDefault = checkedStack();
    twoPatchers(byDefault);
    expect(summary(byDefault)).toEqual(['in-place-patching error /Stack/Other/Patch', 'in-place-patching error /Stack/Team/Patch']);

    const warnings = checkedStack({ level: CheckLevel.WARNING });
    twoPatchers(warnings);
    expect(summary(warnings)).toEqual(['in-place-patching warning /Stack/Other/Patch', 'in-place-patching warning /Stack/Team/Patch']);

    const perRule = checkedStack({ level: CheckLevel.WARNING, ruleLevels: { 'in-place-patching': CheckLevel.ERROR } });
    twoPatchers(perRule);
    expect(summary(perRule)).toEqual(['in-place-patching error /Stack/Other/Patch', 'in-place-patching error /Stack/Team/Patch']);
  });

  test('a level for a rule that does not exist is an error that lists the rules', () => {
    expect(() => checkedStack({ ruleLevels: { 'latest-tag': CheckLevel.WARNING } }))
      .toThrow(/new ImmutabilityChecks\(\): ruleLevels \(latest-tag\) names no rule. Name one of mutable-image-tag, /);
  });

  test('an error is acknowledged with a reason through Validations, on the construct or above it, and nowhere else', () => {
    // GIVEN
    const stack = checkedStack();
    const [team] = twoPatchers(stack);

    // WHEN
    Validations.of(team).acknowledge({ id: ImmutabilityChecks.findingId('in-place-patching'), reason: 'A lab fleet, rebuilt from scratch every night.' });

    // THEN the other association is still reported, and the reason is recorded
    expect(summary(stack)).toEqual(['in-place-patching error /Stack/Other/Patch']);
    const recorded = team.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data);
    expect(recorded).toEqual([{ 'Annotation::cdk-immutable-deploys:in-place-patching': 'A lab fleet, rebuilt from scratch every night.' }]);
  });

  test('a warning is also acknowledged through Annotations.acknowledgeWarning', () => {
    const stack = checkedStack({ level: CheckLevel.WARNING });
    const [team] = twoPatchers(stack);
    Annotations.of(team).acknowledgeWarning('cdk-immutable-deploys:in-place-patching', 'A lab fleet.');
    expect(summary(stack)).toEqual(['in-place-patching warning /Stack/Other/Patch']);
  });

  test('an acknowledgement of another rule hides nothing', () => {
    const stack = checkedStack();
    const [team] = twoPatchers(stack);
    Validations.of(team).acknowledge({ id: 'cdk-immutable-deploys:mutable-user-data', reason: 'Not this rule.' });
    expect(findingsOf(stack).map((f) => f.path).sort()).toEqual(['/Stack/Other/Patch', '/Stack/Team/Patch']);
  });

  test('findingId() refuses an id that is no rule', () => {
    expect(ImmutabilityChecks.findingId('mutable-image-tag')).toBe('cdk-immutable-deploys:mutable-image-tag');
    expect(() => ImmutabilityChecks.findingId('latest')).toThrow(/ruleId \(latest\) is not a rule/);
  });

  test('RULES.md and the README table every rule, with one rule per file', () => {
    const root = path.join(__dirname, '..', '..');
    const tabled = (file: string) => [...fs.readFileSync(path.join(root, file), 'utf8').matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]).sort();
    const rules = [...ImmutabilityChecks.RULE_IDS].sort();
    expect(rules).toHaveLength(9);
    expect(tabled('src/checks/RULES.md')).toEqual(rules);
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## ImmutabilityChecks'), readme.indexOf('\n## ', readme.indexOf('## ImmutabilityChecks') + 1));
    expect([...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]).sort()).toEqual(rules);
    for (const id of rules) expect(fs.existsSync(path.join(root, 'src', 'checks', `${id}.ts`))).toBe(true);
  });
});
