import * as path from 'path';
import { Annotations, App, CfnOutput, Duration, Stack, Stage, StageProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { addImmutableAutoScalingGroup } from './autoscaling';
import { addImmutableFargateService } from './fargate';
import { AmiArtifact, AmiBake, BakeStep, BaseImage, ContainerArtifact, ContainerImageBuild, ContainerPlatform, ReplicationDestination } from '../src';

/**
 * The reference app: bake once, test that exact artifact in staging, deploy the same bits to
 * production. Three stages in three accounts (the ids are examples: put yours), and the registry
 * settings of Production's account and region:
 * - ProductionRegistry, once, before the first Bake: in Production's account and region, makes the
 *   repositories ECR replicates there tag-immutable and encrypted, and lets the tooling account
 *   replicate into them;
 * - Bake, in a tooling account (us-east-1): bakes the web server's AMI and builds the site's image,
 *   shares both with the other two accounts, copies the AMI to Production's region and replicates
 *   the image to Production's registry;
 * - Staging, in its own account (us-east-1), and
 * - Production, in a third account and a second region (eu-west-1): each imports the AMI and the
 *   image by fingerprint, a string known when the app is synthesized, and runs them (Production
 *   pulls the replica in its own registry). Each group's account makes the KMS grant that lets its
 *   Auto Scaling role launch the AMI encrypted with the tooling account's key.
 * Deploy Bake, then Staging, test it, then Production (or put the stages in a CDK pipeline in that
 * order): all three run the same AMI and the same digest. Nothing is built outside the Bake stage.
 */
export const ACCOUNTS = { tooling: '111111111111', staging: '222222222222', production: '333333333333' };
export const BAKE_REGION = 'us-east-1';
export const PRODUCTION_REGION = 'eu-west-1';
/** Under a prefix, so that Production's repository creation template covers its replica (ECR matches `<prefix>/`). */
const REPOSITORY_PREFIX = 'immutable-deploys-example';
const REPOSITORY = `${REPOSITORY_PREFIX}/web`;
/**
 * The keys that encrypt the AMI in each region, as the tooling account shows them (the Bake stack's
 * `AmiKeyArn` output, and the replica of a multi-Region key in eu-west-1): put yours. A KMS grant
 * names a key by its ARN, never by an alias.
 */
export const AMI_KEY_ARNS = {
  [BAKE_REGION]: `arn:aws:kms:${BAKE_REGION}:${ACCOUNTS.tooling}:key/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d`,
  [PRODUCTION_REGION]: `arn:aws:kms:${PRODUCTION_REGION}:${ACCOUNTS.tooling}:key/mrk-1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d`,
};

/** Production's registry: deployed once, before the first Bake replicates an image to it. */
export class RegistryStage extends Stage {
  public readonly stack: Stack;

  constructor(scope: Construct, id: string, props: StageProps) {
    super(scope, id, props);
    this.stack = new Stack(this, 'Registry');
    new ReplicationDestination(this.stack, 'Replicas', { sourceAccounts: [ACCOUNTS.tooling], repositoryPrefix: REPOSITORY_PREFIX, retainImages: 20 });
  }
}

/** What the Bake stage makes: the fingerprints are what the other stages deploy. */
export class BakeStage extends Stage {
  public readonly bake: AmiBake;
  public readonly image: ContainerImageBuild;
  public readonly stack: Stack;

  constructor(scope: Construct, id: string, props: StageProps) {
    super(scope, id, props);
    this.stack = new Stack(this, 'Artifacts');
    const others = [ACCOUNTS.staging, ACCOUNTS.production];
    // A customer managed key: an AMI encrypted with the default EBS key cannot be shared.
    const key = new kms.Key(this.stack, 'AmiKey', { enableKeyRotation: true, description: 'Encrypts the baked AMIs shared with staging and production' });
    this.bake = new AmiBake(this.stack, 'WebAmi', {
      // Amazon Linux 2023 (x86_64) in us-east-1: pinned, so a new base image is a reviewed change.
      baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'),
      steps: [BakeStep.shell(['dnf install -y nginx', 'systemctl enable nginx']), BakeStep.reboot()],
      testSteps: [BakeStep.shell(['rpm -q nginx', 'systemctl is-enabled nginx'])],
      buildTimeout: Duration.hours(2),
      rootVolumeKey: key,
      // The copy in eu-west-1 is encrypted with a key of that region (a multi-Region replica here). KMS never
      // copies a key policy between replicas: that key's own policy must allow what AmiKey's does (README:
      // "A key in another region").
      distribution: { accounts: others, regions: [PRODUCTION_REGION], kmsKeyId: AMI_KEY_ARNS[PRODUCTION_REGION] },
      retainImages: 5,
    });
    const repository = new ecr.Repository(this.stack, 'WebRepository', {
      repositoryName: REPOSITORY,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.KMS,
    });
    repository.addLifecycleRule({ rulePriority: 1, description: 'Keep the last 20 fingerprint images', tagPrefixList: ['fp-'], maxImageCount: 20 });
    // Each build writes a cache of every stage of its Dockerfile, tagged cache-<arch>-<fingerprint>: keep the newest two.
    repository.addLifecycleRule({ rulePriority: 2, description: 'Keep the last 2 build caches', tagPrefixList: ['cache-'], maxImageCount: 2 });
    this.image = new ContainerImageBuild(this.stack, 'WebImage', {
      directory: path.join(__dirname, 'container-app'),
      platform: ContainerPlatform.LINUX_ARM64,
      repository,
      requireImmutableTags: true,
      shareWith: others,
      // Production pulls from its own registry in its own region: the same tag, the same digest.
      replicateTo: [{ region: PRODUCTION_REGION, account: ACCOUNTS.production }],
    });
    Annotations.of(this.image).acknowledgeWarning('cdk-immutable-deploys:build-cache-retention', 'WebRepository keeps the last 2 cache- images (its lifecycle rule 2).');
    new CfnOutput(this.stack, 'AmiKeyArn', {
      value: key.keyArn,
      description: 'The key that encrypts the baked AMIs here: the other stages name it (AMI_KEY_ARNS)',
    });
  }
}

/** Where a stage finds what the Bake stage made. */
export interface ServiceStageProps extends StageProps {
  readonly amiFingerprint: string;
  readonly imageFingerprint: string;
  /** The ARN of the tooling account's key that encrypts the AMI in this stage's region. */
  readonly amiKeyArn: string;
  /** Whether the image is replicated to this stage's registry (else it is pulled from the tooling account's). */
  readonly imageReplicated: boolean;
}

/** Staging or Production: the same service, from the same artifacts, imported by fingerprint. */
export class ServiceStage extends Stage {
  public readonly stack: Stack;

  constructor(scope: Construct, id: string, props: ServiceStageProps) {
    super(scope, id, props);
    this.stack = new Stack(this, 'Service');
    const vpc = new ec2.Vpc(this.stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    vpc.addFlowLog('FlowLog');
    const ami = AmiArtifact.fromFingerprint(this.stack, 'WebAmi', {
      fingerprint: props.amiFingerprint,
      owner: ACCOUNTS.tooling,
      sourceRegion: BAKE_REGION,
      // Another account's key: the group's stack grants this account's Auto Scaling role its use.
      encryptionKeyArn: props.amiKeyArn,
    });
    const repository = props.imageReplicated
      ? ecr.Repository.fromRepositoryName(this.stack, 'WebRepository', REPOSITORY)
      : ecr.Repository.fromRepositoryAttributes(this.stack, 'WebRepository', {
        repositoryName: REPOSITORY,
        repositoryArn: `arn:aws:ecr:${BAKE_REGION}:${ACCOUNTS.tooling}:repository/${REPOSITORY}`,
      });
    const image = ContainerArtifact.fromFingerprint(this.stack, 'WebImage', { repository, fingerprint: props.imageFingerprint, platform: ContainerPlatform.LINUX_ARM64 });
    addImmutableFargateService(this.stack, image, vpc);
    addImmutableAutoScalingGroup(this.stack, ami, vpc);
  }
}

/** The three stages of the reference app, and Production's registry settings. */
export function promotionApp(app: App) {
  const registry = new RegistryStage(app, 'ProductionRegistry', { env: { account: ACCOUNTS.production, region: PRODUCTION_REGION } });
  const bake = new BakeStage(app, 'Bake', { env: { account: ACCOUNTS.tooling, region: BAKE_REGION } });
  const fingerprints = { amiFingerprint: bake.bake.fingerprint, imageFingerprint: bake.image.fingerprint };
  const staging = new ServiceStage(app, 'Staging', {
    env: { account: ACCOUNTS.staging, region: BAKE_REGION },
    ...fingerprints,
    amiKeyArn: AMI_KEY_ARNS[BAKE_REGION],
    imageReplicated: false,
  });
  const production = new ServiceStage(app, 'Production', {
    env: { account: ACCOUNTS.production, region: PRODUCTION_REGION },
    ...fingerprints,
    amiKeyArn: AMI_KEY_ARNS[PRODUCTION_REGION],
    // Production pulls the replica in its own registry.
    imageReplicated: true,
  });
  return { registry, bake, staging, production };
}
