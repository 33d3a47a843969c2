/**
 * `isComplete` of `Custom::ContainerImageBuild`. Every call reads the world afresh, so a replayed
 * event, a retried call or a throttled one never starts a second build and never fails a deploy:
 *
 * - Create and Update: if the fingerprint tag exists in the repository, complete with its digest.
 *   Else find the build of this request (or one in flight for the same image) among the project's
 *   recent builds; if there is none, start one, marked with the request id and guarded by an
 *   idempotency token. A running build means "not complete yet"; a failed one fails the resource
 *   with the failed phase, its context messages, the tail of the log and where the full log is.
 * - Delete: stop the builds still running for this image. No image is ever deleted: ECR
 *   lifecycle rules keep the last fingerprint images for rollback.
 *
 * Throttling and transient faults mean "not complete yet", and so does a call that runs out of
 * time: the Provider framework fails the deployment when this function times out, so every call
 * stops itself (aborting its AWS requests) a few seconds before its Lambda timeout.
 */
import * as crypto from 'crypto';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand,
  Build,
  BuildPhase,
  CodeBuildClient,
  ComputeType,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient, ImageDetail } from '@aws-sdk/client-ecr';
import { BUILD_ENV, buildSpecObject, TAG_PREFIX } from './buildspec';
import type { BuildEvent, BuildResourceProperties, IsCompleteResult } from './types';
import { errorText, failureMessage, FailurePart, isRetryable, lastLines } from '../../internal/failure';

/** How many of the project's most recent builds are searched for the build of a request. */
export const RECENT_BUILDS = 50;
/** How many lines of the build log a failure carries (the byte budget may cut it further). */
export const LOG_TAIL_LINES = 40;
/** How long after a build succeeded its image may take to show in ECR before the build is called broken. */
const SUCCEEDED_GRACE_MS = 2 * 60_000;
/** Time kept between a call's own deadline and its Lambda timeout, to return "not complete yet". */
export const DEADLINE_MARGIN_MS = 8_000;
/** The time a call may take when the Lambda context is unknown (the function's timeout is one minute). */
const DEFAULT_CALL_MS = 60_000;
/** The Provider's wait (58 minutes) less the time kept for polling: the longest a build may queue and run. */
const MAX_BUILD_AND_QUEUE_MINUTES = 55;
/** Manifest media types that list other manifests: their platform images are untagged. */
const INDEX_MEDIA_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

