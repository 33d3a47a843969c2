import { ArnFormat, Duration, RemovalPolicy, Size, SizeRoundingBehavior, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AmiArtifact, IAmiArtifact } from './artifact';
import { AmiBakeInfrastructure, serviceLinkedRoleOf } from './bake-infrastructure';
import { BakeStep } from './bake-step';
import { BaseImage } from './base-image';
import type { BakeStepConfig } from './binding';
import { BAKE_TAG, descriptionSuffixOf, FINGERPRINT_TAG, KEEP_TAG } from './types';
import type { AmiBakeSpec, BakeComponentProps } from './types';
import { Fingerprint } from '../../fingerprint';
import { acknowledgeLogGroup } from '../../internal/baseline';
import { constructError, warn } from '../../internal/errors';
import { DeployTimeRuntime, MAX_JOB_TIMEOUT } from '../../internal/runtime/runtime';
import { recordArtifact } from '../../plan/metadata';

/**
 * The revision of the bake procedure. It counts in every bake's fingerprint: bump it only when
 * a change to this library changes what a bake produces from the same inputs (the rendered
 * component documents, the recipe's settings), never for a release that does not.
 */
const AMI_BUILDER_REVISION = 1;

/** CloudFormation's limit for a wait condition, and so for a bake. */
const MAX_BUILD_TIMEOUT = MAX_JOB_TIMEOUT;

/**
 * Where a bake's AMI is copied and shared, besides the stack's own region and account.
 */
export interface AmiDistribution {
  /**
   * More regions to copy the AMI to.
   *
   * @default - the stack's region only
   */
  readonly regions?: string[];

  /**
   * AWS accounts allowed to launch the AMI, in every region it is copied to. Sharing an encrypted
   * AMI needs a customer-managed key that those accounts may use (`rootVolumeKey`, and `kmsKeyId`
   * for the other regions).
   *
   * @default - no other account
   */
  readonly accounts?: string[];

  /**
   * The KMS key that encrypts the copies in the other regions: an id, alias or ARN that exists in
   * each of them (for example the alias of a multi-Region key).
   *
   * @default - each region's default EBS key
   */
  readonly kmsKeyId?: string;
}

/**
 * Properties of an `AmiBake`.
 */
export interface AmiBakeProps {
  /**
   * The image the bake starts from, pinned when synthesized.
   */
  readonly baseImage: BaseImage;

  /**
   * What to do on the build instance, in order. Each step becomes an Image Builder component.
   */
  readonly steps: BakeStep[];

  /**
   * Checks that run on a test instance launched from the new image, in Image Builder's test stage.
   * A failing test fails the bake: the image is never used.
   *
   * @default - no test stage
   */
  readonly testSteps?: BakeStep[];

  /**
   * Instance types for the build and test instances, in order of preference. They must have the
   * base image's architecture.
   *
   * @default - m6i.large and m5.large for x86_64, m6g.large and m7g.large for arm64
   */
  readonly instanceTypes?: ec2.InstanceType[];

  /**
   * The VPC of the build and test instances. They need outbound access to the internet or to VPC
   * endpoints for SSM, S3, Image Builder and CloudWatch Logs.
   *
   * @default - Image Builder uses a public subnet of the account's default VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnet of the build and test instances, within `vpc`.
   *
   * @default - the first private subnet with egress of `vpc`
   */
  readonly subnetSelection?: ec2.SubnetSelection;

  /**
   * The size of the image's root volume.
   *
   * @default - the size of the base image's root volume
   */
  readonly rootVolumeSize?: Size;

  /**
   * The KMS key that encrypts the image's root volume and so its snapshot. The bake allows Image
   * Builder's service-linked role to use a key of this app; an imported key's policy must allow it.
   *
   * @default - the account's default EBS key (`aws/ebs`); the volume is always encrypted
   */
  readonly rootVolumeKey?: kms.IKey;

  /**
   * How long a bake may take before the deployment fails (and the bake is cancelled), at most
   * 12 hours. Image Builder's test stage gets the same time, within 1 to 24 hours.
   *
   * @default Duration.hours(4)
   */
  readonly buildTimeout?: Duration;

  /**
   * More regions and accounts to copy and share the AMI to. Distribution does not count in the
   * fingerprint: changing it does not bake again, and applies to the next bake.
   *
   * @default - the stack's region and account only
   */
  readonly distribution?: AmiDistribution;

