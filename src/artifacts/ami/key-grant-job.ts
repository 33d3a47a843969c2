/**
 * The KMS grant of the deploy-time runtime: it lets this account's Auto Scaling service-linked role
 * use another account's key, so that an AMI encrypted with that key (shared with this account)
 * launches in this account's groups. EC2 Auto Scaling's guide says the grant must be created from
 * the account that owns the group, not from the key's account; the key's policy must let this
 * account create grants (`AmiBake`'s `distribution.accounts` does).
 *
 * A `key-grant` lookup: Create and Update make the grant with a name derived from the stack, the
 * resource, the key and the grantee, which KMS treats as idempotent (a retry with the same name and
 * parameters returns the grant that exists), so a replay makes nothing twice. The physical id names
 * the grant's id: a new key or grantee is a new grant and a new physical id, and CloudFormation's
 * cleanup Delete (after an update, or of the failed update's resource after a rollback) retires only
 * the grant its own physical id names, never the one the stack still uses.
 */
import { createHash } from 'crypto';
import { CreateGrantCommand, KMSClient, RetireGrantCommand } from '@aws-sdk/client-kms';
import { KEY_GRANT_OPERATIONS } from './types';
import type { KeyGrantSpec } from './types';
import { errorText } from '../../internal/failure';
import type { Found, Lookup, LookupRunner } from '../../internal/runtime/job';
import { clientsByRegion, lookupFailure as failure } from '../../internal/runtime/job';

/** The physical id of a grant's resource: `key-grant:<grant id>` (a grant id is 64 hexadecimal characters). */
const PHYSICAL_ID = /^key-grant:([0-9a-f]{64})$/;

const clientOf = clientsByRegion((region) => new KMSClient({ region }));

export const keyGrant: LookupRunner<KeyGrantSpec> = {
  lookup: (lookup) => createGrant(lookup),
  remove: (lookup, physicalId) => retireGrant(lookup, physicalId),
};

/** The grant's name: the same on every replay of this resource, and another for another stack, resource, key or grantee. */
export function grantNameOf(lookup: Lookup<KeyGrantSpec>): string {
  const identity = [lookup.stackId, lookup.logicalId, lookup.spec.KeyArn, lookup.spec.Grantee].join('\n');
  return `cdk-immutable-deploys-${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
}

async function createGrant(lookup: Lookup<KeyGrantSpec>): Promise<Found> {
  const { KeyArn, Grantee, RetiringPrincipal } = lookup.spec;
  const head = `${lookup.path}: the KMS grant that lets ${Grantee} use key ${KeyArn}`;
  let grantId: string | undefined;
  try {
    const created = await clientOf(regionOf(KeyArn, lookup.region)).send(new CreateGrantCommand({
      KeyId: KeyArn,
      GranteePrincipal: Grantee,
      RetiringPrincipal,
      Operations: [...KEY_GRANT_OPERATIONS],
      Name: grantNameOf(lookup),
    }));
    grantId = created.GrantId;
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'AccessDeniedException') {
      throw failure(`${head} could not be created from account ${lookup.account}: the key's policy does not let this account create grants.`, [
        { label: 'Error', text: errorText(e) },
        { label: 'What to do', text: `In the key's account, let account ${lookup.account} call kms:CreateGrant on the key (an AmiBake does so for each account in distribution.accounts, when its rootVolumeKey is a key of the app), deploy that stack, then this one. (Right after a deploy changes the runtime's own permissions, a refusal is tried again until the call's deadline, so IAM catching up is not the cause.)` },
      ], e);
    }
    if (name === 'NotFoundException' || name === 'KMSInvalidStateException' || name === 'DisabledException') {
      throw failure(`${head} could not be created: the key is missing, disabled or pending deletion.`, [
        { label: 'Error', text: errorText(e) },
        { label: 'What to do', text: 'Pass the ARN of the key that encrypts the AMI\'s snapshots in this region (encryptionKeyArn of AmiArtifact.fromFingerprint()), and check in its account that it is enabled.' },
      ]);
    }
    throw e;
  }
  if (!grantId) throw failure(`${head}: CreateGrant answered without a grant id.`, []);
  return { data: grantId, physicalId: `key-grant:${grantId}`, summary: `${lookup.path}: grant ${grantId} lets ${Grantee} use ${KeyArn}` };
}

async function retireGrant(lookup: Lookup<KeyGrantSpec>, physicalId: string): Promise<void> {
  const grantId = PHYSICAL_ID.exec(physicalId)?.[1];
  // A resource whose Create failed has no grant of its own: nothing to retire.
  if (!grantId) return;
  try {
    await clientOf(regionOf(lookup.spec.KeyArn, lookup.region)).send(new RetireGrantCommand({ KeyId: lookup.spec.KeyArn, GrantId: grantId }));
    console.log(`${lookup.path}: retired grant ${grantId} on ${lookup.spec.KeyArn}`);
  } catch (e) {
    if ((e as Error).name === 'NotFoundException') {
      console.log(`${lookup.path}: grant ${grantId} on ${lookup.spec.KeyArn} was already gone`);
      return;
    }
    throw e;
  }
}

/** A key is used in its own region: `arn:<partition>:kms:<region>:<account>:key/<id>`. */
function regionOf(keyArn: string, fallback: string): string {
  return keyArn.split(':')[3] || fallback;
}
