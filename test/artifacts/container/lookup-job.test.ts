/**
 * The image lookup of `ContainerArtifact.fromFingerprint()` against a mocked ECR: found, not found,
 * not shared (the repository policy refuses this account), a missing repository, an image index,
 * throttling, a deleted image.
 */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { imageLookup } from '../../../src/artifacts/container/lookup-job';
import type { ImageLookupSpec } from '../../../src/artifacts/container/types';
import { isAccessDenied, isRetryable } from '../../../src/internal/failure';
import type { Lookup } from '../../../src/internal/runtime/job';

const ecr = mockClient(ECRClient);
const FP = 'ab'.repeat(32);
const DIGEST = `sha256:${'1'.repeat(64)}`;
const TOOLING = '111111111111';
const STAGING = '222222222222';
const URI = `${TOOLING}.dkr.ecr.eu-west-1.amazonaws.com/web`;

const lookup = (uri = URI): Lookup<ImageLookupSpec> => ({
  kind: 'image-lookup',
  path: 'Staging/Web/ImportedArtifact',
  fingerprint: FP,
  account: STAGING,
  region: 'eu-central-1',
  spec: { RepositoryUri: uri },
  stackId: `arn:aws:cloudformation:eu-central-1:${STAGING}:stack/Staging/1`,
  logicalId: 'WebImportedArtifactLookup',
});
const sdkError = (name: string, status = 400) => Object.assign(new Error(`${name}: not allowed to call DescribeImages`), { name, $metadata: { httpStatusCode: status } });

beforeEach(() => ecr.reset());

describe('image lookup', () => {
  test('found: the digest of the fingerprint tag, asked of the repository\'s registry in the repository\'s region', async () => {
    // GIVEN
    let region = '';
    ecr.on(DescribeImagesCommand).callsFake(async (_input, getClient) => {
      region = await getClient().config.region();
      return { imageDetails: [{ imageDigest: DIGEST, imageTags: [`fp-${FP}`], imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' }] };
    });
    // WHEN
    const found = await imageLookup.lookup(lookup());
    // THEN
    expect(found.data).toBe(DIGEST);
    expect(region).toBe('eu-west-1');
    expect(ecr.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({ registryId: TOOLING, repositoryName: 'web', imageIds: [{ imageTag: `fp-${FP}` }] });
  });

  test('not found (never built, or deleted or expired): names the fingerprint, the repository, its account and region, this account, and what to do', async () => {
    ecr.on(DescribeImagesCommand).rejects(sdkError('ImageNotFoundException'));
    await expect(imageLookup.lookup(lookup())).rejects.toThrow(new RegExp(
      `Staging/Web/ImportedArtifact: ContainerArtifact.fromFingerprint\\(\\) found no image tagged fp-${FP} \\(fingerprint ${FP}\\) in repository web of account ${TOOLING} in eu-west-1, looking from account ${STAGING} \\(eu-central-1\\)\\..*Deploy the stack that builds this fingerprint first.*retainImages.*A replica \\(replicateTo\\) is there once the build stack.s deploy ends`, 's'));
  });

  test('not shared: the repository policy refuses this account, and the message says to add it to shareWith', async () => {
    ecr.on(DescribeImagesCommand).rejects(sdkError('AccessDeniedException'));
    await expect(imageLookup.lookup(lookup())).rejects.toThrow(new RegExp(`may not read repository web of account ${TOOLING} in eu-west-1 from account ${STAGING}.*shareWith: \\['${STAGING}'\\]`, 's'));
  });

  test('a missing repository says which one, and to deploy the build stack first', async () => {
    ecr.on(DescribeImagesCommand).rejects(sdkError('RepositoryNotFoundException'));
    await expect(imageLookup.lookup(lookup())).rejects.toThrow(/found no repository web of account 111111111111 in eu-west-1 for fingerprint.*deploy the build stack first/s);
  });

  test('an image index under the fingerprint tag is refused: it is not what ContainerImageBuild pushes', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }] });
    await expect(imageLookup.lookup(lookup())).rejects.toThrow(/is an image index/);
  });

  test('throttling propagates as a retryable error (the runtime tries again until its deadline)', async () => {
    ecr.on(DescribeImagesCommand).rejects(sdkError('ThrottlingException'));
    const error = await imageLookup.lookup(lookup()).catch((e) => e);
    expect(error.name).toBe('ThrottlingException');
    expect(isRetryable(error)).toBe(true);
  });

  test('a repository URI that is not ECR\'s is refused', async () => {
    await expect(imageLookup.lookup(lookup('docker.io/library/nginx'))).rejects.toThrow(/is not an ECR repository URI/);
  });
});