  /**
   * How many of this bake's most recent images to keep; older images, their AMIs and snapshots
   * are deleted by an Image Builder lifecycle policy (once a day), unless an instance was launched
   * from them within `keepLaunchedWithin`, they carry the tag `cdk-immutable-deploys:keep=true`, or
   * they are shared with an account of `distribution.accounts`. An AMI a stack of this account runs
   * (the bake's own, or one it imports by fingerprint or from this bake: a promoted stage) carries that
   * tag while the stack holds it, in its region; one shared with another account is never deleted by
   * the policy, because a stage there cannot mark it: deregister those by hand once no stage runs them.
   *
   * @default 3
   */
  readonly retainImages?: number;

  /**
   * An AMI from which an instance was launched within this time is never deleted.
   *
   * @default Duration.days(30)
   */
  readonly keepLaunchedWithin?: Duration;

  /**
   * The prefix of the AMI names. Each AMI is named `<prefix>-<fingerprint>-<build date>`.
   *
   * @default - a name unique to this construct, from its path
   */
  readonly amiName?: string;

  /**
   * Tags for the AMIs, their snapshots and the build instances.
   *
   * @default - only the bake's own tags (fingerprint and bake name)
   */
  readonly tags?: { [key: string]: string };

  /**
   * How long the build logs are kept.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * User data for instances launched from the baked AMI through `machineImage`.
   *
   * @default - empty user data for the OS type
   */
  readonly userData?: ec2.UserData;

  /**
   * What happens to what the bake made when the stack is deleted. With `RemovalPolicy.DESTROY`, the
   * stack's deletion deletes every AMI that Image Builder records as made by this bake over the
   * stack's life (in the stack's region and every distribution region) with its snapshots, and the
   * Image Builder images, recipes and components the bake created; an AMI another stack of this account
   * still holds, one another account may launch (`distribution.accounts`), or one you tagged
   * `cdk-immutable-deploys:keep=true` stays. A deletion that cannot finish is logged and never fails
   * the stack's deletion. An update never deletes anything, also when the bake leaves the app (or a
   * nested stack that holds it leaves its parent): a revert finds its AMIs again. It does not count in
   * the fingerprint: changing it bakes nothing.
   *
   * @default RemovalPolicy.RETAIN - the AMIs, snapshots, images, recipes and components stay
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Bakes an AMI with EC2 Image Builder when the stack is deployed, from a pinned base image and a
 * list of steps, named and reused by a fingerprint of everything that shapes it.
 *
 * An AVAILABLE image with the same fingerprint whose AMI still exists is reused at once; otherwise
 * one image is created. Completion goes through a CloudFormation wait condition (up to 12 hours)
 * signalled when the image ends, so long bakes succeed; a failed bake fails the deployment with
 * the reason, the failed step and component and the tail of the build log. A rollback or delete
 * while a bake runs cancels it.
 *
 * @example
 * declare const stack: Stack;
 * const bake = new AmiBake(stack, 'Web', {
 *   baseImage: BaseImage.fromAmiId('ami-0123456789abcdef0'),
 *   steps: [BakeStep.shell(['dnf install -y nginx', 'systemctl enable nginx'])],
 *   testSteps: [BakeStep.shell(['test -x /usr/sbin/nginx'])],
 * });
 */
export class AmiBake extends Construct implements IAmiArtifact {
  /** The baked AMI's id in the stack's region (known when the stack is deployed). */
  public readonly amiId: string;

  /** The fingerprint of the bake's inputs (`Fingerprint.hex`). */
  public readonly fingerprint: string;

  /** The AMI as a machine image for launch templates and instances. */
  public readonly machineImage: ec2.IMachineImage;

  /** The operating system family of the AMI. */
  public readonly osType: ec2.OperatingSystemType;

  /** The processor architecture of the AMI (always known for a bake). */
  public readonly architecture?: ec2.InstanceArchitecture;

  /** The device name of the AMI's root volume: the base image's (always known for a bake). */
  public readonly rootDeviceName?: string;

  /** The name of the bake's Image Builder image recipe (the same for every version). */
  public readonly recipeName: string;

  /** The recipe version of these inputs, derived from the fingerprint. */
  public readonly recipeVersion: string;

