/**
 * Types shared by `ContainerImageBuild` and its handlers (imported with `import type`).
 * Internal: not exported from the package.
 */

/** The `Custom::ContainerImageBuild` type name: a public contract, never renamed. */
export type ResourceTypeName = 'Custom::ContainerImageBuild';

/**
 * The properties of a `Custom::ContainerImageBuild` resource, as the handlers receive them:
 * CloudFormation passes every value as a string.
 */
export interface BuildResourceProperties {
  /** The shared CodeBuild project that builds images of this platform. */
  readonly ProjectName: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>` */
  readonly RepositoryUri: string;
  /** The fingerprint tag, `fp-<fingerprint>`. */
  readonly ImageTag: string;
  /** `Fingerprint.hex` of every input of the image. */
  readonly Fingerprint: string;
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
}

/** The attributes of a `Custom::ContainerImageBuild` resource. */
export interface BuildResourceAttributes {
  /** `sha256:<64 hexadecimal characters>` */
  readonly ImageDigest: string;
  /** 'true' when the image existed already and no build ran. */
  readonly Reused: string;
  /** The CodeBuild build that pushed the image, or '' when it was reused. */
  readonly BuildId: string;
}

/** The event a Provider framework handler receives (the parts these handlers read). */
export interface BuildEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly StackId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: BuildResourceProperties & { readonly ServiceToken?: string };
  readonly OldResourceProperties?: BuildResourceProperties;
  readonly Data?: Record<string, string>;
}

/** What `onEvent` returns. */
export interface OnEventResult {
  readonly PhysicalResourceId: string;
}

/** What `isComplete` returns. */
export interface IsCompleteResult {
  readonly IsComplete: boolean;
  readonly Data?: BuildResourceAttributes;
}
