import * as fs from 'fs';
import * as path from 'path';
import { CustomResource, Duration, IgnoreMode, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { ContainerArtifact, IContainerArtifact } from './artifact';
import { BuildFingerprints, BuildInputs, fingerprintsOf, queueMinutesOf, resolveInputs, runtimeOf, TYPE } from './build-inputs';
import { ContainerBuildProjects, IMAGE_STATE_ACTIONS, MARGIN_MINUTES, MAX_BUILD_MINUTES, PULL_ACTIONS } from './build-projects';
import { CACHE_IMAGES_KEPT, CACHE_TAG_PREFIX, TAG_PREFIX } from './buildspec';
import { DigestImage } from './digest-image';
import { ImageRuntime, pullRegistries } from './dockerfile';
import { ContainerPlatform } from './platform';
import { warnUnusedCachePrefixes } from './pull-through-cache';
import { Destination, RegistryReplication, replicatedRepositoryName, replicatedRepositoryPrefix } from './registry-replication';
import type { ReplicationTarget } from './replication';
import { describeMutability, tagCanMove } from './tag-mutability';
import type { ContainerBuildSpec } from './types';
import { Fingerprint } from '../../fingerprint';
import { checkConstraints } from '../../internal/constraints';
import { constructError, describeConstruct, PropProblems, warn } from '../../internal/errors';
import { acknowledgeExact, acknowledgeWildcards } from '../../internal/nag';
import type { Reach } from '../../internal/pairing';
import { dockerignorePatterns } from '../../internal/paths';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';
import { checkPlaintextSecrets, entriesOf } from '../../internal/secrets';
import { recordInputs } from '../../plan/inputs';
import { recordArtifact } from '../../plan/metadata';

/**
 * Properties of a `ContainerImageBuild`.
 */
export interface ContainerImageBuildProps {
  /**
   * The Docker build context: a directory whose files (after its `.dockerignore` and `exclude`)
   * are uploaded as an asset and built by CodeBuild.
   */
  readonly directory: string;

  /**
   * The Dockerfile's path inside `directory`.
   *
   * @default 'Dockerfile'
   */
  readonly file?: string;

  /**
   * Build arguments (`--build-arg NAME=value`). They are part of the fingerprint, so they must be
   * known at synth time, and they are visible in the template and the build: never pass secrets.
   *
   * @default - no build arguments
   */
  readonly buildArgs?: { [name: string]: string };

  /**
   * The Dockerfile stage to build (`--target`).
   *
   * @default - the last stage
   */
  readonly target?: string;

  /**
   * The platform to build for. Each platform builds natively on its own CodeBuild environment:
   * arm64 images on ARM (Graviton), amd64 images on x86-64.
   *
   * @default ContainerPlatform.LINUX_AMD64
   */
  readonly platform?: ContainerPlatform;

  /**
   * The repository to push the image to.
   *
   * @default - a new repository with immutable tags, scan on push, KMS encryption (AES-256 with keys ECR manages for the repository the runtime keeps with `replicateTo`) and lifecycle
   * rules that keep the last `retainImages` fingerprint images
   */
  readonly repository?: ecr.IRepository;

  /**
   * Extra patterns of files to leave out of the build context, with `.dockerignore` rules.
   * They apply after the directory's own `.dockerignore`.
   *
   * @default - only the directory's `.dockerignore`
   */
  readonly exclude?: string[];

  /**
   * How long one build may run, in whole minutes. A deploy waits for the build through a
   * CloudFormation wait condition, which waits 12 hours at most, time in CodeBuild's queue
   * included, so at most 655 minutes (10 hours 55 minutes). A build waits in CodeBuild's queue while
   * every concurrent build the account may run is busy, for what the 12 hours leave (at most 8 hours),
   * and fails naming the concurrency quota if it never starts.
   *
   * @default Duration.minutes(30)
   */
  readonly buildTimeout?: Duration;

  /**
   * The CodeBuild compute type of this image's builds (a `BUILD_GENERAL1_*` type: Docker builds
   * cannot run on Lambda compute).
   *
   * @default codebuild.ComputeType.SMALL
   */
  readonly computeType?: codebuild.ComputeType;

  /**
   * Whether builds reuse the layers of earlier builds of the repository: each build writes the layers
   * of every stage of its Dockerfile (a builder stage's `npm ci` or `mvn package` too, not only the
   * final stage) to a build cache in the repository, tagged `cache-<arch>-<fingerprint>` (a tag of its
   * own, so no tag ever moves), and the next build reads the newest one. As with a local Docker cache,
   * a step whose instruction and inputs are unchanged is taken from the cache rather than run again;
   * the image is still built once per fingerprint and pinned by digest. The repository this construct
   * creates keeps the last 2 build caches; a `repository` you pass needs a lifecycle rule of its own
   * for the `cache-` tags (a warning says so).
   *
   * The cache runs on a BuildKit builder whose image comes from ECR Public (nothing from Docker Hub);
   * where it cannot be pulled, the build reuses only the final stage's layers of the newest image.
   *
   * @default true
   */
  readonly cache?: boolean;

  /**
   * A VPC to run builds in, for builds that must reach private registries or package mirrors.
   * Builds run in its private subnets, which need a route to ECR and S3 (a NAT gateway or VPC endpoints).
   *
   * @default - builds run outside any VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * How many fingerprint images the lifecycle rules of the new repository keep, by push date,
   * newest first. Lifecycle rules cannot see what runs: an image pushed before the last
   * `retainImages` pushes is expired even if a service still runs it, and reusing an image (a
   * revert, another stage) does not push it again, so it keeps its old place in the count.
   * Keep enough for every stage and rollback you need. Only for the repository this construct creates.
   *
   * @default 10
   */
  readonly retainImages?: number;

  /**
   * Whether a `repository` whose tags are mutable is an error rather than a warning. Tags of a
   * repository defined in this app are checked at synth time; those of an imported repository,
   * whose settings the app cannot see, are checked at deploy time when this is true (and give a
   * warning at synth time when it is not).
   *
   * @default false - mutable or unknown tags give a warning
   */
  readonly requireImmutableTags?: boolean;

  /**
   * AWS accounts that may pull this build's images and look them up by fingerprint
   * (`ContainerArtifact.fromFingerprint()`): the repository's policy lets them pull and call
   * `ecr:DescribeImages`, nothing else. In each account, the task's execution role still needs
   * permission to pull, which `ContainerArtifact.fromFingerprint()` grants there.
   *
   * @default - no other account
   */
  readonly shareWith?: string[];

  /**
   * Regions, and other accounts, that ECR replicates this build's images to, fingerprint tag and
   * digest unchanged, so that deploy stacks there pull from their own region
   * (`ContainerArtifact.fromFingerprint()` with the replica, or this build passed to a stack there).
   *
   * The images then go to a repository named `cdk-immutable-deploys/<stack>/<id>-<hash>` (known when
   * the app is synthesized, the same name in every destination), which the stack's deploy-time
   * runtime creates, or takes over when it exists (after a failed first deploy, a `cdk destroy` or a
   * revert), so that no re-creation collides with it; the build's CloudFormation repository stays, so
   * that what other stacks import from it never changes. With a `repository` you pass, that one is
   * replicated, by its name. ECR's replication configuration is registry-wide, one per account and
   * region, and shared: the runtime adds the stack's own rules beside everyone else's, and takes only
   * those out again. A build is done once every destination has its image. In each destination, a
   * `ReplicationDestination` makes the replicated repositories tag-immutable and encrypted (without
   * it ECR creates them with mutable tags) and lets other accounts replicate; deploy it first.
   *
   * @default - no replication
   */
  readonly replicateTo?: ReplicationTarget[];

  /**
   * The repository prefixes of ECR pull-through cache rules of this stack's account and region that
   * the Dockerfile pulls base images through (`FROM <account>.dkr.ecr.<region>.amazonaws.com/<prefix>/...`).
   * A pull through a cache needs more than a pull: the build's role may also import the upstream image
   * (`ecr:BatchImportUpstreamImage`) and create the cache repository on the first pull
   * (`ecr:CreateRepository`), on `repository/<prefix>/*` only. The rules themselves are yours
   * (`ecr.CfnPullThroughCacheRule`, or the console).
   *
   * @default - no pull-through cache
   */
  readonly pullThroughCachePrefixes?: string[];

  /**
   * What happens to the repository this construct creates, and its images, when the stack is
   * deleted. With `RemovalPolicy.DESTROY`, the stack's deletion deletes the repository with every
   * image in it. An update never deletes anything, also when the construct leaves the app: a revert
   * finds its images again. Only for the repository this construct creates: a `repository` you pass
   * is yours and stays. Refused with `shareWith`: other accounts may still run the images. It does not
   * count in the fingerprint: changing it builds nothing.
   *
   * @default RemovalPolicy.RETAIN - the repository and its images stay
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Whether two stacks are in one account: the same stack, or both in one known account. */
function sameAccount(a: Stack, b: Stack): boolean {
  return a === b || (!Token.isUnresolved(a.account) && a.account === b.account);
}

/** What pushing an image and reading the cache image needs on the repository. */
const PUSH_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchGetImage',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
];

/** The tag of a repository that the stack's deletion deletes (removal policy DESTROY): the stack's name. */
const DESTROY_TAG = 'cdk-immutable-deploys:destroy-with';


/**
 * A container image built from a Docker context by CodeBuild at deploy time and pushed to ECR,
 * tagged with the fingerprint of its inputs and exposed pinned by digest. No local Docker needed.
 *
 * The fingerprint covers the build context (after `.dockerignore` and `exclude`), the Dockerfile,
 * the build arguments, the target, the platform, the cache setting and the revision of the build
 * procedure. An image whose fingerprint tag exists already is reused: redeploys, other stages and
 * reverts start no build.
 *
 * Every image of a stack is built by one CodeBuild project per platform, driven by the stack's
 * one deploy-time runtime; a build may take up to 655 minutes.
 *
 * @example
 * const image = new ContainerImageBuild(this, 'Image', {
 *   directory: 'app', // the build context, e.g. path.join(__dirname, 'app')
 *   platform: ContainerPlatform.LINUX_ARM64,
 * });
 * // image.imageUri is '<repository URI>@sha256:...'; image.containerImage goes into a task definition
 */
export class ContainerImageBuild extends Construct implements IContainerArtifact {
  public readonly imageUri: string;
  public readonly imageDigest: string;
  public readonly imageTag: string;
  public readonly fingerprint: string;
  public readonly repository: ecr.IRepository;
  public readonly platform: ContainerPlatform;
  public readonly containerImage: ecs.ContainerImage;

  /**
   * The CodeBuild project that builds this image, shared by every image of this stack, platform
   * and VPC. Grant it pull on the private repositories the Dockerfile's base images come from.
   */
  public readonly project: codebuild.IProject;

  /** The user and volumes the Dockerfile declares for the stage that is built. */
  private readonly runtime: ImageRuntime;
  /**
   * The repository this construct made in CloudFormation (none with `repository`). With
   * `replicateTo` the images go to the named repository the runtime keeps instead, and this one stays,
   * so that what other stacks imported from it (its ARN and name) never changes.
   */
  private readonly storedRepository?: ecr.Repository;
  /** Where ECR copies the images, and the name of their repository here and there (with `replicateTo`), when it is known now. */
  private readonly replicatedTo: Destination[] = [];
  private readonly replicaName?: string;
  /** Whether the images go to a repository the stack's runtime keeps (`replicateTo` without `repository`). */
  private readonly keepsRepository: boolean = false;
  /** Where the images are copied, and who may read them, as given: where another stack may use this build. */
  private readonly reachInputs: { readonly destinations: Destination[]; readonly shareWith: string[] };

  constructor(scope: Construct, id: string, props: ContainerImageBuildProps) {
    super(scope, id);
    checkConstraints(PropProblems.of(this, TYPE), [['ContainerImageBuild.buildTimeout', 'buildTimeout', props.buildTimeout], ['ContainerImageBuild.retainImages', 'retainImages', props.retainImages]]);
    const inputs = resolveInputs(this, props);
    checkPlaintextSecrets(this, TYPE, [...entriesOf('buildArgs', inputs.buildArgs), { prop: 'target', value: inputs.target }], {
      storedIn: 'the template (the build job\'s BuildArgs) and the image\'s history (docker history)',
      fix: () => 'Never build secrets into an image: let the service read them when it starts (ImmutableFargateService secrets), or have the build read them from Secrets Manager with the build project\'s role.',
    });
    this.platform = inputs.platform;
    this.runtime = runtimeOf(this, inputs);
    this.reachInputs = { destinations: inputs.replicateTo, shareWith: inputs.shareWith };

    // What the image is made of: the same inputs give the same tag on any machine.
    const fingerprints = fingerprintsOf(inputs);
    this.fingerprint = fingerprints.image.hex;
    this.imageTag = `${TAG_PREFIX}${this.fingerprint}`;

    // Per image: its context, its repository, its job. The project and the runtime are the stack's.
    const asset = this.newContext(inputs, fingerprints);
    const runtime = DeployTimeRuntime.of(this);
    const removal = this.removalOf(runtime, props, inputs.shareWith);
    const destroyTags: { [key: string]: string } = removal.RemovalPolicy ? { [DESTROY_TAG]: Stack.of(this).stackName } : {};
    if (!props.repository) {
      this.storedRepository = this.newRepository(inputs.retainImages);
      for (const [key, value] of Object.entries(destroyTags)) Tags.of(this.storedRepository).add(key, value);
    }
    let replication: CustomResource | undefined;
    if (inputs.replicateTo.length > 0 && !props.repository) {
      // Replicated by name: a repository the runtime keeps, created or taken over, never AlreadyExists.
      this.replicaName = replicatedRepositoryName(this);
      this.keepsRepository = true;
      this.repository = ecr.Repository.fromRepositoryAttributes(this, 'ReplicatedRepository', {
        repositoryName: this.replicaName,
        repositoryArn: Stack.of(this).formatArn({ service: 'ecr', resource: 'repository', resourceName: this.replicaName }),
      });
    } else {
      this.repository = props.repository ?? this.storedRepository!;
      this.shareWith(inputs.shareWith);
    }
    if (inputs.replicateTo.length > 0) {
      this.replicatedTo = inputs.replicateTo;
      // A repository you pass replicates under its own name, which a destination can import when it is known now.
      this.replicaName ??= literalNameOf(this.repository);
      replication = this.replicate(inputs, destroyTags);
    }
    if (props.repository) this.checkRepository(props.repository, props, inputs.shareWith);
    const projects = ContainerBuildProjects.of(this);
    if (props.vpc) checkBuildSubnets(this, props.vpc);
    const shared = projects.projectFor(this.platform, props.vpc, asset);
    this.project = shared.project;
    if (this.keepsRepository) projects.grantReplicatedPush(shared, replicatedRepositoryPrefix(this), PUSH_ACTIONS);
    else this.grantPush(shared.project);
    projects.grantPullThroughCache(shared, inputs.pullThroughCachePrefixes);
    warnUnusedCachePrefixes(this, inputs.pullThroughCachePrefixes, [inputs.dockerfileText, ...Object.values(inputs.buildArgs)]);
    projects.grantRuntime(runtime, shared, inputs.requireImmutableTags);
    if (props.repository) grantForeignRepository(runtime, props.repository, inputs.requireImmutableTags);
    // The build starts once the project's role may read the context and push to the repository, and
    // once the repository replicates (ECR replicates only what is pushed after).
    const job = runtime.addJob(this, {
      kind: 'container-build',
      fingerprint: this.fingerprint,
      spec: { ...this.specOf(inputs, shared.project, asset), ...removal, ...this.replicationSpecOf(removal) },
      timeout: Duration.minutes(
        (Token.isUnresolved(inputs.buildMinutes) ? MAX_BUILD_MINUTES : inputs.buildMinutes) + queueMinutesOf(inputs) + MARGIN_MINUTES),
      dependencies: [shared.project, ...(replication ? [replication] : [])],
      // The digest is read back from the repository by the fingerprint tag once the build ended.
      readBack: { RepositoryUri: this.repository.repositoryUri, ImageTag: this.imageTag, RequireImmutableTags: String(inputs.requireImmutableTags) },
    });

    recordArtifact(this, job.wait, 'container-image', this.fingerprint, { repository: Stack.of(this).resolve(this.repository.repositoryName) });
    recordInputs(this, this.fingerprint, fingerprints.digests);
    // From the build's read-back, never from its wait: the wait only says when the build ended.
    this.imageDigest = job.result;
    this.imageUri = this.repository.repositoryUriForDigest(this.imageDigest);
    this.containerImage = new DigestImage(this);
  }

  /**
   * The user and volumes of the image, as its Dockerfile declares them for the stage that is built
   * (`target`, or the last one) and the earlier stages it builds on: a deployment checks that a
   * read-only root filesystem leaves a non-root user a place to write.
   *
   * @internal
   */
  public _imageRuntime(): ImageRuntime {
    return this.runtime;
  }

  /**
   * Grants permission to pull this image.
   *
   * @param grantee the principal to grant
   */
  public grantPull(grantee: iam.IGrantable): iam.Grant {
    // A role of this account takes the pull in the repository's own policy (identity and resource
    // policies are evaluated together in one account), so that a role shared by many services, such
    // as the stack's task execution role, does not grow a statement per image. ECR's login has no
    // resource, so it stays on the role.
    const principal = grantee.grantPrincipal;
    if (this.keepsRepository && principal instanceof iam.Role && sameAccount(Stack.of(principal), Stack.of(this))) {
      // The repositories the runtime keeps have no policy of the app's: one statement for every replicating build of the stack.
      const kept = Stack.of(this).formatArn({ service: 'ecr', resource: 'repository', resourceName: `${replicatedRepositoryPrefix(this)}*` });
      iam.Grant.addToPrincipal({ grantee, actions: PULL_ACTIONS, resourceArns: [kept] });
      acknowledgeWildcards(principal.node.tryFindChild('DefaultPolicy') ?? principal, [], [kept],
        'Pull from the repositories the deploy-time runtime keeps for this stack\'s replicating builds (cdk-immutable-deploys/<stack>/*), which have no policy of the app\'s: one statement for all of them, whatever their number.');
      return iam.Grant.addToPrincipal({ grantee, actions: ['ecr:GetAuthorizationToken'], resourceArns: ['*'] });
    }
    if (principal instanceof iam.Role && sameAccount(Stack.of(principal), Stack.of(this))) {
      const added = this.repository.addToResourcePolicy(roleStatement(this.repository, principal, PULL_ACTIONS));
      if (added.statementAdded) {
        return iam.Grant.addToPrincipal({ grantee, actions: ['ecr:GetAuthorizationToken'], resourceArns: ['*'] });
      }
    }
    return this.repository.grantPull(grantee);
  }

  /**
   * This image, imported by fingerprint into the stack of `scope` (a deployment in another stack): no
   * cross-stack reference to the digest, whose export would block the next build. The repository's
   * ARN and URI, which never change with the image, are the only values the stacks share; a
   * replicating build's repository has a name known when the app is synthesized, which the other
   * stack names itself (its own region's replica, or this one), with no export at all.
   *
   * @internal
   */
  public _importInto(scope: Construct): IContainerArtifact {
    const into = Stack.of(scope);
    const replica = this.replicaName !== undefined && this.replicatedTo.some((d) => !Token.isUnresolved(d.region) && !Token.isUnresolved(d.registryId)
      && d.region === into.region && d.registryId === into.account);
    if (replica) {
      // A stack in a region and account this build replicates to imports the replica there.
      const copy = ecr.Repository.fromRepositoryName(scope, 'ImportedRepository', this.replicaName!);
      return ContainerArtifact.fromFingerprint(scope, 'ImportedArtifact', { repository: copy, fingerprint: this.fingerprint, platform: this.platform });
    }
    if (this.keepsRepository) {
      // What a stack of this region imported before replicateTo was added (the stored repository's
      // ARN and name) stays exported, unchanged, so that adding replicateTo never breaks its update.
      if (this.storedRepository && sameEnvironment(into, Stack.of(this))) {
        Stack.of(this).exportValue(this.storedRepository.repositoryArn);
        Stack.of(this).exportValue(this.storedRepository.repositoryName);
      }
      // Any other stack imports the repository here by its name, in this account and region.
      const here = Stack.of(this);
      const repository = ecr.Repository.fromRepositoryAttributes(scope, 'ImportedRepository', {
        repositoryName: this.replicaName!,
        repositoryArn: `arn:${into.partition}:ecr:${here.region}:${here.account}:repository/${this.replicaName}`,
      });
      return ContainerArtifact.fromFingerprint(scope, 'ImportedArtifact', { repository, fingerprint: this.fingerprint, platform: this.platform });
    }
    return ContainerArtifact.fromFingerprint(scope, 'ImportedArtifact', { repository: this.repository, fingerprint: this.fingerprint, platform: this.platform });
  }

  /**
   * Where another stack may use this build passed as an object: its own account and region, the
   * regions and accounts it replicates to (a stack there imports the replica), and the accounts of
   * `shareWith` in its own region when the repository's name is known at synth time (a replicating
   * build names it; another account cannot refer to a name CloudFormation generates). Unknown when any
   * of them is a token.
   *
   * @internal
   */
  public _reach(): Reach | undefined {
    const stack = Stack.of(this);
    const { destinations, shareWith } = this.reachInputs;
    if ([stack.region, stack.account, ...destinations.flatMap((d) => [d.region, d.registryId])].some((v) => Token.isUnresolved(v))) return undefined;
    return {
      artifact: describeConstruct(this, TYPE),
      region: stack.region,
      account: stack.account,
      reaches: (region, account) => destinations.some((d) => d.region === region && d.registryId === account)
        || (region === stack.region && shareWith.includes(account) && this.replicaName !== undefined),
      fix: (region, account) => {
        const target = account === stack.account ? `{ region: '${region}' }` : `{ region: '${region}', account: '${account}' }`;
        const shared = region !== stack.region ? ''
          : shareWith.includes(account) ? ` (shareWith lets account ${account} read the repository: pass it with ecr.Repository.fromRepositoryArn() and the repository's ARN)`
            : `, or add '${account}' to shareWith`;
        return `Add ${target} to replicateTo of ${this.node.path} (with a ReplicationDestination deployed there first), or import the image in this stack with ContainerArtifact.fromFingerprint() from a repository this account can read${shared}.`;
      },
    };
  }

  /**
   * Adds this build's repository to the stack's replication, which creates or adopts it (tag-immutable,
   * scanned, its lifecycle and shareWith policies, the removal policy's tags) and replicates it; returns
   * the resource that keeps it, so that the build pushes only once it is there.
   */
  private replicate(inputs: BuildInputs, tags: { [key: string]: string }): CustomResource {
    const stack = Stack.of(this);
    const replication = RegistryReplication.of(this);
    replication.add(this, {
      name: this.replicaName ?? this.repository.repositoryName,
      destinations: inputs.replicateTo,
      // A repository you pass stays yours: only its rule is the stack's.
      keep: this.keepsRepository ? {
        lifecyclePolicy: stack.toJsonString(lifecyclePolicyOf(inputs.retainImages)),
        policy: inputs.shareWith.length > 0 ? stack.toJsonString({ Version: '2012-10-17', Statement: [shareStatement(inputs.shareWith).toStatementJson()] }) : '',
        tags,
      } : undefined,
    });
    return replication.resource;
  }

  /** What the job needs of replication: where the images go, and, to delete with DESTROY, the stored repository too. */
  private replicationSpecOf(removal: { RemovalPolicy?: string }): Partial<ContainerBuildSpec> {
    if (this.replicatedTo.length === 0) return {};
    return {
      ReplicateTo: this.replicatedTo.map((d) => ({ Region: d.region, RegistryId: d.registryId })),
      ...(removal.RemovalPolicy && this.keepsRepository && this.storedRepository ? { AlsoDestroy: this.storedRepository.repositoryUri } : {}),
    };
  }

  /**
   * Lets the shared project push to this repository. A repository of this app takes the grant in its
   * own policy, so that the project role's policy does not grow with the number of images.
   */
  private grantPush(project: codebuild.Project): void {
    const added = this.repository.addToResourcePolicy(roleStatement(this.repository, project.role!, PUSH_ACTIONS));
    if (!added.statementAdded) this.repository.grantPullPush(project);
  }

  /**
   * The removal policy's job setting. With DESTROY, the repository this construct created carries the
   * tag by which the runtime may delete it, scoped to this stack: one statement for every such
   * repository of the stack, whatever their number.
   */
  private removalOf(runtime: DeployTimeRuntime, props: ContainerImageBuildProps, shareWith: string[]): { RemovalPolicy?: string } {
    const removal = runtime.removalSetting(this, TYPE, props.removalPolicy);
    if (!removal.RemovalPolicy) return removal;
    if (shareWith.length > 0) {
      // ECR cannot tell which of the images other accounts run: deleting them would stop those services.
      PropProblems.of(this, TYPE).add({
        prop: 'removalPolicy',
        value: props.removalPolicy,
        problem: `would delete, with this stack, the images that accounts ${shareWith.join(', ')} may run (shareWith): their services would fail to start new tasks (CannotPullContainerError), and nothing here can tell which images they still use`,
        fix: 'Keep RemovalPolicy.RETAIN (the default) for a build whose images other accounts run, and delete its repository by hand once they no longer do; or leave out shareWith.',
      });
    }
    if (props.repository) {
      PropProblems.of(this, TYPE).add({
        prop: 'removalPolicy',
        value: props.removalPolicy,
        problem: `would delete the repository you passed (${props.repository.node.path}), which this construct did not create`,
        fix: 'Leave out removalPolicy (your repository and its images stay), or leave out repository to let ContainerImageBuild create one it may delete.',
      });
    }
    const stack = Stack.of(this);
    runtime.grant('container-build:destroy', [new iam.PolicyStatement({
      actions: ['ecr:DeleteRepository'],
      resources: [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })],
      conditions: { StringEquals: { [`ecr:ResourceTag/${DESTROY_TAG}`]: stack.stackName } },
    })], `Removal policy DESTROY: CloudFormation names the repositories, so their names are known only at deploy time; the runtime may delete only those tagged ${DESTROY_TAG}=<this stack's name>, which this stack's constructs set.`);
    // The repositories are encrypted with the account's AWS managed key (aws/ecr). Deleting one, ECR
    // retires the two grants it made on that key, and needs kms:RetireGrant of whoever deletes it. The
    // account that owns a key may delegate retiring its grants by IAM: only requests ECR makes for the
    // runtime (kms:ViaService), so that the runtime itself can retire no grant of any key.
    runtime.grant('container-build:destroy:kms', [new iam.PolicyStatement({
      actions: ['kms:RetireGrant'],
      resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
      conditions: { StringEquals: { 'kms:ViaService': `ecr.${stack.region}.amazonaws.com` } },
    })], 'Removal policy DESTROY: ECR retires its grants on the repository\'s AWS managed key (aws/ecr) when the repository is deleted, with the deleter\'s kms:RetireGrant; that key\'s id is the account\'s and unknown at synth time. The condition kms:ViaService limits it to requests ECR makes in this region on the runtime\'s behalf.');
    return removal;
  }

  /** Lets other accounts pull and look up the images of this repository: one statement of its policy. */
  private shareWith(accounts: string[]): void {
    if (accounts.length === 0) return;
    const added = this.repository.addToResourcePolicy(shareStatement(accounts));
    if (!added.statementAdded) {
      warn(this, 'share-with-imported-repository',
        `shareWith (${accounts.join(', ')}) cannot change the policy of the imported repository ${this.repository.node.path}: let those accounts call ${[...PULL_ACTIONS, 'ecr:DescribeImages'].join(', ')} in its repository policy yourself.`);
    }
  }

  /** The context as uploaded: what Docker would send, plus the Dockerfile and .dockerignore it always reads. */
  private newContext(inputs: BuildInputs, fingerprints: BuildFingerprints): s3assets.Asset {
    const dockerignore = path.join(inputs.directory, '.dockerignore');
    const hasDockerignore = fs.existsSync(dockerignore);
    return new s3assets.Asset(this, 'Context', {
      path: inputs.directory,
      ignoreMode: IgnoreMode.DOCKER,
      exclude: [...dockerignorePatterns(dockerignore), ...inputs.exclude, `!${inputs.dockerfile}`, ...(hasDockerignore ? ['!.dockerignore'] : [])],
      // Named by content, never by modification times: a stale hash would build old files under a new tag.
      assetHash: Fingerprint.combine(
        fingerprints.context,
        fingerprints.dockerfile,
        Fingerprint.ofJson({ dockerfile: inputs.dockerfile, dockerignore: hasDockerignore ? Fingerprint.ofFile(dockerignore).hex : null }),
      ).hex,
    });
  }

  /** The settings of this image's job, as strings. */
  private specOf(inputs: BuildInputs, project: codebuild.IProject, asset: s3assets.Asset): ContainerBuildSpec {
    return {
      ProjectName: project.projectName,
      RepositoryUri: this.repository.repositoryUri,
      ImageTag: this.imageTag,
      SourceBucket: asset.s3BucketName,
      SourceKey: asset.s3ObjectKey,
      Dockerfile: inputs.dockerfile,
      Target: inputs.target,
      Platform: this.platform.platform,
      BuildArgs: JSON.stringify(sortedObject(inputs.buildArgs)),
      Cache: String(inputs.cache),
      ComputeType: inputs.computeType,
      TimeoutMinutes: Token.isUnresolved(inputs.buildMinutes) ? Token.asString(inputs.buildMinutes) : String(inputs.buildMinutes),
      QueuedTimeoutMinutes: String(queueMinutesOf(inputs)),
      RequireImmutableTags: String(inputs.requireImmutableTags),
      PullRegistries: pullRegistries(inputs.dockerfileText, inputs.buildArgs).join(' '),
    };
  }

  private newRepository(retainImages: number): ecr.Repository {
    const repository = new ecr.Repository(this, 'Repository', {
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.KMS,
    });
    repository.addLifecycleRule({
      rulePriority: 1,
      description: `Keep the last ${retainImages} fingerprint images`,
      tagPrefixList: [TAG_PREFIX],
      maxImageCount: retainImages,
    });
    repository.addLifecycleRule({
      rulePriority: 2,
      description: 'Expire untagged images (left by interrupted pushes) after 7 days',
      tagStatus: ecr.TagStatus.UNTAGGED,
      maxImageAge: Duration.days(7),
    });
    // Build caches carry only cache- tags, so no rule above counts them, and this rule never expires a fingerprint image.
    repository.addLifecycleRule({
      rulePriority: 3,
      description: `Keep the last ${CACHE_IMAGES_KEPT} build caches`,
      tagPrefixList: [CACHE_TAG_PREFIX],
      maxImageCount: CACHE_IMAGES_KEPT,
    });
    return repository;
  }

  private checkRepository(repository: ecr.IRepository, props: ContainerImageBuildProps, shareWith: string[]): void {
    if (props.cache ?? true) {
      warn(this, 'build-cache-retention',
        `builds write a build cache to ${repository.node.path}, one image per build tagged '${CACHE_TAG_PREFIX}<arch>-<fingerprint>', which its lifecycle rules must bound: add a rule that keeps the last ${CACHE_IMAGES_KEPT} images with the tag prefix '${CACHE_TAG_PREFIX}' `
        + `(repository.addLifecycleRule({ tagPrefixList: ['${CACHE_TAG_PREFIX}'], maxImageCount: ${CACHE_IMAGES_KEPT} })), then acknowledge this warning; or set cache to false.`);
    }
    const foreign = foreignEnvOf(repository);
    if (foreign?.account) {
      // Another account's repository grants nothing through this account's IAM alone.
      warn(this, 'repository-of-another-account',
        `repository ${repository.node.path} is in account ${foreign.account}${foreign.region ? ` (${foreign.region})` : ''}: its repository policy must let this account's roles in, or the deploy fails. `
        + `Let account ${Stack.of(this).account} call ecr:DescribeImages${props.requireImmutableTags ? ' and ecr:DescribeRepositories' : ''} (the stack's deploy-time runtime, which finds and reuses images) and push (${PUSH_ACTIONS.join(', ')}, the build project's role), `
        + `${shareWith.length > 0 ? 'and the accounts of shareWith pull, ' : ''}in that repository's policy.`);
    }
    if (props.retainImages !== undefined) {
      warn(this, 'retain-images-ignored',
        `retainImages (${props.retainImages}) applies only to the repository ContainerImageBuild creates; ${repository.node.path} keeps its own lifecycle rules. Add a rule that keeps the last '${TAG_PREFIX}' images to it, or leave out retainImages.`,
      );
    }
    const mutability = knownTagMutability(repository);
    if (mutability === undefined) {
      // An imported repository: its settings cannot be read at synth time. Refuse to guess.
      if (!props.requireImmutableTags) {
        warn(this, 'unknown-repository-tags',
          `repository ${repository.node.path} was imported, so whether its tags are immutable cannot be read at synth time. Set requireImmutableTags to have the deployment check it (and fail on mutable tags).`);
      }
      return;
    }
    if (!tagCanMove(mutability.value, mutability.exclusionFilters, this.imageTag)) return;
    const setting = describeMutability(mutability.value, mutability.exclusionFilters);
    const message = `repository ${repository.node.path} has ${setting} tags, under which fingerprint tags such as ${this.imageTag.slice(0, 19)}... can be moved: a fingerprint tag that can be moved no longer proves what it names, and a reused image may not be the one its inputs built. Set imageTagMutability to ecr.TagMutability.IMMUTABLE on it (or exclude no 'fp-' tag from immutability).`;
    if (props.requireImmutableTags) {
      PropProblems.of(this, TYPE).add({ prop: 'repository', problem: message.replace(/^repository /, '').replace(/\.$/, ''), fix: 'This is an error (requireImmutableTags is true).' });
      return;
    }
    warn(this, 'mutable-repository-tags', `${message} Set requireImmutableTags to make this an error.`);
  }
}


