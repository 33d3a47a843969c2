import { Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ContainerArtifact, ContainerPlatform } from '../../../src';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('ContainerArtifact.fromDigest', () => {
  test('pins the image URI to the digest and grants pull on that repository only', () => {
    // GIVEN
    const stack = new Stack(undefined, 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'app');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });

    // WHEN
    const artifact = ContainerArtifact.fromDigest(stack, 'Image', { repository, imageDigest: DIGEST, platform: ContainerPlatform.LINUX_ARM64 });
    artifact.grantPull(role);

    // THEN
    expect(stack.resolve(artifact.imageUri)).toEqual({
      'Fn::Join': ['', ['111111111111.dkr.ecr.eu-west-1.', { Ref: 'AWS::URLSuffix' }, `/app@${DIGEST}`]],
    });
    expect(artifact.imageDigest).toEqual(DIGEST);
    expect(artifact.imageTag).toEqual(DIGEST);
    expect(artifact.fingerprint).toEqual(DIGEST);
    expect(artifact.platform.platform).toEqual('linux/arm64');
    const statements = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    expect(JSON.stringify(statements)).toContain('ecr:BatchGetImage');
    expect(JSON.stringify(statements)).toContain('arn:');
  });

  test('defaults to linux/amd64', () => {
    const stack = new Stack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'app');
    expect(ContainerArtifact.fromDigest(stack, 'Image', { repository, imageDigest: DIGEST }).platform).toBe(ContainerPlatform.LINUX_AMD64);
  });

  test('a value that is not a digest is an error that shows it and says what to pass', () => {
    const stack = new Stack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'app');
    expect(() => ContainerArtifact.fromDigest(stack, 'Image', { repository, imageDigest: 'latest' })).toThrow(
      /imageDigest 'latest' is not an image digest. Pass 'sha256:' followed by 64/,
    );
  });

  test('a token digest is not validated', () => {
    const stack = new Stack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'app');
    expect(() => ContainerArtifact.fromDigest(stack, 'Image', { repository, imageDigest: Token.asString({ Ref: 'Digest' }) })).not.toThrow();
  });
});
