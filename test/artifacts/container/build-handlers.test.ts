import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand,
  Build,
  CodeBuildClient,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  StartBuildCommandInput,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { DEADLINE_MARGIN_MS, handler as isComplete, parseRepositoryUri } from '../../../src/artifacts/container/build-status.singleton-lambda';
import { handler as onEvent } from '../../../src/artifacts/container/build.singleton-lambda';
import { BUILD_ENV, buildSpecObject } from '../../../src/artifacts/container/buildspec';
import type { BuildEvent, BuildResourceProperties } from '../../../src/artifacts/container/types';
import { jsonBytes, MAX_REASON_BYTES } from '../../../src/internal/failure';

const codebuild = mockClient(CodeBuildClient);
const ecr = mockClient(ECRClient);
const logs = mockClient(CloudWatchLogsClient);

const URI = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app-images';
const TAG = `fp-${'a'.repeat(64)}`;
const DIGEST = `sha256:${'d'.repeat(64)}`;

const PROPS: BuildResourceProperties = {
  ProjectName: 'cib-project',
  RepositoryUri: URI,
  ImageTag: TAG,
  Fingerprint: 'a'.repeat(64),
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
};

function event(requestType: 'Create' | 'Update' | 'Delete', props: Partial<BuildResourceProperties> = {}, requestId = 'request-1'): BuildEvent {
  return {
    RequestType: requestType,
    RequestId: requestId,
    LogicalResourceId: 'ImageBuild',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/app/1',
    PhysicalResourceId: requestType === 'Create' ? undefined : `${URI}:${TAG}`,
    ResourceProperties: { ...PROPS, ...props },
  };
}