/**
 * The account and region of a repository, where they are not the stack's (a repository imported by
 * ARN or URI of another account or region): undefined for one of the stack's own account and region.
 */
function foreignEnvOf(repository: ecr.IRepository): { account?: string; region?: string } | undefined {
  const stack = Stack.of(repository);
  const differs = (a: string, b: string) => JSON.stringify(stack.resolve(a)) !== JSON.stringify(stack.resolve(b));
  const account = differs(repository.env.account, stack.account) ? repository.env.account : undefined;
  const region = differs(repository.env.region, stack.region) ? repository.env.region : undefined;
  return account || region ? { account, region } : undefined;
}

/**
 * The runtime's grant on a repository of another account or region, which its grant on this account
 * and region's `repository/*` does not cover: one statement per such repository.
 */
function grantForeignRepository(runtime: DeployTimeRuntime, repository: ecr.IRepository, requireImmutableTags: boolean): void {
  if (!foreignEnvOf(repository)) return;
  runtime.grant(`container-build:repository:${repository.node.addr}:${requireImmutableTags}`, [
    new iam.PolicyStatement({
      actions: [...IMAGE_STATE_ACTIONS, ...(requireImmutableTags ? ['ecr:DescribeRepositories'] : [])],
      resources: [repository.repositoryArn],
    }),
  ]);
}

