import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { grantAmiHolds } from './hold';
import type { AmiLookupSpec } from './types';
import { checkConstraint } from '../../internal/constraints';
import { optionError, warn } from '../../internal/errors';
import { checkFingerprint } from '../../internal/fingerprint-check';
import { watchMachineImageUse } from '../../internal/pairing';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';

/**
 * An AMI that exists, referenced by id.
 */
export interface IAmiArtifact {
  /** The AMI id in the stack's region. */
  readonly amiId: string;

  /** The content fingerprint of the bake's inputs (`Fingerprint.hex`), or the AMI id when it was imported by id. */
  readonly fingerprint: string;

  /** The AMI as a machine image for launch templates and instances, with user data for its OS. */
  readonly machineImage: ec2.IMachineImage;

  /** The operating system family of the AMI. */
  readonly osType: ec2.OperatingSystemType;

  /**
   * The processor architecture of the AMI, when known.
   *
   * @default - unknown
   */
  readonly architecture?: ec2.InstanceArchitecture;

  /**
   * The device name of the AMI's root volume (`/dev/xvda` on Amazon Linux, `/dev/sda1` on Ubuntu and
   * Windows), when known: a launch template that maps another device adds a second volume instead of
   * sizing and encrypting the root one.
   *
   * @default - unknown
   */
  readonly rootDeviceName?: string;

  /**
   * The ARN of the customer managed KMS key that encrypts the AMI's snapshots in this region, when
   * it is another account's: an `ImmutableAutoScalingGroup` then has the stack's runtime create the
   * KMS grant that lets this account's Auto Scaling role use it.
   *
   * @default - no key of another account: the AMI is unencrypted, or its key's policy already lets
   * the Auto Scaling role of this account use it
   */
  readonly encryptionKeyArn?: string;
}

/**
 * Options for `AmiArtifact.fromAmiId()`.
 */
export interface AmiArtifactFromAmiIdOptions {
  /**
   * The operating system family of the AMI.
   *
   * @default ec2.OperatingSystemType.LINUX
   */
  readonly osType?: ec2.OperatingSystemType;

  /**
   * The processor architecture of the AMI.
   *
   * @default - unknown: instance types are not checked against it
   */
  readonly architecture?: ec2.InstanceArchitecture;

  /**
   * User data for instances launched from the AMI.
   *
   * @default - empty user data for the OS type
   */
  readonly userData?: ec2.UserData;

  /**
   * The device name of the AMI's root volume.
   *
   * @default - unknown: the deployment assumes `/dev/xvda` on Linux and `/dev/sda1` on Windows
   */
  readonly rootDeviceName?: string;
}

/**
 * Properties of `AmiArtifact.fromFingerprint()`.
 */
export interface AmiArtifactFromFingerprintProps {
  /**
   * The fingerprint of the bake (`AmiBake.fingerprint`, 64 hexadecimal characters): from the bake
   * stack's object, a string, or a parameter the bake stack writes, read when the app is synthesized
   * (`ssm.StringParameter.valueFromLookup()`), so that the template carries it.
   */
  readonly fingerprint: string;

  /**
   * The account that owns the AMI: the bake stack's account, which shares it with this one
   * (`distribution.accounts` of the `AmiBake`).
   *
   * @default - this stack's account
   */
  readonly owner?: string;

  /**
   * The region the bake runs in. When the AMI is not found in this stack's region, the lookup checks
   * there, and the failure says whether it was baked but not copied here (`distribution.regions`).
   *
   * @default - the failure does not say whether the AMI exists in another region
   */
  readonly sourceRegion?: string;

  /**
   * The operating system family of the AMI.
   *
   * @default ec2.OperatingSystemType.LINUX
   */
  readonly osType?: ec2.OperatingSystemType;

  /**
   * The processor architecture of the AMI.
   *
   * @default - unknown: instance types are not checked against it
   */
  readonly architecture?: ec2.InstanceArchitecture;

  /**
   * User data for instances launched from the AMI.
   *
   * @default - empty user data for the OS type
   */
  readonly userData?: ec2.UserData;

  /**
   * The device name of the AMI's root volume.
   *
   * @default - unknown: the deployment assumes `/dev/xvda` on Linux and `/dev/sda1` on Windows
   */
  readonly rootDeviceName?: string;

