/**
 * The kinds of job the runtime runs, and the code of each. Each job's code lives beside its
 * construct; this is the one place that lists them. A new kind of lookup is one more line in
 * `LOOKUPS` (and its name in `LookupKind`).
 *
 * Internal: never exported from the package.
 */
import type { JobRunner, Keeper, LookupRunner } from './job';
import type { JobKind, LookupKind } from './protocol';
import { amiBake } from '../../artifacts/ami/bake-job';
import { amiKeeper } from '../../artifacts/ami/hold-job';
import { keyGrant } from '../../artifacts/ami/key-grant-job';
import { amiLookup } from '../../artifacts/ami/lookup-job';
import { containerBuild } from '../../artifacts/container/build-job';
import { imageLookup } from '../../artifacts/container/lookup-job';
import { ecrRegistryPolicy } from '../../artifacts/container/registry-policy-job';
import { ecrReplication } from '../../artifacts/container/replication-job';

export const RUNNERS: { [kind in JobKind]: JobRunner } = {
  'container-build': containerBuild,
  'ami-bake': amiBake,
};

/**
 * The kinds of lookup (imports by fingerprint, and the KMS grant for another account's AMI key): each
 * answers at once, with no wait. `job-result` is the runtime's own: it reads back a job's artifact
 * through the job's runner (`JobRunner.readBack`).
 */
export const LOOKUPS: { [kind in Exclude<LookupKind, 'job-result'>]: LookupRunner } = {
  'ami-lookup': amiLookup,
  'image-lookup': imageLookup,
  'key-grant': keyGrant,
  'ecr-replication': ecrReplication,
  'ecr-registry-policy': ecrRegistryPolicy,
};

/** What marks a held artifact as kept, by kind. */
export const KEEPERS: { ami: Keeper } = {
  ami: amiKeeper,
};