  /** The log group of the build logs. */
  public readonly logGroup: logs.ILogGroup;

  /** The role of the build and test instances. */
  public readonly instanceRole: iam.IRole;

  private readonly userData?: ec2.UserData;

  constructor(scope: Construct, id: string, props: AmiBakeProps) {
    super(scope, id);
    validateProps(this, props);
    const stack = Stack.of(this);
    const shared = AmiBakeInfrastructure.of(this);
    this.instanceRole = shared.instanceRole;

    const base = props.baseImage._bind(this);
    this.osType = base.osType;
    this.architecture = base.architecture;
    this.rootDeviceName = base.rootDeviceName;
    const instanceTypes = props.instanceTypes ?? defaultInstanceTypes(base.architecture);
    instanceTypes.forEach((t, i) => checkArchitecture(this, t, i, base.architecture));
    const bakeName = bakeNameOf(this, shared.namePrefix);
    this.recipeName = bakeName;
    const buildTimeout = props.buildTimeout ?? Duration.hours(4);

    // Steps: each becomes a component (or names an AWS-managed one); the fingerprint counts every input that shapes the image.
    const bound = this.bindSteps(props, base.osType);
    const volumeSize = props.rootVolumeSize ? props.rootVolumeSize.toGibibytes({ rounding: SizeRoundingBehavior.NONE }) : undefined;
    const fingerprint = Fingerprint.combine(
      Fingerprint.ofJson({
        builderRevision: AMI_BUILDER_REVISION,
        baseImage: base.fingerprintInput,
        osType: ec2.OperatingSystemType[base.osType],
        rootVolume: { deviceName: base.rootDeviceName, sizeGiB: volumeSize ?? null, key: keyIdentity(props.rootVolumeKey) },
      }),
      Fingerprint.ofJson({ steps: bound.filter((b) => b.kind === 's').map((b) => b.config.fingerprint.hex) }),
      Fingerprint.ofJson({ testSteps: bound.filter((b) => b.kind === 't').map((b) => b.config.fingerprint.hex) }),
    );
    this.fingerprint = fingerprint.hex;
    this.recipeVersion = versionOf(fingerprint);

    // Per bake: its log group, distribution and lifecycle policy; the rest is the stack's.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/imagebuilder/${bakeName}`,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    acknowledgeLogGroup(this.logGroup, 'the logs of this bake\'s build and test instances');
    const placement = { instanceTypes, vpc: props.vpc, subnetSelection: props.subnetSelection, tags: props.tags ?? {} };
    const infrastructure = shared.infrastructureFor(placement);
    const copyRegions = copyRegionsOf(stack, props);
    const distribution = this.newDistribution(bakeName, fingerprint, props, copyRegions);
    // Copies in other regions are held like the original: the runtime tags them there.
    shared.grantHoldIn(copyRegions);
    const removal = DeployTimeRuntime.of(this).removalSetting(this, 'AmiBake', props.removalPolicy);
    if (removal.RemovalPolicy) shared.grantDestroyIn([stack.region, ...copyRegions]);
    this.newLifecyclePolicy(bakeName, shared.lifecycleRole, props);
    if (props.rootVolumeKey) this.allowKey(props.rootVolumeKey, shared, props.distribution?.accounts ?? []);

    const { components, componentArns } = this.components(bakeName, fingerprint, bound, base.osType);
    const arn = (resource: string, resourceName: string) => arnOf(stack, resource, resourceName);
    const spec: AmiBakeSpec = {
      RecipeName: bakeName,
      RecipeVersion: this.recipeVersion,
      RecipeArn: arn('image-recipe', `${bakeName}/${this.recipeVersion}`),
      ImageVersionArn: arn('image', `${bakeName}/${this.recipeVersion}`),
      ParentImage: base.amiId,
      Components: components,
      ComponentArns: componentArns,
      BlockDevice: { DeviceName: base.rootDeviceName, VolumeSize: volumeSize !== undefined ? String(volumeSize) : '', KmsKeyId: props.rootVolumeKey?.keyArn ?? '' },
      InfrastructureConfigurationArn: infrastructure.attrArn,
      DistributionConfigurationArn: distribution.attrArn,
      TestsEnabled: String(bound.some((b) => b.kind === 't')),
      TestTimeoutMinutes: String(testTimeoutMinutes(buildTimeout)),
      BakeName: bakeName,
      ...(copyRegions.length > 0 ? { CopyRegions: copyRegions } : {}),
      ...removal,
    };
    // The bake starts once its log group, configurations and the instances' grants (file steps) exist.
    const job = DeployTimeRuntime.of(this).addJob(this, {
      kind: 'ami-bake',
      fingerprint: this.fingerprint,
      spec: { ...spec },
      timeout: buildTimeout,
      dependencies: [this.logGroup, infrastructure, distribution, shared.instanceRole],
      // The AMI is read back by the fingerprint (with its copies in these regions, which the stack holds).
      readBack: copyRegions.length > 0 ? { CopyRegions: copyRegions.join(',') } : {},
    });

    recordArtifact(this, job.wait, 'ami', this.fingerprint);
    // From the bake's read-back, never from its wait: the wait only says when the bake ended.
    this.amiId = job.result;
    const artifact = AmiArtifact.fromAmiId(this.amiId, {
      osType: this.osType,
      architecture: base.architecture,
      userData: props.userData,
      rootDeviceName: base.rootDeviceName,
    });
    this.machineImage = artifact.machineImage;
    this.userData = props.userData;
  }

