/**
 * The AMI lookup of `AmiArtifact.fromFingerprint()` against a mocked EC2: found, not found, not
 * shared, not yet copied, two matches, throttling, pagination, a deleted image.
 */
import { DescribeImagesCommand, EC2Client, Image } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { amiLookup } from '../../../src/artifacts/ami/lookup-job';
import type { AmiLookupSpec } from '../../../src/artifacts/ami/types';
import type { Lookup } from '../../../src/internal/runtime/job';

const ec2 = mockClient(EC2Client);
const FP = 'cd'.repeat(32);
const OTHER_FP = 'ef'.repeat(32);
const TOOLING = '111111111111';
const PROD = '333333333333';
const AMI = 'ami-0123456789abcdef0';
const COPY = 'ami-0fedcba9876543210';

const lookup = (spec: Partial<AmiLookupSpec> = {}): Lookup<AmiLookupSpec> => ({
  kind: 'ami-lookup',
  path: 'Prod/Fleet/ImportedArtifact',
  fingerprint: FP,
  account: PROD,
  region: 'us-east-1',
  spec: { Owner: TOOLING, SourceRegion: '', ...spec },
  stackId: `arn:aws:cloudformation:us-east-1:${PROD}:stack/Prod/1`,
  logicalId: 'FleetImportedArtifactLookup',
});
const image = (id: string, state = 'available', fingerprint = FP): Image => ({
  ImageId: id, State: state as any, Name: `app-web-${fingerprint.slice(0, 16)}-2026-12-01`, Description: `AMI bake app-web, fingerprint ${fingerprint}`, CreationDate: '2026-12-01T10:00:00Z',
});
const sdkError = (name: string) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: 400 } });

/** Answers DescribeImages by region: the images of each. */
function inRegions(images: { [region: string]: Image[] }) {
  const regions: string[] = [];
  ec2.on(DescribeImagesCommand).callsFake(async (_input, getClient) => {
    const region = await getClient().config.region();
    regions.push(region);
    return { Images: images[region] ?? [] };
  });
  return regions;
}

beforeEach(() => ec2.reset());

