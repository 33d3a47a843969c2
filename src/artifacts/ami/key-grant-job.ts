/**
 * The KMS grant of the deploy-time runtime: it lets this account's Auto Scaling service-linked role
 * use another account's key, so that an AMI encrypted with that key (shared with this account)
 * launches in this account's groups. EC2 Auto Scaling's guide says the grant must be created from
 * the account that owns the group, not from the key's account; the key's policy must let this
 * account create grants (`AmiBake`'s `distribution.accounts` does).
 *
 * Before the grant, the runtime makes sure this account's Auto Scaling service-linked role exists (a
 * new account has none until its first group, and KMS refuses a grant for a principal that does not
 * exist, `InvalidArnException`, also for a while after IAM created it: the grantee, or the retiring
 * principal, the runtime's own role, which a first deploy creates moments before). After it, the runtime waits,
 * within the call's deadline, until the grant is five minutes old: KMS makes a new grant effective
 * everywhere "usually" within five minutes, and Auto Scaling cannot present the grant token that would
 * make it effective at once, so a group launched earlier could fail its first launches.
 *
 * A `key-grant` lookup: Create and Update make the grant with a name derived from the stack, the
 * resource, the key and the grantee, which KMS treats as idempotent (a retry with the same name and
 * parameters returns the grant that exists), so a replay makes nothing twice. The physical id names
 * the grant's id: a new key or grantee is a new grant and a new physical id, and CloudFormation's
 * cleanup Delete (after an update, or of the failed update's resource after a rollback) retires only
 * the grant its own physical id names, never the one the stack still uses.
 */
import { createHash } from 'crypto';
import { CreateServiceLinkedRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateGrantCommand, KMSClient, ListGrantsCommand, RetireGrantCommand } from '@aws-sdk/client-kms';
import { KEY_GRANT_OPERATIONS } from './types';
import type { KeyGrantSpec } from './types';
import { errorText, isRetryable } from '../../internal/failure';
import type { Found, Lookup, LookupRunner } from '../../internal/runtime/job';
import { clientsByRegion, lookupFailure as failure } from '../../internal/runtime/job';

/** The physical id of a grant's resource: `key-grant:<grant id>` (a grant id is 64 hexadecimal characters). */
const PHYSICAL_ID = /^key-grant:([0-9a-f]{64})$/;

const clientOf = clientsByRegion((region) => new KMSClient({ region }));
const iam = new IAMClient({});

/** The Auto Scaling service-linked role's service name, and its role's ARN ends with this. */
const AUTO_SCALING_SERVICE = 'autoscaling.amazonaws.com';
const AUTO_SCALING_ROLE = /:role\/aws-service-role\/autoscaling\.amazonaws\.com\/AWSServiceRoleForAutoScaling$/;

/** How long KMS may take to make a new grant effective everywhere: "usually less than five minutes" (CreateGrant). */
export const GRANT_SETTLE_MS = 5 * 60_000;
/** Time kept before the call's deadline to answer CloudFormation after a wait. */
const WAIT_MARGIN_MS = 15_000;
/** The pause between two tries of a grant whose new grantee IAM has not made known to KMS yet. */
const GRANTEE_RETRY_MS = 5_000;

