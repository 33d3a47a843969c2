/**
 * Whether an image that ECR lists can be used where it is needed: pulled here (not archived), and
 * there in every region and account the build replicates to. The container-build job reads it before
 * it reuses an image and before it calls a build done; the image lookup and the plan read the first
 * half (`findImageDigest`).
 *
 * - ECR lists an archived image (`DescribeImages` shows it with `imageStatus` ARCHIVED), but refuses to
 *   pull it (404). `UpdateImageStorageClass` to STANDARD restores it (ACTIVATING, then ACTIVE; ECR says
 *   within 20 minutes), and a restored image is replicated like a newly pushed one.
 * - ECR replicates an image after its push, to each destination on its own
 *   (`DescribeImageReplicationStatus`: IN_PROGRESS, then COMPLETE or FAILED with a failure code), most
 *   images in less than 30 minutes. It replicates only what is pushed (or restored) after replication is
 *   configured: an image pushed before has no status for that destination, and never will.
 *
 * Internal: never exported from the package.
 */
import { DescribeImageReplicationStatusCommand, DescribeImagesCommand, ECRClient, ImageDetail, UpdateImageStorageClassCommand } from '@aws-sdk/client-ecr';
import type { ReplicationDestinationSpec } from './types';
import { JobFailure } from '../../internal/runtime/job';

/** Manifest media types that list other manifests: their platform images are untagged. */
const INDEX_MEDIA_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
/** How long after its push an image may show no replication status for a destination before that means "never". */
const REPLICATION_START_GRACE_MS = 10 * 60_000;

export interface RepositoryRef {
  readonly registryId: string;
  readonly region: string;
  readonly name: string;
}

/** An image as ECR describes it by tag. */
export interface DescribedImage {
  readonly digest: string;
  /** `ACTIVE`, `ARCHIVED` or `ACTIVATING`; absent (ECR before archiving existed) counts as ACTIVE. */
  readonly status: string;
  /** When it was pushed, or restored from the archive if later: when ECR started replicating it. */
  readonly pushedAt?: Date;
}

/**
 * The image a tag names, whatever its storage class, or undefined when the tag does not exist. An
 * image index is refused: builds push one image manifest, and a lifecycle rule that expires untagged
 * images would delete the platform images an index names.
 */
export async function describeImage(ecr: ECRClient, repository: RepositoryRef, tag: string, path: string): Promise<DescribedImage | undefined> {
  try {
    const request = new DescribeImagesCommand({ registryId: repository.registryId, repositoryName: repository.name, imageIds: [{ imageTag: tag }] });
    const image = (await ecr.send(request).catch((e) => {
      if ((e as Error).name === 'ImageNotFoundException') return { imageDetails: [] };
      throw e;
    })).imageDetails?.find((d) => d.imageDigest) ?? await archivedImage(ecr, repository, tag);
    if (!image?.imageDigest) return undefined;
    if (image.imageManifestMediaType && INDEX_MEDIA_TYPES.has(image.imageManifestMediaType)) {
      throw new JobFailure(
        `${path}: ${repository.name}:${tag} is an image index (${image.imageManifestMediaType}), not the single image manifest ContainerImageBuild pushes. Its platform images are untagged, and a lifecycle rule that expires untagged images would break it. Delete the tag ${tag} so that it is built again.`,
      );
    }
    // A restored image is replicated as if pushed anew: replication is timed from the later of the two.
    const since = [image.imagePushedAt, image.lastActivatedAt]
      .filter((d): d is Date => d instanceof Date)
      .sort((a, b) => b.getTime() - a.getTime())[0];
    return { digest: image.imageDigest, status: image.imageStatus ?? 'ACTIVE', pushedAt: since };
  } catch (e) {
    if ((e as Error).name === 'ImageNotFoundException') return undefined;
    if ((e as Error).name === 'RepositoryNotFoundException') {
      throw new JobFailure(`${path}: repository ${repository.name} does not exist in registry ${repository.registryId} (${repository.region}). Create it, or let ContainerImageBuild create one by leaving out 'repository'.`);
    }
    throw e;
  }
}

/**
 * The image of a tag among the repository's archived and restoring images. `DescribeImages` returns
 * only ACTIVE images unless its filter names another status; whether that holds for a request by tag
 * too is not documented, so a tag not found by its id is looked for again among the others.
 */
async function archivedImage(ecr: ECRClient, repository: RepositoryRef, tag: string): Promise<ImageDetail | undefined> {
  try {
    for (const imageStatus of ['ARCHIVED', 'ACTIVATING'] as const) {
      let nextToken: string | undefined;
      do {
        const got = await ecr.send(new DescribeImagesCommand({
          registryId: repository.registryId, repositoryName: repository.name, filter: { tagStatus: 'TAGGED', imageStatus }, maxResults: 1000, nextToken,
        }));
        const found = got?.imageDetails?.find((d) => d.imageDigest && d.imageTags?.includes(tag));
        if (found) return found;
        nextToken = got?.nextToken;
      } while (nextToken);
    }
  } catch (e) {
    // A second reading for what ECR does not document: where it cannot be made, the tag is as its own request found it.
    if ((e as Error).name === 'RepositoryNotFoundException') throw e;
    console.log(`${repository.name}:${tag}: not looked for among archived images (${(e as Error).name}: ${(e as Error).message})`);
  }
  return undefined;
}