  /**
   * The ARN of the customer managed KMS key that encrypts the AMI's snapshots in this stack's region
   * (the bake's `rootVolumeKey`, or `distribution.kmsKeyId` in the regions it copies to). When the
   * key is another account's, an `ImmutableAutoScalingGroup` that runs the AMI has the stack's runtime
   * create a KMS grant for this account's Auto Scaling service-linked role, from this account (EC2
   * Auto Scaling requires it so), before the group launches; the grant is retired when the stack no
   * longer needs it. The key's policy must let this account create grants (`distribution.accounts`
   * of the `AmiBake` does).
   *
   * @default - no grant: the AMI is unencrypted, encrypted with the default EBS key (which cannot be
   * shared), or with a key whose policy already lets this account's Auto Scaling role use it
   */
  readonly encryptionKeyArn?: string;
}

const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;
const ACCOUNT = /^\d{12}$/;
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:key\/(mrk-)?[0-9a-f-]+$/;

/**
 * AMI artifacts baked elsewhere.
 */
export class AmiArtifact {
  /**
   * Imports an AMI by its id, for example one baked in another stack or by another tool.
   *
   * @param amiId the AMI id, `ami-` followed by 8 or 17 hexadecimal characters
   * @param options OS type, architecture and user data
   */
  public static fromAmiId(amiId: string, options: AmiArtifactFromAmiIdOptions = {}): IAmiArtifact {
    if (!Token.isUnresolved(amiId) && !AMI_ID.test(amiId)) {
      throw optionError('AmiArtifact.fromAmiId()', { prop: 'amiId', problem: `'${amiId}' is not an AMI id`, fix: "Pass 'ami-' followed by 8 or 17 lowercase hexadecimal characters." });
    }
    checkConstraint('AmiArtifact.fromAmiId()', 'AmiArtifact.fromAmiId.rootDeviceName', 'rootDeviceName', options.rootDeviceName);
    const osType = options.osType ?? ec2.OperatingSystemType.LINUX;
    return {
      amiId,
      fingerprint: amiId,
      osType,
      architecture: options.architecture,
      rootDeviceName: options.rootDeviceName,
      machineImage: new PinnedMachineImage(amiId, osType, options.userData, options.architecture),
    };
  }

  /**
   * Imports the AMI a bake made, by its fingerprint: at deploy time, the stack's runtime resolves the
   * exact AMI id of that fingerprint in the stack's own account and region (an AMI the owner shares
   * with this account and copies to this region). The id is resolved once per fingerprint: the same
   * fingerprint deploys the same AMI, and a redeploy calls nothing. No AMI, one not shared with this
   * account, one not copied to this region yet, or more than one fails the deploy with what to do.
   *
   * @param scope the scope of the import
   * @param id the id of the import
   * @param props the fingerprint, the owner, and what the AMI is
   */
  public static fromFingerprint(scope: Construct, id: string, props: AmiArtifactFromFingerprintProps): IAmiArtifact {
    const factory = 'AmiArtifact.fromFingerprint()';
    checkFingerprint(factory, props.fingerprint);
    checkConstraint(factory, 'AmiArtifact.fromFingerprint.rootDeviceName', 'rootDeviceName', props.rootDeviceName);
    if (props.owner !== undefined && !Token.isUnresolved(props.owner) && !ACCOUNT.test(props.owner)) {
      throw optionError(factory, { prop: 'owner', problem: `'${props.owner}' is not an AWS account id`, fix: 'Pass the 12-digit id of the account that baked and shares the AMI.' });
    }
    if (props.sourceRegion !== undefined && !Token.isUnresolved(props.sourceRegion) && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(props.sourceRegion)) {
      throw optionError(factory, { prop: 'sourceRegion', problem: `'${props.sourceRegion}' is not a region name`, fix: "Pass the bake stack's region, such as 'eu-west-1'." });
    }
    if (props.encryptionKeyArn !== undefined && !Token.isUnresolved(props.encryptionKeyArn) && !KEY_ARN.test(props.encryptionKeyArn)) {
      throw optionError(factory, {
        prop: 'encryptionKeyArn',
        value: props.encryptionKeyArn,
        problem: 'is not the ARN of a KMS key',
        fix: "Pass the key's ARN, 'arn:aws:kms:<region>:<account>:key/<key id>' (KMS grants take no alias).",
      });
    }
    const keyRegion = props.encryptionKeyArn !== undefined && !Token.isUnresolved(props.encryptionKeyArn) ? props.encryptionKeyArn.split(':')[3] : undefined;
    const region = Stack.of(scope).region;
    if (keyRegion !== undefined && !Token.isUnresolved(region) && keyRegion !== region) {
      // The launch decrypts the snapshot of the AMI's copy in this region, with that copy's key: a KMS key lives in one region.
      throw optionError(factory, {
        prop: 'encryptionKeyArn',
        value: props.encryptionKeyArn,
        problem: `is a key of ${keyRegion}, but this stack launches the AMI's copy in ${region}, whose snapshot a key of ${region} encrypts`,
        fix: `Pass the ARN of the key in ${region} that encrypts the copies there (the bake's distribution.kmsKeyId for that region, or the rootVolumeKey when the bake is in ${region}).`,
      });
    }
    return new ImportedAmiArtifact(scope, id, props);
  }

