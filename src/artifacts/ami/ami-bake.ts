import { ArnFormat, Duration, RemovalPolicy, Size, SizeRoundingBehavior, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { AmiArtifact, IAmiArtifact } from './artifact';
import { AmiBakeInfrastructure } from './bake-infrastructure';
import { allowKeyUse } from './bake-key';
import { buildInstanceTags, defaultInstanceTypes, validateProps } from './bake-props';
import { BakeStep } from './bake-step';
import { BaseImage } from './base-image';
import type { BakeStepConfig } from './binding';
import { BAKE_TAG, descriptionSuffixOf, FINGERPRINT_TAG } from './types';
import type { AmiBakeSpec, BakeAssetCopy, BakeComponentProps } from './types';
import { Fingerprint } from '../../fingerprint';
import { describeConstruct, PropProblems, warn } from '../../internal/errors';
import { checkArchitecture, checkReach, Reach } from '../../internal/pairing';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';
import { checkPlaintextSecrets, entriesOf, INSTANCE_ADVICE } from '../../internal/secrets';
import { bakeInputDigests, recordInputs } from '../../plan/inputs';
import { recordArtifact } from '../../plan/metadata';

/**
 * The revision of the bake procedure. It counts in every bake's fingerprint: bump it only when
 * a change to this library changes what a bake produces from the same inputs (the rendered
 * component documents, the recipe's settings), never for a release that does not.
 */
const AMI_BUILDER_REVISION = 1;

/**
 * The revision of the component documents this library renders, beside the fingerprint: bump it when
 * a document changes in a way that does not change the image and so not the fingerprint (where a
 * file step downloads from), so that a bake after the upgrade creates new component versions instead
 * of reusing ones whose documents the library no longer supports. It changes no fingerprint: AMIs
 * baked before are still reused. 2: file steps download the runtime's copy of their asset.
 */
const COMPONENT_REVISION = 2;

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
   * each of them. This library changes only `rootVolumeKey`'s policy: the key in each other region
   * (also a replica of a multi-Region key, whose policy KMS never copies or synchronizes) needs its
   * own policy to let Image Builder copy the AMI, EC2 Auto Scaling launch it and the shared accounts
   * use it: the statements `rootVolumeKey` gets (`CdkImmutableDeploysServiceRolesUse`,
   * `CdkImmutableDeploysServiceRolesGrants`, `CdkImmutableDeploysSharedAccounts`; see the README).
   * Stages in other accounts name that region's key by its ARN (`encryptionKeyArn`).
   *
   * @default - each region's default EBS key, which cannot be shared with other accounts
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
   * The KMS key that encrypts the image's root volume and so its snapshot. For a key of this app, the
   * bake adds to its policy what Image Builder's and EC2 Auto Scaling's service-linked roles need to
   * bake and launch the AMI in this account, and what the accounts of `distribution.accounts` need; an
   * imported key's policy must allow the same (a warning lists it).
   *
   * @default - the account's default EBS key (`aws/ebs`); the volume is always encrypted
   */
  readonly rootVolumeKey?: kms.IKey;

  /**
   * How long a bake may take, test stage included, before the deployment fails (and the bake is
   * cancelled), at most 12 hours. The runtime enforces it: Image Builder ignores its own test timeout.
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
   * How many of this bake's most recent bakes to keep. After each bake that succeeds, the runtime
   * deletes the AMIs (in every region they were copied to) and snapshots of the older bakes of this
   * `AmiBake`, counted over every fingerprint by Image Builder's own records, except an AMI that a stack
   * of this account holds (the bake's own stack, or a stage that imports it by fingerprint or gets the
   * bake object, in that AMI's region), one tagged `cdk-immutable-deploys:keep=true` (also by you), one
   * another account may launch (`distribution.accounts`: a stage there cannot say that it runs it;
   * deregister those by hand once no stage runs them), and one an instance was launched from within
   * `keepLaunchedWithin`. A fingerprint whose AMI was deleted is baked again if the app reverts to it.
   * A change of this value applies at the next bake.
   *
   * @default 3
   */
  readonly retainImages?: number;

  /**
   * An AMI from which an instance was launched within this time is never deleted by the bake's
   * retention (EC2 reports a launch up to a day late; the runtime allows for it).
   *
   * @default Duration.days(30)
   */
  readonly keepLaunchedWithin?: Duration;

  /**
   * The prefix of the AMI names. Each AMI is named `<prefix>-<fingerprint>-<build date>`.
   *
   * Letters, digits, spaces, `.`, `-` and `_` (what both Image Builder and EC2 accept), at most 80.
   *
   * @default - a name unique to this construct, from its path
   */
  readonly amiName?: string;

  /**
   * Tags for the AMIs, their snapshots and the build instances. Keys starting with `aws:` or
   * `cdk-immutable-deploys:`, and `CreatedBy` and `Ec2ImageBuilderArn` (Image Builder's), are refused;
   * `Name` and `Tags`, which Image Builder refuses on build instances, go to the AMIs only.
   *
   * @default - only the bake's own tags (fingerprint and bake name)
   */
  readonly tags?: { [key: string]: string };

  /**
   * How long the build logs are kept. The runtime creates the log group `/aws/imagebuilder/<recipe
   * name>` (or adopts it, when an earlier deploy made it) with this retention when a bake starts; it is
   * not part of the stack, so it stays when the stack is deleted and is adopted again by a re-created
   * stack.
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
   * Image Builder images, recipes and components the bake created, and its build log group; an AMI another stack of this account
   * still holds, one another account may launch (`distribution.accounts`), or one you tagged
   * `cdk-immutable-deploys:keep=true` stays. A deletion that cannot finish is logged and never fails
   * the stack's deletion. An update never deletes anything, also when the bake leaves the app (or a
   * nested stack that holds it leaves its parent): a revert finds its AMIs again. It does not count in
   * the fingerprint: changing it bakes nothing.
   *
   * @default RemovalPolicy.RETAIN - the AMIs, snapshots, images, recipes, components and build logs stay
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

  /**
   * The version of the bake's components, derived from the fingerprint and the revision of the
   * component documents this library renders.
   *
   * @deprecated The recipe's own version is derived at deploy time from the fingerprint and the base
   * AMI and key the deploy resolves (a layered bake's parent AMI is known only then), so that no recipe
   * version names an AMI that is gone; this is the version of the bake's components.
   */
  public readonly recipeVersion: string;

  /** The log group of the build logs (created or adopted by the runtime when a bake starts). */
  public readonly logGroup: logs.ILogGroup;

  /** The role of the build and test instances. */
  public readonly instanceRole: iam.IRole;

  private readonly userData?: ec2.UserData;
  private readonly props: AmiBakeProps;

  constructor(scope: Construct, id: string, props: AmiBakeProps) {
    super(scope, id);
    validateProps(this, props);
    this.props = props;
    const stack = Stack.of(this);
    const shared = AmiBakeInfrastructure.of(this);
    this.instanceRole = shared.instanceRole;

    const base = props.baseImage._bind(this);
    this.osType = base.osType;
    this.architecture = base.architecture;
    this.rootDeviceName = base.rootDeviceName;
    const instanceTypes = props.instanceTypes ?? defaultInstanceTypes(base.architecture);
    PropProblems.of(this, 'AmiBake').check(() => checkArchitecture(describeConstruct(this, 'AmiBake'), 'the base image', base.architecture,
      instanceTypes.map((instanceType, i) => ({ prop: `instanceTypes[${i}]`, instanceType })), 'base image (its architecture option)'));
    const bakeName = bakeNameOf(this, shared.namePrefix);
    this.recipeName = bakeName;
    const buildTimeout = props.buildTimeout ?? Duration.hours(4);

    // Steps: each becomes a component (or names an AWS-managed one); the fingerprint counts every input that shapes the image.
    const assets: BakeAssetCopy[] = [];
    const bound = this.bindSteps(props, base.osType, (asset) => {
      const staged = shared.stageAsset(asset);
      assets.push(staged.copy);
      return staged.url;
    });
    checkPlaintextSecrets(this, 'AmiBake', [
      ...bound.map((b) => ({ prop: `${b.kind === 's' ? 'steps' : 'testSteps'}[${b.index - 1}]`, value: b.config.document ?? '' })),
      ...entriesOf('tags', props.tags),
      ...(props.amiName !== undefined ? [{ prop: 'amiName', value: props.amiName }] : []),
      ...(props.userData ? [{ prop: 'userData', value: props.userData.render() }] : []),
    ], INSTANCE_ADVICE);
    const volumeSize = props.rootVolumeSize ? props.rootVolumeSize.toGibibytes({ rounding: SizeRoundingBehavior.NONE }) : undefined;
    const rootVolume = { deviceName: base.rootDeviceName, sizeGiB: volumeSize ?? null, key: keyIdentity(props.rootVolumeKey) };
    const fingerprint = Fingerprint.combine(
      Fingerprint.ofJson({
        builderRevision: AMI_BUILDER_REVISION,
        baseImage: base.fingerprintInput,
        osType: ec2.OperatingSystemType[base.osType],
        rootVolume,
      }),
      Fingerprint.ofJson({ steps: bound.filter((b) => b.kind === 's').map((b) => b.config.fingerprint.hex) }),
      Fingerprint.ofJson({ testSteps: bound.filter((b) => b.kind === 't').map((b) => b.config.fingerprint.hex) }),
    );
    this.fingerprint = fingerprint.hex;
    const componentVersion = versionOf(Fingerprint.combine(fingerprint, Fingerprint.ofJson({ componentRevision: COMPONENT_REVISION })));
    this.recipeVersion = componentVersion;

    // Per bake: its distribution and lifecycle policy; the rest is the stack's. The log group is the
    // runtime's (created or adopted when a bake starts): a fixed name in the template, retained, would
    // make a re-created stack or a revert collide with the group an earlier deploy left.
    const logGroupName = `/aws/imagebuilder/${bakeName}`;
    this.logGroup = logs.LogGroup.fromLogGroupName(this, 'Logs', logGroupName);
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const placement = { instanceTypes, vpc: props.vpc, subnetSelection: props.subnetSelection, tags: buildInstanceTags(props.tags ?? {}) };
    const infrastructure = shared.infrastructureFor(placement);
    const copyRegions = copyRegionsOf(stack, props);
    const distribution = this.newDistribution(bakeName, fingerprint, props, copyRegions);
    // Copies in other regions are held like the original: the runtime tags them there.
    shared.grantHoldIn(copyRegions);
    const removal = DeployTimeRuntime.of(this).removalSetting(this, 'AmiBake', props.removalPolicy);
    if (removal.RemovalPolicy) shared.grantDestroyIn([stack.region, ...copyRegions]);
    // Retention: the runtime prunes after each bake (an Image Builder lifecycle policy counts per recipe version, and every fingerprint has its own).
    shared.grantPruneIn([stack.region, ...copyRegions]);
    const keep = this.retention(props);
    if (props.rootVolumeKey) {
      shared.grantKey(props.rootVolumeKey);
      allowKeyUse(this, props.rootVolumeKey, props.distribution?.accounts ?? []);
    }

    const { components, componentArns } = this.components(bakeName, fingerprint, componentVersion, bound, base.osType);
    const arn = (resource: string, resourceName: string) => arnOf(stack, resource, resourceName);
    const spec: AmiBakeSpec = {
      RecipeName: bakeName,
      RecipeNameArn: arn('image-recipe', bakeName),
      ImageNameArn: arn('image', bakeName),
      ParentImage: base.amiId,
      Components: components,
      ComponentArns: componentArns,
      BlockDevice: { DeviceName: base.rootDeviceName, VolumeSize: volumeSize !== undefined ? String(volumeSize) : '', KmsKeyId: props.rootVolumeKey?.keyArn ?? '' },
      InfrastructureConfigurationArn: infrastructure.attrArn,
      DistributionConfigurationArn: distribution.attrArn,
      TestsEnabled: String(bound.some((b) => b.kind === 't')),
      BakeName: bakeName,
      LogGroupName: logGroupName,
      LogRetentionDays: retention === logs.RetentionDays.INFINITE ? '' : String(retention),
      ...(assets.length > 0 ? { Assets: assets } : {}),
      ...(copyRegions.length > 0 ? { CopyRegions: copyRegions } : {}),
      ...keep,
      ...removal,
    };
    // The bake starts once its configurations and the instances' grants (file steps) exist.
    const job = DeployTimeRuntime.of(this).addJob(this, {
      kind: 'ami-bake',
      fingerprint: this.fingerprint,
      spec: { ...spec },
      timeout: buildTimeout,
      dependencies: [infrastructure, distribution, shared.instanceRole],
      // The AMI is read back by the fingerprint (with its copies in these regions, which the stack holds).
      readBack: copyRegions.length > 0 ? { CopyRegions: copyRegions.join(',') } : {},
    });

    recordArtifact(this, job.wait, 'ami', this.fingerprint);
    const stepInputs = (kind: 's' | 't') => bound.filter((b) => b.kind === kind).map((b) => ({ fingerprint: b.config.fingerprint.hex, files: b.config.files }));
    recordInputs(this, this.fingerprint, bakeInputDigests({
      baseImage: base.fingerprintInput,
      os: ec2.OperatingSystemType[base.osType],
      rootVolume,
      builder: String(AMI_BUILDER_REVISION),
      steps: stepInputs('s'),
      testSteps: stepInputs('t'),
    }));
    // From the bake's read-back, never from its wait: the wait only says when the bake ended.
    this.amiId = job.result;
    const artifact = AmiArtifact.fromAmiId(this.amiId, {
      osType: this.osType,
      architecture: base.architecture,
      userData: props.userData,
      rootDeviceName: base.rootDeviceName,
    });
    // A plain launch template or instance of another stack must be where the AMI is.
    this.machineImage = { getImage: (user) => { checkReach(user, user.node.path, 'machineImage', this); return artifact.machineImage.getImage(user); } };
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
    const otherAccount = known(stack.account) && known(consumer.account) && stack.account !== consumer.account;
    return AmiArtifact.fromFingerprint(scope, 'ImportedArtifact', {
      fingerprint: this.fingerprint,
      owner: otherAccount ? stack.account : undefined,
      encryptionKeyArn: otherAccount ? this.keyArnFor(scope) : undefined,
      sourceRegion: known(stack.region) ? stack.region : undefined,
      osType: this.osType,
      architecture: this.architecture,
      rootDeviceName: this.rootDeviceName,
      userData: this.userData,
    });
  }

  /**
   * Where the AMI is: the stack's region and account, the regions it is copied to and the accounts it
   * is shared with (in every one of those regions). Unknown when any of them is a token.
   *
   * @internal
   */
  public _reach(): Reach | undefined {
    const stack = Stack.of(this);
    const regions = this.props.distribution?.regions ?? [];
    const accounts = this.props.distribution?.accounts ?? [];
    if ([stack.region, stack.account, ...regions, ...accounts].some((v) => Token.isUnresolved(v))) return undefined;
    const path = this.node.path;
    return {
      artifact: describeConstruct(this, 'AmiBake'),
      region: stack.region,
      account: stack.account,
      reaches: (region, account) => [stack.region, ...regions].includes(region) && [stack.account, ...accounts].includes(account),
      fix: (region, account) => {
        const add = [
          ...(region === stack.region || regions.includes(region) ? [] : [`'${region}' to distribution.regions`]),
          ...(account === stack.account || accounts.includes(account) ? [] : [`'${account}' to distribution.accounts (with a rootVolumeKey, and a distribution.kmsKeyId in other regions, that the account may use)`]),
        ];
        return `Add ${add.join(' and ')} of ${path}, or deploy an AMI that is there (AmiArtifact.fromFingerprint() with its owner).`;
      },
    };
  }

  /**
   * The ARN of the key that encrypts this AMI in the region of `scope` (a stack of another account, which
   * grants its own Auto Scaling role the key): `rootVolumeKey`'s in the bake's region, `kmsKeyId` in a
   * copy region when it is a key ARN of that region. A key known only at deploy time (a key of the app)
   * cannot be named in another account's template: a warning says to pass it to `fromFingerprint`.
   */
  private keyArnFor(scope: Construct): string | undefined {
    const region = Stack.of(scope).region;
    const candidates = [
      ...(region === Stack.of(this).region ? [this.props.rootVolumeKey?.keyArn] : []),
      this.props.distribution?.kmsKeyId,
    ].filter((k): k is string => k !== undefined && !Token.isUnresolved(k));
    const found = candidates.find((k) => /^arn:aws[a-z-]*:kms:/.test(k) && k.split(':')[3] === region);
    if (!found && (this.props.rootVolumeKey || this.props.distribution?.kmsKeyId)) {
      warn(scope, 'ami-cross-account-key',
        `${this.node.path} is encrypted with a customer managed key that this stack's account (${Stack.of(scope).account}) may use only through a KMS grant its runtime makes, but the key's ARN in ${region} is not known when the app is synthesized. Import the AMI with AmiArtifact.fromFingerprint(scope, id, { fingerprint, owner, encryptionKeyArn: '<key ARN in ${region}>' }) instead of passing the bake, or the group cannot launch it.`);
    }
    return found;
  }

  private bindSteps(props: AmiBakeProps, osType: ec2.OperatingSystemType, stage: (asset: s3assets.Asset) => string): BoundStep[] {
    const bind = (step: BakeStep, phase: 'build' | 'test', kind: 's' | 't', index: number): BoundStep => ({
      config: step._bind(this, { osType, phase, instanceRole: this.instanceRole, stage, id: `${kind === 's' ? 'Step' : 'TestStep'}${index}` }),
      kind,
      index,
    });
    return [
      ...props.steps.map((step, i) => bind(step, 'build', 's', i + 1)),
      ...(props.testSteps ?? []).map((step, i) => bind(step, 'test', 't', i + 1)),
    ];
  }

  /** The components the runtime creates (named and versioned by the fingerprint), and every component of the recipe in order. */
  private components(bakeName: string, fingerprint: Fingerprint, version: string, bound: BoundStep[], osType: ec2.OperatingSystemType) {
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
      components.push({ Name: name, Version: version, Platform: platform, Description: config.description, Data: config.document! });
      componentArns.push(arnOf(stack, 'component', `${name}/${version}`));
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
   * Retention, as the runtime applies it after each bake: the last `retainImages` bakes of this
   * construct, and any AMI held by a stack, tagged keep, shared with another account or launched
   * within `keepLaunchedWithin` (`pruneBake` in `bake-cleanup-job.ts`).
   */
  private retention(props: AmiBakeProps): Pick<AmiBakeSpec, 'RetainImages' | 'KeepLaunchedDays'> {
    const retainImages = props.retainImages ?? 3;
    if (!Token.isUnresolved(retainImages) && retainImages === 1) {
      warn(this, 'ami-retain-one',
        'retainImages is 1: after each bake the runtime deletes every earlier AMI of this bake that no stack runs, so reverting the app to an earlier version bakes again. Keep at least 2.');
    }
    const keepDays = props.keepLaunchedWithin ? props.keepLaunchedWithin.toDays() : 30;
    return { RetainImages: Tokenization.stringifyNumber(retainImages), KeepLaunchedDays: Tokenization.stringifyNumber(keepDays) };
  }
}

interface BoundStep {
  readonly config: BakeStepConfig;
  readonly kind: 's' | 't';
  readonly index: number;
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

/** A key's identity for the fingerprint: its ARN when known, else its place in the app. */
function keyIdentity(key?: kms.IKey): string | null {
  if (!key) return null;
  return Token.isUnresolved(key.keyArn) ? `construct:${key.node.path}` : key.keyArn;
}

/**
 * An Image Builder semantic version from a fingerprint: `1.<28 bits>.<28 bits>`, so that every
 * fingerprint (and component revision) has its own version of the components (the recipe's is derived
 * the same way at deploy time, from the fingerprint, the parent AMI and the key).
 */
function versionOf(fingerprint: Fingerprint): string {
  return `1.${parseInt(fingerprint.hex.slice(0, 7), 16)}.${parseInt(fingerprint.hex.slice(7, 14), 16)}`;
}

function arnOf(stack: Stack, resource: string, resourceName: string): string {
  return stack.formatArn({ service: 'imagebuilder', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}
