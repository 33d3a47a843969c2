import { createHash } from 'crypto';
/**
 * The runtime's edges that mutation testing found untested (issue 17): what a job's error becomes,
 * requests the runtime cannot serve, and the ids it derives. Against the lifecycle harness.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { StackHarness } from './harness';
import { Fingerprint } from '../../../src/fingerprint';
import { JobFailure, JobRunner } from '../../../src/internal/runtime/job';
import type { JobProperties } from '../../../src/internal/runtime/protocol';
import { attemptOf, handler, physicalIdOf, world } from '../../../src/internal/runtime/runtime.singleton-lambda';

/** The runtime's own clock and settings, before any harness replaces them. */
const DEFAULTS = { ...world };

const F1 = 'f1';
const F2 = 'f2';
const STACK = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/app/4a1c0e10-0000-0000-0000-000000000000';

test('outside tests the runtime keeps the real clock, the jobs\' code and a first pause of half a second', () => {
  expect(Math.abs(DEFAULTS.now() - Date.now())).toBeLessThan(1_000);
  expect(DEFAULTS.retryDelayMs).toBe(500);
  expect(Object.keys(DEFAULTS.runners).sort()).toEqual(['ami-bake', 'container-build']);
  expect(Object.keys(DEFAULTS.lookups).sort()).toEqual(['ami-lookup', 'ecr-registry-policy', 'ecr-replication', 'image-lookup', 'key-grant']);
});

describe('deploy-time runtime: errors and edges', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  test('a check that fails with a JobFailure ends the attempt at once, the failure named by its result, and is not checked again', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    const check = jest.spyOn(stack.builds, 'check').mockRejectedValue(new JobFailure('app/Image-f1: repository app-images does not exist'));
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    const failure = stack.puts.find((p) => p.body.Status === 'FAILED')!.body;
    expect(failure).toMatchObject({ LogicalResourceId: 'Imagef1Result', Reason: 'app/Image-f1: the container-build failed.\nError: JobFailure: app/Image-f1: repository app-images does not exist' });
    expect(stack.pending).toBe(0);
    expect(stack.pollEnabled).toBe(false);
    await stack.advance(3);
    expect(check).toHaveBeenCalledTimes(1);
  });

  test('a job without a key or a known kind is refused: the request fails with what to do, and nothing starts', async () => {
    const job = { Key: 'Waitf160', Kind: 'container-build', Path: 'app/Image-f1', Fingerprint: F1, TimeoutSeconds: '3600', Spec: {} } as any;
    for (const bad of [{ ...job, Key: '' }, { ...job, Kind: 'helm-chart' }]) {
      const answer = await stack.request('Create', [bad]);
      expect(answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^Job app\/Image-f1 has no key or an unknown kind \((container-build|helm-chart)\): define it with this library's constructs\.$/) });
    }
    const unnamed = await stack.request('Create', [{ ...job, Path: undefined, Key: undefined }]);
    expect(unnamed.Reason).toMatch(/^Job \(unnamed\) has no key/);
    expect(stack.builds.starts).toBe(0);
  });

  test('a runtime without its state path fails the request, naming the setting', async () => {
    delete process.env.CID_STATE_PATH;
    const answer = await stack.request('Create', [{ Key: 'Waitf160', Kind: 'container-build', Path: 'p', Fingerprint: F1, TimeoutSeconds: '3600', Spec: {} }]);
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
    const answer = await stack.request('Create', [{ Key: 'Waitf160', Kind: 'container-build', Path: 'p', Fingerprint: F1, TimeoutSeconds: '3600', Spec: {} }]);
    expect(answer).toMatchObject({ Status: 'FAILED', Reason: 'The deploy-time jobs of this stack could not start.\nError: AccessDeniedException: User is not authorized to perform ecr:DescribeImages' });
    expect(stack.logs).toContainEqual(expect.stringMatching(/^Failed: The deploy-time jobs of this stack could not start\./));
  });

  test('a delete that meets an error still answers SUCCESS, so that no rollback or stack delete is blocked', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    jest.spyOn(stack.builds, 'cancel').mockRejectedValue(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await stack.destroy();
    expect(stack.puts[stack.puts.length - 1].body).toMatchObject({ Status: 'SUCCESS' });
    expect(stack.logs.join('\n')).toContain('Delete: left as it is after AccessDeniedException: denied');
  });

  test('ids the runtime derives: the jobs resource\'s physical id by stack name and logical id, and the attempt (fixed values)', () => {
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(physicalIdOf(STACK, 'Jobs')).toBe('app-Jobs');
    expect(physicalIdOf('not-a-stack-arn', 'Jobs2')).toBe('stack-Jobs2');
    expect(attemptOf('request-1', 'WaitA')).toBe(sha('request-1\nWaitA').slice(0, 16));
  });

  test('the last pending job failing in its check turns the schedule off', async () => {
    await stack.deploy([{ fingerprint: F1 }], { rollback: false });
    expect(stack.pollEnabled).toBe(true);
    jest.spyOn(stack.builds, 'check').mockRejectedValue(new JobFailure('gone'));
    await stack.event();
    expect(stack.pending).toBe(0);
    expect(stack.pollEnabled).toBe(false);
  });

  test('a check that fails with a JobFailure signals SUCCESS, with nothing but the attempt: the wait only says the job ended', async () => {
    await stack.deploy([{ fingerprint: F1 }], { rollback: false });
    jest.spyOn(stack.builds, 'check').mockRejectedValue(new JobFailure('gone'));
    await stack.event();
    expect(stack.signals(F1)).toEqual([{ Status: 'SUCCESS', UniqueId: expect.stringMatching(/^[0-9a-f]{16}$/) }]);
  });
});

