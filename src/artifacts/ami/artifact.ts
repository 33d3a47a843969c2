import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { optionError } from '../../internal/errors';

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

const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;

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
    const osType = options.osType ?? ec2.OperatingSystemType.LINUX;
    return {
      amiId,
      fingerprint: amiId,
      osType,
      architecture: options.architecture,
      rootDeviceName: options.rootDeviceName,
      machineImage: new PinnedMachineImage(amiId, osType, options.userData),
    };
  }

  private constructor() {}
}

/**
 * A machine image pinned to one AMI id in whatever region the stack is in.
 */
class PinnedMachineImage implements ec2.IMachineImage {
  constructor(private readonly amiId: string, private readonly osType: ec2.OperatingSystemType, private readonly userData?: ec2.UserData) {}

  public getImage(): ec2.MachineImageConfig {
    const userData = this.userData ?? (this.osType === ec2.OperatingSystemType.WINDOWS ? ec2.UserData.forWindows() : ec2.UserData.forLinux());
    return { imageId: this.amiId, osType: this.osType, userData };
  }
}