describe('image lookup: whole messages (mutation testing, issue 17)', () => {
  const HEAD = 'Staging/Web/ImportedArtifact: ContainerArtifact.fromFingerprint()';
  const WHERE = `repository web of account ${TOOLING} in eu-west-1`;
  const failure = () => imageLookup.lookup(lookup()).then(() => '', (e: Error) => e.message);

  test('found: the summary names the path, the short fingerprint and the image by digest', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST }] });
    expect((await imageLookup.lookup(lookup())).summary).toBe(`Staging/Web/ImportedArtifact: fingerprint ${FP.slice(0, 16)} is web@${DIGEST}`);
  });

  test('not shared, missing repository, not built: each message word for word, with its parts', async () => {
    ecr.on(DescribeImagesCommand).rejects(sdkError('AccessDeniedException'));
    expect(await failure()).toBe(`${HEAD} may not read ${WHERE} from account ${STAGING} (eu-central-1).\nError: AccessDeniedException: AccessDeniedException: not allowed to call DescribeImages\nWhat to do: Let account ${STAGING} read it: shareWith: ['${STAGING}'] on the ContainerImageBuild (or ecr:DescribeImages and pull in the repository's policy), deploy the build stack, then this stack. (Right after a deploy changes the runtime's own permissions, a refusal is tried again until the call's deadline, so IAM catching up is not the cause.)`);
    ecr.on(DescribeImagesCommand).rejects(sdkError('RepositoryNotFoundException'));
    expect(await failure()).toBe(`${HEAD} found no ${WHERE} for fingerprint ${FP}, looking from account ${STAGING} (eu-central-1).\nWhat to do: Pass the repository the ContainerImageBuild pushes to (its repositoryArn), and deploy the build stack first.`);
    ecr.on(DescribeImagesCommand).rejects(sdkError('ImageNotFoundException'));
    expect(await failure()).toBe(`${HEAD} found no image tagged fp-${FP} (fingerprint ${FP}) in ${WHERE}, looking from account ${STAGING} (eu-central-1).\nWhat to do: Deploy the stack that builds this fingerprint first (its template carries the same fingerprint), or check whether the repository's lifecycle rules expired it (retainImages) or someone deleted the tag. `
      + 'A replica (replicateTo) is there once the build stack\'s deploy ends, which waits for ECR to copy it; ECR copies only images pushed or restored after replication was configured, so for an image built before, start a replication backfill (aws ecr start-replication-backfill) or change an input to build it anew.');
  });

  test('one ECR client per region, reused', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST }] });
    await imageLookup.lookup(lookup());
    await imageLookup.lookup(lookup());
    const clients = ecr.commandCalls(DescribeImagesCommand).map((c) => c.thisValue);
    expect(clients[1]).toBe(clients[0]);
  });
});

describe('image lookup: an AccessDenied stays an AccessDenied behind its message (review #2)', () => {
  test('the runtime tries it again while its own policy is new: the failure\'s origin is the refusal', async () => {
    ecr.on(DescribeImagesCommand).rejects(sdkError('AccessDeniedException'));
    const error = await imageLookup.lookup(lookup()).then(() => undefined, (e) => e);
    expect(error.name).toBe('JobFailure');
    expect(isAccessDenied(error)).toBe(true);
    ecr.on(DescribeImagesCommand).rejects(sdkError('ImageNotFoundException'));
    expect(isAccessDenied(await imageLookup.lookup(lookup()).then(() => undefined, (e) => e))).toBe(false);
  });
});