describe('AMI lookup', () => {
  test('found: the one AVAILABLE AMI of the owner whose description ends with the fingerprint, deprecated ones included', async () => {
    // GIVEN
    inRegions({ 'us-east-1': [image(AMI)] });
    // WHEN
    const found = await amiLookup.lookup(lookup());
    // THEN
    expect(found.data).toBe(AMI);
    const input = ec2.commandCalls(DescribeImagesCommand)[0].args[0].input;
    expect(input).toEqual({ Owners: [TOOLING], IncludeDeprecated: true, Filters: [{ Name: 'description', Values: [`*fingerprint ${FP}`] }] });
  });

  test('an AMI of this account is held by the stack that runs it (a stage promoted in the bake\'s account); another account\'s cannot be marked from here, so it is not (F2)', async () => {
    inRegions({ 'us-east-1': [{ ...image(AMI), OwnerId: PROD }] });
    expect((await amiLookup.lookup(lookup({ Owner: '' }))).held).toEqual([{ kind: 'ami', region: 'us-east-1', id: AMI }]);
    inRegions({ 'us-east-1': [{ ...image(AMI), OwnerId: TOOLING }] });
    expect((await amiLookup.lookup(lookup())).held).toEqual([]);
  });

  test('the owner defaults to the stack\'s own account', async () => {
    inRegions({ 'us-east-1': [image(AMI)] });
    await amiLookup.lookup(lookup({ Owner: '' }));
    expect(ec2.commandCalls(DescribeImagesCommand)[0].args[0].input.Owners).toEqual([PROD]);
  });

  test('an AMI whose description only contains the fingerprint before other text is not a match (the suffix is checked)', async () => {
    inRegions({ 'us-east-1': [{ ...image(AMI), Description: `fingerprint ${FP} and more` }] });
    await expect(amiLookup.lookup(lookup())).rejects.toThrow(/no AMI of fingerprint/);
  });

  test('not found, or not shared with this account: the message names fingerprint, owner, account, region and what to do', async () => {
    // GIVEN nothing visible (an AMI not shared with this account is not visible to it)
    inRegions({});
    // WHEN / THEN
    await expect(amiLookup.lookup(lookup())).rejects.toThrow(new RegExp(
      `Prod/Fleet/ImportedArtifact: AmiArtifact.fromFingerprint\\(\\) found no AMI of fingerprint ${FP} owned by account ${TOOLING}, in account ${PROD} and region us-east-1\\..*distribution\\.accounts.*distribution\\.regions`, 's'));
  });

  test('not yet copied to this region: the bake\'s region has it, and the message says to add the region to the distribution', async () => {
    // GIVEN the AMI in the bake's region only
    const regions = inRegions({ 'eu-west-1': [image(AMI)] });
    // WHEN / THEN
    await expect(amiLookup.lookup(lookup({ SourceRegion: 'eu-west-1' }))).rejects.toThrow(
      new RegExp(`in eu-west-1 \\(${AMI}\\), but none owned by account ${TOOLING}, in account ${PROD} and region us-east-1: it was not copied to us-east-1\\..*Add 'us-east-1' to distribution\\.regions`, 's'));
    expect(regions).toEqual(['us-east-1', 'eu-west-1']);
  });

  test('a copy still in progress (pending) says to deploy again once it is available', async () => {
    inRegions({ 'us-east-1': [image(COPY, 'pending')] });
    await expect(amiLookup.lookup(lookup())).rejects.toThrow(new RegExp(`no AVAILABLE AMI.*${COPY} is pending.*still being created or copied`, 's'));
  });

  test('a fingerprint baked again after its Image Builder record was lost: of two AVAILABLE AMIs the newest is taken, in any order listed, and the other is logged, never a failure (AMI review #3)', async () => {
    // GIVEN the old AMI (still kept: shared, or held) and the one the re-bake made, in either order
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const old = { ...image(COPY), CreationDate: '2026-11-02T08:00:00Z' };
    const rebaked = { ...image(AMI), CreationDate: '2026-12-01T10:00:00Z' };
    for (const listed of [[old, rebaked], [rebaked, old]]) {
      inRegions({ 'us-east-1': listed });
      // WHEN a stage imports the fingerprint
      const found = await amiLookup.lookup(lookup());
      // THEN it runs the newest, and the log names the one not taken
      expect(found.data).toBe(AMI);
    }
    expect(log.mock.calls.map((c) => c.join(' ')).join('\n')).toMatch(new RegExp(`2 AVAILABLE AMIs of fingerprint ${FP}.*taking the newest, ${AMI} \\(2026-12-01T10:00:00Z\\); not taking ${COPY} \\(2026-11-02T08:00:00Z\\)`));
    // AND two of the same date give the same answer on every call (by id)
    inRegions({ 'us-east-1': [image(COPY), image(AMI)] });
    expect((await amiLookup.lookup(lookup())).data).toBe(AMI);
    inRegions({ 'us-east-1': [image(AMI), image(COPY)] });
    expect((await amiLookup.lookup(lookup())).data).toBe(AMI);
    log.mockRestore();
  });

  test('an AVAILABLE match beside a deregistered one is the match', async () => {
    inRegions({ 'us-east-1': [image(COPY, 'deregistered'), image(AMI)] });
    expect((await amiLookup.lookup(lookup())).data).toBe(AMI);
  });

  test('a deleted (deregistered) image fails, and says to bake again', async () => {
    inRegions({ 'us-east-1': [{ ...image(AMI, 'deregistered'), StateReason: { Message: 'deregistered by its lifecycle policy' } }] });
    await expect(amiLookup.lookup(lookup())).rejects.toThrow(new RegExp(`${AMI} is deregistered \\(deregistered by its lifecycle policy\\).*deploy the bake stack again`, 's'));
  });

  test('every page is read: the match on the third page is found, another fingerprint\'s AMI is not', async () => {
    ec2.on(DescribeImagesCommand)
      .resolvesOnce({ Images: [], NextToken: 'p2' })
      .resolvesOnce({ Images: [image(COPY, 'available', OTHER_FP)], NextToken: 'p3' })
      .resolves({ Images: [image(AMI)] });
    expect((await amiLookup.lookup(lookup())).data).toBe(AMI);
    expect(ec2.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'p2', 'p3']);
  });

  test('throttling propagates (the runtime tries again until its deadline)', async () => {
    ec2.on(DescribeImagesCommand).rejects(sdkError('RequestLimitExceeded'));
    await expect(amiLookup.lookup(lookup())).rejects.toThrow(/RequestLimitExceeded/);
  });

  test('every failure stays within the bounded reason of a response', async () => {
    inRegions({ 'us-east-1': Array.from({ length: 60 }, (_, i) => ({ ...image(`ami-${String(i).padStart(17, '0')}`, 'failed'), StateReason: { Message: 'x'.repeat(100) } })) });
    const error = await amiLookup.lookup(lookup()).catch((e) => e as Error);
    expect(Buffer.byteLength((error as Error).message)).toBeLessThanOrEqual(2_048);
  });
});

