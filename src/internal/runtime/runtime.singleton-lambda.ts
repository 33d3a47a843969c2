/**
 * The deploy-time runtime of a stack: one function that runs every deploy-time job of the stack
 * (container builds, AMI bakes). It is invoked three ways, and every call reads the world afresh:
 *
 * - by CloudFormation, for the stack's jobs resource (`Custom::CdkImmutableDeploysJobs`). It answers
 *   through the request's response URL itself. On Create and Update, each job that is new to the
 *   template either finds its artifact (nothing is built) or starts one attempt; either way it is kept
 *   as pending until its wait is signalled. A job whose wait already completed in an earlier deploy (a
 *   rollback onto an old fingerprint) is left alone: its wait is never signalled again. Jobs that left
 *   the template (the attempt of a failed update, on rollback) are stopped. Delete stops what still runs
 *   and deletes no artifact, with one exception: when the stack itself is being deleted (the stack and
 *   the root of its nesting `DELETE_IN_PROGRESS`), the jobs whose removal policy is DESTROY delete what
 *   they made.
 * - by CloudFormation, for each lookup resource (`Custom::CdkImmutableDeploysLookup`): an artifact
 *   imported by fingerprint, or the read-back of one of the stack's own jobs (`lookups.ts`).
 * - by EventBridge, when a CodeBuild build or an Image Builder image of the stack changes state, and
 * - by a schedule rule that is enabled only while a job is pending, so that a lost event never stalls
 *   a deploy. Both check every pending job; each one that ended has its wait signalled.
 *
 * A wait is a `WaitCondition` with a creation policy: the runtime signals it with CloudFormation's
 * `SignalResource` (IAM-authenticated; no presigned handle URL that anyone who reads the stack may
 * use), once CloudFormation is creating it. A signal says when the job ended, never what it made: it
 * is always SUCCESS, and carries no data. What the stack's consumers run (the AMI id, the image
 * digest) is read back from AWS by the job's `job-result` lookup, which depends on the wait and fails,
 * with the job's failure reason, when the job failed. So a forged signal can at most fail a deploy.
 *
 * The response URL is a secret: it is never logged and never in an error.
 */