/**
 * The digest of the image a tag names, when it can be pulled; undefined when the tag does not exist.
 * An archived image (or one being restored) cannot be pulled: that fails, saying how to restore it.
 */
export async function findImageDigest(ecr: ECRClient, repository: RepositoryRef, tag: string, path: string): Promise<string | undefined> {
  const image = await describeImage(ecr, repository, tag, path);
  if (!image) return undefined;
  if (image.status !== 'ACTIVE') {
    throw new JobFailure(
      `${path}: ${repository.name}:${tag} (${image.digest}) is ${image.status} in ECR's archive, which cannot be pulled (a lifecycle rule of the repository archives it). `
      + `Restore it: aws ecr update-image-storage-class --registry-id ${repository.registryId} --region ${repository.region} --repository-name ${repository.name} --image-id imageTag=${tag} --target-storage-class STANDARD, `
      + 'then deploy again once it is ACTIVE (ECR restores within 20 minutes).',
    );
  }
  return image.digest;
}

/** Restores an archived image to ECR's standard storage class; one already being restored is left to finish. */
export async function restoreImage(ecr: ECRClient, repository: RepositoryRef, image: DescribedImage): Promise<void> {
  if (image.status !== 'ARCHIVED') return;
  await ecr.send(new UpdateImageStorageClassCommand({
    registryId: repository.registryId,
    repositoryName: repository.name,
    imageId: { imageDigest: image.digest },
    targetStorageClass: 'STANDARD',
  }));
}

/** Where replication of an image stands. */
export type Replication =
  | { readonly state: 'complete' }
  | { readonly state: 'pending'; readonly detail: string }
  | { readonly state: 'failed'; readonly reason: string };

/**
 * Whether every destination has the image: complete when each reports COMPLETE; failed when one
 * reports FAILED (with ECR's failure code), or shows no status long after the push (the image was
 * pushed before replication was configured for it, so ECR never copies it); pending otherwise.
 */
export async function replicationOf(
  ecr: ECRClient, repository: RepositoryRef, image: DescribedImage, destinations: ReplicationDestinationSpec[], path: string, now: number,
): Promise<Replication> {
  if (destinations.length === 0) return { state: 'complete' };
  const got = await ecr.send(new DescribeImageReplicationStatusCommand({
    registryId: repository.registryId,
    repositoryName: repository.name,
    imageId: { imageDigest: image.digest },
  }));
  const statuses = got.replicationStatuses ?? [];
  const where = (d: ReplicationDestinationSpec) => `${d.Region} (account ${d.RegistryId})`;
  const waiting: string[] = [];
  const never: string[] = [];
  for (const destination of destinations) {
    const status = statuses.find((s) => s.region === destination.Region && s.registryId === destination.RegistryId);
    if (status?.status === 'COMPLETE') continue;
    if (status?.status === 'FAILED') {
      return {
        state: 'failed',
        reason: `${path}: ECR could not replicate ${repository.name}@${image.digest} to ${where(destination)}: ${status.failureCode ?? 'no failure code given'}. `
          + 'For another account, check that its registry policy lets this account replicate (a ReplicationDestination there with sourceAccounts). '
          + `Then copy the image again with a replication backfill (aws ecr start-replication-backfill --region ${repository.region} --destination region=${destination.Region},registryId=${destination.RegistryId}), or change an input of the build so that it builds a new image, and deploy again.`,
      };
    }
    if (!status && now - (image.pushedAt?.getTime() ?? 0) > REPLICATION_START_GRACE_MS) never.push(where(destination));
    else waiting.push(`${where(destination)}: ${status?.status ?? 'not started'}`);
  }
  if (never.length > 0) {
    return {
      state: 'failed',
      reason: `${path}: ECR has not replicated ${repository.name}@${image.digest} to ${never.join(', ')}, and never will: the image was pushed before replication to ${never.length > 1 ? 'them' : 'it'} was configured, and ECR copies only what is pushed or restored after. `
        + `Start a replication backfill of the registry (aws ecr start-replication-backfill --region ${repository.region} --destination region=<region>,registryId=<account>), which copies existing images that match its rules, then deploy again; or change an input of the build so that it builds a new image.`,
    };
  }
  if (waiting.length > 0) return { state: 'pending', detail: `ECR is replicating ${image.digest} to ${waiting.join('; ')}` };
  return { state: 'complete' };
}
