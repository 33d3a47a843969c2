/**
 * The AMI-bake job of the deploy-time runtime: an EC2 Image Builder image of the bake's recipe
 * version, whose components and recipe are named and versioned by the fingerprint.
 *
 * - find: the newest AMI of this account tagged with the fingerprint, whose Image Builder image is
 *   AVAILABLE and was created for this fingerprint (or whose Image Builder record is gone).
 * - start: attach to an image of this recipe version that is still running, or create (or adopt) the
 *   build log group with its retention, copy the bake's files where its instances read them, create
 *   the components and recipe (if absent) and one image, with a client token of the attempt. The
 *   recipe's version follows the fingerprint, the parent AMI and the key, so that a recipe never names
 *   a parent AMI that is gone (a layered bake reverted past its foundation's retention).
 * - check: a running image is pending; an AVAILABLE one gives its AMI in this region; a FAILED or
 *   CANCELLED one gives the state's reason, the failed workflow step and component, the tail of
 *   the build log and where the whole log is.
 * - cancel: cancels a running image. No AMI is ever deleted here.
 * - hold / release: the tags by which a stack marks the AMI it uses, and its copies in the other
 *   regions of the distribution, so that no lifecycle policy deletes them (the last user's release
 *   removes the keep tag this library set, never a user's).
 * - destroy (removal policy DESTROY, when the stack is deleted): every AMI of the bake (its bake tag)
 *   in this region and the distribution's, with its snapshots, except those another stack holds or a
 *   user keeps; then the Image Builder images, recipes and components of the bake, and its build log
 *   group (which the runtime created, not the stack).
 */
import { createHash } from 'crypto';
import {
  CloudWatchLogsClient, CreateLogGroupCommand, DeleteLogGroupCommand, DeleteRetentionPolicyCommand, GetLogEventsCommand, PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateTagsCommand, DeleteSnapshotCommand, DeleteSnapshotReturnCode, DeleteTagsCommand, DeregisterImageCommand,
  DescribeImagesCommand, DescribeImagesCommandInput, EC2Client, Image as Ec2Image, Tag,
} from '@aws-sdk/client-ec2';
import {
  CancelImageCreationCommand,
  CreateComponentCommand,
  CreateImageCommand,
  CreateImageRecipeCommand,
  DeleteComponentCommand,
  DeleteImageCommand,
  DeleteImageRecipeCommand,
  GetImageCommand,
  GetImageRecipeCommand,
  Image,
  ImagebuilderClient,
  ImageSummary,
  ListComponentBuildVersionsCommand,
  ListImageBuildVersionsCommand,
  ListImageRecipesCommand,
  ListWorkflowExecutionsCommand,
  ListWorkflowStepExecutionsCommand,
  Platform,
} from '@aws-sdk/client-imagebuilder';
import { CopyObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BAKE_TAG, FINGERPRINT_TAG, KEEP_TAG, KEPT_BY_TAG } from './types';
import type { AmiBakeSpec, BakeAssetCopy } from './types';
import { errorText, failureMessage, FailurePart, isRetryable, lastLines, MAX_REASON_BYTES } from '../../internal/failure';
import { MAX_SIGNAL_REASON_BYTES } from '../../internal/runtime/http';
import type { Attempt, Destroyed, Job, JobRunner, Outcome, Retry, Started } from '../../internal/runtime/job';
import { JobFailure } from '../../internal/runtime/job';
import { IN_USE_TAG_PREFIX } from '../../internal/runtime/protocol';

const imagebuilder = new ImagebuilderClient({});
const ec2 = new EC2Client({});
const ec2Clients = new Map<string, EC2Client>();
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
  hold: (job, amiId, holdTag) => holdAmis(job, amiId, { Key: holdTag, Value: job.path.slice(0, 256) }),
  release: (holdTag, jobs) => releaseAmis(holdTag, jobs.filter((j) => j.kind === 'ami-bake')),
  destroy: (job, retry, holdTag) => destroyBake(job, retry, holdTag),
};

/**
 * The recipe version of a bake: `1.<28 bits>.<28 bits>` of a hash of the fingerprint, the parent AMI
 * and the root volume's key, as this deploy resolved them. A recipe (name and version) is created once
 * and never changes; a layered bake's parent AMI is known only at deploy time, and a foundation baked
 * again after its AMI was deleted has a new AMI id under the same fingerprint: a new version, so that
 * the recipe never names an AMI that is gone.
 */
export function recipeVersionOf(fingerprint: string, spec: Pick<AmiBakeSpec, 'ParentImage' | 'BlockDevice'>): string {
  const hex = createHash('sha256').update([fingerprint, spec.ParentImage, spec.BlockDevice?.KmsKeyId ?? ''].join('\n')).digest('hex');
  return `1.${parseInt(hex.slice(0, 7), 16)}.${parseInt(hex.slice(7, 14), 16)}`;
}

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
      clientToken: token(job.fingerprint, 'component', component.Name),
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
    clientToken: token(job.fingerprint, 'recipe', spec.RecipeName),
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