  /**
   * This AMI, imported by fingerprint into the stack of `scope` (a deployment in another stack): no
   * cross-stack reference to the AMI id, whose export would block the next bake.
   *
   * @internal
   */
  public _importInto(scope: Construct): IAmiArtifact {
    const stack = Stack.of(this);
    const consumer = Stack.of(scope);
    const known = (v: string) => !Token.isUnresolved(v);
    return AmiArtifact.fromFingerprint(scope, 'ImportedArtifact', {
      fingerprint: this.fingerprint,
      owner: known(stack.account) && known(consumer.account) && stack.account !== consumer.account ? stack.account : undefined,
      sourceRegion: known(stack.region) ? stack.region : undefined,
      osType: this.osType,
      architecture: this.architecture,
      rootDeviceName: this.rootDeviceName,
      userData: this.userData,
    });
  }

  private bindSteps(props: AmiBakeProps, osType: ec2.OperatingSystemType): BoundStep[] {
    const bind = (step: BakeStep, phase: 'build' | 'test', kind: 's' | 't', index: number): BoundStep => ({
      config: step._bind(this, { osType, phase, instanceRole: this.instanceRole, id: `${kind === 's' ? 'Step' : 'TestStep'}${index}` }),
      kind,
      index,
    });
    return [
      ...props.steps.map((step, i) => bind(step, 'build', 's', i + 1)),
      ...(props.testSteps ?? []).map((step, i) => bind(step, 'test', 't', i + 1)),
    ];
  }

  /** The components the runtime creates (named and versioned by the fingerprint), and every component of the recipe in order. */
  private components(bakeName: string, fingerprint: Fingerprint, bound: BoundStep[], osType: ec2.OperatingSystemType) {
    const stack = Stack.of(this);
    const platform = osType === ec2.OperatingSystemType.WINDOWS ? 'Windows' : 'Linux';
    const components: BakeComponentProps[] = [];
    const componentArns: string[] = [];
    for (const { config, kind, index } of bound) {
      if (config.componentArn) {
        componentArns.push(config.componentArn);
        continue;
      }
      const name = `${bakeName}-${fingerprint.short}-${kind}${index}`;
      components.push({ Name: name, Version: this.recipeVersion, Platform: platform, Description: config.description, Data: config.document! });
      componentArns.push(arnOf(stack, 'component', `${name}/${this.recipeVersion}`));
    }
    return { components, componentArns };
  }

