/**
 * `isComplete` of the AMI bake provider. Create and update: reuse an AVAILABLE image with this
 * fingerprint whose AMI still exists (and signal the wait condition at once), or attach to a bake
 * of this recipe version that is already running, or create the components and recipe (if
 * absent) and start exactly one image. The image's completion is reported to the wait condition
 * by the reporter, so a bake may take longer than a custom resource may.
 * Delete: cancel a bake of this recipe version that is still running.
 * A result resource (created after the wait condition) reads the AMI id of the finished bake and
 * tags that AMI as in use by its stack, so that no lifecycle policy deletes it while the stack
 * (or a rollback of it) may launch it; deleting the result removes its tag.
 *
 * Throttling and transient faults mean "not complete yet", never a failure.
 */
import { createHash } from 'crypto';
import { CreateTagsCommand, DeleteTagsCommand, DescribeImagesCommand, EC2Client, Image as Ec2Image, Tag } from '@aws-sdk/client-ec2';
import {
  CancelImageCreationCommand,
  CreateComponentCommand,
  CreateImageCommand,
  CreateImageRecipeCommand,
  GetImageCommand,
  ImagebuilderClient,
  ImageSummary,
  ListImageBuildVersionsCommand,
  Platform,
} from '@aws-sdk/client-imagebuilder';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { BAKE_TAG, FINGERPRINT_TAG, IN_USE_TAG_PREFIX, KEEP_TAG, KEPT_BY_TAG, SIGNAL_ID } from './types';
import type { BakeResourceProps, BakeResultProps } from './types';
import { sendSignal } from '../../internal/ami-signal';
import { errorText, failureMessage, isRetryable } from '../../internal/failure';

const imagebuilder = new ImagebuilderClient({});
const ec2 = new EC2Client({});

/** Image states from which an image still becomes AVAILABLE, FAILED or CANCELLED. */
export const IN_PROGRESS = new Set(['PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING']);

export type IsCompleteEvent = CloudFormationCustomResourceEvent & { PhysicalResourceId?: string };

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: { [key: string]: string };
}

export async function handler(event: IsCompleteEvent): Promise<IsCompleteResponse> {
  try {
    if (event.RequestType === 'Delete') return await onDelete(event);
    if ((event.ResourceProperties as { Mode?: string }).Mode === 'result') return await readResult(event);
    return await onCreateOrUpdate(event);
  } catch (error) {
    if (isRetryable(error)) {
      console.log(`Not complete yet, will try again: ${errorText(error)}`);
      return { IsComplete: false };
    }
    if (event.RequestType === 'Delete') {
      // Never block a rollback or a stack delete: what is left is a bake that ends on its own.
      console.log(`Could not cancel a running bake, leaving it: ${errorText(error)}`);
      return { IsComplete: true };
    }
    const props = event.ResourceProperties as unknown as BakeResourceProps & { Mode?: string };
    throw new Error(failureMessage(
      props.Mode === 'result'
        ? `AMI bake with fingerprint ${props.Fingerprint}: could not read or keep its AMI.`
        : `AMI bake ${props.RecipeName}/${props.RecipeVersion} could not start.`,
      [{ label: 'Error', text: errorText(error) }],
    ));
  }
}

