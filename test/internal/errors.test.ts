import * as fs from 'fs';
import * as path from 'path';
import { Annotations as CoreAnnotations, App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { constructError, known, optionError, SynthError, warn, warningId } from '../../src/internal/errors';

const ROOT = path.join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every warning id the library can raise: through warn(), or written out for Annotations. */
function warningIdsInSource(): string[] {
  const ids = new Set<string>();
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bwarn\(\s*[\w.]+,\s*'([a-z0-9-]+)'/g)) ids.add(warningId(m[1]));
    for (const m of text.matchAll(/addWarningV2\(\s*'(cdk-immutable-deploys:[a-z0-9-]+)'/g)) ids.add(m[1]);
    // ImmutabilityChecks rules warn under their own ids (`id: '<rule>'` of each rule in src/checks).
    if (file.includes(`${path.sep}checks${path.sep}`)) for (const m of text.matchAll(/^  id: '([a-z0-9-]+)',$/gm)) ids.add(warningId(m[1]));
  }
  return [...ids].sort();
}

describe('errors', () => {
  test('a construct error starts with the path and type, then the prop, the value, the problem and the fix', () => {
    const stack = new Stack(new App(), 'Stack');
    const scope = new Construct(stack, 'Web');
    const error = constructError(scope, 'ImmutableFargateService', { prop: 'cpu', value: 300, problem: 'is not a Fargate size', fix: 'Use 256.' });
    expect(error).toBeInstanceOf(SynthError);
    expect(error.message).toBe('Stack/Web [ImmutableFargateService]: cpu (300) is not a Fargate size. Use 256.');
    expect(error.prop).toBe('cpu');
  });

  test('an option error starts with the factory; durations and lists read as words and brackets; a missing prop has no value', () => {
    expect(optionError('X.y()', { prop: 'bakeTime', value: Duration.minutes(90), problem: 'is too long', fix: 'Shorten it.' }).message)
      .toBe('X.y(): bakeTime (1 hour 30 minutes) is too long. Shorten it.');
    expect(optionError('X.y()', { prop: 'checkpoints', value: [20, 50], problem: 'must end with 100', fix: 'Add 100.' }).message)
      .toBe('X.y(): checkpoints ([20, 50]) must end with 100. Add 100.');
    expect(optionError('X.y()', { prop: 'alternateTargetGroup', problem: 'is missing', fix: 'Pass it.' }).message)
      .toBe('X.y(): alternateTargetGroup is missing. Pass it.');
  });

  test('a value reads as the user wrote it: strings unquoted, odd numbers, booleans, objects as JSON, a token duration named', () => {
    const stack = new Stack(new App(), 'Stack');
    const n = new CfnParameter(stack, 'N', { type: 'Number' }).valueAsNumber;
    const message = (value: unknown) => optionError('X.y()', { prop: 'p', value, problem: 'is wrong', fix: 'Fix it.' }).message;
    expect(message('t3.micro')).toBe('X.y(): p (t3.micro) is wrong. Fix it.');
    expect(message(Infinity)).toBe('X.y(): p (Infinity) is wrong. Fix it.');
    expect(message(NaN)).toBe('X.y(): p (NaN) is wrong. Fix it.');
    expect(message(false)).toBe('X.y(): p (false) is wrong. Fix it.');
    expect(message({ min: 1, max: 0 })).toBe('X.y(): p ({"min":1,"max":0}) is wrong. Fix it.');
    expect(message(['a b', Duration.minutes(2), { k: 'v' }])).toBe('X.y(): p ([a b, 2 minutes, {"k":"v"}]) is wrong. Fix it.');
    expect(message(undefined)).toBe('X.y(): p (undefined) is wrong. Fix it.');
    expect(message(Duration.seconds(n))).toBe('X.y(): p ((a token)) is wrong. Fix it.');
  });

  test('a synth error is a SynthError by name, and says where it was raised', () => {
    const error = optionError('EcsDeployment.rolling()', { prop: 'bakeTime', problem: 'is missing', fix: 'Pass it.' });
    expect(error.name).toBe('SynthError');
    expect(String(error)).toBe('SynthError: EcsDeployment.rolling(): bakeTime is missing. Pass it.');
    expect(error.where).toBe('EcsDeployment.rolling()');
    expect(error.prop).toBe('bakeTime');
  });

  test('known() is false when any one of several values is a token', () => {
    const stack = new Stack(new App(), 'Stack');
    const s = new CfnParameter(stack, 'S').valueAsString;
    expect(known('a', s, 1)).toBe(false);
    expect(known(s, undefined)).toBe(false);
    expect(known()).toBe(true);
  });

  test('known() is false for unresolved tokens, numeric, string and duration alike', () => {
    const stack = new Stack(new App(), 'Stack');
    const n = new CfnParameter(stack, 'N', { type: 'Number' }).valueAsNumber;
    const s = new CfnParameter(stack, 'S').valueAsString;
    expect(known(1, 'a', Duration.seconds(1), undefined)).toBe(true);
    expect(known(n)).toBe(false);
    expect(known(s)).toBe(false);
    expect(known(Duration.seconds(n))).toBe(false);
  });

  test('warning ids are cdk-immutable-deploys:<slug>, and Annotations.acknowledgeWarning accepts them', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Stack');
    const scope = new Construct(stack, 'Web');
    warn(scope, 'plaintext-secret', 'DB_PASSWORD looks like a secret');
    Annotations.fromStack(stack).hasWarning('/Stack/Web', Match.stringLikeRegexp('looks like a secret'));

    // WHEN
    const other = new Stack(new App(), 'Other');
    const acknowledged = new Construct(other, 'Web');
    warn(acknowledged, 'plaintext-secret', 'DB_PASSWORD looks like a secret');
    CoreAnnotations.of(acknowledged).acknowledgeWarning('cdk-immutable-deploys:plaintext-secret', 'the value is a secret name');

    // THEN
    expect(Annotations.fromStack(other).findWarning('*', Match.anyValue())).toEqual([]);
    expect(() => warningId('Not A Slug')).toThrow(/slug 'Not A Slug' should be lower-case words joined by '-'/);
    expect(() => warningId('plaintext-secret Extra')).toThrow(/slug 'plaintext-secret Extra'/);
    expect(() => warningId('-secret')).toThrow(/slug '-secret'/);
    expect(warningId('a1-b2')).toBe('cdk-immutable-deploys:a1-b2');
  });

  test('every warning the library raises is listed in the README\'s table of warnings', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Warnings'), readme.indexOf('\n## ', readme.indexOf('## Warnings') + 1));
    const listed = [...table.matchAll(/^\| `(cdk-immutable-deploys:[a-z0-9-]+)` \|/gm)].map((m) => m[1]).sort();
    const raised = warningIdsInSource();
    expect(raised.length).toBeGreaterThan(5);
    expect(raised.filter((id) => !listed.includes(id))).toEqual([]);
    expect(listed.filter((id) => !raised.includes(id))).toEqual([]);
  });
});
