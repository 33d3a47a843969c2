/**
 * The prop matrix: every prop of the public API, read from the jsii assembly the build writes, is
 * (1) probed with a token of its type: either the app synthesizes and no token text lands inside a
 *     string that CloudFormation or AWS parses later (test/prop-matrix/tokens.ts says how that is
 *     detected), or the call fails naming the prop;
 * (2) in the one table of AWS's constraints (src/internal/constraints.ts), with each limit probed:
 *     the value at the limit is accepted, the value past it refused with the library's message;
 * (3) and a prop added to the API without an entry fails this test.
 *
 * It prints what it covers: constructs, callables, props, constraints, sources, and the props that
 * accept tokens.
 */
import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { IConstruct } from 'constructs';
import { BakeStep } from '../src';
import { publicProps, Prop, readAssembly, typeName } from './prop-matrix/assembly';
import { COMPANIONS, ELEMENT_BASELINES, HARNESS, newStack, withValue } from './prop-matrix/harness';
import { tokenOf, tokenTextFindings } from './prop-matrix/tokens';
import { CONSTRAINTS, Entry, Limit } from '../src/internal/constraints';

const { props, callables, constructs, structArrays } = publicProps(readAssembly());
const isLimit = (e: Entry | undefined): e is Limit => e !== undefined && 'rule' in e && !('unchecked' in e);

/** Runs every validation of the tree, as synthesis does first. */
function validateTree(root: IConstruct): void {
  const errors = root.node.findAll().flatMap((c) => c.node.validate().map((e) => `${c.node.path}: ${e}`));
  if (errors.length > 0) throw new Error(errors.join('\n'));
}

/** Calls the prop's callable with `value` at the prop's path, in a new stack. */
function callWith(prop: Prop, value: unknown, stack: Stack = newStack()): Stack {
  const harness = HARNESS[prop.callable];
  const array = structArrays.find((a) => prop.key.startsWith(`${a}[]`));
  let args = harness.baseline(stack);
  if (array) args = withValue(args, `${array.slice(prop.callable.length + 1)}`, [ELEMENT_BASELINES[array] ?? {}]);
  args = { ...args, ...COMPANIONS[prop.key] };
  harness.call(stack, withValue(args, prop.path, value));
  return stack;
}

/** The error a call raises, or undefined. */
function errorOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The name a message must carry for the prop: its last segment (`regions` of `distribution.regions`). */
const nameOf = (prop: Prop) => prop.path.split('.').pop()!.replace('[]', '');

const tokenResults = new Map<string, 'accepts' | 'refuses' | string>();

