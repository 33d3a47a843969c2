/**
 * The runtime's memory of pending jobs (src/internal/runtime/state.ts) against a mocked SSM: what is
 * written, how it is read back, and what is left alone.
 */
import { DeleteParameterCommand, GetParametersByPathCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { deleteJob, holderOf, holdersOf, pendingJobs, recordName, register, saveJob, unregister, PendingJob } from '../../../src/internal/runtime/state';

const ssm = mockClient(SSMClient);
const PATH = '/cdk-immutable-deploys/S/jobs';
const STACK = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1';

const pending = (key: string, path = 'S/Web/Image'): PendingJob => ({
  job: { Key: key, Kind: 'container-build', Path: path, Fingerprint: 'f'.repeat(64) } as any,
  stackId: STACK,
  attempt: `attempt-${key}`,
  since: 1_700_000_000_000,
  owner: 'Jobs',
});

beforeEach(() => {
  ssm.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('runtime state (issue 17)', () => {
  test('a pending job is one encrypted parameter per job key under the stack\'s path, overwritten on a retry', async () => {
    ssm.on(PutParameterCommand).resolves({});
    await saveJob(PATH, pending('WebImageWait1'));
    await saveJob(PATH, pending('WebImageWait2'));
    const [first, second] = ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(first).toEqual({
      Name: `${PATH}/WebImageWait1`,
      Value: JSON.stringify(pending('WebImageWait1')),
      // It may hold a failure reason, and the job's settings
      Type: 'SecureString',
      Overwrite: true,
      // Past 4 KB SSM moves it to the advanced tier instead of refusing it (docs/aws-behaviour.md #29)
      Tier: 'Intelligent-Tiering',
      Description: 'cdk-immutable-deploys: pending container-build of S/Web/Image',
    });
    // keys that must be distinct per resource give distinct parameters
    expect(second.Name).toEqual(`${PATH}/WebImageWait2`);
  });

  test('the description stays within the 1,024 characters SSM allows, and never holds the handle', async () => {
    ssm.on(PutParameterCommand).resolves({});
    await saveJob(PATH, pending('K', `S/${'Deep/'.repeat(300)}Image`));
    const input = ssm.commandCalls(PutParameterCommand)[0].args[0].input;
    expect(input.Description).toHaveLength(1_024);
    expect(input.Description).toMatch(/^cdk-immutable-deploys: pending container-build of S\/Deep\//);
    expect(input.Description).not.toContain('SECRET');
  });

  test('deleting a job that is already gone is done, by the error\'s class or its name', async () => {
    ssm.on(DeleteParameterCommand).rejectsOnce(new ParameterNotFound({ message: 'gone', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('gone'), { name: 'ParameterNotFound' }))
      .resolves({});
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] }); // no start-only settings kept
    await expect(deleteJob(PATH, 'A')).resolves.toBeUndefined();
    await expect(deleteJob(PATH, 'B')).resolves.toBeUndefined();
    await expect(deleteJob(PATH, 'C')).resolves.toBeUndefined();
    expect(ssm.commandCalls(DeleteParameterCommand).map((c) => c.args[0].input)).toEqual(['A', 'B', 'C'].map((k) => ({ Name: `${PATH}/${k}` })));
  });

  test('other errors of a delete propagate (the runtime retries throttling)', async () => {
    ssm.on(DeleteParameterCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(deleteJob(PATH, 'A')).rejects.toThrow('slow down');
  });

  test('reads every page, decrypted, of this path only, also past an empty page with a token', async () => {
    // GIVEN SSM answers best effort: a page may hold fewer items than asked, even none, and a token
    ssm.on(GetParametersByPathCommand)
      .resolvesOnce({ Parameters: [{ Name: `${PATH}/A`, Value: JSON.stringify(pending('A')) }], NextToken: 't1' })
      .resolvesOnce({ Parameters: [], NextToken: 't2' })
      .resolvesOnce({ NextToken: 't3' })
      .resolvesOnce({ Parameters: [{ Name: `${PATH}/B`, Value: JSON.stringify(pending('B')) }] });
    // WHEN
    const jobs = await pendingJobs(PATH);
    // THEN both jobs, read back as they were written
    expect(jobs).toEqual([pending('A'), pending('B')]);
    const inputs = ssm.commandCalls(GetParametersByPathCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([undefined, 't1', 't2', 't3'].map((NextToken) => ({ Path: PATH, Recursive: false, WithDecryption: true, NextToken, MaxResults: 10 })));
  });

  test('an unreadable parameter is skipped and named in the log, without its value', async () => {
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [
        { Name: `${PATH}/Broken`, Value: '{"reason":"https://secret?X-Amz-Signature=SECRET"' },
        { Name: `${PATH}/Empty` },
        { Name: `${PATH}/A`, Value: JSON.stringify(pending('A')) },
      ],
    });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await pendingJobs(PATH)).toEqual([pending('A')]);
    const logged = log.mock.calls.map((c) => c.join(' '));
    expect(logged).toEqual([`Ignoring the unreadable state parameter ${PATH}/Broken`, `Ignoring the unreadable state parameter ${PATH}/Empty`]);
    expect(logged.join('\n')).not.toContain('SECRET');
  });

  test('no parameters at all: nothing is pending, and nothing is called unreadable', async () => {
    ssm.on(GetParametersByPathCommand).resolves({});
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await pendingJobs(PATH)).toEqual([]);
    expect(log).not.toHaveBeenCalled();
  });
});

