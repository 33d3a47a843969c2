/**
 * What every path of the runtime shares: its clock, the code of each kind of job, lookup and keeper
 * (tests replace them), and how a call is tried again while CloudFormation waits for an answer.
 *
 * Internal: never exported from the package.
 */
import type { Keepers } from './holds';
import type { JobRunner, LookupRunner } from './job';
import type { JobKind, LookupKind } from './protocol';
import { KEEPERS, LOOKUPS, RUNNERS } from './runners';
import { errorText, isAccessDenied, isRetryable } from '../failure';

/** The clock, the runners and the pacing; tests replace them. */
export const world = {
  now: () => Date.now(),
  runners: RUNNERS as { [kind in JobKind]: JobRunner },
  lookups: LOOKUPS as { [kind in Exclude<LookupKind, 'job-result'>]: LookupRunner },
  keepers: KEEPERS as Keepers,
  /** The first pause after throttling while answering CloudFormation; it doubles up to 10 s. */
  retryDelayMs: 500,
  /** A pause of the runtime's own (between looks at a wait CloudFormation is about to create). */
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/**
 * Whether an AccessDenied may be IAM propagating: CloudFormation changed the runtime's own policy a
 * short while ago (IAM is eventually consistent: a new statement may not hold for a while). Asked at
 * most once per call.
 */
export type PolicyIsNew = () => Promise<boolean>;

/**
 * Calls `fn` again after throttling or a transient fault, pausing longer each time, until the
 * deadline: while CloudFormation waits for an answer, throttling must not fail the deploy. An
 * AccessDenied is tried again too while `policyIsNew` says the runtime's policy just changed (a grant
 * this deploy added may not have reached IAM yet); otherwise it is final at once.
 */
export async function retrying<R>(fn: () => Promise<R>, deadline: number, policyIsNew?: PolicyIsNew): Promise<R> {
  let delay = world.retryDelayMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      const again = isRetryable(e) || (isAccessDenied(e) && policyIsNew !== undefined && (await policyIsNew()));
      if (!again || world.now() + delay > deadline) throw e;
      console.log(`Trying again in ${delay} ms: ${errorText(e)}${isAccessDenied(e) ? ' (the runtime\'s policy changed in this deploy: IAM may not have propagated it yet)' : ''}`);
      await world.sleep(delay);
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/** A runner whose calls are tried again (`retrying`) until the call's deadline. */
export function retryingRunner(runner: JobRunner, deadline: number, policyIsNew?: PolicyIsNew): JobRunner {
  const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => retrying(() => fn.apply(runner, args), deadline, policyIsNew);
  return {
    startOnly: runner.startOnly,
    find: wrap(runner.find),
    start: wrap(runner.start),
    check: wrap(runner.check),
    cancel: wrap(runner.cancel),
    readBack: runner.readBack ? wrap(runner.readBack) : undefined,
  };
}