describe('prop matrix', () => {
  test('every prop of the assembly has an entry in the constraint table, and every entry is a prop', () => {
    // GIVEN the props the assembly declares
    const keys = new Set(props.map((p) => p.key));
    // THEN each has an entry (a prop added without one fails here), and no entry names a prop that is gone
    expect(props.filter((p) => !CONSTRAINTS[p.key]).map((p) => `${p.key} (${typeName(p.type)})`)).toEqual([]);
    expect(Object.keys(CONSTRAINTS).filter((k) => !keys.has(k) && !structArrays.includes(k))).toEqual([]);
    // and each callable that takes props has a harness
    expect([...new Set(props.map((p) => p.callable))].filter((c) => !HARNESS[c])).toEqual([]);
  });

  describe('(1) a token of each prop\'s type renders valid CloudFormation or is refused naming the prop', () => {
    test.each(props.map((p) => [p.key, p]))('%s', (_key, prop) => {
      // GIVEN a token of the prop's type (or the reason its type has none)
      const stack = newStack();
      const token = tokenOf(prop.type, stack);
      if ('none' in token) {
        tokenResults.set(prop.key, `no token form: ${token.none}`);
        expect(token.none.length).toBeGreaterThan(10);
        return;
      }
      // WHEN the callable takes it and the app synthesizes
      let template: unknown;
      const error = errorOf(() => {
        callWith(prop, token.value, stack);
        template = (stack.node.root as App).synth().getStackByName(stack.stackName).template;
      });
      if (error !== undefined) {
        // THEN either it is refused, naming the prop
        tokenResults.set(prop.key, 'refuses');
        expect(error).toContain(nameOf(prop));
        return;
      }
      // or no token text lands in a string AWS parses later
      tokenResults.set(prop.key, 'accepts');
      expect(tokenTextFindings(template)).toEqual([]);
    });
  });

  describe('(2) each AWS limit holds: the value at the limit is accepted, the value past it refused naming the prop', () => {
    const limited = props.filter((p) => isLimit(CONSTRAINTS[p.key]))
      .concat(structArrays.filter((a) => CONSTRAINTS[a] && isLimit(CONSTRAINTS[a])).map((a) => arrayProp(a)));
    test.each(limited.map((p) => [p.key, p]))('%s', (_key, prop) => {
      const limit = CONSTRAINTS[prop.key] as Limit;
      const { accepted, refused } = probesOf(prop, limit);
      expect(accepted.length + refused.length).toBeGreaterThan(0);
      const run = (probe: Probe) => errorOf(() => {
        const stack = newStack();
        validateTree(callWith(prop, probe.value(stack), stack).node.root);
      });
      const outcomes = [
        ...accepted.map((probe) => ({ probe, want: 'accepted', error: run(probe) })),
        ...refused.map((probe) => ({ probe, want: 'refused', error: run(probe) })),
      ].map((o) => ({ ...o, ok: o.want === 'accepted' ? o.error === undefined : o.error !== undefined && o.error.includes(nameOf(prop)) }));
      const failed = outcomes.filter((o) => !o.ok).map((o) => `${o.probe.label} should be ${o.want}${o.error ? `: ${o.error.slice(0, 300)}` : ''}`);
      if (limit.pendingOn) {
        // The branch that enforces the limit has not merged yet: today the limit does not hold.
        // Once every probe agrees, the limit is enforced: remove pendingOn from its entry.
        const pending = { key: prop.key, pendingOn: limit.pendingOn };
        expect({ ...pending, stillPending: failed.length > 0 }).toEqual({ ...pending, stillPending: true });
        return;
      }
      expect(failed).toEqual([]);
    });
  });

  afterAll(() => {
    const entries = Object.values(CONSTRAINTS);
    const limits = entries.filter(isLimit);
    const sources = new Set(limits.flatMap((l) => l.source.split(' ')).concat(entries.flatMap((e) => ('unchecked' in e ? e.source.split(' ') : []))));
    const accepting = [...tokenResults].filter(([, r]) => r === 'accepts').map(([k]) => k);
    const refusing = [...tokenResults].filter(([, r]) => r === 'refuses').map(([k]) => k);
    const lines = [
      `prop matrix: ${constructs.length} constructs, ${callables.length} constructors, factories and methods, ${props.length} props`,
      `  constraints: ${limits.length} AWS limits (${limits.filter((l) => l.pendingOn).length} pending on another branch), `
        + `${entries.filter((e) => 'unchecked' in e).length} unchecked limits, ${entries.filter((e) => 'none' in e).length} props with no AWS constraint; ${sources.size} sources`,
      `  tokens: ${accepting.length} props accept a token, ${refusing.length} refuse one naming the prop, ${tokenResults.size - accepting.length - refusing.length} have no token form`,
      `  accept tokens: ${accepting.join(', ')}`,
      ...Object.entries(CONSTRAINTS).filter(([, e]) => 'unchecked' in e).map(([k, e]) => `  unchecked: ${k}: ${(e as { rule: string }).rule} (${(e as { unchecked: string }).unchecked})`),
      ...Object.entries(CONSTRAINTS).filter(([, e]) => isLimit(e) && e.pendingOn).map(([k, e]) => `  pending on ${(e as Limit).pendingOn}: ${k}: ${(e as Limit).rule}`),
    ];
    // The coverage is part of every run's log (the test environment shows console output of failed tests only).
    process.stdout.write(`${lines.slice(0, 3).join('\n')}\n`);
    // eslint-disable-next-line no-console
    console.log(lines.join('\n'));
  });
});