/**
 * Tags an AMI as used by one version of a stack's jobs, and as kept from lifecycle policies unless a
 * user already keeps it; and the same for its copies in the other regions of the distribution (found
 * by the fingerprint tag the distribution puts on every copy), which a lifecycle policy there could
 * otherwise delete while a stack in that region runs them.
 */
async function holdAmis(job: BakeJob, amiId: string, inUse: Tag): Promise<void> {
  await holdAmi(ec2, amiId, inUse);
  for (const region of copyRegionsOf([job])) {
    const client = ec2In(region);
    for (const copy of await describeImages({ Owners: ['self'], Filters: [{ Name: `tag:${FINGERPRINT_TAG}`, Values: [job.fingerprint] }] }, client)) {
      if (copy.ImageId) await holdAmi(client, copy.ImageId, inUse, copy);
    }
  }
}

async function holdAmi(client: EC2Client, amiId: string, inUse: Tag, known?: Ec2Image): Promise<void> {
  const image = known ?? (await describeImages({ ImageIds: [amiId] }, client))[0];
  const present = new Map((image?.Tags ?? []).map((t) => [t.Key, t.Value]));
  const add: Tag[] = [];
  if (present.get(inUse.Key!) !== inUse.Value) add.push(inUse);
  if (present.get(KEEP_TAG) !== 'true') add.push({ Key: KEEP_TAG, Value: 'true' }, { Key: KEPT_BY_TAG, Value: 'cdk-immutable-deploys' });
  if (add.length === 0) return;
  await client.send(new CreateTagsCommand({ Resources: [amiId], Tags: add }));
  console.log(`Tagged ${amiId} as in use (${inUse.Value}): ${add.map((t) => t.Key).join(', ')}.`);
}

/**
 * Removes one in-use tag from the AMIs that carry it, in this region and in every region the jobs copy
 * to; the last user also removes the keep tag the runtime set (never one a user set), so that the
 * lifecycle policy may delete the AMI again.
 */
async function releaseAmis(holdTag: string, jobs: BakeJob[]): Promise<void> {
  for (const client of [ec2, ...copyRegionsOf(jobs).map(ec2In)]) {
    for (const image of await describeImages({ Owners: ['self'], Filters: [{ Name: 'tag-key', Values: [holdTag] }] }, client)) {
      if (!image.ImageId) continue;
      await client.send(new DeleteTagsCommand({ Resources: [image.ImageId], Tags: [{ Key: holdTag }] }));
      const tags = image.Tags ?? [];
      const otherUsers = tags.filter((t) => t.Key?.startsWith(IN_USE_TAG_PREFIX) && t.Key !== holdTag);
      if (otherUsers.length === 0 && tags.some((t) => t.Key === KEPT_BY_TAG)) {
        await client.send(new DeleteTagsCommand({ Resources: [image.ImageId], Tags: [{ Key: KEEP_TAG }, { Key: KEPT_BY_TAG }] }));
      }
      console.log(`Released ${image.ImageId}; ${otherUsers.length} other user(s) keep it.`);
    }
  }
}

/** The other regions the bakes of these jobs copy to. */
function copyRegionsOf(jobs: BakeJob[]): string[] {
  const here = process.env.AWS_REGION;
  return [...new Set(jobs.flatMap((j) => (Array.isArray(j.spec?.CopyRegions) ? j.spec.CopyRegions : [])))].filter((r) => r !== here).sort();
}

/** The EC2 client of another region. */
function ec2In(region: string): EC2Client {
  let client = ec2Clients.get(region);
  if (!client) {
    client = new EC2Client({ region });
    ec2Clients.set(region, client);
  }
  return client;
}