  private constructor() {}
}

/** An AMI imported by fingerprint: a lookup of the stack's runtime gives its id. */
class ImportedAmiArtifact extends Construct implements IAmiArtifact {
  public readonly amiId: string;
  public readonly fingerprint: string;
  public readonly machineImage: ec2.IMachineImage;
  public readonly osType: ec2.OperatingSystemType;
  public readonly architecture?: ec2.InstanceArchitecture;
  public readonly rootDeviceName?: string;
  public readonly encryptionKeyArn?: string;

  constructor(scope: Construct, id: string, private readonly props: AmiArtifactFromFingerprintProps) {
    super(scope, id);
    if (Token.isUnresolved(props.fingerprint)) {
      warn(this, 'fingerprint-not-pinned',
        'fingerprint is a token resolved at deploy time (a CloudFormation parameter or an import), so the template does not say which AMI it deploys and a change of the value is not a change of the template. Pass bake.fingerprint, a literal, or ssm.StringParameter.valueFromLookup(), which are known when the app is synthesized.');
    }
    const runtime = DeployTimeRuntime.of(this);
    // The owner as given: '' (this account) when left out.
    const spec: AmiLookupSpec = { Owner: props.owner ?? '', SourceRegion: props.sourceRegion ?? '' };
    runtime.grant('ami-lookup', [new iam.PolicyStatement({ actions: ['ec2:DescribeImages'], resources: ['*'] })],
      'ec2:DescribeImages has no resource-level permissions; it is read-only, and the lookup only asks for the owner\'s AMIs of one fingerprint.');
    // An AMI of this account is held while this stack runs it (a promoted stage in the bake's account),
    // so that no lifecycle policy or removal policy DESTROY of the bake deletes it. Another account's
    // AMI cannot be marked from here: the bake's lifecycle policy keeps every AMI it shares.
    const stack = Stack.of(this);
    const owner = props.owner;
    const sameAccount = owner === undefined || Token.isUnresolved(owner) || Token.isUnresolved(stack.account) || owner === stack.account;
    if (sameAccount) grantAmiHolds(this, [stack.region]);
    this.amiId = runtime.addLookup(this, { kind: 'ami-lookup', fingerprint: props.fingerprint, spec: { ...spec } });
    this.fingerprint = props.fingerprint;
    this.osType = props.osType ?? ec2.OperatingSystemType.LINUX;
    this.architecture = props.architecture;
    this.rootDeviceName = props.rootDeviceName;
    this.encryptionKeyArn = props.encryptionKeyArn;
    this.machineImage = new PinnedMachineImage(this.amiId, this.osType, props.userData, props.architecture);
  }

  /** The same import in the stack of `scope`. */
  public _importInto(scope: Construct): IAmiArtifact {
    return new ImportedAmiArtifact(scope, 'ImportedArtifact', this.props);
  }
}

/**
 * A machine image pinned to one AMI id in whatever region the stack is in.
 */
class PinnedMachineImage implements ec2.IMachineImage {
  constructor(
    private readonly amiId: string,
    private readonly osType: ec2.OperatingSystemType,
    private readonly userData?: ec2.UserData,
    private readonly architecture?: ec2.InstanceArchitecture,
  ) {}

  public getImage(scope: Construct): ec2.MachineImageConfig {
    // The launch template, instance or group that reads the image: its instance type and user data must suit it.
    watchMachineImageUse(scope, this.architecture, this.osType);
    const userData = this.userData ?? (this.osType === ec2.OperatingSystemType.WINDOWS ? ec2.UserData.forWindows() : ec2.UserData.forLinux());
    return { imageId: this.amiId, osType: this.osType, userData };
  }
}
