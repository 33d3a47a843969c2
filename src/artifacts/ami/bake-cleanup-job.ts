/**
 * What deletes a bake's AMIs: its retention after each bake (`pruneBake`), and its removal policy
 * DESTROY when its stack is deleted (`destroyBake`). Both choose by Image Builder's own records (the
 * outputs of the images of every version of the bake's recipe, in every region, in this account),
 * never by a tag, which anyone who may tag an AMI could set (review 2026-12-06-runtime #11); both leave
 * an AMI a stack holds (the account's register), one kept by the keep tag, and one another account may
 * launch (a stage there may run it, and this account cannot see whether one does).
 *
 * Internal: never exported from the package.
 */
import { DeleteLogGroupCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteSnapshotCommand, DeleteSnapshotReturnCode, DeregisterImageCommand, DescribeImageAttributeCommand } from '@aws-sdk/client-ec2';
import {
  DeleteComponentCommand, DeleteImageCommand, DeleteImageRecipeCommand, GetImageRecipeCommand, ImageSummary,
} from '@aws-sdk/client-imagebuilder';
import { describeImages, ec2In, GONE, imagebuilder, listComponentBuilds, listImages, listRecipes, recipeVersionOf } from './bake-records-job';
import { KEEP_TAG, KEPT_BY_TAG } from './types';
import type { AmiBakeSpec } from './types';
import { errorText } from '../../internal/failure';
import type { DeletedStack, Destroyed, Held, Holders, Job, Retry } from '../../internal/runtime/job';

const logs = new CloudWatchLogsClient({});

/** Image states of an image build that ended with its AMIs (the runtime never deprecates nor disables one; a user may). */
const BAKED = new Set(['AVAILABLE', 'DEPRECATED', 'DISABLED']);
/** Image states from which an image still becomes AVAILABLE, FAILED or CANCELLED: never touched. */
const BUILDING = new Set(['PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING']);
/** EC2 reports an AMI's last launch up to a day late. */
const LAUNCH_REPORT_DELAY_MS = 86_400_000;

/** Runs one deletion through `retry`: done (or already gone), or left with why. */
type Attempt = (what: string, call: () => Promise<unknown>) => Promise<boolean>;

