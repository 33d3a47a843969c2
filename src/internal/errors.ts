/**
 * One way to raise a synth-time error, and one way to give a warning, for every construct of the
 * library.
 *
 * An error starts with who raised it: the construct's path and type (`Stack/Web
 * [ImmutableFargateService]`), or, for an option checked before any construct exists, the factory
 * method (`EcsDeployment.rolling()`). Then it names the prop, shows the value received, says what is
 * wrong and what to do:
 *
 *   Stack/Fleet [ImmutableAutoScalingGroup]: minCapacity (5) should be <= maxCapacity (3). Lower minCapacity or raise maxCapacity.
 *
 * A construct collects the problems of its props (`PropProblems`) rather than throwing the first:
 * aws-cdk-lib runs every construct's `node.addValidation` before it synthesizes, and fails once with
 * all of them, each after its construct's path (`Validation failed with the following errors:
 * [Stack/Web] Stack/Web [ImmutableFargateService]: cpu (300) ...`). A check whose failure would make
 * the constructor build something invalid or crash still throws at once, and so does a factory's.
 *
 * A warning's id is `cdk-immutable-deploys:<slug>`; every warning ends with the call that silences
 * it, in the form that works (see `warn`). Every id is listed in the README's table of warnings (a
 * test checks it).
 *
 * Independent of any construct family; internal: never exported from the package.
 */
import { Annotations, Duration, Token } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { IConstruct } from 'constructs';

/** The prefix of every warning id of the library. */
export const WARNING_ID_PREFIX = 'cdk-immutable-deploys';

const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** A prop that is wrong, and what to do about it. */
export interface Problem {
  /** The prop at fault, as the user writes it: `minCapacity`, `writableDirectories`. */
  readonly prop: string;
  /**
   * The value received, shown in parentheses after the prop. Leave it out when the prop is missing
   * or the problem names the value itself.
   */
  readonly value?: unknown;
  /** What is wrong, continuing `<prop> (<value>) ...`: `should be <= maxCapacity (3)`. */
  readonly problem: string;
  /** What to do, as a sentence: `Lower minCapacity or raise maxCapacity.` */
  readonly fix: string;
}

/**
 * A synth-time error of this library. `where` is the construct (path and type) or the factory method
 * that raised it; `prop` is the prop at fault.
 */
export class SynthError extends Error {
  public readonly where: string;
  public readonly prop: string;

  constructor(where: string, problem: Problem) {
    const value = 'value' in problem ? ` (${render(problem.value)})` : '';
    super(`${where}: ${problem.prop}${value} ${problem.problem}. ${problem.fix}`);
    this.name = 'SynthError';
    this.where = where;
    this.prop = problem.prop;
  }
}

/** Who a construct is in messages: its path and its type, `Stack/Web [ImmutableFargateService]`. */
export function describeConstruct(scope: IConstruct, type: string): string {
  return `${scope.node.path} [${type}]`;
}

/** The error a construct raises about one of its props. */
export function constructError(scope: IConstruct, type: string, problem: Problem): SynthError {
  return new SynthError(describeConstruct(scope, type), problem);
}

/**
 * The problems of one construct's props, found while it is constructed and reported when the app
 * synthesizes, together with every other construct's: one run lists every mistake of the app.
 *
 * Use it for a check nothing later in the constructor depends on; a constructor runs every such
 * check (`check`), so one mistake does not hide the next. Each problem reads exactly as
 * `constructError`'s message.
 */
export class PropProblems {
  /** The problems of `scope` (made once per construct; its validation is added the first time). */
  public static of(scope: IConstruct, type: string): PropProblems {
    let problems = COLLECTED.get(scope);
    if (problems === undefined) {
      problems = new PropProblems(scope, type);
      COLLECTED.set(scope, problems);
    }
    return problems;
  }

  /** The messages recorded so far, in the order found. */
  public readonly messages: string[] = [];

  private constructor(private readonly scope: IConstruct, private readonly type: string) {
    scope.node.addValidation({ validate: () => [...this.messages] });
  }

  /** Who the problems belong to, as messages start: `Stack/Web [ImmutableFargateService]`. */
  public get where(): string {
    return describeConstruct(this.scope, this.type);
  }