/** Sends the runtime a request of its own (another logical id, properties the harness does not make); returns the answer. */
let requests = 0;
async function send(
  stack: StackHarness, type: string, logicalId: string, jobs: JobProperties[] | undefined, extra: object = {}, remainingMs = 600_000,
): Promise<any> {
  const url = `https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/response-own-${++requests}?X-Amz-Signature=SECRET`;
  await handler({
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:runtime',
    ResponseURL: url,
    StackId: STACK,
    RequestId: `own-${requests}`,
    LogicalResourceId: logicalId,
    ResourceType: 'Custom::CdkImmutableDeploysJobs',
    ResourceProperties: { ServiceToken: 'x', ...(jobs ? { Jobs: jobs } : {}) },
    ...extra,
  }, { getRemainingTimeInMillis: () => remainingMs });
  return stack.puts.find((p) => p.url === url)?.body;
}

const jobOf = (fingerprint: string, minutes = 60, spec: { [name: string]: unknown } = { Image: fingerprint }): JobProperties =>
  ({ Key: `Own${fingerprint}${minutes}`, Kind: 'container-build', Path: `app/Own-${fingerprint}`, Fingerprint: fingerprint, TimeoutSeconds: String(minutes * 60), Spec: spec });

/** What the runtime keeps of each pending job (the harness's SSM, one level under the stack's path). */
const saved = (stack: StackHarness): any[] => [...stack.state.entries()]
  .filter(([name]) => /^\/cdk-immutable-deploys\/app\/[^/]+$/.test(name)).map(([, v]) => JSON.parse(v));

/** Every value the schedule rule was set to, in order. */
function pollHistory(stack: StackHarness): boolean[] {
  const history: boolean[] = [];
  let value = stack.pollEnabled;
  Object.defineProperty(stack, 'pollEnabled', { get: () => value, set: (v: boolean) => { history.push(v); value = v; }, configurable: true });
  return history;
}