  private newDistribution(bakeName: string, fingerprint: Fingerprint, props: AmiBakeProps, extraRegions: string[]) {
    const stack = Stack.of(this);
    const accounts = props.distribution?.accounts ?? [];
    const amiTags = { ...(props.tags ?? {}), [FINGERPRINT_TAG]: fingerprint.hex, [BAKE_TAG]: bakeName };
    // AmiDistributionConfiguration is free-form JSON in the CloudFormation schema: its keys are written as CloudFormation spells them.
    const amiConfig = (kmsKeyId?: string) => ({
      Name: `${props.amiName ?? bakeName}-${fingerprint.short}-{{ imagebuilder:buildDate }}`,
      Description: `AMI bake ${bakeName}, ${descriptionSuffixOf(fingerprint.hex)}`,
      AmiTags: amiTags,
      ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
      ...(accounts.length > 0 ? { LaunchPermissionConfiguration: { UserIds: accounts } } : {}),
    });
    if (accounts.length > 0 && !props.rootVolumeKey) {
      warn(this, 'ami-share-default-key',
        `distribution.accounts shares the AMI with ${accounts.join(', ')}, but its snapshots are encrypted with the default EBS key, which other accounts cannot use. Pass a customer-managed rootVolumeKey (and distribution.kmsKeyId for other regions) that they may use.`);
    }
    return new imagebuilder.CfnDistributionConfiguration(this, 'Distribution', {
      name: bakeName,
      description: `Distribution of AMI bake ${this.node.path}`,
      distributions: [
        { region: stack.region, amiDistributionConfiguration: amiConfig() },
        ...extraRegions.map((region) => ({ region, amiDistributionConfiguration: amiConfig(props.distribution?.kmsKeyId) })),
      ],
    });
  }

  /**
   * Retention: the last `retainImages` images of this bake, any AMI launched recently, any AMI a stack
   * of this account holds (its keep tag), and any AMI shared with another account (`distribution.accounts`):
   * a stage there cannot mark the AMI it runs, and this account cannot see whether one runs it.
   */
  private newLifecyclePolicy(bakeName: string, role: iam.IRole, props: AmiBakeProps): void {
    const retainImages = props.retainImages ?? 3;
    if (!Token.isUnresolved(retainImages) && retainImages === 1) {
      warn(this, 'ami-retain-one',
        'retainImages is 1: the AMI each stack uses is always kept, but once a new image is baked every other earlier AMI may be deleted, so reverting the app to an earlier version bakes again. Keep at least 2.');
    }
    const keepDays = props.keepLaunchedWithin ? props.keepLaunchedWithin.toDays() : 30;
    const accounts = props.distribution?.accounts ?? [];
    new imagebuilder.CfnLifecyclePolicy(this, 'Lifecycle', {
      name: bakeName,
      description: `Keeps the last ${retainImages} images of AMI bake ${bakeName} and any AMI launched within ${keepDays} days`,
      executionRole: role.roleArn,
      resourceType: 'AMI_IMAGE',
      status: 'ENABLED',
      resourceSelection: { tagMap: { [BAKE_TAG]: bakeName } },
      policyDetails: [{
        action: { type: 'DELETE', includeResources: { amis: true, snapshots: true } },
        filter: { type: 'COUNT', value: retainImages },
        // The keep tag is on every AMI a stack of this account holds (set by the runtime) and on any a user keeps.
        exclusionRules: {
          amis: {
            lastLaunched: { value: keepDays, unit: 'DAYS' },
            tagMap: { [KEEP_TAG]: 'true' },
            ...(accounts.length > 0 ? { sharedAccounts: accounts } : {}),
          },
        },
      }],
    });
  }

  /**
   * Lets Image Builder's service-linked role encrypt the volumes with the key, Auto Scaling's launch
   * instances from the AMI, the accounts it is shared with use it, and the runtime read it.
   */
  private allowKey(key: kms.IKey, shared: AmiBakeInfrastructure, accounts: string[]): void {
    shared.grantKey(key);
    const stack = Stack.of(this);
    const serviceRole = serviceLinkedRoleOf(stack, 'imagebuilder.amazonaws.com', 'AWSServiceRoleForImageBuilder');
    const added = key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CdkImmutableDeploysImageBuilder',
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'],
      resources: ['*'],
      conditions: { ArnEquals: { 'aws:PrincipalArn': serviceRole } },
    }));
    if (!added.statementAdded) {
      warn(this, 'ami-key-policy',
        `rootVolumeKey is imported, so its key policy cannot be changed here: allow ${serviceRole} and ${serviceLinkedRoleOf(stack, 'autoscaling.amazonaws.com', 'AWSServiceRoleForAutoScaling')} to use it (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey, and CreateGrant for AWS resources), or the bake fails to launch its instance and Auto Scaling cannot launch the AMI.`);
      return;
    }
    // Auto Scaling launches instances from the AMI through its service-linked role, which may use a
    // customer managed key only if the key policy says so (EC2 Auto Scaling: key policy for encrypted volumes).
    const autoScaling = { ArnEquals: { 'aws:PrincipalArn': serviceLinkedRoleOf(stack, 'autoscaling.amazonaws.com', 'AWSServiceRoleForAutoScaling') } };
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CdkImmutableDeploysAutoScalingUse',
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: autoScaling,
    }));
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CdkImmutableDeploysAutoScalingGrants',
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { ...autoScaling, Bool: { 'kms:GrantIsForAWSResource': true } },
    }));
    // Accounts the AMI is shared with may use the key; each grants its own Auto Scaling role (a KMS grant made in that account).
    if (accounts.length > 0) {
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'CdkImmutableDeploysSharedAccounts',
        principals: accounts.map((a) => new iam.AccountPrincipal(a)),
        actions: ['kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'],
        resources: ['*'],
      }));
    }
  }
}