describe('the account\'s register of holds', () => {
  const AMI = { kind: 'ami' as const, region: 'us-east-1', id: 'ami-0123456789abcdef0' };

  test('a holder is the stack\'s name and a hash of the stack, the resource and its version: another version, resource or stack is another holder', () => {
    const one = holderOf(STACK, 'WebResult', 'job-result:a', 'S/Web');
    expect(one).toEqual({ id: expect.stringMatching(/^S\.[0-9a-f]{24}$/), stackId: STACK, path: 'S/Web' });
    expect(holderOf(STACK, 'WebResult', 'job-result:b', 'S/Web').id).not.toEqual(one.id);
    expect(holderOf(STACK, 'ApiResult', 'job-result:a', 'S/Web').id).not.toEqual(one.id);
    expect(holderOf(STACK.replace('eu-west-1', 'us-east-1'), 'WebResult', 'job-result:a', 'S/Web').id).not.toEqual(one.id);
  });

  test('a hold is one plain parameter per holder under the artifact, in the artifact\'s region; a release deletes it, also when it is gone already', async () => {
    ssm.on(PutParameterCommand).resolves({});
    ssm.on(DeleteParameterCommand).rejectsOnce(new ParameterNotFound({ message: 'gone', $metadata: {} })).resolves({});
    const holder = holderOf(STACK, 'WebResult', 'p', 'S/Web');
    await register(AMI, holder);
    const put = ssm.commandCalls(PutParameterCommand)[0];
    expect(put.args[0].input).toMatchObject({ Name: `/cdk-immutable-deploys/_holds/${AMI.id}/${holder.id}`, Type: 'String', Overwrite: true, Value: JSON.stringify({ stackId: STACK, path: 'S/Web' }) });
    expect(await (put.thisValue as SSMClient).config.region()).toEqual('us-east-1');
    await unregister(AMI, holder);
    await unregister(AMI, holder);
    expect(ssm.commandCalls(DeleteParameterCommand)).toHaveLength(2);
  });

  test('the holders of an artifact are every entry under it, every page', async () => {
    ssm.on(GetParametersByPathCommand, { Path: `/cdk-immutable-deploys/_holds/${AMI.id}` })
      .resolvesOnce({ Parameters: [{ Name: 'a', Value: JSON.stringify({ stackId: 's1', path: 'p1' }) }], NextToken: 't' })
      .resolvesOnce({ Parameters: [{ Name: 'b', Value: JSON.stringify({ stackId: 's2', path: 'p2' }) }] });
    expect(await holdersOf(AMI)).toEqual([{ stackId: 's1', path: 'p1' }, { stackId: 's2', path: 'p2' }]);
  });

  test('a lookup\'s record is named by its logical id and a hash of its physical id (SSM takes no colon in a name)', () => {
    expect(recordName('/cdk-immutable-deploys/S', 'WebResult', 'job-result:abc')).toMatch(/^\/cdk-immutable-deploys\/S\/lookups\/WebResult\/[0-9a-f]{32}$/);
  });
});