async function onCreateOrUpdate(event: IsCompleteEvent): Promise<IsCompleteResponse> {
  const props = event.ResourceProperties as unknown as BakeResourceProps;

  const reusable = await findReusable(props.Fingerprint);
  if (reusable) {
    console.log(`Reusing ${reusable.amiId} (${reusable.imageArn}) with fingerprint ${props.Fingerprint}: no bake.`);
    await sendSignal(props.WaitHandle, {
      Status: 'SUCCESS',
      Reason: `Reused ${reusable.amiId}, baked earlier with fingerprint ${props.Fingerprint.slice(0, 16)}`,
      UniqueId: SIGNAL_ID,
      Data: reusable.amiId,
    });
    return { IsComplete: true, Data: { AmiId: reusable.amiId, ImageArn: reusable.imageArn, Reused: 'true' } };
  }

  const running = (await listImages(props.ImageVersionArn)).find((i) => IN_PROGRESS.has(i.state?.status ?? ''));
  if (running?.arn) {
    console.log(`A bake of this recipe version is already running: ${running.arn}. Its completion signals the wait condition.`);
    return { IsComplete: true, Data: { ImageArn: running.arn, Reused: 'false' } };
  }

  for (const component of props.Components) {
    await createIfAbsent(() => imagebuilder.send(new CreateComponentCommand({
      name: component.Name,
      semanticVersion: component.Version,
      platform: component.Platform as Platform,
      description: component.Description,
      data: component.Data,
      clientToken: token(props.Fingerprint, 'component', component.Name),
    })));
  }

  await createIfAbsent(() => imagebuilder.send(new CreateImageRecipeCommand({
    name: props.RecipeName,
    semanticVersion: props.RecipeVersion,
    description: `cdk-immutable-deploys bake, fingerprint ${props.Fingerprint}`,
    parentImage: props.ParentImage,
    components: props.ComponentArns.map((componentArn) => ({ componentArn })),
    blockDeviceMappings: [{
      deviceName: props.BlockDevice.DeviceName,
      ebs: {
        encrypted: true,
        deleteOnTermination: true,
        volumeType: 'gp3',
        ...(props.BlockDevice.VolumeSize ? { volumeSize: Number(props.BlockDevice.VolumeSize) } : {}),
        ...(props.BlockDevice.KmsKeyId ? { kmsKeyId: props.BlockDevice.KmsKeyId } : {}),
      },
    }],
    clientToken: token(props.Fingerprint, 'recipe', props.RecipeName),
  })));

  // One image per request: a replayed request carries the same RequestId, so the same client token.
  const created = await imagebuilder.send(new CreateImageCommand({
    imageRecipeArn: props.RecipeArn,
    infrastructureConfigurationArn: props.InfrastructureConfigurationArn,
    distributionConfigurationArn: props.DistributionConfigurationArn,
    imageTestsConfiguration: { imageTestsEnabled: props.TestsEnabled === 'true', timeoutMinutes: Number(props.TestTimeoutMinutes) },
    enhancedImageMetadataEnabled: true,
    tags: { [FINGERPRINT_TAG]: props.Fingerprint, [BAKE_TAG]: props.BakeName },
    clientToken: token(props.Fingerprint, 'image', event.RequestId),
  }));
  console.log(`Started ${created.imageBuildVersionArn} for fingerprint ${props.Fingerprint}.`);
  return { IsComplete: true, Data: { ImageArn: created.imageBuildVersionArn ?? '', Reused: 'false' } };
}

/**
 * Reads the AMI id of a finished bake (the wait condition has completed): the AVAILABLE image with
 * the fingerprint, and tags it as in use by this result, so that no lifecycle policy deletes it.
 * Not found yet (tags are eventually consistent) means "not complete yet".
 */
async function readResult(event: IsCompleteEvent): Promise<IsCompleteResponse> {
  const fingerprint = (event.ResourceProperties as unknown as BakeResultProps).Fingerprint;
  const found = await findReusable(fingerprint);
  if (!found) {
    console.log(`No AVAILABLE AMI with fingerprint ${fingerprint} yet.`);
    return { IsComplete: false };
  }
  await holdAmi(found.amiId, found.tags, inUseTag(event));
  return { IsComplete: true, Data: { AmiId: found.amiId, ImageArn: found.imageArn } };
}

/**
 * The tag by which one result resource records that its stack uses an AMI: one per stack and
 * logical id, so that another stack (or stage) reusing the same AMI keeps its own.
 */
export function inUseTag(event: { StackId: string; LogicalResourceId: string }): Tag {
  const hash = createHash('sha256').update(`${event.StackId}\n${event.LogicalResourceId}`).digest('hex').slice(0, 24);
  const stackName = /:stack\/([^/]+)\//.exec(event.StackId)?.[1] ?? event.StackId;
  return { Key: `${IN_USE_TAG_PREFIX}${hash}`, Value: `${stackName}/${event.LogicalResourceId}`.slice(0, 256) };
}

/** Tags an AMI as in use, and as kept from lifecycle policies unless a user already keeps it. */
async function holdAmi(amiId: string, tags: Tag[], inUse: Tag): Promise<void> {
  const present = new Map(tags.map((t) => [t.Key, t.Value]));
  const add: Tag[] = [];
  if (present.get(inUse.Key!) !== inUse.Value) add.push(inUse);
  if (present.get(KEEP_TAG) !== 'true') add.push({ Key: KEEP_TAG, Value: 'true' }, { Key: KEPT_BY_TAG, Value: 'cdk-immutable-deploys' });
  if (add.length === 0) return;
  await ec2.send(new CreateTagsCommand({ Resources: [amiId], Tags: add }));
  console.log(`Tagged ${amiId} as in use (${inUse.Value}): ${add.map((t) => t.Key).join(', ')}.`);
}

/**
 * Removes a result's in-use tag from the AMIs that carry it; the last user also removes the keep
 * tag the results set (never one a user set), so the lifecycle policy may delete the AMI again.
 */
