import {
  Annotations,
  ArnFormat,
  CfnWaitCondition,
  CfnWaitConditionHandle,
  CustomResource,
  Duration,
  Lazy,
  Size,
  SizeRoundingBehavior,
  Stack,
  Token,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AmiArtifact, IAmiArtifact } from './artifact';
import { BakeIsCompleteFunction, BakeIsCompleteFunctionProps } from './bake-is-complete-function';
import { BakeOnEventFunction, BakeOnEventFunctionProps } from './bake-on-event-function';
import { BakeReporterFunction, BakeReporterFunctionProps } from './bake-reporter-function';
import { BakeStep } from './bake-step';
import { BaseImage } from './base-image';
import type { BakeStepConfig } from './binding';
import { BAKE_RESOURCE_TYPE, BAKE_RESULT_RESOURCE_TYPE, BAKE_TAG, FINGERPRINT_TAG, IN_USE_TAG_PREFIX, KEEP_TAG, KEPT_BY_TAG } from './types';
import type { BakeComponentProps, BakeResourceProps, BakeResultProps } from './types';
import { Fingerprint } from '../../fingerprint';
import { acknowledgeExact, acknowledgeHandler, acknowledgeProvider, acknowledgeWildcards, functionOf, handlerProps, managedPolicyFinding } from '../../internal/nag';

/**
 * The revision of the bake procedure. It counts in every bake's fingerprint: bump it only when
 * a change to this library changes what a bake produces from the same inputs (the rendered
 * component documents, the recipe's settings), never for a release that does not.
 */
const AMI_BUILDER_REVISION = 1;

/** CloudFormation's limit for a wait condition, and so for a bake. */
const MAX_BUILD_TIMEOUT = Duration.hours(12);

