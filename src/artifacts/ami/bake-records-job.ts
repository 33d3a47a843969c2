/**
 * How the AMI-bake job reads EC2's and Image Builder's records: every page of a listing, the images
 * of a recipe version, the versions of a recipe, the builds of a component, and the EC2 client of a
 * region, and the AMI a fingerprint may reuse (`findReusable`). Shared by the bake (`bake-job.ts`),
 * what deletes its AMIs (`bake-cleanup-job.ts`) and the plan command, which loads no more of the bake.
 *
 * Internal: never exported from the package.
 */
import { createHash } from 'crypto';
import { DescribeImagesCommand, DescribeImagesCommandInput, EC2Client, Image as Ec2Image } from '@aws-sdk/client-ec2';
import {
  GetImageCommand, Image, ImagebuilderClient, ImageSummary, ListComponentBuildVersionsCommand, ListImageBuildVersionsCommand, ListImageRecipesCommand,
} from '@aws-sdk/client-imagebuilder';
import { FINGERPRINT_TAG } from './types';
import type { AmiBakeSpec } from './types';
import { isRetryable } from '../../internal/failure';
import { clientsByRegion } from '../../internal/runtime/job';

export const imagebuilder = new ImagebuilderClient({});
/** The EC2 client of the runtime's own region. */
export const ec2 = new EC2Client({});
const ec2Of = clientsByRegion((region) => new EC2Client({ region }));

/** The EC2 client of a region: the runtime's own for its region. */
export function ec2In(region: string): EC2Client {
  return region === (process.env.AWS_REGION ?? '') ? ec2 : ec2Of(region);
}

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

/** EC2 and Image Builder error codes of a resource that is already gone. */
export const GONE = new Set(['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable', 'InvalidSnapshot.NotFound', 'ResourceNotFoundException']);

/** Every AMI `DescribeImages` lists for `input`, over every page. */
export async function describeImages(input: DescribeImagesCommandInput, client: EC2Client = ec2): Promise<Ec2Image[]> {
  const images: Ec2Image[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new DescribeImagesCommand({ ...input, NextToken: nextToken }));
    images.push(...(page.Images ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return images;
}

/** The image builds of one image version (`.../image/<name>/<version>`); none when it is gone. */
export async function listImages(imageVersionArn: string): Promise<ImageSummary[]> {
  return allPages(async (nextToken) => {
    const page = await imagebuilder.send(new ListImageBuildVersionsCommand({ imageVersionArn, nextToken }));
    return { items: page.imageSummaryList, nextToken: page.nextToken };
  }, true);
}

/** Every version of a recipe name of this account. */
export async function listRecipes(name: string): Promise<string[]> {
  const recipes = await allPages(async (nextToken) => {
    const page = await imagebuilder.send(new ListImageRecipesCommand({ owner: 'Self', filters: [{ name: 'name', values: [name] }], nextToken }));
    return { items: page.imageRecipeSummaryList, nextToken: page.nextToken };
  }, false);
  return recipes.filter((r) => r.name === name && r.arn).map((r) => r.arn!);
}

/** The build versions of a component version; none when it is gone. */
export async function listComponentBuilds(componentVersionArn: string): Promise<string[]> {
  const builds = await allPages(async (nextToken) => {
    const page = await imagebuilder.send(new ListComponentBuildVersionsCommand({ componentVersionArn, nextToken }));
    return { items: page.componentSummaryList, nextToken: page.nextToken };
  }, true);
  return builds.map((c) => c.arn ?? '').filter((a) => a);
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
