/**
 * What a stack needs to hold the AMIs it runs (the runtime's side is `hold-job.ts` and
 * `src/internal/runtime/holds.ts`): in each region where it holds one, the account's register of
 * holds, and the keep tag on AMIs that a bake made.
 *
 * Internal: never exported from the package.
 */
import { IConstruct } from 'constructs';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';

/**
 * Lets the runtime of `scope`'s stack hold AMIs. Every runtime may, in every region (`grantHolds`):
 * `regions` names where this use holds them, and no longer changes the grant.
 */
export function grantAmiHolds(scope: IConstruct, _regions: string[]): void {
  DeployTimeRuntime.of(scope).grantHolds();
}