/** The statement of a repository's policy that lets other accounts pull and look up its images (`shareWith`). */
function shareStatement(accounts: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'CdkImmutableDeploysShareWith',
    principals: accounts.map((a) => new iam.AccountPrincipal(a)),
    actions: [...PULL_ACTIONS, 'ecr:DescribeImages'],
  });
}

/**
 * The lifecycle policy of a repository the runtime keeps, the same rules as the construct's own
 * repository: keep the last `retainImages` fingerprint images, expire untagged ones after 7 days.
 */
function lifecyclePolicyOf(retainImages: number): unknown {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Keep the last ${retainImages} fingerprint images`,
        selection: { tagStatus: 'tagged', tagPrefixList: [TAG_PREFIX], countType: 'imageCountMoreThan', countNumber: retainImages },
        action: { type: 'expire' },
      },
      {
        rulePriority: 2,
        description: 'Expire untagged images (left by interrupted pushes) after 7 days',
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 7, countUnit: 'days' },
        action: { type: 'expire' },
      },
      {
        rulePriority: 3,
        description: `Keep the last ${CACHE_IMAGES_KEPT} build caches`,
        selection: { tagStatus: 'tagged', tagPrefixList: [CACHE_TAG_PREFIX], countType: 'imageCountMoreThan', countNumber: CACHE_IMAGES_KEPT },
        action: { type: 'expire' },
      },
    ],
  };
}

/** A repository's name when it is known now: a literal, or the literal name of a repository of the app. */
function literalNameOf(repository: ecr.IRepository): string | undefined {
  if (!Token.isUnresolved(repository.repositoryName)) return repository.repositoryName;
  const name = (repository.node.defaultChild as ecr.CfnRepository | undefined)?.repositoryName;
  return name !== undefined && !Token.isUnresolved(name) ? name : undefined;
}

/** Whether two stacks are in one account and region (where exports reach). */
function sameEnvironment(a: Stack, b: Stack): boolean {
  const key = (s: Stack) => JSON.stringify(s.resolve([s.account, s.region]));
  return key(a) === key(b);
}

/** The tag mutability of a repository of this app and its exclusion filters, or undefined when synth cannot read them. */
function knownTagMutability(repository: ecr.IRepository): { value: string; exclusionFilters: string[] } | undefined {
  const resource = repository.node.defaultChild;
  if (!(resource instanceof ecr.CfnRepository)) return undefined;
  const stack = Stack.of(repository);
  const value = resource.imageTagMutability ?? 'MUTABLE';
  const filters = stack.resolve(resource.imageTagMutabilityExclusionFilters ?? []);
  if (Token.isUnresolved(value) || !Array.isArray(filters)) return undefined;
  const exclusionFilters = filters.map((f: { imageTagMutabilityExclusionFilterValue?: unknown }) => f?.imageTagMutabilityExclusionFilterValue);
  if (exclusionFilters.some((f) => typeof f !== 'string')) return undefined;
  return { value, exclusionFilters: exclusionFilters as string[] };
}


function sortedObject(values: { [name: string]: string }): { [name: string]: string } {
  return Object.fromEntries(Object.keys(values).sort().map((k) => [k, values[k]]));
}

/**
 * A statement of a repository's policy for one role of this account. ECR refuses a policy whose
 * principal is a role IAM does not show yet ("Invalid parameter at 'PolicyText' failed to satisfy
 * constraint: 'Principal not found'"), and CloudFormation sets a repository's policy once, seconds
 * after it created the role in the same deploy: the role is named in an `aws:PrincipalArn` condition,
 * which ECR does not resolve, rather than as the principal.
 */
function roleStatement(repository: ecr.IRepository, role: iam.IRole, actions: string[]): iam.PolicyStatement {
  if (repository.node.defaultChild instanceof ecr.CfnRepository) {
    acknowledgeExact(repository, {
      id: 'AwsSolutions-ECR1',
      reason: 'Each statement of this repository\'s policy allows one role of this account by an ArnEquals aws:PrincipalArn condition (ECR refuses a role principal IAM does not show yet, as right after CloudFormation creates it); no other principal is allowed.',
    });
  }
  return new iam.PolicyStatement({
    principals: [new iam.AnyPrincipal()],
    actions,
    conditions: { ArnEquals: { 'aws:PrincipalArn': role.roleArn } },
  });
}

/**
 * CodeBuild runs a build in a VPC in its subnets with no public IP (it gives its network interfaces
 * none, and EC2 assigns public IPs only at instance launch): only subnets with a NAT route (or VPC
 * endpoints for ECR, S3, CloudWatch Logs and CodeBuild) reach ECR and the build's sources. A VPC whose
 * default selection is public subnets only (any default VPC) would fail every build at deploy time.
 */
function checkBuildSubnets(scope: Construct, vpc: ec2.IVpc): void {
  const selected = vpc.selectSubnets();
  if (selected.subnets.length > 0 && selected.hasPublic) {
    throw constructError(scope, TYPE, {
      prop: 'vpc',
      value: vpc.node.path,
      problem: 'has no private subnets, so CodeBuild would run the build in public subnets, where its network interfaces get no public IP and reach neither ECR nor the build\'s sources',
      fix: 'Pass a VPC with private subnets and a NAT gateway (or VPC endpoints for ECR, S3, CloudWatch Logs and CodeBuild), or leave out vpc: builds then run outside any VPC.',
    });
  }
}
