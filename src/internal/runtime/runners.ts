/**
 * The kinds of job the runtime runs, and the code of each. Each job's code lives beside its
 * construct; this is the one place that lists them.
 *
 * Internal: never exported from the package.
 */
import type { JobRunner } from './job';
import type { JobKind } from './protocol';
import { amiBake } from '../../artifacts/ami/bake-job';
import { containerBuild } from '../../artifacts/container/build-job';

export const RUNNERS: { [kind in JobKind]: JobRunner } = {
  'container-build': containerBuild,
  'ami-bake': amiBake,
};