const FAILED_STATUSES = new Set(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

const codebuild = new CodeBuildClient({});
const logs = new CloudWatchLogsClient({});
const ecrClients = new Map<string, ECRClient>();

/** The current call's abort signal: Lambda runs one call at a time per environment. */
let current: AbortController | undefined;

/** Options of every AWS request: aborted when the call reaches its deadline. */
function requestOptions(): { abortSignal?: AbortSignal } {
  return current ? { abortSignal: current.signal } : {};
}


/** A failure that reaches CloudFormation as it is: bounded, printable, and without a stack trace. */
export class BuildFailure extends Error {
  constructor(headline: string, parts: FailurePart[] = []) {
    super(failureMessage(headline, parts));
    this.name = 'BuildFailure';
    // The Lambda runtime reports `stack` line by line as the error's trace and the Provider framework
    // appends every line after the first to the reason: one line keeps the message from appearing twice.
    this.stack = this.name;
  }
}

/** The part of the Lambda context this handler reads. */
export interface CallContext {
  getRemainingTimeInMillis(): number;
}

export async function handler(event: BuildEvent, context?: CallContext): Promise<IsCompleteResult> {
  const controller = new AbortController();
  current = controller;
  const budget = Math.max(1_000, (context?.getRemainingTimeInMillis() ?? DEFAULT_CALL_MS) - DEADLINE_MARGIN_MS);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<IsCompleteResult>((resolve) => {
    timer = setTimeout(() => {
      console.log(`Not complete yet: the call ran out of time after ${budget} ms, and will be retried`);
      controller.abort();
      resolve({ IsComplete: false });
    }, budget);
  });
  try {
    return await Promise.race([handle(event), deadline]);
  } finally {
    clearTimeout(timer);
    if (current === controller) current = undefined;
  }
}

async function handle(event: BuildEvent): Promise<IsCompleteResult> {
  const props = event.ResourceProperties;
  try {
    if (event.RequestType === 'Delete') {
      return await stopRunningBuilds(props);
    }
    return await buildOrReuse(event, props);
  } catch (e) {
    if (isRetryable(e) || errorName(e) === 'AbortError') {
      console.log(`Not complete yet, the call will be retried: ${errorText(e)}`);
      return { IsComplete: false };
    }
    if (e instanceof BuildFailure) throw e;
    throw new BuildFailure(`Could not build image ${props.RepositoryUri}:${props.ImageTag}.`, [{ label: 'Error', text: errorText(e) }]);
  }
}

async function buildOrReuse(event: BuildEvent, props: BuildResourceProperties): Promise<IsCompleteResult> {
  const repository = parseRepositoryUri(props.RepositoryUri);
  const ecr = ecrClient(repository.region);
  if (props.RequireImmutableTags === 'true') {
    await assertImmutableTags(ecr, repository);
  }

  const digest = await findImageDigest(ecr, repository, props.ImageTag);
  if (digest) {
    const mine = await findBuildOfRequest(event, props).catch(() => undefined);
    return {
      IsComplete: true,
      Data: { ImageDigest: digest, Reused: mine ? 'false' : 'true', BuildId: mine?.id ?? '' },
    };
  }

  const build = await findBuildOfRequest(event, props);
  if (!build) {
    const started = await startBuild(event, props, repository, ecr);
    console.log(`Started build ${started} for ${props.RepositoryUri}:${props.ImageTag}`);
    return { IsComplete: false };
  }

  const status = build.buildStatus ?? 'IN_PROGRESS';
  if (status === 'IN_PROGRESS') {
    console.log(`Build ${build.id} is in phase ${build.currentPhase}`);
    return { IsComplete: false };
  }
  if (status === 'SUCCEEDED') {
    const ended = build.endTime?.getTime() ?? Date.now();
    if (Date.now() - ended < SUCCEEDED_GRACE_MS) return { IsComplete: false };
    throw new BuildFailure(
      `Build ${build.id} succeeded, but ${props.RepositoryUri} has no image tagged ${props.ImageTag}. Was the tag deleted, or the image expired by a lifecycle rule?`,
      [{ label: 'Full log', text: whereIsTheLog(build) }],
    );
  }
  if (FAILED_STATUSES.has(status)) {
    throw await failureOf(build, props);
  }
  throw new BuildFailure(`Build ${build.id} of ${props.RepositoryUri}:${props.ImageTag} ended with an unknown status ${status}.`, [
    { label: 'Full log', text: whereIsTheLog(build) },
  ]);
}

async function stopRunningBuilds(props: BuildResourceProperties): Promise<IsCompleteResult> {
  if (!props.ProjectName || !props.RepositoryUri || !props.ImageTag) return { IsComplete: true };
  let builds: Build[];
  try {
    builds = await recentBuilds(props.ProjectName);
  } catch (e) {
    if (isNotFound(e)) return { IsComplete: true };
    throw e;
  }
  for (const build of builds.filter((b) => b.buildStatus === 'IN_PROGRESS' && isBuildOf(b, props))) {
    try {
      await codebuild.send(new StopBuildCommand({ id: build.id }), requestOptions());
      console.log(`Stopped build ${build.id}`);
    } catch (e) {
      // A build that ended or disappeared in the meantime needs no stopping.
      if (!isNotFound(e) && !isAlreadyDone(e)) throw e;
    }
  }
  return { IsComplete: true };
}

/** The build started for this request, else a build of the same image still in flight (started by another request). */
async function findBuildOfRequest(event: BuildEvent, props: BuildResourceProperties): Promise<Build | undefined> {
  const builds = (await recentBuilds(props.ProjectName)).filter((b) => isBuildOf(b, props));
  return builds.find((b) => env(b, BUILD_ENV.REQUEST) === requestMarker(event)) ?? builds.find((b) => b.buildStatus === 'IN_PROGRESS');
}

async function recentBuilds(projectName: string): Promise<Build[]> {
  const list = await codebuild.send(new ListBuildsForProjectCommand({ projectName, sortOrder: 'DESCENDING' }), requestOptions());
  const ids = (list.ids ?? []).slice(0, RECENT_BUILDS);
  if (ids.length === 0) return [];
  const got = await codebuild.send(new BatchGetBuildsCommand({ ids }), requestOptions());
  return got.builds ?? [];
}

async function startBuild(event: BuildEvent, props: BuildResourceProperties, repository: RepositoryRef, ecr: ECRClient): Promise<string | undefined> {
  let buildArgs: Record<string, unknown>;
  try {
    buildArgs = JSON.parse(props.BuildArgs || '{}');
  } catch {
    throw new BuildFailure(`BuildArgs is not a JSON object: ${props.BuildArgs}`);
  }
  const names = Object.keys(buildArgs).sort();
  const cacheFrom = props.Cache === 'true' ? await latestFingerprintImage(ecr, repository, props.RepositoryUri) : undefined;
  const variables: Record<string, string> = {
    [BUILD_ENV.IMAGE_URI]: props.RepositoryUri,
    [BUILD_ENV.IMAGE_TAG]: props.ImageTag,
    [BUILD_ENV.REGISTRY_REGION]: repository.region,
    [BUILD_ENV.DOCKERFILE]: props.Dockerfile,
    [BUILD_ENV.TARGET]: props.Target ?? '',
    [BUILD_ENV.PLATFORM]: props.Platform,
    [BUILD_ENV.CACHE]: props.Cache === 'true' ? 'true' : 'false',
    [BUILD_ENV.CACHE_FROM]: cacheFrom ?? '',
    [BUILD_ENV.FINGERPRINT]: props.Fingerprint ?? '',
    [BUILD_ENV.REQUEST]: requestMarker(event),
    [BUILD_ENV.BUILD_ARG_COUNT]: String(names.length),
  };
  names.forEach((name, i) => (variables[`${BUILD_ENV.BUILD_ARG_PREFIX}${i}`] = `${name}=${String(buildArgs[name])}`));

  const timeout = minutes(props.TimeoutMinutes, 'TimeoutMinutes');
  const queued = minutes(props.QueuedTimeoutMinutes, 'QueuedTimeoutMinutes');
  if ((timeout ?? 0) + (queued ?? 0) > MAX_BUILD_AND_QUEUE_MINUTES) {
    // A build timeout given as a CloudFormation parameter skips the construct's check.
    throw new BuildFailure(
      `TimeoutMinutes (${timeout}) and QueuedTimeoutMinutes (${queued}) add up to more than ${MAX_BUILD_AND_QUEUE_MINUTES} minutes, longer than a deploy can wait for the build. Pass a buildTimeout of at most ${MAX_BUILD_AND_QUEUE_MINUTES - (queued ?? 0)} minutes.`,
    );
  }
  const result = await codebuild.send(
    new StartBuildCommand({
      projectName: props.ProjectName,
      sourceTypeOverride: 'S3',
      sourceLocationOverride: `${props.SourceBucket}/${props.SourceKey}`,
      buildspecOverride: JSON.stringify(buildSpecObject(), undefined, 2),
      computeTypeOverride: (props.ComputeType || undefined) as ComputeType | undefined,
      timeoutInMinutesOverride: timeout,
      queuedTimeoutInMinutesOverride: queued,
      environmentVariablesOverride: Object.entries(variables).map(([name, value]) => ({ name, value, type: 'PLAINTEXT' })),
      // A replay within CodeBuild's five minutes gets the same build back; later ones find it by its marker.
      idempotencyToken: crypto.createHash('sha256').update(`${event.RequestId}|${props.RepositoryUri}:${props.ImageTag}`).digest('hex').slice(0, 32),
    }),
    requestOptions(),
  );
  return result.build?.id;
}

async function failureOf(build: Build, props: BuildResourceProperties): Promise<BuildFailure> {
  const failed = failedPhase(build.phases ?? []);
  const parts: FailurePart[] = [];
  if (failed) {
    const contexts = (failed.contexts ?? [])
      .map((c) => [c.statusCode, c.message].filter((s) => s).join(': '))
      .filter((s) => s.length > 0)
      .join('; ');
    parts.push({ label: 'Failed phase', text: `${failed.phaseType} ${failed.phaseStatus}${contexts ? ` (${contexts})` : ''}` });
  }
  parts.push({ label: 'Full log', text: whereIsTheLog(build) });
  parts.push({ label: 'Log tail', text: await logTail(build), keepEnd: true });
  return new BuildFailure(
    `Image build ${build.buildStatus} for ${props.RepositoryUri}:${props.ImageTag} (CodeBuild build ${build.id}).`,
    parts,
  );
}

/** The phase that did not succeed: the first failed one, else the last one with a status. */
function failedPhase(phases: BuildPhase[]): BuildPhase | undefined {
  return phases.find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED' && p.phaseType !== 'COMPLETED') ?? phases.filter((p) => p.phaseStatus).pop();
}

async function logTail(build: Build): Promise<string> {
  const group = build.logs?.groupName;
  const stream = build.logs?.streamName;
  if (!group || !stream) return '(the build wrote no log)';
  try {
    const got = await logs.send(
      new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: false, limit: 100 }),
      requestOptions(),
    );
    const text = (got.events ?? []).map((e) => e.message ?? '').join('\n');
    const lines = lastLines(text, LOG_TAIL_LINES);
    return lines.length > 0 ? lines.join('\n') : '(the log is empty)';
  } catch (e) {
    if (isRetryable(e) || errorName(e) === 'AbortError') throw e;
    return `(could not read the log: ${errorText(e)})`;
  }
}

