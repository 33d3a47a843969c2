import { Aws, Duration, Lazy, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DeferredInstanceProfile, FleetIdentity } from './fleet-identity';
import { InstanceHealthCheck } from './health-check';
import { linuxReadinessScript, windowsReadinessScript } from './readiness-script';
import { GROUP_TYPE } from './replacement-binding';
import { ReplacementStrategy } from './replacement-strategy';
import { IAmiArtifact } from '../../artifacts/ami/artifact';
import { acknowledgeFleet } from '../../internal/baseline';
import { checkConstraints } from '../../internal/constraints';
import { constructError, known, Problem, PropProblems } from '../../internal/errors';
import { pairAmi } from '../../internal/pairing';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';
import { checkPlaintextSecrets, INSTANCE_ADVICE } from '../../internal/secrets';
import { recordAutoScalingGroup } from '../../plan/metadata';

/**
 * Properties of an `ImmutableAutoScalingGroup`.
 */
export interface ImmutableAutoScalingGroupProps {
  /** The VPC to launch the instances in. */
  readonly vpc: ec2.IVpc;

  /**
   * The AMI every instance runs. A new artifact gives a new launch-template version, which the
   * replacement strategy rolls out.
   */
  readonly artifact: IAmiArtifact;

  /** The instance type. */
  readonly instanceType: ec2.InstanceType;

  /**
   * The minimum number of instances.
   *
   * @default 1
   */
  readonly minCapacity?: number;

  /**
   * The maximum number of instances.
   *
   * @default - `minCapacity`, or `desiredCapacity` when higher
   */
  readonly maxCapacity?: number;

  /**
   * The initial number of instances. Left out of the template when not given, so a deploy never
   * resets the capacity that scaling chose.
   *
   * @default - `minCapacity` when the group is created
   */
  readonly desiredCapacity?: number;

  /**
   * Where to place the instances.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The security group of the instances. Instances need outbound HTTPS to CloudFormation and
   * Auto Scaling (or VPC endpoints) to report their health.
   *
   * @default - the stack's shared security group for this VPC, with no inbound rules and all
   * outbound traffic allowed, until a rule is added through `connections` (or a load balancer is
   * attached): then a new security group of this group's own, with the same defaults
   */
  readonly securityGroup?: ec2.ISecurityGroup;

  /**
   * The instance role. The construct adds the two permissions instances need to report: signalling
   * this stack, and marking themselves unhealthy.
   *
   * @default - the stack's shared instance role, which has only those two permissions; reading
   * `group.role` (to grant this fleet's application more) gives the group a role of its own instead
   */
  readonly role?: iam.IRole;

  /**
   * Extra commands to run at boot, after the artifact's own user data and before the health check.
   * Must be for the artifact's operating system (`ec2.UserData.forLinux()` or `forWindows()`).
   * Commands added to it after the group is created are included.
   *
   * @default - no extra commands
   */
  readonly userData?: ec2.UserData;

  /**
   * What a healthy instance answers. Each new instance probes itself after its user data and
   * reports SUCCESS or FAILURE; the replacement waits for these reports.
   *
   * @default InstanceHealthCheck.none() - instances report healthy once their user data has run
   */
  readonly healthCheck?: InstanceHealthCheck;

  /**
   * How a new AMI replaces the running instances.
   *
   * @default ReplacementStrategy.replaceGroup()
   */
  readonly replacement?: ReplacementStrategy;

  /**
   * The device name of the AMI's root volume, which the launch template maps to an encrypted volume.
   * Amazon Linux uses `/dev/xvda`; Ubuntu, Debian and Windows use `/dev/sda1`.
   *
   * @default - the artifact's root device (an `AmiBake` carries its base image's), else `/dev/sda1` for a Windows artifact and `/dev/xvda` otherwise
   */
  readonly rootDeviceName?: string;

  /**
   * The size of the root volume in GiB.
   *
   * @default - the size of the AMI's root snapshot
   */
  readonly rootVolumeSize?: number;

  /**
   * The KMS key that encrypts the root volume. Its key policy must let the Auto Scaling
   * service-linked role (`AWSServiceRoleForAutoScaling`) use it and create grants.
   *
   * @default - the AWS managed key for EBS (`aws/ebs`)
   */
  readonly rootVolumeEncryptionKey?: kms.IKey;

  /**
   * An SNS topic that receives every scaling event of the group (launches, terminations and their
   * failures).
   *
   * @default - no notifications: rollouts report through CloudFormation stack events
   */
  readonly notificationTopic?: sns.ITopic;
}

