/**
 * A stack's part of its registry's ECR replication, kept by the stack's runtime (a lookup of kind
 * `ecr-replication`, one per stack): the repositories its replicating builds push to, and the rules
 * that replicate them, beside every rule others keep in the same registry.
 *
 * - Repositories: each is created (tag-immutable, scan on push, encrypted, the build's lifecycle
 *   policy and `shareWith` policy), or adopted as it is when it exists: one that a destroyed stack,
 *   a failed first deploy, a revert or an earlier version left behind is taken over, never an
 *   `AlreadyExists`. Its tags mutability and scanning are set again, its lifecycle and repository
 *   policies written again. Repositories are never deleted here (removal policy DESTROY deletes them
 *   with the stack, through the build job).
 * - Rules: ECR keeps one replication configuration per registry (account and region), at most 10
 *   rules, 25 unique destinations across them, 100 filters per rule; a rule without filters copies
 *   every repository. This stack owns the `PREFIX_MATCH` filters whose values are its repositories'
 *   exact names, and nothing else. It puts them in a rule with exactly its destinations whose filters
 *   are all the library's (under `cdk-immutable-deploys/`), or in a rule of its own; it takes out the
 *   filters it no longer owns (those of the spec before an Update, and all its filters on Delete),
 *   and a rule only when taking out its filters left that rule without any (never a rule that had
 *   none, which copies everything). Others' rules and filters are left as they are.
 * - Writes converge (`registry-job.ts`): read, change this stack's part, put, read again.
 *
 * Internal: never exported from the package.
 */
