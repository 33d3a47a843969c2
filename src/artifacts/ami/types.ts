/**
 * Types shared by `AmiBake` and its deploy-time job. Imported with `import type` only, never
 * exported from the package. Custom-resource properties arrive as strings.
 */

/** The tag that carries a bake's fingerprint on its AMIs and Image Builder images. */
export const FINGERPRINT_TAG = 'cdk-immutable-deploys:fingerprint';

/**
 * How an AMI's description ends: `fingerprint <hex>`. Tags are not visible to the accounts an AMI is
 * shared with, its description is: a lookup by fingerprint from another account matches on it.
 */
export function descriptionSuffixOf(fingerprint: string): string {
  return `fingerprint ${fingerprint}`;
}

/** The AMI lookup's settings: the owner account ('' for the stack's own) and the bake's region ('' when unknown). */
export interface AmiLookupSpec {
  readonly Owner: string;
  readonly SourceRegion: string;
}

/** The tag that names the bake (its Image Builder recipe) on its images and AMIs: the runtime may deregister only AMIs of its stack's bakes. */
export const BAKE_TAG = 'cdk-immutable-deploys:bake';

/**
 * The tag that keeps an AMI from every bake's retention (and, when a user set it, from removal policy
 * DESTROY). A user may set it by hand; the runtime sets it on the AMI a stack uses, with `KEPT_BY_TAG`.
 */
export const KEEP_TAG = 'cdk-immutable-deploys:keep';

/** Marks a `KEEP_TAG` that the runtime set (and so may remove), not one a user set. */
export const KEPT_BY_TAG = 'cdk-immutable-deploys:kept-by';

/** One Image Builder component the handler creates (if absent) before the recipe. */
export interface BakeComponentProps {
  readonly Name: string;
  readonly Version: string;
  /** `Linux` or `Windows`. */
  readonly Platform: string;
  readonly Description: string;
  /** The AWSTOE document, YAML or JSON. */
  readonly Data: string;
}

/** One EBS block device of the recipe. */
export interface BakeBlockDeviceProps {
  readonly DeviceName: string;
  /** GiB, or '' to keep the size of the base image's snapshot. */
  readonly VolumeSize: string;
  /** Key id or ARN, or '' for the account's default EBS key. */
  readonly KmsKeyId: string;
}

/** One file the bake ships: the runtime copies the CDK asset to where only the bake instances read it. */
export interface BakeAssetCopy {
  /** The CDK assets bucket. */
  readonly Bucket: string;
  /** The asset's object key (its content hash). */
  readonly Key: string;
  /** The key of the copy, under the stack's bake prefix, which the instance role may read. */
  readonly CopyKey: string;
}

/** The settings of one AMI bake, as the runtime's job receives them. */
export interface AmiBakeSpec {
  readonly RecipeName: string;
  /**
   * `arn:<partition>:imagebuilder:<region>:<account>:image-recipe/<name>`: the recipe's versions are
   * under it. The version is derived at deploy time from the fingerprint, the parent AMI and the key,
   * which a layered bake knows only then (see `recipeVersionOf` in `bake-job.ts`).
   */
  readonly RecipeNameArn: string;
  /** `arn:<partition>:imagebuilder:<region>:<account>:image/<name>`: the images of each recipe version are under `<it>/<version>`. */
  readonly ImageNameArn: string;
  readonly ParentImage: string;
  readonly Components: BakeComponentProps[];
  /** Every component of the recipe in order: the bake's own and AWS-managed ones. */
  readonly ComponentArns: string[];
  readonly BlockDevice: BakeBlockDeviceProps;
  readonly InfrastructureConfigurationArn: string;
  readonly DistributionConfigurationArn: string;
  /** 'true' when the bake has test steps. */
  readonly TestsEnabled: string;
  /** The value of the `cdk-immutable-deploys:bake` tag on images. */
  readonly BakeName: string;
  /** `/aws/imagebuilder/<recipe name>`, where Image Builder writes the build logs: the runtime creates or adopts it. */
  readonly LogGroupName: string;
  /** Days the build logs are kept, or '' to keep them for ever. */
  readonly LogRetentionDays: string;
  /** The files the bake ships, copied before the image starts. */
  readonly Assets?: BakeAssetCopy[];
  /** The other regions the distribution copies the AMI to: their copies are held like the original. */
  readonly CopyRegions?: string[];
  /** How many of the bake's newest images the runtime keeps after each bake (`retainImages`), as a whole number. */
  readonly RetainImages?: string;
  /** Days within which a launch keeps an AMI (`keepLaunchedWithin`). */
  readonly KeepLaunchedDays?: string;
  /** 'destroy' when the stack's deletion deletes what the bake made; absent to keep it. */
  readonly RemovalPolicy?: string;
}

/**
 * The settings of the KMS grant that lets this account's Auto Scaling service-linked role launch an
 * AMI encrypted with another account's key (a `key-grant` lookup of the runtime).
 */
export interface KeyGrantSpec {
  /** The ARN of the key (another account's key is named by its ARN only). */
  readonly KeyArn: string;
  /** The ARN of the role the grant is for: this account's `AWSServiceRoleForAutoScaling`. */
  readonly Grantee: string;
  /** The ARN of the runtime's role, which retires the grant when its resource is deleted. */
  readonly RetiringPrincipal: string;
}

/**
 * What the grant lets Auto Scaling do with the key: the operations EC2 Auto Scaling's guide lists for
 * a customer managed key of another account (its `create-grant` example). Both the grant and the
 * runtime's IAM condition (`kms:GrantOperations`) read this one list.
 */
export const KEY_GRANT_OPERATIONS = [
  'Encrypt', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'DescribeKey', 'CreateGrant',
] as const;