/**
 * Options for `ImmutableAutoScalingGroup.attachToApplicationTargetGroup()`.
 */
export interface AttachToTargetGroupOptions {
  /**
   * How long Auto Scaling waits after an instance enters service before it acts on the load
   * balancer's health checks.
   *
   * @default - the instance health check's timeout, or 5 minutes with `InstanceHealthCheck.none()`
   */
  readonly gracePeriod?: Duration;
}

/** The props with every default applied: the one place the group's defaults live. */
interface ResolvedGroupProps extends ImmutableAutoScalingGroupProps {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly healthCheck: InstanceHealthCheck;
  readonly replacement: ReplacementStrategy;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly rootDeviceName: string;
}

function withDefaults(props: ImmutableAutoScalingGroupProps): ResolvedGroupProps {
  const minCapacity = props.minCapacity ?? 1;
  const windows = props.artifact.osType === ec2.OperatingSystemType.WINDOWS;
  return {
    ...props,
    minCapacity,
    maxCapacity: props.maxCapacity ?? maxOf(minCapacity, props.desiredCapacity),
    healthCheck: props.healthCheck ?? InstanceHealthCheck.none(),
    replacement: props.replacement ?? ReplacementStrategy.replaceGroup(),
    vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    // The artifact knows its root device (a bake carries its base image's: /dev/sda1 on Ubuntu).
    rootDeviceName: props.rootDeviceName ?? props.artifact.rootDeviceName ?? (windows ? '/dev/sda1' : '/dev/xvda'),
  };
}

/**
 * An Auto Scaling group that runs exactly one AMI artifact, and replaces (never patches) its
 * instances when the artifact changes.
 *
 * The launch template is built from the artifact's machine image, requires IMDSv2 and encrypts the
 * root volume. The group references the launch template's exact version number, never `$Latest`
 * or `$Default`: a new AMI gives a new version, and the replacement strategy rolls it out, healthy
 * capacity first. Each new instance checks its own health and reports to CloudFormation, so a
 * failed rollout rolls back to the previous AMI on its own.
 *
 * @example
 * declare const stack: Stack;
 * declare const vpc: ec2.IVpc;
 *
 * new ImmutableAutoScalingGroup(stack, 'Web', {
 *   vpc,
 *   artifact: AmiArtifact.fromAmiId('ami-0123456789abcdef0'),
 *   instanceType: new ec2.InstanceType('t3.small'),
 *   minCapacity: 2,
 *   maxCapacity: 4,
 *   healthCheck: InstanceHealthCheck.http({ port: 8080, path: '/health' }),
 * });
 */
export class ImmutableAutoScalingGroup extends Construct implements ec2.IConnectable, iam.IGrantable {
  /** The Auto Scaling group. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;

  /** The launch template, one version per artifact. */
  public readonly launchTemplate: ec2.LaunchTemplate;


  /** The artifact the instances run. */
  public readonly artifact: IAmiArtifact;

  /** The health check each instance runs before it reports ready. */
  public readonly healthCheck: InstanceHealthCheck;

  /** How a new artifact replaces the instances. */
  public readonly replacement: ReplacementStrategy;

  private readonly osType: ec2.OperatingSystemType;
  private readonly fleets: FleetIdentity;
  private givenOrOwnRole?: iam.IRole;
  private ownProfile?: iam.CfnInstanceProfile;
  private readonly vpc: ec2.IVpc;
  private givenOrOwnSecurityGroup?: ec2.ISecurityGroup;
  private ownConnections?: ec2.Connections;