describe('deploy-time runtime: requests, deadlines and state (mutation testing, issue 17)', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  test('an answer names the stack, request and resource; a failed update keeps the old physical id, a failed create gets the computed one', async () => {
    jest.spyOn(stack.builds, 'find').mockRejectedValue(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const update = await send(stack, 'Update', 'Jobs', [jobOf(F1)], { PhysicalResourceId: 'app-jobs-old', OldResourceProperties: { Jobs: [] } });
    expect(update).toMatchObject({ Status: 'FAILED', StackId: STACK, RequestId: `own-${requests}`, LogicalResourceId: 'Jobs', PhysicalResourceId: 'app-jobs-old' });
    const create = await send(stack, 'Create', 'Jobs', [jobOf(F1)]);
    expect(create).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'app-Jobs' });
    const empty = await send(stack, 'Create', 'Jobs2', undefined);
    expect(empty).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'app-Jobs2' });
    const deleted = await send(stack, 'Delete', 'Gone', undefined, { PhysicalResourceId: 'app-jobs-gone' });
    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'app-jobs-gone' });
  });

  test('what is no request (no type or no response URL, or nothing at all) is a check of the pending jobs', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    stack.builds.finish(F1, 'succeeded');
    const answers = stack.puts.length;
    for (const event of [undefined, {}, { RequestType: 'Create' }, { ResponseURL: 'https://x' }]) await handler(event);
    expect(stack.puts.length).toBe(answers); // no answer to anyone
    expect(stack.signals(F1)).toHaveLength(1); // the one signal of F1's wait
    expect(await stack.settle()).toBe('complete');
  });

  test('throttling is tried again until the call\'s deadline, its remaining time less 30 s (at least 5 s)', async () => {
    world.retryDelayMs = 0;
    let clock = stack.now;
    world.now = () => (clock += 5_000);
    const find = jest.spyOn(stack.builds, 'find').mockRejectedValue(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const answer = await send(stack, 'Create', 'Jobs', [jobOf(F1)], {}, 90_000);
    expect(answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('ThrottlingException: Rate exceeded') });
    // 60 s of deadline at 5 s a look at the clock
    expect(find.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(find.mock.calls.length).toBeLessThanOrEqual(12);
    find.mockClear();
    await send(stack, 'Create', 'Jobs', [jobOf(F1)], {}, 20_000);
    expect(find.mock.calls.length).toBeLessThanOrEqual(2);
  });

  test('without a context the deadline is 4.5 minutes away; pauses double', async () => {
    world.retryDelayMs = 1;
    let clock = stack.now;
    world.now = () => (clock += 40_000);
    const find = jest.spyOn(stack.builds, 'find').mockRejectedValue(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const url = 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/response-nocontext';
    await handler({ RequestType: 'Create', ResponseURL: url, StackId: STACK, RequestId: 'r', LogicalResourceId: 'Jobs', ResourceType: 'Custom::CdkImmutableDeploysJobs', ResourceProperties: { Jobs: [jobOf(F1)] } });
    expect(find.mock.calls.length).toBeGreaterThanOrEqual(5);
    expect(find.mock.calls.length).toBeLessThanOrEqual(14);
    const pauses = stack.logs.filter((l) => l.startsWith('Trying again in')).map((l) => Number(/in (\d+) ms/.exec(l)![1]));
    expect(pauses.slice(0, 4)).toEqual([1, 2, 4, 8]);
  });

  test('out of time while starting jobs: the request fails, and says how many started (they are kept)', async () => {
    let clock = stack.now;
    world.now = () => (clock += 15_000);
    const answer = await send(stack, 'Create', 'Jobs', [jobOf('a'), jobOf('b'), jobOf('c'), jobOf('d')], {}, 60_000);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^Ran out of time after starting [0-3] of the stack's new jobs\. The deploy fails, and its rollback stops the attempts it started\. Deploy with --no-rollback: the started attempts are then kept/);
    expect(stack.builds.starts).toBeLessThan(4);
  });

  test('out of time while checking: the jobs not checked stay pending and the schedule stays on', async () => {
    await stack.deploy([{ fingerprint: 'a' }, { fingerprint: 'b' }, { fingerprint: 'c' }]);
    stack.builds.finish('a', 'succeeded');
    stack.builds.finish('b', 'succeeded');
    stack.builds.finish('c', 'succeeded');
    let clock = stack.now;
    world.now = () => (clock += 40_000);
    const history = pollHistory(stack);
    await handler({ source: 'aws.events' }, { getRemainingTimeInMillis: () => 60_000 });
    expect(stack.pending).toBeGreaterThan(0);
    expect(history).not.toContain(false);
  });

  test('a delete of the jobs resource while the stack stays (it left the template) deletes no artifact, and says so', async () => {
    stack.stackStatus = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    await send(stack, 'Create', 'Jobs', [jobOf('a')]);
    await send(stack, 'Delete', 'Jobs', [jobOf('a')], { PhysicalResourceId: physicalIdOf(STACK, 'Jobs') });
    expect(stack.logs).toContainEqual('Deleted the jobs resource of 1 job(s); no artifact was deleted.');
  });

  test('out of time after checking one job that still runs: the schedule is left on, never turned off and on', async () => {
    await stack.deploy([{ fingerprint: 'a' }, { fingerprint: 'b' }]);
    let clock = stack.now;
    world.now = () => (clock += 20_000);
    const history = pollHistory(stack);
    await handler({ source: 'aws.events' }, { getRemainingTimeInMillis: () => 60_000 });
    expect(stack.pending).toBe(2);
    expect(history).toEqual([]);
  });

  test('a replay of a request neither starts nor restarts the clock of a pending job', async () => {
    const job = jobOf(F1, 20);
    await send(stack, 'Create', 'Jobs', [job]);
    const first = saved(stack)[0];
    stack.now += 15 * 60_000;
    // Lambda runs the same request again (same request id)
    requests--;
    await send(stack, 'Create', 'Jobs', [job]);
    expect(saved(stack)[0].since).toBe(first.since);
    expect(stack.builds.starts).toBe(1);
  });

  test('an update looks up no unchanged job again', async () => {
    stack.builds.artifacts.set(F1, 'sha256:f1');
    await send(stack, 'Create', 'Jobs', [jobOf(F1)]);
    const find = jest.spyOn(stack.builds, 'find');
    const moved = { ...jobOf(F1), Path: 'app/Moved' };
    await send(stack, 'Update', 'Jobs', [moved], { PhysicalResourceId: physicalIdOf(STACK, 'Jobs'), OldResourceProperties: { Jobs: [jobOf(F1)] } });
    expect(find).not.toHaveBeenCalled();
  });

  test('a reused artifact\'s signal is logged as reused, naming the fingerprint\'s first 16 characters', async () => {
    const fingerprint = 'abcdef0123456789abcdef';
    stack.builds.artifacts.set(fingerprint, 'sha256:x');
    const save = jest.spyOn(stack.state, 'set');
    await stack.deploy([{ fingerprint }]);
    expect(save.mock.calls.map((c) => JSON.parse(c[1])).find((p) => p.ended)?.ended).toEqual({ summary: 'Reused the artifact of fingerprint abcdef0123456789: nothing was built' });
    expect(stack.signals(fingerprint)).toHaveLength(1);
    expect(stack.logs).toContainEqual(`app/Image-${fingerprint}: reused sha256:x`);
  });

  test('a kind of job that reads nothing back of its own (no readBack: its result is its find) and holds nothing is reused, built and deleted all the same', async () => {
    const plain: JobRunner = {
      find: (job) => stack.builds.find(job),
      start: (job, a) => stack.builds.start(job, a),
      check: (job, ref) => stack.builds.check(job, ref),
      cancel: (job, ref) => stack.builds.cancel(job, ref),
    };
    world.runners = { 'container-build': plain, 'ami-bake': plain };
    stack.builds.artifacts.set('f0', 'sha256:f0');
    expect(await stack.deploy([{ fingerprint: 'f0' }])).toBe('complete');
    await stack.deploy([{ fingerprint: 'f0' }, { fingerprint: F1 }]);
    stack.builds.finish(F1, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
    expect(stack.result(F1)?.id).toBe('sha256:f1');
    await stack.destroy();
    expect([...stack.keeper.kept]).toEqual([]);
    expect(stack.logs.join('\n')).not.toContain('Delete: left as it is');
    expect(stack.logs).toContainEqual('Deleted the jobs resource of 2 job(s) with the stack; no artifact was deleted.');
  });

  test('a job started later keeps its start-only settings apart until it starts, then drops them', async () => {
    const spec = { Image: F1, Big: 'x'.repeat(100) };
    world.runners['container-build'] = Object.assign(Object.create(stack.builds), { startOnly: ['Big'] });
    const start = jest.spyOn(stack.builds, 'start');
    stack.builds.quotaFull = 'Concurrently running builds';
    await send(stack, 'Create', 'Jobs', [jobOf(F1, 60, spec)]);
    expect(saved(stack)[0]).toMatchObject({ throttled: 'Concurrently running builds', job: { Spec: { Image: F1 } }, startParts: 1 });
    expect(saved(stack)[0].job.Spec.Big).toBeUndefined();
    expect(saved(stack)[0].ref).toBeUndefined();
    expect(stack.logs).toContainEqual('app/Own-f1: waiting to start (Concurrently running builds)');
    stack.builds.quotaFull = undefined;
    await stack.event();
    expect(start.mock.calls[1][0].spec).toEqual(spec);
    expect(saved(stack)[0]).toMatchObject({ ref: 'build-1', job: { Spec: { Image: F1 } } });
    expect(saved(stack)[0].throttled).toBeUndefined();
    expect(saved(stack)[0].startParts).toBeUndefined();
    expect([...stack.state.keys()].filter((n) => n.includes('/start/'))).toEqual([]);
    // and a job that starts at once is kept without them
    await send(stack, 'Create', 'Jobs', [jobOf(F2, 60, { Image: F2, Big: 'y' })]);
    expect(saved(stack).find((p) => p.job.Fingerprint === F2).job.Spec).toEqual({ Image: F2 });
    expect(stack.logs).toContainEqual('app/Own-f2: started build-2');
  });

  test('GIVEN a full quota WHEN a job\'s component documents take 60 KB THEN it waits to start within SSM\'s limits (4 KB a part, 8 KB a parameter), starts with them all, and leaves nothing of them (review runtime #4)', async () => {
    // Documents that compress badly, as the worst case: 60 KB of hexadecimal noise.
    const noise = Array.from({ length: 1_875 }, (_, i) => Fingerprint.ofString(String(i)).short + Fingerprint.ofString(`${i}.`).short).join('');
    const spec = { Image: F1, Components: [{ Name: 'c1', Data: noise }] };
    world.runners['container-build'] = Object.assign(Object.create(stack.builds), { startOnly: ['Components'] });
    const start = jest.spyOn(stack.builds, 'start');
    stack.builds.quotaFull = 'Concurrently running builds';
    expect((await send(stack, 'Create', 'Jobs', [jobOf(F1, 60, spec)])).Status).toEqual('SUCCESS');
    expect(saved(stack)[0].startParts).toBeGreaterThan(1);
    const parts = [...stack.state.entries()].filter(([n]) => n.includes('/start/'));
    expect(parts).toHaveLength(saved(stack)[0].startParts);
    for (const [, value] of parts) expect(value.length).toBeLessThanOrEqual(4_000);
    stack.builds.quotaFull = undefined;
    await stack.event();
    expect(start.mock.calls.at(-1)![0].spec).toEqual(spec);
    expect(saved(stack)[0]).toMatchObject({ ref: 'build-1' });
    expect([...stack.state.keys()].filter((n) => n.includes('/start/'))).toEqual([]);
  });

  test('a job whose start-only settings are gone when it may start fails with what to do, and its wait is signalled', async () => {
    world.runners['container-build'] = Object.assign(Object.create(stack.builds), { startOnly: ['Big'] });
    stack.builds.quotaFull = 'Concurrently running builds';
    await send(stack, 'Create', 'Jobs', [jobOf(F1, 60, { Image: F1, Big: 'x' })]);
    for (const name of [...stack.state.keys()].filter((n) => n.includes('/start/'))) stack.state.delete(name);
    stack.builds.quotaFull = undefined;
    await stack.event();
    expect(stack.builds.starts).toEqual(0);
    expect(JSON.parse(stack.state.get(`/cdk-immutable-deploys/app/results/Own${F1}60`)!).reason)
      .toMatch(/could not start: the settings kept for its start are gone\. Deploy again with a new retry word/);
  });

  test('deleting one jobs resource stops only its own attempts, and keeps the schedule on for the others', async () => {
    await send(stack, 'Create', 'Jobs', [jobOf('a')]);
    await send(stack, 'Create', 'Jobs2', [jobOf('b')]);
    const history = pollHistory(stack);
    await send(stack, 'Delete', 'Jobs2', [jobOf('b')], { PhysicalResourceId: physicalIdOf(STACK, 'Jobs2') });
    const states = Object.fromEntries([...stack.builds.builds.values()].map((b) => [b.fingerprint, b.state]));
    expect(states).toEqual({ a: 'running', b: 'cancelled' });
    expect(history).not.toContain(false);
    expect(stack.logs).toContainEqual(expect.stringMatching(/^app\/Own-b: stopped build-2: its jobs resource is deleted$/));
  });

  test('an update of one jobs resource stops only its own attempts that left the template', async () => {
    await send(stack, 'Create', 'Jobs', [jobOf('a')]);
    await send(stack, 'Create', 'Jobs2', [jobOf('b')]);
    await send(stack, 'Update', 'Jobs', [], { PhysicalResourceId: 'x', OldResourceProperties: { Jobs: [jobOf('a')] } });
    const states = Object.fromEntries([...stack.builds.builds.values()].map((b) => [b.fingerprint, b.state]));
    expect(states).toEqual({ a: 'cancelled', b: 'running' });
    expect(stack.logs).toContainEqual('app/Own-a: stopped build-1: its job left the template');
  });

  test('a delete of a resource the stack no longer lists still stops its attempts; one waiting to start is just forgotten', async () => {
    await send(stack, 'Create', 'Orphan', [jobOf('a')]);
    stack.builds.quotaFull = 'full';
    await send(stack, 'Create', 'Orphan', [jobOf('b')]);
    await send(stack, 'Delete', 'Orphan', [jobOf('a'), jobOf('b')], { PhysicalResourceId: 'p' });
    expect([...stack.builds.builds.values()].map((b) => b.state)).toEqual(['cancelled']);
    expect(stack.pending).toBe(0);
  });

  test('while a job stays pending, a check never turns the schedule off; when the last one ends, it does', async () => {
    stack.builds.quotaFull = 'full';
    await stack.deploy([{ fingerprint: 'a' }, { fingerprint: 'b' }]);
    const history = pollHistory(stack);
    stack.builds.quotaFull = undefined;
    await stack.event(); // both start
    await stack.event(); // both still running
    jest.spyOn(stack.builds, 'check').mockRejectedValueOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await stack.event(); // a check throttled: tried again later
    expect(history).toEqual([]);
    expect(stack.logs).toContainEqual(expect.stringMatching(/^app\/Image-a: will check again \(ThrottlingException: Rate exceeded\)$/));
    stack.builds.finish('a', 'succeeded');
    await stack.event();
    expect(history).toEqual([]);
    stack.builds.finish('b', 'succeeded');
    await stack.event();
    expect(history).toEqual([false]);
    expect(await stack.settle()).toBe('complete');
  });

  test('give-up times: a job waiting to start, and a running one, are kept at exactly their limit (timeout less 2 minutes) and given up after', async () => {
    const failure = (key: string) => JSON.parse(stack.state.get(`/cdk-immutable-deploys/app/results/${key}`) ?? '{}').reason;
    stack.builds.quotaFull = 'Concurrently running builds';
    await stack.deploy([{ fingerprint: 'q', timeoutMinutes: 10 }], { rollback: false });
    await stack.advance(8);
    expect(stack.signals('q', 10)).toEqual([]);
    await stack.advance(1);
    expect(stack.signals('q', 10)).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
    expect(failure('Waitq10')).toEqual('app/Image-q: the container-build could not start within 10 minutes.\nReason: Concurrently running builds');
    stack = new StackHarness();
    await stack.deploy([{ fingerprint: 'r', timeoutMinutes: 10 }], { rollback: false });
    await stack.advance(8);
    expect(stack.signals('r', 10)).toEqual([]);
    await stack.advance(1);
    expect(stack.signals('r', 10)).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
    expect(failure('Waitr10')).toMatch(/did not finish within 10 minutes \(build-\d+ is running\), and was stopped\.$/);
  });

  test('a failed build\'s reason is kept for its result, named by the attempt; a success is logged with its summary', async () => {
    await stack.deploy([{ fingerprint: F1 }, { fingerprint: F2 }], { rollback: false });
    stack.builds.finish(F1, 'succeeded');
    stack.builds.finish(F2, 'failed');
    await stack.event();
    const kept = JSON.parse(stack.state.get('/cdk-immutable-deploys/app/results/Waitf260')!);
    expect(kept).toEqual({ attempt: stack.signals(F2)[0].UniqueId, reason: 'build-2 failed: step 3 of the Dockerfile returned 1' });
    expect(stack.state.has('/cdk-immutable-deploys/app/results/Waitf160')).toBe(false);
    expect(stack.logs).toContainEqual('app/Image-f1: built by build-1');
    expect(stack.logs).toContainEqual('app/Image-f2: failed: build-2 failed: step 3 of the Dockerfile returned 1');
  });

  test('a wait that no longer takes signals (ValidationError) is forgotten; a signal that is throttled is tried again', async () => {
    await stack.deploy([{ fingerprint: F1 }, { fingerprint: F2 }]);
    stack.builds.finish(F1, 'succeeded');
    stack.builds.finish(F2, 'succeeded');
    const signal = stack.signal.bind(stack);
    jest.spyOn(stack, 'signal').mockImplementation(async (key, id, status) => {
      if (key === `Wait${F1}60`) throw Object.assign(new Error(`Resource Wait${F1}60 is in CREATE_FAILED state and cannot be signaled`), { name: 'ValidationError' });
      if (key === `Wait${F2}60`) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
      return signal(key, id, status);
    });
    await stack.event();
    expect(saved(stack).map((p) => p.job.Fingerprint)).toEqual([F2]);
    expect(stack.logs).toContainEqual(expect.stringMatching(/^app\/Image-f1: Waitf160 no longer takes signals \(ValidationError: .*cannot be signaled\); forgetting the attempt$/));
    jest.restoreAllMocks();
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    await stack.event();
    expect(stack.pending).toBe(0);
    expect(stack.signals(F2)).toHaveLength(1);
  });

  test('a wait that is gone or done is not signalled, and the attempt is forgotten; one CloudFormation has not created yet is kept until its timeout', async () => {
    stack.builds.artifacts.set(F1, 'sha256:f1');
    // The jobs resource answered, but the update failed before CloudFormation created the wait.
    await send(stack, 'Create', 'Jobs', [jobOf(F1, 10)]);
    expect(stack.pending).toBe(1);
    expect(stack.logs).toContainEqual('1 wait(s) not created yet: the schedule signals them');
    await stack.advance(5);
    expect(stack.pending).toBe(1);
    await stack.advance(6);
    expect(stack.pending).toBe(0);
    expect(stack.logs).toContainEqual(`app/Own-${F1}: Own${F1}10 is gone: nothing waits for the signal; forgetting the attempt`);
  });

  test('a look at the stack\'s resources that fails is no "the wait does not exist": the request fails, nothing is built or signalled', async () => {
    for (const error of [
      Object.assign(new Error('Stack app is in UPDATE_ROLLBACK_IN_PROGRESS state'), { name: 'ValidationError' }),
      Object.assign(new Error('Resource does not exist'), { name: 'AccessDeniedException' }),
    ]) {
      (jest.spyOn(CloudFormationClient.prototype, 'send') as jest.SpyInstance).mockRejectedValueOnce(error);
      const answer = await send(stack, 'Update', 'Jobs', [jobOf(F1)], { PhysicalResourceId: 'p', OldResourceProperties: { Jobs: [] } });
      expect(answer.Status).toBe('FAILED');
    }
    expect(stack.builds.starts).toBe(0);
  });

  test('the schedule the runtime turns on and off is the stack\'s own rule', async () => {
    const spy = jest.spyOn(EventBridgeClient.prototype, 'send');
    await stack.deploy([{ fingerprint: F1 }]);
    stack.builds.finish(F1, 'succeeded');
    await stack.event();
    expect(spy.mock.calls.map((c) => [(c[0] as any).constructor.name, (c[0] as any).input])).toEqual([
      ['EnableRuleCommand', { Name: 'app-jobs-poll' }],
      ['DisableRuleCommand', { Name: 'app-jobs-poll' }],
    ]);
  });
});

describe('lookups: edges (mutation testing, issue 17)', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  async function lookup(props: object, logicalId = 'Imported'): Promise<any> {
    const url = `https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/response-lookup-${++requests}`;
    await handler({ RequestType: 'Create', ResponseURL: url, StackId: STACK, RequestId: 'r', LogicalResourceId: logicalId, ResourceType: 'Custom::CdkImmutableDeploysLookup', ResourceProperties: props }, { getRemainingTimeInMillis: () => 600_000 });
    return stack.puts.find((p) => p.url === url)!.body;
  }

  test('a known kind without a fingerprint is refused, naming the import or, without a path, its resource', async () => {
    expect((await lookup({ Kind: 'ami-lookup', Path: 'app/Fleet/Imported', Fingerprint: '' })).Reason).toMatch(/^Lookup app\/Fleet\/Imported has no fingerprint or an unknown kind \(ami-lookup\)/);
    expect((await lookup({ Kind: 'ami-lookup', Fingerprint: '' }, 'FleetLookup')).Reason).toMatch(/^Lookup FleetLookup has no fingerprint/);
    expect(stack.lookups.calls).toEqual([]);
  });

  test('a lookup without a spec looks with an empty one; an error that is no JobFailure fails under a headline', async () => {
    const look = jest.spyOn(stack.lookups, 'lookup').mockRejectedValue(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const answer = await lookup({ Kind: 'ami-lookup', Path: 'app/Fleet/Imported', Fingerprint: 'a1' });
    expect(look.mock.calls[0][0]).toMatchObject({ spec: {}, account: '123456789012', region: 'eu-west-1' });
    await lookup({ Kind: 'ami-lookup', Path: 'app/Fleet/Imported', Fingerprint: 'a1', Spec: { Owner: '111111111111', SourceRegion: 'us-east-1' } });
    expect(look.mock.calls[1][0].spec).toEqual({ Owner: '111111111111', SourceRegion: 'us-east-1' });
    expect(answer).toMatchObject({ Status: 'FAILED', Reason: 'app/Fleet/Imported: the lookup of fingerprint a1 failed.\nError: AccessDeniedException: not authorized' });
    expect(stack.logs).toContainEqual(expect.stringMatching(/^Failed: app\/Fleet\/Imported: the lookup of fingerprint a1 failed/));
  });
});

describe('removal policy DESTROY: edges (mutation testing of the removal policy)', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
    stack.stackStatus = 'DELETE_IN_PROGRESS';
  });
  afterEach(() => jest.restoreAllMocks());

  const doomed = (fingerprint: string, extra: Partial<JobProperties> = {}): JobProperties => ({ ...jobOf(fingerprint, 60, { Image: fingerprint, RemovalPolicy: 'destroy' }), ...extra });
  const remove = (jobs: JobProperties[]) => stack.request('Delete', jobs, { jobs, physicalId: physicalIdOf(STACK, 'Jobs') });
  /** DescribeStacks answers this (the other CloudFormation calls go to the harness), and each input is kept. */
  function describeStacks(answer: object): any[] {
    const inputs: any[] = [];
    const original = CloudFormationClient.prototype.send;
    jest.spyOn(CloudFormationClient.prototype, 'send').mockImplementation(function (this: CloudFormationClient, command: any) {
      if (command instanceof DescribeStacksCommand) {
        inputs.push(command.input);
        return Promise.resolve(answer);
      }
      return (original as any).call(this, command);
    } as any);
    return inputs;
  }
  /** The jobs' destroy records what it is told and returns this. */
  function destroying(result: { deleted: string[]; left: string[] }): string[] {
    const paths: string[] = [];
    stack.builds.destroy = async (job) => {
      paths.push(job.path);
      return result;
    };
    return paths;
  }

  test('the stack asked about is the stack of the request, by its id', async () => {
    const inputs = describeStacks({ Stacks: [{ StackName: 'app', StackStatus: 'DELETE_IN_PROGRESS' }] });
    const paths = destroying({ deleted: ['a'], left: [] });
    await remove([doomed(F1)]);
    expect(inputs).toEqual([{ StackName: STACK }]);
    expect(paths).toEqual([`app/Own-${F1}`]);
  });

  test('DescribeStacks without the stack (no list, an empty one) deletes nothing and says so', async () => {
    for (const answer of [{}, { Stacks: [] }]) {
      stack = new StackHarness();
      describeStacks(answer);
      const paths = destroying({ deleted: ['a'], left: [] });
      expect((await remove([doomed(F1)])).Status).toBe('SUCCESS');
      expect(paths).toEqual([]);
      expect(stack.logs).toContain('Deleted the jobs resource of 1 job(s); no artifact was deleted.');
      jest.restoreAllMocks();
    }
  });

  test('a job without a spec, or of a kind without a runner, is kept: only a DESTROY job with a runner that deletes goes', async () => {
    const paths = destroying({ deleted: [], left: [] });
    const answer = await remove([{ ...doomed(F1), Spec: undefined } as any, doomed(F2, { Kind: 'no-such-kind' as any })]);
    expect(answer.Status).toBe('SUCCESS');
    expect(paths).toEqual([]);
    expect(stack.logs).toContain('Deleted the jobs resource of 2 job(s) with the stack; no artifact was deleted.');
    expect(stack.logs.join('\n')).not.toMatch(/crash/);
  });

  test('the log names what was deleted and left: nothing as "0.", the first 20 of a list and how many more', async () => {
    const items = (n: number, what: string) => Array.from({ length: n }, (_, i) => `${what}-${i + 1}`);
    destroying({ deleted: [], left: items(21, 'left') });
    await remove([doomed(F1)]);
    expect(stack.logs).toContain(`app/Own-${F1}: removal policy DESTROY: deleted 0.`);
    expect(stack.logs).toContain(`app/Own-${F1}: removal policy DESTROY: left 21: ${items(20, 'left').join('; ')}; and 1 more. Delete them by hand (README: What stays after cdk destroy).`);
    stack.logs.length = 0;
    destroying({ deleted: items(20, 'ami'), left: [] });
    await remove([doomed(F2)]);
    expect(stack.logs).toContain(`app/Own-${F2}: removal policy DESTROY: deleted 20: ${items(20, 'ami').join('; ')}.`);
    expect(stack.logs.join('\n')).not.toMatch(/DESTROY: left/);
  });

  test('a call at exactly the deadline is still tried; only past it is a call refused', async () => {
    const start = stack.now;
    const tried: number[] = [];
    stack.builds.destroy = async (_job, retry) => {
      // The call's deadline: the function's remaining 10 minutes less 30 s.
      stack.now = start + 570_000;
      await retry(async () => tried.push(stack.now));
      stack.now += 1;
      const late = await retry(async () => tried.push(stack.now)).catch((e) => (e as Error).message);
      return { deleted: [], left: [String(late)] };
    };
    await remove([doomed(F1)]);
    expect(tried).toEqual([start + 570_000]);
    expect(stack.logs.join('\n')).toMatch(/left 1: out of time for this call: not tried/);
  });
});

