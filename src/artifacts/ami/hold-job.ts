/**
 * The AMI keeper of the deploy-time runtime: the keep tag that the lifecycle policy of every bake
 * excludes (`cdk-immutable-deploys:keep=true`), set on an AMI while any stack holds it. Who holds it
 * is the runtime's register (SSM, `src/internal/runtime/holds.ts`), not tags: an AMI carries two tags
 * of this library however many stacks run it (EC2 allows 50 per resource).
 *
 * A keep tag a user set (without `cdk-immutable-deploys:kept-by`) is theirs: it is never taken over,
 * and never removed. The runtime's own is always written again when held, so that a release racing
 * a hold, or a stale read of the tags (EC2's reads are eventually consistent), cannot leave a held AMI
 * without it.
 */
import { CreateTagsCommand, DeleteTagsCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { KEEP_TAG, KEPT_BY_TAG } from './types';
import type { Held, Keeper } from '../../internal/runtime/job';
import { clientsByRegion } from '../../internal/runtime/job';

const ec2In = clientsByRegion((region) => new EC2Client({ region }));

/** EC2 errors of an AMI that is gone: nothing to keep. */
const GONE = new Set(['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable', 'InvalidAMIID.Malformed']);

export const amiKeeper: Keeper = {
  keep: (ami) => keep(ami),
  unkeep: (ami) => unkeep(ami),
};

/** The AMI's tags; undefined when it is gone. */
async function tagsOf(ami: Held): Promise<Map<string, string> | undefined> {
  try {
    const image = (await ec2In(ami.region).send(new DescribeImagesCommand({ ImageIds: [ami.id] }))).Images?.[0];
    return image ? new Map((image.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])) : undefined;
  } catch (e) {
    if (GONE.has((e as Error).name)) return undefined;
    throw e;
  }
}

async function keep(ami: Held): Promise<void> {
  const tags = await tagsOf(ami);
  if (!tags) {
    console.log(`${ami.id} (${ami.region}) is gone: nothing to keep`);
    return;
  }
  if (tags.get(KEEP_TAG) === 'true' && !tags.has(KEPT_BY_TAG)) return; // a user keeps it
  await ec2In(ami.region).send(new CreateTagsCommand({ Resources: [ami.id], Tags: [{ Key: KEEP_TAG, Value: 'true' }, { Key: KEPT_BY_TAG, Value: 'cdk-immutable-deploys' }] }));
}

async function unkeep(ami: Held): Promise<void> {
  const tags = await tagsOf(ami);
  // Gone, or kept by a user (no kept-by tag): not the library's to remove.
  if (!tags || !tags.has(KEPT_BY_TAG)) return;
  await ec2In(ami.region).send(new DeleteTagsCommand({ Resources: [ami.id], Tags: [{ Key: KEEP_TAG }, { Key: KEPT_BY_TAG }] }));
}
