/**
 * The container-build job of the deploy-time runtime: an image built by the stack's CodeBuild
 * project from a context in S3, pushed to ECR under its fingerprint tag.
 *
 * - find: the fingerprint tag exists in the repository (a single image manifest), can be pulled (not
 *   archived) and, with `replicateTo`, is in every destination: its digest (`image-state-job.ts`).
 * - start: the build this attempt started (found by its marker among the project's recent builds),
 *   else one new build, guarded by an idempotency token. When every concurrent build the account may
 *   run is busy, CodeBuild queues the build (pending, phase QUEUED); only a full queue (five times the
 *   quota) refuses it (`AccountLimitExceededException`), which is not a failure: the runtime tries
 *   again later. A build removed from the queue after its queued timeout fails naming the quota.
 * - check: a running build is pending; a succeeded one gives the digest of its tag once every
 *   destination of `replicateTo` has it (pending while ECR replicates; failed with a destination's
 *   failure code); a failed one gives the failed phase, its context messages, the tail of the log and
 *   where the full log is. An image that exists but cannot be reused as it is (archived, or not
 *   replicated yet) starts no build: it is restored, or waited for.
 * - cancel: stops the build. No image is ever deleted: lifecycle rules keep the last fingerprint images.
 * - destroy (removal policy DESTROY, when the stack is deleted): deletes the repository the construct
 *   created, with every image in it (`DeleteRepository` with `force`), and with `replicateTo` also its
 *   CloudFormation repository, which images went to before replication.
 */
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
import { DeleteRepositoryCommand, DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient, ImageDetail } from '@aws-sdk/client-ecr';
import { BUILD_ENV, buildSpecObject, cacheTagOf, TAG_PREFIX } from './buildspec';
import { DescribedImage, describeImage, replicationOf, RepositoryRef, restoreImage } from './image-state-job';
import { describeMutability, tagCanMove } from './tag-mutability';
import type { ContainerBuildSpec } from './types';
import { errorText, failureMessage, FailurePart, isRetryable, lastLines } from '../../internal/failure';
import { MAX_SIGNAL_REASON_BYTES } from '../../internal/runtime/http';
import type { Attempt, Destroyed, Job, JobRunner, Outcome, Retry, Started } from '../../internal/runtime/job';
import { JobFailure } from '../../internal/runtime/job';

