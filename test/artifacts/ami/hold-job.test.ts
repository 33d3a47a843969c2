/**
 * The AMI keeper (src/artifacts/ami/hold-job.ts) against a mocked EC2: the keep tag the bake's
 * lifecycle policy excludes, set while a stack holds the AMI, in the AMI's region; a user's own keep
 * tag is never taken over nor removed.
 */
import { CreateTagsCommand, DeleteTagsCommand, DescribeImagesCommand, EC2Client, Tag } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { amiKeeper } from '../../../src/artifacts/ami/hold-job';

const ec2 = mockClient(EC2Client);
const AMI = { kind: 'ami' as const, region: 'us-east-1', id: 'ami-0123456789abcdef0' };
const KEEP = { Key: 'cdk-immutable-deploys:keep', Value: 'true' };
const KEPT_BY = { Key: 'cdk-immutable-deploys:kept-by', Value: 'cdk-immutable-deploys' };
const tagged = (tags: Tag[]) => ec2.on(DescribeImagesCommand, { ImageIds: [AMI.id] }).resolves({ Images: [{ ImageId: AMI.id, Tags: tags }] });
const inputs = (command: any): any[] => ec2.commandCalls(command).map((c) => c.args[0].input);

beforeEach(() => {
  ec2.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('keep', () => {
  test.each([
    ['no tags', []],
    ['the library\'s keep tags already (written again: a release racing this hold may have just removed them, and EC2 may show stale tags)', [KEEP, KEPT_BY]],
  ])('an AMI with %s gets the keep tags, in its own region, and no tag per stack (EC2 takes 50 tags per resource)', async (_given, tags: Tag[]) => {
    tagged(tags);
    await amiKeeper.keep(AMI);
    expect(inputs(CreateTagsCommand)).toEqual([{ Resources: [AMI.id], Tags: [KEEP, KEPT_BY] }]);
    expect(await (ec2.commandCalls(CreateTagsCommand)[0].thisValue as EC2Client).config.region()).toEqual('us-east-1');
  });

  test('a keep tag a user set (no kept-by tag) is theirs: not taken over', async () => {
    tagged([KEEP]);
    await amiKeeper.keep(AMI);
    expect(inputs(CreateTagsCommand)).toEqual([]);
  });

  test.each(['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable'])('an AMI that is gone (%s, or not listed) is nothing to keep', async (name) => {
    ec2.on(DescribeImagesCommand).rejectsOnce(Object.assign(new Error('gone'), { name })).resolves({ Images: [] });
    await amiKeeper.keep(AMI);
    await amiKeeper.keep(AMI);
    expect(inputs(CreateTagsCommand)).toEqual([]);
  });

  test('throttling propagates (the runtime retries)', async () => {
    ec2.on(DescribeImagesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }));
    await expect(amiKeeper.keep(AMI)).rejects.toThrow('Rate exceeded');
  });
});

describe('unkeep', () => {
  test('removes the library\'s keep tags', async () => {
    tagged([KEEP, KEPT_BY, { Key: 'Team', Value: 'web' }]);
    await amiKeeper.unkeep(AMI);
    expect(inputs(DeleteTagsCommand)).toEqual([{ Resources: [AMI.id], Tags: [{ Key: KEEP.Key }, { Key: KEPT_BY.Key }] }]);
  });

  test.each([
    ['a user\'s keep tag (no kept-by tag)', [KEEP]],
    ['no keep tag', []],
  ])('leaves %s alone', async (_given, tags: Tag[]) => {
    tagged(tags);
    await amiKeeper.unkeep(AMI);
    expect(inputs(DeleteTagsCommand)).toEqual([]);
  });

  test('an AMI that is gone is nothing to unkeep', async () => {
    ec2.on(DescribeImagesCommand).rejects(Object.assign(new Error('gone'), { name: 'InvalidAMIID.NotFound' }));
    await amiKeeper.unkeep(AMI);
    expect(inputs(DeleteTagsCommand)).toEqual([]);
  });
});