describe('AMI lookup: whole messages and edges (mutation testing, issue 17)', () => {
  const failure = (spec: Partial<AmiLookupSpec> = {}) => amiLookup.lookup(lookup(spec)).then(() => '', (e: Error) => e.message);
  const WHERE = `owned by account ${TOOLING}, in account ${PROD} and region us-east-1`;
  const HEAD = 'Prod/Fleet/ImportedArtifact: AmiArtifact.fromFingerprint() found';

  test('found: the summary names the path, the short fingerprint, the AMI and its name', async () => {
    inRegions({ 'us-east-1': [image(AMI)] });
    expect((await amiLookup.lookup(lookup())).summary).toBe(`Prod/Fleet/ImportedArtifact: fingerprint ${FP.slice(0, 16)} is ${AMI} (app-web-${FP.slice(0, 16)}-2026-12-01)`);
  });

  test('one AVAILABLE match without an id is no match', async () => {
    inRegions({ 'us-east-1': [{ ...image(AMI), ImageId: undefined }] });
    expect(await failure()).toBe(`${HEAD} no AVAILABLE AMI of fingerprint ${FP} ${WHERE}.\nAMIs: undefined is available\nWhat to do: The AMI was deregistered or failed: deploy the bake stack again (it bakes this fingerprint anew), then this stack.`);
  });

  test('two matches: the log line names each with its date, word for word; a match without a date comes last; one without an id is none', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    inRegions({ 'us-east-1': [{ ...image(COPY), CreationDate: undefined }, image(AMI), { ...image(AMI), ImageId: undefined }] });
    expect((await amiLookup.lookup(lookup())).data).toBe(AMI);
    expect(log.mock.calls.map((c) => c.join(' '))).toEqual([
      `Prod/Fleet/ImportedArtifact: 2 AVAILABLE AMIs of fingerprint ${FP} ${WHERE} (the same inputs, baked again): taking the newest, ${AMI} (2026-12-01T10:00:00Z); not taking ${COPY} (undefined)`,
    ]);
    log.mockRestore();
  });

  test('one pending beside a failed one: still being created; each named with its state and reason', async () => {
    inRegions({ 'us-east-1': [image(AMI, 'failed'), { ...image(COPY, 'pending'), StateReason: { Message: 'copying' } }] });
    expect(await failure()).toBe(`${HEAD} no AVAILABLE AMI of fingerprint ${FP} ${WHERE}.\nAMIs: ${AMI} is failed, ${COPY} is pending (copying)\nWhat to do: The AMI is still being created or copied to this region: deploy again once it is available (the bake stack's deploy ends when Image Builder has distributed it).`);
  });

  test('not copied here: the message names the AMIs there, and what to do, word for word', async () => {
    inRegions({ 'eu-west-1': [image(AMI), image(COPY)] });
    expect(await failure({ SourceRegion: 'eu-west-1' })).toBe(`${HEAD} the AMI of fingerprint ${FP} in eu-west-1 (${AMI}, ${COPY}), but none ${WHERE}: it was not copied to us-east-1.\nWhat to do: Add 'us-east-1' to distribution.regions of the AmiBake, deploy the bake stack (it copies new bakes; bake again, or copy this AMI, for an existing one), then this stack.`);
  });

  test('the source region is asked only when it is another region, and only an AVAILABLE AMI there counts', async () => {
    const regions = inRegions({ 'eu-west-1': [image(AMI, 'deregistered')] });
    expect(await failure({ SourceRegion: 'us-east-1' })).toMatch(/ no AMI of fingerprint /);
    expect(regions).toEqual(['us-east-1']);
    expect(await failure({ SourceRegion: 'eu-west-1' })).toBe(`${HEAD} no AMI of fingerprint ${FP} ${WHERE}.\nWhat to do: Check that the bake stack deployed this fingerprint (it is in the bake stack's template), that its AmiBake shares with account ${PROD} (distribution.accounts) and copies to us-east-1 (distribution.regions), and that the AMI was not deleted by its retention (retainImages).`);
    inRegions({});
    expect(await failure({ SourceRegion: 'eu-west-1' })).toMatch(/ no AMI of fingerprint .*\nWhat to do: Check that/);
  });

  test('one EC2 client per region, reused', async () => {
    inRegions({ 'us-east-1': [image(AMI)] });
    await amiLookup.lookup(lookup());
    await amiLookup.lookup(lookup());
    const clients = ec2.commandCalls(DescribeImagesCommand).map((c) => c.thisValue);
    expect(clients[1]).toBe(clients[0]);
  });
});
