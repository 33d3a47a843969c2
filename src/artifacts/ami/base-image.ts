import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { IAmiArtifact } from './artifact';
import type { BaseImageConfig } from './binding';
import { checkConstraint } from '../../internal/constraints';
import { constructError, describeConstruct, optionError } from '../../internal/errors';
import { checkBaseImageOptions, checkReach } from '../../internal/pairing';
import { artifactInScope } from '../../internal/promotion';

/**
 * What a base image is, where it cannot be read from the image id.
 */
export interface BaseImageOptions {
  /**
   * The operating system family of the base image.
   *
   * @default - Linux (for `fromSsmParameter`, Windows when the parameter name contains 'windows')
   */
  readonly osType?: ec2.OperatingSystemType;

  /**
   * The processor architecture of the base image. Build instance types are checked against it.
   *
   * @default - x86_64 (for `fromSsmParameter`, arm64 when the parameter name contains 'arm64' or 'aarch64')
   */
  readonly architecture?: ec2.InstanceArchitecture;

  /**
   * The device name of the base image's root volume, where the bake sets the volume's size and
   * encryption. Amazon Linux uses `/dev/xvda`; Ubuntu, Debian, RHEL and Windows use `/dev/sda1`.
   *
   * @default - '/dev/sda1' for Windows and for SSM parameters naming Ubuntu, Debian or RHEL; '/dev/xvda' otherwise
   */
  readonly rootDeviceName?: string;
}

const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;

/**
 * The image a bake starts from, pinned when the app is synthesized: an AMI id, the AMI of
 * another bake (layered bakes), or an SSM parameter looked up at synth time and recorded in
 * `cdk.context.json`.
 */
export abstract class BaseImage {
  /**
   * A base image by its AMI id in the stack's region.
   *
   * @param amiId the AMI id, `ami-` followed by 8 or 17 hexadecimal characters
   * @param options OS type, architecture and root device of the image
   */
  public static fromAmiId(amiId: string, options: BaseImageOptions = {}): BaseImage {
    if (Token.isUnresolved(amiId)) {
      throw optionError('BaseImage.fromAmiId()', { prop: 'amiId', problem: 'is an unresolved token', fix: "The base image counts in the bake's fingerprint, so it must be known at synth time; pass a literal AMI id, or use BaseImage.fromAmiArtifact() for the AMI of another bake." });
    }
    if (!AMI_ID.test(amiId)) {
      throw optionError('BaseImage.fromAmiId()', { prop: 'amiId', problem: `'${amiId}' is not an AMI id`, fix: "Pass 'ami-' followed by 8 or 17 lowercase hexadecimal characters." });
    }
    checkConstraint('BaseImage.fromAmiId()', 'BaseImage.fromAmiId.rootDeviceName', 'rootDeviceName', options.rootDeviceName);
    const osType = options.osType ?? ec2.OperatingSystemType.LINUX;
    return new ResolvedBaseImage({
      amiId,
      fingerprintInput: amiId,
      osType,
      architecture: options.architecture ?? ec2.InstanceArchitecture.X86_64,
      rootDeviceName: options.rootDeviceName ?? defaultRootDevice(osType, ''),
    });
  }

  /**
   * The AMI of another bake or artifact, for layered bakes: a foundation image, then an
   * application image on top of it. The artifact's fingerprint counts in this bake's fingerprint,
   * so a new foundation gives a new application image. A foundation baked in another stack is imported
   * by its fingerprint through the layered bake's own stack (no export of its AMI id, which the
   * foundation's next bake could not change).
   *
   * @param artifact the AMI artifact, such as an `AmiBake`
   * @param options OS type, architecture and root device, where the artifact does not say
   */
  public static fromAmiArtifact(artifact: IAmiArtifact, options: BaseImageOptions = {}): BaseImage {
    if (Token.isUnresolved(artifact.fingerprint)) {
      throw optionError('BaseImage.fromAmiArtifact()', { prop: 'artifact.fingerprint', problem: 'is an unresolved token', fix: "It counts in the bake's fingerprint; pass an artifact with a literal fingerprint (an AmiBake, or AmiArtifact.fromAmiId with a literal id)." });
    }
    checkBaseImageOptions(artifact, options);
    checkConstraint('BaseImage.fromAmiArtifact()', 'BaseImage.fromAmiArtifact.rootDeviceName', 'rootDeviceName', options.rootDeviceName);
    return new ArtifactBaseImage(artifact, options);
  }