/** How the job waits; tests replace it. */
export const timing = {
  pause: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
};

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
  const client = clientOf(regionOf(KeyArn, lookup.region));
  const roleIsNew = await ensureServiceLinkedRole(lookup);
  let grantId: string | undefined;
  try {
    for (;;) {
      try {
        const created = await client.send(new CreateGrantCommand({
          KeyId: KeyArn,
          GranteePrincipal: Grantee,
          RetiringPrincipal,
          Operations: [...KEY_GRANT_OPERATIONS],
          Name: grantNameOf(lookup),
        }));
        grantId = created.GrantId;
        break;
      } catch (e) {
        // A role IAM has just created is not known to KMS at once: the grantee (Auto Scaling's role,
        // created now) or the retiring principal (the runtime's own role, new in a first deploy). Try
        // again while the call has time.
        if ((e as Error).name !== 'InvalidArnException' || !hasTime(lookup, GRANTEE_RETRY_MS)) throw e;
        if (!roleIsNew && !(await lookup.policyIsNew?.().catch(() => true))) throw e;
        console.log(`${lookup.path}: ${Grantee} or ${RetiringPrincipal} is not known to KMS yet (${errorText(e)}); trying again`);
        await timing.pause(GRANTEE_RETRY_MS);
      }
    }
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
    if (name === 'InvalidArnException') {
      throw failure(`${head} could not be created: KMS does not know the grantee ${Grantee} or the retiring principal ${RetiringPrincipal}.`, [
        { label: 'Error', text: errorText(e) },
        { label: 'What to do', text: `Check that ${Grantee} exists in account ${lookup.account} (EC2 Auto Scaling creates it with the account's first group; \`aws iam create-service-linked-role --aws-service-name ${AUTO_SCALING_SERVICE}\` creates it), and that the runtime's role ${RetiringPrincipal} exists (the stack creates it; IAM may take a while to make a new role known, so deploying again a few minutes later helps), then deploy again.` },
      ]);
    }
    throw e;
  }
  if (!grantId) throw failure(`${head}: CreateGrant answered without a grant id.`, []);
  await settle(lookup, client, grantId);
  return { data: grantId, physicalId: `key-grant:${grantId}`, summary: `${lookup.path}: grant ${grantId} lets ${Grantee} use ${KeyArn}` };
}

/**
 * Creates this account's Auto Scaling service-linked role when the grant is for it and it does not
 * exist yet. True when it was created now (IAM and KMS may not know it for a while).
 */
async function ensureServiceLinkedRole(lookup: Lookup<KeyGrantSpec>): Promise<boolean> {
  if (!AUTO_SCALING_ROLE.test(lookup.spec.Grantee)) return false;
  try {
    await iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: AUTO_SCALING_SERVICE }));
    console.log(`${lookup.path}: created ${lookup.spec.Grantee}, which the grant names`);
    return true;
  } catch (e) {
    if (isRetryable(e)) throw e;
    // "Service role name AWSServiceRoleForAutoScaling has been taken in this account": it exists.
    if ((e as Error).name === 'InvalidInputException' && /has been taken/i.test((e as Error).message)) return false;
    // Not allowed (a service control policy, say): the grant says whether the role exists.
    console.log(`${lookup.path}: could not create ${lookup.spec.Grantee} (${errorText(e)}); the grant needs it to exist`);
    return false;
  }
}

/**
 * Waits, within the call's deadline, until the grant is GRANT_SETTLE_MS old (its creation date, when
 * this account may list the key's grants; else from now), so that what launches after this resource
 * finds it effective. A grant that was made by an earlier call (a replay, a rollback's Update) is old
 * already: nothing to wait for.
 */
async function settle(lookup: Lookup<KeyGrantSpec>, client: KMSClient, grantId: string): Promise<void> {
  if (lookup.deadline === undefined) return;
  const now = lookup.now ?? Date.now;
  let created = now();
  try {
    const listed = await client.send(new ListGrantsCommand({ KeyId: lookup.spec.KeyArn, GrantId: grantId }));
    const date = listed.Grants?.find((g) => g.GrantId === grantId)?.CreationDate;
    if (date) created = Math.min(created, new Date(date).getTime());
  } catch (e) {
    if (isRetryable(e)) throw e;
    console.log(`${lookup.path}: could not read grant ${grantId}'s creation date (${errorText(e)}); waiting from now`);
  }
  const until = Math.min(created + GRANT_SETTLE_MS, lookup.deadline - WAIT_MARGIN_MS);
  if (until <= now()) return;
  console.log(`${lookup.path}: waiting ${Math.ceil((until - now()) / 1000)} s for grant ${grantId} to take effect throughout KMS`);
  while (now() < until) await timing.pause(Math.min(15_000, until - now()));
  if (created + GRANT_SETTLE_MS > now()) {
    console.log(`${lookup.path}: grant ${grantId} is ${Math.round((now() - created) / 1000)} s old at the call's deadline; the group's first launches may be retried by Auto Scaling`);
  }
}

/** Whether the call can still wait this long before answering CloudFormation. */
function hasTime(lookup: Lookup<KeyGrantSpec>, ms: number): boolean {
  const now = lookup.now ?? Date.now;
  return lookup.deadline !== undefined && now() + ms < lookup.deadline - WAIT_MARGIN_MS;
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
