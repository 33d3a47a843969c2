/**
 * The deploy-time runtime of a stack: one function that runs every deploy-time job of the stack
 * (container builds, AMI bakes). It is invoked three ways, and every call reads the world afresh:
 *
 * - by CloudFormation, for the stack's jobs resource (`Custom::CdkImmutableDeploysJobs`). It answers
 *   through the request's response URL itself. On Create and Update, each job that is new to the
 *   template either finds its artifact (and signals its fresh wait at once: nothing is built) or
 *   starts one attempt, which is kept as pending. A job whose wait already completed in an earlier
 *   deploy (a rollback onto an old fingerprint) is left alone: its handle is never signalled again.
 *   Jobs that left the template (the attempt of a failed update, on rollback) are stopped. Delete
 *   stops what still runs and deletes no artifact, with one exception: when the stack itself is being
 *   deleted (`DELETE_IN_PROGRESS`), the jobs whose removal policy is DESTROY delete what they made.
 * - by CloudFormation, for each lookup resource (`Custom::CdkImmutableDeploysLookup`, an artifact
 *   imported by fingerprint). It answers at once with the exact artifact (an AMI id, an image digest)
 *   as the resource's `Id`, or fails with a message that says what is missing and what to do. It is
 *   called only when the lookup's properties (the fingerprint, where to look) change, so a resolved
 *   id never drifts. Delete deletes nothing, except for a lookup that made something (the KMS grant
 *   for another account's AMI key), which undoes what its own physical id names.
 * - by EventBridge, when a CodeBuild build or an Image Builder image of the stack changes state, and
 * - by a schedule rule that is enabled only while a job is pending, so that a lost event never stalls
 *   a deploy. Both check every pending job and signal the wait of each one that ended: success with
 *   the artifact (an image digest, an AMI id) as the signal's data, failure with a bounded reason.
 *
 * The response URL and the handles are secrets: they are never logged and never in an error.
 */
import { createHash } from 'crypto';
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DisableRuleCommand, EnableRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { sendResponse, sendSignal, MAX_SIGNAL_REASON_BYTES } from './http';
import type { Job, JobRunner, LookupRunner } from './job';
import { JobFailure } from './job';
import { DESTROY, IN_USE_TAG_PREFIX, LOOKUP_ATTRIBUTE, LOOKUP_RESOURCE_TYPE, REMOVAL_POLICY_SETTING, RUNTIME_ENV } from './protocol';
import type { JobKind, JobProperties, JobsResourceProperties, LookupKind, LookupProperties } from './protocol';
import { LOOKUPS, RUNNERS } from './runners';
import { deleteJob, pendingJobs, PendingJob, saveJob } from './state';
import { errorText, failureMessage, isRetryable, MAX_REASON_BYTES } from '../failure';

const cloudformation = new CloudFormationClient({});
const eventbridge = new EventBridgeClient({});

/** Time kept between a call's own deadline and its Lambda timeout, to answer CloudFormation. */
export const DEADLINE_MARGIN_MS = 30_000;
/** A pending job is given up this long before its wait condition would time out, so that its failure says why. */
const GIVE_UP_MARGIN_MS = 2 * 60_000;

/** The part of the Lambda context the runtime reads. */
export interface CallContext {
  getRemainingTimeInMillis(): number;
}

/** The clock and the runners; tests replace them. */
export const world = {
  now: () => Date.now(),
  runners: RUNNERS as { [kind in JobKind]: JobRunner },
  lookups: LOOKUPS as { [kind in LookupKind]: LookupRunner },
  /** The first pause after throttling while answering CloudFormation; it doubles up to 10 s. */
  retryDelayMs: 500,
};

type Request = CloudFormationCustomResourceEvent & { ResourceProperties: JobsResourceProperties & { ServiceToken: string } };

