/**
 * The runtime's memory, in SSM Parameter Store (SecureString with the AWS managed key of SSM, never
 * logged), under the stack's own path `/cdk-immutable-deploys/<stack>`:
 *
 * - `<path>/<key>`: one pending job, written when an attempt starts (or an artifact is reused) and
 *   deleted once its wait is signalled;
 * - `<path>/stopped/<key>`: the attempt the jobs resource stopped, so that a check racing the stop
 *   never brings it back;
 * - `<path>/results/<key>`: why the last attempt of a job failed, for its `job-result` lookup;
 * - `<path>/start/<key>/<part>`: the start-only settings of a job that cannot start yet (a full
 *   quota), compressed, in parts of the standard tier;
 * - `<path>/lookups/<logical id>/<version>`: what one version (physical id) of a lookup answered and
 *   holds, so that a rollback answers the same without a new search, and a Delete releases exactly
 *   what that version held, whatever its properties say.
 *
 * And the account's register of who holds which artifact, in the artifact's region (a plain String
 * under `/cdk-immutable-deploys/_holds/<artifact id>/<stack>.<holder>`): one parameter per holder, so
 * that no count of holders runs into a limit of the artifact's own (an AMI takes 50 tags).
 *
 * Internal: never exported from the package.
 */
import { createHash } from 'crypto';
import { gunzipSync, gzipSync } from 'zlib';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { clientsByRegion } from './job';
import type { Held } from './job';
import { HOLDS_ROOT } from './protocol';
import type { JobProperties } from './protocol';

/** A job whose wait has not been signalled yet. */
export interface PendingJob {
  readonly job: JobProperties;
  /** The stack whose wait is signalled. */
  readonly stackId: string;
  /** The attempt's id: its signal's UniqueId and part of its tokens. */
  readonly attempt: string;
  /** The running attempt (a build id, an image ARN); absent while a quota keeps it from starting. */
  readonly ref?: string;
  /** Why it could not start yet (a full quota). */
  readonly throttled?: string;
  /** While it could not start yet: how many parts its start-only settings are kept in (`saveStartOnly`). */
  readonly startParts?: number;
  /** When the attempt was first tried, in ms since the epoch. */
  readonly since: number;
  /** The logical id of the jobs resource that started it. */
  readonly owner: string;
  /**
   * The attempt ended (or the artifact was reused): only its wait's signal is left, sent once
   * CloudFormation creates the wait. `reason` is set when it failed.
   */
  readonly ended?: { readonly summary: string; readonly reason?: string };
}

const ssm = new SSMClient({});
const ssmIn = clientsByRegion((region) => new SSMClient({ region }));

function isNotFound(e: unknown): boolean {
  return e instanceof ParameterNotFound || (e as Error).name === 'ParameterNotFound';
}

/** The longest value SSM's standard tier takes. */
const STANDARD_VALUE_CHARS = 4096;

/** Writes one parameter of the stack's state (SecureString: it may hold an error message). */
export async function putState(name: string, value: unknown, description: string): Promise<void> {
  const text = JSON.stringify(value);
  await ssm.send(new PutParameterCommand({
    Name: name,
    Value: text,
    Type: 'SecureString',
    Overwrite: true,
    // Past 4,096 characters (a job's settings) only the advanced tier takes it: asked for by name, since
    // Intelligent-Tiering is reported not to move such a value (aws-sdk-net#3157); below it, a parameter
    // that was advanced once stays so (SSM never moves one back to standard).
    Tier: text.length > STANDARD_VALUE_CHARS ? 'Advanced' : 'Intelligent-Tiering',
    Description: description.slice(0, 1024),
  }));
}

/** Reads one parameter of the stack's state; undefined when there is none (or it cannot be read). */
export async function getState<T>(name: string): Promise<T | undefined> {
  try {
    const got = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    return JSON.parse(got.Parameter?.Value ?? '') as T;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    if (e instanceof SyntaxError) {
      console.log(`Ignoring the unreadable state parameter ${name}`);
      return undefined;
    }
    throw e;
  }
}

