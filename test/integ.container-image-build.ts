/**
 * Integration app: two images built at deploy time by ContainerImageBuild (CodeBuild, no local
 * Docker) into one tag-immutable repository, one for each platform, built natively.
 *
 * Deploy it with integ-runner in an account: the assertions look each image up in ECR by the
 * digest the deployment returned, and expect it under its fingerprint tag.
 */
import * as path from 'path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { Annotations, App, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { ContainerImageBuild, ContainerPlatform } from '../src';

const app = new App();
const stack = new Stack(app, 'ContainerImageBuildInteg');

// An integration test leaves nothing behind: the repository goes with the stack, images and all.
const repository = new ecr.Repository(stack, 'Repository', {
  imageTagMutability: ecr.TagMutability.IMMUTABLE,
  imageScanOnPush: true,
  encryption: ecr.RepositoryEncryption.KMS,
  removalPolicy: RemovalPolicy.DESTROY,
  emptyOnDelete: true,
});

// Each build writes a build cache of every stage, tagged cache-<arch>-<fingerprint>: keep the newest two.
repository.addLifecycleRule({ rulePriority: 1, description: 'Keep the last 2 build caches', tagPrefixList: ['cache-'], maxImageCount: 2 });

const directory = path.join(__dirname, 'artifacts', 'container', 'fixtures', 'app');
const images = [
  new ContainerImageBuild(stack, 'Amd64', {
    directory,
    repository,
    target: 'runtime',
    buildArgs: { GREETING: 'hello from x86-64' },
    requireImmutableTags: true,
  }),
  new ContainerImageBuild(stack, 'Arm64', {
    directory,
    repository,
    platform: ContainerPlatform.LINUX_ARM64,
    computeType: codebuild.ComputeType.SMALL,
    buildTimeout: Duration.minutes(20),
  }),
];

const integ = new IntegTest(app, 'ContainerImageBuildTest', {
  testCases: [stack],
  diffAssets: true,
});

for (const image of images) {
  Annotations.of(image).acknowledgeWarning('cdk-immutable-deploys:build-cache-retention', 'The repository keeps the last 2 cache- images (its lifecycle rule).');
  new CfnOutput(stack, `${image.node.id}ImageUri`, { value: image.imageUri });
  // The image exists in ECR by the digest the deployment returned, under its fingerprint tag.
  integ.assertions
    .awsApiCall('ECR', 'describeImages', {
      repositoryName: repository.repositoryName,
      imageIds: [{ imageDigest: image.imageDigest }],
    })
    .expect(
      // Nested objects match loosely too; the one image must carry exactly its fingerprint tag, and be
      // one image manifest (Docker or OCI), never an index whose untagged platform images could expire.
      ExpectedResult.objectLike({
        imageDetails: [
          {
            imageDigest: image.imageDigest,
            imageTags: [image.imageTag],
            imageManifestMediaType: Match.stringLikeRegexp('^application/vnd\\.(docker\\.distribution\\.manifest\\.v2|oci\\.image\\.manifest\\.v1)\\+json$'),
          },
        ],
      }),
    );
}

app.synth();
