/**
 * The AMI-bake job of the deploy-time runtime: an EC2 Image Builder image of the bake's recipe
 * version, whose components and recipe are named and versioned by the fingerprint.
 *
 * - find: the newest AMI of this account tagged with the fingerprint, whose Image Builder image is
 *   AVAILABLE, was created for this fingerprint and lists the AMI as its output. An AMI whose Image
 *   Builder record is gone (or names another fingerprint) is never reused: the fingerprint is baked
 *   again, and `AmiArtifact.fromFingerprint` then takes the newest of its AMIs (`lookup-job.ts`).
 * - start: attach to an image of this recipe version that is still running, or create (or adopt) the
 *   build log group with its retention, copy the bake's files where its instances read them, create
 *   the components and recipe (if absent) and one image, with a client token of the attempt (and of
 *   each component and recipe, one of its name and version: a changed request never reuses a token). The
 *   recipe's version follows the fingerprint, the parent AMI and the key, so that a recipe never names
 *   a parent AMI that is gone (a layered bake reverted past its foundation's retention).
 * - check: a running image is pending; an AVAILABLE one gives its AMI in this region; a FAILED or
 *   CANCELLED one gives the state's reason, the failed workflow step and component, the tail of
 *   the build log and where the whole log is.
 * - cancel: cancels a running image. No AMI is ever deleted here.
 * - prune (after each bake that succeeded): the bake's retention, `retainImages` (`bake-cleanup-job.ts`).
 * - readBack: once the bake's wait completed, the AMI of the fingerprint in this region, read from
 *   EC2 and Image Builder (never from the wait's signal), with the copies Image Builder made of it in
 *   this account's other regions: what the bake's stack holds (`hold-job.ts`).
 * - destroy (removal policy DESTROY, when the stack is deleted; `bake-cleanup-job.ts`): every AMI that Image Builder records
 *   as an output of the bake's images (never one chosen by a tag, which anyone who may tag can set),
 *   in every region, with its snapshots, except those another stack holds, a user keeps, or another
 *   account may launch; then the Image Builder images, recipes and components of the bake, and
 *   its build log group (which the runtime created, not the stack).
 */