/** Deletes one parameter of the stack's state; one that is gone already is no error. */
export async function deleteState(name: string): Promise<void> {
  try {
    await ssm.send(new DeleteParameterCommand({ Name: name }));
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
}

/** Every parameter directly under a path (or at any depth), every page, decrypted, parsed; unreadable ones are skipped. */
async function listState<T>(path: string, client: SSMClient = ssm, recursive = false, raw = false): Promise<Array<{ name: string; value: T }>> {
  const out: Array<{ name: string; value: T }> = [];
  let nextToken: string | undefined;
  do {
    const request = new GetParametersByPathCommand({ Path: path, Recursive: recursive, WithDecryption: true, NextToken: nextToken, MaxResults: 10 });
    const page = await client.send(request);
    for (const parameter of page.Parameters ?? []) {
      try {
        out.push({ name: parameter.Name ?? '', value: (raw ? parameter.Value : JSON.parse(parameter.Value ?? '')) as T });
      } catch {
        console.log(`Ignoring the unreadable state parameter ${parameter.Name}`);
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}

/** The parameter of a pending job: `<path>/<key>`. */
function pendingName(path: string, key: string): string {
  return `${path}/${key}`;
}

export async function saveJob(path: string, pending: PendingJob): Promise<void> {
  await putState(pendingName(path, pending.job.Key), pending, `cdk-immutable-deploys: pending ${pending.job.Kind} of ${pending.job.Path}`);
}

/** Deletes a pending job, and the start-only settings it kept while it could not start (first: nothing refers to them then). */
export async function deleteJob(path: string, key: string): Promise<void> {
  await deleteState(pendingName(path, key));
  await deleteStartOnly(path, key);
}

/** One pending job, read afresh; undefined once it is gone. */
export async function pendingJob(path: string, key: string): Promise<PendingJob | undefined> {
  return getState<PendingJob>(pendingName(path, key));
}

/** Every pending job of the stack. */
export async function pendingJobs(path: string): Promise<PendingJob[]> {
  return (await listState<PendingJob>(path)).map((p) => p.value);
}

/** Where a job that could not start yet keeps its start-only settings: `<path>/start/<key>/<part>`. */
function startName(path: string, key: string, part?: number): string {
  return `${path}/start/${key}${part === undefined ? '' : `/${String(part).padStart(3, '0')}`}`;
}

/** The characters of one part: within SSM's standard tier (4 KB), whatever the settings hold. */
export const START_PART_CHARS = 4_000;

/**
 * Keeps the start-only settings of a job that cannot start yet (component documents, of up to 100 KB
 * in all): compressed, in parts of the standard tier, since one parameter takes at most 8 KB.
 * Returns the number of parts.
 */
export async function saveStartOnly(path: string, key: string, settings: { [name: string]: unknown }): Promise<number> {
  const text = gzipSync(Buffer.from(JSON.stringify(settings), 'utf8')).toString('base64');
  const parts = Math.max(1, Math.ceil(text.length / START_PART_CHARS));
  for (let i = 0; i < parts; i++) {
    await ssm.send(new PutParameterCommand({
      Name: startName(path, key, i),
      Value: text.slice(i * START_PART_CHARS, (i + 1) * START_PART_CHARS),
      Type: 'SecureString',
      Overwrite: true,
      Tier: 'Standard',
      Description: `cdk-immutable-deploys: start-only settings of ${key}, part ${i + 1} of ${parts}`,
    }));
  }
  return parts;
}

/** The start-only settings `saveStartOnly` kept in `parts` parts; undefined if one is missing. */
export async function readStartOnly(path: string, key: string, parts: number): Promise<{ [name: string]: unknown } | undefined> {
  let text = '';
  for (let i = 0; i < parts; i++) {
    try {
      const got = await ssm.send(new GetParameterCommand({ Name: startName(path, key, i), WithDecryption: true }));
      text += got.Parameter?.Value ?? '';
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
  return JSON.parse(gunzipSync(Buffer.from(text, 'base64')).toString('utf8')) as { [name: string]: unknown };
}

/** Deletes the start-only settings of a job, if it kept any. */
export async function deleteStartOnly(path: string, key: string): Promise<void> {
  for (const { name } of await listState<unknown>(startName(path, key), ssm, false, true)) await deleteState(name);
}

/** The mark of an attempt the jobs resource stopped: `<path>/stopped/<key>`, holding the attempt's id. */
export function stoppedName(path: string, key: string): string {
  return `${path}/stopped/${key}`;
}

/** Why the last attempt of a job failed: `<path>/results/<key>`. */
export function resultName(path: string, key: string): string {
  return `${path}/results/${key}`;
}

/** What a failed attempt left for its job's `job-result` lookup. */
export interface FailedResult {
  readonly attempt: string;
  readonly reason: string;
}

/** What one version (physical id) of a lookup answered, with the spec it was made from and what it holds. */
export interface LookupRecord {
  readonly physicalId: string;
  readonly fingerprint: string;
  readonly data: string;
  readonly spec: { readonly [name: string]: string };
  readonly held: Held[];
}

/** The record of a lookup's version: `<path>/lookups/<logical id>/<hash of the physical id>`. */
export function recordName(path: string, logicalId: string, physicalId: string): string {
  return `${path}/lookups/${logicalId}/${createHash('sha256').update(physicalId).digest('hex').slice(0, 32)}`;
}

/** Every record of one lookup resource (its versions that CloudFormation has not deleted yet). */
export async function lookupRecords(path: string, logicalId: string): Promise<LookupRecord[]> {
  return (await listState<LookupRecord>(`${path}/lookups/${logicalId}`)).map((r) => r.value);
}

/**
 * What the stack's state keeps beyond pending jobs (stop marks, failures, lookup records, start-only
 * settings), every parameter at any depth under `<path>/stopped`, `<path>/results`, `<path>/lookups`
 * and `<path>/start`: what a stack's deletion sweeps.
 */
export async function leftovers(path: string): Promise<{ records: Array<{ name: string; value: LookupRecord }>; marks: string[] }> {
  const records = await listState<LookupRecord>(`${path}/lookups`, ssm, true);
  const marks = [
    ...await listState<unknown>(`${path}/stopped`), ...await listState<unknown>(`${path}/results`), ...await listState<unknown>(`${path}/start`, ssm, true, true),
  ].map((m) => m.name);
  return { records, marks };
}

/** A holder in the account's register: a stack, and one version of one of its resources. */
export interface Holder {
  /** `<stack name>.<hash>`: the parameter's name, which IAM limits to the stack's own. */
  readonly id: string;
  readonly stackId: string;
  /** The construct path that holds it, for whoever reads the register. */
  readonly path: string;
}

/** One version of one resource of a stack, as a holder. */
export function holderOf(stackId: string, logicalId: string, physicalId: string, path: string): Holder {
  const stackName = /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? 'stack';
  const hash = createHash('sha256').update(`${stackId}\n${logicalId}\n${physicalId}`).digest('hex').slice(0, 24);
  return { id: `${stackName}.${hash}`, stackId, path };
}

/** The register of one artifact: `/cdk-immutable-deploys/_holds/<id>`. */
function registerOf(artifact: Held): string {
  return `${HOLDS_ROOT}/${artifact.id}`;
}

/** Records in the artifact's region that `holder` holds it. */
export async function register(artifact: Held, holder: Holder): Promise<void> {
  await ssmIn(artifact.region).send(new PutParameterCommand({
    Name: `${registerOf(artifact)}/${holder.id}`,
    Value: JSON.stringify({ stackId: holder.stackId, path: holder.path }),
    Type: 'String',
    Overwrite: true,
    Description: `cdk-immutable-deploys: ${holder.path} holds ${artifact.id}`.slice(0, 1024),
  }));
}

/** Removes `holder` from the artifact's register. */
export async function unregister(artifact: Held, holder: Holder): Promise<void> {
  try {
    await ssmIn(artifact.region).send(new DeleteParameterCommand({ Name: `${registerOf(artifact)}/${holder.id}` }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** Everyone who holds an artifact: the stack and construct path of each holder. */
export async function holdersOf(artifact: Held): Promise<Array<{ stackId: string; path: string }>> {
  return (await listState<{ stackId: string; path: string }>(registerOf(artifact), ssmIn(artifact.region))).map((h) => h.value);
}