import {
  CreateRepositoryCommand,
  DeleteRepositoryPolicyCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  PutReplicationConfigurationCommand,
  ReplicationRule,
  Repository,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-ecr';
import { converge, keptPhysicalId, refuseLegacyResource } from './registry-job';
import type { ReplicatedRepositorySpec, ReplicationRuleSpec, ReplicationSpec } from './types';
import type { Found, Lookup, LookupRunner } from '../../internal/runtime/job';
import { clientsByRegion, JobFailure, lookupFailure } from '../../internal/runtime/job';

/** ECR's limits on a registry's replication configuration (ECR user guide, replication considerations). */
export const MAX_RULES = 10;
export const MAX_DESTINATIONS = 25;
export const MAX_FILTERS_PER_RULE = 100;
/** The prefix of every repository the library names: a rule whose filters all start with it is the library's. */
const LIBRARY_PREFIX = 'cdk-immutable-deploys/';

const clientOf = clientsByRegion((region) => new ECRClient({ region }));

export const ecrReplication: LookupRunner<ReplicationSpec> = {
  lookup: (lookup) => keep(lookup),
  remove: (lookup, physicalId) => takeOut(lookup, physicalId),
  keepsSharedSetting: true,
};

/** One of this stack's rules, parsed: its destination set's key, its destinations, its repositories. */
interface OwnRule {
  readonly key: string;
  readonly destinations: Array<{ region: string; registryId: string }>;
  readonly names: string[];
}

async function keep(lookup: Lookup<ReplicationSpec>): Promise<Found> {
  await refuseLegacyResource(lookup, 'AWS::ECR::ReplicationConfiguration', 'the registry\'s whole replication configuration (every rule, also other stacks\' and teams\')');
  const ecr = clientOf(lookup.region);
  const repositories = parse<ReplicatedRepositorySpec[]>(lookup, 'Repositories', lookup.spec.Repositories);
  for (const repository of repositories) await keepRepository(ecr, repository, lookup.path);
  const rules = ownRules(parse<ReplicationRuleSpec[]>(lookup, 'Rules', lookup.spec.Rules));
  const previous = lookup.previousSpec ? ownRules(parse<ReplicationRuleSpec[]>(lookup, 'Rules', lookup.previousSpec.Rules)) : [];
  const dropped = namesOf(previous).filter((n) => !namesOf(rules).includes(n));
  await writeRules(ecr, lookup, rules, dropped);
  const summary = `${lookup.path}: ${repositories.length} repositories replicated by ${rules.length} rules of registry ${lookup.account} (${lookup.region})${dropped.length ? `; took out ${dropped.join(', ')}` : ''}`;
  return { data: `${rules.length}`, physicalId: keptPhysicalId(lookup), summary };
}

/** Takes this stack's filters out of the registry's rules. A resource whose Create failed put none. */
async function takeOut(lookup: Lookup<ReplicationSpec>, physicalId: string): Promise<void> {
  if (physicalId !== keptPhysicalId(lookup)) return;
  const rules = ownRules(parse<ReplicationRuleSpec[]>(lookup, 'Rules', lookup.spec.Rules));
  await writeRules(clientOf(lookup.region), lookup, [], namesOf(rules));
  console.log(`${lookup.path}: took ${namesOf(rules).join(', ') || 'nothing'} out of the replication rules of registry ${lookup.account} (${lookup.region}); the repositories stay`);
}

/** Puts this stack's rules in the registry's configuration and takes `dropped` out, until a read shows both. */
async function writeRules(ecr: ECRClient, lookup: Lookup<ReplicationSpec>, rules: OwnRule[], dropped: string[]): Promise<void> {
  const what = `${lookup.path}: the replication configuration of registry ${lookup.account} (${lookup.region})`;
  await converge(what, {
    read: async () => (await ecr.send(new DescribeRegistryCommand({}))).replicationConfiguration?.rules ?? [],
    holds: (current) => holdsRules(current, rules, dropped),
    write: async (current) => {
      const merged = mergeRules(current, rules, dropped);
      checkLimits(merged, lookup);
      await ecr.send(new PutReplicationConfigurationCommand({ replicationConfiguration: { rules: merged } }));
    },
  });
}

/**
 * Whether a configuration holds each of this stack's repositories in a rule with exactly its
 * destinations, and in no other rule, and none of `dropped`.
 */
export function holdsRules(current: ReplicationRule[], rules: OwnRule[], dropped: string[]): boolean {
  const filtersOf = (r: ReplicationRule) => (r.repositoryFilters ?? []).filter((f) => f.filterType === 'PREFIX_MATCH').map((f) => f.filter);
  for (const rule of rules) {
    for (const name of rule.names) {
      const holding = current.filter((r) => filtersOf(r).includes(name));
      if (holding.length === 0 || holding.some((r) => destinationKey(r.destinations ?? []) !== rule.key)) return false;
    }
  }
  const own = new Set(namesOf(rules));
  return !current.some((r) => filtersOf(r).some((f) => f !== undefined && dropped.includes(f) && !own.has(f)));
}

/**
 * The registry's rules with this stack's part in them: every filter this stack owns (now or before)
 * taken out, rules it emptied taken out, then its repositories put back, each in a rule of the
 * library with exactly its destinations and room for them, or in a new rule.
 */
export function mergeRules(current: ReplicationRule[], rules: OwnRule[], dropped: string[]): ReplicationRule[] {
  const owned = new Set([...namesOf(rules), ...dropped]);
  const isOwned = (f: { filter?: string; filterType?: string }) => f.filterType === 'PREFIX_MATCH' && f.filter !== undefined && owned.has(f.filter);
  const merged: ReplicationRule[] = [];
  for (const rule of current) {
    const filters = rule.repositoryFilters ?? [];
    const kept = filters.filter((f) => !isOwned(f));
    // A rule this stack emptied goes: a rule without filters would copy every repository.
    if (filters.length > 0 && kept.length === 0) continue;
    merged.push({ destinations: rule.destinations, ...(rule.repositoryFilters ? { repositoryFilters: kept } : {}) });
  }
  for (const rule of rules) {
    const names = [...rule.names];
    const shared = merged.find((r) => destinationKey(r.destinations ?? []) === rule.key
      && (r.repositoryFilters ?? []).length > 0
      && (r.repositoryFilters ?? []).every((f) => f.filter?.startsWith(LIBRARY_PREFIX))
      && (r.repositoryFilters ?? []).length + names.length <= MAX_FILTERS_PER_RULE);
    const filters = names.map((filter) => ({ filter, filterType: 'PREFIX_MATCH' as const }));
    if (shared) shared.repositoryFilters = [...shared.repositoryFilters!, ...filters];
    else merged.push({ destinations: rule.destinations, repositoryFilters: filters });
  }
  return merged;
}

/** ECR's limits on the merged configuration: failing here, before the put, names what is there. */
function checkLimits(rules: ReplicationRule[], lookup: Lookup<ReplicationSpec>): void {
  const destinations = new Set(rules.flatMap((r) => (r.destinations ?? []).map((d) => `${d.region}/${d.registryId}`)));
  const full = rules.find((r) => (r.repositoryFilters ?? []).length > MAX_FILTERS_PER_RULE);
  const problem = rules.length > MAX_RULES
    ? `would have ${rules.length} rules, and ECR takes at most ${MAX_RULES}`
    : destinations.size > MAX_DESTINATIONS
      ? `would replicate to ${destinations.size} unique destinations across its rules, and ECR takes at most ${MAX_DESTINATIONS} (not adjustable)`
      : full ? `would have a rule with ${full.repositoryFilters!.length} repository filters, and ECR takes at most ${MAX_FILTERS_PER_RULE}` : undefined;
  if (!problem) return;
  throw lookupFailure(`${lookup.path}: with this stack's rules, the replication configuration of registry ${lookup.account} (${lookup.region}) ${problem}. Nothing was changed.`, [
    { label: 'Registry now', text: `${rules.length} rules, ${destinations.size} destinations: ${[...destinations].join(', ')}` },
    { label: 'What to do', text: 'Give more builds the same replicateTo list, replicate to fewer regions and accounts, or remove rules others no longer need from the registry (aws ecr describe-registry).' },
  ]);
}

/**
 * Creates a replicating build's repository, or takes over the one of that name that exists: its tags
 * made immutable, scan on push on, its lifecycle policy, repository policy and tags written again.
 */
async function keepRepository(ecr: ECRClient, spec: ReplicatedRepositorySpec, path: string): Promise<void> {
  const tags = Object.entries(spec.Tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  let found = await describeRepository(ecr, spec.Name);
  if (!found) {
    try {
      await ecr.send(new CreateRepositoryCommand({
        repositoryName: spec.Name,
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        // Encrypted at rest with keys ECR manages, as the repositories replication creates in the destinations.
        encryptionConfiguration: { encryptionType: 'AES256' },
        ...(tags.length ? { tags } : {}),
      }));
      console.log(`${path}: created repository ${spec.Name}`);
    } catch (e) {
      if ((e as Error).name !== 'RepositoryAlreadyExistsException') throw e;
    }
    found = await describeRepository(ecr, spec.Name);
  } else {
    console.log(`${path}: took over repository ${spec.Name}, which exists (created ${found.createdAt?.toISOString() ?? 'at an unknown time'})`);
    if (found.imageTagMutability !== 'IMMUTABLE' || (found.imageTagMutabilityExclusionFilters ?? []).length > 0) {
      await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: spec.Name, imageTagMutability: 'IMMUTABLE' }));
    }
    if (!found.imageScanningConfiguration?.scanOnPush) {
      await ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: spec.Name, imageScanningConfiguration: { scanOnPush: true } }));
    }
    if (tags.length && found.repositoryArn) await ecr.send(new TagResourceCommand({ resourceArn: found.repositoryArn, tags }));
  }
  if (!found) throw new JobFailure(`${path}: repository ${spec.Name} could not be created, and does not exist.`);
  await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: spec.Name, lifecyclePolicyText: spec.LifecyclePolicy }));
  if (spec.Policy) {
    await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: spec.Name, policyText: spec.Policy }));
  } else {
    try {
      await ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: spec.Name }));
    } catch (e) {
      if ((e as Error).name !== 'RepositoryPolicyNotFoundException') throw e;
    }
  }
}

async function describeRepository(ecr: ECRClient, name: string): Promise<Repository | undefined> {
  try {
    return (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }))).repositories?.[0];
  } catch (e) {
    if ((e as Error).name === 'RepositoryNotFoundException') return undefined;
    throw e;
  }
}

/** This stack's rules, each with its destination set's key (order and duplicates do not count). */
function ownRules(rules: ReplicationRuleSpec[]): OwnRule[] {
  return rules.map((r) => {
    const destinations = r.Destinations.map((d) => ({ region: d.Region, registryId: d.RegistryId }));
    return { key: destinationKey(destinations), destinations, names: [...new Set(r.Repositories)] };
  });
}

function destinationKey(destinations: Array<{ region?: string; registryId?: string }>): string {
  return [...new Set(destinations.map((d) => `${d.region}/${d.registryId}`))].sort().join(' ');
}

function namesOf(rules: OwnRule[]): string[] {
  return [...new Set(rules.flatMap((r) => r.names))];
}

function parse<T>(lookup: Lookup<unknown>, name: string, text: string | undefined): T {
  try {
    return JSON.parse(text ?? '[]') as T;
  } catch {
    throw new JobFailure(`${lookup.path}: ${name} is not JSON: define it with this library's constructs.`);
  }
}
