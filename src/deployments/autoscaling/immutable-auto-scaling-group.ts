import { Annotations, Aws, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { InstanceHealthCheck } from './health-check';
import { linuxReadinessScript, windowsReadinessScript } from './readiness-script';
import { ReplacementStrategy } from './replacement-strategy';
import { IAmiArtifact } from '../../artifacts/ami/artifact';
import { acknowledgeWildcards } from '../../internal/nag';

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
   * @default - a new security group with no inbound rules and all outbound traffic allowed
   */
  readonly securityGroup?: ec2.ISecurityGroup;

  /**
   * The instance role. The construct adds the two permissions instances need to report: signalling
   * this stack, and marking themselves unhealthy in this group.
   *
   * @default - a new role with only those two permissions
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
   * @default - `/dev/sda1` for a Windows artifact, `/dev/xvda` otherwise
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

const DEFAULT_SIGNAL_TIMEOUT = Duration.minutes(15);
const MAX_ALARMS = 10;
const MAX_REFRESH_WAIT = Duration.hours(48);
/** Time from launch to the start of the health check (boot and user data), added to the instance-refresh warmup. */
const BOOT_ALLOWANCE = Duration.minutes(5);

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
export class ImmutableAutoScalingGroup extends Construct implements ec2.IConnectable {
  /** The Auto Scaling group. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;

  /** The launch template, one version per artifact. */
  public readonly launchTemplate: ec2.LaunchTemplate;

  /** The instance role. */
  public readonly role: iam.IRole;

  /** The network connections of the instances. */
  public readonly connections: ec2.Connections;

  /** The artifact the instances run. */
  public readonly artifact: IAmiArtifact;

  /** The health check each instance runs before it reports ready. */
  public readonly healthCheck: InstanceHealthCheck;

  /** How a new artifact replaces the instances. */
  public readonly replacement: ReplacementStrategy;

  private readonly osType: ec2.OperatingSystemType;
  private readonly minCapacity: number;
  private readonly maxCapacity: number;
  private readonly logicalId: string;

  constructor(scope: Construct, id: string, props: ImmutableAutoScalingGroupProps) {
    super(scope, id);

    this.artifact = props.artifact;
    this.healthCheck = props.healthCheck ?? InstanceHealthCheck.none();
    this.replacement = props.replacement ?? ReplacementStrategy.replaceGroup();
    this.osType = props.artifact.osType;

    const minCapacity = props.minCapacity ?? 1;
    const maxCapacity = props.maxCapacity ?? maxOf(minCapacity, props.desiredCapacity);
    this.minCapacity = minCapacity;
    this.maxCapacity = maxCapacity;
    this.validateCapacity(minCapacity, maxCapacity, props.desiredCapacity);

    const image = props.artifact.machineImage.getImage(this);
    const artifactCommands = unwrapUserData(image.userData, this.osType, 'the artifact\'s user data (artifact.machineImage)');
    if (props.userData) {
      unwrapUserData(props.userData, this.osType, 'userData'); // fail early on a mismatch
    }

    const securityGroup = props.securityGroup ?? new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Instances of an ImmutableAutoScalingGroup (no inbound rules unless added)',
      allowAllOutbound: true,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup] });

    this.role = props.role ?? new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Instances of an ImmutableAutoScalingGroup: report their own health, nothing else',
    });

    const userData = ec2.UserData.custom(Lazy.string({
      produce: () => this.renderUserData(artifactCommands, props.userData),
    }));

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: props.artifact.machineImage,
      instanceType: props.instanceType,
      userData,
      role: this.role,
      securityGroup,
      requireImdsv2: true,
      blockDevices: [{
        deviceName: props.rootDeviceName ?? (this.osType === ec2.OperatingSystemType.WINDOWS ? '/dev/sda1' : '/dev/xvda'),
        volume: EncryptedRootVolume.of(props.rootVolumeSize, props.rootVolumeEncryptionKey),
      }],
    });

    const strategy = this.replacement;
    const signalTimeout = this.signalTimeout();
    const signalCount = this.signalCount(minCapacity);

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: this.launchTemplate,
      minCapacity,
      maxCapacity,
      desiredCapacity: props.desiredCapacity,
      notifications: props.notificationTopic ? [{ topic: props.notificationTopic }] : undefined,
      updatePolicy: strategy._isInstanceRefresh ? this.renderInstanceRefreshPolicy() : this.renderUpdatePolicy(signalCount, signalTimeout),
    });

    const cfnGroup = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    // Rendered here rather than with the L2's `signals`, which would also grant the signal
    // permission in the role's default policy, without making the group wait for it.
    if (signalCount !== 0) {
      const minSuccessPercentage = strategy._isReplaceGroup ? strategy._replaceGroup.minSuccessPercentage
        : strategy._isRolling ? strategy._rolling.minSuccessPercentage : undefined;
      cfnGroup.cfnOptions.creationPolicy = {
        resourceSignal: { count: signalCount, timeout: signalTimeout.toIsoString() },
        autoScalingCreationPolicy: minSuccessPercentage === undefined ? undefined : { minSuccessfulInstancesPercent: minSuccessPercentage },
      };
    }

    // The group is pinned to the exact version this template created, never $Latest or $Default.
    cfnGroup.launchTemplate = {
      launchTemplateId: this.launchTemplate.launchTemplateId,
      version: this.launchTemplate.versionNumber,
    };
    this.logicalId = cfnGroup.logicalId;

    // Instances signal while the group is being created or updated: the permission must exist
    // before the group, so it refers to the stack, never to the group.
    const signalPolicy = new iam.Policy(this, 'SignalPolicy', {
      roles: [this.role],
      statements: [new iam.PolicyStatement({
        actions: ['cloudformation:SignalResource'],
        resources: [Stack.of(this).stackId],
      })],
    });
    this.autoScalingGroup.node.addDependency(signalPolicy);

    // Marking itself Unhealthy needs the group's ARN, known only once the group exists; before
    // that, a failed instance's FAILURE signal is what counts.
    const selfHealthPolicy = new iam.Policy(this, 'SelfHealthPolicy', {
      roles: [this.role],
      statements: [new iam.PolicyStatement({
        actions: ['autoscaling:SetInstanceHealth'],
        resources: [this.autoScalingGroup.autoScalingGroupArn],
      })],
    });
    acknowledgeWildcards(selfHealthPolicy, [], [this.autoScalingGroup.autoScalingGroupArn],
      'An Auto Scaling group ARN carries a generated id that is unknown until the group exists; the ARN is pinned by this group\'s exact name, so only this group matches.');

    if (!props.notificationTopic) {
      Validations.of(this.autoScalingGroup).acknowledge({
        id: 'AwsSolutions-AS3',
        reason: 'No notificationTopic was given: rollouts report through CloudFormation stack events and the group\'s activity history. Pass notificationTopic to receive every scaling event.',
      });
    }

    this.warnOnTimeouts(signalTimeout);
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

  private renderUserData(artifactCommands: string[], extra: ec2.UserData | undefined): string {
    const extraCommands = extra ? unwrapUserData(extra, this.osType, 'userData') : [];
    const target = {
      probe: this.osType === ec2.OperatingSystemType.WINDOWS ? this.healthCheck._windowsProbe : this.healthCheck._linuxProbe,
      timeoutSeconds: this.healthCheck.timeout.toSeconds(),
      region: Aws.REGION,
      urlSuffix: Aws.URL_SUFFIX,
      stackName: Aws.STACK_NAME,
      logicalId: this.logicalId,
    };
    if (this.osType === ec2.OperatingSystemType.WINDOWS) {
      return ['<powershell>', ...artifactCommands, ...extraCommands, windowsReadinessScript(target), '</powershell>'].join('\n');
    }
    return ['#!/bin/bash', ...artifactCommands, ...extraCommands, linuxReadinessScript(target)].join('\n');
  }

  private signalTimeout(): Duration {
    const s = this.replacement;
    if (s._isReplaceGroup) return s._replaceGroup.timeout ?? DEFAULT_SIGNAL_TIMEOUT;
    if (s._isRolling) return s._rolling.pauseTime ?? DEFAULT_SIGNAL_TIMEOUT;
    return s._instanceRefresh.creationTimeout ?? DEFAULT_SIGNAL_TIMEOUT;
  }

  private signalCount(minCapacity: number): number {
    const s = this.replacement;
    if (!s._isReplaceGroup) {
      return minCapacity;
    }
    const count = s._replaceGroup.signalCount ?? minCapacity;
    if (Token.isUnresolved(count) || Token.isUnresolved(minCapacity)) {
      return count;
    }
    if (!Number.isInteger(count) || count < 1) {
      throw this.error(`replacement signalCount (${count}) must be a whole number of at least 1, so that a new group takes over only once its instances are healthy. `
        + (s._replaceGroup.signalCount === undefined ? 'Set minCapacity to 1 or more.' : 'Pass a signalCount from 1 to minCapacity.'));
    }
    if (count > minCapacity) {
      throw this.error(`replacement signalCount (${count}) is above minCapacity (${minCapacity}): a new group may start with only ${minCapacity} instance(s) and would never collect ${count} signals. Lower signalCount or raise minCapacity.`);
    }
    return count;
  }

  private renderUpdatePolicy(signalCount: number, signalTimeout: Duration): autoscaling.UpdatePolicy | undefined {
    const s = this.replacement;
    if (s._isReplaceGroup) {
      validatePercentage(this, 'replacement minSuccessPercentage', s._replaceGroup.minSuccessPercentage, 0, 100);
      return autoscaling.UpdatePolicy.replacingUpdate();
    }
    if (s._isRolling) {
      const o = s._rolling;
      const wait = o.waitOnResourceSignals ?? true;
      const maxBatchSize = o.maxBatchSize ?? 1;
      const minInService = o.minInstancesInService ?? defaultMinInService(this.minCapacity, this.maxCapacity);
      if (!Token.isUnresolved(maxBatchSize) && (!Number.isInteger(maxBatchSize) || maxBatchSize < 1)) {
        throw this.error(`replacement maxBatchSize (${maxBatchSize}) must be a whole number of at least 1.`);
      }
      if (!Token.isUnresolved(minInService) && !Token.isUnresolved(this.maxCapacity) && minInService >= this.maxCapacity) {
        throw this.error(`replacement minInstancesInService (${minInService}) must be below maxCapacity (${this.maxCapacity}), or a rolling update can never take an instance out of service. Lower minInstancesInService or raise maxCapacity.`);
      }
      if (!Token.isUnresolved(minInService) && minInService < 0) {
        throw this.error(`replacement minInstancesInService (${minInService}) must not be negative.`);
      }
      if (wait && signalCount === 0 && !Token.isUnresolved(signalCount)) {
        Annotations.of(this).addWarningV2('cdk-immutable-deploys:rolling-without-creation-signals',
          'minCapacity is 0: the group is created without waiting for signals; rolling batches still wait for theirs.');
      }
      validatePercentage(this, 'replacement minSuccessPercentage', o.minSuccessPercentage, 0, 100);
      const pauseTime = o.pauseTime ?? (wait ? signalTimeout : Duration.seconds(0));
      if (!Token.isUnresolved(pauseTime.toSeconds()) && pauseTime.toSeconds() > 3600) {
        throw this.error(`replacement pauseTime (${pauseTime.toHumanString()}) is above CloudFormation's limit of one hour. Pass at most Duration.hours(1).`);
      }
      return autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize,
        minInstancesInService: minInService,
        waitOnResourceSignals: wait,
        pauseTime,
        minSuccessPercentage: o.minSuccessPercentage,
      });
    }
    return undefined;
  }

  /**
   * CloudFormation's `AutoScalingInstanceRefresh` update policy: a rolling instance refresh that
   * rolls the stack back when it fails or an alarm fires.
   */
  private renderInstanceRefreshPolicy(): autoscaling.UpdatePolicy {
    const o = this.replacement._instanceRefresh;
    const minHealthy = o.minHealthyPercentage ?? 100;
    const maxHealthy = o.maxHealthyPercentage ?? 200;
    validatePercentage(this, 'replacement minHealthyPercentage', minHealthy, 0, 100);
    validatePercentage(this, 'replacement maxHealthyPercentage', maxHealthy, 100, 200);
    if (!Token.isUnresolved(minHealthy) && !Token.isUnresolved(maxHealthy) && maxHealthy - minHealthy > 100) {
      throw this.error(`replacement maxHealthyPercentage (${maxHealthy}) is more than 100 above minHealthyPercentage (${minHealthy}). Raise minHealthyPercentage or lower maxHealthyPercentage.`);
    }
    const alarms = o.alarms ?? [];
    if (alarms.length > MAX_ALARMS) {
      throw this.error(`replacement alarms has ${alarms.length} alarms; an instance refresh watches at most ${MAX_ALARMS}. Combine them with a cloudwatch.CompositeAlarm.`);
    }
    validateWait(this, 'replacement bakeTime', o.bakeTime);
    validateWait(this, 'replacement checkpointDelay', o.checkpointDelay);
    const checkpoints = o.checkpoints;
    if (checkpoints !== undefined && !checkpoints.some(c => Token.isUnresolved(c))) {
      const ascending = checkpoints.every((c, i) => Number.isInteger(c) && c >= 1 && c <= 100 && (i === 0 || c > checkpoints[i - 1]));
      if (checkpoints.length === 0 || !ascending || checkpoints[checkpoints.length - 1] !== 100) {
        throw this.error(`replacement checkpoints ([${checkpoints.join(', ')}]) must be whole percentages from 1 to 100 in ascending order, ending with 100 so that every instance is replaced, for example [20, 50, 100].`);
      }
    }
    if (o.checkpointDelay !== undefined && checkpoints === undefined) {
      throw this.error('replacement checkpointDelay is set without checkpoints. Pass checkpoints, for example [20, 50, 100], or drop checkpointDelay.');
    }
    return autoscaling.UpdatePolicy.instanceRefresh({
      strategy: autoscaling.InstanceRefreshStrategy.ROLLING,
      minHealthyPercentage: minHealthy,
      maxHealthyPercentage: maxHealthy,
      skipMatching: o.skipMatching ?? true,
      instanceWarmup: this.instanceWarmup(o.instanceWarmup),
      bakeTime: o.bakeTime,
      checkpointPercentages: checkpoints,
      checkpointDelay: o.checkpointDelay,
      alarms: alarms.length > 0 ? alarms : undefined,
    });
  }

  /**
   * An instance refresh does not read CloudFormation signals: it counts a new instance as healthy
   * once it is InService and its warmup has passed. Without a warmup (the group's grace period is
   * 0 unless a load balancer is attached), a new instance counts at once, before its own health
   * check has run, and the old instances are terminated. So the default warmup covers the boot and
   * the whole health check: a failing instance has marked itself Unhealthy before it could count.
   */
  private instanceWarmup(given: Duration | undefined): Duration | undefined {
    const probe = this.healthCheck.timeout;
    if (given !== undefined) {
      if (!Token.isUnresolved(given.toSeconds()) && !Token.isUnresolved(probe.toSeconds()) && given.toSeconds() < probe.toSeconds()) {
        Annotations.of(this).addWarningV2('cdk-immutable-deploys:instance-warmup-shorter-than-health-check',
          `replacement instanceWarmup (${given.toHumanString()}) is shorter than the health check's timeout (${probe.toHumanString()}): `
          + 'the instance refresh may count a new instance as healthy, and terminate an old one, before the new instance\'s own health check has failed. '
          + 'Leave instanceWarmup out, or make it at least the health check\'s timeout plus the boot time.');
      }
      return given;
    }
    return !Token.isUnresolved(probe.toSeconds()) && probe.toSeconds() === 0 ? undefined : probe.plus(BOOT_ALLOWANCE);
  }

  private validateCapacity(min: number, max: number, desired: number | undefined): void {
    for (const [name, value] of [['minCapacity', min], ['maxCapacity', max], ['desiredCapacity', desired]] as const) {
      if (value !== undefined && !Token.isUnresolved(value) && (!Number.isInteger(value) || value < 0)) {
        throw this.error(`${name} (${value}) must be a whole number of 0 or more.`);
      }
    }
    if (!Token.isUnresolved(min) && !Token.isUnresolved(max) && min > max) {
      throw this.error(`minCapacity (${min}) should be <= maxCapacity (${max}). Lower minCapacity or raise maxCapacity.`);
    }
    if (desired !== undefined && !Token.isUnresolved(desired)) {
      if (!Token.isUnresolved(min) && desired < min) {
        throw this.error(`desiredCapacity (${desired}) should be >= minCapacity (${min}). Raise desiredCapacity or lower minCapacity.`);
      }
      if (!Token.isUnresolved(max) && desired > max) {
        throw this.error(`desiredCapacity (${desired}) should be <= maxCapacity (${max}). Lower desiredCapacity or raise maxCapacity.`);
      }
    }
  }

  private warnOnTimeouts(signalTimeout: Duration): void {
    const probe = this.healthCheck.timeout.toSeconds();
    const wait = signalTimeout.toSeconds();
    if (!Token.isUnresolved(probe) && !Token.isUnresolved(wait) && probe >= wait) {
      Annotations.of(this).addWarningV2('cdk-immutable-deploys:health-check-outlasts-signal-timeout',
        `The health check's timeout (${this.healthCheck.timeout.toHumanString()}) is not shorter than the time CloudFormation waits for signals (${signalTimeout.toHumanString()}): `
        + 'a failing instance times the update out instead of reporting FAILURE. Shorten the health check timeout or lengthen the replacement timeout.');
    }
  }

  private error(message: string): Error {
    return new Error(`ImmutableAutoScalingGroup ${this.node.path}: ${message}`);
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

/** The commands of a user data object, without its OS wrapper (shebang or `<powershell>` tags). */
function unwrapUserData(userData: ec2.UserData, osType: ec2.OperatingSystemType, what: string): string[] {
  const rendered = userData.render();
  if (osType === ec2.OperatingSystemType.WINDOWS) {
    const m = /^<powershell>([\s\S]*)<\/powershell>(<persist>true<\/persist>)?$/.exec(rendered);
    if (!m) {
      const looksLinux = rendered.startsWith('#!');
      throw new Error(`ImmutableAutoScalingGroup: the artifact is a Windows AMI but ${what} is ${looksLinux ? 'a Linux shell script' : 'not PowerShell'} (starts with '${rendered.slice(0, 20)}'). Use ec2.UserData.forWindows() commands.`);
    }
    return m[1] === '' ? [] : [m[1]];
  }
  if (!rendered.startsWith('#!')) {
    const looksWindows = rendered.startsWith('<powershell>');
    throw new Error(`ImmutableAutoScalingGroup: the artifact is a ${osType === ec2.OperatingSystemType.LINUX ? 'Linux' : 'non-Windows'} AMI but ${what} is ${looksWindows ? 'Windows PowerShell' : 'not a shell script'} (starts with '${rendered.slice(0, 20)}'). Use ec2.UserData.forLinux() commands.`);
  }
  const body = rendered.slice(rendered.indexOf('\n') + 1);
  return rendered.indexOf('\n') < 0 || body === '' ? [] : [body];
}

function validatePercentage(scope: Construct, name: string, value: number | undefined, low: number, high: number): void {
  if (value !== undefined && !Token.isUnresolved(value) && (!Number.isInteger(value) || value < low || value > high)) {
    throw new Error(`ImmutableAutoScalingGroup ${scope.node.path}: ${name} (${value}) must be a whole number from ${low} to ${high}.`);
  }
}

function validateWait(scope: Construct, name: string, value: Duration | undefined): void {
  if (value !== undefined && !Token.isUnresolved(value.toSeconds()) && value.toSeconds() > MAX_REFRESH_WAIT.toSeconds()) {
    throw new Error(`ImmutableAutoScalingGroup ${scope.node.path}: ${name} (${value.toHumanString()}) is above the instance-refresh limit of 48 hours. Pass at most Duration.hours(48).`);
  }
}

function maxOf(a: number, b: number | undefined): number {
  if (b === undefined) return a;
  if (Token.isUnresolved(a) || Token.isUnresolved(b)) return Token.isUnresolved(b) ? b : a;
  return Math.max(a, b);
}

/** `minCapacity`, or `maxCapacity - 1` when that is lower; `minCapacity` when either is a token. */
function defaultMinInService(min: number, max: number): number {
  if (Token.isUnresolved(min) || Token.isUnresolved(max)) return min;
  return Math.max(0, Math.min(min, max - 1));
}
