/**
 * The deploy-time runtime through a stack's life, against the lifecycle harness (CloudFormation's
 * side, with a clock) and a fake kind of job. Each test names the AWS behaviour it relies on where
 * one matters; docs/aws-behaviour.md lists the sources.
 */
import { RollbackReading, StackHarness } from './harness';
import { world } from '../../../src/internal/runtime/world';

const F1 = 'f1';
const F2 = 'f2';

describe('deploy-time runtime lifecycle', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  async function deployBuilt(fingerprint: string): Promise<void> {
    await stack.deploy([{ fingerprint }]);
    stack.builds.finish(fingerprint, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
  }

  test('create: starts one build; its wait takes one signal when the build ends, the result lookup reads the artifact back, polling stops', async () => {
    // GIVEN / WHEN the first deploy of an artifact that was never built
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('failed'); // still waiting
    expect(stack.builds.starts).toBe(1);
    expect(stack.pollEnabled).toBe(true);
    // WHEN the build ends and its state-change event arrives
    stack.builds.finish(F1, 'succeeded');
    await stack.event();
    // THEN the wait took one signal (SignalResource, SUCCESS), the result is read back from AWS, nothing is left pending
    expect(stack.signals(F1)).toEqual([{ Status: 'SUCCESS', UniqueId: expect.stringMatching(/^[0-9a-f]{16}$/) }]);
    expect(await stack.settle()).toBe('complete');
    expect(stack.result(F1)?.id).toBe('sha256:f1');
    expect(stack.pending).toBe(0);
    expect(stack.pollEnabled).toBe(false);
  });

  test('retention: once an attempt succeeded, the job\'s prune runs before its wait is signalled, with the register of holds; a prune that fails never fails the job (AMI review #1)', async () => {
    // GIVEN a runner with a retention that records when it ran
    const pruned: Array<{ fingerprint: string; signalledBefore: number; holders: string[] }> = [];
    let fails = false;
    (stack.builds as any).prune = async (job: any, retry: any, holds: any) => {
      pruned.push({ fingerprint: job.fingerprint, signalledBefore: stack.signals(job.fingerprint).length, holders: await retry(() => holds.holders({ kind: 'ami', region: 'us-east-1', id: 'ami-0nobody' })) });
      if (fails) throw new Error('prune broke');
      return { deleted: ['AMI ami-0old (us-east-1)'], left: [] };
    };
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    // WHEN a build succeeds
    await stack.deploy([{ fingerprint: F1 }]);
    stack.builds.finish(F1, 'succeeded');
    await stack.event();
    // THEN the retention ran once, before the signal, and the job completed
    expect(pruned).toEqual([{ fingerprint: F1, signalledBefore: 0, holders: [] }]);
    expect(stack.signals(F1)).toHaveLength(1);
    expect(await stack.settle()).toBe('complete');
    expect((console.log as jest.Mock).mock.calls.map((c) => c.join(' ')).join('\n')).toMatch(/retention: deleted 1: AMI ami-0old \(us-east-1\)/);
    // AND a retention that fails is logged, and the next bake completes all the same
    fails = true;
    await stack.deploy([{ fingerprint: F2 }]);
    stack.builds.finish(F2, 'succeeded');
    await stack.event();
    expect(pruned.map((p) => p.fingerprint)).toEqual([F1, F2]);
    expect(stack.signals(F2)).toHaveLength(1);
    expect(await stack.settle()).toBe('complete');
    expect((console.log as jest.Mock).mock.calls.map((c) => c.join(' ')).join('\n')).toMatch(/retention: stopped after .*prune broke; the next bake prunes what is left/);
  });

  test('no-op update: an unchanged template invokes nothing, builds nothing and signals nothing', async () => {
    await deployBuilt(F1);
    const puts = stack.puts.length;
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('complete');
    expect(stack.builds.starts).toBe(1);
    expect(stack.puts.length).toBe(puts);
  });

  test('update to a new fingerprint: a new wait, one build, the old wait removed', async () => {
    await deployBuilt(F1);
    await stack.deploy([{ fingerprint: F2 }]);
    stack.builds.finish(F2, 'succeeded');
    await stack.advance(1); // no event: the schedule finds it
    expect(await stack.settle()).toBe('complete');
    expect(stack.builds.starts).toBe(2);
    expect(stack.result(F2)?.id).toBe('sha256:f2');
    expect(stack.wait(F1)).toBeUndefined();
  });

  test('an artifact that exists is reused: its wait is signalled as soon as CloudFormation creates it, in the same call; nothing is built, and polling ends', async () => {
    // GIVEN an artifact another stage built
    stack.builds.artifacts.set(F1, 'sha256:f1');
    // WHEN
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('complete');
    // THEN
    expect(stack.builds.starts).toBe(0);
    expect(stack.signals(F1)).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
    expect(stack.result(F1)?.id).toBe('sha256:f1');
    expect(stack.pending).toBe(0);
    expect(stack.pollEnabled).toBe(false);
  });

  test('a reused artifact whose wait CloudFormation creates late is signalled by the schedule', async () => {
    stack.builds.artifacts.set(F1, 'sha256:f1');
    // WHEN the wait is not there within the call's window (CloudFormation is slow to go on)
    const describe = jest.spyOn(stack as any, 'createWaits');
    describe.mockImplementationOnce(() => undefined);
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('failed'); // still waiting
    expect(stack.logs).toContainEqual('1 wait(s) not created yet: the schedule signals them');
    expect(stack.pollEnabled).toBe(true);
    // THEN the next tick of the schedule signals it
    await stack.advance(1);
    expect(await stack.settle()).toBe('complete');
    expect(stack.pollEnabled).toBe(false);
  });

  test('a failed update rolls back two days later to the old fingerprint, which is never signalled again', async () => {
    // GIVEN F1 deployed, and two days later an update to F2 whose build fails
    await deployBuilt(F1);
    stack.now += 48 * 3_600_000;
    await stack.deploy([{ fingerprint: F2 }]);
    stack.builds.finish(F2, 'failed');
    await stack.event();
    // WHEN CloudFormation evaluates the failure and rolls back to F1
    expect(await stack.settle()).toBe('rolled-back');
    // THEN the rollback succeeded: F1's old wait took no signal again, nothing is pending
    expect(stack.wait(F1)?.state).toBe('complete');
    expect(stack.signals(F1)).toHaveLength(1);
    expect(stack.pending).toBe(0);
    expect(stack.builds.starts).toBe(2);
  });

  test('a failed build fails its result lookup with the build\'s reason (the wait only says when it ended), and the deploy rolls back', async () => {
    await stack.deploy([{ fingerprint: F1 }], { rollback: false });
    stack.builds.finish(F1, 'failed');
    await stack.event();
    expect(stack.signals(F1)).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
    expect(await stack.settle()).toBe('failed');
    const answer = stack.puts.at(-1)!.body;
    expect(answer).toMatchObject({ Status: 'FAILED', LogicalResourceId: 'Imagef1Result', Reason: 'build-1 failed: step 3 of the Dockerfile returned 1' });
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThan(4_096);
  });

  test('a rollback while a build still runs stops it; nothing signals its wait afterwards', async () => {
    await deployBuilt(F1);
    // GIVEN an update to F2 and F3, where F3 fails while F2 is still building
    await stack.deploy([{ fingerprint: F2 }, { fingerprint: 'f3' }]);
    stack.builds.finish('f3', 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    // THEN F2's build was stopped; no build is pending; F1 is untouched
    expect([...stack.builds.builds.values()].find((b) => b.fingerprint === F2)?.state).toBe('cancelled');
    expect(stack.pending).toBe(0);
    expect(stack.wait(F1)?.state).toBe('complete');
    await stack.advance(5);
    expect(stack.pollEnabled).toBe(false);
  });

  test('--no-rollback then retry: the result lookup fails again at once with the same reason; a rollback then deploy builds again', async () => {
    // GIVEN a failed first attempt with rollback disabled
    await deployBuilt(F1);
    await stack.deploy([{ fingerprint: F2 }], { rollback: false });
    stack.builds.finish(F2, 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('failed');
    // WHEN it is retried as it is: CloudFormation re-runs the failed result lookup only
    expect(await stack.retry()).toBe('failed');
    expect(stack.puts.at(-1)!.body.Reason).toMatch(/build-2 failed/);
    expect(stack.builds.starts).toBe(2);
    // WHEN the stack is rolled back and deployed again
    await stack.rollBack();
    await stack.deploy([{ fingerprint: F2 }]);
    // THEN a new attempt starts, on a new wait that takes its own signal
    expect(stack.builds.starts).toBe(3);
    stack.builds.finish(F2, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
    expect(stack.result(F2)?.id).toBe('sha256:f2');
  });

  test('--no-rollback then retry with a new retry word (-c cdk-immutable-deploys:retry=2): new waits, one new attempt, and the stack completes with no rollback', async () => {
    // GIVEN a failed attempt with rollback disabled, beside an artifact that exists
    stack.builds.artifacts.set('f0', 'sha256:f0');
    await deployBuilt(F1);
    await stack.deploy([{ fingerprint: F2, name: 'Web' }, { fingerprint: 'f0', name: 'Api' }], { rollback: false });
    stack.builds.finish(F2, 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('failed');
    // WHEN the same app is deployed again with a retry word: every wait has a new key
    await stack.deploy([{ fingerprint: F2, retry: '2', name: 'Web' }, { fingerprint: 'f0', retry: '2', name: 'Api' }], { rollback: false });
    // THEN the existing artifact completes its new wait at once, and the failed one starts once more
    expect(stack.builds.starts).toBe(3);
    expect(stack.waiting).toBe(true);
    stack.builds.finish(F2, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
    expect(stack.result('Web')?.id).toBe('sha256:f2');
    expect(stack.wait(F2)).toBeUndefined();
    expect(stack.wait(F2, 60, '2')?.state).toBe('complete');
    expect(stack.pending).toBe(0);
  });

  test('a new timeout is a new wait: the existing artifact completes it at once, with no build', async () => {
    await deployBuilt(F1);
    expect(await stack.deploy([{ fingerprint: F1, timeoutMinutes: 120 }])).toBe('complete');
    expect(stack.builds.starts).toBe(1);
    expect(stack.wait(F1, 120)?.state).toBe('complete');
  });

  test('delete while a build runs stops it and deletes no artifact', async () => {
    stack.builds.artifacts.set('f0', 'sha256:f0');
    await stack.deploy([{ fingerprint: F1 }, { fingerprint: 'f0' }]);
    await stack.destroy();
    expect([...stack.builds.builds.values()][0].state).toBe('cancelled');
    expect(stack.builds.artifacts.get('f0')).toBe('sha256:f0');
    expect(stack.pending).toBe(0);
    expect(stack.pollEnabled).toBe(false);
  });

  test('duplicate events send one signal, and never start a second build', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    stack.builds.finish(F1, 'succeeded');
    await stack.event();
    await stack.event();
    await stack.advance(2);
    expect(stack.signals(F1)).toHaveLength(1);
    expect(stack.builds.starts).toBe(1);
  });

  test('a lost event does not stall the deploy: the schedule completes the wait within a minute of the build ending', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    await stack.advance(30);
    expect(stack.waiting).toBe(true);
    stack.builds.finish(F1, 'succeeded');
    await stack.advance(1);
    expect(await stack.settle()).toBe('complete');
  });

  test('throttling while CloudFormation waits for an answer is tried again, and never fails the deploy', async () => {
    stack.builds.artifacts.set(F1, 'sha256:f1');
    stack.builds.throttle = 3;
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('complete');
    expect(stack.builds.throttle).toBe(0);
  });

  test('a crash before answering: Lambda retries the request, which starts nothing twice', async () => {
    stack.crashBeforeAnswer = 1;
    await stack.deploy([{ fingerprint: F1 }]);
    expect(stack.builds.starts).toBe(1);
    expect(stack.pending).toBe(1);
  });

  test('a full build quota waits and starts later, and names the quota when it gives up', async () => {
    stack.builds.quotaFull = 'CodeBuild: Cannot have more than 1 builds in queue for the account (Concurrently running builds)';
    await stack.deploy([{ fingerprint: F1 }, { fingerprint: F2 }]);
    expect(stack.builds.starts).toBe(0);
    // WHEN the quota frees up after 10 minutes
    await stack.advance(10);
    stack.builds.quotaFull = undefined;
    await stack.advance(1);
    expect(stack.builds.starts).toBe(2);
    stack.builds.finish(F1, 'succeeded');
    stack.builds.finish(F2, 'succeeded');
    await stack.advance(1);
    expect(await stack.settle()).toBe('complete');
    // WHEN it stays full for another deploy past its timeout
    stack.builds.quotaFull = 'Concurrently running builds';
    await stack.deploy([{ fingerprint: F1 }, { fingerprint: F2 }, { fingerprint: 'f4', timeoutMinutes: 10 }], { rollback: false });
    await stack.advance(10);
    expect(await stack.settle()).toBe('failed');
    expect(stack.puts.at(-1)!.body.Reason).toMatch(/could not start within 10 minutes[\s\S]*Concurrently running builds/);
  });

  test('a build that outlives its timeout is stopped, and its result says why', async () => {
    await stack.deploy([{ fingerprint: F1, timeoutMinutes: 20 }], { rollback: false });
    await stack.advance(20);
    expect([...stack.builds.builds.values()][0].state).toBe('cancelled');
    expect(await stack.settle()).toBe('failed');
    expect(stack.puts.at(-1)!.body.Reason).toMatch(/did not finish within 20 minutes/);
  });

  test('never logs or answers with a response URL', async () => {
    await stack.deploy([{ fingerprint: F1 }], { rollback: false });
    stack.builds.finish(F1, 'failed');
    await stack.event();
    await stack.settle();
    await stack.destroy();
    const said = [...stack.logs, ...stack.puts.map((p) => JSON.stringify(p.body))].join('\n');
    expect(said).not.toMatch(/SECRET|X-Amz-Signature/);
  });
});

describe('the wait says when, never what (review 2026-12-06-runtime #1, #8)', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  test('a forged SUCCESS (another AMI id and another digest as all it can carry) completes the wait early: the result lookup reads AWS, finds the build still running, and fails the deploy; nothing of it is used', async () => {
    // GIVEN a build under way, and someone who may call SignalResource on the stack (a fleet's instance role may)
    await stack.deploy([{ fingerprint: F1 }]);
    // WHEN they signal the wait with their values
    await stack.signal(stack.wait(F1)!.key, 'ami-0badbadbadbadbad0');
    await stack.signal(stack.wait(F1)!.key, `sha256:${'e'.repeat(64)}`);
    // THEN the deploy fails at the result lookup, naming the forged signal, and rolls back
    expect(await stack.settle()).toBe('rolled-back');
    const failure = stack.puts.find((p) => p.body.Status === 'FAILED')!.body;
    expect(failure.Reason).toMatch(/completed while its container-build still runs \(build-1\): by a signal the runtime did not send/);
    // no result was ever answered with the forged values, and the real build was stopped by the rollback
    const answered = stack.puts.map((p) => p.body.Data?.Id).filter((id) => id);
    expect(answered).toEqual([]);
    expect(JSON.stringify(stack.puts)).not.toMatch(/ami-0badbadbadbadbad0|eeeeeeee/);
    expect(stack.builds.builds.get('build-1')?.state).toBe('cancelled');
  });

  test('a forged SUCCESS after the build ended gets what AWS holds for the fingerprint, never a value of the signal', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    stack.builds.finish(F1, 'succeeded');
    // WHEN the forged signal comes before the runtime's
    await stack.signal(stack.wait(F1)!.key, 'ami-0badbadbadbadbad0');
    await stack.event();
    // THEN the runtime's signal is refused (the wait took one), and the result is the build's own
    expect(await stack.settle()).toBe('complete');
    expect(stack.result(F1)?.id).toBe('sha256:f1');
  });

  test('a wait re-created at the same logical id (the same fingerprint after a rollback) takes no earlier signal: it waits for its own attempt', async () => {
    // GIVEN F2's first attempt failed and rolled back (its wait took the runtime's signal, its result failed)
    stack.builds.artifacts.set(F1, 'sha256:f1');
    await stack.deploy([{ fingerprint: F1 }]);
    await stack.deploy([{ fingerprint: F2 }]);
    stack.builds.finish(F2, 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    // WHEN the same app is deployed again: the same key, a new wait
    expect(await stack.deploy([{ fingerprint: F2 }])).toBe('failed'); // still waiting
    // THEN the new wait holds no signal of the first attempt, and completes with the second
    expect(stack.signals(F2)).toEqual([]);
    stack.builds.finish(F2, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
    expect(stack.result(F2)?.id).toBe('sha256:f2');
  });
});

describe.each<RollbackReading>(['update', 'delete'])('rollbacks land and leave no drift, when CloudFormation rolls a replaced custom resource back by %s', (reading) => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
    stack.rollbackReading = reading;
  });
  afterEach(() => jest.restoreAllMocks());

  test('an update that fails after the new artifact was read back returns to the old one, though the old one was deleted meanwhile: no new search, the same id (review #3)', async () => {
    // GIVEN production runs F1 (the same construct across fingerprints)
    stack.builds.artifacts.set(F1, 'sha256:f1');
    stack.builds.artifacts.set(F2, 'sha256:f2');
    await stack.deploy([{ fingerprint: F1, name: 'Web' }]);
    const v1 = stack.result('Web')!;
    // WHEN F2 is read back, F1's artifact expires, and another artifact of the update fails
    const deployed = stack.deploy([{ fingerprint: F2, name: 'Web' }, { fingerprint: 'f3', name: 'Api' }]);
    expect(await deployed).toBe('failed'); // f3 builds
    stack.builds.artifacts.delete(F1);
    const find = jest.spyOn(stack.builds, 'find');
    stack.builds.finish('f3', 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    // THEN the result is F1's, as it was, and F1 was never looked for again
    expect(stack.result('Web')).toMatchObject({ fingerprint: F1, physicalId: v1.physicalId, id: 'sha256:f1' });
    expect(find.mock.calls.map((c) => c[0].fingerprint)).not.toContain(F1);
  });

  test('the jobs resource keeps its physical id through updates, so its rollback is an Update that stops the failed update\'s attempts (review #9)', async () => {
    stack.builds.artifacts.set(F1, 'sha256:f1');
    await stack.deploy([{ fingerprint: F1, name: 'Web' }]);
    await stack.deploy([{ fingerprint: F2, name: 'Web' }, { fingerprint: 'f3', name: 'Api' }]);
    stack.builds.finish('f3', 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    expect([...stack.builds.builds.values()].find((b) => b.fingerprint === F2)?.state).toBe('cancelled');
    expect(stack.pending).toBe(0);
  });

  test('holds follow what the stack runs: kept through an update until it succeeds, released after, restored by a rollback', async () => {
    stack.builds.artifacts.set(F1, 'sha256:f1');
    stack.builds.artifacts.set(F2, 'sha256:f2');
    stack.builds.artifacts.set('f5', 'sha256:f5');
    await stack.deploy([{ fingerprint: F1, name: 'Web' }]);
    expect([...stack.keeper.kept]).toEqual(['sha256:f1']);
    // WHEN an update to F2 succeeds: the old version's hold goes in the cleanup
    expect(await stack.deploy([{ fingerprint: F2, name: 'Web' }])).toBe('complete');
    expect([...stack.keeper.kept]).toEqual(['sha256:f2']);
    // WHEN an update back to F1 fails in another artifact and rolls back
    await stack.deploy([{ fingerprint: F1, name: 'Web' }, { fingerprint: 'f6', name: 'Api' }]);
    stack.builds.finish('f6', 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    expect([...stack.keeper.kept]).toEqual(['sha256:f2']);
    expect([...stack.state.keys()].filter((k) => k.includes('/_holds/'))).toEqual([expect.stringMatching(/_holds\/sha256:f2\/app\.[0-9a-f]{24}$/)]);
  });
});

describe('rollback Updates answer SUCCESS unless something is truly wrong (review #10, #14, #17)', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  test('a rollback Update that meets errors stopping the failed update\'s attempts answers SUCCESS, and says what was left', async () => {
    stack.builds.artifacts.set(F1, 'sha256:f1');
    await stack.deploy([{ fingerprint: F1, name: 'Web' }]);
    await stack.deploy([{ fingerprint: F2, name: 'Web' }, { fingerprint: 'f3', name: 'Api' }]);
    stack.builds.finish('f3', 'failed');
    await stack.event();
    jest.spyOn(stack.builds, 'cancel').mockRejectedValue(Object.assign(new Error('User is not authorized to perform: codebuild:StopBuild'), { name: 'AccessDeniedException' }));
    // WHEN CloudFormation rolls back
    expect(await stack.settle()).toBe('rolled-back');
    // THEN the jobs resource's rollback Update succeeded
    const rollback = stack.puts.filter((p) => p.body.LogicalResourceId === 'Jobs').at(-1)!.body;
    expect(rollback.Status).toBe('SUCCESS');
    expect(stack.logs.join('\n')).toMatch(/Rollback: left as it is after AccessDeniedException/);
  });

  test('out of time while starting: the message says what the default rollback does, and how to keep the started attempts', async () => {
    let clock = stack.now;
    const now = () => (clock += 200_000);
    world.now = now;
    await stack.deploy([{ fingerprint: 'a' }, { fingerprint: 'b' }, { fingerprint: 'c' }, { fingerprint: 'd' }], { rollback: false });
    const answer = stack.puts.find((p) => p.body.LogicalResourceId === 'Jobs')!.body;
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^Ran out of time after starting [0-3] of the stack's new jobs\. The deploy fails, and its rollback stops the attempts it started\. Deploy with --no-rollback/);
  });

  test('a stopped attempt is never brought back by a check racing the stop: the check cancels what it started', async () => {
    // GIVEN an attempt waiting for a quota, and a check that starts it while the rollback stops it
    stack.builds.quotaFull = 'Concurrently running builds';
    await stack.deploy([{ fingerprint: F1 }]);
    stack.builds.quotaFull = undefined;
    const start = stack.builds.start.bind(stack.builds);
    jest.spyOn(stack.builds, 'start').mockImplementation(async (job, attempt) => {
      const started = await start(job, attempt);
      // the jobs resource's rollback stops the attempt right now, before the check saves what it started
      await stack.request('Update', [], { jobs: [], physicalId: 'app-Jobs' } as any);
      return started;
    });
    // WHEN the check runs
    await stack.event();
    // THEN the build it started is cancelled and nothing is pending
    expect(stack.builds.builds.get('build-1')?.state).toBe('cancelled');
    expect(stack.pending).toBe(0);
    expect(stack.logs).toContainEqual(expect.stringMatching(/stopped build-1 at once: its jobs resource stopped the attempt while it started/));
  });

  test('a check that ends an attempt the rollback stopped meanwhile leaves it stopped: no state comes back', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    stack.builds.finish(F1, 'succeeded');
    const check = stack.builds.check.bind(stack.builds);
    jest.spyOn(stack.builds, 'check').mockImplementation(async (job, ref) => {
      await stack.request('Update', [], { jobs: [], physicalId: 'app-Jobs' } as any);
      return check(job, ref);
    });
    await stack.event();
    expect(stack.pending).toBe(0);
    expect(stack.signals(F1)).toEqual([]);
  });
});

describe('new permissions take effect before they are needed (review #2)', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  const denied = () => Object.assign(new Error('User is not authorized to perform: ecr:DescribeImages'), { name: 'AccessDeniedException' });

  test('an AccessDenied right after CloudFormation changed the runtime\'s policy is tried again, and the deploy goes on', async () => {
    stack.policyUpdatedAt = stack.now - 20_000;
    stack.builds.artifacts.set(F1, 'sha256:f1');
    jest.spyOn(stack.builds, 'find').mockRejectedValueOnce(denied()).mockRejectedValueOnce(denied());
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('complete');
    expect(stack.logs.join('\n')).toMatch(/IAM may not have propagated it yet/);
  });

  test('... until the call\'s deadline, then it fails as it is', async () => {
    stack.policyUpdatedAt = stack.now;
    world.retryDelayMs = 1_000; // pauses that take the clock to the deadline
    const find = jest.spyOn(stack.builds, 'find').mockRejectedValue(denied());
    expect(await stack.deploy([{ fingerprint: F1 }], { rollback: false })).toBe('failed');
    expect(find.mock.calls.length).toBeGreaterThan(10);
    expect(stack.puts.at(-1)!.body.Reason).toMatch(/AccessDeniedException/);
  });

  test('an AccessDenied long after the policy last changed fails at once: a missing grant, not IAM catching up', async () => {
    stack.policyUpdatedAt = stack.now - 3_600_000;
    const find = jest.spyOn(stack.builds, 'find').mockRejectedValue(denied());
    expect(await stack.deploy([{ fingerprint: F1 }], { rollback: false })).toBe('failed');
    expect(find).toHaveBeenCalledTimes(1);
  });

  test('GIVEN a role whose policy overflowed into managed policies WHEN only an overflow policy changed a moment ago THEN an AccessDenied is tried again; when none did, it fails at once (review runtime #8)', async () => {
    process.env.CID_POLICY = 'RuntimePolicy,RuntimeOverflowPolicy1,RuntimeOverflowPolicy2';
    stack.overflowPolicies.set('RuntimeOverflowPolicy1', stack.now - 3_600_000);
    stack.overflowPolicies.set('RuntimeOverflowPolicy2', stack.now - 20_000);
    stack.builds.artifacts.set(F1, 'sha256:f1');
    jest.spyOn(stack.builds, 'find').mockRejectedValueOnce(denied()).mockRejectedValueOnce(denied());
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('complete');
    expect(stack.logs.join('\n')).toMatch(/IAM may not have propagated it yet/);

    const settled = new StackHarness();
    process.env.CID_POLICY = 'RuntimePolicy,RuntimeOverflowPolicy1';
    settled.overflowPolicies.set('RuntimeOverflowPolicy1', settled.now - 3_600_000);
    const find = jest.spyOn(settled.builds, 'find').mockRejectedValue(denied());
    expect(await settled.deploy([{ fingerprint: F1 }], { rollback: false })).toBe('failed');
    expect(find).toHaveBeenCalledTimes(1);
  });

  test('a check that meets an AccessDenied while the policy is new checks again, rather than failing the job', async () => {
    await stack.deploy([{ fingerprint: F1 }]);
    stack.policyUpdatedAt = stack.now;
    jest.spyOn(stack.builds, 'check').mockRejectedValueOnce(denied());
    await stack.event();
    expect(stack.logs).toContainEqual(expect.stringMatching(/will check again \(AccessDeniedException/));
    stack.builds.finish(F1, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
  });
});

describe('removal policy DESTROY: only a stack deletion deletes artifacts (DescribeStacks StackStatus DELETE_IN_PROGRESS)', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  async function deployBuilt(artifacts: Array<{ fingerprint: string; destroy?: boolean; name?: string }>): Promise<void> {
    await stack.deploy(artifacts);
    for (const a of artifacts) if (!stack.builds.artifacts.has(a.fingerprint)) stack.builds.finish(a.fingerprint, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
  }

  test('stack delete with DESTROY deletes the artifacts of DESTROY jobs only, and answers SUCCESS', async () => {
    await deployBuilt([{ fingerprint: F1, destroy: true }, { fingerprint: F2 }]);
    await stack.destroy();
    expect(stack.builds.destroyed).toEqual([`app/Image-${F1}`]);
    expect(stack.builds.destroyedFor.map((s) => s.stackId)).toEqual([expect.stringContaining(':stack/app/')]);
    expect(stack.builds.artifacts.has(F1)).toBe(false);
    expect(stack.builds.artifacts.has(F2)).toBe(true);
    expect(stack.puts.at(-1)?.body.Status).toBe('SUCCESS');
    expect(stack.logs.join('\n')).toMatch(/app\/Image-f1: removal policy DESTROY: deleted 1: sha256:f1/);
  });

  test('stack delete with RETAIN (the default) deletes no artifact, and sweeps the stack\'s state', async () => {
    await deployBuilt([{ fingerprint: F1 }]);
    await stack.destroy();
    expect(stack.builds.destroyed).toEqual([]);
    expect(stack.builds.artifacts.has(F1)).toBe(true);
    expect(stack.logs.join('\n')).toMatch(/no artifact was deleted/);
    expect([...stack.state.keys()]).toEqual([]);
  });

  test('an artifact another stack holds stays (the account\'s register), and its hold is not this stack\'s', async () => {
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    stack.state.set('/cdk-immutable-deploys/_holds/sha256:f1/staging.0123456789abcdef01234567', JSON.stringify({ stackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/staging/x', path: 'staging/Fleet' }));
    await stack.destroy();
    expect(stack.builds.artifacts.has(F1)).toBe(true);
    expect(stack.logs.join('\n')).toMatch(/left 1: sha256:f1: held/);
  });

  test('an update\'s cleanup deletes nothing, though its jobs are DESTROY', async () => {
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    await deployBuilt([{ fingerprint: F2, destroy: true }]);
    expect(stack.builds.destroyed).toEqual([]);
    expect(stack.builds.artifacts.has(F1)).toBe(true);
  });

  test('the jobs resource leaving the template in an update (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS) deletes nothing: a revert of that change reuses its artifacts', async () => {
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    await stack.leaveTemplate();
    expect(stack.builds.destroyed).toEqual([]);
    expect(stack.builds.artifacts.has(F1)).toBe(true);
    expect(stack.puts.at(-1)?.body.Status).toBe('SUCCESS');
  });

  test('a nested stack removed by an update of its parent (it is DELETE_IN_PROGRESS, its root is not) deletes nothing (review #12)', async () => {
    stack.root = { stackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/root/1', status: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS' };
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    await stack.destroy();
    expect(stack.builds.destroyed).toEqual([]);
    expect(stack.builds.artifacts.has(F1)).toBe(true);
    expect(stack.logs.join('\n')).toMatch(/a nested stack removed by an update of its parent: an update never deletes artifacts/);
  });

  test('a nested stack deleted with its root deletes its DESTROY artifacts', async () => {
    stack.root = { stackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/root/1', status: 'DELETE_IN_PROGRESS' };
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    await stack.destroy();
    expect(stack.builds.destroyed).toEqual([`app/Image-${F1}`]);
  });

  test('a rollback\'s cleanup deletes nothing: the failed update\'s version and the rolled-back-to artifact stay', async () => {
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    await stack.deploy([{ fingerprint: F2, destroy: true }]);
    stack.builds.finish(F2, 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    expect(stack.builds.destroyed).toEqual([]);
    expect(stack.builds.artifacts.has(F1)).toBe(true);
  });

  test('a failed create\'s rollback (ROLLBACK_IN_PROGRESS) deletes nothing', async () => {
    await stack.deploy([{ fingerprint: F1, destroy: true }]);
    stack.builds.finish(F1, 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    expect(stack.builds.destroyed).toEqual([]);
  });

  test('throttling while deleting is tried again within the call; the stack deletion succeeds', async () => {
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    stack.builds.throttle = 3;
    await stack.destroy();
    expect(stack.builds.destroyed).toEqual([`app/Image-${F1}`]);
    expect(stack.puts.at(-1)?.body.Status).toBe('SUCCESS');
  });

  test('a deletion that runs out of time leaves the rest, named, and still answers CloudFormation before the function\'s timeout', async () => {
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    const calls: string[] = [];
    stack.builds.destroy = async (_job, retry) => {
      const left: string[] = [];
      for (const ami of ['ami-1', 'ami-2', 'ami-3']) {
        try {
          await retry(async () => calls.push(ami));
          stack.now += 5 * 60_000; // each deletion takes five minutes
        } catch (e) {
          left.push(`${ami}: ${(e as Error).message}`);
        }
      }
      return { deleted: calls, left };
    };
    await stack.destroy();
    // The call's deadline is 30 s before the function's 10 minutes: the third deletion is not tried.
    expect(calls).toEqual(['ami-1', 'ami-2']);
    expect(stack.puts.at(-1)?.body.Status).toBe('SUCCESS');
    expect(stack.logs.join('\n')).toMatch(/left 1: ami-3: out of time for this call: not tried/);
  });

  test('a deletion that cannot finish never fails the stack deletion: what is left is logged, and the other jobs still go', async () => {
    await deployBuilt([{ fingerprint: F1, destroy: true }, { fingerprint: F2, destroy: true }]);
    const destroy = stack.builds.destroy.bind(stack.builds);
    stack.builds.destroy = async (job, retry, deleted) => {
      if (job.fingerprint === F1) throw Object.assign(new Error('User is not authorized to perform: ec2:DeregisterImage'), { name: 'UnauthorizedOperation' });
      if (job.fingerprint === F2) return { deleted: ['ami-2'], left: ['snap-2: InvalidSnapshot.InUse (used by ami-9)'] };
      return destroy(job, retry, deleted);
    };
    await stack.destroy();
    expect(stack.puts.at(-1)?.body.Status).toBe('SUCCESS');
    const logs = stack.logs.join('\n');
    expect(logs).toMatch(/app\/Image-f1: removal policy DESTROY: stopped after .*UnauthorizedOperation/);
    expect(logs).toMatch(/app\/Image-f2: removal policy DESTROY: left 1: snap-2: InvalidSnapshot.InUse/);
    expect(logs).not.toMatch(/SECRET|X-Amz-Signature/);
  });
});