  /**
   * A base image named by an SSM parameter, such as
   * `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`, looked up when the
   * app is synthesized and recorded in `cdk.context.json`. The AMI stays pinned until the
   * context value is refreshed (`cdk context --reset`), so a new base image is a deliberate,
   * reviewable change. The stack needs an explicit account and region.
   *
   * @param parameterName the name of the SSM parameter that holds the AMI id
   * @param options OS type, architecture and root device, where the parameter name does not say
   */
  public static fromSsmParameter(parameterName: string, options: BaseImageOptions = {}): BaseImage {
    if (Token.isUnresolved(parameterName)) {
      throw optionError('BaseImage.fromSsmParameter()', { prop: 'parameterName', problem: 'is an unresolved token', fix: 'Pass the literal name of the parameter, so it can be looked up at synth time.' });
    }
    checkConstraint('BaseImage.fromSsmParameter()', 'BaseImage.fromSsmParameter.parameterName', 'parameterName', parameterName);
    checkConstraint('BaseImage.fromSsmParameter()', 'BaseImage.fromSsmParameter.rootDeviceName', 'rootDeviceName', options.rootDeviceName);
    return new SsmBaseImage(parameterName, options);
  }

  protected constructor() {}

  /**
   * Resolves the base image for a bake.
   *
   * @internal
   */
  public abstract _bind(scope: Construct): BaseImageConfig;
}

function defaultRootDevice(osType: ec2.OperatingSystemType, name: string): string {
  if (osType === ec2.OperatingSystemType.WINDOWS) return '/dev/sda1';
  return /ubuntu|debian|rhel|redhat/i.test(name) ? '/dev/sda1' : '/dev/xvda';
}

class ResolvedBaseImage extends BaseImage {
  constructor(private readonly config: BaseImageConfig) {
    super();
  }

  public _bind(_scope: Construct): BaseImageConfig {
    return this.config;
  }
}

/** The AMI of an artifact, as the stack of the bake that layers on it may use it. */
class ArtifactBaseImage extends BaseImage {
  constructor(private readonly artifact: IAmiArtifact, private readonly options: BaseImageOptions) {
    super();
  }

  public _bind(scope: Construct): BaseImageConfig {
    checkReach(scope, describeConstruct(scope, 'AmiBake'), 'baseImage', this.artifact);
    const artifact = artifactInScope(scope, this.artifact);
    const osType = this.options.osType ?? artifact.osType;
    return {
      amiId: artifact.amiId,
      fingerprintInput: `artifact:${artifact.fingerprint}`,
      osType,
      architecture: this.options.architecture ?? artifact.architecture ?? ec2.InstanceArchitecture.X86_64,
      rootDeviceName: this.options.rootDeviceName ?? artifact.rootDeviceName ?? defaultRootDevice(osType, ''),
    };
  }
}

class SsmBaseImage extends BaseImage {
  constructor(private readonly parameterName: string, private readonly options: BaseImageOptions) {
    super();
  }

  public _bind(scope: Construct): BaseImageConfig {
    const stack = Stack.of(scope);
    if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) {
      throw constructError(scope, 'AmiBake', {
        prop: 'baseImage',
        value: `BaseImage.fromSsmParameter('${this.parameterName}')`,
        problem: `cannot be looked up at synth time: stack '${stack.stackName}' has no explicit account and region`,
        fix: 'Give the stack an env ({ account, region }).',
      });
    }
    const amiId = ssm.StringParameter.valueFromLookup(stack, this.parameterName);
    const name = this.parameterName;
    const osType = this.options.osType ?? (/windows/i.test(name) ? ec2.OperatingSystemType.WINDOWS : ec2.OperatingSystemType.LINUX);
    const architecture = this.options.architecture ?? (/arm64|aarch64/i.test(name) ? ec2.InstanceArchitecture.ARM_64 : ec2.InstanceArchitecture.X86_64);
    if (!amiId.startsWith('dummy-value-for-') && !AMI_ID.test(amiId)) {
      throw constructError(scope, 'AmiBake', { prop: 'baseImage', value: `BaseImage.fromSsmParameter('${name}')`, problem: `is wrong: parameter '${name}' holds '${amiId}', which is not an AMI id`, fix: 'Pass a parameter whose value is an AMI id.' });
    }
    return {
      amiId,
      fingerprintInput: amiId,
      osType,
      architecture,
      rootDeviceName: this.options.rootDeviceName ?? defaultRootDevice(osType, name),
    };
  }
}
