/**
 * Holding artifacts: a stack that runs an artifact (through a lookup: the read-back of its own job,
 * or an import by fingerprint) holds it for as long as that lookup's version stands, so that no
 * retention deletes it under a fleet that runs it.
 *
 * Who holds what is kept in the account's register (SSM, in the artifact's region; `state.ts`),
 * never in tags on the artifact: a register entry per holder has no limit of the artifact's own (an
 * AMI takes 50 tags, and every per-branch stack would add one), and it cannot be forged by whoever may
 * tag the artifact. The artifact itself carries only its kind's keep mark (an AMI's keep tag, which
 * the bake's lifecycle policy excludes), set while anyone holds it.
 *
 * Order makes it safe against a holder and a releaser racing (review 2026-12-06-runtime #16):
 * - hold: register, then keep;
 * - release: unregister; if nobody else holds it, unkeep; then look again, and keep again if a holder
 *   appeared meanwhile (its own keep may have come before the unkeep).
 *
 * Internal: never exported from the package.
 */
import type { Held, Keeper } from './job';
import { holdersOf, register, unregister } from './state';
import type { Holder } from './state';

/** The keepers by kind of artifact; the runtime's `world` sets them. */
export type Keepers = { [kind in Held['kind']]: Keeper };

/** Holds every artifact for `holder`. The caller has recorded `artifacts` before, so that a crash leaves nothing unreleasable. */
export async function hold(keepers: Keepers, holder: Holder, artifacts: Held[]): Promise<void> {
  for (const artifact of artifacts) {
    await register(artifact, holder);
    await keepers[artifact.kind].keep(artifact);
    console.log(`${holder.path}: holds ${artifact.id} (${artifact.region})`);
  }
}

/** Releases every artifact `holder` holds; the last holder's release lets retention delete it again. */
export async function release(keepers: Keepers, holder: Holder, artifacts: Held[]): Promise<void> {
  for (const artifact of artifacts) {
    await unregister(artifact, holder);
    const others = await holdersOf(artifact);
    if (others.length > 0) {
      console.log(`${holder.path}: released ${artifact.id} (${artifact.region}); ${others.length} other holder(s) keep it`);
      continue;
    }
    await keepers[artifact.kind].unkeep(artifact);
    if ((await holdersOf(artifact)).length > 0) {
      // A holder came while the mark was being removed: its keep may have come first.
      await keepers[artifact.kind].keep(artifact);
    }
    console.log(`${holder.path}: released ${artifact.id} (${artifact.region}); nobody holds it now`);
  }
}

/** Every stack that holds an artifact, named by its path and stack id. */
export async function allHolders(artifact: Held): Promise<string[]> {
  return (await holdersOf(artifact)).map((h) => `${h.path} (${h.stackId})`);
}

/** The stacks other than `stackId` that hold an artifact, named by their stack ids. */
export async function otherHolders(artifact: Held, stackId: string): Promise<string[]> {
  return (await holdersOf(artifact)).filter((h) => h.stackId !== stackId).map((h) => `${h.path} (${h.stackId})`);
}