function whereIsTheLog(build: Build): string {
  const group = build.logs?.groupName;
  const stream = build.logs?.streamName;
  const where = group && stream ? `CloudWatch Logs group ${group}, stream ${stream}` : `CodeBuild build ${build.id}`;
  return build.logs?.deepLink ? `${where} (${build.logs.deepLink})` : where;
}

async function findImageDigest(ecr: ECRClient, repository: RepositoryRef, tag: string): Promise<string | undefined> {
  try {
    const got = await ecr.send(
      new DescribeImagesCommand({ registryId: repository.registryId, repositoryName: repository.name, imageIds: [{ imageTag: tag }] }),
      requestOptions(),
    );
    const image = got.imageDetails?.find((d) => d.imageDigest);
    if (image?.imageManifestMediaType && INDEX_MEDIA_TYPES.has(image.imageManifestMediaType)) {
      // Builds push one image manifest (no provenance or SBOM attestations). An index names untagged
      // platform images that a lifecycle rule expiring untagged images deletes under a running service.
      throw new BuildFailure(
        `${repository.name}:${tag} is an image index (${image.imageManifestMediaType}), not the single image manifest ContainerImageBuild pushes. Its platform images are untagged, and a lifecycle rule that expires untagged images would break it. Delete the tag ${tag} so that it is built again.`,
      );
    }
    return image?.imageDigest;
  } catch (e) {
    if (errorName(e) === 'ImageNotFoundException') return undefined;
    if (errorName(e) === 'RepositoryNotFoundException') {
      throw new BuildFailure(
        `Repository ${repository.name} does not exist in registry ${repository.registryId} (${repository.region}). Create it, or let ContainerImageBuild create one by leaving out 'repository'.`,
      );
    }
    throw e;
  }
}

