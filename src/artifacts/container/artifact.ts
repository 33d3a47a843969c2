import { Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TAG_PREFIX } from './buildspec';
import { DigestImage } from './digest-image';
import { ContainerPlatform } from './platform';
import type { ImageLookupSpec } from './types';
import { optionError, warn } from '../../internal/errors';
import { checkFingerprint } from '../../internal/fingerprint-check';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';

/**
 * A container image that exists in ECR, pinned by digest.
 */
export interface IContainerArtifact {
  /** The image URI pinned by digest: `<repository URI>@sha256:<digest>`. */
  readonly imageUri: string;

  /** The image digest, `sha256:<64 hexadecimal characters>`. */
  readonly imageDigest: string;

  /** The tag the image was pushed with (the fingerprint tag for images built by this library). */
  readonly imageTag: string;

  /** The content fingerprint of the image's inputs (`Fingerprint.hex`), or the digest when it was imported by digest. */
  readonly fingerprint: string;

  /** The repository that holds the image. */
  readonly repository: ecr.IRepository;

  /** The platform the image was built for. */
  readonly platform: ContainerPlatform;

  /** The image for an ECS container definition, by digest; it grants pull to the task's execution role. */
  readonly containerImage: ecs.ContainerImage;

  /**
   * Grants permission to pull this image.
   *
   * @param grantee the principal to grant
   */
  grantPull(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Properties of an image imported by digest.
 */
export interface ContainerArtifactFromDigestProps {
  /** The repository that holds the image. */
  readonly repository: ecr.IRepository;

  /** The image digest, `sha256:<64 hexadecimal characters>`. */
  readonly imageDigest: string;

  /**
   * The tag the image was pushed with, for information.
   *
   * @default - the digest
   */
  readonly imageTag?: string;

  /**
   * The platform the image was built for.
   *
   * @default ContainerPlatform.LINUX_AMD64
   */
  readonly platform?: ContainerPlatform;
}

/**
 * Properties of an image imported by fingerprint.
 */
export interface ContainerArtifactFromFingerprintProps {
  /**
   * The repository the image was pushed to (`ContainerImageBuild.repository`, or
   * `ecr.Repository.fromRepositoryArn()` for one of another account or region, whose policy lets this
   * account read it: `shareWith` of the `ContainerImageBuild`).
   */
  readonly repository: ecr.IRepository;

  /**
   * The fingerprint of the build (`ContainerImageBuild.fingerprint`, 64 hexadecimal characters): from
   * the build stack's object, a string, or a parameter read when the app is synthesized
   * (`ssm.StringParameter.valueFromLookup()`), so that the template carries it.
   */
  readonly fingerprint: string;

  /**
   * The platform the image was built for.
   *
   * @default ContainerPlatform.LINUX_AMD64
   */
  readonly platform?: ContainerPlatform;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Container artifacts built elsewhere.
 */
export class ContainerArtifact {
  /**
   * Imports an image by digest, for example one built in another stack, account or region.
   *
   * @param scope the scope of the import
   * @param id the id of the import
   * @param props the repository and digest
   */
  public static fromDigest(scope: Construct, id: string, props: ContainerArtifactFromDigestProps): IContainerArtifact {
    if (!Token.isUnresolved(props.imageDigest) && !DIGEST.test(props.imageDigest)) {
      throw optionError('ContainerArtifact.fromDigest()', {
        prop: 'imageDigest',
        problem: `'${props.imageDigest}' is not an image digest`,
        fix: "Pass 'sha256:' followed by 64 lowercase hexadecimal characters, as 'docker inspect' or ECR shows it.",
      });
    }
    return new ImportedContainerArtifact(scope, id, props);
  }

  /**
   * Imports the image a build pushed, by its fingerprint: at deploy time, the stack's runtime resolves
   * the exact digest of the image tagged `fp-<fingerprint>` in the repository. The digest is resolved
   * once per fingerprint: the same fingerprint deploys the same bits, and a redeploy calls nothing. No
   * such tag, a repository this account may not read, or an image index fails the deploy with what to do.
   *
   * @param scope the scope of the import
   * @param id the id of the import
   * @param props the repository and the fingerprint
   */
  public static fromFingerprint(scope: Construct, id: string, props: ContainerArtifactFromFingerprintProps): IContainerArtifact {
    checkFingerprint('ContainerArtifact.fromFingerprint()', props.fingerprint);
    return new FingerprintContainerArtifact(scope, id, props);
  }

  private constructor() {}
}

/** An image imported by fingerprint: a lookup of the stack's runtime gives its digest. */
class FingerprintContainerArtifact extends Construct implements IContainerArtifact {
  public readonly imageUri: string;
  public readonly imageDigest: string;
  public readonly imageTag: string;
  public readonly fingerprint: string;
  public readonly repository: ecr.IRepository;
  public readonly platform: ContainerPlatform;
  public readonly containerImage: ecs.ContainerImage;

  constructor(scope: Construct, id: string, private readonly props: ContainerArtifactFromFingerprintProps) {
    super(scope, id);
    if (Token.isUnresolved(props.fingerprint)) {
      warn(this, 'fingerprint-not-pinned',
        'fingerprint is a token resolved at deploy time (a CloudFormation parameter or an import), so the template does not say which image it deploys and a change of the value is not a change of the template. Pass image.fingerprint, a literal, or ssm.StringParameter.valueFromLookup(), which are known when the app is synthesized.');
    }
    this.repository = props.repository;
    this.fingerprint = props.fingerprint;
    this.imageTag = `${TAG_PREFIX}${props.fingerprint}`;
    this.platform = props.platform ?? ContainerPlatform.LINUX_AMD64;
    const runtime = DeployTimeRuntime.of(this);
    // One grant, whatever the number of repositories and fingerprints imported: a new import neither
    // broadens IAM nor waits for a new statement to reach IAM. Read-only metadata; another account's
    // repository still decides in its own policy whether this account may read it.
    const stack = Stack.of(this);
    runtime.grant('image-lookup', [
      new iam.PolicyStatement({ actions: ['ecr:DescribeImages'], resources: [`arn:${stack.partition}:ecr:*:*:repository/*`] }),
    ], 'ContainerArtifact.fromFingerprint() reads the digest of a fingerprint tag (ecr:DescribeImages, read-only metadata) in the repositories it imports from, of any account and region; a repository of another account allows it only in its own policy. One statement for every import, so that an import never changes IAM.');
    const spec: ImageLookupSpec = { RepositoryUri: props.repository.repositoryUri };
    this.imageDigest = runtime.addLookup(this, { kind: 'image-lookup', fingerprint: props.fingerprint, spec: { ...spec } });
    this.imageUri = props.repository.repositoryUriForDigest(this.imageDigest);
    this.containerImage = new DigestImage(this);
  }

  public grantPull(grantee: iam.IGrantable): iam.Grant {
    return this.repository.grantPull(grantee);
  }

  /** The same import in the stack of `scope`. */
  public _importInto(scope: Construct): IContainerArtifact {
    return new FingerprintContainerArtifact(scope, 'ImportedArtifact', this.props);
  }
}

class ImportedContainerArtifact extends Construct implements IContainerArtifact {
  public readonly imageUri: string;
  public readonly imageDigest: string;
  public readonly imageTag: string;
  public readonly fingerprint: string;
  public readonly repository: ecr.IRepository;
  public readonly platform: ContainerPlatform;
  public readonly containerImage: ecs.ContainerImage;

  constructor(scope: Construct, id: string, props: ContainerArtifactFromDigestProps) {
    super(scope, id);
    this.repository = props.repository;
    this.imageDigest = props.imageDigest;
    this.imageTag = props.imageTag ?? props.imageDigest;
    this.fingerprint = props.imageDigest;
    this.platform = props.platform ?? ContainerPlatform.LINUX_AMD64;
    this.imageUri = props.repository.repositoryUriForDigest(props.imageDigest);
    this.containerImage = new DigestImage(this);
  }

  public grantPull(grantee: iam.IGrantable): iam.Grant {
    return this.repository.grantPull(grantee);
  }
}
