import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Fingerprint } from '../../fingerprint';

/**
 * What `BakeStep._bind()` and `BaseImage._bind()` need and return. Internal: not exported from the package.
 */

/** Where a step is bound. */
export interface BakeStepContext {
  /** The operating system of the image being baked. */
  readonly osType: ec2.OperatingSystemType;
  /** `build` for steps, `test` for test steps. */
  readonly phase: 'build' | 'test';
  /** The role of the build and test instances. */
  readonly instanceRole: iam.IRole;
  /** A unique construct id for anything the step creates, such as `Step2`. */
  readonly id: string;
  /**
   * Ships a file or directory asset to the bake: returns the `s3://` URL the instances download it
   * from, a copy of the asset that the runtime makes where only the bake instances read (never the
   * whole CDK assets bucket).
   */
  stage(asset: s3assets.Asset): string;
}

/** A bound step: either a document for a new component, or an existing (AWS-managed) component. */
export interface BakeStepConfig {
  /** The AWSTOE document of the component the bake creates; may hold tokens (asset locations). */
  readonly document?: string;
  /** The ARN of an existing component. */
  readonly componentArn?: string;
  /** What the step contributes to the bake's fingerprint: its document and the content of every file it ships. */
  readonly fingerprint: Fingerprint;
  /** The files the step ships, as its fingerprint counts them (`[kind, relative path, detail]`), for the plan to name a changed one. */
  readonly files?: string[][];
  /** A short description for the component. */
  readonly description: string;
}

/**
 * The base image of a bake, as the bake uses it.
 */
export interface BaseImageConfig {
  /** The AMI id (may be a token for layered bakes). */
  readonly amiId: string;
  /** What the base image contributes to the fingerprint: the AMI id, or the fingerprint of the artifact it comes from. */
  readonly fingerprintInput: string;
  readonly osType: ec2.OperatingSystemType;
  readonly architecture: ec2.InstanceArchitecture;
  readonly rootDeviceName: string;
}