interface BoundStep {
  readonly config: BakeStepConfig;
  readonly kind: 's' | 't';
  readonly index: number;
}

function validateProps(bake: Construct, props: AmiBakeProps) {
  if (props.vpc) {
    const subnets = props.vpc.selectSubnets(props.subnetSelection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    if (subnets.subnetIds.length === 0) {
      throw constructError(bake, 'AmiBake', { prop: 'subnetSelection', problem: `selects no subnet of vpc ${props.vpc.node.path}`, fix: 'Select a subnet with outbound access.' });
    }
  } else if (props.subnetSelection) {
    throw constructError(bake, 'AmiBake', { prop: 'subnetSelection', problem: 'is set but vpc is not', fix: 'Pass the vpc the subnets belong to.' });
  }
  const volume = props.rootVolumeSize?.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (volume !== undefined && Token.isUnresolved(volume)) {
    throw constructError(bake, 'AmiBake', { prop: 'rootVolumeSize', problem: 'is an unresolved token', fix: "The volume size counts in the bake's fingerprint, so it must be known at synth time; pass Size.gibibytes(<number>)." });
  }
  if (props.steps.length === 0) {
    throw constructError(bake, 'AmiBake', { prop: 'steps', problem: 'is empty', fix: 'Pass at least one BakeStep, such as BakeStep.shell([...]).' });
  }
  const timeout = props.buildTimeout;
  if (timeout && !Token.isUnresolved(timeout.toSeconds())) {
    if (timeout.toSeconds() > MAX_BUILD_TIMEOUT.toSeconds()) {
      throw constructError(bake, 'AmiBake', { prop: 'buildTimeout', value: timeout, problem: 'is longer than 12 hours, the most a CloudFormation wait condition allows', fix: 'Pass at most Duration.hours(12), or make the bake shorter (a layered bake splits it).' });
    }
    if (timeout.toSeconds() < 60) {
      throw constructError(bake, 'AmiBake', { prop: 'buildTimeout', value: timeout, problem: 'is shorter than a minute; no bake finishes that fast', fix: 'Pass at least Duration.minutes(30).' });
    }
  }
  const retain = props.retainImages;
  if (retain !== undefined && !Token.isUnresolved(retain) && (!Number.isInteger(retain) || retain < 1 || retain > 1000)) {
    throw constructError(bake, 'AmiBake', { prop: 'retainImages', value: retain, problem: 'must be a whole number from 1 to 1000', fix: 'Pass 3 to keep the last three images.' });
  }
  const keep = props.keepLaunchedWithin;
  const day = Duration.days(1).toSeconds();
  if (keep && !Token.isUnresolved(keep.toSeconds()) && (keep.toSeconds() < day || keep.toSeconds() % day !== 0)) {
    throw constructError(bake, 'AmiBake', { prop: 'keepLaunchedWithin', value: keep, problem: 'must be a whole number of days, at least 1', fix: 'Pass Duration.days(30), for example.' });
  }
  const size = props.rootVolumeSize;
  if (size && !Token.isUnresolved(size.toGibibytes({ rounding: SizeRoundingBehavior.NONE }))) {
    const gib = size.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
    if (!Number.isInteger(gib) || gib < 1 || gib > 16384) {
      throw constructError(bake, 'AmiBake', { prop: 'rootVolumeSize', value: `${gib} GiB`, problem: 'must be a whole number of GiB from 1 to 16384', fix: 'Pass Size.gibibytes(20), for example.' });
    }
  }
  if (props.amiName !== undefined && !Token.isUnresolved(props.amiName) && !/^[A-Za-z0-9().\-/_]{1,80}$/.test(props.amiName)) {
    throw constructError(bake, 'AmiBake', { prop: 'amiName', value: props.amiName, problem: 'is not a valid AMI name prefix', fix: 'Use 1 to 80 letters, digits and ( ) . - / _.' });
  }
  for (const region of props.distribution?.regions ?? []) {
    if (!Token.isUnresolved(region) && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
      throw constructError(bake, 'AmiBake', { prop: 'distribution.regions', problem: `has '${region}', which is not a region name`, fix: "Pass names such as 'eu-west-1'." });
    }
  }
  for (const account of props.distribution?.accounts ?? []) {
    if (!Token.isUnresolved(account) && !/^\d{12}$/.test(account)) {
      throw constructError(bake, 'AmiBake', { prop: 'distribution.accounts', problem: `has '${account}', which is not an AWS account id`, fix: 'Pass 12-digit account ids.' });
    }
  }
}

/**
 * The name of a bake's recipe, distribution, lifecycle policy and log group: the stack's name prefix,
 * the construct's path, lowercase, and a hash of the path, so it is unique in an account and stable
 * across synths. Every name starts with the prefix, which scopes the runtime's permissions.
 */
function bakeNameOf(bake: Construct, prefix: string): string {
  const stack = Stack.of(bake);
  const relative = bake.node.scopes.slice(bake.node.scopes.indexOf(stack) + 1).map((c) => c.node.id);
  const readable = relative.join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 40).replace(/-$/, '');
  return `${prefix}-${readable ? `${readable}-` : ''}${bake.node.addr.slice(0, 8)}`;
}