  constructor(scope: Construct, id: string, props: ImmutableAutoScalingGroupProps) {
    super(scope, id);
    props = {
      ...props,
      artifact: pairAmi(this, GROUP_TYPE, props.artifact, {
        instanceTypes: [{ prop: 'instanceType', instanceType: props.instanceType }],
        rootDevice: props.rootDeviceName !== undefined ? { prop: 'rootDeviceName', name: props.rootDeviceName } : undefined,
      }),
    };

    // resolve props
    const resolved = withDefaults(props);
    this.artifact = props.artifact;
    this.healthCheck = resolved.healthCheck;
    this.replacement = resolved.replacement;
    this.osType = props.artifact.osType;

    // validate: at once the capacity (aws-cdk-lib's group would refuse it with its own message) and the
    // user data (the group's is made of it, rendered while the app synthesizes); every other problem
    // is recorded, and synthesis reports them all
    this.validateCapacity(resolved);
    const artifactCommands = this.unwrapUserData(props.artifact.machineImage.getImage(this).userData, 'the artifact\'s user data (artifact.machineImage)');
    if (props.userData) this.unwrapUserData(props.userData, 'userData');
    checkConstraints(PropProblems.of(this, GROUP_TYPE), [
      ['ImmutableAutoScalingGroup.rootDeviceName', 'rootDeviceName', props.rootDeviceName],
      ['ImmutableAutoScalingGroup.rootVolumeSize', 'rootVolumeSize', props.rootVolumeSize],
    ]);
    checkPlaintextSecrets(this, GROUP_TYPE, [
      ...(props.userData ? [{ prop: 'userData', value: props.userData.render() }] : []),
      { prop: 'healthCheck', value: this.healthCheck._linuxProbe },
    ], INSTANCE_ADVICE);

    // create
    this.fleets = FleetIdentity.of(this);
    this.vpc = props.vpc;
    this.givenOrOwnRole = props.role;
    this.givenOrOwnSecurityGroup = props.securityGroup;
    const securityGroup = props.securityGroup ?? this.fleets.deferredSecurityGroup(this, props.vpc, {
      own: () => this.securityGroup,
      chosen: () => this.givenOrOwnSecurityGroup,
    });
    this.launchTemplate = this.createLaunchTemplate(resolved, securityGroup, artifactCommands);
    this.autoScalingGroup = this.createGroup(resolved);

    // wire
    this.pinToLaunchTemplateVersion();
    recordAutoScalingGroup(this, this.autoScalingGroup, this.launchTemplate, props.artifact, this.replacement.strategyName);
    this.grantReporting();
    this.grantKeyToAutoScaling(props.artifact);
    acknowledgeFleet(this.launchTemplate, this.autoScalingGroup);
    if (!props.notificationTopic) {
      Validations.of(this.autoScalingGroup).acknowledge({
        id: 'AwsSolutions-AS3',
        reason: 'No notificationTopic was given: rollouts report through CloudFormation stack events and the group\'s activity history. Pass notificationTopic to receive every scaling event.',
      });
    }
  }

  /**
   * The network connections of the instances. Unless a security group was given, instances that no
   * rule names share the stack's egress-only security group (per VPC); reading this gives the group
   * a security group of its own, so that the rules added to it open this fleet only.
   */
  public get connections(): ec2.Connections {
    this.ownConnections ??= new ec2.Connections({ securityGroups: [this.securityGroup] });
    return this.ownConnections;
  }

