import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand,
  Build,
  BuildPhase,
  CodeBuildClient,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import { DeleteRepositoryCommand, DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { containerBuild, LOG_TAIL_LINES, parseRepositoryUri, RECENT_BUILDS } from '../../../src/artifacts/container/build-job';
import { BUILD_ENV, buildSpecObject } from '../../../src/artifacts/container/buildspec';
import type { ContainerBuildSpec } from '../../../src/artifacts/container/types';
import { jsonBytes } from '../../../src/internal/failure';
import { MAX_SIGNAL_REASON_BYTES } from '../../../src/internal/runtime/http';
import { Job, JobFailure, Outcome } from '../../../src/internal/runtime/job';
import { throttlingRetry } from '../../internal/runtime/jobs';

/** The deleted stack, for a destroy: a repository is no artifact other stacks hold. */
const STACK = { stackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1', holders: async () => [] };

const codebuild = mockClient(CodeBuildClient);
const ecr = mockClient(ECRClient);
const logs = mockClient(CloudWatchLogsClient);

const URI = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app-images';
const FINGERPRINT = 'a'.repeat(64);
const TAG = `fp-${FINGERPRINT}`;
const DIGEST = `sha256:${'d'.repeat(64)}`;
const ATTEMPT = { id: '0123456789abcdef' };
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

const SPEC: ContainerBuildSpec = {
  ProjectName: 'cib-project',
  RepositoryUri: URI,
  ImageTag: TAG,
  SourceBucket: 'cdk-hnb659fds-assets-123456789012-eu-west-1',
  SourceKey: 'context.zip',
  Dockerfile: 'docker/Dockerfile',
  Target: 'runtime',
  Platform: 'linux/arm64',
  BuildArgs: JSON.stringify({ VERSION: '1.2.3', A_FIRST: 'x=y' }),
  Cache: 'false',
  ComputeType: 'BUILD_GENERAL1_MEDIUM',
  TimeoutMinutes: '30',
  QueuedTimeoutMinutes: '25',
  RequireImmutableTags: 'false',
  PullRegistries: '111122223333.dkr.ecr.us-east-1.amazonaws.com',
};

function job(spec: Partial<ContainerBuildSpec> = {}): Job<ContainerBuildSpec> {
  return { key: 'AppImageWait1', kind: 'container-build', path: 'App/Image', fingerprint: FINGERPRINT, spec: { ...SPEC, ...spec } };
}

/** A build as CodeBuild describes it, marked with the attempt that started it. */
function build(n: number, status: string, extra: Partial<Build> & { attempt?: string } = {}): Build {
  const { attempt = ATTEMPT.id, ...rest } = extra;
  return {
    id: `cib-project:${n}`,
    buildStatus: status as Build['buildStatus'],
    currentPhase: status === 'IN_PROGRESS' ? 'BUILD' : 'COMPLETED',
    environment: {
      environmentVariables: [
        { name: BUILD_ENV.IMAGE_TAG, value: TAG, type: 'PLAINTEXT' },
        { name: BUILD_ENV.ATTEMPT, value: attempt, type: 'PLAINTEXT' },
      ],
    } as Build['environment'],
    logs: { groupName: '/cib/logs', streamName: String(n), deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=/cib/logs;stream=${n}` },
    ...rest,
  };
}

/** A build that failed in its BUILD phase with one context message. */
function failedBuild(n: number, status = 'FAILED', extra: Partial<Build> & { attempt?: string } = {}): Build {
  const phases: BuildPhase[] = [
    { phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED' },
    { phaseType: 'PRE_BUILD', phaseStatus: 'SUCCEEDED' },
    { phaseType: 'BUILD', phaseStatus: status as 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: docker buildx build. Reason: exit status 1' }] },
    { phaseType: 'COMPLETED' },
  ];
  return build(n, status, { phases, ...extra });
}

/** The project's builds, newest first, as ListBuildsForProject and BatchGetBuilds give them. */
function projectBuilds(...builds: Build[]): void {
  codebuild.on(ListBuildsForProjectCommand).resolves({ ids: builds.map((b) => b.id!) });
  codebuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => ({ builds: builds.filter((b) => input.ids.includes(b.id!)) }));
}

const startsBuild = (n = 1) => codebuild.on(StartBuildCommand).resolves({ build: build(n, 'IN_PROGRESS') });

const awsError = (name: string, message = name, httpStatusCode = 400): Error =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

const throttling = () => awsError('ThrottlingException', 'Rate exceeded');

const BY_TAG = { imageIds: [{ imageTag: TAG }] };
const imageMissing = () => ecr.on(DescribeImagesCommand, BY_TAG).rejects(awsError('ImageNotFoundException'));
const imageFound = (imageManifestMediaType?: string) =>
  ecr.on(DescribeImagesCommand, BY_TAG).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: [TAG], imageManifestMediaType }] });

const tagMutability = (imageTagMutability: string, filters: string[] = []) =>
  ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ imageTagMutability: imageTagMutability as any, imageTagMutabilityExclusionFilters: filters.map((filter) => ({ filter, filterType: 'WILDCARD' as const })) }] });

const logLines = (...messages: string[]) => logs.on(GetLogEventsCommand).resolves({ events: messages.map((message) => ({ message: `${message}\n` })) });

/** The reason of a failed outcome; fails the test on any other outcome. */
async function failureReason(outcome: Promise<Outcome>): Promise<string> {
  const got = await outcome;
  if (got.state !== 'failed') throw new Error(`expected a failed outcome, got ${JSON.stringify(got)}`);
  return got.reason;
}

/** The message of the JobFailure a call rejects with; fails the test on anything else. */
async function jobFailure(call: Promise<unknown>): Promise<string> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(JobFailure);
  return (error as Error).message;
}

function startInput() {
  const calls = codebuild.commandCalls(StartBuildCommand);
  expect(calls).toHaveLength(1);
  return calls[0].args[0].input;
}

const startEnv = (): Record<string, string | undefined> =>
  Object.fromEntries(startInput().environmentVariablesOverride!.map((v) => [v.name, v.value]));

beforeEach(() => {
  codebuild.reset();
  ecr.reset();
  logs.reset();
  // By default the fingerprint tag does not exist: start builds it.
  ecr.on(DescribeImagesCommand, BY_TAG).rejects(awsError('ImageNotFoundException'));
  jest.spyOn(console, 'log').mockImplementation(() => {});
});

afterEach(() => jest.restoreAllMocks());

describe('find', () => {
  test('gives the digest of the fingerprint tag, asked of the registry and repository of the URI', async () => {
    // GIVEN
    imageFound();
    // WHEN
    const found = await containerBuild.find(job());
    // THEN
    expect(found).toEqual(DIGEST);
    expect(ecr.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({ registryId: '123456789012', repositoryName: 'app-images', imageIds: [{ imageTag: TAG }] });
  });

  test('gives nothing when no image carries the tag', async () => {
    // GIVEN
    imageMissing();
    // WHEN / THEN
    await expect(containerBuild.find(job())).resolves.toBeUndefined();
  });

  test.each(['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json'])('reuses a single image manifest (%s)', async (mediaType) => {
    // GIVEN
    imageFound(mediaType);
    // WHEN / THEN
    await expect(containerBuild.find(job())).resolves.toEqual(DIGEST);
  });

  test.each(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'])('refuses an image index (%s) under the tag', async (mediaType) => {
    // GIVEN: an index, whose untagged platform images the untagged-image lifecycle rule would expire
    imageFound(mediaType);
    // WHEN / THEN
    expect(await jobFailure(containerBuild.find(job()))).toMatch(new RegExp(`^App/Image: app-images:${TAG} is an image index \\(${mediaType.replace(/[.+]/g, '\\$&')}\\).*Delete the tag`));
  });

  test('a repository that does not exist is a JobFailure that says what to do', async () => {
    // GIVEN
    ecr.on(DescribeImagesCommand).rejects(awsError('RepositoryNotFoundException', 'The repository does not exist'));
    // WHEN / THEN
    expect(await jobFailure(containerBuild.find(job()))).toMatch(/^App\/Image: repository app-images does not exist in registry 123456789012 \(eu-west-1\)\. Create it, or let ContainerImageBuild create one/);
  });

  test('a RepositoryUri that is not an ECR repository is a JobFailure, before any call', async () => {
    // WHEN / THEN
    expect(await jobFailure(containerBuild.find(job({ RepositoryUri: 'docker.io/library/nginx' })))).toMatch(/RepositoryUri 'docker\.io\/library\/nginx' is not an ECR repository URI/);
    expect(ecr.calls()).toHaveLength(0);
  });

  test('with requireImmutableTags, a repository with MUTABLE tags fails', async () => {
    // GIVEN
    tagMutability('MUTABLE');
    imageFound();
    // WHEN / THEN
    expect(await jobFailure(containerBuild.find(job({ RequireImmutableTags: 'true' })))).toMatch(/^App\/Image: repository app-images has MUTABLE tags, under which fp-a+ can be moved, and requireImmutableTags is true/);
    expect(ecr.commandCalls(DescribeRepositoriesCommand)[0].args[0].input).toEqual({ registryId: '123456789012', repositoryNames: ['app-images'] });
  });

  // ECR's exclusion filters are wildcard patterns: IMMUTABLE_WITH_EXCLUSION leaves the tags they match
  // mutable, MUTABLE_WITH_EXCLUSION makes only those immutable (docs/aws-behaviour.md #32).
  test.each([
    ['IMMUTABLE', []],
    ['IMMUTABLE_WITH_EXCLUSION', ['dev-*', 'latest']],
    ['MUTABLE_WITH_EXCLUSION', ['fp-*']],
  ])('with requireImmutableTags, a repository with %s tags %j passes', async (mutability, filters) => {
    // GIVEN
    tagMutability(mutability, filters);
    imageFound();
    // WHEN / THEN
    await expect(containerBuild.find(job({ RequireImmutableTags: 'true' }))).resolves.toEqual(DIGEST);
    expect(ecr.commandCalls(DescribeRepositoriesCommand)).toHaveLength(1);
  });

  test.each([
    ['IMMUTABLE_WITH_EXCLUSION', ['fp-*']],
    ['IMMUTABLE_WITH_EXCLUSION', ['*']],
    ['MUTABLE_WITH_EXCLUSION', ['release-*']],
  ])('with requireImmutableTags, a repository with %s tags %j, under which fingerprint tags move, fails', async (mutability, filters) => {
    tagMutability(mutability, filters);
    imageFound();
    expect(await jobFailure(containerBuild.find(job({ RequireImmutableTags: 'true' })))).toMatch(new RegExp(`has ${mutability} \\(exclusion filters .*\\) tags, under which fp-a+ can be moved`));
  });

  test('without requireImmutableTags, the repository settings are not read', async () => {
    // GIVEN
    imageFound();
    // WHEN
    await containerBuild.find(job());
    // THEN
    expect(ecr.commandCalls(DescribeRepositoriesCommand)).toHaveLength(0);
  });
});

describe('start', () => {
  // GIVEN in every test, unless it says otherwise: a project without builds, where StartBuild starts cib-project:1
  beforeEach(() => {
    projectBuilds();
    startsBuild(1);
  });

  test('starts one build with every setting, the buildspec and the attempt as idempotency token', async () => {
    // WHEN
    const started = await containerBuild.start(job(), ATTEMPT);
    // THEN
    expect(started).toEqual({ state: 'started', ref: 'cib-project:1' });
    const { buildspecOverride, environmentVariablesOverride, ...input } = startInput();
    expect(input).toEqual({
      projectName: 'cib-project',
      sourceTypeOverride: 'S3',
      sourceLocationOverride: 'cdk-hnb659fds-assets-123456789012-eu-west-1/context.zip',
      computeTypeOverride: 'BUILD_GENERAL1_MEDIUM',
      timeoutInMinutesOverride: 30,
      queuedTimeoutInMinutesOverride: 25,
      idempotencyToken: ATTEMPT.id,
    });
    expect(JSON.parse(buildspecOverride!)).toEqual(buildSpecObject());
    expect(environmentVariablesOverride!.every((v) => v.type === 'PLAINTEXT')).toBe(true);
    expect(environmentVariablesOverride!.map((v) => [v.name, v.value])).toEqual([
      [BUILD_ENV.IMAGE_URI, URI], [BUILD_ENV.IMAGE_TAG, TAG], [BUILD_ENV.REGISTRY_REGION, 'eu-west-1'],
      [BUILD_ENV.PULL_REGISTRIES, '111122223333.dkr.ecr.us-east-1.amazonaws.com'],
      [BUILD_ENV.DOCKERFILE, 'docker/Dockerfile'], [BUILD_ENV.TARGET, 'runtime'], [BUILD_ENV.PLATFORM, 'linux/arm64'],
      [BUILD_ENV.CACHE, 'false'], [BUILD_ENV.CACHE_FROM, ''], [BUILD_ENV.CACHE_TAG, ''], [BUILD_ENV.FINGERPRINT, FINGERPRINT],
      [BUILD_ENV.ATTEMPT, ATTEMPT.id], [BUILD_ENV.BUILD_ARG_COUNT, '2'],
      [`${BUILD_ENV.BUILD_ARG_PREFIX}0`, 'A_FIRST=x=y'],
      [`${BUILD_ENV.BUILD_ARG_PREFIX}1`, 'VERSION=1.2.3'],
    ]);
  });

  test('settings left empty are not overridden', async () => {
    // WHEN
    await containerBuild.start(job({ ComputeType: '', TimeoutMinutes: '', QueuedTimeoutMinutes: '', BuildArgs: '' }), ATTEMPT);
    // THEN
    const { computeTypeOverride, timeoutInMinutesOverride, queuedTimeoutInMinutesOverride } = startInput();
    expect([computeTypeOverride, timeoutInMinutesOverride, queuedTimeoutInMinutesOverride]).toEqual([undefined, undefined, undefined]);
    expect(startEnv()[BUILD_ENV.BUILD_ARG_COUNT]).toEqual('0');
  });

  test('a replay finds the build of the same attempt by its marker and starts nothing', async () => {
    // GIVEN: a newer build of another attempt, then the build this attempt started
    projectBuilds(build(8, 'IN_PROGRESS', { attempt: 'fedcba9876543210' }), build(7, 'IN_PROGRESS'));
    // WHEN
    const started = await containerBuild.start(job(), ATTEMPT);
    // THEN
    expect(started).toEqual({ state: 'started', ref: 'cib-project:7' });
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test('builds of other attempts, running or failed, are not adopted', async () => {
    // GIVEN
    projectBuilds(failedBuild(7, 'FAILED', { attempt: 'fedcba9876543210' }), build(6, 'IN_PROGRESS', { attempt: '1111111111111111' }));
    startsBuild(9);
    // WHEN
    const started = await containerBuild.start(job(), ATTEMPT);
    // THEN
    expect(started).toEqual({ state: 'started', ref: 'cib-project:9' });
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(1);
  });

  test(`searches the ${RECENT_BUILDS} most recent builds of the project`, async () => {
    // GIVEN
    codebuild.on(ListBuildsForProjectCommand).resolves({ ids: Array.from({ length: 80 }, (_, i) => `cib-project:${80 - i}`) });
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [] });
    // WHEN
    await containerBuild.start(job(), ATTEMPT);
    // THEN
    expect(codebuild.commandCalls(ListBuildsForProjectCommand)[0].args[0].input).toEqual({ projectName: 'cib-project', sortOrder: 'DESCENDING' });
    const ids = codebuild.commandCalls(BatchGetBuildsCommand)[0].args[0].input.ids!;
    expect(ids).toHaveLength(RECENT_BUILDS);
    expect(ids[0]).toEqual('cib-project:80');
  });

  test('with the cache on, builds from the newest fingerprint image of the repository', async () => {
    // GIVEN
    ecr.on(DescribeImagesCommand, { filter: { tagStatus: 'TAGGED' } }).resolves({
      imageDetails: [
        { imageDigest: 'sha256:1', imageTags: ['fp-older'], imagePushedAt: new Date('2024-01-01') },
        { imageDigest: 'sha256:2', imageTags: ['latest-by-hand'], imagePushedAt: new Date('2024-03-01') },
        { imageDigest: 'sha256:3', imageTags: ['fp-newest'], imagePushedAt: new Date('2024-02-01') },
      ],
    });
    // WHEN
    await containerBuild.start(job({ Cache: 'true' }), ATTEMPT);
    // THEN
    expect(startEnv()).toMatchObject({ [BUILD_ENV.CACHE]: 'true', [BUILD_ENV.CACHE_FROM]: `${URI}:fp-newest`, [BUILD_ENV.CACHE_TAG]: `cache-arm64-${FINGERPRINT}` });
  });

  test('with the cache on, reads the newest build cache of its own architecture first, then the newest fingerprint image, and writes a cache tag of its own', async () => {
    // GIVEN: caches of both architectures; the newest image is an amd64 cache, which an arm64 build does not read
    ecr.on(DescribeImagesCommand, { filter: { tagStatus: 'TAGGED' } }).resolves({
      imageDetails: [
        { imageDigest: 'sha256:1', imageTags: [`cache-arm64-${'1'.repeat(64)}`], imagePushedAt: new Date('2024-01-01') },
        { imageDigest: 'sha256:2', imageTags: [`cache-arm64-${'2'.repeat(64)}`], imagePushedAt: new Date('2024-02-01') },
        { imageDigest: 'sha256:3', imageTags: [`cache-amd64-${'3'.repeat(64)}`], imagePushedAt: new Date('2024-04-01') },
        { imageDigest: 'sha256:4', imageTags: ['fp-newest'], imagePushedAt: new Date('2024-03-01') },
      ],
    });
    // WHEN
    await containerBuild.start(job({ Cache: 'true' }), ATTEMPT);
    // THEN
    expect(startEnv()).toMatchObject({
      [BUILD_ENV.CACHE_FROM]: `${URI}:cache-arm64-${'2'.repeat(64)} ${URI}:fp-newest`,
      [BUILD_ENV.CACHE_TAG]: `cache-arm64-${FINGERPRINT}`,
    });
  });

  test('with the cache on, a repository that cannot be listed builds without a cache image', async () => {
    // GIVEN
    ecr.on(DescribeImagesCommand, { filter: { tagStatus: 'TAGGED' } }).rejects(awsError('AccessDeniedException', 'not authorized', 403));
    // WHEN
    await containerBuild.start(job({ Cache: 'true' }), ATTEMPT);
    // THEN
    expect(startEnv()).toMatchObject({ [BUILD_ENV.CACHE]: 'true', [BUILD_ENV.CACHE_FROM]: '' });
  });

  test.each(['4', '2.5', 'thirty'])('a TimeoutMinutes of %s is a JobFailure before any build', async (value) => {
    // WHEN / THEN
    expect(await jobFailure(containerBuild.start(job({ TimeoutMinutes: value }), ATTEMPT))).toMatch(`App/Image: TimeoutMinutes '${value}' is not a whole number of minutes of at least 5.`);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test('BuildArgs that are not JSON are a JobFailure before any build', async () => {
    // WHEN / THEN
    expect(await jobFailure(containerBuild.start(job({ BuildArgs: '{VERSION: 1' }), ATTEMPT))).toMatch(/^App\/Image: BuildArgs is not a JSON object: \{VERSION: 1$/);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test('a full build quota (AccountLimitExceededException) is throttled, and the reason names the quota', async () => {
    // GIVEN
    codebuild.on(StartBuildCommand).rejects(awsError('AccountLimitExceededException', 'Cannot have more than 1 builds in queue for the account'));
    // WHEN
    const started = await containerBuild.start(job(), ATTEMPT);
    // THEN
    expect(started).toEqual({ state: 'throttled', reason: expect.stringMatching(/Cannot have more than 1 builds in queue.*five times.*for BUILD_GENERAL1_MEDIUM in Service Quotas \(AWS CodeBuild, "Concurrently running builds for ARM\/Medium environment"\)/) });
  });

  test('other errors of StartBuild propagate', async () => {
    // GIVEN
    codebuild.on(StartBuildCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform codebuild:StartBuild', 403));
    // WHEN / THEN
    await expect(containerBuild.start(job(), ATTEMPT)).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringMatching(/not authorized/) });
  });

  test('a started build without an id is a JobFailure', async () => {
    // GIVEN
    codebuild.on(StartBuildCommand).resolves({ build: {} });
    // WHEN / THEN
    expect(await jobFailure(containerBuild.start(job(), ATTEMPT))).toMatch(/^App\/Image: CodeBuild started a build of cib-project but returned no build id/);
  });
});

describe('check', () => {
  test('a running build is pending, and ECR is not asked', async () => {
    // GIVEN
    projectBuilds(build(3, 'IN_PROGRESS'));
    // WHEN / THEN
    await expect(containerBuild.check(job(), 'cib-project:3')).resolves.toEqual({ state: 'pending', detail: 'build cib-project:3 is in phase BUILD' });
    expect(codebuild.commandCalls(BatchGetBuildsCommand)[0].args[0].input).toEqual({ ids: ['cib-project:3'] });
    expect(ecr.calls()).toHaveLength(0);
  });

  test('a succeeded build gives the digest of its tag', async () => {
    // GIVEN
    projectBuilds(build(3, 'SUCCEEDED'));
    imageFound();
    // WHEN / THEN
    await expect(containerBuild.check(job(), 'cib-project:3')).resolves.toEqual({ state: 'succeeded', data: DIGEST, summary: `Built ${URI}@${DIGEST} (CodeBuild build cib-project:3)` });
  });

  test('a build that succeeded less than 2 minutes ago without its tag is pending', async () => {
    // GIVEN
    projectBuilds(build(3, 'SUCCEEDED', { endTime: new Date(Date.now() - 100_000) }));
    imageMissing();
    // WHEN / THEN
    await expect(containerBuild.check(job(), 'cib-project:3')).resolves.toEqual({ state: 'pending', detail: 'build cib-project:3 succeeded; its image is not listed yet' });
  });

  test('a build that succeeded more than 2 minutes ago without its tag fails, with where the log is', async () => {
    // GIVEN
    projectBuilds(build(3, 'SUCCEEDED', { endTime: new Date(Date.now() - 130_000) }));
    imageMissing();
    // WHEN
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:3'));
    // THEN
    expect(reason).toContain(`App/Image: build cib-project:3 succeeded, but ${URI} has no image tagged ${TAG}.`);
    expect(reason).toContain('Full log: CloudWatch Logs group /cib/logs, stream 3 (https://console.aws.amazon.com/cloudwatch/home');
  });

  test.each(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'])('a %s build fails with its phase, context, log tail and log location', async (status) => {
    // GIVEN
    projectBuilds(failedBuild(5, status));
    imageMissing();
    logLines('#7 [2/3] RUN npm ci', '\u001b[31mnpm ERR! missing script: build\u001b[0m\u0007', 'ERROR: failed to solve: process "/bin/sh -c npm run build" did not complete successfully: exit code: 1');
    // WHEN
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:5'));
    // THEN
    expect(reason).toContain(`App/Image: image build ${status} for ${URI}:${TAG} (CodeBuild build cib-project:5).`);
    expect(reason).toContain(`Failed phase: BUILD ${status} (COMMAND_EXECUTION_ERROR: Error while executing command: docker buildx build. Reason: exit status 1)`);
    expect(reason).toContain('Full log: CloudWatch Logs group /cib/logs, stream 5 (https://console.aws.amazon.com/cloudwatch/home');
    expect(reason).toContain('npm ERR! missing script: build');
    expect(reason).toContain('did not complete successfully: exit code: 1');
    expect(reason).not.toMatch(CONTROL);
    expect(logs.commandCalls(GetLogEventsCommand)[0].args[0].input).toMatchObject({ logGroupName: '/cib/logs', logStreamName: '5', startFromHead: false });
  });

  test(`the log tail is the last ${LOG_TAIL_LINES} lines of the log`, async () => {
    // GIVEN
    projectBuilds(failedBuild(5));
    imageMissing();
    logLines(...Array.from({ length: LOG_TAIL_LINES + 20 }, (_, i) => `line-${String(i).padStart(3, '0')}`));
    // WHEN
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:5'));
    // THEN
    const tail = reason.slice(reason.indexOf('Log tail: ') + 'Log tail: '.length).split('\n');
    expect(tail[0]).toEqual('line-020');
    expect(tail[tail.length - 1]).toEqual(`line-0${LOG_TAIL_LINES + 19}`);
    expect(tail).toHaveLength(LOG_TAIL_LINES);
  });

  test('a 100 KB log with colours and control characters keeps the failure printable, bounded and its last words', async () => {
    // GIVEN: 1,000 coloured lines, then one very long last line
    projectBuilds(failedBuild(9));
    imageMissing();
    const lines = Array.from({ length: 1000 }, (_, i) => `\u001b[32mstep ${i}\u001b[0m ${'x'.repeat(80)}\u0000`);
    lines.push(`${'y'.repeat(20_000)} THE LAST WORDS`);
    expect(Buffer.byteLength(lines.join('\n'))).toBeGreaterThan(100_000);
    logLines(...lines);
    // WHEN
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:9'));
    // THEN
    expect(jsonBytes(reason)).toBeLessThanOrEqual(MAX_SIGNAL_REASON_BYTES);
    expect(reason).toMatch(/THE LAST WORDS$/);
    expect(reason).toContain('Failed phase: BUILD FAILED (COMMAND_EXECUTION_ERROR');
    expect(reason).toContain('Full log: CloudWatch Logs group /cib/logs, stream 9');
    expect(reason).not.toMatch(CONTROL);
  });

  test('a 100 KB log full of quotes and backslashes stays within the budget once JSON-encoded', async () => {
    // GIVEN: JSON log lines and Windows paths, which JSON-encoding doubles
    projectBuilds(failedBuild(9));
    imageMissing();
    const lines = Array.from({ length: 1500 }, (_, i) => `{"level":"error","msg":"\\\\server\\share\\${i}","q":"""""""""""""""""""""""""""""""""""""}\t\t"`);
    expect(Buffer.byteLength(lines.join('\n'))).toBeGreaterThan(100_000);
    logLines(...lines);
    // WHEN
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:9'));
    // THEN
    expect(jsonBytes(reason)).toBeLessThanOrEqual(MAX_SIGNAL_REASON_BYTES);
    expect(jsonBytes(reason)).toBeGreaterThan(Buffer.byteLength(reason, 'utf8'));
    expect(reason).toContain('Failed phase: BUILD FAILED');
    expect(reason).toContain('Full log: CloudWatch Logs group /cib/logs, stream 9');
    expect(reason).toContain('\\\\server\\share\\1499');
  });

  test('a failed build whose image another build pushed under the tag succeeds, without reading the log', async () => {
    // GIVEN: another stack's build of the same fingerprint pushed the immutable tag first
    projectBuilds(failedBuild(5));
    imageFound();
    // WHEN
    const outcome = await containerBuild.check(job(), 'cib-project:5');
    // THEN
    expect(outcome).toEqual({ state: 'succeeded', data: DIGEST, summary: `${URI}@${DIGEST} was pushed by another build of the same fingerprint` });
    expect(logs.calls()).toHaveLength(0);
  });

  test('a failed build that wrote no log fails readably and names the build', async () => {
    // GIVEN
    const phases: BuildPhase[] = [{ phaseType: 'PROVISIONING', phaseStatus: 'FAULT', contexts: [{ statusCode: 'ACCESS_DENIED', message: 'Service role cannot pull image' }] }];
    projectBuilds(build(5, 'FAULT', { logs: undefined, phases }));
    imageMissing();
    // WHEN
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:5'));
    // THEN
    expect(reason).toMatch(/Failed phase: PROVISIONING FAULT \(ACCESS_DENIED: Service role cannot pull image\)\nFull log: CodeBuild build cib-project:5\nLog tail: \(the build wrote no log\)$/);
    expect(logs.calls()).toHaveLength(0);
  });

  test('a log that cannot be read still gives a readable failure', async () => {
    // GIVEN
    projectBuilds(failedBuild(5));
    imageMissing();
    logs.on(GetLogEventsCommand).rejects(awsError('ResourceNotFoundException', 'The specified log stream does not exist.'));
    // WHEN
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:5'));
    // THEN
    expect(reason).toContain('Failed phase: BUILD FAILED');
    expect(reason).toContain('Log tail: (could not read the log: ResourceNotFoundException: The specified log stream does not exist.)');
  });

  test('a build that no longer exists fails', async () => {
    // GIVEN
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [], buildsNotFound: ['cib-project:3'] });
    // WHEN / THEN
    await expect(containerBuild.check(job(), 'cib-project:3')).resolves.toEqual({ state: 'failed', reason: 'App/Image: CodeBuild build cib-project:3 no longer exists.' });
  });
});

describe('cancel', () => {
  test('stops the build, and deletes no image', async () => {
    // GIVEN
    codebuild.on(StopBuildCommand).resolves({});
    // WHEN
    await containerBuild.cancel(job(), 'cib-project:3');
    // THEN
    expect(codebuild.commandCalls(StopBuildCommand).map((c) => c.args[0].input)).toEqual([{ id: 'cib-project:3' }]);
    expect(ecr.calls()).toHaveLength(0);
  });

  test.each([
    ['already complete', awsError('InvalidInputException', 'Build cib-project:3 is already complete')],
    ['gone', awsError('ResourceNotFoundException', 'Build not found')],
  ])('a build that is %s needs no stopping', async (_name, error) => {
    // GIVEN
    codebuild.on(StopBuildCommand).rejects(error);
    // WHEN / THEN
    await expect(containerBuild.cancel(job(), 'cib-project:3')).resolves.toBeUndefined();
  });

  test('other errors of StopBuild propagate', async () => {
    // GIVEN
    codebuild.on(StopBuildCommand).rejects(awsError('InvalidInputException', 'Invalid build id'));
    // WHEN / THEN
    await expect(containerBuild.cancel(job(), 'cib-project:3')).rejects.toThrow('Invalid build id');
  });
});

describe('throttling and transient faults propagate, for the runtime to retry', () => {
  test.each<[string, () => void, () => Promise<unknown>]>([
    ['find: ECR DescribeImages', () => ecr.on(DescribeImagesCommand).rejects(throttling()), () => containerBuild.find(job())],
    ['find: ECR DescribeRepositories', () => ecr.on(DescribeRepositoriesCommand).rejects(throttling()), () => containerBuild.find(job({ RequireImmutableTags: 'true' }))],
    ['start: CodeBuild ListBuildsForProject', () => codebuild.on(ListBuildsForProjectCommand).rejects(throttling()), () => containerBuild.start(job(), ATTEMPT)],
    ['start: CodeBuild BatchGetBuilds', () => codebuild.on(ListBuildsForProjectCommand).resolves({ ids: ['cib-project:1'] }).on(BatchGetBuildsCommand).rejects(throttling()), () => containerBuild.start(job(), ATTEMPT)],
    ['start: CodeBuild StartBuild', () => (projectBuilds(), codebuild.on(StartBuildCommand).rejects(throttling())), () => containerBuild.start(job(), ATTEMPT)],
    ['check: CodeBuild BatchGetBuilds', () => codebuild.on(BatchGetBuildsCommand).rejects(throttling()), () => containerBuild.check(job(), 'cib-project:1')],
    ['check: ECR DescribeImages of a succeeded build', () => (projectBuilds(build(1, 'SUCCEEDED')), ecr.on(DescribeImagesCommand).rejects(throttling())), () => containerBuild.check(job(), 'cib-project:1')],
    ['check: CloudWatch Logs GetLogEvents of a failed build', () => (projectBuilds(failedBuild(1)), imageMissing(), logs.on(GetLogEventsCommand).rejects(throttling())), () => containerBuild.check(job(), 'cib-project:1')],
    ['cancel: CodeBuild StopBuild', () => codebuild.on(StopBuildCommand).rejects(throttling()), () => containerBuild.cancel(job(), 'cib-project:1')],
  ])('%s', async (_name, arrange, act) => {
    // GIVEN
    arrange();
    // WHEN / THEN
    await expect(act()).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  test('a 503 from a service propagates as it is', async () => {
    // GIVEN
    ecr.on(DescribeImagesCommand).rejects(awsError('Unknown', 'unavailable', 503));
    // WHEN / THEN
    await expect(containerBuild.find(job())).rejects.toMatchObject({ name: 'Unknown', $metadata: { httpStatusCode: 503 } });
  });
});

describe('repository URIs', () => {
  test('give the registry, region and name, also in China and FIPS endpoints', () => {
    expect(parseRepositoryUri(URI)).toEqual({ registryId: '123456789012', region: 'eu-west-1', name: 'app-images' });
    expect(parseRepositoryUri('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/app')).toEqual({ registryId: '123456789012', region: 'cn-north-1', name: 'team/app' });
    expect(parseRepositoryUri('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app').region).toEqual('us-east-1');
    expect(() => parseRepositoryUri('docker.io/library/nginx')).toThrow(/not an ECR repository URI/);
  });
});

describe('idempotency and in-progress states (issue 17)', () => {
  test('each attempt has its own idempotency token and marker, and a replay of one sends the same token', async () => {
    // GIVEN a project in which no build carries either attempt's marker (past CodeBuild's five minutes)
    projectBuilds();
    startsBuild(1);
    const second = { id: 'fedcba9876543210' };
    // WHEN two attempts start, and the first is replayed
    await containerBuild.start(job(), ATTEMPT);
    await containerBuild.start(job(), second);
    await containerBuild.start(job(), ATTEMPT);
    // THEN
    const inputs = codebuild.commandCalls(StartBuildCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.idempotencyToken)).toEqual([ATTEMPT.id, second.id, ATTEMPT.id]);
    const markers = inputs.map((i) => i.environmentVariablesOverride!.find((v) => v.name === BUILD_ENV.ATTEMPT)?.value);
    expect(markers).toEqual([ATTEMPT.id, second.id, ATTEMPT.id]);
  });

  test('a build CodeBuild describes without a status yet is still in progress, not failed', async () => {
    projectBuilds(build(3, undefined as any, { currentPhase: 'PROVISIONING' }));
    await expect(containerBuild.check(job(), 'cib-project:3')).resolves.toEqual({ state: 'pending', detail: 'build cib-project:3 is in phase PROVISIONING' });
  });

  test('a build waiting in CodeBuild\'s queue (every concurrent build of its compute type busy) is pending, and says for which quota', async () => {
    // GIVEN: StartBuild succeeded; the build is IN_PROGRESS in phase QUEUED
    projectBuilds(build(3, 'IN_PROGRESS', { currentPhase: 'QUEUED' }));
    // WHEN / THEN
    await expect(containerBuild.check(job(), 'cib-project:3')).resolves.toEqual({
      state: 'pending',
      detail: 'build cib-project:3 is in phase QUEUED: it waits in CodeBuild\'s queue for a free build of ARM/Medium',
    });
    await expect(containerBuild.check(job({ Platform: 'linux/amd64', ComputeType: '' }), 'cib-project:3')).resolves.toMatchObject({ detail: expect.stringMatching(/free build of Linux\/Small$/) });
  });

  test.each([
    ['TIMED_OUT in phase QUEUED', [{ phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED' }, { phaseType: 'QUEUED', phaseStatus: 'TIMED_OUT' }, { phaseType: 'COMPLETED' }]],
    ['no phase after QUEUED', [{ phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED' }, { phaseType: 'QUEUED' }]],
  ])('a build removed from CodeBuild\'s queue (%s) fails naming the concurrency quota, not as a broken build', async (_case, phases) => {
    // GIVEN
    projectBuilds(build(5, 'TIMED_OUT', { phases: phases as BuildPhase[], queuedTimeoutInMinutes: 480, logs: undefined }));
    imageMissing();
    // WHEN
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:5'));
    // THEN
    expect(reason).toMatch(/^App\/Image: image build cib-project:5 waited 480 minutes in CodeBuild's queue without starting, and CodeBuild removed it \(TIMED_OUT\)\./);
    expect(reason).toMatch(/Service Quotas \(AWS CodeBuild, "Concurrently running builds for ARM\/Medium environment"; new accounts may have 1\)/);
    expect(reason).not.toMatch(/Log tail/);
    expect(logs.commandCalls(GetLogEventsCommand)).toHaveLength(0);
  });

  test('a build that left the queue and failed later is a broken build: its phase and log tail, no word of the quota', async () => {
    const phases: BuildPhase[] = [{ phaseType: 'QUEUED', phaseStatus: 'SUCCEEDED' }, { phaseType: 'PROVISIONING', phaseStatus: 'SUCCEEDED' }, { phaseType: 'BUILD', phaseStatus: 'FAILED' }];
    projectBuilds(build(6, 'FAILED', { phases }));
    imageMissing();
    logLines('error: step 3 failed');
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:6'));
    expect(reason).toMatch(/Failed phase: BUILD FAILED/);
    expect(reason).not.toMatch(/quota/i);
  });

  test.each(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'])('a build that ended %s without its image fails', async (status) => {
    projectBuilds(failedBuild(4, status));
    imageMissing();
    logLines('error: step 3 failed');
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:4'));
    expect(reason).toContain(`image build ${status} for ${URI}:${TAG}`);
  });
});

describe('destroy (removal policy DESTROY, on the stack\'s deletion)', () => {
  let { retry, retried: tries } = throttlingRetry();
  beforeEach(() => {
    ({ retry, retried: tries } = throttlingRetry());
  });
  const sdk = (name: string) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: 400 } });

  test('deletes the repository the construct created with every image in it (force), in the repository\'s own registry', async () => {
    ecr.on(DeleteRepositoryCommand).resolves({});
    const result = await containerBuild.destroy!(job({ RemovalPolicy: 'destroy' }), retry, STACK);
    expect(ecr.commandCalls(DeleteRepositoryCommand).map((c) => c.args[0].input)).toEqual([{ registryId: '123456789012', repositoryName: 'app-images', force: true }]);
    expect(result).toEqual({ deleted: ['repository app-images (eu-west-1) and its images'], left: [] });
  });

  test('throttling goes through the retry it is given', async () => {
    ecr.on(DeleteRepositoryCommand).rejectsOnce(sdk('ThrottlingException')).resolves({});
    const result = await containerBuild.destroy!(job({ RemovalPolicy: 'destroy' }), retry, STACK);
    expect(tries).toEqual(['ThrottlingException']);
    expect(result.left).toEqual([]);
  });

  test('a repository that is already gone is done, not left', async () => {
    ecr.on(DeleteRepositoryCommand).rejects(sdk('RepositoryNotFoundException'));
    expect(await containerBuild.destroy!(job({ RemovalPolicy: 'destroy' }), retry, STACK)).toEqual({ deleted: [], left: [] });
  });

  test('a refusal is left and named, never thrown: the stack deletion goes on', async () => {
    ecr.on(DeleteRepositoryCommand).rejects(sdk('AccessDeniedException'));
    const result = await containerBuild.destroy!(job({ RemovalPolicy: 'destroy' }), retry, STACK);
    expect(result.left).toEqual([expect.stringMatching(/^repository app-images \(eu-west-1\) and its images: .*AccessDeniedException/)]);
  });
});

describe('what AWS may leave out, and edges (mutation testing, issue 17)', () => {
  test('with the cache off, the repository is not listed for a cache image', async () => {
    projectBuilds();
    startsBuild(1);
    await containerBuild.start(job({ Cache: 'false' }), ATTEMPT);
    // Only the fingerprint tag is looked up (it does not exist; then among archived and restoring images): no listing for a cache image.
    expect(ecr.calls().map((c) => c.args[0].input)).toEqual([
      expect.objectContaining(BY_TAG),
      expect.objectContaining({ filter: { tagStatus: 'TAGGED', imageStatus: 'ARCHIVED' } }),
      expect.objectContaining({ filter: { tagStatus: 'TAGGED', imageStatus: 'ACTIVATING' } }),
    ]);
    expect(startEnv()[BUILD_ENV.CACHE_FROM]).toEqual('');
    expect(startEnv()[BUILD_ENV.CACHE_TAG]).toEqual('');
  });

  test('a spec without a target, pull registries or timeouts passes them empty and overrides no timeout', async () => {
    projectBuilds();
    startsBuild(1);
    const { Target: _t, PullRegistries: _p, TimeoutMinutes: _m, QueuedTimeoutMinutes: _q, ...rest } = SPEC;
    await containerBuild.start({ ...job(), spec: rest as ContainerBuildSpec }, ATTEMPT);
    expect(startEnv()).toMatchObject({ [BUILD_ENV.TARGET]: '', [BUILD_ENV.PULL_REGISTRIES]: '' });
    expect([startInput().timeoutInMinutesOverride, startInput().queuedTimeoutInMinutesOverride]).toEqual([undefined, undefined]);
  });

  // StartBuild takes timeouts from 5 minutes (docs/aws-behaviour.md #81).
  test('5 minutes is the shortest timeout CodeBuild takes; a queued timeout below it names its own setting', async () => {
    projectBuilds();
    startsBuild(1);
    await containerBuild.start(job({ TimeoutMinutes: '5', QueuedTimeoutMinutes: '5' }), ATTEMPT);
    expect([startInput().timeoutInMinutesOverride, startInput().queuedTimeoutInMinutesOverride]).toEqual([5, 5]);
    codebuild.resetHistory();
    expect(await jobFailure(containerBuild.start(job({ QueuedTimeoutMinutes: '3' }), ATTEMPT))).toMatch("App/Image: QueuedTimeoutMinutes '3' is not a whole number");
  });

  test('a StartBuild answer without a build is a JobFailure', async () => {
    projectBuilds();
    codebuild.on(StartBuildCommand).resolves({});
    expect(await jobFailure(containerBuild.start(job(), ATTEMPT))).toMatch(/returned no build id/);
  });

  test('a full build quota without a compute type names the project\'s compute type', async () => {
    projectBuilds();
    codebuild.on(StartBuildCommand).rejects(awsError('AccountLimitExceededException', 'Cannot have more than 1 builds in queue'));
    const started = await containerBuild.start(job({ ComputeType: '' }), ATTEMPT);
    expect(started).toEqual({ state: 'throttled', reason: expect.stringContaining('quota for the project\'s compute type in Service Quotas') });
  });

  // BatchGetBuilds takes 1 to 100 ids (docs/aws-behaviour.md #82): a project without builds is not described.
  test('a project without builds (no ids at all, or none) starts a build without describing any', async () => {
    codebuild.on(ListBuildsForProjectCommand).resolves({});
    startsBuild(1);
    await expect(containerBuild.start(job(), ATTEMPT)).resolves.toEqual({ state: 'started', ref: 'cib-project:1' });
    codebuild.on(ListBuildsForProjectCommand).resolves({ ids: [] });
    await expect(containerBuild.start(job(), ATTEMPT)).resolves.toEqual({ state: 'started', ref: 'cib-project:1' });
    expect(codebuild.commandCalls(BatchGetBuildsCommand)).toHaveLength(0);
  });

  test('builds without environment variables (started by hand) are passed over, not fatal', async () => {
    const bare = (n: number, environment: Build['environment']): Build => ({ id: `cib-project:${n}`, buildStatus: 'SUCCEEDED', environment });
    projectBuilds(bare(4, undefined), bare(3, {} as Build['environment']), bare(2, { environmentVariables: [{ name: 'OTHER', value: 'x' }] } as Build['environment']));
    startsBuild(5);
    await expect(containerBuild.start(job(), ATTEMPT)).resolves.toEqual({ state: 'started', ref: 'cib-project:5' });
  });

  test('a BatchGetBuilds answer without builds: the build no longer exists', async () => {
    codebuild.on(BatchGetBuildsCommand).resolves({});
    await expect(containerBuild.check(job(), 'cib-project:3')).resolves.toEqual({ state: 'failed', reason: 'App/Image: CodeBuild build cib-project:3 no longer exists.' });
  });

  test('a succeeded build without its tag: pending for 2 minutes after its end, failed from then on, and at once without an end time', async () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    jest.spyOn(Date, 'now').mockReturnValue(now);
    imageMissing();
    projectBuilds(build(3, 'SUCCEEDED', { endTime: new Date(now - 119_999) }));
    expect((await containerBuild.check(job(), 'cib-project:3')).state).toBe('pending');
    projectBuilds(build(3, 'SUCCEEDED', { endTime: new Date(now - 120_000) }));
    expect((await containerBuild.check(job(), 'cib-project:3')).state).toBe('failed');
    projectBuilds(build(3, 'SUCCEEDED', { endTime: undefined }));
    expect((await containerBuild.check(job(), 'cib-project:3')).state).toBe('failed');
  });

  test('a status CodeBuild may add later fails as unknown, naming it and the log, even when the tag exists', async () => {
    projectBuilds(build(3, 'PAUSED'));
    imageFound();
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:3'));
    expect(reason).toMatch(/^App\/Image: build cib-project:3 ended with an unknown status PAUSED\.\nFull log: CloudWatch Logs group \/cib\/logs, stream 3 \(https:/);
    expect(logs.calls()).toHaveLength(0);
  });

  test('the failed phase is the first that did not succeed, although later phases (POST_BUILD, FINALIZING) did', async () => {
    const phases: BuildPhase[] = [
      { phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED' },
      { phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'exit status 1' }, { message: 'docker buildx build' }, {}] },
      { phaseType: 'POST_BUILD', phaseStatus: 'SUCCEEDED', contexts: [{ statusCode: '', message: '' }] },
      { phaseType: 'UPLOAD_ARTIFACTS', phaseStatus: 'SUCCEEDED' },
      { phaseType: 'FINALIZING', phaseStatus: 'SUCCEEDED' },
      { phaseType: 'COMPLETED' },
    ];
    projectBuilds(build(5, 'FAILED', { phases }));
    imageMissing();
    logLines('x');
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:5'));
    expect(reason).toContain('\nFailed phase: BUILD FAILED (COMMAND_EXECUTION_ERROR: exit status 1; docker buildx build)\n');
  });

  test('when no phase failed, the last phase with a status is named, without contexts; without phases none is', async () => {
    const phases: BuildPhase[] = [
      { phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED' },
      { phaseType: 'PROVISIONING', phaseStatus: 'SUCCEEDED', contexts: [] },
      { phaseType: 'COMPLETED' },
    ];
    projectBuilds(build(5, 'STOPPED', { phases }));
    imageMissing();
    logLines('x');
    expect(await failureReason(containerBuild.check(job(), 'cib-project:5'))).toContain('\nFailed phase: PROVISIONING SUCCEEDED\n');
    projectBuilds(build(6, 'STOPPED', { phases: undefined }));
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:6'));
    expect(reason).not.toContain('Failed phase');
    expect(reason).toContain('Full log: CloudWatch Logs group /cib/logs, stream 6');
  });

  test('a log group without a stream is no log: nothing is read, and the build is where the log is', async () => {
    projectBuilds(failedBuild(5, 'FAILED', { logs: { groupName: '/cib/logs' } }));
    imageMissing();
    const reason = await failureReason(containerBuild.check(job(), 'cib-project:5'));
    expect(reason).toContain('Full log: CodeBuild build cib-project:5\nLog tail: (the build wrote no log)');
    expect(logs.calls()).toHaveLength(0);
  });

  test('log events are lines of their own, events without a message add nothing, and an empty log says so', async () => {
    projectBuilds(failedBuild(5));
    imageMissing();
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: 'first' }, {}, { message: 'second' }] });
    expect(await failureReason(containerBuild.check(job(), 'cib-project:5'))).toMatch(/Log tail: first\nsecond$/);
    logs.on(GetLogEventsCommand).resolves({ events: [] });
    expect(await failureReason(containerBuild.check(job(), 'cib-project:5'))).toMatch(/Log tail: \(the log is empty\)$/);
    logs.on(GetLogEventsCommand).resolves({});
    expect(await failureReason(containerBuild.check(job(), 'cib-project:5'))).toMatch(/Log tail: \(the log is empty\)$/);
  });

  test('an ECR answer without image details reuses nothing', async () => {
    ecr.on(DescribeImagesCommand, BY_TAG).resolves({});
    await expect(containerBuild.find(job())).resolves.toBeUndefined();
    ecr.on(DescribeImagesCommand, BY_TAG).resolves({ imageDetails: [] });
    await expect(containerBuild.find(job())).resolves.toBeUndefined();
  });

  test('the cache image is the newest with a fingerprint tag among its tags; images without a push time count as oldest', async () => {
    projectBuilds();
    startsBuild(1);
    ecr.on(DescribeImagesCommand, { filter: { tagStatus: 'TAGGED' } }).resolves({
      imageDetails: [
        { imageDigest: 'sha256:0', imageTags: ['fp-undated'] },
        { imageDigest: 'sha256:1', imageTags: ['fp-older'], imagePushedAt: new Date('2024-01-01') },
        { imageDigest: 'sha256:2', imageTags: ['v2', 'fp-newest'], imagePushedAt: new Date('2024-02-01') },
        { imageDigest: 'sha256:3', imageTags: ['fp-undated-2'] },
      ],
    });
    await containerBuild.start(job({ Cache: 'true' }), ATTEMPT);
    expect(startEnv()[BUILD_ENV.CACHE_FROM]).toEqual(`${URI}:fp-newest`);
  });

  test('a cache image that cannot be listed is logged with why, and the build goes on without it', async () => {
    projectBuilds();
    startsBuild(1);
    ecr.on(DescribeImagesCommand, { filter: { tagStatus: 'TAGGED' } }).rejects(awsError('AccessDeniedException', 'not authorized to perform ecr:DescribeImages', 403));
    await containerBuild.start(job({ Cache: 'true' }), ATTEMPT);
    expect((console.log as jest.Mock).mock.calls.map((c) => c.join(' '))).toContainEqual(expect.stringMatching(/^No cache image: AccessDeniedException: not authorized/));
  });

  test('with requireImmutableTags, a repository ECR does not describe counts as mutable (ECR\'s default)', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({});
    imageFound();
    expect(await jobFailure(containerBuild.find(job({ RequireImmutableTags: 'true' })))).toMatch(/repository app-images has MUTABLE tags, under which fp-a+ can be moved/);
  });

  test('ECR is asked in the repository\'s own region, by one client per region', async () => {
    imageFound();
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST }] });
    await containerBuild.find(job({ RepositoryUri: '123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/app-images' }));
    await containerBuild.find(job({ RepositoryUri: '123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/other' }));
    const clients = ecr.commandCalls(DescribeImagesCommand).map((c) => c.thisValue as ECRClient);
    expect(await clients[0].config.region()).toEqual('ap-southeast-2');
    expect(clients[1]).toBe(clients[0]);
  });

  test('a URI with anything before the account or after the name is not an ECR repository', () => {
    expect(() => parseRepositoryUri(`evil.example.com/${URI}`)).toThrow(/not an ECR repository URI/);
    expect(() => parseRepositoryUri(`${URI}\nextra`)).toThrow(/not an ECR repository URI/);
  });

  test('a StopBuild error of another kind that mentions completion propagates, to be retried', async () => {
    codebuild.on(StopBuildCommand).rejects(awsError('ServiceUnavailableException', 'The request could not be completed', 503));
    await expect(containerBuild.cancel(job(), 'cib-project:3')).rejects.toMatchObject({ name: 'ServiceUnavailableException' });
  });
});

describe('destroy: what a refusal reports (mutation testing of the removal policy)', () => {
  test('a refused deletion deleted nothing: the repository is only left, with the whole reason', async () => {
    const { retry } = throttlingRetry();
    ecr.on(DeleteRepositoryCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    expect(await containerBuild.destroy!(job({ RemovalPolicy: 'destroy' }), retry, STACK)).toEqual({
      deleted: [],
      left: ['repository app-images (eu-west-1) and its images: AccessDeniedException: not authorized'],
    });
  });
});
