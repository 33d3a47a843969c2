/**
 * The runtime's lookup resources (`Custom::CdkImmutableDeploysLookup`): each answers at once with the
 * exact artifact of a fingerprint as its `Id`, or fails with a message that says what is missing and
 * what to do. Two families:
 *
 * - imports by fingerprint (`ami-lookup`, `image-lookup`), and the KMS grant (`key-grant`);
 * - the read-back of one of the stack's own jobs (`job-result`): once the job's wait completed, the
 *   artifact is read from AWS by its fingerprint through the job's runner, never taken from the
 *   wait's signal. When the job failed, it fails with the job's reason.
 *
 * Each version (physical id) of a lookup keeps a record of what it answered and holds (`state.ts`).
 * An Update whose properties a standing version was made from (a rollback onto it, or a replay)
 * answers from that record, with no new search: a rollback never fails because the artifact was
 * cleaned up after the update started, and never drifts. A Delete releases what its own version held
 * and undoes what it made with the spec it was made from, never with the Delete's properties.
 *
 * Internal: never exported from the package.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { hold, release } from './holds';
import { sendResponse } from './http';
import type { Found, Held, Job, Lookup, LookupRunner } from './job';
import { JobFailure } from './job';
import { LOOKUP_ATTRIBUTE, RESULT_JOB_KIND, RESULT_KEY, RUNTIME_ENV } from './protocol';
import type { JobKind, LookupProperties } from './protocol';
import { deleteState, getState, holderOf, lookupRecords, pendingJob, putState, recordName, resultName } from './state';
import type { FailedResult, LookupRecord } from './state';
import { PolicyIsNew, retrying, world } from './world';
import { errorText, failureMessage, MAX_REASON_BYTES } from '../failure';

export type LookupRequest = CloudFormationCustomResourceEvent & { ResourceProperties: LookupProperties & { ServiceToken: string } };

/** What a lookup asks CloudFormation about its stack. */
export interface StackCalls {
  readonly policyIsNew: PolicyIsNew;
}

/** How often, and how far apart, a read-back looks again for an artifact its job made but AWS does not list yet. */
export const READ_BACK_TRIES = 4;
export const READ_BACK_PAUSE_MS = 10_000;

/**
 * Answers a lookup resource: Create and Update resolve the fingerprint (throttling, and an AccessDenied
 * while the runtime's policy is new, are tried again until the call's deadline), Delete releases and
 * undoes what its version held and made.
 */
export async function onLookup(event: LookupRequest, deadline: number, calls: StackCalls): Promise<void> {
  const base = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
  const props = event.ResourceProperties;
  const [, , , region, account] = event.StackId.split(':');
  const lookup: Lookup = {
    kind: props.Kind,
    path: props.Path,
    fingerprint: props.Fingerprint,
    spec: props.Spec ?? {},
    account,
    region: process.env.AWS_REGION ?? region,
    stackId: event.StackId,
    logicalId: event.LogicalResourceId,
    previousSpec: event.RequestType === 'Update' ? (event.OldResourceProperties as Partial<LookupProperties> | undefined)?.Spec : undefined,
    deadline,
    now: () => world.now(),
    policyIsNew: calls.policyIsNew,
  };
  const stateRoot = process.env[RUNTIME_ENV.STATE_PATH];
  if (event.RequestType === 'Delete') {
    await onDelete(lookup, event.PhysicalResourceId, stateRoot, deadline);
    await sendResponse(event.ResponseURL, { ...base, Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId });
    return;
  }
  const defaultId = `${props.Kind}:${String(props.Fingerprint).slice(0, 32)}`;
  const previous = event.RequestType === 'Update' ? event.PhysicalResourceId : undefined;
  try {
    if (!props.Fingerprint || !(props.Kind === 'job-result' || runnerOf(props.Kind))) {
      throw new JobFailure(`Lookup ${props.Path ?? event.LogicalResourceId} has no fingerprint or an unknown kind (${props.Kind}): define it with this library's constructs.`);
    }
    const answer = (await answered(lookup, stateRoot, deadline, calls)) ?? (await resolveAndHold(lookup, defaultId, stateRoot, deadline, calls));
    await sendResponse(event.ResponseURL, { ...base, Status: 'SUCCESS', PhysicalResourceId: answer.physicalId, Data: { [LOOKUP_ATTRIBUTE]: answer.data } });
  } catch (e) {
    const headline = e instanceof JobFailure ? e.message : failureMessage(`${props.Path}: the lookup of fingerprint ${props.Fingerprint} failed.`, [{ label: 'Error', text: errorText(e) }]);
    console.log(`Failed: ${headline}`);
    await sendResponse(event.ResponseURL, { ...base, Status: 'FAILED', PhysicalResourceId: previous ?? defaultId, Reason: failureMessage(headline, [], MAX_REASON_BYTES) });
  }
}

/** The runner of a lookup kind; none for `job-result`, which the runtime answers itself, or a kind it does not know. */
function runnerOf(kind: string): LookupRunner | undefined {
  return (world.lookups as { [kind: string]: LookupRunner | undefined })[kind];
}

/** The record of a standing version of this lookup made from exactly these properties, if there is one. */
async function answered(lookup: Lookup, stateRoot: string | undefined, deadline: number, calls: StackCalls): Promise<LookupRecord | undefined> {
  if (!stateRoot || runnerOf(lookup.kind)?.keepsSharedSetting) return undefined;
  const records = await retrying(() => lookupRecords(stateRoot, lookup.logicalId), deadline, calls.policyIsNew);
  const same = records.find((r) => r.fingerprint === lookup.fingerprint && sameSpec(r.spec, lookup.spec));
  if (same) console.log(`${lookup.path}: fingerprint ${lookup.fingerprint.slice(0, 16)} is ${same.data}, as its version ${same.physicalId} answered before`);
  return same;
}

