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
 * - readBack: once the bake's wait completed, the AMI of the fingerprint in this region, read from
 *   EC2 and Image Builder (never from the wait's signal), with the copies Image Builder made of it in
 *   this account's other regions: what the bake's stack holds (`hold-job.ts`).
 * - destroy (removal policy DESTROY, when the stack is deleted): every AMI that Image Builder records
 *   as an output of the bake's images (never one chosen by a tag, which anyone who may tag can set),
 *   in every region, with its snapshots, except those another stack holds, a user keeps, or another
 *   account may launch; then the Image Builder images, recipes and components of the bake, and
 *   its build log group (which the runtime created, not the stack).
 */
import { createHash } from 'crypto';
import {
  CloudWatchLogsClient, CreateLogGroupCommand, DeleteLogGroupCommand, DeleteRetentionPolicyCommand, GetLogEventsCommand, PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteSnapshotCommand, DeleteSnapshotReturnCode, DeregisterImageCommand, DescribeImageAttributeCommand,
  DescribeImagesCommand, DescribeImagesCommandInput, EC2Client, Image as Ec2Image,
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
import type { Attempt, DeletedStack, Destroyed, Found, Held, Job, JobRunner, Outcome, Retry, Started } from '../../internal/runtime/job';
import { JobFailure } from '../../internal/runtime/job';

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
  readBack: (job) => readBack(job as unknown as Job<{ readonly CopyRegions?: string }>),
  destroy: (job, retry, stack) => destroyBake(job, retry, stack),
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

/** An AMI that may be reused for a fingerprint, with the Image Builder image that made it. */
export interface Reusable {
  readonly amiId: string;
  readonly imageArn: string;
  /** The AMI's owner: this account. */
  readonly owner?: string;
  /** The Image Builder image: its outputs in every region. */
  readonly image?: Image;
}

/**
 * The newest AMI of this account tagged with the fingerprint that exists and that Image Builder
 * itself records as the output of an AVAILABLE image created for this fingerprint (the image's own
 * fingerprint tag, which the runtime sets when it creates the image; the distribution configuration,
 * which tags the AMIs, is shared by every version of a bake and may have changed while an image ran).
 * A tag alone proves nothing (whoever may tag an AMI can set it): an AMI whose Image Builder image is
 * gone, or does not list it, is not reused.
 */
export async function findReusable(
  fingerprint: string,
  clients: AmiClients = { ec2, imagebuilder },
): Promise<Reusable | undefined> {
  const images = await describeImages({
    Owners: ['self'],
    Filters: [{ Name: `tag:${FINGERPRINT_TAG}`, Values: [fingerprint] }, { Name: 'state', Values: ['available'] }],
  }, clients.ec2);
  images.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''));
  for (const ami of images) {
    if (!ami.ImageId) continue;
    const imageArn = ami.Tags?.find((t) => t.Key === 'Ec2ImageBuilderArn')?.Value;
    if (!imageArn) {
      console.log(`${ami.ImageId} has the fingerprint tag, but no Image Builder image: not reused.`);
      continue;
    }
    try {
      const image = (await clients.imagebuilder.send(new GetImageCommand({ imageBuildVersionArn: imageArn }))).image;
      const imageFingerprint = image?.tags?.[FINGERPRINT_TAG];
      if (imageFingerprint !== fingerprint) {
        console.log(`${ami.ImageId} has the fingerprint tag, but ${imageArn} was created for ${imageFingerprint ?? 'no fingerprint'}: not reused.`);
        continue;
      }
      if (!(image?.outputResources?.amis ?? []).some((a) => a.image === ami.ImageId)) {
        console.log(`${ami.ImageId} has the fingerprint tag, but ${imageArn} did not make it: not reused.`);
        continue;
      }
      if (image?.state?.status === 'AVAILABLE') return { amiId: ami.ImageId, imageArn, owner: ami.OwnerId, image };
      console.log(`${ami.ImageId} has the fingerprint, but ${imageArn} is ${image?.state?.status}: not reused.`);
    } catch (error) {
      if (isRetryable(error)) throw error;
      const name = (error as Error).name;
      if (name !== 'ResourceNotFoundException' && name !== 'AccessDeniedException' && name !== 'ForbiddenException') throw error;
      console.log(`${ami.ImageId} has the fingerprint, but ${imageArn} cannot be read (${name}): not reused.`);
    }
  }
  return undefined;
}

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
 * deleted). The AMIs are those Image Builder records as outputs of the bake's images (every version of
 * its recipe), in every region, in this account: never AMIs chosen by a tag, which anyone who may tag
 * an AMI could set (review 2026-12-06-runtime #11). An AMI stays when another stack holds it (the
 * account's register), a user keeps it (the keep tag, not set by the runtime), or another account may
 * launch it (its launch permissions: a stage there may run it, and this account cannot see whether
 * one does). Each other AMI is deregistered with its snapshots (`DeleteAssociatedSnapshots`); EC2
 * keeps one that another AMI still uses. The Image Builder images (which never delete their AMIs),
 * then the recipes, then the components of the bake go last: a recipe cannot be deleted while an
 * image of it exists.
 */
async function destroyBake(job: BakeJob, retry: Retry, stack: DeletedStack): Promise<Destroyed> {
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

  // Every version of the bake's recipe, and the images of each: what Image Builder made for this bake.
  const account = stack.stackId.split(':')[4];
  const recipes = await retry(() => listRecipes(spec.BakeName));
  const imagesOf = new Map<string, ImageSummary[]>();
  const amis = new Map<string, Held>();
  for (const recipeArn of recipes) {
    const images = await retry(() => listImages(recipeArn.replace(':image-recipe/', ':image/')));
    imagesOf.set(recipeArn, images);
    for (const output of images.flatMap((i) => i.outputResources?.amis ?? [])) {
      const ours = output.accountId === undefined || output.accountId === account;
      if (output.image && output.region && ours) amis.set(`${output.region}/${output.image}`, { kind: 'ami', region: output.region, id: output.image });
    }
  }
  for (const ami of amis.values()) {
    await destroyAmi(ami, retry, stack, attempt, deleted, left);
  }

  // The images of each version of the recipe, the recipe, and the bake's own components it names.
  const components = new Set(ownComponents(spec.BakeName, spec.ComponentArns ?? []));
  for (const recipeArn of recipes) {
    const recipe = await retry(() => imagebuilder.send(new GetImageRecipeCommand({ imageRecipeArn: recipeArn }))).catch((e) => {
      if (GONE.has((e as Error).name)) return undefined;
      throw e;
    });
    ownComponents(spec.BakeName, (recipe?.imageRecipe?.components ?? []).map((c) => c.componentArn ?? '')).forEach((c) => components.add(c));
    let imagesLeft = false;
    for (const image of imagesOf.get(recipeArn) ?? []) {
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

/**
 * Deregisters one AMI of the bake with its snapshots, unless another stack holds it, a user keeps it,
 * or another account may launch it: then it is left, with why.
 */
async function destroyAmi(
  ami: Held, retry: Retry, stack: DeletedStack,
  attempt: (what: string, call: () => Promise<unknown>) => Promise<boolean>, deleted: string[], left: string[],
): Promise<void> {
  const here = process.env.AWS_REGION ?? '';
  const client = ami.region === here ? ec2 : ec2In(ami.region);
  const where = `${ami.id} (${ami.region})`;
  const holders = await retry(() => stack.holders(ami));
  if (holders.length > 0) {
    left.push(`${where}: ${holders.length} other stack(s) hold it: ${holders.join(', ')}`);
    return;
  }
  const described = await retry(() => describeImages({ ImageIds: [ami.id] }, client)).catch((e) => {
    if (GONE.has((e as Error).name)) return [];
    throw e;
  });
  const image = described.find((i) => i.ImageId === ami.id);
  if (!image) return; // deregistered long ago: nothing left of it
  const tags = image.Tags ?? [];
  if (tags.some((t) => t.Key === KEEP_TAG && t.Value === 'true') && !tags.some((t) => t.Key === KEPT_BY_TAG)) {
    left.push(`${where}: kept by its ${KEEP_TAG} tag`);
    return;
  }
  if (image.State !== 'deregistered') {
    const permissions = (await retry(() => client.send(new DescribeImageAttributeCommand({ ImageId: ami.id, Attribute: 'launchPermission' })))).LaunchPermissions ?? [];
    if (permissions.length > 0) {
      const who = permissions.map((p) => p.UserId ?? p.OrganizationArn ?? p.OrganizationalUnitArn ?? p.Group ?? '?').join(', ');
      left.push(`${where}: another account may launch it (${who}), and a stage there may run it: deregister it by hand once none does`);
      return;
    }
  }
  // EC2 deletes the AMI's snapshots with it, except one that another AMI still uses, and says what it did with each.
  let results: DeleteSnapshotReturnCode[] | undefined;
  const deregistered = await attempt(`AMI ${where}`, async () => {
    results = (await client.send(new DeregisterImageCommand({ ImageId: ami.id, DeleteAssociatedSnapshots: true }))).DeleteSnapshotResults;
  });
  if (!deregistered) return;
  const snapshotName = (id: string) => `snapshot ${id} (${ami.region})`;
  if (results === undefined) {
    // Deregistered before (a destroy that stopped half-way): its snapshots may be left, and are deleted one by one.
    for (const id of (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId)) {
      if (id) await attempt(snapshotName(id), () => client.send(new DeleteSnapshotCommand({ SnapshotId: id })));
    }
    return;
  }
  for (const result of results) {
    if (!result.SnapshotId) continue;
    if (result.ReturnCode === 'success') deleted.push(snapshotName(result.SnapshotId));
    else if (result.ReturnCode === 'skipped') left.push(`${snapshotName(result.SnapshotId)}: another AMI still uses it`);
    else left.push(`${snapshotName(result.SnapshotId)}: not deleted (${result.ReturnCode ?? 'no result'}; the DeleteSnapshot event in CloudTrail says why)`);
  }
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