async function describeImages(input: DescribeImagesCommandInput, client: EC2Client = ec2): Promise<Ec2Image[]> {
  const images: Ec2Image[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new DescribeImagesCommand({ ...input, NextToken: nextToken }));
    images.push(...(page.Images ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return images;
}

/** The clients `findReusable` asks: the runtime's own, or those of another region (the plan command). */
export interface AmiClients {
  readonly ec2: EC2Client;
  readonly imagebuilder: ImagebuilderClient;
}

/**
 * The newest AMI of this account tagged with the fingerprint that exists and whose Image Builder
 * image is AVAILABLE and was created for this fingerprint (the distribution configuration, which
 * tags the AMIs, is shared by every version of a bake and may have changed while an image ran).
 */
export async function findReusable(
  fingerprint: string,
  clients: AmiClients = { ec2, imagebuilder },
): Promise<{ amiId: string; imageArn: string } | undefined> {
  const images = await describeImages({
    Owners: ['self'],
    Filters: [{ Name: `tag:${FINGERPRINT_TAG}`, Values: [fingerprint] }, { Name: 'state', Values: ['available'] }],
  }, clients.ec2);
  images.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''));
  for (const ami of images) {
    if (!ami.ImageId) continue;
    const imageArn = ami.Tags?.find((t) => t.Key === 'Ec2ImageBuilderArn')?.Value;
    if (!imageArn) return { amiId: ami.ImageId, imageArn: '' };
    try {
      const image = await clients.imagebuilder.send(new GetImageCommand({ imageBuildVersionArn: imageArn }));
      const imageFingerprint = image.image?.tags?.[FINGERPRINT_TAG];
      if (imageFingerprint !== undefined && imageFingerprint !== fingerprint) {
        console.log(`${ami.ImageId} has the fingerprint tag, but ${imageArn} was created for ${imageFingerprint}: not reused.`);
        continue;
      }
      if (image.image?.state?.status === 'AVAILABLE') return { amiId: ami.ImageId, imageArn };
      console.log(`${ami.ImageId} has the fingerprint, but ${imageArn} is ${image.image?.state?.status}: not reused.`);
    } catch (error) {
      if (isRetryable(error)) throw error;
      const name = (error as Error).name;
      // The Image Builder record was deleted; the AMI itself is still there and tagged.
      if (name === 'ResourceNotFoundException') return { amiId: ami.ImageId, imageArn };
      if (name !== 'AccessDeniedException' && name !== 'ForbiddenException') throw error;
      console.log(`${ami.ImageId} has the fingerprint, but ${imageArn} cannot be read (${name}): not reused.`);
    }
  }
  return undefined;
}

async function listImages(imageVersionArn: string): Promise<ImageSummary[]> {
  return allPages(async (nextToken) => {
    const page = await imagebuilder.send(new ListImageBuildVersionsCommand({ imageVersionArn, nextToken }));
    return { items: page.imageSummaryList, nextToken: page.nextToken };
  }, true);
}

/** One page of an Image Builder list. */
type Page<T> = { items?: T[]; nextToken?: string };

/** Every item of an Image Builder list, page by page; none when `goneIsEmpty` and what it lists is gone. */
async function allPages<T>(page: (nextToken: string | undefined) => Promise<Page<T>>, goneIsEmpty: boolean): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const got = await page(nextToken);
      items.push(...(got.items ?? []));
      nextToken = got.nextToken;
    } while (nextToken);
  } catch (error) {
    if (goneIsEmpty && (error as Error).name === 'ResourceNotFoundException') return [];
    throw error;
  }
  return items;
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

/** EC2 and Image Builder error codes of a resource that is already gone. */
const GONE = new Set(['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable', 'InvalidSnapshot.NotFound', 'ResourceNotFoundException']);

/**
 * Deletes what a bake made over the stack's life (its removal policy is DESTROY and the stack is being
 * deleted). AMIs are found by the bake's tag, which the distribution puts on every AMI it creates, in
 * this region and in every region it copies to; an AMI that another stack still holds (an in-use tag
 * other than the deleted stack's own `holdTag`) or that a user keeps (the keep tag, not set by the runtime) stays. Each AMI is deregistered with
 * its snapshots (`DeleteAssociatedSnapshots`); EC2 keeps one that another AMI still uses. The Image Builder
 * images (which never delete their AMIs), then the recipes, then the components of the bake go last:
 * a recipe cannot be deleted while an image of it exists.
 */