/** Construct id of the per-stack handlers: part of the public contract, never renamed. */
const HANDLERS_ID = 'cdk-immutable-deploys.AmiBakeHandlers';

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
   * from them within `keepLaunchedWithin` or they carry the tag `cdk-immutable-deploys:keep=true`.
   * The AMI a stack uses (the one a rollback returns to) always carries that tag: the bake sets it
   * when a deployment starts using the AMI, and removes it once no stack uses it any more.
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

  /** The name of the bake's Image Builder image recipe (the same for every version). */
  public readonly recipeName: string;

  /** The recipe version of these inputs, derived from the fingerprint. */
  public readonly recipeVersion: string;

  /** The log group of the build logs. */
  public readonly logGroup: logs.ILogGroup;

  /** The role of the build and test instances. */
  public readonly instanceRole: iam.IRole;

  constructor(scope: Construct, id: string, props: AmiBakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validateProps(props);

    const base = props.baseImage._bind(this);
    this.osType = base.osType;
    this.architecture = base.architecture;
    const instanceTypes = props.instanceTypes ?? defaultInstanceTypes(base.architecture);
    instanceTypes.forEach((t, i) => checkArchitecture(t, i, base.architecture));

    const bakeName = bakeNameOf(this);
    this.recipeName = bakeName;
    const amiName = props.amiName ?? bakeName;
    const buildTimeout = props.buildTimeout ?? Duration.hours(4);
    const retainImages = props.retainImages ?? 3;
    if (!Token.isUnresolved(retainImages) && retainImages === 1) {
      Annotations.of(this).addWarningV2('cdk-immutable-deploys:ami-retain-one',
        'retainImages is 1: the AMI each stack uses is always kept, but once a new image is baked every other earlier AMI may be deleted, so reverting the app to an earlier version bakes again. Keep at least 2.');
    }

    // The build and test instances.
    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Build and test instances of AMI bake ${bakeName}`,
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('EC2InstanceProfileForImageBuilder'),
      ],
    });
    this.instanceRole = role;
    const instanceReason = 'Image Builder drives its build and test instances through SSM and AWSTOE: AmazonSSMManagedInstanceCore and EC2InstanceProfileForImageBuilder are the minimal policies AWS documents for them, and AWS keeps them current with the agents.';
    acknowledgeExact(role,
      { id: managedPolicyFinding('AmazonSSMManagedInstanceCore'), reason: instanceReason },
      { id: managedPolicyFinding('EC2InstanceProfileForImageBuilder'), reason: instanceReason });

    // Steps: each becomes a component (or names an AWS-managed one).
    const bound: Array<{ config: BakeStepConfig; kind: 's' | 't'; index: number }> = [];
    props.steps.forEach((step, i) => bound.push({ config: step._bind(this, { osType: base.osType, phase: 'build', instanceRole: role, id: `Step${i + 1}` }), kind: 's', index: i + 1 }));
    (props.testSteps ?? []).forEach((step, i) => bound.push({ config: step._bind(this, { osType: base.osType, phase: 'test', instanceRole: role, id: `TestStep${i + 1}` }), kind: 't', index: i + 1 }));

    // The fingerprint: every input that shapes the image's bits, and nothing else.
    const volumeSize = props.rootVolumeSize ? props.rootVolumeSize.toGibibytes({ rounding: SizeRoundingBehavior.NONE }) : undefined;
    if (volumeSize !== undefined && Token.isUnresolved(volumeSize)) {
      throw new Error("AmiBake: rootVolumeSize is an unresolved token. The volume size counts in the bake's fingerprint, so it must be known at synth time; pass Size.gibibytes(<number>).");
    }
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
    const short = fingerprint.short;

    const arn = (resource: string, resourceName: string) => arnOf(stack, resource, resourceName);
    const recipeArn = arn('image-recipe', `${bakeName}/${this.recipeVersion}`);
    const imageVersionArn = arn('image', `${bakeName}/${this.recipeVersion}`);
    const platform = base.osType === ec2.OperatingSystemType.WINDOWS ? 'Windows' : 'Linux';
    const components: BakeComponentProps[] = [];
    const componentArns: string[] = [];
    const ownComponentArns: string[] = [];
    for (const { config, kind, index } of bound) {
      if (config.componentArn) {
        componentArns.push(config.componentArn);
        continue;
      }
      const name = `${bakeName}-${short}-${kind}${index}`;
      components.push({ Name: name, Version: this.recipeVersion, Platform: platform, Description: config.description, Data: config.document! });
      const componentArn = arn('component', `${name}/${this.recipeVersion}`);
      componentArns.push(componentArn);
      ownComponentArns.push(componentArn);
    }

    // Logs: Image Builder writes to /aws/imagebuilder/<recipe name>.
    const logGroupName = `/aws/imagebuilder/${bakeName}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });

    const profile = new iam.CfnInstanceProfile(this, 'InstanceProfile', { roles: [role.roleName] });

    let subnetId: string | undefined;
    let securityGroupIds: string[] | undefined;
    if (props.vpc) {
      const subnets = props.vpc.selectSubnets(props.subnetSelection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
      if (subnets.subnetIds.length === 0) {
        throw new Error(`AmiBake ${this.node.path}: subnetSelection selects no subnet of vpc ${props.vpc.node.path}. Select a subnet with outbound access.`);
      }
      subnetId = subnets.subnetIds[0];
      const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: `Build and test instances of AMI bake ${bakeName}: no inbound, outbound to reach SSM, S3 and package repositories`,
        allowAllOutbound: true,
      });
      securityGroupIds = [securityGroup.securityGroupId];
    } else if (props.subnetSelection) {
      throw new Error(`AmiBake ${this.node.path}: subnetSelection is set but vpc is not. Pass the vpc the subnets belong to.`);
    }

    const userTags = props.tags ?? {};
    const infrastructure = new imagebuilder.CfnInfrastructureConfiguration(this, 'Infrastructure', {
      name: bakeName,
      description: `Build environment of AMI bake ${this.node.path}`,
      instanceProfileName: profile.ref,
      instanceTypes: instanceTypes.map((t) => t.toString()),
      subnetId,
      securityGroupIds,
      terminateInstanceOnFailure: true,
      instanceMetadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 },
      resourceTags: { ...userTags, [BAKE_TAG]: bakeName },
    });

    const accounts = props.distribution?.accounts ?? [];
    const amiTags = { ...userTags, [FINGERPRINT_TAG]: fingerprint.hex, [BAKE_TAG]: bakeName };
    // AmiDistributionConfiguration is free-form JSON in the CloudFormation schema: its keys are written as CloudFormation spells them.
    const amiConfig = (kmsKeyId?: string) => ({
      Name: `${amiName}-${short}-{{ imagebuilder:buildDate }}`,
      Description: `AMI bake ${bakeName}, fingerprint ${fingerprint.hex}`,
      AmiTags: amiTags,
      ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
      ...(accounts.length > 0 ? { LaunchPermissionConfiguration: { UserIds: accounts } } : {}),
    });
    const extraRegions = [...new Set(props.distribution?.regions ?? [])].filter((r) => Token.isUnresolved(stack.region) || r !== stack.region);
    const distribution = new imagebuilder.CfnDistributionConfiguration(this, 'Distribution', {
      name: bakeName,
      description: `Distribution of AMI bake ${this.node.path}`,
      distributions: [
        { region: stack.region, amiDistributionConfiguration: amiConfig() },
        ...extraRegions.map((region) => ({ region, amiDistributionConfiguration: amiConfig(props.distribution?.kmsKeyId) })),
      ],
    });

    // Retention: the last `retainImages` images of this bake, and any AMI launched recently.
    const lifecycleRole = new iam.Role(this, 'LifecycleRole', {
      assumedBy: new iam.ServicePrincipal('imagebuilder.amazonaws.com'),
      description: `Lifecycle policy of AMI bake ${bakeName}`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/EC2ImageBuilderLifecycleExecutionPolicy')],
    });
    acknowledgeExact(lifecycleRole, {
      id: managedPolicyFinding('service-role/EC2ImageBuilderLifecycleExecutionPolicy'),
      reason: 'EC2ImageBuilderLifecycleExecutionPolicy is the policy AWS documents for lifecycle policies; it only acts on images the policy selects by tag.',
    });
    const keepDays = props.keepLaunchedWithin ? props.keepLaunchedWithin.toDays() : 30;
    new imagebuilder.CfnLifecyclePolicy(this, 'Lifecycle', {
      name: bakeName,
      description: `Keeps the last ${retainImages} images of AMI bake ${bakeName} and any AMI launched within ${keepDays} days`,
      executionRole: lifecycleRole.roleArn,
      resourceType: 'AMI_IMAGE',
      status: 'ENABLED',
      resourceSelection: { tagMap: { [BAKE_TAG]: bakeName } },
      policyDetails: [{
        action: { type: 'DELETE', includeResources: { amis: true, snapshots: true } },
        filter: { type: 'COUNT', value: retainImages },
        // The keep tag is on every AMI a stack uses (set by the result resources) and on any a user keeps.
        exclusionRules: { amis: { lastLaunched: { value: keepDays, unit: 'DAYS' }, tagMap: { [KEEP_TAG]: 'true' } } },
      }],
    });

    if (props.rootVolumeKey) {
      const serviceRole = serviceLinkedRole(stack);
      const added = props.rootVolumeKey.addToResourcePolicy(new iam.PolicyStatement({
        sid: `ImageBuilderBake${short}`,
        principals: [new iam.AccountRootPrincipal()],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:PrincipalArn': serviceRole } },
      }));
      if (!added.statementAdded) {
        Annotations.of(this).addWarningV2('cdk-immutable-deploys:ami-key-policy',
          `rootVolumeKey is imported, so its key policy cannot be changed here: allow ${serviceRole} to use it (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey, CreateGrant), or the bake fails to launch its instance.`);
      }
    }
    if (accounts.length > 0 && !props.rootVolumeKey) {
      Annotations.of(this).addWarningV2('cdk-immutable-deploys:ami-share-default-key',
        `distribution.accounts shares the AMI with ${accounts.join(', ')}, but its snapshots are encrypted with the default EBS key, which other accounts cannot use. Pass a customer-managed rootVolumeKey (and distribution.kmsKeyId for other regions) that they may use.`);
    }

    // Deploy time: the handlers (one set per stack), the completion rule and the wait condition.
    const handlers = BakeHandlers.of(this);
    const handle = new CfnWaitConditionHandle(this, `Handle${short}`);
    const completion = new events.Rule(this, `Completion${short}`, {
      description: `Reports the end of AMI bake ${bakeName} ${this.recipeVersion} to its wait condition`,
      eventPattern: {
        source: ['aws.imagebuilder'],
        detailType: ['EC2 Image Builder Image State Change'],
        resources: events.Match.prefix(`${imageVersionArn}/`),
        detail: { state: { status: ['AVAILABLE', 'FAILED', 'CANCELLED'] } },
      },
      targets: [new targets.LambdaFunction(handlers.reporter, {
        event: events.RuleTargetInput.fromObject({ imageArn: events.EventField.fromPath('$.resources[0]'), handle: handle.ref }),
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      })],
    });

    const properties: BakeResourceProps = {
      Fingerprint: fingerprint.hex,
      RecipeName: bakeName,
      RecipeVersion: this.recipeVersion,
      RecipeArn: recipeArn,
      ImageVersionArn: imageVersionArn,
      ParentImage: base.amiId,
      Components: components,
      ComponentArns: componentArns,
      BlockDevice: {
        DeviceName: base.rootDeviceName,
        VolumeSize: volumeSize !== undefined ? String(volumeSize) : '',
        KmsKeyId: props.rootVolumeKey?.keyArn ?? '',
      },
      InfrastructureConfigurationArn: infrastructure.attrArn,
      DistributionConfigurationArn: distribution.attrArn,
      TestsEnabled: String(bound.some((b) => b.kind === 't')),
      TestTimeoutMinutes: String(testTimeoutMinutes(buildTimeout)),
      WaitHandle: handle.ref,
      BakeName: bakeName,
    };
    const bake = new CustomResource(this, 'Resource', {
      serviceToken: handlers.provider.serviceToken,
      resourceType: BAKE_RESOURCE_TYPE,
      properties,
    });
    bake.node.addDependency(completion, this.logGroup, infrastructure, distribution);

    const wait = new CfnWaitCondition(this, `Wait${short}`, {
      handle: handle.ref,
      count: 1,
      timeout: Token.isUnresolved(buildTimeout.toSeconds())
        ? Lazy.string({ produce: () => { const seconds = stack.resolve(buildTimeout.toSeconds()); return typeof seconds === 'number' ? String(seconds) : seconds; } })
        : String(buildTimeout.toSeconds()),
    });
    wait.node.addDependency(bake);
    // Once the wait condition has its signal, the result reads the AMI id of the finished bake.
    const resultProps: BakeResultProps = { Mode: 'result', Fingerprint: fingerprint.hex };
    const result = new CustomResource(this, `Result${short}`, {
      serviceToken: handlers.provider.serviceToken,
      resourceType: BAKE_RESULT_RESOURCE_TYPE,
      properties: resultProps,
    });
    result.node.addDependency(wait);
    this.amiId = result.getAttString('AmiId');

    const artifact = AmiArtifact.fromAmiId(this.amiId, { osType: this.osType, architecture: base.architecture, userData: props.userData });
    this.machineImage = artifact.machineImage;

    handlers.grantBake({
      imageVersionArn,
      recipeArn,
      componentArns: ownComponentArns,
      managedComponentArns: componentArns.filter((a) => !ownComponentArns.includes(a)),
      infrastructureArn: infrastructure.attrArn,
      distributionArn: distribution.attrArn,
      logStreamsArn: stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${logGroupName}:log-stream:${this.recipeVersion}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      key: props.rootVolumeKey,
    });
  }
}