export async function handler(event: unknown, context?: CallContext): Promise<void> {
  const deadline = world.now() + Math.max(5_000, (context?.getRemainingTimeInMillis() ?? 300_000) - DEADLINE_MARGIN_MS);
  if (isRequest(event) && (event as { ResourceType?: string }).ResourceType === LOOKUP_RESOURCE_TYPE) {
    await onLookup(event as unknown as LookupRequest, deadline);
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

async function onRequest(event: Request, deadline: number): Promise<void> {
  const base = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
  const previous = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
  let physicalId = previous ?? physicalIdOf(event.StackId, event.ResourceProperties.Jobs ?? []);
  try {
    if (event.RequestType === 'Delete') {
      await onDelete(event.StackId, event.LogicalResourceId, event.PhysicalResourceId, event.ResourceProperties.Jobs ?? [], deadline);
    } else {
      const old = event.RequestType === 'Update' ? (event.OldResourceProperties as unknown as JobsResourceProperties).Jobs ?? [] : [];
      physicalId = await applyJobs(event, old, previous, deadline);
    }
  } catch (e) {
    if (event.RequestType === 'Delete') {
      // Never block a rollback or a stack delete: what is left is an attempt that ends on its own.
      console.log(`Delete: left as it is after ${errorText(e)}`);
    } else {
      const headline = e instanceof JobFailure ? e.message : failureMessage('The deploy-time jobs of this stack could not start.', [{ label: 'Error', text: errorText(e) }]);
      console.log(`Failed: ${headline}`);
      await sendResponse(event.ResponseURL, { ...base, Status: 'FAILED', PhysicalResourceId: physicalId, Reason: failureMessage(headline, [], MAX_REASON_BYTES) });
      return;
    }
  }
  await sendResponse(event.ResponseURL, { ...base, Status: 'SUCCESS', PhysicalResourceId: physicalId });
}

type LookupRequest = CloudFormationCustomResourceEvent & { ResourceProperties: LookupProperties & { ServiceToken: string } };

/**
 * Answers a lookup resource: Create and Update resolve the fingerprint (throttling is tried again
 * until the call's deadline), Delete deletes nothing. The physical id names the kind and the
 * fingerprint, so a new fingerprint is a new resource and the old one's Delete is a no-op.
 */
async function onLookup(event: LookupRequest, deadline: number): Promise<void> {
  const base = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
  const props = event.ResourceProperties;
  const runner = world.lookups[props.Kind] as LookupRunner | undefined;
  const [, , , region, account] = event.StackId.split(':');
  const lookup = {
    kind: props.Kind,
    path: props.Path,
    fingerprint: props.Fingerprint,
    spec: props.Spec ?? {},
    account,
    region: process.env.AWS_REGION ?? region,
    stackId: event.StackId,
    logicalId: event.LogicalResourceId,
    previousSpec: event.RequestType === 'Update' ? (event.OldResourceProperties as Partial<LookupProperties> | undefined)?.Spec : undefined,
  };
  if (event.RequestType === 'Delete') {
    if (runner?.remove) {
      try {
        await retrying(() => runner.remove!(lookup, event.PhysicalResourceId), deadline);
      } catch (e) {
        // Never block a rollback or a stack delete: what is left is named in the log.
        console.log(`${props.Path}: Delete of ${event.PhysicalResourceId} left it as it is after ${errorText(e)}`);
      }
    }
    await sendResponse(event.ResponseURL, { ...base, Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId });
    return;
  }
  const physicalId = `${props.Kind}:${String(props.Fingerprint).slice(0, 32)}`;
  const previous = event.RequestType === 'Update' ? event.PhysicalResourceId : undefined;
  try {
    if (!runner || !props.Fingerprint) {
      throw new JobFailure(`Lookup ${props.Path ?? event.LogicalResourceId} has no fingerprint or an unknown kind (${props.Kind}): define it with this library's constructs.`);
    }
    const found = await retrying(() => runner.lookup(lookup), deadline);
    console.log(found.summary);
    await sendResponse(event.ResponseURL, { ...base, Status: 'SUCCESS', PhysicalResourceId: found.physicalId ?? physicalId, Data: { [LOOKUP_ATTRIBUTE]: found.data } });
  } catch (e) {
    const headline = e instanceof JobFailure ? e.message : failureMessage(`${props.Path}: the lookup of fingerprint ${props.Fingerprint} failed.`, [{ label: 'Error', text: errorText(e) }]);
    console.log(`Failed: ${headline}`);
    await sendResponse(event.ResponseURL, { ...base, Status: 'FAILED', PhysicalResourceId: previous ?? physicalId, Reason: failureMessage(headline, [], MAX_REASON_BYTES) });
  }
}

/** Starts or reuses every job that is new to the template; returns the resource's physical id. */
async function applyJobs(event: Request, old: JobProperties[], previousId: string | undefined, deadline: number): Promise<string> {
  const stateRoot = statePath();
  const jobs = event.ResourceProperties.Jobs ?? [];
  jobs.forEach(checkJob);
  const physicalId = physicalIdOf(event.StackId, jobs);
  const holdTag = holdTagOf(event.StackId, physicalId);
  const oldKeys = new Set(old.map((j) => j.Key));
  const newKeys = new Set(jobs.map((j) => j.Key));
  const pending = new Map((await pendingJobs(stateRoot)).map((p) => [p.job.Key, p]));

  // Attempts of this resource whose job left the template (on rollback: the failed update's): stop them.
  for (const p of pending.values()) {
    if (newKeys.has(p.job.Key) || p.owner !== event.LogicalResourceId) continue;
    await stopAttempt(stateRoot, p, 'its job left the template');
  }

  let started = 0;
  for (const props of jobs) {
    if (world.now() > deadline) {
      throw new JobFailure(`Ran out of time after starting ${started} of the stack's new jobs; deploy again to start the rest (the started ones are kept and not started twice).`);
    }
    const job = toJob(props);
    const runner = retryingRunner(world.runners[props.Kind], deadline);
    if (pending.has(props.Key)) continue; // a replay of this request, or an attempt under way
    if (oldKeys.has(props.Key) || (await waitExists(event.StackId, props.Key))) {
      // Its wait completed in an earlier deploy (unchanged, or a rollback onto it): never signal it again.
      if (runner.hold && physicalId !== previousId) {
        const found = await runner.find(job);
        if (found) await runner.hold(job, found, holdTag);
      }
      continue;
    }
    const attempt = attemptOf(event.RequestId, props.Key);
    const found = await runner.find(job);
    if (found) {
      await runner.hold?.(job, found, holdTag);
      await signal(props, { Status: 'SUCCESS', Reason: `Reused the artifact of fingerprint ${props.Fingerprint.slice(0, 16)}: nothing was built`, UniqueId: attempt, Data: found });
      console.log(`${props.Path}: reused ${found}`);
      continue;
    }
    const result = await runner.start(job, { id: attempt });
    await saveJob(stateRoot, {
      job: result.state === 'started' ? withoutStartOnly(props, runner) : props,
      attempt,
      owner: event.LogicalResourceId,
      since: world.now(),
      holdTag: runner.hold ? holdTag : undefined,
      ...(result.state === 'started' ? { ref: result.ref } : { throttled: result.reason }),
    });
    console.log(result.state === 'started' ? `${props.Path}: started ${result.ref}` : `${props.Path}: waiting to start (${result.reason})`);
    started++;
  }
  if (started > 0) await setPolling(true);
  return physicalId;
}

async function onDelete(stackId: string, logicalId: string, physicalId: string, jobs: JobProperties[], deadline: number): Promise<void> {
  const current = await currentPhysicalId(stackId, logicalId);
  const releaseHolds = async () => {
    for (const runner of Object.values(world.runners)) await runner.release?.(holdTagOf(stackId, physicalId), jobs.map(toJob));
  };
  if (current !== undefined && current !== physicalId) {
    // An earlier version of the resource, replaced by a successful update (or the failed one, after a
    // rollback): the stack goes on, only this version's marks on artifacts go.
    await releaseHolds();
    return;
  }
  const stateRoot = statePath();
  const left = await pendingJobs(stateRoot);
  for (const p of left.filter((j) => j.owner === logicalId)) {
    await stopAttempt(stateRoot, p, 'its jobs resource is deleted');
  }
  await releaseHolds();
  if (left.every((j) => j.owner === logicalId)) await setPolling(false);
  const doomed = jobs.filter((j) => j.Spec?.[REMOVAL_POLICY_SETTING] === DESTROY && world.runners[j.Kind]?.destroy);
  if (doomed.length > 0 && (await retrying(() => stackIsDeleted(stackId), deadline))) {
    await destroyArtifacts(doomed, holdTagOf(stackId, physicalId), deadline);
    return;
  }
  console.log(`Deleted the jobs resource of ${jobs.length} job(s); no artifact was deleted.`);
}

/**
 * Whether the stack itself is being deleted. A Delete of the current version of the jobs resource also
 * comes when the resource leaves the template in an update (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS) or when
 * a failed create rolls back (ROLLBACK_IN_PROGRESS): neither deletes artifacts.
 */
async function stackIsDeleted(stackId: string): Promise<boolean> {
  const got = await cloudformation.send(new DescribeStacksCommand({ StackName: stackId }));
  return got.Stacks?.[0]?.StackStatus === 'DELETE_IN_PROGRESS';
}

/**
 * Deletes the artifacts of jobs whose removal policy is DESTROY, job by job. A deletion that cannot
 * finish never fails the stack's deletion: what is left is logged, with why, and the stack goes.
 */
async function destroyArtifacts(jobs: JobProperties[], holdTag: string, deadline: number): Promise<void> {
  // Past the call's deadline every call fails at once, so that the runtime still answers CloudFormation
  // (an answer that never comes would fail the stack's deletion after the service timeout).
  const retry = <R>(fn: () => Promise<R>) => {
    if (world.now() > deadline) return Promise.reject(new JobFailure('out of time for this call: not tried'));
    return retrying(fn, deadline);
  };
  for (const props of jobs) {
    try {
      const { deleted, left } = await world.runners[props.Kind].destroy!(toJob(props), retry, holdTag);
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

/** Checks every pending job and signals those that ended. Called by events and by the schedule. */
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
      if (!(await advance(stateRoot, p))) left++;
    } catch (e) {
      left++;
      if (isRetryable(e)) {
        console.log(`${p.job.Path}: will check again (${errorText(e)})`);
        continue;
      }
      await finish(stateRoot, p, { Status: 'FAILURE', Reason: failureMessage(`${p.job.Path}: the ${p.job.Kind} failed.`, [{ label: 'Error', text: errorText(e) }], MAX_SIGNAL_REASON_BYTES), UniqueId: p.attempt, Data: '' });
      left--;
    }
  }
  if (left === 0) {
    await setPolling(false);
    // An attempt started while this call disabled the schedule keeps it on.
    if ((await pendingJobs(stateRoot)).length > 0) await setPolling(true);
  }
}

/** Moves one pending job on; true when it is no longer pending. */
async function advance(stateRoot: string, p: PendingJob): Promise<boolean> {
  const runner = world.runners[p.job.Kind];
  const job = toJob(p.job);
  const elapsed = world.now() - p.since;
  const limit = Number(p.job.TimeoutSeconds) * 1_000 - GIVE_UP_MARGIN_MS;
  const minutes = Math.round(Number(p.job.TimeoutSeconds) / 60);
  if (!p.ref) {
    if (elapsed > limit) {
      return finish(stateRoot, p, { Status: 'FAILURE', Reason: failureMessage(`${p.job.Path}: the ${p.job.Kind} could not start within ${minutes} minutes.`, [{ label: 'Reason', text: p.throttled ?? 'unknown' }], MAX_SIGNAL_REASON_BYTES), UniqueId: p.attempt, Data: '' });
    }
    const result = await runner.start(job, { id: p.attempt });
    await saveJob(stateRoot, result.state === 'started' ? { ...p, job: withoutStartOnly(p.job, runner), ref: result.ref, throttled: undefined } : { ...p, throttled: result.reason });
    return false;
  }
  const outcome = await runner.check(job, p.ref);
  if (outcome.state === 'pending') {
    if (elapsed <= limit) return false;
    await runner.cancel(job, p.ref);
    return finish(stateRoot, p, { Status: 'FAILURE', Reason: `${p.job.Path}: ${p.ref} did not finish within ${minutes} minutes (${outcome.detail}), and was stopped.`, UniqueId: p.attempt, Data: '' });
  }
  if (outcome.state === 'succeeded') {
    if (runner.hold && p.holdTag) await runner.hold(job, outcome.data, p.holdTag);
    console.log(`${p.job.Path}: ${outcome.summary}`);
    return finish(stateRoot, p, { Status: 'SUCCESS', Reason: outcome.summary, UniqueId: p.attempt, Data: outcome.data });
  }
  console.log(`${p.job.Path}: failed: ${outcome.reason}`);
  return finish(stateRoot, p, { Status: 'FAILURE', Reason: outcome.reason, UniqueId: p.attempt, Data: '' });
}

/** Signals a pending job's wait once and forgets the job. */
async function finish(stateRoot: string, p: PendingJob, body: Parameters<typeof sendSignal>[1]): Promise<true> {
  try {
    await signal(p.job, body);
  } catch (e) {
    if (isRetryable(e)) throw e;
    // 403/404: the wait is gone (its stack update rolled back) or its handle expired. Nothing waits.
    console.log(`${p.job.Path}: its wait no longer takes signals (${errorText(e)}); forgetting the attempt`);
  }
  await deleteJob(stateRoot, p.job.Key);
  return true;
}

async function stopAttempt(stateRoot: string, p: PendingJob, why: string): Promise<void> {
  if (p.ref) {
    await world.runners[p.job.Kind].cancel(toJob(p.job), p.ref);
    console.log(`${p.job.Path}: stopped ${p.ref}: ${why}`);
  }
  await deleteJob(stateRoot, p.job.Key);
}

async function signal(job: JobProperties, body: Parameters<typeof sendSignal>[1]): Promise<void> {
  await sendSignal(job.Handle, body);
}

/** Whether a resource of the stack exists already (a wait condition created by an earlier deploy). */
async function waitExists(stackId: string, logicalId: string): Promise<boolean> {
  return (await describeResource(stackId, logicalId)) !== undefined;
}

async function currentPhysicalId(stackId: string, logicalId: string): Promise<string | undefined> {
  return (await describeResource(stackId, logicalId))?.PhysicalResourceId;
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
  if (!job.Key || !job.Handle || !world.runners[job.Kind]) {
    throw new JobFailure(`Job ${job.Path ?? job.Key ?? '(unnamed)'} has no key, no wait handle or an unknown kind (${job.Kind}): define it with this library's constructs.`);
  }
}

/**
 * A runner whose calls try again after throttling or a transient fault, until the call's deadline:
 * while CloudFormation waits for an answer, throttling must not fail the deploy.
 */
function retryingRunner(runner: JobRunner, deadline: number): JobRunner {
  const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => retrying(() => fn.apply(runner, args), deadline);
  return {
    startOnly: runner.startOnly,
    find: wrap(runner.find),
    start: wrap(runner.start),
    check: wrap(runner.check),
    cancel: wrap(runner.cancel),
    hold: runner.hold ? wrap(runner.hold) : undefined,
    release: runner.release ? wrap(runner.release) : undefined,
  };
}

/** Calls `fn` again after throttling or a transient fault, pausing longer each time, until the deadline. */
async function retrying<R>(fn: () => Promise<R>, deadline: number): Promise<R> {
  let delay = world.retryDelayMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetryable(e) || world.now() + delay > deadline) throw e;
      console.log(`Trying again in ${delay} ms: ${errorText(e)}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/** A job without the settings that only its start needs (large documents), for its pending state. */
function withoutStartOnly(props: JobProperties, runner: JobRunner): JobProperties {
  if (!runner.startOnly) return props;
  const spec = Object.fromEntries(Object.entries(props.Spec).filter(([name]) => !runner.startOnly!.includes(name)));
  return { ...props, Spec: spec };
}

function toJob(props: JobProperties): Job {
  return { key: props.Key, kind: props.Kind, path: props.Path, fingerprint: props.Fingerprint, spec: props.Spec };
}

/**
 * The physical id of the jobs resource: it changes with the set of jobs whose artifacts the stack
 * holds, so that CloudFormation deletes the earlier version, and with it its marks, once an update
 * succeeds (or the failed version, after a rollback).
 */
export function physicalIdOf(stackId: string, jobs: JobProperties[]): string {
  const held = jobs.filter((j) => world.runners[j.Kind]?.hold).map((j) => j.Key).sort();
  const stackName = /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? 'stack';
  return `${stackName}-jobs-${createHash('sha256').update(held.join('\n')).digest('hex').slice(0, 16)}`;
}

/** The tag by which one version of a stack's jobs resource marks the artifacts the stack uses. */
export function holdTagOf(stackId: string, physicalId: string): string {
  return `${IN_USE_TAG_PREFIX}${createHash('sha256').update(`${stackId}\n${physicalId}`).digest('hex').slice(0, 24)}`;
}

/** The id of one attempt: the same on every replay of the request that started it. */
export function attemptOf(requestId: string, key: string): string {
  return createHash('sha256').update(`${requestId}\n${key}`).digest('hex').slice(0, 16);
}