function sameSpec(a: { readonly [name: string]: string }, b: { readonly [name: string]: string }): boolean {
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])];
  return keys.every((k) => (a ?? {})[k] === (b ?? {})[k]);
}

/** Resolves the fingerprint, records the answer, then holds what the stack runs (record first: a crash leaves nothing it cannot release). */
async function resolveAndHold(
  lookup: Lookup, defaultId: string, stateRoot: string | undefined, deadline: number, calls: StackCalls,
): Promise<{ physicalId: string; data: string }> {
  const found = await retrying(() => resolve(lookup, stateRoot), deadline, calls.policyIsNew);
  const physicalId = found.physicalId ?? defaultId;
  const held = found.held ?? [];
  if (stateRoot) {
    const name = recordName(stateRoot, lookup.logicalId, physicalId);
    const save = (kept: Held[]) => retrying(() => putState(name, { physicalId, fingerprint: lookup.fingerprint, data: found.data, spec: lookup.spec, held: kept }, `cdk-immutable-deploys: what ${lookup.path} answered`), deadline, calls.policyIsNew);
    // The same version answered before with other properties (a region a bake no longer copies to): what it held then and not now goes.
    const before = (await retrying(() => getState<LookupRecord>(name), deadline, calls.policyIsNew))?.held ?? [];
    const dropped = before.filter((h) => !held.some((n) => n.region === h.region && n.id === h.id));
    await save([...held, ...dropped]);
    const holder = holderOf(lookup.stackId, lookup.logicalId, physicalId, lookup.path);
    if (held.length > 0) await retrying(() => hold(world.keepers, holder, held), deadline, calls.policyIsNew);
    if (dropped.length > 0) {
      await retrying(() => release(world.keepers, holder, dropped), deadline, calls.policyIsNew);
      await save(held);
    }
  }
  console.log(found.summary);
  return { physicalId, data: found.data };
}

async function resolve(lookup: Lookup, stateRoot: string | undefined): Promise<Found> {
  if (lookup.kind === 'job-result') return readBack(lookup, stateRoot);
  return runnerOf(lookup.kind)!.lookup(lookup);
}

/**
 * The artifact of one of the stack's jobs, read back by its fingerprint through the job's runner once
 * its wait completed. Not there: the job's failure, if its last attempt failed; a wait completed by a
 * signal the runtime did not send, if the job still runs; else what to check.
 */
async function readBack(lookup: Lookup, stateRoot: string | undefined): Promise<Found> {
  const kind = lookup.spec[RESULT_JOB_KIND] as JobKind;
  const key = lookup.spec[RESULT_KEY];
  const runner = world.runners[kind];
  if (!runner || !key) throw new JobFailure(`Lookup ${lookup.path} reads back a job of an unknown kind (${kind}) or without a wait: define it with this library's constructs.`);
  const job: Job = { key, kind, path: lookup.path, fingerprint: lookup.fingerprint, spec: lookup.spec };
  for (let tries = 1; ; tries++) {
    const found = runner.readBack ? await runner.readBack(job) : await runner.find(job).then((data) => data && { data, summary: `${lookup.path}: fingerprint ${lookup.fingerprint.slice(0, 16)} is ${data}` });
    if (found) return found;
    const failed = stateRoot ? await getState<FailedResult>(resultName(stateRoot, key)) : undefined;
    if (failed) throw new JobFailure(failureMessage(failed.reason, [], MAX_REASON_BYTES));
    const pending = stateRoot ? await pendingJob(stateRoot, key) : undefined;
    if (pending && !pending.ended) {
      throw new JobFailure(`${lookup.path}: the wait ${key} completed while its ${kind} still runs (${pending.ref ?? 'not started yet'}): by a signal the runtime did not send. `
        + 'Nothing of that signal is used. Check who may call cloudformation:SignalResource on this stack, and deploy again.');
    }
    if (tries >= READ_BACK_TRIES) break;
    // The job ended with its artifact, which AWS may list a moment later (EC2's tag filters are eventually consistent).
    await world.sleep(READ_BACK_PAUSE_MS);
  }
  throw new JobFailure(`${lookup.path}: the ${kind} of fingerprint ${lookup.fingerprint} ended, but no artifact of it was found in account ${lookup.account} and region ${lookup.region}. `
    + 'Was it deleted (a lifecycle rule, by hand) since? Deploy again to build it anew.');
}

/** Releases what this version held, and undoes what it made (with the spec it was made from). Never fails the Delete. */
async function onDelete(lookup: Lookup, physicalId: string, stateRoot: string | undefined, deadline: number): Promise<void> {
  const runner = runnerOf(lookup.kind);
  try {
    const name = stateRoot ? recordName(stateRoot, lookup.logicalId, physicalId) : undefined;
    const record = name ? await retrying(() => getState<LookupRecord>(name), deadline) : undefined;
    if (record && record.held.length > 0) {
      await retrying(() => release(world.keepers, holderOf(lookup.stackId, lookup.logicalId, physicalId, lookup.path), record.held), deadline);
    }
    if (runner?.remove) await retrying(() => runner.remove!({ ...lookup, spec: record?.spec ?? lookup.spec }, physicalId), deadline);
    if (name && record) await retrying(() => deleteState(name), deadline);
  } catch (e) {
    // Never block a rollback or a stack delete: what is left is named in the log (a stack's deletion sweeps it).
    console.log(`${lookup.path}: Delete of ${physicalId} left it as it is after ${errorText(e)}`);
  }
}