import { createHash } from 'crypto';
import {
  CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand, SignalResourceCommand, Stack as CfnStack,
} from '@aws-sdk/client-cloudformation';
import { DisableRuleCommand, EnableRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { allHolders, otherHolders, release } from './holds';
import { sendResponse } from './http';
import type { Job, JobRunner } from './job';
import { JobFailure } from './job';
import { LookupRequest, onLookup, StackCalls } from './lookups';
import { DESTROY, LOOKUP_RESOURCE_TYPE, REMOVAL_POLICY_SETTING, RUNTIME_ENV } from './protocol';
import type { JobProperties, JobsResourceProperties } from './protocol';
import {
  deleteJob, deleteStartOnly, deleteState, getState, holderOf, leftovers, pendingJob, pendingJobs, PendingJob, putState, readStartOnly,
  resultName, saveJob, saveStartOnly, stoppedName,
} from './state';
import type { FailedResult } from './state';
import { PolicyIsNew, retrying, retryingRunner, world } from './world';
import { errorText, failureMessage, isAccessDenied, isRetryable, MAX_REASON_BYTES } from '../failure';

export { world } from './world';

const cloudformation = new CloudFormationClient({});
const eventbridge = new EventBridgeClient({});

/** Time kept between a call's own deadline and its Lambda timeout, to answer CloudFormation. */
export const DEADLINE_MARGIN_MS = 30_000;
/** A pending job is given up this long before its wait condition would time out, so that its failure says why. */
const GIVE_UP_MARGIN_MS = 2 * 60_000;
/** After answering, how long the runtime waits for CloudFormation to create the waits of reused artifacts, to signal them at once. */
export const SIGNAL_WINDOW_MS = 2 * 60_000;
/** Between two looks at the waits CloudFormation is about to create. */
export const SIGNAL_PAUSE_MS = 2_000;
/** How long a job's retention may take after a success, before its wait is signalled. */
export const PRUNE_BUDGET_MS = 2 * 60_000;
/** How long after CloudFormation changed the runtime's policy an AccessDenied is taken for IAM propagating. */
export const POLICY_PROPAGATION_MS = 15 * 60_000;

/** The part of the Lambda context the runtime reads. */
export interface CallContext {
  getRemainingTimeInMillis(): number;
}

type Request = CloudFormationCustomResourceEvent & { ResourceProperties: JobsResourceProperties & { ServiceToken: string } };

export async function handler(event: unknown, context?: CallContext): Promise<void> {
  const deadline = world.now() + Math.max(5_000, (context?.getRemainingTimeInMillis() ?? 300_000) - DEADLINE_MARGIN_MS);
  if (isRequest(event) && (event as { ResourceType?: string }).ResourceType === LOOKUP_RESOURCE_TYPE) {
    await onLookup(event as unknown as LookupRequest, deadline, stackCalls(event.StackId));
  } else if (isRequest(event)) {
    await onRequest(event, deadline);
  } else {
    await checkPendingJobs(deadline);
  }
}

function isRequest(event: unknown): event is Request {
  const e = event as { RequestType?: string; ResponseURL?: string } | undefined;
  return typeof e?.RequestType === 'string' && typeof e?.ResponseURL === 'string';
}

/** What the lookups ask CloudFormation, for the stack of a request. */
function stackCalls(stackId: string): StackCalls {
  return { policyIsNew: policyIsNewFor(stackId) };
}

async function onRequest(event: Request, deadline: number): Promise<void> {
  const base = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
  // The jobs resource's physical id never changes: it is never replaced, so a rollback is always an
  // Update with the old properties (docs/aws-behaviour.md rows 7 and 300), never a Delete of a new id.
  const physicalId = event.RequestType === 'Create' ? physicalIdOf(event.StackId, event.LogicalResourceId) : event.PhysicalResourceId;
  const policyIsNew = policyIsNewFor(event.StackId);
  let ended: string[] = [];
  try {
    if (event.RequestType === 'Delete') {
      await onDelete(event.StackId, event.LogicalResourceId, event.ResourceProperties.Jobs ?? [], deadline, policyIsNew);
    } else {
      const old = event.RequestType === 'Update' ? (event.OldResourceProperties as unknown as JobsResourceProperties).Jobs ?? [] : [];
      ended = await applyJobs(event, old, deadline, policyIsNew);
    }
  } catch (e) {
    if (event.RequestType === 'Delete') {
      // Never block a rollback or a stack delete: what is left is an attempt that ends on its own.
      console.log(`Delete: left as it is after ${errorText(e)}`);
    } else if (event.RequestType === 'Update' && (await isRollingBack(event.StackId).catch(() => false))) {
      // A rollback's Update only stops what the failed update started; failing it would leave the
      // stack in UPDATE_ROLLBACK_FAILED. What could not be stopped ends on its own, unsignalled.
      console.log(`Rollback: left as it is after ${errorText(e)}`);
    } else {
      const headline = e instanceof JobFailure ? e.message : failureMessage('The deploy-time jobs of this stack could not start.', [{ label: 'Error', text: errorText(e) }]);
      console.log(`Failed: ${headline}`);
      await sendResponse(event.ResponseURL, { ...base, Status: 'FAILED', PhysicalResourceId: physicalId, Reason: failureMessage(headline, [], MAX_REASON_BYTES) });
      return;
    }
  }
  await sendResponse(event.ResponseURL, { ...base, Status: 'SUCCESS', PhysicalResourceId: physicalId });
  // CloudFormation now creates the waits of the artifacts that were reused: signal them as soon as it does.
  if (ended.length > 0) await signalSoon(ended, deadline);
}

/**
 * Starts or reuses every job that is new to the template, and stops the attempts of this resource
 * whose job left it. Returns the keys of the jobs that ended already (reused), whose waits are
 * signalled once CloudFormation creates them.
 */
async function applyJobs(event: Request, old: JobProperties[], deadline: number, policyIsNew: PolicyIsNew): Promise<string[]> {
  const stateRoot = statePath();
  const jobs = event.ResourceProperties.Jobs ?? [];
  jobs.forEach(checkJob);
  const oldKeys = new Set(old.map((j) => j.Key));
  const newKeys = new Set(jobs.map((j) => j.Key));
  const retry = <R>(fn: () => Promise<R>) => retrying(fn, deadline, policyIsNew);
  const pending = new Map((await retry(() => pendingJobs(stateRoot))).map((p) => [p.job.Key, p]));

  // Attempts of this resource whose job left the template (on rollback: the failed update's): stop them.
  for (const p of pending.values()) {
    if (newKeys.has(p.job.Key) || p.owner !== event.LogicalResourceId) continue;
    await stopAttempt(stateRoot, p, 'its job left the template', retry);
  }

  let started = 0;
  const ended: string[] = [];
  for (const props of jobs) {
    if (world.now() > deadline) {
      throw new JobFailure(`Ran out of time after starting ${started} of the stack's new jobs. The deploy fails, and its rollback stops the attempts it started. `
        + 'Deploy with --no-rollback: the started attempts are then kept, and deploying again (with the same retry word, if any) starts the rest without starting any twice.');
    }
    if (pending.has(props.Key)) continue; // a replay of this request, or an attempt under way
    // Its wait completed in an earlier deploy (unchanged, or a rollback onto it): never signal it again.
    if (oldKeys.has(props.Key) || (await retry(() => waitExists(event.StackId, props.Key)))) continue;
    const job = toJob(props);
    const runner = retryingRunner(world.runners[props.Kind], deadline, policyIsNew);
    const attempt = attemptOf(event.RequestId, props.Key);
    const since = world.now();
    const kept = { stackId: event.StackId, attempt, owner: event.LogicalResourceId, since };
    // A new attempt: the last one's failure is not this one's.
    await retry(() => deleteState(resultName(stateRoot, props.Key)));
    const found = await runner.find(job);
    if (found) {
      const summary = `Reused the artifact of fingerprint ${props.Fingerprint.slice(0, 16)}: nothing was built`;
      await retry(() => saveJob(stateRoot, { ...kept, job: withoutStartOnly(props, runner), ended: { summary } }));
      console.log(`${props.Path}: reused ${found}`);
      ended.push(props.Key);
      continue;
    }
    const result = await runner.start(job, { id: attempt });
    // A job that cannot start yet keeps its start-only settings apart (a pending job's parameter takes at most 8 KB).
    const startParts = result.state !== 'started' && runner.startOnly ? await retry(() => saveStartOnly(stateRoot, props.Key, startOnlyOf(props, runner))) : undefined;
    await retry(() => saveJob(stateRoot, {
      ...kept,
      job: withoutStartOnly(props, runner),
      ...(result.state === 'started' ? { ref: result.ref } : { throttled: clipped(result.reason), ...(startParts ? { startParts } : {}) }),
    }));
    console.log(result.state === 'started' ? `${props.Path}: started ${result.ref}` : `${props.Path}: waiting to start (${result.reason})`);
    started++;
  }
  if (started > 0 || ended.length > 0) await retry(() => setPolling(true));
  return ended;
}

/**
 * The jobs resource is deleted: the stack is deleted, the resource left the template, or a failed
 * create rolls back. Its attempts stop; only a stack's deletion sweeps its state and, for jobs whose
 * removal policy is DESTROY, deletes their artifacts. The resource's physical id never changes, so
 * its Delete always concerns the version whose properties it carries (a stack's deletion sends the
 * current template's): the DESTROY list is the template's, as the construct's removal policy says.
 */
async function onDelete(stackId: string, logicalId: string, jobs: JobProperties[], deadline: number, policyIsNew: PolicyIsNew): Promise<void> {
  const stateRoot = statePath();
  const retry = <R>(fn: () => Promise<R>) => retrying(fn, deadline, policyIsNew);
  const left = await retry(() => pendingJobs(stateRoot));
  for (const p of left.filter((j) => j.owner === logicalId)) {
    await stopAttempt(stateRoot, p, 'its jobs resource is deleted', retry);
  }
  if (left.every((j) => j.owner === logicalId)) await retry(() => setPolling(false));
  const deletion = await retry(() => deletionOf(stackId));
  if (deletion === 'none') {
    console.log(`Deleted the jobs resource of ${jobs.length} job(s); no artifact was deleted.`);
    return;
  }
  await sweep(stateRoot, stackId, retry);
  const doomed = jobs.filter((j) => j.Spec?.[REMOVAL_POLICY_SETTING] === DESTROY && world.runners[j.Kind]?.destroy);
  if (deletion === 'stack' && doomed.length > 0) {
    await destroyArtifacts(doomed, stackId, deadline);
    return;
  }
  const why = deletion === 'nested' ? ' (a nested stack removed by an update of its parent: an update never deletes artifacts)' : '';
  console.log(`Deleted the jobs resource of ${jobs.length} job(s) with the stack; no artifact was deleted${why}.`);
}

/**
 * What a Delete of the jobs resource is part of. `stack`: the stack is being deleted, and so is the
 * root of its nesting (a nested stack's own status is DELETE_IN_PROGRESS also when an update of its
 * parent removes it). `nested`: the stack is deleted, but its root is not (an update removed it).
 * `none`: the resource left the template in an update (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS), or a
 * failed create rolls back (ROLLBACK_IN_PROGRESS).
 */
async function deletionOf(stackId: string): Promise<'stack' | 'nested' | 'none'> {
  const stack = await describeStack(stackId);
  if (stack?.StackStatus !== 'DELETE_IN_PROGRESS') return 'none';
  if (!stack.RootId || stack.RootId === stackId) return 'stack';
  const root = await describeStack(stack.RootId);
  return root?.StackStatus === 'DELETE_IN_PROGRESS' ? 'stack' : 'nested';
}

async function describeStack(stackId: string): Promise<CfnStack | undefined> {
  return (await cloudformation.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0];
}

/** Whether the stack is rolling an update back: its resources' Updates then restore, and must not fail. */
async function isRollingBack(stackId: string): Promise<boolean> {
  const status = (await describeStack(stackId))?.StackStatus ?? '';
  return status === 'UPDATE_ROLLBACK_IN_PROGRESS' || status === 'ROLLBACK_IN_PROGRESS';
}

/**
 * The stack is being deleted: what its state still holds goes with it. Lookups whose Delete could not
 * release what they held (logged then) release it now; stop marks and failure records are deleted.
 * Best effort: what cannot go is logged.
 */
async function sweep(stateRoot: string, stackId: string, retry: <R>(fn: () => Promise<R>) => Promise<R>): Promise<void> {
  try {
    const { records, marks } = await retry(() => leftovers(stateRoot));
    for (const { name, value } of records) {
      const logicalId = name.split('/').slice(-2, -1)[0] ?? '';
      await retry(() => release(world.keepers, holderOf(stackId, logicalId, value.physicalId, logicalId), value.held ?? []));
      await retry(() => deleteState(name));
    }
    for (const name of marks) await retry(() => deleteState(name));
  } catch (e) {
    console.log(`The stack's state was left as it is after ${errorText(e)}`);
  }
}

/**
 * Deletes the artifacts of jobs whose removal policy is DESTROY, job by job. A deletion that cannot
 * finish never fails the stack's deletion: what is left is logged, with why, and the stack goes.
 */
async function destroyArtifacts(jobs: JobProperties[], stackId: string, deadline: number): Promise<void> {
  // Past the call's deadline every call fails at once, so that the runtime still answers CloudFormation
  // (an answer that never comes would fail the stack's deletion after the service timeout).
  const retry = <R>(fn: () => Promise<R>) => {
    if (world.now() > deadline) return Promise.reject(new JobFailure('out of time for this call: not tried'));
    return retrying(fn, deadline);
  };
  const stack = { stackId, holders: (artifact: Parameters<typeof otherHolders>[0]) => otherHolders(artifact, stackId) };
  for (const props of jobs) {
    try {
      const { deleted, left } = await world.runners[props.Kind].destroy!(toJob(props), retry, stack);
      console.log(`${props.Path}: removal policy DESTROY: deleted ${deleted.length}${listed(deleted)}.`);
      if (left.length > 0) console.log(`${props.Path}: removal policy DESTROY: left ${left.length}${listed(left)}. Delete them by hand (README: What stays after cdk destroy).`);
    } catch (e) {
      console.log(`${props.Path}: removal policy DESTROY: stopped after ${errorText(e)}; what is left stays. Delete it by hand (README: What stays after cdk destroy).`);
    }
  }
}

/** At most the first 20 items of a list, for a log line. */
function listed(items: string[]): string {
  if (items.length === 0) return '';
  const shown = items.slice(0, 20).join('; ');
  return `: ${shown}${items.length > 20 ? `; and ${items.length - 20} more` : ''}`;
}

/** Checks every pending job, and signals the wait of each one that ended. Called by events and by the schedule. */
async function checkPendingJobs(deadline: number): Promise<void> {
  const stateRoot = statePath();
  const pending = await pendingJobs(stateRoot);
  let left = 0;
  for (const p of pending) {
    if (world.now() > deadline) {
      left++;
      continue;
    }
    try {
      if (!(await advance(stateRoot, p, deadline))) left++;
    } catch (e) {
      left++;
      if (isRetryable(e) || (isAccessDenied(e) && (await policyIsNewFor(p.stackId)()))) {
        console.log(`${p.job.Path}: will check again (${errorText(e)})`);
        continue;
      }
      const reason = failureMessage(`${p.job.Path}: the ${p.job.Kind} failed.`, [{ label: 'Error', text: errorText(e) }], MAX_REASON_BYTES);
      if (await end(stateRoot, p, { summary: reason, reason }).catch(() => false)) left--;
    }
  }
  if (left === 0) {
    await setPolling(false);
    // An attempt started while this call disabled the schedule keeps it on.
    if ((await pendingJobs(stateRoot)).length > 0) await setPolling(true);
  }
}

/** Moves one pending job on; true when it is no longer pending. */
async function advance(stateRoot: string, p: PendingJob, deadline: number): Promise<boolean> {
  if (p.ended) return trySignal(stateRoot, p);
  const runner = world.runners[p.job.Kind];
  const job = toJob(p.job);
  const elapsed = world.now() - p.since;
  const limit = Number(p.job.TimeoutSeconds) * 1_000 - GIVE_UP_MARGIN_MS;
  const minutes = Math.round(Number(p.job.TimeoutSeconds) / 60);
  if (!p.ref) {
    if (elapsed > limit) {
      const reason = failureMessage(`${p.job.Path}: the ${p.job.Kind} could not start within ${minutes} minutes.`, [{ label: 'Reason', text: p.throttled ?? 'unknown' }], MAX_REASON_BYTES);
      return end(stateRoot, p, { summary: reason, reason });
    }
    const start = p.startParts ? await readStartOnly(stateRoot, p.job.Key, p.startParts) : {};
    if (!start) {
      const reason = `${p.job.Path}: the ${p.job.Kind} could not start: the settings kept for its start are gone. Deploy again with a new retry word (-c cdk-immutable-deploys:retry=<new word>).`;
      return end(stateRoot, p, { summary: reason, reason });
    }
    const result = await runner.start({ ...job, spec: { ...job.spec, ...start } }, { id: p.attempt });
    if (result.state !== 'started') {
      await saveJob(stateRoot, { ...p, throttled: clipped(result.reason) });
      return false;
    }
    await saveJob(stateRoot, { ...p, job: withoutStartOnly(p.job, runner), ref: result.ref, throttled: undefined, startParts: undefined });
    if (p.startParts) await deleteStartOnly(stateRoot, p.job.Key);
    // The jobs resource may have stopped this attempt while it was starting: a stopped attempt never comes back.
    if (await wasStopped(stateRoot, p)) {
      await runner.cancel(job, result.ref);
      await deleteJob(stateRoot, p.job.Key);
      console.log(`${p.job.Path}: stopped ${result.ref} at once: its jobs resource stopped the attempt while it started`);
      return true;
    }
    return false;
  }
  const outcome = await runner.check(job, p.ref);
  if (outcome.state === 'pending') {
    if (elapsed <= limit) return false;
    await runner.cancel(job, p.ref);
    const reason = `${p.job.Path}: ${p.ref} did not finish within ${minutes} minutes (${outcome.detail}), and was stopped.`;
    return end(stateRoot, p, { summary: reason, reason });
  }
  if (outcome.state === 'succeeded') {
    console.log(`${p.job.Path}: ${outcome.summary}`);
    if (runner.prune) await prune(runner, job, deadline);
    return end(stateRoot, p, { summary: outcome.summary });
  }
  console.log(`${p.job.Path}: failed: ${outcome.reason}`);
  return end(stateRoot, p, { summary: outcome.reason, reason: outcome.reason });
}

/**
 * The job's retention, once an attempt succeeded and before its wait is signalled (so that no later
 * deploy of the stack runs while it prunes): at most `PRUNE_BUDGET_MS`, within the call's deadline.
 * It never fails the job: what it could not delete is logged, with why, and waits for the next success.
 */
async function prune(runner: JobRunner, job: Job, deadline: number): Promise<void> {
  const until = Math.min(deadline, world.now() + PRUNE_BUDGET_MS);
  const retry = <R>(fn: () => Promise<R>) => {
    if (world.now() > until) return Promise.reject(new JobFailure('out of time for this call: not tried (the next bake prunes it)'));
    return retrying(fn, until);
  };
  try {
    const { deleted, left } = await runner.prune!(job, retry, { holders: allHolders });
    if (deleted.length > 0) console.log(`${job.path}: retention: deleted ${deleted.length}${listed(deleted)}.`);
    if (left.length > 0) console.log(`${job.path}: retention: left ${left.length}${listed(left)}.`);
  } catch (e) {
    console.log(`${job.path}: retention: stopped after ${errorText(e)}; the next bake prunes what is left.`);
  }
}

/**
 * An attempt ended: its failure (if any) is kept for the job's `job-result` lookup, and its wait is
 * signalled once CloudFormation creates it. An attempt the jobs resource stopped meanwhile stays stopped.
 */
async function end(stateRoot: string, p: PendingJob, ended: NonNullable<PendingJob['ended']>): Promise<boolean> {
  if (await wasStopped(stateRoot, p)) {
    await deleteJob(stateRoot, p.job.Key);
    return true;
  }
  if (ended.reason !== undefined) {
    const failed: FailedResult = { attempt: p.attempt, reason: ended.reason };
    await putState(resultName(stateRoot, p.job.Key), failed, `cdk-immutable-deploys: why the last ${p.job.Kind} of ${p.job.Path} failed`);
  }
  // The pending state keeps the outcome short (the failure's whole reason is the result's, above).
  const done = { ...p, ended: { summary: clipped(ended.summary), ...(ended.reason !== undefined ? { reason: clipped(ended.reason) } : {}) } };
  await saveJob(stateRoot, done);
  return trySignal(stateRoot, done);
}

/** Whether the jobs resource stopped this very attempt (its stop mark names it). */
async function wasStopped(stateRoot: string, p: PendingJob): Promise<boolean> {
  return (await getState<string>(stoppedName(stateRoot, p.job.Key))) === p.attempt;
}

/**
 * Signals the wait of a job that ended, if CloudFormation is creating it; true when nothing is left
 * to do (signalled, or no wait will ever take the signal).
 */
async function trySignal(stateRoot: string, p: PendingJob): Promise<boolean> {
  const wait = await describeResource(p.stackId, p.job.Key);
  if (wait?.ResourceStatus === 'CREATE_IN_PROGRESS') {
    try {
      await cloudformation.send(new SignalResourceCommand({ StackName: p.stackId, LogicalResourceId: p.job.Key, UniqueId: p.attempt, Status: 'SUCCESS' }));
      console.log(`${p.job.Path}: signalled ${p.job.Key} (${p.ended?.reason === undefined ? 'ended' : 'failed; its result lookup says why'})`);
    } catch (e) {
      if (isRetryable(e) || (isAccessDenied(e) && (await policyIsNewFor(p.stackId)()))) throw e;
      // ValidationError: the wait took another signal, timed out, or is gone. Nothing waits for this one.
      console.log(`${p.job.Path}: ${p.job.Key} no longer takes signals (${errorText(e)}); forgetting the attempt`);
    }
  } else if (wait === undefined && world.now() - p.since < Number(p.job.TimeoutSeconds) * 1_000) {
    return false; // CloudFormation has not created the wait yet
  } else {
    console.log(`${p.job.Path}: ${p.job.Key} is ${wait?.ResourceStatus ?? 'gone'}: nothing waits for the signal; forgetting the attempt`);
  }
  await deleteJob(stateRoot, p.job.Key);
  return true;
}

/** Signals the waits of jobs that ended at once (reused artifacts), as soon as CloudFormation creates them, within a short window. */
async function signalSoon(keys: string[], deadline: number): Promise<void> {
  const stateRoot = statePath();
  const until = Math.min(deadline, world.now() + SIGNAL_WINDOW_MS);
  let waiting = keys;
  try {
    for (;;) {
      const next: string[] = [];
      for (const key of waiting) {
        const p = await pendingJob(stateRoot, key);
        if (p && !(await trySignal(stateRoot, p))) next.push(key);
      }
      waiting = next;
      if (waiting.length === 0 || world.now() + SIGNAL_PAUSE_MS > until) break;
      await world.sleep(SIGNAL_PAUSE_MS);
    }
  } catch (e) {
    console.log(`Signals left to the schedule after ${errorText(e)}`);
  }
  if (waiting.length > 0) {
    console.log(`${waiting.length} wait(s) not created yet: the schedule signals them`);
    return;
  }
  // Nothing is left for the schedule (an attempt another call started keeps it on, as in a check).
  await setPolling(false).catch(() => undefined);
  if ((await pendingJobs(stateRoot).then((left) => left.length, () => 1)) > 0) await setPolling(true).catch(() => undefined);
}

/**
 * Stops an attempt of a job that left the template. Its stop mark comes first, so that a check
 * racing the stop (one that read the attempt before and starts or ends it after) sees it; then the
 * attempt's state is read afresh, for a ref such a check may have saved meanwhile.
 */
async function stopAttempt(stateRoot: string, p: PendingJob, why: string, retry: <R>(fn: () => Promise<R>) => Promise<R>): Promise<void> {
  await retry(() => putState(stoppedName(stateRoot, p.job.Key), p.attempt, `cdk-immutable-deploys: stopped ${p.job.Kind} of ${p.job.Path}`));
  const latest = (await retry(() => pendingJob(stateRoot, p.job.Key))) ?? p;
  if (latest.attempt !== p.attempt) return; // another attempt of the job: not this stop's
  if (latest.ref && !latest.ended) {
    await retry(() => world.runners[p.job.Kind].cancel(toJob(p.job), latest.ref!));
    console.log(`${p.job.Path}: stopped ${latest.ref}: ${why}`);
  }
  await retry(() => deleteJob(stateRoot, p.job.Key));
}

/** Whether a resource of the stack exists already (a wait condition created by an earlier deploy). */
async function waitExists(stackId: string, logicalId: string): Promise<boolean> {
  return (await describeResource(stackId, logicalId)) !== undefined;
}

async function describeResource(stackId: string, logicalId: string) {
  try {
    const got = await cloudformation.send(new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalId }));
    return got.StackResourceDetail;
  } catch (e) {
    // "Resource <id> does not exist for stack <name>".
    if ((e as Error).name === 'ValidationError' && /does not exist/i.test((e as Error).message)) return undefined;
    throw e;
  }
}