async function latestFingerprintImage(ecr: ECRClient, repository: RepositoryRef, uri: string): Promise<string | undefined> {
  try {
    const got = await ecr.send(
      new DescribeImagesCommand({ registryId: repository.registryId, repositoryName: repository.name, filter: { tagStatus: 'TAGGED' }, maxResults: 1000 }),
      requestOptions(),
    );
    const latest = (got.imageDetails ?? [])
      .filter((d: ImageDetail) => (d.imageTags ?? []).some((t) => t.startsWith(TAG_PREFIX)))
      .sort((a, b) => (b.imagePushedAt?.getTime() ?? 0) - (a.imagePushedAt?.getTime() ?? 0))[0];
    const tag = latest?.imageTags?.find((t) => t.startsWith(TAG_PREFIX));
    return tag ? `${uri}:${tag}` : undefined;
  } catch (e) {
    // The cache only saves time: build without it rather than wait or fail.
    console.log(`No cache image: ${errorText(e)}`);
    return undefined;
  }
}

async function assertImmutableTags(ecr: ECRClient, repository: RepositoryRef): Promise<void> {
  const got = await ecr.send(
    new DescribeRepositoriesCommand({ registryId: repository.registryId, repositoryNames: [repository.name] }),
    requestOptions(),
  );
  const mutability = got.repositories?.[0]?.imageTagMutability ?? 'MUTABLE';
  if (!mutability.startsWith('IMMUTABLE')) {
    throw new BuildFailure(
      `Repository ${repository.name} has ${mutability} tags, and requireImmutableTags is true: a fingerprint tag that can be moved cannot prove what it names. Make the repository's tags IMMUTABLE, or set requireImmutableTags to false.`,
    );
  }
}

interface RepositoryRef {
  readonly registryId: string;
  readonly region: string;
  readonly name: string;
}

const REPOSITORY_URI = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)$/;

export function parseRepositoryUri(uri: string): RepositoryRef {
  const match = REPOSITORY_URI.exec(uri ?? '');
  if (!match) {
    throw new BuildFailure(`RepositoryUri '${uri}' is not an ECR repository URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>).`);
  }
  return { registryId: match[1], region: match[2], name: match[3] };
}

function ecrClient(region: string): ECRClient {
  let client = ecrClients.get(region);
  if (!client) {
    client = new ECRClient({ region });
    ecrClients.set(region, client);
  }
  return client;
}

function requestMarker(event: BuildEvent): string {
  return event.RequestId;
}

function isBuildOf(build: Build, props: BuildResourceProperties): boolean {
  return env(build, BUILD_ENV.IMAGE_URI) === props.RepositoryUri && env(build, BUILD_ENV.IMAGE_TAG) === props.ImageTag;
}

function env(build: Build, name: string): string | undefined {
  return build.environment?.environmentVariables?.find((v) => v.name === name)?.value;
}

function minutes(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 5) {
    throw new BuildFailure(`${name} '${value}' is not a whole number of minutes of at least 5.`);
  }
  return n;
}

function errorName(e: unknown): string | undefined {
  return (e as { name?: string } | undefined)?.name;
}

function isNotFound(e: unknown): boolean {
  return errorName(e) === 'ResourceNotFoundException';
}

/** StopBuild on a build that has ended. */
function isAlreadyDone(e: unknown): boolean {
  return errorName(e) === 'InvalidInputException' && /already|complete|stopp/i.test(String((e as Error).message));
}
