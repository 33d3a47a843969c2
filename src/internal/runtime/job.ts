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
  /**
   * Finished: `data` is what the attempt made (an image digest, an AMI id), for the log only. What
   * the stack's consumers get is read back from AWS by the job's `job-result` lookup, never this.
   */
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
  /**
   * Reads back, from AWS and by the fingerprint, the artifact of a job whose wait completed: what the
   * stack's consumers run, and what the stack must hold so that no retention deletes it. `job.spec`
   * is the job's read-back spec (what `find` needs), not its whole spec.
   *
   * @default - `find`, holding nothing
   */
  readBack?(job: Job<S>): Promise<Found | undefined>;
  /**
   * The job's retention, after an attempt succeeded: deletes what its construct made that the
   * retention no longer keeps (older artifacts), never one that a stack holds (`holds`) or a user
   * keeps. Like `destroy`, it never throws for one artifact, and sends every call through `retry`
   * (which gives up at the prune's own deadline: what is left waits for the next success).
   *
   * @default - nothing is pruned
   */
  prune?(job: Job<S>, retry: Retry, holds: Holders): Promise<Destroyed>;
  /**
   * Deletes every artifact this job's construct made over the stack's life (its removal policy is
   * DESTROY and the stack is being deleted), except what another stack or a user still keeps. It never
   * throws for one artifact: what it could not delete is in `left`, with why. Every call it sends goes
   * through `retry`, which tries throttling and transient faults again until the call's deadline.
   */
  destroy?(job: Job<S>, retry: Retry, stack: DeletedStack): Promise<Destroyed>;
}

/** Who holds an artifact: the stacks the account's register in its region names. */
export interface Holders {
  holders(artifact: Held): Promise<string[]>;
}

/** The stack whose deletion runs a destroy, and who else holds an artifact. */
export interface DeletedStack extends Holders {
  readonly stackId: string;
  /** The other stacks that hold an artifact (a promoted stage, a layered bake elsewhere), from the account's register in its region. */
  holders(artifact: Held): Promise<string[]>;
}

/** Calls `fn` again after throttling or a transient fault, until the runtime call's deadline. */
export type Retry = <R>(fn: () => Promise<R>) => Promise<R>;

/** What deleting a job's artifacts did: what was deleted, and what is left and why. */
export interface Destroyed {
  readonly deleted: string[];
  readonly left: string[];
}

/**
 * An artifact a stack runs and holds, so that no retention (a lifecycle policy, a removal policy
 * DESTROY of another stack) deletes it: its kind of keeper, its region and its id.
 */
export interface Held {
  readonly kind: 'ami';
  readonly region: string;
  readonly id: string;
}

/**
 * What marks an artifact as kept for its kind's retention (an AMI's keep tag, which the bake's
 * lifecycle policy excludes). The runtime keeps the account's register of who holds what; a keeper
 * only sets and removes the mark. Both are idempotent; `keep` never turns a user's own mark into
 * the library's, and `unkeep` removes only the library's.
 */
export interface Keeper {
  keep(artifact: Held): Promise<void>;
  unkeep(artifact: Held): Promise<void>;
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
  /**
   * When the call must answer CloudFormation (ms since the epoch, on `now`'s clock): a lookup that waits
   * for something to settle (a new KMS grant) stops waiting before it.
   *
   * @default - no wait
   */
  readonly deadline?: number;
  /** The runtime's clock. @default Date.now */
  readonly now?: () => number;
  /**
   * Whether CloudFormation created or changed the runtime's own role policy a short while ago (in a
   * first deploy, its role too): a principal IAM just made may not be known to other services yet.
   *
   * @default - not new
   */
  readonly policyIsNew?: () => Promise<boolean>;
}

/** What a lookup found. */
export interface Found {
  /** The exact artifact: an AMI id, an image digest. */
  readonly data: string;
  readonly summary: string;
  /**
   * What the stack that looked must hold while the lookup's resource stands (the AMI it runs, in this
   * account): the runtime records it before marking it, and releases it on the resource's Delete.
   *
   * @default - nothing
   */
  readonly held?: Held[];
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
  /**
   * Whether the lookup keeps a part of a setting that others write too (a registry's replication
   * rules or policy): it writes its part again on every Create and Update, and never answers from the
   * record of an earlier answer, since another writer may have changed the setting since.
   *
   * @default false
   */
  readonly keepsSharedSetting?: boolean;
  lookup(lookup: Lookup<S>): Promise<Found>;
  /**
   * Undoes what the lookup made, on the Delete of the resource whose physical id is `physicalId`
   * (absent: a lookup deletes nothing). It must leave alone anything that `physicalId` does not name.
   * `lookup.spec` is the spec that made it (the runtime's record of it), not the Delete's properties,
   * which may be the template's newer ones.
   */
  remove?(lookup: Lookup<S>, physicalId: string): Promise<void>;
}

/**
 * A failure that a job reports as it is: its message is already bounded and readable. `origin` is
 * the AWS error it explains, if any: an AccessDenied behind it is still tried again while the
 * runtime's policy is new (`isAccessDenied` looks through to it).
 */
export class JobFailure extends Error {
  constructor(message: string, public readonly origin?: unknown) {
    super(message);
    this.name = 'JobFailure';
  }
}

/** A bounded, readable failure of a lookup: its headline and parts, within a CloudFormation reason. */
export function lookupFailure(headline: string, parts: FailurePart[], origin?: unknown): JobFailure {
  return new JobFailure(failureMessage(headline, parts, MAX_REASON_BYTES), origin);
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