import { createHash } from 'crypto';
import {
  CloudWatchLogsClient, CreateLogGroupCommand, DeleteRetentionPolicyCommand, GetLogEventsCommand, PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CancelImageCreationCommand,
  CreateComponentCommand,
  CreateImageCommand,
  CreateImageRecipeCommand,
  GetImageCommand,
  Image,
  ListWorkflowExecutionsCommand,
  ListWorkflowStepExecutionsCommand,
  Platform,
} from '@aws-sdk/client-imagebuilder';
import { CopyObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { destroyBake, pruneBake } from './bake-cleanup-job';
import { findReusable, imagebuilder, listImages, recipeVersionOf } from './bake-records-job';
import { FINGERPRINT_TAG, BAKE_TAG } from './types';
import type { AmiBakeSpec, BakeAssetCopy } from './types';
import { errorText, failureMessage, FailurePart, isRetryable, lastLines, MAX_REASON_BYTES } from '../../internal/failure';
import { MAX_SIGNAL_REASON_BYTES } from '../../internal/runtime/http';
import type { Attempt, Found, Held, Job, JobRunner, Outcome, Started } from '../../internal/runtime/job';
import { JobFailure } from '../../internal/runtime/job';

export { recipeVersionOf } from './bake-records-job';

const logs = new CloudWatchLogsClient({});
const s3 = new S3Client({});

/** Image states from which an image still becomes AVAILABLE, FAILED or CANCELLED. */
export const IN_PROGRESS = new Set(['PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING']);
/** How many lines of the build log a failure carries. */
export const LOG_TAIL_LINES = 20;

type BakeJob = Job<AmiBakeSpec>;

export const amiBake: JobRunner<AmiBakeSpec> = {
  // The component documents and the files to copy are only needed to start an image.
  startOnly: ['Components', 'Assets'],
  find: (job) => findReusable(job.fingerprint).then((found) => found?.amiId),
  start: (job, attempt) => startImage(job, attempt),
  check: (job, ref) => checkImage(job, ref),
  cancel: (_job, ref) => cancelImage(ref),
  readBack: (job) => readBack(job as unknown as Job<{ readonly CopyRegions?: string }>),
  prune: (job, retry, holds) => pruneBake(job, retry, holds),
  destroy: (job, retry, stack) => destroyBake(job, retry, stack),
};

async function startImage(job: BakeJob, attempt: Attempt): Promise<Started> {
  const spec = job.spec;
  const version = recipeVersionOf(job.fingerprint, spec);
  const running = (await listImages(`${spec.ImageNameArn}/${version}`)).find((i) => IN_PROGRESS.has(i.state?.status ?? ''));
  if (running?.arn) {
    console.log(`${job.path}: an image of this recipe version is already running: ${running.arn}`);
    return { state: 'started', ref: running.arn };
  }
  await ensureLogGroup(spec);
  for (const asset of spec.Assets ?? []) await copyAsset(job, asset);
  for (const component of spec.Components ?? []) {
    await createIfAbsent(() => imagebuilder.send(new CreateComponentCommand({
      name: component.Name,
      semanticVersion: component.Version,
      platform: component.Platform as Platform,
      description: component.Description,
      data: component.Data,
      clientToken: token(job.fingerprint, 'component', component.Name, component.Version),
    })));
  }
  await createIfAbsent(() => imagebuilder.send(new CreateImageRecipeCommand({
    name: spec.RecipeName,
    semanticVersion: version,
    description: `cdk-immutable-deploys bake, fingerprint ${job.fingerprint}`,
    parentImage: spec.ParentImage,
    components: spec.ComponentArns.map((componentArn) => ({ componentArn })),
    blockDeviceMappings: [{
      deviceName: spec.BlockDevice.DeviceName,
      ebs: {
        encrypted: true,
        deleteOnTermination: true,
        volumeType: 'gp3',
        ...(spec.BlockDevice.VolumeSize ? { volumeSize: Number(spec.BlockDevice.VolumeSize) } : {}),
        ...(spec.BlockDevice.KmsKeyId ? { kmsKeyId: spec.BlockDevice.KmsKeyId } : {}),
      },
    }],
    clientToken: token(job.fingerprint, 'recipe', spec.RecipeName, version),
  })));
  // One image per attempt: a replay of the attempt sends the same client token.
  let created;
  try {
    created = await imagebuilder.send(new CreateImageCommand({
      imageRecipeArn: `${spec.RecipeNameArn}/${version}`,
      infrastructureConfigurationArn: spec.InfrastructureConfigurationArn,
      distributionConfigurationArn: spec.DistributionConfigurationArn,
      // No test timeout: Image Builder ignores it ("not currently active"); the runtime gives up on the
      // whole bake at buildTimeout and cancels it.
      imageTestsConfiguration: { imageTestsEnabled: spec.TestsEnabled === 'true' },
      enhancedImageMetadataEnabled: true,
      tags: { [FINGERPRINT_TAG]: job.fingerprint, [BAKE_TAG]: spec.BakeName },
      clientToken: token(job.fingerprint, 'image', attempt.id),
    }));
  } catch (error) {
    // A full quota of concurrent image builds: the runtime tries again later.
    if ((error as Error).name === 'ServiceQuotaExceededException') {
      return { state: 'throttled', reason: `Image Builder refused another image (${errorText(error)}). Raise the account's Image Builder quota of concurrent image builds in Service Quotas, or deploy fewer bakes at once.` };
    }
    throw error;
  }
  if (!created.imageBuildVersionArn) throw new Error(`${job.path}: CreateImage returned no image ARN`);
  return { state: 'started', ref: created.imageBuildVersionArn };
}

/**
 * The build log group, `/aws/imagebuilder/<recipe name>`, with the bake's retention: created, or adopted
 * when an earlier deploy (or a deleted stack) left it. It is not a resource of the stack, so a stack
 * re-created, or a bake reverted into it, never collides with a group of the same name.
 */
async function ensureLogGroup(spec: AmiBakeSpec): Promise<void> {
  const logGroupName = spec.LogGroupName;
  if (!logGroupName) return;
  try {
    await logs.send(new CreateLogGroupCommand({ logGroupName }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceAlreadyExistsException') throw error;
  }
  if (spec.LogRetentionDays) {
    await logs.send(new PutRetentionPolicyCommand({ logGroupName, retentionInDays: Number(spec.LogRetentionDays) }));
  } else {
    await logs.send(new DeleteRetentionPolicyCommand({ logGroupName }));
  }
}

/** Copies one file asset of the bake to where only the bake instances read (see `AmiBakeInfrastructure.stageAsset`). */
async function copyAsset(job: BakeJob, asset: BakeAssetCopy): Promise<void> {
  const source = `${asset.Bucket}/${asset.Key.split('/').map(encodeURIComponent).join('/')}`;
  try {
    await s3.send(new CopyObjectCommand({ Bucket: asset.Bucket, Key: asset.CopyKey, CopySource: source }));
  } catch (error) {
    if (isRetryable(error)) throw error;
    throw new JobFailure(failureMessage(`${job.path}: could not copy the bake's file s3://${asset.Bucket}/${asset.Key} to s3://${asset.Bucket}/${asset.CopyKey}.`, [
      { label: 'Error', text: errorText(error) },
      {
        label: 'What to do',
        text: (error as Error).name === 'NoSuchKey'
          ? 'The CDK asset is missing from the assets bucket (deleted by cdk gc, or never published): deploy again with cdk deploy, which publishes it.'
          : 'Check that the runtime\'s role may read the assets bucket and write under cdk-immutable-deploys/ (a bucket policy or a customer managed key of the bucket can refuse it).',
      },
    ], MAX_REASON_BYTES));
  }
}

async function checkImage(job: BakeJob, imageArn: string): Promise<Outcome> {
  let image: Image | undefined;
  try {
    image = (await imagebuilder.send(new GetImageCommand({ imageBuildVersionArn: imageArn }))).image;
  } catch (e) {
    if ((e as Error).name !== 'ResourceNotFoundException') throw e;
  }
  const status = image?.state?.status ?? 'DELETED';
  if (IN_PROGRESS.has(status)) return { state: 'pending', detail: `${imageArn} is ${status}` };
  if (status === 'AVAILABLE') {
    const region = process.env.AWS_REGION;
    const amis = image?.outputResources?.amis ?? [];
    // Only this region's AMI launches here; a copy in another region does not.
    const ami = amis.find((a) => a.region === region) ?? (region ? undefined : amis[0]);
    if (ami?.image) return { state: 'succeeded', data: ami.image, summary: `Baked ${ami.image} (${imageArn})` };
    return {
      state: 'failed',
      reason: failureMessage(`${job.path}: AMI bake ${imageArn} is AVAILABLE but has no AMI in ${region}.`, [
        { label: 'AMIs', text: amis.map((a) => `${a.region}: ${a.image}`).join(', ') || 'none' },
      ], MAX_SIGNAL_REASON_BYTES),
    };
  }
  if (!image) return { state: 'failed', reason: `${job.path}: the Image Builder image ${imageArn} no longer exists.` };
  return { state: 'failed', reason: await describeFailure(job.path, imageArn, image) };
}

async function cancelImage(imageArn: string): Promise<void> {
  try {
    await imagebuilder.send(new CancelImageCreationCommand({ imageBuildVersionArn: imageArn, clientToken: token(imageArn, 'cancel') }));
    console.log(`Cancelled ${imageArn}.`);
  } catch (error) {
    if (isRetryable(error)) throw error;
    // Gone, or finished between the check and the cancel: nothing left to stop.
    console.log(`Could not cancel ${imageArn}: ${errorText(error)}`);
  }
}

/** The log group and stream of an image's build: `/aws/imagebuilder/<name>` and `<version>/<build>`. */
export function logLocation(imageArn: string): { group: string; stream: string } | undefined {
  const match = /:image\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(imageArn);
  return match ? { group: `/aws/imagebuilder/${match[1]}`, stream: `${match[2]}/${match[3]}` } : undefined;
}

/** The bounded failure reason of a FAILED or CANCELLED image. */
export async function describeFailure(path: string, imageArn: string, image: Image): Promise<string> {
  const status = image.state?.status ?? 'FAILED';
  const parts: FailurePart[] = [];
  if (image.state?.reason) parts.push({ label: 'Reason', text: image.state.reason });
  const failedSteps = await failedWorkflowSteps(imageArn).catch((e) => {
    if (isRetryable(e)) throw e;
    return [`(could not read the workflow: ${errorText(e)})`];
  });
  if (failedSteps.length > 0) parts.push({ label: 'Failed step', text: failedSteps.join('; ') });
  const location = logLocation(imageArn);
  const tail = location ? await logTail(location.group, location.stream) : [];
  const component = failedComponent([image.state?.reason ?? '', ...failedSteps, ...tail]);
  if (component) parts.push({ label: 'Failed component', text: component });
  if (tail.length > 0) parts.push({ label: 'Log tail', text: tail.join('\n'), keepEnd: true });
  if (location) parts.push({ label: 'Full log', text: `CloudWatch Logs group ${location.group}, stream ${location.stream}` });
  return failureMessage(`${path}: AMI bake ${status}: ${imageArn}`, parts, MAX_SIGNAL_REASON_BYTES);
}

async function failedWorkflowSteps(imageArn: string): Promise<string[]> {
  const executions = (await imagebuilder.send(new ListWorkflowExecutionsCommand({ imageBuildVersionArn: imageArn }))).workflowExecutions ?? [];
  const out: string[] = [];
  for (const execution of executions) {
    if (execution.status !== 'FAILED' || !execution.workflowExecutionId) continue;
    const request = new ListWorkflowStepExecutionsCommand({ workflowExecutionId: execution.workflowExecutionId });
    const steps = (await imagebuilder.send(request)).steps ?? [];
    for (const step of steps) {
      if (step.status !== 'FAILED') continue;
      out.push(`${execution.type ?? 'workflow'} step ${step.name} (${step.action})${step.message ? `: ${step.message}` : ''}`);
    }
    if (out.length === 0 && execution.message) out.push(`${execution.type ?? 'workflow'}: ${execution.message}`);
  }
  return out;
}

async function logTail(group: string, stream: string): Promise<string[]> {
  try {
    const request = new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: false, limit: 100 });
    const events = (await logs.send(request)).events ?? [];
    return lastLines(events.map((e) => e.message ?? '').join('\n'), LOG_TAIL_LINES);
  } catch (error) {
    if (isRetryable(error)) throw error;
    if ((error as Error).name === 'ResourceNotFoundException') return ['(no build log: the instance never started logging)'];
    return [`(could not read the log: ${errorText(error)})`];
  }
}

/** The name of the component that failed, from the last text that names one near a failure. */
export function failedComponent(texts: string[]): string | undefined {
  const lines = texts.flatMap((t) => t.split('\n'));
  const arn = /arn:aws[a-z-]*:imagebuilder:[^:\s]*:[^:\s]*:component\/([a-z0-9-_]+)\/[0-9x.]+/;
  let any: string | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = arn.exec(lines[i]);
    if (!match) continue;
    if (/fail|error/i.test(lines[i])) return match[1];
    any = any ?? match[1];
  }
  return any;
}