function validateProps(props: AmiBakeProps) {
  if (props.steps.length === 0) {
    throw new Error('AmiBake: steps is empty. Pass at least one BakeStep, such as BakeStep.shell([...]).');
  }
  const timeout = props.buildTimeout;
  if (timeout && !Token.isUnresolved(timeout.toSeconds())) {
    if (timeout.toSeconds() > MAX_BUILD_TIMEOUT.toSeconds()) {
      throw new Error(`AmiBake: buildTimeout (${timeout.toHumanString()}) is longer than 12 hours, the most a CloudFormation wait condition allows. Pass at most Duration.hours(12), or make the bake shorter (a layered bake splits it).`);
    }
    if (timeout.toSeconds() < 60) {
      throw new Error(`AmiBake: buildTimeout (${timeout.toHumanString()}) is shorter than a minute; no bake finishes that fast. Pass at least Duration.minutes(30).`);
    }
  }
  const retain = props.retainImages;
  if (retain !== undefined && !Token.isUnresolved(retain) && (!Number.isInteger(retain) || retain < 1 || retain > 1000)) {
    throw new Error(`AmiBake: retainImages (${retain}) must be a whole number from 1 to 1000. Pass 3 to keep the last three images.`);
  }
  const keep = props.keepLaunchedWithin;
  const day = Duration.days(1).toSeconds();
  if (keep && !Token.isUnresolved(keep.toSeconds()) && (keep.toSeconds() < day || keep.toSeconds() % day !== 0)) {
    throw new Error(`AmiBake: keepLaunchedWithin (${keep.toHumanString()}) must be a whole number of days, at least 1. Pass Duration.days(30), for example.`);
  }
  const size = props.rootVolumeSize;
  if (size && !Token.isUnresolved(size.toGibibytes({ rounding: SizeRoundingBehavior.NONE }))) {
    const gib = size.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
    if (!Number.isInteger(gib) || gib < 1 || gib > 16384) {
      throw new Error(`AmiBake: rootVolumeSize (${gib} GiB) must be a whole number of GiB from 1 to 16384. Pass Size.gibibytes(20), for example.`);
    }
  }
  if (props.amiName !== undefined && !Token.isUnresolved(props.amiName) && !/^[A-Za-z0-9().\-/_]{1,80}$/.test(props.amiName)) {
    throw new Error(`AmiBake: amiName '${props.amiName}' is not a valid AMI name prefix. Use 1 to 80 letters, digits and ( ) . - / _.`);
  }
  for (const region of props.distribution?.regions ?? []) {
    if (!Token.isUnresolved(region) && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
      throw new Error(`AmiBake: distribution.regions has '${region}', which is not a region name. Pass names such as 'eu-west-1'.`);
    }
  }
  for (const account of props.distribution?.accounts ?? []) {
    if (!Token.isUnresolved(account) && !/^\d{12}$/.test(account)) {
      throw new Error(`AmiBake: distribution.accounts has '${account}', which is not an AWS account id. Pass 12-digit account ids.`);
    }
  }
}