/** How many of the project's most recent builds are searched for the build of an attempt. */
export const RECENT_BUILDS = 50;
/** How many lines of the build log a failure carries (the byte budget may cut it further). */
export const LOG_TAIL_LINES = 40;
/** How long after a build succeeded its image may take to show in ECR before the build is called broken. */
const SUCCEEDED_GRACE_MS = 2 * 60_000;
/** The ref of an attempt that builds nothing: the image exists, and is being restored or replicated. */
const IMAGE_REF = 'image:';
const FAILED_STATUSES = new Set(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

const codebuild = new CodeBuildClient({});
const logs = new CloudWatchLogsClient({});
const ecrClients = new Map<string, ECRClient>();

type BuildJob = Job<ContainerBuildSpec>;

export { findImageDigest } from './image-state-job';
export type { RepositoryRef } from './image-state-job';

export const containerBuild: JobRunner<ContainerBuildSpec> = {
  find: (job) => findImage(job),
  start: (job, attempt) => startBuild(job, attempt),
  check: (job, ref) => checkBuild(job, ref),
  cancel: (job, ref) => stopBuild(job, ref),
  destroy: (job, retry) => destroyRepository(job, retry),
};

/**
 * Deletes the repository the construct created and every image in it: ECR's `force` deletes the
 * contents on the caller's behalf. Only a repository the construct made carries the DESTROY setting
 * (a repository passed in is the user's, and refused with DESTROY at synth time).
 */
async function destroyRepository(job: BuildJob, retry: Retry): Promise<Destroyed> {
  const deleted: string[] = [];
  const left: string[] = [];
  for (const uri of [job.spec.RepositoryUri, ...(job.spec.AlsoDestroy ? [job.spec.AlsoDestroy] : [])]) {
    const repository = parseRepositoryUri(uri);
    const what = `repository ${repository.name} (${repository.region}) and its images`;
    try {
      const request = new DeleteRepositoryCommand({ registryId: repository.registryId, repositoryName: repository.name, force: true });
      await retry(() => ecrClient(repository.region).send(request));
      deleted.push(what);
    } catch (e) {
      if ((e as Error).name !== 'RepositoryNotFoundException') left.push(`${what}: ${errorText(e)}`);
    }
  }
  return { deleted, left };
}

/** The repository of a job, and its region's ECR client. */
function repositoryOf(job: BuildJob): { repository: RepositoryRef; ecr: ECRClient } {
  const repository = parseRepositoryUri(job.spec.RepositoryUri);
  return { repository, ecr: ecrClient(repository.region) };
}

/** The image of the job's fingerprint tag, as ECR describes it (checking the repository's tags first when asked). */
async function imageOf(job: BuildJob): Promise<DescribedImage | undefined> {
  const { repository, ecr } = repositoryOf(job);
  if (job.spec.RequireImmutableTags === 'true') await assertImmutableTags(ecr, repository, job.spec.ImageTag, job.path);
  return describeImage(ecr, repository, job.spec.ImageTag, job.path);
}

/** The image of this fingerprint, if it may be reused as it is: it can be pulled, and every destination of replicateTo has it. */
async function findImage(job: BuildJob): Promise<string | undefined> {
  const image = await imageOf(job);
  if (!image || image.status !== 'ACTIVE') return undefined;
  const { repository, ecr } = repositoryOf(job);
  const replication = await replicationOf(ecr, repository, image, job.spec.ReplicateTo ?? [], job.path, Date.now());
  return replication.state === 'complete' ? image.digest : undefined;
}

/**
 * Where an image that exists stands: succeeded once it can be pulled and every destination has it,
 * pending while ECR restores or replicates it, failed when a destination fails.
 */
async function availabilityOf(job: BuildJob, image: DescribedImage, summaryOf: (image: string) => string): Promise<Outcome> {
  const { repository, ecr } = repositoryOf(job);
  if (image.status !== 'ACTIVE') {
    await restoreImage(ecr, repository, image);
    return { state: 'pending', detail: `${repository.name}@${image.digest} is ${image.status}: ECR restores it from its archive (within 20 minutes, ECR says)` };
  }
  const replication = await replicationOf(ecr, repository, image, job.spec.ReplicateTo ?? [], job.path, Date.now());
  if (replication.state === 'pending') return replication;
  if (replication.state === 'failed') return { state: 'failed', reason: failureMessage(replication.reason, [], MAX_SIGNAL_REASON_BYTES) };
  const replicated = (job.spec.ReplicateTo ?? []).length > 0 ? `, replicated to ${job.spec.ReplicateTo!.map((d) => `${d.Region} (${d.RegistryId})`).join(', ')}` : '';
  return { state: 'succeeded', data: image.digest, summary: `${summaryOf(`${job.spec.RepositoryUri}@${image.digest}`)}${replicated}` };
}

async function startBuild(job: BuildJob, attempt: Attempt): Promise<Started> {
  const spec = job.spec;
  const mine = (await recentBuilds(spec.ProjectName)).find((b) => env(b, BUILD_ENV.ATTEMPT) === attempt.id);
  if (mine?.id) return { state: 'started', ref: mine.id };

  // The image exists, but cannot be reused as it is yet (archived, or not replicated yet): no build.
  const existing = await imageOf(job);
  if (existing) {
    const { repository: where, ecr } = repositoryOf(job);
    await restoreImage(ecr, where, existing);
    return { state: 'started', ref: `${IMAGE_REF}${existing.digest}` };
  }

  const repository = parseRepositoryUri(spec.RepositoryUri);
  let buildArgs: Record<string, unknown>;
  try {
    buildArgs = JSON.parse(spec.BuildArgs || '{}');
  } catch {
    throw new JobFailure(`${job.path}: BuildArgs is not a JSON object: ${spec.BuildArgs}`);
  }
  const names = Object.keys(buildArgs).sort();
  const cache = spec.Cache === 'true';
  const cacheFrom = cache ? await cacheImages(ecrClient(repository.region), repository, spec.RepositoryUri, spec.Platform) : [];
  const variables: Record<string, string> = {
    [BUILD_ENV.IMAGE_URI]: spec.RepositoryUri,
    [BUILD_ENV.IMAGE_TAG]: spec.ImageTag,
    [BUILD_ENV.REGISTRY_REGION]: repository.region,
    [BUILD_ENV.PULL_REGISTRIES]: spec.PullRegistries ?? '',
    [BUILD_ENV.DOCKERFILE]: spec.Dockerfile,
    [BUILD_ENV.TARGET]: spec.Target ?? '',
    [BUILD_ENV.PLATFORM]: spec.Platform,
    [BUILD_ENV.CACHE]: spec.Cache === 'true' ? 'true' : 'false',
    [BUILD_ENV.CACHE_FROM]: cacheFrom.join(' '),
    [BUILD_ENV.CACHE_TAG]: cache ? cacheTagOf(spec.Platform, job.fingerprint) : '',
    [BUILD_ENV.FINGERPRINT]: job.fingerprint,
    [BUILD_ENV.ATTEMPT]: attempt.id,
    [BUILD_ENV.BUILD_ARG_COUNT]: String(names.length),
  };
  names.forEach((name, i) => (variables[`${BUILD_ENV.BUILD_ARG_PREFIX}${i}`] = `${name}=${String(buildArgs[name])}`));
  try {
    const result = await codebuild.send(new StartBuildCommand({
      projectName: spec.ProjectName,
      sourceTypeOverride: 'S3',
      sourceLocationOverride: `${spec.SourceBucket}/${spec.SourceKey}`,
      buildspecOverride: JSON.stringify(buildSpecObject(), undefined, 2),
      computeTypeOverride: (spec.ComputeType || undefined) as ComputeType | undefined,
      timeoutInMinutesOverride: minutes(spec.TimeoutMinutes, 'TimeoutMinutes', job.path),
      queuedTimeoutInMinutesOverride: minutes(spec.QueuedTimeoutMinutes, 'QueuedTimeoutMinutes', job.path),
      environmentVariablesOverride: Object.entries(variables).map(([name, value]) => ({ name, value, type: 'PLAINTEXT' })),
      // A replay within CodeBuild's five minutes gets the same build back; later ones find it by its marker.
      idempotencyToken: attempt.id,
    }));
    if (!result.build?.id) throw new JobFailure(`${job.path}: CodeBuild started a build of ${spec.ProjectName} but returned no build id.`);
    return { state: 'started', ref: result.build.id };
  } catch (e) {
    // New accounts may run 0 or 1 concurrent builds: the queue is full, not the build broken.
    if ((e as Error).name === 'AccountLimitExceededException') {
      return {
        state: 'throttled',
        reason: `CodeBuild refused to queue another build (${errorText(e)}): its queue holds five times the concurrent builds the account may run. Raise the account's concurrent build quota for ${spec.ComputeType || 'the project\'s compute type'} in Service Quotas (AWS CodeBuild, "Concurrently running builds for ${quotaOf(spec)} environment"), or deploy fewer image builds at once.`,
      };
    }
    throw e;
  }
}

async function checkBuild(job: BuildJob, buildId: string): Promise<Outcome> {
  const spec = job.spec;
  if (buildId.startsWith(IMAGE_REF)) {
    const image = await imageOf(job);
    const digest = buildId.slice(IMAGE_REF.length);
    if (!image || image.digest !== digest) {
      return { state: 'failed', reason: `${job.path}: ${spec.RepositoryUri}@${digest}, tagged ${spec.ImageTag}, was deleted or retagged while ECR restored or replicated it. Deploy again to build it anew.` };
    }
    return availabilityOf(job, image, (at) => `Reused ${at}`);
  }
  const build = (await codebuild.send(new BatchGetBuildsCommand({ ids: [buildId] }))).builds?.[0];
  if (!build) return { state: 'failed', reason: `${job.path}: CodeBuild build ${buildId} no longer exists.` };
  const status = build.buildStatus ?? 'IN_PROGRESS';
  if (status === 'IN_PROGRESS') {
    // Below a full queue, StartBuild succeeds and the build waits in CodeBuild's queue for a free slot.
    if (build.currentPhase === 'QUEUED') return { state: 'pending', detail: `build ${build.id} is in phase QUEUED: it waits in CodeBuild's queue for a free build of ${quotaOf(spec)}` };
    return { state: 'pending', detail: `build ${build.id} is in phase ${build.currentPhase}` };
  }
  if (status === 'SUCCEEDED') {
    const image = await imageOf(job);
    if (image) return availabilityOf(job, image, (at) => `Built ${at} (CodeBuild build ${build.id})`);
    // A build without an end time has been over for long enough.
    const ended = build.endTime?.getTime() ?? 0;
    if (Date.now() - ended < SUCCEEDED_GRACE_MS) return { state: 'pending', detail: `build ${build.id} succeeded; its image is not listed yet` };
    return {
      state: 'failed',
      reason: failureMessage(`${job.path}: build ${build.id} succeeded, but ${spec.RepositoryUri} has no image tagged ${spec.ImageTag}. Was the tag deleted, or the image expired by a lifecycle rule?`,
        [{ label: 'Full log', text: whereIsTheLog(build) }], MAX_SIGNAL_REASON_BYTES),
    };
  }
  if (FAILED_STATUSES.has(status)) {
    // Another build of the same fingerprint (another stack sharing the repository) may have pushed the
    // tag first, so that this one's push of the immutable tag failed: the image is there all the same.
    const image = await imageOf(job);
    if (image) return availabilityOf(job, image, (at) => `${at} was pushed by another build of the same fingerprint`);
    if (neverLeftTheQueue(build)) return { state: 'failed', reason: queueFailureOf(job, build) };
    return { state: 'failed', reason: await failureOf(job, build) };
  }
  return { state: 'failed', reason: failureMessage(`${job.path}: build ${build.id} ended with an unknown status ${status}.`, [{ label: 'Full log', text: whereIsTheLog(build) }], MAX_SIGNAL_REASON_BYTES) };
}

async function stopBuild(job: BuildJob, buildId: string): Promise<void> {
  // Restoring and replicating an image run on their own, and stop nothing when left.
  if (buildId.startsWith(IMAGE_REF)) return;
  try {
    await codebuild.send(new StopBuildCommand({ id: buildId }));
  } catch (e) {
    // A build that ended or disappeared in the meantime needs no stopping.
    if ((e as Error).name === 'ResourceNotFoundException' || isAlreadyDone(e)) return;
    throw e;
  }
  void job;
}

async function recentBuilds(projectName: string): Promise<Build[]> {
  const list = await codebuild.send(new ListBuildsForProjectCommand({ projectName, sortOrder: 'DESCENDING' }));
  const ids = (list.ids ?? []).slice(0, RECENT_BUILDS);
  if (ids.length === 0) return [];
  return (await codebuild.send(new BatchGetBuildsCommand({ ids }))).builds ?? [];
}

async function failureOf(job: BuildJob, build: Build): Promise<string> {
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
  return failureMessage(`${job.path}: image build ${build.buildStatus} for ${job.spec.RepositoryUri}:${job.spec.ImageTag} (CodeBuild build ${build.id}).`, parts, MAX_SIGNAL_REASON_BYTES);
}

/**
 * Whether a build that ended never left CodeBuild's queue: its QUEUED phase did not succeed, or it has
 * no phase after it. A build that waits in the queue longer than its queued timeout is removed from
 * it (the status it then ends with is not documented; TIMED_OUT is what is reported).
 */
function neverLeftTheQueue(build: Build): boolean {
  const phases = build.phases ?? [];
  const queued = phases.find((p) => p.phaseType === 'QUEUED');
  if (!queued) return false;
  if (queued.phaseStatus && queued.phaseStatus !== 'SUCCEEDED') return true;
  return !phases.some((p) => p.phaseType === 'PROVISIONING');
}

/** The failure of a build that never left the queue: it names the concurrency quota that kept it there. */
function queueFailureOf(job: BuildJob, build: Build): string {
  const waited = build.queuedTimeoutInMinutes ?? job.spec.QueuedTimeoutMinutes;
  return failureMessage(
    `${job.path}: image build ${build.id} waited ${waited} minutes in CodeBuild's queue without starting, and CodeBuild removed it (${build.buildStatus}).`,
    [
      { label: 'Why', text: `Every concurrent build of ${quotaOf(job.spec)} that this account may run was busy all that time: other builds of this or other stacks, or other projects.` },
      { label: 'What to do', text: `Raise the account's quota in Service Quotas (AWS CodeBuild, "Concurrently running builds for ${quotaOf(job.spec)} environment"; new accounts may have 1), or deploy fewer image builds at once, then deploy again: the images already built are reused.` },
      { label: 'Full log', text: whereIsTheLog(build) },
    ],
    MAX_SIGNAL_REASON_BYTES,
  );
}

/** The platform and size of a build's compute type, as CodeBuild's concurrency quotas name them: `Linux/Small`, `ARM/Medium`. */
function quotaOf(spec: ContainerBuildSpec): string {
  const platform = spec.Platform === 'linux/arm64' ? 'ARM' : 'Linux';
  const size = /^BUILD_GENERAL1_(.+)$/.exec(spec.ComputeType || 'BUILD_GENERAL1_SMALL')?.[1] ?? 'SMALL';
  const words: { [size: string]: string } = { 'SMALL': 'Small', 'MEDIUM': 'Medium', 'LARGE': 'Large', 'XLARGE': 'XLarge', '2XLARGE': '2XLarge' };
  return `${platform}/${words[size] ?? size}`;
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
    const got = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: false, limit: 100 }));
    const lines = lastLines((got.events ?? []).map((e) => e.message ?? '').join('\n'), LOG_TAIL_LINES);
    return lines.length > 0 ? lines.join('\n') : '(the log is empty)';
  } catch (e) {
    if (isRetryable(e)) throw e;
    return `(could not read the log: ${errorText(e)})`;
  }
}

