/**
 * What the per-stack deploy-time runtime and the constructs that give it jobs agree on: the custom
 * resource's type and properties, the job kinds, and the names the runtime's function reads from its
 * environment. No AWS SDK here: constructs and the runtime both import it (types with `import type`).
 *
 * Internal: never exported from the package.
 */

/** The custom resource type of a stack's jobs: a public contract, never renamed. */
export const JOBS_RESOURCE_TYPE = 'Custom::CdkImmutableDeploysJobs';

/** The jobs the runtime knows. */
export type JobKind = 'container-build' | 'ami-bake';

/**
 * The custom resource type of one lookup (an artifact imported by fingerprint, or the result of one of
 * the stack's jobs): a public contract, never renamed. One resource per lookup, because a response's
 * Data is capped at 4 KB.
 */
export const LOOKUP_RESOURCE_TYPE = 'Custom::CdkImmutableDeploysLookup';

/**
 * The lookups the runtime knows: each resolves a fingerprint to the exact artifact, at once. A
 * `key-grant` is the one that also makes something: the KMS grant that lets this account's Auto
 * Scaling role use another account's key (its "fingerprint" is that of the key and the grantee), and
 * that it retires again when its resource is deleted. `ecr-replication` and `ecr-registry-policy`
 * keep this stack's part of a registry-wide ECR setting (its replication rules and the repositories
 * they replicate; its statement of the registry policy), beside what others put there, and take only
 * their own part out again when their resource is deleted. A `job-result` reads back, from AWS and by
 * the fingerprint, what one of the stack's own jobs made, once the job's wait completed: the wait says
 * when, never what. Its spec names the job's kind (`JobKind`) and its wait (`Key`).
 */
export type LookupKind = 'ami-lookup' | 'image-lookup' | 'key-grant' | 'job-result' | 'ecr-replication' | 'ecr-registry-policy';

/** The attribute of a lookup resource that holds what it resolved (an AMI id, an image digest). */
export const LOOKUP_ATTRIBUTE = 'Id';

/**
 * The properties of a lookup resource. They carry the fingerprint and where to look, never the result:
 * an unchanged fingerprint is no property change, so CloudFormation does not call the runtime again
 * and the resolved id never drifts.
 */
export interface LookupProperties {
  readonly Kind: LookupKind;
  /** The construct path of the import, for messages. */
  readonly Path: string;
  readonly Fingerprint: string;
  /** Where to look (owner account, source region, repository), as strings. */
  readonly Spec: { readonly [name: string]: string };
}

/**
 * The spec settings of each kind of job that only its start needs (large documents): a pending job's
 * state leaves them out, and a job that cannot start yet keeps them apart, in parts that fit SSM's
 * standard tier (the runners' `startOnly` say the same).
 */
export const START_ONLY: { readonly [kind in JobKind]?: readonly string[] } = { 'ami-bake': ['Components', 'Assets'] };
/**
 * The most a job's settings without its start-only ones may take, JSON, at synth: a pending job's
 * state (an SSM parameter of at most 8 KB, the advanced tier's limit) holds them, its ids, and bounded
 * reasons (at most 512 bytes each).
 */
export const MAX_PENDING_JOB_BYTES = 6_000;

/** The spec settings of a `job-result` lookup that name its job: its kind and its wait's logical id. */
export const RESULT_JOB_KIND = 'JobKind';
export const RESULT_KEY = 'Key';

/** One job as the jobs resource lists it. CloudFormation passes every value as a string. */
export interface JobProperties {
  /**
   * The logical id of the job's wait condition, unique in the stack. It changes with the job's
   * fingerprint and timeout (and the retry word), so every attempt of a new input has a wait of its
   * own. The runtime signals it through CloudFormation's `SignalResource` (IAM-authenticated).
   */
  readonly Key: string;
  readonly Kind: JobKind;
  /** The construct path of the artifact, for messages. */
  readonly Path: string;
  /** The fingerprint of the artifact. */
  readonly Fingerprint: string;
  /** How long the job may take, in seconds (its wait condition's timeout), before the runtime gives up on it. */
  readonly TimeoutSeconds: string;
  /** What the job's kind needs to find, start, check and cancel it. */
  readonly Spec: { readonly [name: string]: unknown };
}

/**
 * The spec setting of a job whose construct's removal policy is DESTROY: `'destroy'`. A job without
 * it (RETAIN, the default) keeps its artifacts when the stack is deleted. The runtime reads it only
 * on a stack's deletion; it is no input of the fingerprint, so changing it rebuilds nothing.
 */
export const REMOVAL_POLICY_SETTING = 'RemovalPolicy';
export const DESTROY = 'destroy';

/** The properties of the jobs resource. */
export interface JobsResourceProperties {
  readonly Jobs: JobProperties[];
}

/** The environment of the runtime's function. */
export const RUNTIME_ENV = {
  /** The SSM parameter path under which pending jobs are kept: `/cdk-immutable-deploys/<stack>`. */
  STATE_PATH: 'CID_STATE_PATH',
  /** The name of the schedule rule that is enabled while a job is pending. */
  POLL_RULE: 'CID_POLL_RULE',
  /**
   * The logical ids of the runtime role's policies, comma-separated: its default policy and the
   * managed policies aws-cdk-lib moves statements to past 10,000 characters (`OverflowPolicyN`). An
   * AccessDenied soon after CloudFormation changed any of them is IAM propagating, and is tried again.
   */
  POLICY: 'CID_POLICY',
} as const;

/** The root of every state parameter of the runtime. */
export const STATE_ROOT = '/cdk-immutable-deploys';

/**
 * The account's register of which stacks hold which artifacts, in the artifact's region:
 * `/cdk-immutable-deploys/_holds/<artifact id>/<stack name>.<holder>`. A stack name has no `_`, so no
 * stack's state path is this one.
 */
export const HOLDS_ROOT = `${STATE_ROOT}/_holds`;