  /** The group's own security group (or the one given), created on first use. */
  private get securityGroup(): ec2.ISecurityGroup {
    if (!this.givenOrOwnSecurityGroup) {
      this.givenOrOwnSecurityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: this.vpc,
        description: 'Instances of an ImmutableAutoScalingGroup (no inbound rules unless added)',
        allowAllOutbound: true,
      });
    }
    return this.givenOrOwnSecurityGroup;
  }

  /**
   * Registers the instances with an Application Load Balancer target group, lets the group act on
   * the load balancer's health checks after a grace period, and allows the load balancer to reach
   * the instances.
   */
  public attachToApplicationTargetGroup(targetGroup: elbv2.IApplicationTargetGroup, options: AttachToTargetGroupOptions = {}): void {
    this.autoScalingGroup.attachToApplicationTargetGroup(targetGroup);
    const grace = options.gracePeriod ?? (this.healthCheck.timeout.toSeconds() > 0 ? this.healthCheck.timeout : Duration.minutes(5));
    const cfnGroup = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    cfnGroup.healthCheckType = 'ELB';
    cfnGroup.healthCheckGracePeriod = grace.toSeconds();
  }

  /** IMDSv2, an encrypted root volume, and user data that ends with the health check and the report. */
  private createLaunchTemplate(props: ResolvedGroupProps, securityGroup: ec2.ISecurityGroup, artifactCommands: string[]): ec2.LaunchTemplate {
    const userData = ec2.UserData.custom(Lazy.string({
      produce: () => this.renderUserData(artifactCommands, props.userData),
    }));
    return new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      // Named (unique in the account and region: the stack's name and this path, hashed) so that the
      // group can name it: see pinToLaunchTemplateVersion.
      launchTemplateName: Names.uniqueResourceName(this, { maxLength: 128, separator: '-', allowedSpecialCharacters: '-' }),
      machineImage: props.artifact.machineImage,
      instanceType: props.instanceType,
      userData,
      ...(this.givenOrOwnRole
        ? { role: this.givenOrOwnRole }
        : { instanceProfile: new DeferredInstanceProfile(this, 'Profile', () => this.ownProfile ?? this.fleets.sharedProfile()) }),
      securityGroup,
      requireImdsv2: true,
      blockDevices: [{
        deviceName: props.rootDeviceName,
        volume: EncryptedRootVolume.of(props.rootVolumeSize, props.rootVolumeEncryptionKey),
      }],
    });
  }

  /** The group, with the update and creation policies its replacement strategy renders. */
  private createGroup(props: ResolvedGroupProps): autoscaling.AutoScalingGroup {
    const plan = this.replacement._bind({
      scope: this,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      healthCheckTimeout: this.healthCheck.timeout,
    });
    const group = new autoscaling.AutoScalingGroup(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      launchTemplate: this.launchTemplate,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      desiredCapacity: props.desiredCapacity,
      notifications: props.notificationTopic ? [{ topic: props.notificationTopic }] : undefined,
      updatePolicy: plan.updatePolicy,
    });
    // Rendered here rather than with the L2's `signals`, which would also grant the signal
    // permission in the role's default policy, without making the group wait for it.
    if (plan.creationPolicy) {
      (group.node.defaultChild as autoscaling.CfnAutoScalingGroup).cfnOptions.creationPolicy = plan.creationPolicy;
    }
    return group;
  }

  /**
   * The group is pinned to the exact version this template created, never $Latest or $Default.
   *
   * It names the template by its name rather than its id (CloudFormation takes one of the two): the
   * rules of cdk-nag 3 that judge a group by its launch template (AwsSolutions-EC26, and the IMDSv2
   * rules of its NIST and HIPAA packs) look the template up among the stack's by name, and for a
   * group that names none they take the first template of the stack that has no name either, which
   * may be another one than the group's. The version, an attribute of the template, still makes
   * CloudFormation create the template before the group.
   */
  private pinToLaunchTemplateVersion(): void {
    const cfnGroup = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    const cfnTemplate = this.launchTemplate.node.defaultChild as ec2.CfnLaunchTemplate;
    cfnGroup.launchTemplate = {
      launchTemplateName: cfnTemplate.launchTemplateName,
      version: this.launchTemplate.versionNumber,
    };
  }

  /**
   * The instance role. Unless a role was given, the group's instances run with the stack's shared
   * role, which may only report; reading this gives the group a role and profile of its own (with
   * the same two permissions), so that what is granted to it reaches this fleet only.
   */
  public get role(): iam.IRole {
    if (!this.givenOrOwnRole) {
      const own = this.fleets.ownRole(this);
      this.givenOrOwnRole = own.role;
      this.ownProfile = own.profile;
    }
    return this.givenOrOwnRole;
  }

  /** The principal of the instances: grants to it reach this fleet's own role. */
  public get grantPrincipal(): iam.IPrincipal {
    return this.role.grantPrincipal;
  }

  /** The two permissions instances need to report, in the stack's one policy: they exist before the group. */
  private grantReporting(): void {
    if (this.givenOrOwnRole) this.fleets.reporting.attachToRole(this.givenOrOwnRole);
    this.autoScalingGroup.node.addDependency(this.fleets.reporting);
  }

  /**
   * An AMI encrypted with another account's key launches only when this account's Auto Scaling role
   * may use the key, through a KMS grant made from this account: the stack's runtime makes it (one per
   * key in the stack, after creating the role in an account that has none yet) and waits until KMS has
   * made it effective, before the group exists; it retires it when the stack no longer has it.
   */
  private grantKeyToAutoScaling(artifact: IAmiArtifact): void {
    const keyArn = artifact.encryptionKeyArn;
    if (!keyArn) return;
    const account = Stack.of(this).account;
    const keyAccount = Token.isUnresolved(keyArn) ? undefined : keyArn.split(':')[4];
    // A key of this account: its own key policy lets the role use it (an AmiBake's key names the role
    // directly, since the role has no KMS permission an account principal could delegate to).
    if (keyAccount !== undefined && !Token.isUnresolved(account) && keyAccount === account) return;
    this.autoScalingGroup.node.addDependency(DeployTimeRuntime.of(this).addKeyGrant(keyArn));
  }

  private renderUserData(artifactCommands: string[], extra: ec2.UserData | undefined): string {
    const extraCommands = extra ? this.unwrapUserData(extra, 'userData') : [];
    const windows = this.osType === ec2.OperatingSystemType.WINDOWS;
    const target = {
      probe: windows ? this.healthCheck._windowsProbe : this.healthCheck._linuxProbe,
      timeoutSeconds: this.healthCheck.timeout.toSeconds(),
      region: Aws.REGION,
      urlSuffix: Aws.URL_SUFFIX,
      stackName: Aws.STACK_NAME,
      logicalId: (this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup).logicalId,
    };
    if (windows) {
      return ['<powershell>', ...artifactCommands, ...extraCommands, windowsReadinessScript(target), '</powershell>'].join('\n');
    }
    return ['#!/bin/bash', ...artifactCommands, ...extraCommands, linuxReadinessScript(target)].join('\n');
  }

  /** The commands of a user data object, without its OS wrapper (shebang or `<powershell>` tags). */
  private unwrapUserData(userData: ec2.UserData, what: string): string[] {
    const rendered = userData.render();
    const start = rendered.slice(0, 20);
    if (this.osType === ec2.OperatingSystemType.WINDOWS) {
      const m = /^<powershell>([\s\S]*)<\/powershell>(<persist>true<\/persist>)?$/.exec(rendered);
      if (!m) {
        const kind = rendered.startsWith('#!') ? 'a Linux shell script' : 'not PowerShell';
        throw this.error({ prop: 'artifact', problem: `is a Windows AMI but ${what} is ${kind} (starts with '${start}')`, fix: 'Use ec2.UserData.forWindows() commands.' });
      }
      return m[1] === '' ? [] : [m[1]];
    }
    if (!rendered.startsWith('#!')) {
      const kind = rendered.startsWith('<powershell>') ? 'Windows PowerShell' : 'not a shell script';
      const os = this.osType === ec2.OperatingSystemType.LINUX ? 'Linux' : 'non-Windows';
      throw this.error({ prop: 'artifact', problem: `is a ${os} AMI but ${what} is ${kind} (starts with '${start}')`, fix: 'Use ec2.UserData.forLinux() commands.' });
    }
    const body = rendered.slice(rendered.indexOf('\n') + 1);
    return rendered.indexOf('\n') < 0 || body === '' ? [] : [body];
  }

  private validateCapacity({ minCapacity: min, maxCapacity: max, desiredCapacity: desired }: ResolvedGroupProps): void {
    // desiredCapacity first: maxCapacity defaults to it, and the error names the prop the user wrote.
    for (const [prop, value] of [['desiredCapacity', desired], ['minCapacity', min], ['maxCapacity', max]] as const) {
      if (value !== undefined && known(value) && (!Number.isInteger(value) || value < 0)) {
        throw this.error({ prop, value, problem: 'must be a whole number of 0 or more', fix: `Pass a whole number of instances for ${prop}.` });
      }
    }
    if (known(min, max) && min > max) {
      throw this.error({ prop: 'minCapacity', value: min, problem: `should be <= maxCapacity (${max})`, fix: 'Lower minCapacity or raise maxCapacity.' });
    }
    if (desired !== undefined && known(desired, min) && desired < min) {
      throw this.error({ prop: 'desiredCapacity', value: desired, problem: `should be >= minCapacity (${min})`, fix: 'Raise desiredCapacity or lower minCapacity.' });
    }
    if (desired !== undefined && known(desired, max) && desired > max) {
      throw this.error({ prop: 'desiredCapacity', value: desired, problem: `should be <= maxCapacity (${max})`, fix: 'Lower desiredCapacity or raise maxCapacity.' });
    }
  }

  private error(problem: Problem): Error {
    return constructError(this, GROUP_TYPE, problem);
  }
}

/**
 * An encrypted EBS root volume. The size is optional (the AMI's snapshot size), which
 * `BlockDeviceVolume.ebs()` does not allow.
 */
class EncryptedRootVolume extends ec2.BlockDeviceVolume {
  public static of(sizeGiB: number | undefined, key: kms.IKey | undefined): ec2.BlockDeviceVolume {
    return new EncryptedRootVolume({
      volumeSize: sizeGiB,
      volumeType: ec2.EbsDeviceVolumeType.GP3,
      encrypted: true,
      kmsKey: key,
      deleteOnTermination: true,
    });
  }
}

function maxOf(a: number, b: number | undefined): number {
  if (b === undefined) return a;
  if (!known(a, b)) return known(b) ? a : b;
  return Math.max(a, b);
}
