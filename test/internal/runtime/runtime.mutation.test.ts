/**
 * The runtime's edges that mutation testing found untested (issue 17): what a job's error becomes,
 * requests the runtime cannot serve, and the ids it derives. Against the lifecycle harness.
 */
import { StackHarness } from './harness';
import { JobFailure } from '../../../src/internal/runtime/job';
import { attemptOf, holdTagOf, physicalIdOf } from '../../../src/internal/runtime/runtime.singleton-lambda';

const F1 = 'f1';
const STACK = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/app/4a1c0e10-0000-0000-0000-000000000000';

describe('deploy-time runtime: errors and edges', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  test('a check that fails with a JobFailure fails the wait at once, the failure named, and is not checked again', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    const check = jest.spyOn(stack.builds, 'check').mockRejectedValue(new JobFailure('app/Image-f1: repository app-images does not exist'));
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    const failure = stack.puts.find((p) => p.url.includes('waitcondition'))!.body;
    expect(failure).toMatchObject({ Status: 'FAILURE', Reason: 'app/Image-f1: the container-build failed.\nError: JobFailure: app/Image-f1: repository app-images does not exist' });
    expect(stack.pending).toBe(0);
    await stack.advance(3);
    expect(check).toHaveBeenCalledTimes(1);
  });

  test('a job without a key, a handle or a known kind is refused: the request fails with what to do, and nothing starts', async () => {
    const job = { Key: 'Waitf160', Kind: 'container-build', Path: 'app/Image-f1', Fingerprint: F1, Handle: 'https://handle', TimeoutSeconds: '3600', Spec: {} } as any;
    for (const bad of [{ ...job, Key: '' }, { ...job, Handle: '' }, { ...job, Kind: 'helm-chart' }]) {
      const answer = await stack.request('Create', [bad]);
      expect(answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^Job app\/Image-f1 has no key, no wait handle or an unknown kind \((container-build|helm-chart)\): define it with this library's constructs\.$/) });
    }
    const unnamed = await stack.request('Create', [{ ...job, Path: undefined, Key: undefined }]);
    expect(unnamed.Reason).toMatch(/^Job \(unnamed\) has no key/);
    expect(stack.builds.starts).toBe(0);
  });

  test('a runtime without its state path fails the request, naming the setting', async () => {
    delete process.env.CID_STATE_PATH;
    const answer = await stack.request('Create', [{ Key: 'Waitf160', Kind: 'container-build', Path: 'p', Fingerprint: F1, Handle: 'https://h', TimeoutSeconds: '3600', Spec: {} }]);
    expect(answer).toMatchObject({ Status: 'FAILED', Reason: "The runtime has no CID_STATE_PATH: define its resources with this library's constructs." });
  });

  test('without a schedule rule name, nothing is enabled or disabled, and the job still runs', async () => {
    delete process.env.CID_POLL_RULE;
    await stack.deploy([{ fingerprint: F1 }]);
    expect(stack.pollEnabled).toBe(false);
    stack.builds.finish(F1, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
  });

  test('an error that is no JobFailure fails the request under a headline, with the error', async () => {
    jest.spyOn(stack.builds, 'find').mockRejectedValue(Object.assign(new Error('User is not authorized to perform ecr:DescribeImages'), { name: 'AccessDeniedException' }));
    const answer = await stack.request('Create', [{ Key: 'Waitf160', Kind: 'container-build', Path: 'p', Fingerprint: F1, Handle: 'https://h', TimeoutSeconds: '3600', Spec: {} }]);
    expect(answer).toMatchObject({ Status: 'FAILED', Reason: 'The deploy-time jobs of this stack could not start.\nError: AccessDeniedException: User is not authorized to perform ecr:DescribeImages' });
  });

  test('a delete that meets an error still answers SUCCESS, so that no rollback or stack delete is blocked', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    jest.spyOn(stack.builds, 'cancel').mockRejectedValue(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await stack.destroy();
    expect(stack.puts[stack.puts.length - 1].body).toMatchObject({ Status: 'SUCCESS' });
    expect(stack.logs.join('\n')).toContain('Delete: left as it is after AccessDeniedException: denied');
  });

  test('ids the runtime derives: physical id by stack name and held jobs, hold tag and attempt (fixed values)', () => {
    const sha = (text: string) => require('crypto').createHash('sha256').update(text).digest('hex');
    const jobs = [
      { Key: 'WaitB', Kind: 'container-build', Path: 'p', Fingerprint: 'b', Handle: 'h', TimeoutSeconds: '60', Spec: {} },
      { Key: 'WaitA', Kind: 'ami-bake', Path: 'p', Fingerprint: 'a', Handle: 'h', TimeoutSeconds: '60', Spec: {} },
    ] as any[];
    // The harness's runners hold: both jobs count, sorted by key.
    expect(physicalIdOf(STACK, jobs)).toBe(`app-jobs-${sha('WaitA\nWaitB').slice(0, 16)}`);
    expect(physicalIdOf('not-a-stack-arn', [])).toBe(`stack-jobs-${sha('').slice(0, 16)}`);
    expect(holdTagOf(STACK, 'app-jobs-1')).toBe(`cdk-immutable-deploys:in-use:${sha(`${STACK}\napp-jobs-1`).slice(0, 24)}`);
    expect(attemptOf('request-1', 'WaitA')).toBe(sha('request-1\nWaitA').slice(0, 16));
  });
});