function attemptWith(retry: Retry, deleted: string[], left: string[]): Attempt {
  return async (what, call) => {
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
}

/**
 * The retention of a bake, after each bake that succeeded: the newest `RetainImages` bakes of this
 * AmiBake stay (its Image Builder images that ended with AMIs, every version of its recipe counted
 * together, newest first by creation), and so does every image of the recipe version this job just
 * baked. Of each older image (and of a failed or cancelled one), every AMI of this account is
 * deregistered with its snapshots, unless a stack holds it (the register, whichever stack), it is
 * tagged keep (by the runtime, which mirrors the register, or by a user), another account may launch
 * it, or an instance was launched from it within `KeepLaunchedDays` (plus a day: EC2 reports launches
 * up to a day late). An image whose AMIs are all gone is deleted with it, and a recipe version with
 * no image left; an image with an AMI left stays, so that a revert still finds and reuses that AMI
 * (no second AMI of the fingerprint). Components stay (they cost nothing; DESTROY deletes them).
 *
 * An Image Builder lifecycle policy cannot do this: its COUNT (and AGE's retainAtLeast) counts images
 * per recipe version, and every fingerprint has a recipe version of its own (docs/aws-behaviour.md row 306).
 */
export async function pruneBake(job: Job<AmiBakeSpec>, retry: Retry, holds: Holders, now: number = Date.now()): Promise<Destroyed> {
  const spec = job.spec;
  const retain = Number(spec.RetainImages ?? '');
  const deleted: string[] = [];
  const left: string[] = [];
  if (!Number.isInteger(retain) || retain < 1) return { deleted, left };
  const attempt = attemptWith(retry, deleted, left);
  const account = spec.RecipeNameArn.split(':')[4];
  const keepDays = Number(spec.KeepLaunchedDays ?? '');
  const launchedAfter = Number.isFinite(keepDays) && keepDays > 0 ? now - keepDays * 86_400_000 - LAUNCH_REPORT_DELAY_MS : undefined;

  const images: Array<{ recipeArn: string; image: ImageSummary }> = [];
  for (const recipeArn of await retry(() => listRecipes(spec.BakeName))) {
    for (const image of await retry(() => listImages(recipeArn.replace(':image-recipe/', ':image/')))) images.push({ recipeArn, image });
  }
  const current = `${spec.RecipeNameArn}/${recipeVersionOf(job.fingerprint, spec)}`;
  const status = (i: ImageSummary) => i.state?.status ?? '';
  const newest = images.filter((i) => BAKED.has(status(i.image)))
    .sort((a, b) => (b.image.dateCreated ?? '').localeCompare(a.image.dateCreated ?? ''))
    .slice(0, retain).map((i) => i.image.arn);
  const older = images.filter((i) => i.image.arn && !newest.includes(i.image.arn) && i.recipeArn !== current && !BUILDING.has(status(i.image)));

  const imagesLeft = new Map<string, number>();
  images.forEach((i) => imagesLeft.set(i.recipeArn, (imagesLeft.get(i.recipeArn) ?? 0) + 1));
  for (const { recipeArn, image } of older) {
    let amisLeft = false;
    for (const output of image.outputResources?.amis ?? []) {
      const ours = output.accountId === undefined || output.accountId === account;
      if (!output.image || !output.region || !ours) continue;
      const ami: Held = { kind: 'ami', region: output.region, id: output.image };
      const gone = await deleteAmi(ami, retry, attempt, deleted, left, { holders: (a) => holds.holders(a), holdersAre: 'stack(s)', anyKeepTag: true, launchedAfter });
      if (!gone) amisLeft = true;
    }
    if (amisLeft) continue;
    if (!(await attempt(`image ${image.arn}`, () => imagebuilder.send(new DeleteImageCommand({ imageBuildVersionArn: image.arn }))))) continue;
    const remaining = (imagesLeft.get(recipeArn) ?? 1) - 1;
    imagesLeft.set(recipeArn, remaining);
    if (remaining === 0) await attempt(`recipe ${recipeArn}`, () => imagebuilder.send(new DeleteImageRecipeCommand({ imageRecipeArn: recipeArn })));
  }
  return { deleted, left };
}

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
export async function destroyBake(job: Job<AmiBakeSpec>, retry: Retry, stack: DeletedStack): Promise<Destroyed> {
  const spec = job.spec;
  const deleted: string[] = [];
  const left: string[] = [];
  const attempt = attemptWith(retry, deleted, left);

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
    await deleteAmi(ami, retry, attempt, deleted, left, { holders: (a) => stack.holders(a), holdersAre: 'other stack(s)', anyKeepTag: false });
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

/** What keeps an AMI from deletion: who holds it, and which keep tags and launches count. */
interface KeepRules {
  /** How the holders are named in what is left: "other stack(s)", "stack(s)". */
  readonly holdersAre: string;
  /** Any keep tag keeps it (retention); otherwise only a user's, without the runtime's kept-by tag (DESTROY: the register says who holds it). */
  readonly anyKeepTag: boolean;
  /** An AMI last launched after this time (ms since the epoch) stays. @default - launches keep nothing */
  readonly launchedAfter?: number;
  holders(artifact: Held): Promise<string[]>;
}

/**
 * Deregisters one AMI of the bake with its snapshots, unless `rules` keep it (a holder, a keep tag,
 * another account that may launch it, a recent launch): then it is left, with why. True when the AMI
 * is gone (deregistered now or before), false when it is left.
 */
async function deleteAmi(ami: Held, retry: Retry, attempt: Attempt, deleted: string[], left: string[], rules: KeepRules): Promise<boolean> {
  const client = ec2In(ami.region);
  const where = `${ami.id} (${ami.region})`;
  const holders = await retry(() => rules.holders(ami));
  if (holders.length > 0) {
    left.push(`${where}: ${holders.length} ${rules.holdersAre} hold it: ${holders.join(', ')}`);
    return false;
  }
  const described = await retry(() => describeImages({ ImageIds: [ami.id] }, client)).catch((e) => {
    if (GONE.has((e as Error).name)) return [];
    throw e;
  });
  const image = described.find((i) => i.ImageId === ami.id);
  if (!image) return true; // deregistered long ago: nothing left of it
  const tags = image.Tags ?? [];
  if (tags.some((t) => t.Key === KEEP_TAG && t.Value === 'true') && (rules.anyKeepTag || !tags.some((t) => t.Key === KEPT_BY_TAG))) {
    left.push(`${where}: kept by its ${KEEP_TAG} tag`);
    return false;
  }
  if (image.State !== 'deregistered') {
    const permissions = (await retry(() => client.send(new DescribeImageAttributeCommand({ ImageId: ami.id, Attribute: 'launchPermission' })))).LaunchPermissions ?? [];
    if (permissions.length > 0) {
      const who = permissions.map((p) => p.UserId ?? p.OrganizationArn ?? p.OrganizationalUnitArn ?? p.Group ?? '?').join(', ');
      left.push(`${where}: another account may launch it (${who}), and a stage there may run it: deregister it by hand once none does`);
      return false;
    }
    const launched = image.LastLaunchedTime ? Date.parse(image.LastLaunchedTime) : NaN;
    if (rules.launchedAfter !== undefined && launched > rules.launchedAfter) {
      left.push(`${where}: an instance was launched from it at ${image.LastLaunchedTime} (keepLaunchedWithin)`);
      return false;
    }
  }
  // EC2 deletes the AMI's snapshots with it, except one that another AMI still uses, and says what it did with each.
  let results: DeleteSnapshotReturnCode[] | undefined;
  const deregistered = await attempt(`AMI ${where}`, async () => {
    results = (await client.send(new DeregisterImageCommand({ ImageId: ami.id, DeleteAssociatedSnapshots: true }))).DeleteSnapshotResults;
  });
  if (!deregistered) return false;
  const snapshotName = (id: string) => `snapshot ${id} (${ami.region})`;
  if (results === undefined) {
    // Deregistered before (a destroy that stopped half-way): its snapshots may be left, and are deleted one by one.
    for (const id of (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId)) {
      if (id) await attempt(snapshotName(id), () => client.send(new DeleteSnapshotCommand({ SnapshotId: id })));
    }
    return true;
  }
  for (const result of results) {
    if (!result.SnapshotId) continue;
    if (result.ReturnCode === 'success') deleted.push(snapshotName(result.SnapshotId));
    else if (result.ReturnCode === 'skipped') left.push(`${snapshotName(result.SnapshotId)}: another AMI still uses it`);
    else left.push(`${snapshotName(result.SnapshotId)}: not deleted (${result.ReturnCode ?? 'no result'}; the DeleteSnapshot event in CloudTrail says why)`);
  }
  return true;
}

/** The component version ARNs among `arns` that the bake created (not AWS-managed ones, not another bake's). */
function ownComponents(bakeName: string, arns: string[]): string[] {
  return arns.filter((arn) => /:\d{12}:component\//.test(arn) && arn.includes(`:component/${bakeName}-`)).map((arn) => arn.split('/').slice(0, 3).join('/'));
}

