/**
 * The image lookup of the deploy-time runtime: the exact digest of a fingerprint's image in an ECR
 * repository (of this account or another one), for `ContainerArtifact.fromFingerprint()`.
 *
 * It reads the fingerprint tag `fp-<fingerprint>` with `ecr:DescribeImages`; another account's
 * repository must allow this account to call it in its repository policy (`ContainerImageBuild`'s
 * `shareWith`). A missing tag, a missing or unreadable repository, or an image index fails with a
 * message that names the fingerprint, the repository (its account and region), this account, and what
 * to do.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { findImageDigest, parseRepositoryUri } from './build-job';
import { TAG_PREFIX } from './buildspec';
import type { ImageLookupSpec } from './types';
import { errorText } from '../../internal/failure';
import type { Found, Lookup, LookupRunner } from '../../internal/runtime/job';
import { clientsByRegion, JobFailure, lookupFailure as failure } from '../../internal/runtime/job';

const clientOf = clientsByRegion((region) => new ECRClient({ region }));

export const imageLookup: LookupRunner<ImageLookupSpec> = {
  lookup: (lookup) => lookupImage(lookup),
};

async function lookupImage(lookup: Lookup<ImageLookupSpec>): Promise<Found> {
  const repository = parseRepositoryUri(lookup.spec.RepositoryUri);
  const tag = `${TAG_PREFIX}${lookup.fingerprint}`;
  const where = `repository ${repository.name} of account ${repository.registryId} in ${repository.region}`;
  const head = `${lookup.path}: ContainerArtifact.fromFingerprint()`;
  let digest: string | undefined;
  try {
    digest = await findImageDigest(clientOf(repository.region), repository, tag, lookup.path);
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'AccessDeniedException') {
      throw failure(`${head} may not read ${where} from account ${lookup.account} (${lookup.region}).`, [
        { label: 'Error', text: errorText(e) },
        { label: 'What to do', text: `Let account ${lookup.account} read it: shareWith: ['${lookup.account}'] on the ContainerImageBuild (or ecr:DescribeImages and pull in the repository's policy), deploy the build stack, then this stack. (Right after a deploy changes the runtime's own permissions, a refusal is tried again until the call's deadline, so IAM catching up is not the cause.)` },
      ], e);
    }
    if (e instanceof JobFailure && /does not exist/.test(e.message)) {
      throw failure(`${head} found no ${where} for fingerprint ${lookup.fingerprint}, looking from account ${lookup.account} (${lookup.region}).`, [
        { label: 'What to do', text: 'Pass the repository the ContainerImageBuild pushes to (its repositoryArn), and deploy the build stack first.' },
      ]);
    }
    throw e;
  }
  if (digest) {
    return { data: digest, summary: `${lookup.path}: fingerprint ${lookup.fingerprint.slice(0, 16)} is ${repository.name}@${digest}` };
  }
  throw failure(`${head} found no image tagged ${tag} (fingerprint ${lookup.fingerprint}) in ${where}, looking from account ${lookup.account} (${lookup.region}).`, [
    {
      label: 'What to do',
      text: 'Deploy the stack that builds this fingerprint first (its template carries the same fingerprint), or check whether the repository\'s lifecycle rules expired it (retainImages) or someone deleted the tag. '
        + 'A replica (replicateTo) is there once the build stack\'s deploy ends, which waits for ECR to copy it; ECR copies only images pushed or restored after replication was configured, so for an image built before, start a replication backfill (aws ecr start-replication-backfill) or change an input to build it anew.',
    },
  ]);
}