function whereIsTheLog(build: Build): string {
  const group = build.logs?.groupName;
  const stream = build.logs?.streamName;
  const where = group && stream ? `CloudWatch Logs group ${group}, stream ${stream}` : `CodeBuild build ${build.id}`;
  return build.logs?.deepLink ? `${where} (${build.logs.deepLink})` : where;
}

/**
 * The images a build takes cached layers from: the newest build cache of its platform (every stage's
 * layers, written by an earlier build with the cache on) and the newest fingerprint image (the final
 * stage's layers, inline in images built before build caches were written). Newest by push date.
 */
async function cacheImages(ecr: ECRClient, repository: RepositoryRef, uri: string, platform: string): Promise<string[]> {
  try {
    const got = await ecr.send(new DescribeImagesCommand({ registryId: repository.registryId, repositoryName: repository.name, filter: { tagStatus: 'TAGGED' }, maxResults: 1000 }));
    const images = got.imageDetails ?? [];
    const cachePrefix = cacheTagOf(platform, '');
    return [newestTag(images, cachePrefix), newestTag(images, TAG_PREFIX)].filter((t): t is string => t !== undefined).map((t) => `${uri}:${t}`);
  } catch (e) {
    // The cache only saves time: build without it rather than wait or fail.
    console.log(`No cache image: ${errorText(e)}`);
    return [];
  }
}