function build(id: string, status: string, env: Record<string, string>, extra: Partial<Build> = {}): Build {
  return {
    id,
    buildStatus: status as Build['buildStatus'],
    currentPhase: status === 'IN_PROGRESS' ? 'BUILD' : 'COMPLETED',
    environment: {
      type: 'ARM_CONTAINER',
      image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0',
      computeType: 'BUILD_GENERAL1_SMALL',
      environmentVariables: Object.entries(env).map(([name, value]) => ({ name, value, type: 'PLAINTEXT' })),
    },
    logs: { groupName: '/cib/logs', streamName: id.split(':')[1], deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=/cib/logs;stream=${id.split(':')[1]}` },
    ...extra,
  };
}

function mine(requestId = 'request-1'): Record<string, string> {
  return { [BUILD_ENV.IMAGE_URI]: URI, [BUILD_ENV.IMAGE_TAG]: TAG, [BUILD_ENV.REQUEST]: requestId };
}

/** CodeBuild that remembers the builds it started, newest first, as the real one lists them. */
function fakeCodeBuild(existing: Build[] = []): Build[] {
  const builds = [...existing];
  codebuild.on(ListBuildsForProjectCommand).callsFake(async () => ({ ids: builds.map((b) => b.id!) }));
  codebuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => ({ builds: builds.filter((b) => input.ids.includes(b.id!)) }));
  codebuild.on(StartBuildCommand).callsFake(async (input: StartBuildCommandInput) => {
    const started = build(`cib-project:${builds.length + 1}`, 'IN_PROGRESS', Object.fromEntries(input.environmentVariablesOverride!.map((v) => [v.name!, v.value!])));
    builds.unshift(started);
    return { build: started };
  });
  return builds;
}

function throttling(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
}

function notFound(name: string, message = 'not found'): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

function imageMissing() {
  ecr.on(DescribeImagesCommand, { imageIds: [{ imageTag: TAG }] }).rejects(notFound('ImageNotFoundException'));
}

beforeEach(() => {
  codebuild.reset();
  ecr.reset();
  logs.reset();
  jest.spyOn(console, 'log').mockImplementation(() => {});
});

afterEach(() => jest.restoreAllMocks());

describe('onEvent', () => {
  test('names the resource after the image it stands for', async () => {
    await expect(onEvent(event('Create'))).resolves.toEqual({ PhysicalResourceId: `${URI}:${TAG}` });
    await expect(onEvent(event('Update', { ImageTag: 'fp-new' }))).resolves.toEqual({ PhysicalResourceId: `${URI}:fp-new` });
  });

  test('keeps the physical id on delete, and calls no AWS API', async () => {
    await expect(onEvent(event('Delete'))).resolves.toEqual({ PhysicalResourceId: `${URI}:${TAG}` });
    expect(codebuild.calls()).toHaveLength(0);
    expect(ecr.calls()).toHaveLength(0);
  });

  test('refuses properties that the construct always sets', async () => {
    await expect(onEvent(event('Create', { RepositoryUri: '' }))).rejects.toThrow(/no RepositoryUri/);
  });
});

describe('isComplete: create and update', () => {
  test('reuses an image whose fingerprint tag exists: completes at once and starts no build', async () => {
    // GIVEN
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: [TAG] }] });
    fakeCodeBuild();

    // WHEN
    const result = await isComplete(event('Create'));

    // THEN
    expect(result).toEqual({ IsComplete: true, Data: { ImageDigest: DIGEST, Reused: 'true', BuildId: '' } });
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
    expect(ecr.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({
      registryId: '123456789012',
      repositoryName: 'app-images',
      imageIds: [{ imageTag: TAG }],
    });
  });

  test('starts one build with the context, settings and request marker, and is not complete yet', async () => {
    // GIVEN
    imageMissing();
    fakeCodeBuild();

    // WHEN
    const result = await isComplete(event('Create'));

    // THEN
    expect(result).toEqual({ IsComplete: false });
    const starts = codebuild.commandCalls(StartBuildCommand);
    expect(starts).toHaveLength(1);
    const input = starts[0].args[0].input;
    expect(input).toMatchObject({
      projectName: 'cib-project',
      sourceTypeOverride: 'S3',
      sourceLocationOverride: 'cdk-hnb659fds-assets-123456789012-eu-west-1/context.zip',
      computeTypeOverride: 'BUILD_GENERAL1_MEDIUM',
      timeoutInMinutesOverride: 30,
      queuedTimeoutInMinutesOverride: 25,
    });
    expect(JSON.parse(input.buildspecOverride!)).toEqual(buildSpecObject());
    expect(input.idempotencyToken).toMatch(/^[0-9a-f]{32}$/);
    const env = Object.fromEntries(input.environmentVariablesOverride!.map((v) => [v.name, v.value]));
    expect(env).toEqual({
      [BUILD_ENV.IMAGE_URI]: URI,
      [BUILD_ENV.IMAGE_TAG]: TAG,
      [BUILD_ENV.REGISTRY_REGION]: 'eu-west-1',
      [BUILD_ENV.DOCKERFILE]: 'docker/Dockerfile',
      [BUILD_ENV.TARGET]: 'runtime',
      [BUILD_ENV.PLATFORM]: 'linux/arm64',
      [BUILD_ENV.CACHE]: 'false',
      [BUILD_ENV.CACHE_FROM]: '',
      [BUILD_ENV.FINGERPRINT]: 'a'.repeat(64),
      [BUILD_ENV.REQUEST]: 'request-1',
      [BUILD_ENV.BUILD_ARG_COUNT]: '2',
      [`${BUILD_ENV.BUILD_ARG_PREFIX}0`]: 'A_FIRST=x=y',
      [`${BUILD_ENV.BUILD_ARG_PREFIX}1`]: 'VERSION=1.2.3',
    });
  });

  test('with the cache on, builds from the newest fingerprint image of the repository', async () => {
    // GIVEN
    imageMissing();
    ecr.on(DescribeImagesCommand, { filter: { tagStatus: 'TAGGED' } }).resolves({
      imageDetails: [
        { imageDigest: 'sha256:1', imageTags: ['fp-older'], imagePushedAt: new Date('2024-01-01') },
        { imageDigest: 'sha256:2', imageTags: ['latest-by-hand'], imagePushedAt: new Date('2024-03-01') },
        { imageDigest: 'sha256:3', imageTags: ['fp-newest'], imagePushedAt: new Date('2024-02-01') },
      ],
    });
    fakeCodeBuild();

    // WHEN
    await isComplete(event('Create', { Cache: 'true' }));

    // THEN
    const overrides = codebuild.commandCalls(StartBuildCommand)[0].args[0].input.environmentVariablesOverride!;
    const env = Object.fromEntries(overrides.map((v) => [v.name, v.value]));
    expect(env[BUILD_ENV.CACHE]).toEqual('true');
    expect(env[BUILD_ENV.CACHE_FROM]).toEqual(`${URI}:fp-newest`);
  });

  test('a build timeout from a parameter that the wait cannot hold fails before any build', async () => {
    imageMissing();
    fakeCodeBuild();
    await expect(isComplete(event('Create', { TimeoutMinutes: '120', QueuedTimeoutMinutes: '5' }))).rejects.toThrow(
      /TimeoutMinutes \(120\) and QueuedTimeoutMinutes \(5\) add up to more than 55 minutes.*at most 50 minutes/,
    );
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test('a replayed request never starts a second build', async () => {
    // GIVEN
    imageMissing();
    fakeCodeBuild();

    // WHEN: the same request is polled, retried and replayed
    for (let i = 0; i < 4; i++) {
      await expect(isComplete(event('Create'))).resolves.toEqual({ IsComplete: false });
    }

    // THEN
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(1);
  });

  test('follows a build of the same image that another request started, rather than racing it', async () => {
    imageMissing();
    fakeCodeBuild([build('cib-project:7', 'IN_PROGRESS', mine('another-request'))]);

    await expect(isComplete(event('Update'))).resolves.toEqual({ IsComplete: false });
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test('builds again when only an earlier request\'s build of the image failed', async () => {
    imageMissing();
    fakeCodeBuild([
      build('cib-project:7', 'FAILED', mine('an-earlier-request')),
      build('cib-project:6', 'IN_PROGRESS', { [BUILD_ENV.IMAGE_URI]: URI, [BUILD_ENV.IMAGE_TAG]: 'fp-other' }),
    ]);

    await expect(isComplete(event('Update'))).resolves.toEqual({ IsComplete: false });
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(1);
  });

  test('completes with the digest once the build pushed the image', async () => {
    // GIVEN
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: [TAG] }] });
    fakeCodeBuild([build('cib-project:3', 'SUCCEEDED', mine())]);

    // THEN
    await expect(isComplete(event('Create'))).resolves.toEqual({
      IsComplete: true,
      Data: { ImageDigest: DIGEST, Reused: 'false', BuildId: 'cib-project:3' },
    });
  });

  test('a succeeded build whose image is missing is not complete for a while, then a failure', async () => {
    imageMissing();
    fakeCodeBuild([build('cib-project:3', 'SUCCEEDED', mine(), { endTime: new Date() })]);
    await expect(isComplete(event('Create'))).resolves.toEqual({ IsComplete: false });

    codebuild.reset();
    fakeCodeBuild([build('cib-project:3', 'SUCCEEDED', mine(), { endTime: new Date(Date.now() - 10 * 60_000) })]);
    await expect(isComplete(event('Create'))).rejects.toThrow(/succeeded, but .* has no image tagged/);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test.each(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'])('a %s build fails with its phase, context, log tail and log location', async (status) => {
    // GIVEN
    imageMissing();
    fakeCodeBuild([
      build('cib-project:5', status, mine(), {
        phases: [
          { phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED' },
          { phaseType: 'PRE_BUILD', phaseStatus: 'SUCCEEDED' },
          {
            phaseType: 'BUILD',
            phaseStatus: status as 'FAILED',
            contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: docker buildx build. Reason: exit status 1' }],
          },
          { phaseType: 'COMPLETED' },
        ],
      }),
    ]);
    logs.on(GetLogEventsCommand).resolves({
      events: [
        { message: '#7 [2/3] RUN npm ci\n' },
        { message: '\u001b[31mnpm ERR! missing script: build\u001b[0m\u0007\n' },
        { message: 'ERROR: failed to solve: process "/bin/sh -c npm run build" did not complete successfully: exit code: 1\n' },
      ],
    });

    // WHEN
    const error = await isComplete(event('Create')).then(
      () => undefined,
      (e: Error) => e,
    );

    // THEN
    expect(error).toBeDefined();
    const message = error!.message;
    expect(message).toContain(`Image build ${status} for ${URI}:${TAG} (CodeBuild build cib-project:5)`);
    expect(message).toContain(`Failed phase: BUILD ${status} (COMMAND_EXECUTION_ERROR: Error while executing command: docker buildx build. Reason: exit status 1)`);
    expect(message).toContain('npm ERR! missing script: build');
    expect(message).toContain('did not complete successfully: exit code: 1');
    expect(message).toContain('Full log: CloudWatch Logs group /cib/logs, stream 5 (https://console.aws.amazon.com/cloudwatch/home');
    expect(message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    // One line of stack: the Provider framework appends the stack's other lines to the reason.
    expect(error!.stack).toEqual('BuildFailure');
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
    expect(logs.commandCalls(GetLogEventsCommand)[0].args[0].input).toMatchObject({ logGroupName: '/cib/logs', logStreamName: '5', startFromHead: false });
  });

  test('a 100 KB log keeps the failure, and the whole CloudFormation response, under their limits', async () => {
    // GIVEN: 100 KB of log with colours and control characters, one very long line last
    imageMissing();
    fakeCodeBuild([build('cib-project:9', 'FAILED', mine(), { phases: [{ phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'exit status 1' }] }] })]);
    const events = Array.from({ length: 1000 }, (_, i) => ({ message: `\u001b[32mstep ${i}\u001b[0m ${'x'.repeat(80)}\u0000\n` }));
    events.push({ message: `${'y'.repeat(20_000)} THE LAST WORDS` });
    expect(Buffer.byteLength(events.map((e) => e.message).join(''))).toBeGreaterThan(100_000);
    logs.on(GetLogEventsCommand).resolves({ events });

    // WHEN
    const error: Error = await isComplete(event('Create')).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: Error) => e,
    );

    // THEN
    expect(Buffer.byteLength(error.message, 'utf8')).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(error.message).toContain('THE LAST WORDS');
    expect(error.message).toContain('Failed phase: BUILD FAILED (COMMAND_EXECUTION_ERROR: exit status 1)');
    expect(error.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);

    // The response the Provider framework sends: the Lambda runtime reports `stack` line by line as the
    // trace, and the framework appends the function's log group and the trace's other lines to the message.
    const trace = error.stack!.split('\n');
    const reason = [[error.message, '', `Logs: /aws/lambda/${'S'.repeat(64)}`, ''].join('\n'), ...trace.slice(1)].join('\n');
    const response = JSON.stringify({
      Status: 'FAILED',
      Reason: reason,
      StackId: `arn:aws:cloudformation:ap-southeast-2:123456789012:stack/${'s'.repeat(128)}/01234567-89ab-cdef-0123-456789abcdef`,
      RequestId: '01234567-89ab-cdef-0123-456789abcdef',
      PhysicalResourceId: `${URI}:${TAG}`,
      LogicalResourceId: 'L'.repeat(255),
      Data: {},
    });
    console.info(`failure response: ${Buffer.byteLength(response, 'utf8')} bytes (reason ${Buffer.byteLength(reason, 'utf8')})`);
    expect(Buffer.byteLength(response, 'utf8')).toBeLessThan(4096);
  });

  test('a log full of quotes and backslashes keeps the JSON-encoded response under 4,096 bytes', async () => {
    // GIVEN: JSON log lines and Windows paths, which JSON-encoding doubles
    imageMissing();
    fakeCodeBuild([build('cib-project:9', 'FAILED', mine(), { phases: [{ phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'exit status 1' }] }] })]);
    const events = Array.from({ length: 200 }, (_, i) => ({ message: `{"level":"error","msg":"\\\\server\\share\\${i}","q":"\"\"\"\"\"\"\"\""}\t\t"\n` }));
    logs.on(GetLogEventsCommand).resolves({ events });

    // WHEN
    const error: Error = await isComplete(event('Create')).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: Error) => e,
    );

    // THEN: the reason as CloudFormation receives it, JSON-encoded, keeps its budget
    expect(error.message).toContain('Failed phase: BUILD FAILED');
    expect(error.message).toContain('\\\\server\\share\\199');
    expect(jsonBytes(error.message)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    const reason = [error.message, '', `Logs: /aws/lambda/${'S'.repeat(64)}`, ''].join('\n');
    const response = JSON.stringify({
      Status: 'FAILED',
      Reason: reason,
      StackId: `arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/${'s'.repeat(128)}/01234567-89ab-cdef-0123-456789abcdef`,
      RequestId: '01234567-89ab-cdef-0123-456789abcdef',
      PhysicalResourceId: `123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/${'r'.repeat(256)}:${TAG}`,
      LogicalResourceId: 'L'.repeat(255),
    });
    expect(Buffer.byteLength(response, 'utf8')).toBeLessThan(4096);
  });

  test('a failed build whose log cannot be read still fails readably', async () => {
    imageMissing();
    fakeCodeBuild([build('cib-project:5', 'FAULT', mine(), { logs: undefined, phases: [{ phaseType: 'PROVISIONING', phaseStatus: 'FAULT', contexts: [{ statusCode: 'ACCESS_DENIED', message: 'Service role cannot pull image' }] }] })]);

    await expect(isComplete(event('Create'))).rejects.toThrow(/Failed phase: PROVISIONING FAULT \(ACCESS_DENIED: Service role cannot pull image\)[\s\S]*Log tail: \(the build wrote no log\)/);
  });

  test.each([
    ['ECR DescribeImages', () => ecr.on(DescribeImagesCommand).rejects(throttling())],
    ['CodeBuild ListBuildsForProject', () => (imageMissing(), codebuild.on(ListBuildsForProjectCommand).rejects(throttling()))],
    ['CodeBuild BatchGetBuilds', () => (imageMissing(), codebuild.on(ListBuildsForProjectCommand).resolves({ ids: ['x:1'] }).on(BatchGetBuildsCommand).rejects(throttling()))],
    ['CodeBuild StartBuild', () => (imageMissing(), codebuild.on(ListBuildsForProjectCommand).resolves({ ids: [] }).on(StartBuildCommand).rejects(throttling()))],
    [
      'CloudWatch Logs GetLogEvents of a failed build',
      () => (imageMissing(), fakeCodeBuild([build('cib-project:5', 'FAILED', mine())]), logs.on(GetLogEventsCommand).rejects(throttling())),
    ],
    ['a 503 from any service', () => ecr.on(DescribeImagesCommand).rejects(Object.assign(new Error('unavailable'), { name: 'Unknown', $metadata: { httpStatusCode: 503 } }))],
  ])('throttling of %s means "not complete yet", never a failure', async (_name, arrange) => {
    arrange();
    await expect(isComplete(event('Create'))).resolves.toEqual({ IsComplete: false });
  });

  test('a call that runs out of time is "not complete yet", before its Lambda timeout fails the deploy', async () => {
    // GIVEN: a request that hangs, and a call with one second left before its Lambda timeout
    imageMissing();
    codebuild.on(ListBuildsForProjectCommand).callsFake(() => new Promise(() => {}));
    const context = { getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS + 200 };
    const started = Date.now();

    // WHEN
    const result = await isComplete(event('Create'), context);

    // THEN: it returned in time, and aborted its requests (the client sees the abort signal)
    expect(result).toEqual({ IsComplete: false });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
    const options = (codebuild.commandCalls(ListBuildsForProjectCommand)[0].args as unknown[])[1] as { abortSignal?: AbortSignal };
    expect(options.abortSignal?.aborted).toBe(true);
  });

  test('an aborted request is "not complete yet"', async () => {
    imageMissing();
    codebuild.on(ListBuildsForProjectCommand).rejects(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    await expect(isComplete(event('Create'))).resolves.toEqual({ IsComplete: false });
  });

  test('an image index under the fingerprint tag fails rather than be reused', async () => {
    // GIVEN: an index, whose untagged platform images the untagged-image lifecycle rule would expire
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [{ imageDigest: DIGEST, imageTags: [TAG], imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }],
    });
    fakeCodeBuild();

    // THEN
    await expect(isComplete(event('Create'))).rejects.toThrow(/is an image index \(application\/vnd\.oci\.image\.index\.v1\+json\).*Delete the tag/);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test.each(['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json'])('a single image manifest (%s) is reused', async (mediaType) => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: [TAG], imageManifestMediaType: mediaType }] });
    fakeCodeBuild();
    await expect(isComplete(event('Create'))).resolves.toMatchObject({ IsComplete: true, Data: { ImageDigest: DIGEST } });
  });

  test('an error that will not pass (access denied) fails, bounded and readable', async () => {
    imageMissing();
    codebuild.on(ListBuildsForProjectCommand).rejects(Object.assign(new Error(`User is not authorized ${'z'.repeat(5000)}`), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));

    const error: Error = await isComplete(event('Create')).catch((e: Error) => e) as Error;
    expect(error.message).toMatch(/^Could not build image .*\nError: AccessDeniedException: User is not authorized/);
    expect(Buffer.byteLength(error.message)).toBeLessThanOrEqual(MAX_REASON_BYTES);
  });

  test('a repository that does not exist fails with what to do', async () => {
    ecr.on(DescribeImagesCommand).rejects(notFound('RepositoryNotFoundException'));
    await expect(isComplete(event('Create'))).rejects.toThrow(/Repository app-images does not exist in registry 123456789012 \(eu-west-1\)/);
  });

  test('with requireImmutableTags, a repository with mutable tags fails before any build', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryName: 'app-images', imageTagMutability: 'MUTABLE' }] });
    imageMissing();
    fakeCodeBuild();

    await expect(isComplete(event('Create', { RequireImmutableTags: 'true' }))).rejects.toThrow(/has MUTABLE tags, and requireImmutableTags is true/);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);

    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryName: 'app-images', imageTagMutability: 'IMMUTABLE' }] });
    await expect(isComplete(event('Create', { RequireImmutableTags: 'true' }))).resolves.toEqual({ IsComplete: false });
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(1);
  });

  test('without requireImmutableTags, the repository settings are not read', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST }] });
    fakeCodeBuild();
    await isComplete(event('Create'));
    expect(ecr.commandCalls(DescribeRepositoriesCommand)).toHaveLength(0);
  });
});

