/**
 * A `ReplicationDestination`'s statement in its registry's permissions policy, kept by the stack's
 * runtime (a lookup of kind `ecr-registry-policy`): the statement that lets other accounts replicate
 * into repositories under its prefix, beside every statement others keep there (other replication
 * sources, pull-through cache, a landing zone's baseline).
 *
 * ECR keeps one registry policy per account and region (`PutRegistryPolicy` replaces it whole;
 * `GetRegistryPolicy` of a registry without one is `RegistryPolicyNotFoundException`). This keeper
 * owns the statement whose `Sid` its spec names (and the one the spec before an Update named), and
 * nothing else: it replaces that statement, or takes it out; a policy it leaves without any statement
 * is deleted (`DeleteRegistryPolicy`), as a policy must hold one. Writes converge (`registry-job.ts`).
 * The statements an earlier version of the library wrote (`CdkImmutableDeploysReplication<n>`, one per
 * account) are taken out once that version's resource has left the stack retained.
 *
 * Internal: never exported from the package.
 */
import { DeleteRegistryPolicyCommand, ECRClient, GetRegistryPolicyCommand, PutRegistryPolicyCommand } from '@aws-sdk/client-ecr';
import { converge, keptPhysicalId, refuseLegacyResource } from './registry-job';
import type { RegistryPolicySpec } from './types';
import type { Found, Lookup, LookupRunner } from '../../internal/runtime/job';
import { clientsByRegion, JobFailure } from '../../internal/runtime/job';

/** The statements of an earlier version's `AWS::ECR::RegistryPolicy` (one per source account). */
const LEGACY_SID = /^CdkImmutableDeploysReplication\d+$/;

const clientOf = clientsByRegion((region) => new ECRClient({ region }));

export const ecrRegistryPolicy: LookupRunner<RegistryPolicySpec> = {
  lookup: (lookup) => keep(lookup),
  remove: (lookup, physicalId) => takeOut(lookup, physicalId),
  keepsSharedSetting: true,
};

type Statement = { Sid?: string; [key: string]: unknown };
interface Policy {
  Version?: string;
  Statement: Statement[];
}

async function keep(lookup: Lookup<RegistryPolicySpec>): Promise<Found> {
  await refuseLegacyResource(lookup, 'AWS::ECR::RegistryPolicy', 'the registry\'s whole permissions policy (every statement, also other stacks\' and teams\')');
  const statement = statementOf(lookup, lookup.spec);
  const previous = lookup.previousSpec ? statementOf(lookup, lookup.previousSpec) : undefined;
  // Once an earlier version's resource has left the stack retained, its statements are this stack's to take out.
  const legacyGone = lookup.previousSpec?.LegacyRetained === 'true' && lookup.spec.LegacyRetained !== 'true';
  const drop = (sid: string | undefined) => sid !== undefined && (sid === previous?.Sid || (legacyGone && LEGACY_SID.test(sid)));
  // Before a write, the statement there must be this one (an Update changes it); after one, ECR's copy
  // of it counts, whatever form ECR keeps it in.
  let wrote = false;
  await write(lookup,
    (statements) => {
      wrote = true;
      return [...statements.filter((s) => s.Sid !== statement.Sid && !drop(s.Sid)), statement];
    },
    (statements) => statements.some((s) => s.Sid === statement.Sid && (wrote || sameStatement(s, statement)))
      && !statements.some((s) => s.Sid !== statement.Sid && drop(s.Sid)));
  return { data: statement.Sid!, physicalId: keptPhysicalId(lookup), summary: `${lookup.path}: statement ${statement.Sid} is in the registry policy of ${lookup.account} (${lookup.region})` };
}

/** Takes this destination's statement out of the registry policy. A resource whose Create failed put none. */
async function takeOut(lookup: Lookup<RegistryPolicySpec>, physicalId: string): Promise<void> {
  if (physicalId !== keptPhysicalId(lookup)) return;
  const sid = statementOf(lookup, lookup.spec).Sid;
  await write(lookup, (statements) => statements.filter((s) => s.Sid !== sid), (statements) => !statements.some((s) => s.Sid === sid));
  console.log(`${lookup.path}: took statement ${sid} out of the registry policy of ${lookup.account} (${lookup.region})`);
}

/** Changes the statements of the registry policy until a read shows the change holds. */
async function write(
  lookup: Lookup<RegistryPolicySpec>, change: (statements: Statement[]) => Statement[], holds: (statements: Statement[]) => boolean,
): Promise<void> {
  const ecr = clientOf(lookup.region);
  await converge(`${lookup.path}: the registry policy of ${lookup.account} (${lookup.region})`, {
    read: () => readPolicy(ecr, lookup),
    holds: (policy) => holds(policy?.Statement ?? []),
    write: async (policy) => {
      const statements = change(policy?.Statement ?? []);
      if (statements.length === 0) {
        try {
          await ecr.send(new DeleteRegistryPolicyCommand({}));
        } catch (e) {
          if ((e as Error).name !== 'RegistryPolicyNotFoundException') throw e;
        }
        return;
      }
      await ecr.send(new PutRegistryPolicyCommand({ policyText: JSON.stringify({ Version: policy?.Version ?? '2012-10-17', Statement: statements }) }));
    },
  });
}

/** The registry's policy, with its statements as a list; undefined when it has none. */
async function readPolicy(ecr: ECRClient, lookup: Lookup<RegistryPolicySpec>): Promise<Policy | undefined> {
  let text: string | undefined;
  try {
    text = (await ecr.send(new GetRegistryPolicyCommand({}))).policyText;
  } catch (e) {
    if ((e as Error).name === 'RegistryPolicyNotFoundException') return undefined;
    throw e;
  }
  if (!text) return undefined;
  try {
    const policy = JSON.parse(text) as { Version?: string; Statement?: Statement | Statement[] };
    return { Version: policy.Version, Statement: policy.Statement === undefined ? [] : [policy.Statement].flat() };
  } catch {
    throw new JobFailure(`${lookup.path}: the registry policy of ${lookup.account} (${lookup.region}) is not JSON; nothing was changed.`);
  }
}

function statementOf(lookup: Lookup<RegistryPolicySpec>, spec: RegistryPolicySpec): Statement {
  let statement: Statement;
  try {
    statement = JSON.parse(spec.Statement) as Statement;
  } catch {
    throw new JobFailure(`${lookup.path}: Statement is not JSON: define it with this library's constructs.`);
  }
  if (!statement.Sid) throw new JobFailure(`${lookup.path}: the statement has no Sid: define it with this library's constructs.`);
  return statement;
}

/** Whether a statement of the policy is the one to write, whatever the order of its keys. */
function sameStatement(a: Statement, b: Statement): boolean {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