async function destroyBake(job: BakeJob, retry: Retry, holdTag: string): Promise<Destroyed> {
  const spec = job.spec;
  const deleted: string[] = [];
  const left: string[] = [];
  const attempt = async (what: string, call: () => Promise<unknown>): Promise<boolean> => {
    try {
      await retry(call);
      deleted.push(what);
      return true;
    } catch (e) {
      if (GONE.has((e as Error).name) || GONE.has((e as { Code?: string }).Code ?? '')) return true;
      left.push(`${what}: ${errorText(e)}`);
      return false;
    }
  };

  const here = process.env.AWS_REGION ?? '';
  for (const [region, client] of [[here, ec2] as const, ...copyRegionsOf([job]).map((r) => [r, ec2In(r)] as const)]) {
    const amis = await retry(() => describeImages({ Owners: ['self'], Filters: [{ Name: `tag:${BAKE_TAG}`, Values: [spec.BakeName] }] }, client));
    for (const ami of amis) {
      if (!ami.ImageId) continue;
      const where = `${ami.ImageId} (${region || 'this region'})`;
      const tags = ami.Tags ?? [];
      const users = tags.filter((t) => t.Key?.startsWith(IN_USE_TAG_PREFIX) && t.Key !== holdTag).length;
      if (users > 0) {
        left.push(`${where}: ${users} other stack(s) still use it`);
        continue;
      }
      if (tags.some((t) => t.Key === KEEP_TAG && t.Value === 'true') && !tags.some((t) => t.Key === KEPT_BY_TAG)) {
        left.push(`${where}: kept by its ${KEEP_TAG} tag`);
        continue;
      }
      // EC2 deletes the AMI's snapshots with it, except one that another AMI still uses, and says what it did with each.
      let results: DeleteSnapshotReturnCode[] | undefined;
      const deregistered = await attempt(`AMI ${where}`, async () => {
        results = (await client.send(new DeregisterImageCommand({ ImageId: ami.ImageId, DeleteAssociatedSnapshots: true }))).DeleteSnapshotResults;
      });
      if (!deregistered) continue;
      const snapshotName = (id: string) => `snapshot ${id} (${region || 'this region'})`;
      if (results === undefined) {
        // Deregistered before (a destroy that stopped half-way): its snapshots may be left, and are deleted one by one.
        for (const id of (ami.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId)) {
          if (id) await attempt(snapshotName(id), () => client.send(new DeleteSnapshotCommand({ SnapshotId: id })));
        }
        continue;
      }
      for (const result of results) {
        if (!result.SnapshotId) continue;
        if (result.ReturnCode === 'success') deleted.push(snapshotName(result.SnapshotId));
        else if (result.ReturnCode === 'skipped') left.push(`${snapshotName(result.SnapshotId)}: another AMI still uses it`);
        else left.push(`${snapshotName(result.SnapshotId)}: not deleted (${result.ReturnCode ?? 'no result'}; the DeleteSnapshot event in CloudTrail says why)`);
      }
    }
  }

  // Every version of the bake's recipe; the images of each version; the bake's own components they name.
  const recipes = await retry(() => listRecipes(spec.BakeName));
  const components = new Set(ownComponents(spec.BakeName, spec.ComponentArns ?? []));
  for (const recipeArn of recipes) {
    const recipe = await retry(() => imagebuilder.send(new GetImageRecipeCommand({ imageRecipeArn: recipeArn }))).catch((e) => {
      if (GONE.has((e as Error).name)) return undefined;
      throw e;
    });
    ownComponents(spec.BakeName, (recipe?.imageRecipe?.components ?? []).map((c) => c.componentArn ?? '')).forEach((c) => components.add(c));
    let imagesLeft = false;
    for (const image of await retry(() => listImages(recipeArn.replace(':image-recipe/', ':image/')))) {
      if (!image.arn) continue;
      if (!(await attempt(`image ${image.arn}`, () => imagebuilder.send(new DeleteImageCommand({ imageBuildVersionArn: image.arn }))))) imagesLeft = true;
    }
    if (imagesLeft) {
      left.push(`recipe ${recipeArn}: an image of it is left`);
      continue;
    }
    await attempt(`recipe ${recipeArn}`, () => imagebuilder.send(new DeleteImageRecipeCommand({ imageRecipeArn: recipeArn })));
  }
  for (const componentArn of [...components].sort()) {
    for (const build of await retry(() => listComponentBuilds(componentArn))) {
      await attempt(`component ${build}`, () => imagebuilder.send(new DeleteComponentCommand({ componentBuildVersionArn: build })));
    }
  }
  if (spec.LogGroupName) {
    await attempt(`log group ${spec.LogGroupName}`, () => logs.send(new DeleteLogGroupCommand({ logGroupName: spec.LogGroupName })));
  }
  return { deleted, left };
}

/** The component version ARNs among `arns` that the bake created (not AWS-managed ones, not another bake's). */
function ownComponents(bakeName: string, arns: string[]): string[] {
  return arns.filter((arn) => /:\d{12}:component\//.test(arn) && arn.includes(`:component/${bakeName}-`)).map((arn) => arn.split('/').slice(0, 3).join('/'));
}

/** Every version of a recipe name of this account. */
async function listRecipes(name: string): Promise<string[]> {
  const recipes = await allPages(async (nextToken) => {
    const page = await imagebuilder.send(new ListImageRecipesCommand({ owner: 'Self', filters: [{ name: 'name', values: [name] }], nextToken }));
    return { items: page.imageRecipeSummaryList, nextToken: page.nextToken };
  }, false);
  return recipes.filter((r) => r.name === name && r.arn).map((r) => r.arn!);
}

/** The build versions of a component version; none when it is gone. */
async function listComponentBuilds(componentVersionArn: string): Promise<string[]> {
  const builds = await allPages(async (nextToken) => {
    const page = await imagebuilder.send(new ListComponentBuildVersionsCommand({ componentVersionArn, nextToken }));
    return { items: page.componentSummaryList, nextToken: page.nextToken };
  }, true);
  return builds.map((c) => c.arn ?? '').filter((a) => a);
}
