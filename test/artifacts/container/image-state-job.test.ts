/**
 * An image that ECR lists is not always one a deployment can use: an archived image cannot be pulled
 * (ECR restores it on request), and a replicated image reaches each destination some time after the
 * push. The container-build job reuses or reports an image only once it can be pulled and every
 * destination of `replicateTo` has it; the image lookup refuses an archived image, saying how to
 * restore it.
 */
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { DescribeImageReplicationStatusCommand, DescribeImagesCommand, ECRClient, UpdateImageStorageClassCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { containerBuild, findImageDigest, parseRepositoryUri } from '../../../src/artifacts/container/build-job';
import { imageLookup } from '../../../src/artifacts/container/lookup-job';
import type { ContainerBuildSpec } from '../../../src/artifacts/container/types';
import { Job, JobFailure, Outcome } from '../../../src/internal/runtime/job';

const codebuild = mockClient(CodeBuildClient);
const ecr = mockClient(ECRClient);

const URI = '111111111111.dkr.ecr.eu-west-1.amazonaws.com/cdk-immutable-deploys/build/web-1234abcd';
const FINGERPRINT = 'b'.repeat(64);
const TAG = `fp-${FINGERPRINT}`;
const DIGEST = `sha256:${'e'.repeat(64)}`;
const ATTEMPT = { id: '0123456789abcdef' };
const NOW = Date.parse('2026-12-01T10:00:00Z');
const BY_TAG = { imageIds: [{ imageTag: TAG }] };
const US = { Region: 'us-east-1', RegistryId: '111111111111' };
const PROD = { Region: 'us-east-1', RegistryId: '333333333333' };

const SPEC: ContainerBuildSpec = {
  ProjectName: 'cib-project',
  RepositoryUri: URI,
  ImageTag: TAG,
  SourceBucket: 'assets',
  SourceKey: 'context.zip',
  Dockerfile: 'Dockerfile',
  Target: '',
  Platform: 'linux/amd64',
  BuildArgs: '{}',
  Cache: 'false',
  ComputeType: 'BUILD_GENERAL1_SMALL',
  TimeoutMinutes: '30',
  QueuedTimeoutMinutes: '480',
  RequireImmutableTags: 'false',
  PullRegistries: '',
};

function job(spec: Partial<ContainerBuildSpec> = {}): Job<ContainerBuildSpec> {
  return { key: 'WebWait', kind: 'container-build', path: 'Build/Web', fingerprint: FINGERPRINT, spec: { ...SPEC, ...spec } };
}

const awsError = (name: string, message = name): Error => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

/** The fingerprint tag's image, as DescribeImages describes it (`imageStatus` since ECR's archive). */
function image(imageStatus?: string, pushedMinutesAgo = 1) {
  ecr.on(DescribeImagesCommand, BY_TAG).resolves({
    imageDetails: [{ imageDigest: DIGEST, imageTags: [TAG], imageStatus: imageStatus as any, imagePushedAt: new Date(NOW - pushedMinutesAgo * 6e4) }],
  });
}

/** The replication status of the image, per destination. */
function replication(...statuses: Array<{ region: string; registryId: string; status: string; failureCode?: string }>) {
  ecr.on(DescribeImageReplicationStatusCommand).resolves({ replicationStatuses: statuses as any });
}

/** A succeeded build of the project. */
function succeededBuild() {
  codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'cib-project:7', buildStatus: 'SUCCEEDED', endTime: new Date(NOW) }] });
}

async function failureReason(outcome: Promise<Outcome>): Promise<string> {
  const got = await outcome;
  if (got.state !== 'failed') throw new Error(`expected a failed outcome, got ${JSON.stringify(got)}`);
  return got.reason;
}

beforeEach(() => {
  codebuild.reset();
  ecr.reset();
  codebuild.on(ListBuildsForProjectCommand).resolves({ ids: [] });
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
  jest.spyOn(console, 'log').mockImplementation(() => {});
});

afterEach(() => jest.restoreAllMocks());