async function releaseAmis(inUse: Tag): Promise<void> {
  const images: Ec2Image[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'tag-key', Values: [inUse.Key!] }], NextToken: nextToken }));
    images.push(...(page.Images ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  for (const image of images) {
    if (!image.ImageId) continue;
    await ec2.send(new DeleteTagsCommand({ Resources: [image.ImageId], Tags: [{ Key: inUse.Key }] }));
    const tags = image.Tags ?? [];
    const otherUsers = tags.filter((t) => t.Key?.startsWith(IN_USE_TAG_PREFIX) && t.Key !== inUse.Key);
    if (otherUsers.length === 0 && tags.some((t) => t.Key === KEPT_BY_TAG)) {
      await ec2.send(new DeleteTagsCommand({ Resources: [image.ImageId], Tags: [{ Key: KEEP_TAG }, { Key: KEPT_BY_TAG }] }));
    }
    console.log(`Released ${image.ImageId} (${inUse.Value}); ${otherUsers.length} other user(s) keep it.`);
  }
}

async function onDelete(event: IsCompleteEvent): Promise<IsCompleteResponse> {
  const physicalId = event.PhysicalResourceId ?? '';
  if (physicalId.startsWith('result:')) {
    await releaseAmis(inUseTag(event));
    return { IsComplete: true };
  }
  const imageVersionArn = imageVersionArnOf(physicalId);
  if (!imageVersionArn) {
    console.log(`Physical id '${physicalId}' names no recipe version: nothing to cancel.`);
    return { IsComplete: true };
  }
  for (const image of await listImages(imageVersionArn)) {
    if (!image.arn || !IN_PROGRESS.has(image.state?.status ?? '')) continue;
    try {
      await imagebuilder.send(new CancelImageCreationCommand({ imageBuildVersionArn: image.arn, clientToken: token(image.arn, 'cancel') }));
      console.log(`Cancelled ${image.arn} (was ${image.state?.status}).`);
    } catch (error) {
      if (isRetryable(error)) throw error;
      // Gone, or finished between the listing and the cancel: nothing left to stop.
      console.log(`Could not cancel ${image.arn}: ${errorText(error)}`);
    }
  }
  return { IsComplete: true };
}

/** `...:image-recipe/<name>/<version>` gives `...:image/<name>/<version>`. */
export function imageVersionArnOf(recipeArn: string): string | undefined {
  const match = /^(arn:[^:]+:imagebuilder:[^:]+:\d{12}):image-recipe\/([a-z0-9-_]+\/\d+\.\d+\.\d+)$/.exec(recipeArn);
  return match ? `${match[1]}:image/${match[2]}` : undefined;
}

/**
 * The newest AMI of this account tagged with the fingerprint that exists and whose Image Builder
 * image is AVAILABLE and was created for this fingerprint (the distribution configuration, which
 * tags the AMIs, is shared by every version of a bake and may have changed while an image ran).
 */
async function findReusable(fingerprint: string): Promise<{ amiId: string; imageArn: string; tags: Tag[] } | undefined> {
  const images: Ec2Image[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeImagesCommand({
      Owners: ['self'],
      Filters: [{ Name: `tag:${FINGERPRINT_TAG}`, Values: [fingerprint] }, { Name: 'state', Values: ['available'] }],
      NextToken: nextToken,
    }));
    images.push(...(page.Images ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  images.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''));
  for (const ami of images) {
    if (!ami.ImageId) continue;
    const imageArn = ami.Tags?.find((t) => t.Key === 'Ec2ImageBuilderArn')?.Value;
    const tags = ami.Tags ?? [];
    if (!imageArn) return { amiId: ami.ImageId, imageArn: '', tags };
    try {
      const image = await imagebuilder.send(new GetImageCommand({ imageBuildVersionArn: imageArn }));
      const imageFingerprint = image.image?.tags?.[FINGERPRINT_TAG];
      if (imageFingerprint !== undefined && imageFingerprint !== fingerprint) {
        console.log(`${ami.ImageId} has the fingerprint tag, but ${imageArn} was created for ${imageFingerprint}: not reused.`);
        continue;
      }
      if (image.image?.state?.status === 'AVAILABLE') return { amiId: ami.ImageId, imageArn, tags };
      console.log(`${ami.ImageId} has the fingerprint, but ${imageArn} is ${image.image?.state?.status}: not reused.`);
    } catch (error) {
      if (isRetryable(error)) throw error;
      const name = (error as Error).name;
      // The Image Builder record was deleted; the AMI itself is still there and tagged.
      if (name === 'ResourceNotFoundException') return { amiId: ami.ImageId, imageArn, tags };
      if (name !== 'AccessDeniedException' && name !== 'ForbiddenException') throw error;
      console.log(`${ami.ImageId} has the fingerprint, but ${imageArn} cannot be read (${name}): not reused.`);
    }
  }
  return undefined;
}

async function listImages(imageVersionArn: string): Promise<ImageSummary[]> {
  const images: ImageSummary[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await imagebuilder.send(new ListImageBuildVersionsCommand({ imageVersionArn, nextToken }));
      images.push(...(page.imageSummaryList ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return [];
    throw error;
  }
  return images;
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