/**
 * The name of a bake's recipe, configurations and log group: the stack's name and the construct's
 * path, lowercase, and a hash of the path, so it is unique in an account and stable across synths.
 */
function bakeNameOf(bake: Construct): string {
  const stack = Stack.of(bake);
  const relative = bake.node.scopes.slice(bake.node.scopes.indexOf(stack) + 1).map((c) => c.node.id);
  const readable = [Token.isUnresolved(stack.stackName) ? '' : stack.stackName, ...relative]
    .join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 50).replace(/-$/, '');
  return `${readable || 'bake'}-${bake.node.addr.slice(0, 8)}`;
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

function checkArchitecture(instanceType: ec2.InstanceType, index: number, architecture: ec2.InstanceArchitecture) {
  const name = instanceType.toString();
  if (Token.isUnresolved(name)) return;
  let actual: ec2.InstanceArchitecture;
  try {
    actual = instanceType.architecture;
  } catch {
    return; // an instance family this version of aws-cdk-lib does not know: nothing to check against
  }
  if (actual !== architecture) {
    throw new Error(`AmiBake: instanceTypes[${index}] (${name}) is ${actual}, but the base image is ${architecture}. Pass ${architecture} instance types, such as ${defaultInstanceTypes(architecture)[0]}, or set the base image's architecture.`);
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

interface BakeGrants {
  readonly imageVersionArn: string;
  readonly recipeArn: string;
  readonly componentArns: string[];
  readonly managedComponentArns: string[];
  readonly infrastructureArn: string;
  readonly distributionArn: string;
  readonly logStreamsArn: string;
  readonly key?: kms.IKey;
}

/**
 * The handlers of every bake in a stack: one `onEvent`, one `isComplete`, one reporter and one
 * provider, shared by all bakes. Each bake adds the permissions for its own ARNs.
 */
class BakeHandlers extends Construct {
  public static of(scope: Construct): BakeHandlers {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(HANDLERS_ID) as BakeHandlers | undefined) ?? new BakeHandlers(stack, HANDLERS_ID);
  }

  public readonly onEvent: lambda.SingletonFunction;
  public readonly isComplete: lambda.SingletonFunction;
  public readonly reporter: lambda.SingletonFunction;
  public readonly provider: cr.Provider;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.onEvent = new BakeOnEventFunction(this, 'OnEvent', handlerProps<BakeOnEventFunctionProps>({
      lambdaPurpose: 'AmiBakeOnEvent',
      description: 'cdk-immutable-deploys AmiBake: names an AMI bake (onEvent)',
      timeout: Duration.seconds(30),
    }));
    this.isComplete = new BakeIsCompleteFunction(this, 'IsComplete', handlerProps<BakeIsCompleteFunctionProps>({
      lambdaPurpose: 'AmiBakeIsComplete',
      description: 'cdk-immutable-deploys AmiBake: reuses or starts an AMI bake, cancels it on delete (isComplete)',
      timeout: Duration.minutes(5),
    }));
    this.reporter = new BakeReporterFunction(this, 'Reporter', handlerProps<BakeReporterFunctionProps>({
      lambdaPurpose: 'AmiBakeReporter',
      description: 'cdk-immutable-deploys AmiBake: signals the wait condition of an AMI bake when its image ends',
      timeout: Duration.minutes(5),
    }));
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEvent,
      isCompleteHandler: this.isComplete,
      queryInterval: Duration.seconds(20),
      totalTimeout: Duration.hours(1),
    });

    // Permissions every bake needs.
    this.allow(this.isComplete, ['ec2:DescribeImages'], ['*'],
      'ec2:DescribeImages has no resource-level permissions; it finds AMIs of this account tagged with the fingerprint.');
    this.allow(this.isComplete, ['imagebuilder:GetImage'], [arnOf(stack, 'image', '*')],
      'Read-only: an AMI with the same fingerprint may come from another stack\'s bake, and is reused only when its Image Builder image is AVAILABLE.');
    this.allow(this.isComplete, ['iam:CreateServiceLinkedRole'], [serviceLinkedRole(stack)], '', { StringEquals: { 'iam:AWSServiceName': 'imagebuilder.amazonaws.com' } });
    this.allow(this.reporter, ['imagebuilder:ListWorkflowStepExecutions'], [arnOf(stack, 'workflow-execution', '*')],
      'Workflow execution ids are only known at run time; the reporter reads the steps of a failed bake\'s workflow to name the failed step.');

    // The result resources tag the AMI their stack uses as kept, and untag it when they go. AMI ids are
    // only known at run time; the tags are limited to the keep and in-use tags of this library's AMIs.
    const tagged = `arn:${stack.partition}:ec2:${stack.region}::image/*`;
    this.allow(this.isComplete, ['ec2:CreateTags', 'ec2:DeleteTags'], [tagged],
      'AMI ids are only known when a bake ends: the handler tags the AMI a stack uses as kept from lifecycle deletion, and untags it when the stack stops using it. Conditions limit it to AMIs with a bake fingerprint tag and to the keep and in-use tags.',
      {
        'Null': { [`aws:ResourceTag/${FINGERPRINT_TAG}`]: 'false', 'aws:TagKeys': 'false' },
        'ForAllValues:StringLike': { 'aws:TagKeys': [KEEP_TAG, KEPT_BY_TAG, `${IN_USE_TAG_PREFIX}*`] },
      });

    acknowledgeProvider(this.provider, [this.onEvent, this.isComplete]);
    acknowledgeHandler(this.reporter);
  }

  /** Grants the handlers what one bake needs, on its exact ARNs. */
  public grantBake(bake: BakeGrants) {
    const numbered = 'Image Builder numbers the build versions of images and components under this bake\'s own recipe and component versions when it creates them.';
    this.allow(this.isComplete, ['imagebuilder:ListImageBuildVersions', 'imagebuilder:CancelImageCreation', 'imagebuilder:CreateImage', 'imagebuilder:TagResource'],
      [bake.imageVersionArn, `${bake.imageVersionArn}/*`], numbered);
    if (bake.componentArns.length > 0) {
      this.allow(this.isComplete, ['imagebuilder:CreateComponent', 'imagebuilder:GetComponent'], bake.componentArns.flatMap((a) => [a, `${a}/*`]), numbered);
    }
    if (bake.managedComponentArns.length > 0) {
      this.allow(this.isComplete, ['imagebuilder:GetComponent'], bake.managedComponentArns.flatMap((a) => [a, `${a}/*`]),
        'Build versions of the AWS-managed components this bake names; AWS numbers them.');
    }
    this.allow(this.isComplete, ['imagebuilder:CreateImageRecipe', 'imagebuilder:GetImageRecipe', 'imagebuilder:CreateImage'], [bake.recipeArn], '');
    this.allow(this.isComplete, ['imagebuilder:CreateImage', 'imagebuilder:GetInfrastructureConfiguration', 'imagebuilder:GetDistributionConfiguration'],
      [bake.infrastructureArn, bake.distributionArn], '');
    if (bake.key) {
      this.allow(this.isComplete, ['kms:DescribeKey'], [bake.key.keyArn], '');
    }
    this.allow(this.reporter, ['imagebuilder:GetImage', 'imagebuilder:ListWorkflowExecutions'], [`${bake.imageVersionArn}/*`], numbered);
    this.allow(this.reporter, ['logs:GetLogEvents'], [bake.logStreamsArn],
      'Image Builder names the log stream of each build <recipe version>/<build number> when the build starts.');
  }

  /** Adds a statement to a handler's role and acknowledges its wildcards with the reason. */
  private allow(fn: lambda.SingletonFunction, actions: string[], resources: string[], reason: string, conditions?: { [key: string]: any }) {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    if (reason) acknowledgeWildcards(functionOf(fn), actions, resources, reason);
  }
}

/** The function a singleton stands for (it lives at stack scope). */

function arnOf(stack: Stack, resource: string, resourceName: string): string {
  return stack.formatArn({ service: 'imagebuilder', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

function serviceLinkedRole(stack: Stack): string {
  return `arn:${stack.partition}:iam::${stack.account}:role/aws-service-role/imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder`;
}