/**
 * Whether CloudFormation changed one of the runtime's own policies a short while ago (the newest
 * `LastUpdatedTimestamp` of its default policy and overflow policies), so that an AccessDenied may be
 * IAM propagating the change. Asked once per call; when it cannot be told, it is taken as new (trying
 * again costs time, failing costs a deploy).
 */
function policyIsNewFor(stackId: string): PolicyIsNew {
  let answer: Promise<boolean> | undefined;
  return () => {
    answer ??= (async () => {
      const policies = (process.env[RUNTIME_ENV.POLICY] ?? '').split(',').filter((p) => p);
      try {
        for (const policy of policies) {
          const updated = (await describeResource(stackId, policy))?.LastUpdatedTimestamp;
          if (updated === undefined || world.now() - updated.getTime() < POLICY_PROPAGATION_MS) return true;
        }
        return false;
      } catch {
        return true;
      }
    })();
    return answer;
  };
}

async function setPolling(enabled: boolean): Promise<void> {
  const Name = process.env[RUNTIME_ENV.POLL_RULE];
  if (!Name) return;
  await eventbridge.send(enabled ? new EnableRuleCommand({ Name }) : new DisableRuleCommand({ Name }));
}

function statePath(): string {
  const path = process.env[RUNTIME_ENV.STATE_PATH];
  if (!path) throw new JobFailure(`The runtime has no ${RUNTIME_ENV.STATE_PATH}: define its resources with this library's constructs.`);
  return path;
}

