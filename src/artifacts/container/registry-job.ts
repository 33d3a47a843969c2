/**
 * What the runtime's keepers of registry-wide ECR settings share (a stack's replication rules, a
 * destination's registry-policy statement). Both are read-modify-write APIs: `PutReplicationConfiguration`
 * and `PutRegistryPolicy` replace the whole document, with no version or condition to make a write
 * conditional. So a keeper reads, changes only its own part, writes, and reads again: when another
 * writer's put crossed its own (both read the same document, the later put dropped the earlier one's
 * change), its part is missing or back, and it writes again, until what it reads holds its part. It
 * never removes what it does not own. A writer that puts a whole document without reading it first
 * (a tool that owns the setting, a console page left open) can still drop this stack's part; the
 * next deploy that changes it puts it back.
 *
 * An earlier version of the library kept these settings with `AWS::ECR::ReplicationConfiguration` and
 * `AWS::ECR::RegistryPolicy`, whose Delete empties the whole setting. When CloudFormation would delete
 * one after this update, the keeper refuses to start, and says how to retain it.
 *
 * Internal: never exported from the package.
 */
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { RETAIN_LEGACY_CONTEXT } from './registry-settings';
import type { Lookup } from '../../internal/runtime/job';
import { JobFailure, lookupFailure } from '../../internal/runtime/job';

const cloudformation = new CloudFormationClient({});

/** How the read-modify-write loop paces itself; tests make the pause 0. */
export const pacing = {
  /** Writes tried before giving up, each followed by a read that checks it. */
  attempts: 6,
  /** The first pause after a write that another writer undid; it grows with each attempt, with jitter. */
  pauseMs: 400,
};

/** How a keeper reads its setting, whether its part holds, and how it writes its part into what it read. */
export interface ReadModifyWrite<T> {
  read(): Promise<T>;
  holds(current: T): boolean;
  write(current: T): Promise<void>;
}

/**
 * Reads, and while what is read does not hold this keeper's part, writes it (from what was read) and
 * reads again. Throws when other writers undo every attempt.
 */
export async function converge<T>(what: string, io: ReadModifyWrite<T>): Promise<T> {
  for (let attempt = 0; attempt < pacing.attempts; attempt++) {
    const current = await io.read();
    if (io.holds(current)) return current;
    await io.write(current);
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, pacing.pauseMs * attempt * (0.5 + Math.random())));
  }
  const last = await io.read();
  if (io.holds(last)) return last;
  throw new JobFailure(`${what}: another writer changed it after each of ${pacing.attempts} writes, which each time undid this stack's part (these ECR APIs replace the whole document). Deploy again once it is left alone.`);
}

/** The physical id of a keeper whose Create or Update succeeded: the same for every version, so that no cleanup Delete takes its part out. */
export function keptPhysicalId(lookup: Lookup<unknown>): string {
  return `${lookup.kind}:kept:${lookup.logicalId}`;
}

/**
 * Refuses to change anything while the stack holds the resource an earlier version kept this setting
 * with, unless that resource is (or was, in the template before) kept with DeletionPolicy Retain:
 * CloudFormation deletes it once this update completes, and its Delete empties the whole setting.
 */
export async function refuseLegacyResource(
  lookup: Lookup<{ LegacyLogicalId?: string; LegacyRetained?: string }>, type: string, wiped: string,
): Promise<void> {
  const logicalId = lookup.spec.LegacyLogicalId;
  if (!logicalId || lookup.spec.LegacyRetained === 'true' || lookup.previousSpec?.LegacyRetained === 'true') return;
  try {
    await cloudformation.send(new DescribeStackResourceCommand({ StackName: lookup.stackId, LogicalResourceId: logicalId }));
  } catch (e) {
    // "Resource <id> does not exist for stack <name>": a stack of this version, or one whose old resource is gone.
    if ((e as Error).name === 'ValidationError' && /does not exist/i.test((e as Error).message)) return;
    throw e;
  }
  throw lookupFailure(`${lookup.path}: this stack holds ${logicalId}, the ${type} of an earlier version of cdk-immutable-deploys. CloudFormation would delete it once this update completes, and its Delete empties ${wiped}. Nothing was changed.`, [
    { label: 'What to do', text: `Deploy once with \`cdk deploy -c ${RETAIN_LEGACY_CONTEXT}=true\`, which keeps it, unchanged, with DeletionPolicy Retain, so that CloudFormation leaves the registry alone when it goes; then deploy as usual.` },
  ]);
}