describe('the jobs resource is never replaced (mutation testing of the removal policy)', () => {
  afterEach(() => jest.restoreAllMocks());

  test('updates keep its physical id, so no cleanup Delete of it ever comes, and nobody asks whether the stack is being deleted', async () => {
    const stack = new StackHarness();
    for (const fingerprint of [F1, F2]) {
      await stack.deploy([{ fingerprint, destroy: true }]);
      stack.builds.finish(fingerprint, 'succeeded');
      await stack.event();
      expect(await stack.settle()).toBe('complete');
    }
    expect(stack.statusReads).toBe(0);
    expect(stack.builds.destroyed).toEqual([]);
    expect(stack.logs.join('\n')).not.toMatch(/Deleted the jobs resource/);
  });
});

describe('lookups: the Delete path (mutation testing of the key grant)', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  test('a Delete of a lookup that makes nothing (no remove), or of an unknown kind, answers SUCCESS and logs nothing left', async () => {
    for (const kind of ['ami-lookup', 'no-such-kind']) {
      const answer = await stack.lookupRequest('Delete', F1, { fingerprint: F1, physicalId: `${kind}:${F1}`, id: '' }, kind as any);
      expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `${kind}:${F1}` });
    }
    expect(stack.logs.join('\n')).not.toMatch(/left it as it is|crash/);
  });

  test('a remove that fails is logged with the path, the physical id and the error, and the Delete still succeeds', async () => {
    (stack.lookups as any).remove = async () => { throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' }); };
    const answer = await stack.lookupRequest('Delete', F1, { fingerprint: F1, physicalId: 'key-grant:x', id: '' }, 'key-grant');
    expect(answer.Status).toBe('SUCCESS');
    expect(stack.logs).toContain('app/Fleet/ImportedArtifact: Delete of key-grant:x left it as it is after AccessDeniedException: denied');
  });
});