function checkJob(job: JobProperties): void {
  if (!job.Key || !world.runners[job.Kind]) {
    throw new JobFailure(`Job ${job.Path ?? job.Key ?? '(unnamed)'} has no key or an unknown kind (${job.Kind}): define it with this library's constructs.`);
  }
}

/** A job without the settings that only its start needs (large documents), for its pending state. */
function withoutStartOnly(props: JobProperties, runner: JobRunner): JobProperties {
  if (!runner.startOnly) return props;
  const spec = Object.fromEntries(Object.entries(props.Spec).filter(([name]) => !runner.startOnly!.includes(name)));
  return { ...props, Spec: spec };
}

/** The start-only settings of a job. */
function startOnlyOf(props: JobProperties, runner: JobRunner): { [name: string]: unknown } {
  return Object.fromEntries(Object.entries(props.Spec).filter(([name]) => runner.startOnly?.includes(name)));
}

/** A reason as a pending job's state keeps it: at most 512 characters (its parameter takes 8 KB). */
function clipped(text: string): string {
  return text.length <= 512 ? text : `${text.slice(0, 509)}...`;
}

function toJob(props: JobProperties): Job {
  return { key: props.Key, kind: props.Kind, path: props.Path, fingerprint: props.Fingerprint, spec: props.Spec };
}

/** The physical id of a jobs resource: the stack's name and the resource's logical id, for its whole life. */
export function physicalIdOf(stackId: string, logicalId: string): string {
  const stackName = /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? 'stack';
  return `${stackName}-${logicalId}`;
}

/** The id of one attempt: the same on every replay of the request that started it. */
export function attemptOf(requestId: string, key: string): string {
  return createHash('sha256').update(`${requestId}\n${key}`).digest('hex').slice(0, 16);
}

