/**
 * The AMI lookup of the deploy-time runtime: the exact AMI of a fingerprint, in the stack's own
 * account and region, for `AmiArtifact.fromFingerprint()`.
 *
 * Tags of an AMI are not visible to the accounts it is shared with, so the lookup matches on what
 * is: the AMI's description, which every bake ends with `fingerprint <hex>` (in each region it copies
 * to). It asks for the owner's AMIs (deprecated ones included: a deprecated AMI still launches), over
 * every page, and answers with the newest AVAILABLE match (by creation date, then by id: the same
 * answer on every call). Several AVAILABLE matches have the same inputs (the fingerprint covers every
 * input of a bake): a fingerprint baked again after its Image Builder record was lost leaves the old
 * AMI beside the new one; the others are named in the log, never a failure. None, or none that is
 * AVAILABLE, fails with a message that names the fingerprint, the owner, the account and the region,
 * and what to do; an AMI that exists in the bake's region but not here says that it was not copied here.
 *
 * An AMI of this account (a stage promoted in the bake's account) is held by the lookup's stack while
 * the lookup stands, so that neither the bake's retention nor its removal policy DESTROY deletes
 * it. Another account's AMI cannot be marked from here; the bake's retention keeps every AMI that
 * another account may launch.
 */
import { DescribeImagesCommand, DescribeImagesCommandInput, EC2Client, Image } from '@aws-sdk/client-ec2';
import { descriptionSuffixOf } from './types';
import type { AmiLookupSpec } from './types';
import type { Found, Held, Lookup, LookupRunner } from '../../internal/runtime/job';
import { clientsByRegion, lookupFailure as failure } from '../../internal/runtime/job';

const clientOf = clientsByRegion((region) => new EC2Client({ region }));

export const amiLookup: LookupRunner<AmiLookupSpec> = {
  lookup: (lookup) => lookupAmi(lookup),
};

async function lookupAmi(lookup: Lookup<AmiLookupSpec>): Promise<Found> {
  const owner = lookup.spec.Owner || lookup.account;
  const where = `owned by account ${owner}, in account ${lookup.account} and region ${lookup.region}`;
  const matches = await imagesOf(lookup.region, owner, lookup.fingerprint);
  const available = matches.filter((i) => i.State === 'available' && i.ImageId).sort(newestFirst);
  if (available.length > 0) {
    const ami = available[0];
    if (available.length > 1) {
      console.log(`${lookup.path}: ${available.length} AVAILABLE AMIs of fingerprint ${lookup.fingerprint} ${where} (the same inputs, baked again): `
        + `taking the newest, ${ami.ImageId} (${ami.CreationDate}); not taking ${available.slice(1).map((i) => `${i.ImageId} (${i.CreationDate})`).join(', ')}`);
    }
    const held: Held[] = ami.OwnerId === lookup.account ? [{ kind: 'ami', region: lookup.region, id: ami.ImageId! }] : [];
    return { data: ami.ImageId!, summary: `${lookup.path}: fingerprint ${lookup.fingerprint.slice(0, 16)} is ${ami.ImageId} (${ami.Name})`, held };
  }
  const head = `${lookup.path}: AmiArtifact.fromFingerprint() found`;
  if (matches.length > 0) {
    const pending = matches.some((i) => i.State === 'pending');
    throw failure(`${head} no AVAILABLE AMI of fingerprint ${lookup.fingerprint} ${where}.`, [
      { label: 'AMIs', text: matches.map((i) => `${i.ImageId} is ${i.State}${i.StateReason?.Message ? ` (${i.StateReason.Message})` : ''}`).join(', ') },
      {
        label: 'What to do',
        text: pending
          ? 'The AMI is still being created or copied to this region: deploy again once it is available (the bake stack\'s deploy ends when Image Builder has distributed it).'
          : 'The AMI was deregistered or failed: deploy the bake stack again (it bakes this fingerprint anew), then this stack.',
      },
    ]);
  }
  const source = lookup.spec.SourceRegion;
  if (source && source !== lookup.region) {
    const there = (await imagesOf(source, owner, lookup.fingerprint)).filter((i) => i.State === 'available');
    if (there.length > 0) {
      throw failure(`${head} the AMI of fingerprint ${lookup.fingerprint} in ${source} (${there.map((i) => i.ImageId).join(', ')}), but none ${where}: it was not copied to ${lookup.region}.`, [
        { label: 'What to do', text: `Add '${lookup.region}' to distribution.regions of the AmiBake, deploy the bake stack (it copies new bakes; bake again, or copy this AMI, for an existing one), then this stack.` },
      ]);
    }
  }
  throw failure(`${head} no AMI of fingerprint ${lookup.fingerprint} ${where}.`, [
    {
      label: 'What to do',
      text: `Check that the bake stack deployed this fingerprint (it is in the bake stack's template), that its AmiBake shares with account ${lookup.account} (distribution.accounts) and copies to ${lookup.region} (distribution.regions), and that the AMI was not deleted by its retention (retainImages).`,
    },
  ]);
}

/** Newest first by creation date (ISO 8601, so by text), then by id: a deterministic order. */
function newestFirst(a: Image, b: Image): number {
  return (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') || (a.ImageId ?? '').localeCompare(b.ImageId ?? '');
}

/** Every AMI of the owner whose description ends with the fingerprint, over every page. */
async function imagesOf(region: string, owner: string, fingerprint: string): Promise<Image[]> {
  const suffix = descriptionSuffixOf(fingerprint);
  const input: DescribeImagesCommandInput = {
    Owners: [owner],
    IncludeDeprecated: true,
    Filters: [{ Name: 'description', Values: [`*${suffix}`] }],
  };
  const images: Image[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clientOf(region).send(new DescribeImagesCommand({ ...input, NextToken: nextToken }));
    images.push(...(page.Images ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  // The filter's wildcard is only at the start; check the end exactly all the same.
  return images.filter((i) => (i.Description ?? '').endsWith(suffix));
}