describe('isComplete: delete', () => {
  test('stops the build still running for the image, and no other, and deletes no image', async () => {
    // GIVEN
    fakeCodeBuild([
      build('cib-project:3', 'IN_PROGRESS', mine()),
      build('cib-project:2', 'IN_PROGRESS', { [BUILD_ENV.IMAGE_URI]: URI, [BUILD_ENV.IMAGE_TAG]: 'fp-another-image' }),
      build('cib-project:1', 'SUCCEEDED', mine('old')),
    ]);
    codebuild.on(StopBuildCommand).resolves({});

    // WHEN
    const result = await isComplete(event('Delete'));

    // THEN
    expect(result).toEqual({ IsComplete: true });
    expect(codebuild.commandCalls(StopBuildCommand).map((c) => c.args[0].input.id)).toEqual(['cib-project:3']);
    expect(ecr.calls()).toHaveLength(0);
  });

  test.each([
    ['gone', notFound('ResourceNotFoundException', 'Build not found')],
    ['already over', notFound('InvalidInputException', 'Build cib-project:3 is already completed')],
  ])('deleting while the build is %s completes', async (_name, error) => {
    fakeCodeBuild([build('cib-project:3', 'IN_PROGRESS', mine())]);
    codebuild.on(StopBuildCommand).rejects(error);
    await expect(isComplete(event('Delete'))).resolves.toEqual({ IsComplete: true });
  });

  test('deleting after the project is gone completes', async () => {
    codebuild.on(ListBuildsForProjectCommand).rejects(notFound('ResourceNotFoundException', 'Project not found'));
    await expect(isComplete(event('Delete'))).resolves.toEqual({ IsComplete: true });
  });

  test('throttling while deleting means "not complete yet"', async () => {
    codebuild.on(ListBuildsForProjectCommand).rejects(throttling());
    await expect(isComplete(event('Delete'))).resolves.toEqual({ IsComplete: false });
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