/** A list of structs as a prop of its own, for its count. */
function arrayProp(key: string): Prop {
  const callable = props.find((p) => p.key.startsWith(`${key}[]`))!.callable;
  return { callable, path: key.slice(callable.length + 1), key, type: { collection: { kind: 'array', elementtype: { fqn: 'struct' } } } };
}

interface Probe {
  readonly label: string;
  /** The value, made in the stack of the call. */
  readonly value: (stack: Stack) => unknown;
}

/** The values at and past each limit of an entry, in the prop's type. */
function probesOf(prop: Prop, limit: Limit): { accepted: Probe[]; refused: Probe[] } {
  const accepted: Probe[] = [];
  const refused: Probe[] = [];
  const typed = (n: number) => asType(prop, n, limit.range?.unit);
  if (limit.range) {
    const { min, max, integer } = limit.range;
    const step = 1;
    if (min !== undefined) {
      accepted.push({ label: `${min} (the minimum)`, value: () => typed(min) });
      // A negative Duration cannot even be made: aws-cdk-lib refuses it.
      if (!(min === 0 && prop.type.fqn === 'aws-cdk-lib.Duration')) refused.push({ label: `${min - step} (below the minimum)`, value: () => typed(min - step) });
    }
    if (max !== undefined) {
      accepted.push({ label: `${max} (the maximum)`, value: () => typed(max) });
      refused.push({ label: `${max + step} (above the maximum)`, value: () => typed(max + step) });
    }
    if (integer && min !== undefined && prop.type.primitive === 'number') refused.push({ label: `${min + 0.5} (not whole)`, value: () => min + 0.5 });
  }
  if (limit.count) {
    const most = limit.count.max;
    accepted.push({ label: `${most} entries (the most)`, value: (stack) => elements(prop, most, stack) });
    refused.push({ label: `${most + 1} entries (one more)`, value: (stack) => elements(prop, most + 1, stack) });
  }
  for (const value of limit.probes?.accepted ?? []) accepted.push({ label: `${JSON.stringify(value).slice(0, 60)}`, value: () => value });
  for (const value of limit.probes?.refused ?? []) refused.push({ label: `${JSON.stringify(value).slice(0, 60)}`, value: () => value });
  return { accepted, refused };
}

function asType(prop: Prop, n: number, unit: string | undefined): unknown {
  if (prop.type.fqn === 'aws-cdk-lib.Duration') {
    return unit === 'days' ? Duration.days(n) : unit === 'hours' ? Duration.hours(n) : unit === 'minutes' ? Duration.minutes(n) : Duration.seconds(n);
  }
  if (prop.type.fqn === 'aws-cdk-lib.Size') return Size.gibibytes(n);
  return n;
}

/** `n` valid entries of a list or map prop. */
function elements(prop: Prop, n: number, stack: Stack): unknown {
  const range = Array.from({ length: n }, (_, i) => i);
  switch (prop.key) {
    case 'AmiBake.steps':
    case 'AmiBake.testSteps':
      return range.map((i) => BakeStep.shell([`echo ${i}`]));
    case 'ContainerImageBuild.replicateTo':
      return range.map((i) => ({ region: 'us-east-1', account: String(100000000000 + i) }));
    case 'ReplacementStrategy.instanceRefresh.alarms':
      return range.map((i) => cloudwatch.Alarm.fromAlarmArn(stack, `Alarm${i}`, `arn:aws:cloudwatch:eu-west-1:111111111111:alarm:a${i}`));
    case 'AmiBake.tags':
      return Object.fromEntries(range.map((i) => [`k${i}`, 'v']));
    default:
      throw new Error(`No entries known for ${prop.key}: add them to elements() in test/prop-matrix.test.ts`);
  }
}
