/**
 * What `cdk-immutable-deploys plan` reads from a template: resource metadata that every artifact and
 * deployment construct writes on one of its CloudFormation resources, under `PLAN_METADATA_KEY`.
 *
 * - An artifact writes it on its job's wait condition, whose logical id is named by the fingerprint:
 *   a new fingerprint is a new wait resource.
 * - A deployment writes it on the resource that runs the artifact (the Auto Scaling group, the ECS
 *   service): the resource whose every change is a replacement (the launch template, the task
 *   definition), and its replacement strategy with the settings the strategy rendered. On that
 *   revision resource it writes the artifacts it runs (by construct path, or by the id of an imported
 *   artifact), so that a new artifact changes only what changes anyway: the revision, never the
 *   group's or the service's own template.
 *
 * Everything here is known at synth time and rendered in a stable order, so two synths of the same
 * app give byte-identical templates. The shapes are shared with the plan command (`import type`).
 *
 * Internal: never exported from the package.
 */
import { CfnResource, IResolvable, Lazy, Stack, Token } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct, IConstruct } from 'constructs';

/** The resource-metadata key. Part of the contract between a template and the plan command. */
export const PLAN_METADATA_KEY = 'cdk-immutable-deploys:plan';
/** The version of the metadata's shape: bumped only when a field changes meaning. */
export const PLAN_METADATA_VERSION = 1;

/** An artifact's kind: what is built at deploy time. */
export type ArtifactKind = 'container-image' | 'ami';
/** A deployment's kind: what is replaced. */
export type DeploymentKind = 'auto-scaling-group' | 'fargate-service';

/** The metadata of an artifact. */
export interface ArtifactMetadata {
  readonly version: number;
  readonly role: 'artifact';
  readonly kind: ArtifactKind;
  /** The artifact construct's path. */
  readonly path: string;
  readonly fingerprint: string;
  /**
   * Where the plan looks for an artifact of this fingerprint: for an image, the repository's name
   * (a string, or `{ "Ref": "<logical id>" }` for a repository of the same stack).
   */
  readonly lookup?: { readonly [name: string]: unknown };
}

/** An artifact a deployment runs. */
export interface RunsArtifact {
  /** The artifact construct's path; absent for an artifact imported without a construct (`AmiArtifact.fromAmiId`). */
  readonly path?: string;
  /** The artifact's fingerprint (an imported artifact's AMI id or digest). */
  readonly fingerprint: string;
}

/** A resource whose every change replaces what runs. */
export interface Revision {
  readonly logicalId: string;
  /** Its construct's path. */
  readonly path: string;
}

/** The metadata of a deployment. */
export interface DeploymentMetadata {
  readonly version: number;
  readonly role: 'deployment';
  readonly kind: DeploymentKind;
  /** The deployment construct's path. */
  readonly path: string;
  /** The resources whose every change replaces what runs (a launch template, a task definition). */
  readonly revisions: Revision[];
  /** The strategy's name (`replaceGroup`, `rolling`, `instanceRefresh`; `ROLLING`, `BLUE_GREEN`, `CANARY`, `LINEAR`). */
  readonly strategy: string;
  /** What the strategy rendered on the resource, as aws-cdk-lib names it (camelCase). */
  readonly settings: { readonly [name: string]: unknown };
}

/** The metadata of a deployment's revision resource: what it runs. */
export interface RevisionMetadata {
  readonly version: number;
  readonly role: 'revision';
  /** The deployment construct's path. */
  readonly deployment: string;
  readonly artifacts: RunsArtifact[];
}

/** Any of them. */
export type PlanMetadata = ArtifactMetadata | DeploymentMetadata | RevisionMetadata;

/**
 * Records an artifact on its wait condition.
 *
 * @param artifact the artifact construct
 * @param resource the resource named by the fingerprint (the job's wait condition)
 * @param kind what the artifact is
 * @param fingerprint the artifact's fingerprint
 * @param lookup where an artifact of this fingerprint would be found
 */