/** The tag starting with `prefix` of the newest image that carries one. */
function newestTag(images: ImageDetail[], prefix: string): string | undefined {
  const newest = images
    .filter((d) => (d.imageTags ?? []).some((t) => t.startsWith(prefix)))
    .sort((a, b) => (b.imagePushedAt?.getTime() ?? 0) - (a.imagePushedAt?.getTime() ?? 0))[0];
  return newest?.imageTags?.find((t) => t.startsWith(prefix));
}

async function assertImmutableTags(ecr: ECRClient, repository: RepositoryRef, tag: string, path: string): Promise<void> {
  const got = await ecr.send(new DescribeRepositoriesCommand({ registryId: repository.registryId, repositoryNames: [repository.name] }));
  const found = got.repositories?.[0];
  const filters = (found?.imageTagMutabilityExclusionFilters ?? []).map((f) => f.filter ?? '');
  if (tagCanMove(found?.imageTagMutability, filters, tag)) {
    throw new JobFailure(
      `${path}: repository ${repository.name} has ${describeMutability(found?.imageTagMutability, filters)} tags, under which ${tag} can be moved, and requireImmutableTags is true: a fingerprint tag that can be moved cannot prove what it names. Make the repository's tags IMMUTABLE (and exclude no 'fp-' tag), or set requireImmutableTags to false.`,
    );
  }
}

const REPOSITORY_URI = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)$/;

export function parseRepositoryUri(uri: string): RepositoryRef {
  const match = REPOSITORY_URI.exec(uri ?? '');
  if (!match) {
    throw new JobFailure(`RepositoryUri '${uri}' is not an ECR repository URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>).`);
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

function env(build: Build, name: string): string | undefined {
  return build.environment?.environmentVariables?.find((v) => v.name === name)?.value;
}

function minutes(value: string | undefined, name: string, path: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 5) throw new JobFailure(`${path}: ${name} '${value}' is not a whole number of minutes of at least 5.`);
  return n;
}

/** StopBuild on a build that has ended. */
function isAlreadyDone(e: unknown): boolean {
  return (e as Error).name === 'InvalidInputException' && /already|complete|stopp/i.test(String((e as Error).message));
}