describe('an archived image (ECR archive: listed, but cannot be pulled)', () => {
  test('is not reused as it is: find gives nothing', async () => {
    image('ARCHIVED');
    await expect(containerBuild.find(job())).resolves.toBeUndefined();
    image('ACTIVATING');
    await expect(containerBuild.find(job())).resolves.toBeUndefined();
  });

  test('start restores it (UpdateImageStorageClass to STANDARD, by digest) and builds nothing', async () => {
    // GIVEN
    image('ARCHIVED');
    ecr.on(UpdateImageStorageClassCommand).resolves({ imageStatus: 'ACTIVATING' });
    // WHEN
    const started = await containerBuild.start(job(), ATTEMPT);
    // THEN
    expect(started).toEqual({ state: 'started', ref: `image:${DIGEST}` });
    expect(ecr.commandCalls(UpdateImageStorageClassCommand).map((c) => c.args[0].input)).toEqual([{
      registryId: '111111111111', repositoryName: 'cdk-immutable-deploys/build/web-1234abcd', imageId: { imageDigest: DIGEST }, targetStorageClass: 'STANDARD',
    }]);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test('an image already being restored is not restored again; it is pending until ACTIVE, then done with its digest', async () => {
    image('ACTIVATING');
    await expect(containerBuild.start(job(), ATTEMPT)).resolves.toEqual({ state: 'started', ref: `image:${DIGEST}` });
    await expect(containerBuild.check(job(), `image:${DIGEST}`)).resolves.toEqual({ state: 'pending', detail: expect.stringMatching(/is ACTIVATING: ECR restores it from its archive/) });
    expect(ecr.commandCalls(UpdateImageStorageClassCommand)).toHaveLength(0);
    image('ACTIVE');
    await expect(containerBuild.check(job(), `image:${DIGEST}`)).resolves.toEqual({ state: 'succeeded', data: DIGEST, summary: `Reused ${URI}@${DIGEST}` });
  });

  test('where ECR answers a request by tag with ACTIVE images only (its filter\'s default), an archived image is found among the archived ones, and restored rather than built again', async () => {
    // GIVEN the tag's own request finds nothing, and the archived images hold it (row 103: the API's filter returns ACTIVE images unless told otherwise)
    ecr.on(DescribeImagesCommand, BY_TAG).rejects(awsError('ImageNotFoundException'));
    ecr.on(DescribeImagesCommand, { filter: { tagStatus: 'TAGGED', imageStatus: 'ARCHIVED' } }).resolves({
      imageDetails: [{ imageDigest: `sha256:${'0'.repeat(64)}`, imageTags: ['fp-other'] }, { imageDigest: DIGEST, imageTags: [TAG], imageStatus: 'ARCHIVED' }],
    });
    ecr.on(UpdateImageStorageClassCommand).resolves({ imageStatus: 'ACTIVATING' });
    // WHEN the build looks for its fingerprint
    await expect(containerBuild.find(job())).resolves.toBeUndefined();
    const started = await containerBuild.start(job(), ATTEMPT);
    // THEN it restores that image, and builds nothing (a push would hit the immutable tag)
    expect(started).toEqual({ state: 'started', ref: `image:${DIGEST}` });
    expect(ecr.commandCalls(UpdateImageStorageClassCommand).map((c) => c.args[0].input.imageId)).toEqual([{ imageDigest: DIGEST }]);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test('an image deleted or retagged while it was restored fails, saying to deploy again', async () => {
    ecr.on(DescribeImagesCommand, BY_TAG).rejects(awsError('ImageNotFoundException'));
    expect(await failureReason(containerBuild.check(job(), `image:${DIGEST}`))).toMatch(/was deleted or retagged while ECR restored or replicated it\. Deploy again/);
  });

  test('the image lookup of another stack refuses it, with the command that restores it', async () => {
    image('ARCHIVED');
    const error = await imageLookup.lookup({
      kind: 'image-lookup',
      path: 'Prod/Web/ImportedArtifact',
      fingerprint: FINGERPRINT,
      spec: { RepositoryUri: URI },
      account: '111111111111',
      region: 'eu-west-1',
      stackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/Prod/1',
      logicalId: 'Lookup',
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailure);
    expect((error as Error).message).toMatch(
      /is ARCHIVED in ECR's archive, which cannot be pulled.*aws ecr update-image-storage-class --registry-id 111111111111 --region eu-west-1 --repository-name cdk-immutable-deploys\/build\/web-1234abcd --image-id imageTag=fp-b+ --target-storage-class STANDARD/);
  });

  test('findImageDigest (the lookup and the plan) gives an ACTIVE image, and an image of before ECR\'s archive, as it is', async () => {
    const repository = parseRepositoryUri(URI);
    image('ACTIVE');
    await expect(findImageDigest(new ECRClient({ region: 'eu-west-1' }), repository, TAG, 'p')).resolves.toBe(DIGEST);
    image(undefined);
    await expect(findImageDigest(new ECRClient({ region: 'eu-west-1' }), repository, TAG, 'p')).resolves.toBe(DIGEST);
  });
});

describe('replicateTo: a build is done once every destination has the image', () => {
  const replicating = () => job({ ReplicateTo: [US, PROD] });

  test('a succeeded build is pending while ECR replicates, and names where it waits', async () => {
    // GIVEN: the push ended; one destination has the image, the other not yet
    succeededBuild();
    image('ACTIVE');
    replication({ region: 'us-east-1', registryId: '111111111111', status: 'COMPLETE' }, { region: 'us-east-1', registryId: '333333333333', status: 'IN_PROGRESS' });
    // WHEN / THEN
    await expect(containerBuild.check(replicating(), 'cib-project:7')).resolves.toEqual({
      state: 'pending',
      detail: `ECR is replicating ${DIGEST} to us-east-1 (account 333333333333): IN_PROGRESS`,
    });
    expect(ecr.commandCalls(DescribeImageReplicationStatusCommand).map((c) => c.args[0].input)).toEqual([{
      registryId: '111111111111', repositoryName: 'cdk-immutable-deploys/build/web-1234abcd', imageId: { imageDigest: DIGEST },
    }]);
  });

  test('every destination COMPLETE: done with the digest, and the summary names where it is', async () => {
    succeededBuild();
    image('ACTIVE');
    replication({ region: 'us-east-1', registryId: '111111111111', status: 'COMPLETE' }, { region: 'us-east-1', registryId: '333333333333', status: 'COMPLETE' });
    await expect(containerBuild.check(replicating(), 'cib-project:7')).resolves.toEqual({
      state: 'succeeded',
      data: DIGEST,
      summary: `Built ${URI}@${DIGEST} (CodeBuild build cib-project:7), replicated to us-east-1 (111111111111), us-east-1 (333333333333)`,
    });
  });

  test('a destination that FAILED fails the build with ECR\'s failure code and what to check, never "push it again"', async () => {
    succeededBuild();
    image('ACTIVE');
    replication({ region: 'us-east-1', registryId: '111111111111', status: 'COMPLETE' }, { region: 'us-east-1', registryId: '333333333333', status: 'FAILED', failureCode: 'REPLICATION_PERMISSION_DENIED' });
    const reason = await failureReason(containerBuild.check(replicating(), 'cib-project:7'));
    expect(reason).toMatch(/^Build\/Web: ECR could not replicate cdk-immutable-deploys\/build\/web-1234abcd@sha256:e+ to us-east-1 \(account 333333333333\): REPLICATION_PERMISSION_DENIED\./);
    expect(reason).toMatch(/registry policy lets this account replicate.*aws ecr start-replication-backfill --region eu-west-1 --destination region=us-east-1,registryId=333333333333/);
    expect(reason).not.toMatch(/push it again/i);
  });

  test('no status for a destination: pending just after the push, failed ("never will") long after it', async () => {
    succeededBuild();
    image('ACTIVE', 2);
    replication({ region: 'us-east-1', registryId: '111111111111', status: 'COMPLETE' });
    await expect(containerBuild.check(replicating(), 'cib-project:7')).resolves.toMatchObject({ state: 'pending', detail: expect.stringContaining('333333333333): not started') });
    image('ACTIVE', 60 * 24);
    const reason = await failureReason(containerBuild.check(replicating(), 'cib-project:7'));
    expect(reason).toMatch(/has not replicated .* to us-east-1 \(account 333333333333\), and never will: the image was pushed before replication to it was configured/);
    expect(reason).toMatch(/start-replication-backfill.*or change an input of the build/);
  });

  test('an image restored from the archive long after its push is replicated anew: no status yet is pending, timed from its restore', async () => {
    // GIVEN an image pushed a day ago, restored a minute ago, with no status for production yet
    succeededBuild();
    ecr.on(DescribeImagesCommand, BY_TAG).resolves({
      imageDetails: [{ imageDigest: DIGEST, imageTags: [TAG], imageStatus: 'ACTIVE', imagePushedAt: new Date(NOW - 24 * 3.6e6), lastActivatedAt: new Date(NOW - 6e4) }],
    });
    replication({ region: 'us-east-1', registryId: '111111111111', status: 'COMPLETE' });
    // THEN the build waits for ECR to copy it, rather than failing as "never will"
    await expect(containerBuild.check(replicating(), 'cib-project:7')).resolves.toMatchObject({ state: 'pending', detail: expect.stringContaining('333333333333): not started') });
  });

  test('an image another stack built (or a revert finds) is reused only once every destination has it; until then start waits for it, building nothing', async () => {
    // GIVEN: the tag exists, replication is under way
    image('ACTIVE');
    replication({ region: 'us-east-1', registryId: '111111111111', status: 'IN_PROGRESS' }, { region: 'us-east-1', registryId: '333333333333', status: 'COMPLETE' });
    // WHEN / THEN
    await expect(containerBuild.find(replicating())).resolves.toBeUndefined();
    await expect(containerBuild.start(replicating(), ATTEMPT)).resolves.toEqual({ state: 'started', ref: `image:${DIGEST}` });
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
    await expect(containerBuild.check(replicating(), `image:${DIGEST}`)).resolves.toMatchObject({ state: 'pending' });
    replication({ region: 'us-east-1', registryId: '111111111111', status: 'COMPLETE' }, { region: 'us-east-1', registryId: '333333333333', status: 'COMPLETE' });
    await expect(containerBuild.find(replicating())).resolves.toBe(DIGEST);
    await expect(containerBuild.cancel(replicating(), `image:${DIGEST}`)).resolves.toBeUndefined();
  });

  test('without replicateTo, replication is not asked', async () => {
    succeededBuild();
    image('ACTIVE');
    await expect(containerBuild.check(job(), 'cib-project:7')).resolves.toMatchObject({ state: 'succeeded', data: DIGEST });
    expect(ecr.commandCalls(DescribeImageReplicationStatusCommand)).toHaveLength(0);
  });
});
