import { Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ContainerPlatform } from './platform';
import { optionError } from '../../internal/errors';

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

  private constructor() {}
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
    this.containerImage = ecs.ContainerImage.fromEcrRepository(props.repository, props.imageDigest);
  }

  public grantPull(grantee: iam.IGrantable): iam.Grant {
    return this.repository.grantPull(grantee);
  }
}