  /** Records a problem of a prop: synthesis fails with it, and with every other problem of the app. */
  public add(problem: Problem): void {
    this.record(constructError(this.scope, this.type, problem));
  }

  /**
   * Runs independent checks, each to its end: a `SynthError` one throws is recorded and the next check
   * runs. Any other error is a bug, and propagates, and so does a problem about a token (see `record`).
   */
  public check(...checks: Array<() => void>): void {
    for (const check of checks) {
      try {
        check();
      } catch (e) {
        if (!(e instanceof SynthError)) throw e;
        this.record(e);
      }
    }
  }

  /**
   * A problem about a token (its message shows the token's text) is thrown at once: what the
   * constructor builds would be made of a value it cannot read, and resolving it may fail before
   * synthesis reports the problems.
   */
  private record(error: SynthError): void {
    if (Token.isUnresolved(error.message) || LIST_TOKEN.test(error.message)) throw error;
    if (!this.messages.includes(error.message)) this.messages.push(error.message);
  }
}

const COLLECTED = new WeakMap<IConstruct, PropProblems>();

/** The text of an element of a list token (`#{Token[...]}`), which `Token.isUnresolved` does not see inside a string. */
const LIST_TOKEN = /#\{Token\[[^\]]+\]\}/;

/**
 * The error a factory raises about one of its options, before any construct exists:
 * `factory` is the call as the user wrote it, `EcsDeployment.rolling()`.
 */
export function optionError(factory: string, problem: Problem): SynthError {
  return new SynthError(factory, problem);
}

/** `cdk-immutable-deploys:<slug>`, the id of a warning. */
export function warningId(slug: string): string {
  if (!SLUG.test(slug)) {
    throw new Error(`warningId: slug '${slug}' should be lower-case words joined by '-', such as 'plaintext-secret'.`);
  }
  return `${WARNING_ID_PREFIX}:${slug}`;
}

/**
 * Adds a warning to `scope`, with the id `cdk-immutable-deploys:<slug>`, ending with how to silence it.
 *
 * The CDK CLI prints such a warning's id as `Annotation::cdk-immutable-deploys:<slug>` ("Acknowledge
 * with ..."). `Validations.of(c).acknowledge({ id, reason })` takes the id in either form, and records
 * the reason; `Annotations.of(c).acknowledgeWarning(id)` takes it only without the `Annotation::`
 * prefix. Each warning therefore names the first.
 */
export function warn(scope: IConstruct, slug: string, message: string): void {
  Annotations.of(scope).addWarningV2(warningId(slug), `${message} ${acknowledgement(slug)}`);
}

/**
 * Warns when a region name that fits the pattern is not one aws-cdk-lib knows (`us-est-1`): AWS refuses
 * it at deploy time, after a build or bake has run. A warning, not an error: a region newer than the
 * installed aws-cdk-lib is valid.
 */
export function warnIfUnknownRegion(scope: IConstruct, prop: string, region: string): void {
  if (Token.isUnresolved(region) || RegionInfo.regions.some((r) => r.name === region)) return;
  warn(scope, 'unknown-region',
    `${prop} has '${region}', which is not a region aws-cdk-lib knows: AWS would refuse a misspelt name at deploy time. Check the name; a region newer than your aws-cdk-lib needs no change.`);
}

/** The sentence that ends a warning: the call that silences it, in the form that works. */
export function acknowledgement(slug: string): string {
  return `Acknowledge with Validations.of(construct).acknowledge({ id: '${warningId(slug)}', reason }).`;
}

/** Whether every value is known at synth time (none is an unresolved token): only then is it checked. */
export function known(...values: unknown[]): boolean {
  return values.every((v) => {
    if (v === undefined) return true;
    if (v instanceof Duration) return !v.isUnresolved();
    return !Token.isUnresolved(v);
  });
}

/** A value as a message shows it: numbers and strings as they are, durations in words, lists in brackets. */
function render(value: unknown): string {
  if (value instanceof Duration) return value.isUnresolved() ? '(a token)' : value.toHumanString();
  if (Array.isArray(value)) return `[${value.map(render).join(', ')}]`;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? String(value);
}