/** The regions besides the stack's that a bake copies its AMI to. */
function copyRegionsOf(stack: Stack, props: AmiBakeProps): string[] {
  return [...new Set(props.distribution?.regions ?? [])].filter((r) => Token.isUnresolved(stack.region) || r !== stack.region);
}

/** Image Builder's test stage gets the bake's time, within its own limits of 1 to 24 hours. */
function testTimeoutMinutes(buildTimeout: Duration): number {
  if (Token.isUnresolved(buildTimeout.toSeconds())) return 720;
  return Math.min(1440, Math.max(60, Math.ceil(buildTimeout.toMinutes({ integral: false }))));
}

function defaultInstanceTypes(architecture: ec2.InstanceArchitecture): ec2.InstanceType[] {
  return architecture === ec2.InstanceArchitecture.ARM_64
    ? [new ec2.InstanceType('m6g.large'), new ec2.InstanceType('m7g.large')]
    : [new ec2.InstanceType('m6i.large'), new ec2.InstanceType('m5.large')];
}

function checkArchitecture(bake: Construct, instanceType: ec2.InstanceType, index: number, architecture: ec2.InstanceArchitecture) {
  const name = instanceType.toString();
  if (Token.isUnresolved(name)) return;
  let actual: ec2.InstanceArchitecture;
  try {
    actual = instanceType.architecture;
  } catch {
    return; // an instance family this version of aws-cdk-lib does not know: nothing to check against
  }
  if (actual !== architecture) {
    throw constructError(bake, 'AmiBake', { prop: `instanceTypes[${index}]`, value: name, problem: `is ${actual}, but the base image is ${architecture}`, fix: `Pass ${architecture} instance types, such as ${defaultInstanceTypes(architecture)[0]}, or set the base image's architecture.` });
  }
}

/** A key's identity for the fingerprint: its ARN when known, else its place in the app. */
function keyIdentity(key?: kms.IKey): string | null {
  if (!key) return null;
  return Token.isUnresolved(key.keyArn) ? `construct:${key.node.path}` : key.keyArn;
}

/**
 * An Image Builder semantic version from a fingerprint: `1.<28 bits>.<28 bits>`, so that every
 * fingerprint has its own version of the recipe and components.
 */
function versionOf(fingerprint: Fingerprint): string {
  return `1.${parseInt(fingerprint.hex.slice(0, 7), 16)}.${parseInt(fingerprint.hex.slice(7, 14), 16)}`;
}

function arnOf(stack: Stack, resource: string, resourceName: string): string {
  return stack.formatArn({ service: 'imagebuilder', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}