export function recordArtifact(
  artifact: IConstruct, resource: CfnResource, kind: ArtifactKind, fingerprint: string, lookup?: { [name: string]: unknown },
): void {
  const metadata: ArtifactMetadata = { version: PLAN_METADATA_VERSION, role: 'artifact', kind, path: artifact.node.path, fingerprint, ...(lookup ? { lookup } : {}) };
  resource.addMetadata(PLAN_METADATA_KEY, metadata);
}

/** What a deployment records, beyond its kind and path. */
export interface DeploymentRecord {
  /** The artifacts it runs. */
  readonly artifacts: Array<{ readonly fingerprint: string }>;
  /** The resources whose every change replaces what runs. */
  readonly revisions: IConstruct[];
  readonly strategy: string;
  /** The strategy's settings, read when the template is rendered (after every later change to the resource). */
  readonly settings: () => { [name: string]: unknown };
}

/**
 * Records a deployment on the resource that runs its artifacts, and what it runs on its revisions.
 *
 * @param deployment the deployment construct
 * @param resource the resource that runs the artifacts (the group, the service)
 * @param kind what the deployment is
 * @param record what it runs, what replaces it and how
 */
export function recordDeployment(deployment: IConstruct, resource: CfnResource, kind: DeploymentKind, record: DeploymentRecord): void {
  const stack = Stack.of(resource);
  const value: IResolvable = Lazy.any({
    produce: () => {
      const metadata: DeploymentMetadata = {
        version: PLAN_METADATA_VERSION,
        role: 'deployment',
        kind,
        path: deployment.node.path,
        revisions: record.revisions.map((r) => ({ logicalId: stack.resolve(stack.getLogicalId(cfnOf(r))), path: r.node.path })),
        strategy: record.strategy,
        settings: record.settings(),
      };
      return metadata;
    },
  });
  resource.addMetadata(PLAN_METADATA_KEY, value);
  for (const revision of record.revisions) {
    const runs: RevisionMetadata = {
      version: PLAN_METADATA_VERSION,
      role: 'revision',
      deployment: deployment.node.path,
      artifacts: record.artifacts.map((a) => runsArtifact(a)),
    };
    cfnOf(revision).addMetadata(PLAN_METADATA_KEY, runs);
  }
}

/**
 * Records an Auto Scaling deployment on its group: the strategy's settings are the group's update
 * and creation policies.
 */
export function recordAutoScalingGroup(
  deployment: IConstruct, group: autoscaling.AutoScalingGroup, revision: IConstruct, artifact: { readonly fingerprint: string }, strategy: string,
): void {
  const cfn = group.node.defaultChild as CfnResource;
  recordDeployment(deployment, cfn, 'auto-scaling-group', {
    artifacts: [artifact],
    revisions: [revision],
    strategy,
    settings: () => ({ updatePolicy: cfn.cfnOptions.updatePolicy, creationPolicy: cfn.cfnOptions.creationPolicy }),
  });
}

/** Records an ECS deployment on its service: the strategy's settings are the service's deployment configuration. */
export function recordFargateService(
  deployment: IConstruct, service: ecs.FargateService, revision: IConstruct, artifact: { readonly fingerprint: string }, strategy: string,
): void {
  const cfn = service.node.defaultChild as ecs.CfnService;
  recordDeployment(deployment, cfn, 'fargate-service', {
    artifacts: [artifact],
    revisions: [revision],
    strategy,
    settings: () => ({ deploymentConfiguration: cfn.deploymentConfiguration, deploymentController: cfn.deploymentController }),
  });
}

function runsArtifact(artifact: { readonly fingerprint: string }): RunsArtifact {
  const fingerprint = Token.isUnresolved(artifact.fingerprint) ? '(known at deploy time)' : artifact.fingerprint;
  return Construct.isConstruct(artifact) ? { path: artifact.node.path, fingerprint } : { fingerprint };
}

function cfnOf(c: IConstruct): CfnResource {
  if (CfnResource.isCfnResource(c)) return c;
  const child = c.node.defaultChild;
  if (child && CfnResource.isCfnResource(child)) return child;
  throw new Error(`recordDeployment: ${c.node.path} is not a CloudFormation resource and has none as its default child.`);
}
