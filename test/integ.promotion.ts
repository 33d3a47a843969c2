/**
 * Integration app: promotion in one account across two regions (or, with BAKE_ACCOUNT and
 * DEPLOY_ACCOUNT set, across two accounts). A bake stack in us-east-1 bakes a small Amazon Linux
 * 2023 AMI and builds an image, copies the AMI to us-west-2 and shares both with the deploy account;
 * replicates the image to us-west-2 (in the deploy account), where a registry stack deployed first
 * makes the replicated repository tag-immutable and encrypted; a deploy stack in us-west-2 imports
 * the AMI and the replica by fingerprint (lookups of its own runtime) and outputs the exact AMI id
 * and image digest it resolved. Nothing is baked or built in the deploy stack.
 *
 * Deploy it with integ-runner (the registry stack, then the bake stack, then the deploy stack: each
 * depends on the one before). Two accounts: bootstrap both, trust the bake account from the deploy
 * account's bootstrap, and set the two ids. The replicated repository
 * is ECR's, not the stack's: delete it by hand after the test
 * (`aws ecr delete-repository --force --region us-west-2 --repository-name cdk-immutable-deploys-integ/promotion`).
 * Then redeploy: nothing changes and nothing is looked up again. Each output names what the deploy
 * stack runs; `aws ec2 describe-images --image-ids <AmiId> --region us-west-2` shows the bake's
 * fingerprint at the end of its description.
 */
import * as path from 'path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { Annotations, App, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AmiArtifact, AmiBake, BakeStep, BaseImage, ContainerArtifact, ContainerImageBuild, ReplicationDestination } from '../src';

const BAKE_REGION = 'us-east-1';
const DEPLOY_REGION = 'us-west-2';
const bakeAccount = process.env.BAKE_ACCOUNT;
const deployAccount = process.env.DEPLOY_ACCOUNT;
// Under a prefix: ECR applies a repository creation template to the repositories under `<prefix>/`.
const REPOSITORY_PREFIX = 'cdk-immutable-deploys-integ';
const REPOSITORY = `${REPOSITORY_PREFIX}/promotion`;
const crossAccount = deployAccount !== undefined && deployAccount !== bakeAccount;

const app = new App();
// The deploy region's registry settings, before the first replicated push: replicas keep immutable tags.
const registryStack = new Stack(app, 'PromotionRegistryInteg', { env: { account: deployAccount, region: DEPLOY_REGION } });
new ReplicationDestination(registryStack, 'Replicas', {
  repositoryPrefix: REPOSITORY_PREFIX,
  sourceAccounts: crossAccount && bakeAccount ? [bakeAccount] : undefined,
  retainImages: 2,
});

const bakeStack = new Stack(app, 'PromotionBakeInteg', { env: { account: bakeAccount, region: BAKE_REGION } });
bakeStack.addStackDependency(registryStack);

// A customer managed key: an AMI encrypted with the default EBS key cannot be shared with another account.
const key = new kms.Key(bakeStack, 'AmiKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
const bake = new AmiBake(bakeStack, 'Web', {
  // Amazon Linux 2023 (x86_64) in us-east-1.
  baseImage: BaseImage.fromAmiId('ami-0c614dee691cbbf37'),
  steps: [BakeStep.shell(['dnf install -y nginx', 'systemctl enable nginx'])],
  rootVolumeKey: key,
  distribution: {
    regions: [DEPLOY_REGION],
    accounts: deployAccount && deployAccount !== bakeAccount ? [deployAccount] : undefined,
    // The copy in us-west-2 is encrypted with that region's default EBS key: in one account nothing else is needed.
  },
  retainImages: 2,
});

const repository = new ecr.Repository(bakeStack, 'Repository', {
  repositoryName: REPOSITORY,
  imageTagMutability: ecr.TagMutability.IMMUTABLE,
  imageScanOnPush: true,
  encryption: ecr.RepositoryEncryption.KMS,
  removalPolicy: RemovalPolicy.DESTROY,
  emptyOnDelete: true,
});
// Each build writes a build cache tagged cache-<arch>-<fingerprint>: keep the newest two.
repository.addLifecycleRule({ rulePriority: 1, description: 'Keep the last 2 build caches', tagPrefixList: ['cache-'], maxImageCount: 2 });
const image = new ContainerImageBuild(bakeStack, 'Image', {
  directory: path.join(__dirname, 'artifacts', 'container', 'fixtures', 'app'),
  repository,
  target: 'runtime',
  requireImmutableTags: true,
  shareWith: deployAccount && deployAccount !== bakeAccount ? [deployAccount] : undefined,
  replicateTo: [{ region: DEPLOY_REGION, account: deployAccount }],
});
Annotations.of(image).acknowledgeWarning('cdk-immutable-deploys:build-cache-retention', 'The repository keeps the last 2 cache- images (its lifecycle rule).');

// The deploy side: the fingerprints are synth-time strings, so no value crosses the stacks at deploy time.
const deployStack = new Stack(app, 'PromotionDeployInteg', { env: { account: deployAccount, region: DEPLOY_REGION } });
deployStack.addStackDependency(bakeStack);
const ami = AmiArtifact.fromFingerprint(deployStack, 'Web', {
  fingerprint: bake.fingerprint,
  owner: bakeAccount,
  sourceRegion: BAKE_REGION,
});
// The replica in the deploy account and region: the same name, tag and digest as the source.
const imported = ContainerArtifact.fromFingerprint(deployStack, 'Image', {
  repository: ecr.Repository.fromRepositoryName(deployStack, 'Repository', REPOSITORY),
  fingerprint: image.fingerprint,
});
new CfnOutput(deployStack, 'Fingerprint', { value: bake.fingerprint });
new CfnOutput(deployStack, 'AmiId', { value: ami.amiId });
new CfnOutput(deployStack, 'ImageUri', { value: imported.imageUri });

// The assertions run in the deploy region: the AMI the lookup resolved is there, and it is the bake's.
const assertions = new Stack(app, 'PromotionAssertions', { env: { account: deployAccount, region: DEPLOY_REGION } });
const integ = new IntegTest(app, 'PromotionTest', {
  testCases: [registryStack, bakeStack, deployStack],
  assertionStack: assertions,
  diffAssets: true,
});
integ.assertions.awsApiCall('EC2', 'describeImages', { ImageIds: [ami.amiId] }).expect(ExpectedResult.objectLike({
  Images: Match.arrayWith([Match.objectLike({ ImageId: ami.amiId, State: 'available', Description: Match.stringLikeRegexp(`fingerprint ${bake.fingerprint}$`) })]),
}));

app.synth();
