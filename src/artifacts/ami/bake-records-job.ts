/**
 * How the AMI-bake job reads EC2's and Image Builder's records: every page of a listing, the images
 * of a recipe version, the versions of a recipe, the builds of a component, and the EC2 client of a
 * region. Shared by the bake (`bake-job.ts`) and what deletes its AMIs (`bake-cleanup-job.ts`).
 *
 * Internal: never exported from the package.
 */
import { createHash } from 'crypto';
import { DescribeImagesCommand, DescribeImagesCommandInput, EC2Client, Image as Ec2Image } from '@aws-sdk/client-ec2';
import {
  ImagebuilderClient, ImageSummary, ListComponentBuildVersionsCommand, ListImageBuildVersionsCommand, ListImageRecipesCommand,
} from '@aws-sdk/client-imagebuilder';
import type { AmiBakeSpec } from './types';
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
