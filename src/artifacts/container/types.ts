/**
 * Types shared by `ContainerImageBuild` and its deploy-time job (imported with `import type`).
 * Internal: not exported from the package.
 */

/**
 * The settings of one container build, as the runtime's job receives them: CloudFormation passes
 * every value as a string.
 */
export interface ContainerBuildSpec {
  /** The shared CodeBuild project that builds images of this platform. */
  readonly ProjectName: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>` */
  readonly RepositoryUri: string;
  /** The fingerprint tag, `fp-<fingerprint>`. */
  readonly ImageTag: string;
  /** The build context: a zip file in S3. */
  readonly SourceBucket: string;
  readonly SourceKey: string;
  /** The Dockerfile's path inside the context, with forward slashes. */
  readonly Dockerfile: string;
  /** The Dockerfile stage to build, or '' for the last one. */
  readonly Target: string;
  /** Docker's platform name, e.g. `linux/arm64`. */
  readonly Platform: string;
  /** A JSON object of build arguments (names to values). */
  readonly BuildArgs: string;
  /** 'true' to reuse layers of the last fingerprint image and embed cache metadata in the new one. */
  readonly Cache: string;
  /** A CodeBuild compute type, e.g. `BUILD_GENERAL1_SMALL`. */
  readonly ComputeType: string;
  /** The build timeout in minutes. */
  readonly TimeoutMinutes: string;
  /** How long a build may wait in CodeBuild's queue, in minutes. */
  readonly QueuedTimeoutMinutes: string;
  /** 'true' to fail when the repository's tags are mutable. */
  readonly RequireImmutableTags: string;
  /** The ECR registries the Dockerfile pulls from, space-separated, for `docker login`. */
  readonly PullRegistries: string;
  /** 'destroy' when the stack's deletion deletes the repository the construct created; absent to keep it. */
  readonly RemovalPolicy?: string;
  /** Where ECR replicates the image (`replicateTo`): the build is done once every one has it. */
  readonly ReplicateTo?: ReplicationDestinationSpec[];
  /** With DESTROY and `replicateTo`: the construct's CloudFormation repository, deleted with the one it pushes to. */
  readonly AlsoDestroy?: string;
}

/** A region and account that ECR replicates a build's images to. */
export interface ReplicationDestinationSpec {
  readonly Region: string;
  readonly RegistryId: string;
}

/** The settings of one image lookup (`ContainerArtifact.fromFingerprint()`). */
export interface ImageLookupSpec {
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: the repository that holds the fingerprint tag. */
  readonly RepositoryUri: string;
}

/**
 * The settings of a stack's part of its registry's replication (`Custom::CdkImmutableDeploysLookup` of
 * kind `ecr-replication`): the repositories its replicating builds push to, and the rules that
 * replicate them. CloudFormation passes every value as a string: the lists are JSON.
 */
export interface ReplicationSpec {
  /** JSON of `ReplicatedRepositorySpec[]`. */
  readonly Repositories: string;
  /** JSON of `ReplicationRuleSpec[]`. */
  readonly Rules: string;
  /** The logical id an `AWS::ECR::ReplicationConfiguration` of an earlier version had in this stack. */
  readonly LegacyLogicalId: string;
  /** 'true' while that earlier resource is kept in the template with DeletionPolicy Retain. */
  readonly LegacyRetained?: string;
}

/** A repository a replicating build pushes to, which the runtime creates, or adopts when it exists. */
export interface ReplicatedRepositorySpec {
  readonly Name: string;
  /** The lifecycle policy text: keep the last `retainImages` fingerprint images, expire untagged ones. */
  readonly LifecyclePolicy: string;
  /** The repository policy text (`shareWith`), or '' for none. */
  readonly Policy: string;
  /** The repository's tags (the removal policy's). */
  readonly Tags: { readonly [key: string]: string };
}

/** One rule of a stack's replication: its destinations, and the repositories (exact names) it copies there. */
export interface ReplicationRuleSpec {
  readonly Destinations: ReplicationDestinationSpec[];
  readonly Repositories: string[];
}

/**
 * The settings of a destination's statement in its registry policy (`Custom::CdkImmutableDeploysLookup`
 * of kind `ecr-registry-policy`): a statement with a `Sid` of its own, beside others' statements.
 */
export interface RegistryPolicySpec {
  /** JSON of the statement, its `Sid` included. */
  readonly Statement: string;
  /** The logical id an `AWS::ECR::RegistryPolicy` of an earlier version had in this stack. */
  readonly LegacyLogicalId: string;
  /** 'true' while that earlier resource is kept in the template with DeletionPolicy Retain. */
  readonly LegacyRetained?: string;
}
