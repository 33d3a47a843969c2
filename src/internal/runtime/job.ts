/**
 * What a kind of deploy-time job gives the runtime: how to find an artifact that exists, start one
 * attempt, check on it and cancel it. The runtime owns everything else (answering CloudFormation,
 * signalling waits, keeping pending jobs, retries), so a job's code only speaks to its own service.
 *
 * Internal: never exported from the package.
 */
import type { JobKind, LookupKind } from './protocol';
import { failureMessage, FailurePart, MAX_REASON_BYTES } from '../failure';

/** One job as a runner receives it. */
export interface Job<S = { readonly [name: string]: unknown }> {
  readonly key: string;
  readonly kind: JobKind;
  /** The construct path of the artifact. */
  readonly path: string;
  readonly fingerprint: string;
  readonly spec: S;
}

/** One attempt at a job: its id is part of every token and marker of the attempt. */
export interface Attempt {
  /** 16 hexadecimal characters, the same on every replay of the request that started the attempt. */
  readonly id: string;
}

/** What starting an attempt gave. */
export type Started =
  /** Running: `ref` finds it again (a build id, an image build version ARN). */
  | { readonly state: 'started'; readonly ref: string }
  /** Not started: a service quota is full. The runtime tries again later and names `reason` if it gives up. */
  | { readonly state: 'throttled'; readonly reason: string };

/** How an attempt stands. */
export type Outcome =
  | { readonly state: 'pending'; readonly detail: string }
  /** Finished: `data` is what the artifact's consumers read (an image digest, an AMI id). */
  | { readonly state: 'succeeded'; readonly data: string; readonly summary: string }
  /** Failed: `reason` is bounded and printable, and names the failed step, the log tail and where the full log is. */
  | { readonly state: 'failed'; readonly reason: string };

/** The code of one kind of job. Every method may throw a retryable error: the runtime tries again. */
export interface JobRunner<S = any> {
  /** Settings of the spec that are only needed to start an attempt: a pending job's state leaves them out. */
  readonly startOnly?: string[];
  /** The artifact of this fingerprint, if it exists and may be reused (an image digest, an AMI id). */
  find(job: Job<S>): Promise<string | undefined>;
  /** Starts one attempt, or finds the one this attempt already started. */
  start(job: Job<S>, attempt: Attempt): Promise<Started>;
  /** Where an attempt stands. */
  check(job: Job<S>, ref: string): Promise<Outcome>;
  /** Stops an attempt that still runs; deletes no artifact. */
  cancel(job: Job<S>, ref: string): Promise<void>;
  /** Marks an artifact as used by a stack, so that retention keeps it. */
  hold?(job: Job<S>, data: string, holdTag: string): Promise<void>;
  /** Removes a stack's mark from every artifact that carries it; `jobs` are the jobs of the resource that set it (where to look). */
  release?(holdTag: string, jobs: Job<S>[]): Promise<void>;
  /**
   * Deletes every artifact this job's construct made over the stack's life (its removal policy is
   * DESTROY and the stack is being deleted), except what another stack or a user still keeps. It never
   * throws for one artifact: what it could not delete is in `left`, with why. Every call it sends goes
   * through `retry`, which tries throttling and transient faults again until the call's deadline.
   * `holdTag` is the deleted stack's own mark, released just before: EC2 may still show it for a
   * while (its reads are eventually consistent), so it is no other stack's use.
   */
  destroy?(job: Job<S>, retry: Retry, holdTag: string): Promise<Destroyed>;
}

/** Calls `fn` again after throttling or a transient fault, until the runtime call's deadline. */
export type Retry = <R>(fn: () => Promise<R>) => Promise<R>;

/** What deleting a job's artifacts did: what was deleted, and what is left and why. */
export interface Destroyed {
  readonly deleted: string[];
  readonly left: string[];
}

/** One lookup as its runner receives it. */
export interface Lookup<S = { readonly [name: string]: string }> {
  readonly kind: LookupKind;
  /** The construct path of the import. */
  readonly path: string;
  readonly fingerprint: string;
  readonly spec: S;
  /** The account and region of the stack that looks: where the artifact must be usable. */
  readonly account: string;
  readonly region: string;
  /** The stack and the logical id of the lookup's resource: a lookup that makes something names it by them. */
  readonly stackId: string;
  readonly logicalId: string;
  /**
   * On an Update, the spec the resource had before (on a rollback, the failed update's): a lookup
   * that keeps a part of a shared setting takes out what the old spec put there and the new one does not.
   */
  readonly previousSpec?: S;
}

/** What a lookup found. */
export interface Found {
  /** The exact artifact: an AMI id, an image digest. */
  readonly data: string;
  readonly summary: string;
  /**
   * The resource's physical id, when the lookup made something (a grant): it names what it made, so
   * that a new one is a new physical id and CloudFormation's cleanup deletes only the old one.
   *
   * @default - the kind and the fingerprint
   */
  readonly physicalId?: string;
}

/**
 * The code of one kind of lookup. It answers at once: no wait, no pending state. It throws a
 * `JobFailure` (bounded, naming the fingerprint, owner, account and region, and what to do) when the
 * artifact is not there, and a retryable error on throttling: the runtime tries again.
 */
export interface LookupRunner<S = any> {
  lookup(lookup: Lookup<S>): Promise<Found>;
  /**
   * Undoes what the lookup made, on the Delete of the resource whose physical id is `physicalId`
   * (absent: a lookup deletes nothing). It must leave alone anything that `physicalId` does not name.
   */
  remove?(lookup: Lookup<S>, physicalId: string): Promise<void>;
}

/** A failure that a job reports as it is: its message is already bounded and readable. */
export class JobFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobFailure';
  }
}

/** A bounded, readable failure of a lookup: its headline and parts, within a CloudFormation reason. */
export function lookupFailure(headline: string, parts: FailurePart[]): JobFailure {
  return new JobFailure(failureMessage(headline, parts, MAX_REASON_BYTES));
}

/** One SDK client per region, made on first use: `clientIn(region)`. */
export function clientsByRegion<C>(make: (region: string) => C): (region: string) => C {
  const clients = new Map<string, C>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = make(region);
      clients.set(region, client);
    }
    return client;
  };
}