describe('lookups: what a version made is undone with the spec that made it (review #15)', () => {
  afterEach(() => jest.restoreAllMocks());

  test('a cleanup Delete that carries the new properties undoes the old version with its own recorded spec', async () => {
    const stack = new StackHarness();
    const removed: Array<{ spec: any; physicalId: string }> = [];
    (stack.lookups as any).remove = async (lookup: any, physicalId: string) => { removed.push({ spec: lookup.spec, physicalId }); };
    stack.lookups.visible.set('a1', 'grant-1');
    stack.lookups.visible.set('a2', 'grant-2');
    const specOf = (fingerprint: string) => ({ KeyArn: `key-of-${fingerprint}` });
    const v1 = await stack.lookupRequest('Create', 'a1', undefined, 'key-grant', specOf);
    const old = { fingerprint: 'a1', physicalId: v1.PhysicalResourceId, id: v1.Data.Id };
    await stack.lookupRequest('Update', 'a2', old, 'key-grant', specOf);
    // CloudFormation's cleanup Delete of v1 carries the template's new properties (row 8)
    await stack.lookupRequest('Delete', 'a2', old, 'key-grant', specOf);
    expect(removed).toEqual([{ spec: { KeyArn: 'key-of-a1' }, physicalId: v1.PhysicalResourceId }]);
  });
});