export { findReusable } from './bake-records-job';
export type { AmiClients, Reusable } from './bake-records-job';

/**
 * The AMI of a bake whose wait completed, read back by its fingerprint (`findReusable`), and what
 * the stack holds: that AMI, and its copies in the regions the bake copies to (`CopyRegions` of the
 * read-back spec, where the runtime may tag), as Image Builder records them.
 */
async function readBack(job: Job<{ readonly CopyRegions?: string }>): Promise<Found | undefined> {
  const found = await findReusable(job.fingerprint);
  if (!found) return undefined;
  const here = process.env.AWS_REGION ?? '';
  const copyRegions = (job.spec.CopyRegions ?? '').split(',').filter((r) => r && r !== here);
  const held: Held[] = [{ kind: 'ami', region: here, id: found.amiId }];
  for (const copy of found.image?.outputResources?.amis ?? []) {
    const ours = copy.accountId === undefined || copy.accountId === found.owner;
    if (copy.image && copy.region && ours && copyRegions.includes(copy.region)) held.push({ kind: 'ami', region: copy.region, id: copy.image });
  }
  return { data: found.amiId, summary: `${job.path}: fingerprint ${job.fingerprint.slice(0, 16)} is ${found.amiId} (${found.imageArn})`, held };
}


async function createIfAbsent(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    // Same name and version means same fingerprint, so the same content: an earlier attempt made it.
    if ((error as Error).name === 'ResourceAlreadyExistsException') return;
    throw error;
  }
}

/** A client token (at most 36 characters) derived from its parts. */
function token(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 36);
}
