/**
 * Names that the constructs of registry-wide ECR settings (`ContainerImageBuild` replication,
 * `ReplicationDestination`) and the runtime's jobs that keep them share. No imports: the runtime's
 * bundle and the constructs both read it.
 *
 * Internal: never exported from the package.
 */

/**
 * The context key that keeps, for one deploy, the `AWS::ECR::ReplicationConfiguration` or
 * `AWS::ECR::RegistryPolicy` of an earlier version of the library in the template, unchanged, with
 * DeletionPolicy Retain: CloudFormation's Delete of either empties a registry-wide setting (every
 * rule, every statement), so the resource must leave the stack retained, never deleted.
 */
export const RETAIN_LEGACY_CONTEXT = 'cdk-immutable-deploys:retain-legacy-registry-settings';

/** The prefix of the `Sid` of a registry-policy statement this library keeps. */
export const STATEMENT_SID_PREFIX = 'CdkImmutableDeploys';
