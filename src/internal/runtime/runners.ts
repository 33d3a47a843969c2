/**
 * The kinds of job the runtime runs, and the code of each. Each job's code lives beside its
 * construct; this is the one place that lists them.
 *
 * Internal: never exported from the package.
 */
import type { JobRunner, LookupRunner } from './job';
import type { JobKind, LookupKind } from './protocol';
import { amiBake } from '../../artifacts/ami/bake-job';
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

/** The kinds of lookup (imports by fingerprint, and the KMS grant for another account's AMI key): each answers at once, with no wait. */
export const LOOKUPS: { [kind in LookupKind]: LookupRunner } = {
  'ami-lookup': amiLookup,
  'image-lookup': imageLookup,
  'key-grant': keyGrant,
  'ecr-replication': ecrReplication,
  'ecr-registry-policy': ecrRegistryPolicy,
};
