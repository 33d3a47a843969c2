/**
 * The deploy-time runtime through a stack's life, against the lifecycle harness (CloudFormation's
 * side, with a clock) and a fake kind of job. Each test names the AWS behaviour it relies on where
 * one matters; docs/aws-behaviour.md lists the sources.
 */
import { StackHarness } from './harness';

const F1 = 'f1';
const F2 = 'f2';

describe('deploy-time runtime lifecycle', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  test('create: starts one build, completes its wait with the artifact when the build ends, then stops polling', async () => {
    // GIVEN / WHEN the first deploy of an artifact that was never built
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('failed'); // still waiting
    expect(stack.builds.starts).toBe(1);
    expect(stack.pollEnabled).toBe(true);
    // WHEN the build ends and its state-change event arrives
    stack.builds.finish(F1, 'succeeded');
    await stack.event();
    // THEN the wait completes with the digest, and nothing is left pending
    expect(await stack.settle()).toBe('complete');
    expect(stack.wait(F1)?.data).toBe('sha256:f1');
    expect(stack.pending).toBe(0);
    expect(stack.pollEnabled).toBe(false);
  });

  test('no-op update: an unchanged template invokes nothing, builds nothing and sends no signal', async () => {
    await deployBuilt(F1);
    const puts = stack.puts.length;
    // WHEN the same app is deployed again
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('complete');
    // THEN
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
    expect(stack.wait(F2)?.data).toBe('sha256:f2');
    expect(stack.wait(F1)).toBeUndefined();
  });

  test('an artifact that exists is reused: its fresh wait is signalled at once, nothing is built or polled', async () => {
    // GIVEN an artifact another stage built
    stack.builds.artifacts.set(F1, 'sha256:f1');
    // WHEN
    expect(await stack.deploy([{ fingerprint: F1 }])).toBe('complete');
    // THEN
    expect(stack.builds.starts).toBe(0);
    expect(stack.pollEnabled).toBe(false);
    expect(stack.signals(F1)).toEqual([expect.objectContaining({ Status: 'SUCCESS', Data: 'sha256:f1' })]);
  });

  test('a failed update rolls back two days later to the old fingerprint without signalling its expired handle (handles expire after 24 h)', async () => {
    // GIVEN F1 deployed, and two days later an update to F2 whose build fails
    await deployBuilt(F1);
    stack.now += 48 * 3_600_000;
    await stack.deploy([{ fingerprint: F2 }]);
    stack.builds.finish(F2, 'failed');
    await stack.event();
    // WHEN CloudFormation evaluates the failure and rolls back to F1
    expect(await stack.settle()).toBe('rolled-back');
    // THEN the rollback succeeded: F1's old wait was not signalled again, nothing is pending
    expect(stack.wait(F1)?.state).toBe('complete');
    expect(stack.signals(F1)).toHaveLength(1);
    expect(stack.logs.join('\n')).not.toMatch(/403/);
    expect(stack.pending).toBe(0);
    expect(stack.builds.starts).toBe(2);
  });

  test('a rollback while a build still runs stops it, and a later signal finds the wait gone', async () => {
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
  });

  test('the failure reaches the wait with its reason', async () => {
    await stack.deploy([{ fingerprint: F1 }], { rollback: false });
    stack.builds.finish(F1, 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('failed');
    expect(stack.wait(F1)?.reason).toMatch(/step 3 of the Dockerfile returned 1/);
  });

  test('--no-rollback then retry: the retried wait fails at once on the kept handle, and a rollback then deploy builds again with a new handle', async () => {
    // GIVEN a failed first attempt with rollback disabled
    await deployBuilt(F1);
    await stack.deploy([{ fingerprint: F2 }], { rollback: false });
    stack.builds.finish(F2, 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('failed');
    // WHEN it is retried as it is: CloudFormation re-runs the failed wait only, whose handle keeps the failure
    expect(await stack.retry()).toBe('failed');
    expect(stack.builds.starts).toBe(2);
    // WHEN the stack is rolled back and deployed again
    await stack.rollBack();
    await stack.deploy([{ fingerprint: F2 }]);
    // THEN a new attempt starts, with a new handle and a new UniqueId
    expect(stack.builds.starts).toBe(3);
    stack.builds.finish(F2, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
    expect(stack.signals(F2)).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
  });

  test('--no-rollback then retry with a new retry word (-c cdk-immutable-deploys:retry=2): new waits on fresh handles, one new attempt, and the stack completes with no rollback', async () => {
    // GIVEN a failed attempt with rollback disabled, beside an artifact that exists
    stack.builds.artifacts.set('f0', 'sha256:f0');
    await deployBuilt(F1);
    await stack.deploy([{ fingerprint: F2 }, { fingerprint: 'f0' }], { rollback: false });
    stack.builds.finish(F2, 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('failed');
    const failedHandle = stack.wait(F2)!.handle;

    // WHEN the same app is deployed again with a retry word: every wait has a new key, so a new handle
    await stack.deploy([{ fingerprint: F2, retry: '2' }, { fingerprint: 'f0', retry: '2' }], { rollback: false });

    // THEN the existing artifact completes its new wait at once, and the failed one starts once more
    expect(stack.builds.starts).toBe(3);
    expect(stack.waiting).toBe(true);
    stack.builds.finish(F2, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
    // the waits of the failed attempt left the template with their handles; the failed handle kept its one signal
    expect(failedHandle.signals).toEqual([expect.objectContaining({ Status: 'FAILURE' })]);
    expect(failedHandle.deleted).toBe(true);
    expect(stack.wait(F2)).toBeUndefined();
    expect(stack.wait('f0')).toBeUndefined();
    expect(stack.pending).toBe(0);
  });

  test('a new timeout is a new wait: the existing artifact completes it at once, with no build', async () => {
    await deployBuilt(F1);
    expect(await stack.deploy([{ fingerprint: F1, timeoutMinutes: 120 }])).toBe('complete');
    expect(stack.builds.starts).toBe(1);
    expect(stack.wait(F1, 120)?.data).toBe('sha256:f1');
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
    expect(stack.puts.filter((p) => p.url.includes('waitcondition'))).toHaveLength(1);
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
    // WHEN the quota frees up for F1's attempt after 10 minutes
    await stack.advance(10);
    stack.builds.quotaFull = undefined;
    await stack.advance(1);
    expect(stack.builds.starts).toBe(2);
    // WHEN it stays full for another deploy past its timeout
    stack.builds.quotaFull = 'Concurrently running builds';
    await stack.deploy([{ fingerprint: F1 }, { fingerprint: F2 }, { fingerprint: 'f4', timeoutMinutes: 10 }]);
    await stack.advance(10);
    expect(stack.wait('f4', 10)?.handle.signals).toEqual([expect.objectContaining({ Status: 'FAILURE', Reason: expect.stringMatching(/could not start within 10 minutes[\s\S]*Concurrently running builds/) })]);
  });

  test('a build that outlives its timeout is stopped and its wait fails with why', async () => {
    await stack.deploy([{ fingerprint: F1, timeoutMinutes: 20 }]);
    await stack.advance(20);
    expect([...stack.builds.builds.values()][0].state).toBe('cancelled');
    expect(stack.signals(F1, 20)).toEqual([expect.objectContaining({ Status: 'FAILURE', Reason: expect.stringMatching(/did not finish within 20 minutes/) })]);
  });

  test('holds follow what the stack runs: kept through an update until it succeeds, released after, restored by a rollback', async () => {
    await deployBuilt(F1);
    expect(stack.builds.held()).toEqual(['sha256:f1']);
    // WHEN an update to F2 succeeds: the old version's hold goes once it is cleaned up
    await stack.deploy([{ fingerprint: F2 }]);
    expect(stack.builds.held()).toEqual(['sha256:f1']);
    stack.builds.finish(F2, 'succeeded');
    await stack.event();
    await stack.settle();
    expect(stack.builds.held()).toEqual(['sha256:f2']);
    // WHEN an update back to F1 fails in another job and rolls back
    await stack.deploy([{ fingerprint: F1 }, { fingerprint: 'f5' }]);
    stack.builds.finish('f5', 'failed');
    await stack.event();
    expect(await stack.settle()).toBe('rolled-back');
    expect(stack.builds.held()).toEqual(['sha256:f2']);
  });

  test('never logs or answers with a response URL or a handle URL', async () => {
    await stack.deploy([{ fingerprint: F1 }], { rollback: false });
    stack.builds.finish(F1, 'failed');
    await stack.event();
    await stack.settle();
    await stack.destroy();
    const said = [...stack.logs, ...stack.puts.map((p) => JSON.stringify(p.body))].join('\n');
    expect(said).not.toMatch(/SECRET|X-Amz-Signature|amazonaws\.com\/arn/);
  });

  async function deployBuilt(fingerprint: string): Promise<void> {
    await stack.deploy([{ fingerprint }]);
    stack.builds.finish(fingerprint, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
  }
});

describe('lookups (imports by fingerprint) through the same runtime', () => {
  const A1 = 'a1'.repeat(32);
  const A2 = 'a2'.repeat(32);
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
    stack.lookups.visible.set(A1, 'ami-0000000000000a001');
    stack.lookups.visible.set(A2, 'ami-0000000000000a002');
  });
  afterEach(() => jest.restoreAllMocks());

  const deployed = (fingerprint: string, answer: any) => ({ fingerprint, physicalId: answer.PhysicalResourceId, id: answer.Data?.Id });

  test('create answers at once with the exact id as the resource\'s Id: no wait, nothing pending, no polling', async () => {
    const answer = await stack.lookupRequest('Create', A1);
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `ami-lookup:${A1.slice(0, 32)}`, Data: { Id: 'ami-0000000000000a001' }, LogicalResourceId: 'FleetImportedArtifactLookup' });
    expect(stack.pending).toBe(0);
    expect(stack.pollEnabled).toBe(false);
  });

  test('a fingerprint that is not there fails the deploy with the lookup\'s message, bounded, and no URL in it', async () => {
    const answer = await stack.lookupRequest('Create', 'ff'.repeat(32));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/no AMI of fingerprint f{64} in account 123456789012 and region eu-west-1/);
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThan(4_096);
    expect(JSON.stringify(answer)).not.toMatch(/SECRET|X-Amz-Signature/);
  });

  test('throttling is tried again within the call, never a failed deploy', async () => {
    stack.lookups.throttle = 3;
    const answer = await stack.lookupRequest('Create', A1);
    expect(answer.Status).toBe('SUCCESS');
    expect(stack.lookups.calls).toHaveLength(4);
  });

  test('delete deletes nothing and looks nothing up', async () => {
    const created = deployed(A1, await stack.lookupRequest('Create', A1));
    stack.lookups.calls = [];
    expect((await stack.lookupRequest('Delete', A1, created)).Status).toBe('SUCCESS');
    expect(stack.lookups.calls).toEqual([]);
  });

  test('promotion rollback: an update to a new fingerprint whose deploy fails rolls back to the old AMI, resolved again to the same id', async () => {
    // GIVEN production runs A1
    const v1 = deployed(A1, await stack.lookupRequest('Create', A1));
    // WHEN an update promotes A2 (a new physical id: a replacement) and another resource of the update fails
    const v2 = deployed(A2, await stack.lookupRequest('Update', A2, v1));
    expect(v2.id).toBe('ami-0000000000000a002');
    expect(v2.physicalId).not.toBe(v1.physicalId);
    // THEN CloudFormation's rollback sends an Update with the old properties, which gives back A1's id and physical id,
    const back = await stack.lookupRequest('Update', A1, v2);
    expect(back).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: v1.physicalId, Data: { Id: 'ami-0000000000000a001' } });
    // and the Delete of the failed update's physical id deletes nothing.
    expect((await stack.lookupRequest('Delete', A2, v2)).Status).toBe('SUCCESS');
  });

  test('promotion of a fingerprint not copied here yet: the update fails and keeps the old physical id, so CloudFormation rolls back to the old AMI', async () => {
    const v1 = deployed(A1, await stack.lookupRequest('Create', A1));
    const failed = await stack.lookupRequest('Update', 'a3'.repeat(32), v1);
    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: v1.physicalId });
    const back = await stack.lookupRequest('Update', A1, { ...v1, fingerprint: 'a3'.repeat(32) });
    expect(back).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: v1.physicalId, Data: { Id: 'ami-0000000000000a001' } });
  });

  test('an unknown kind or a missing fingerprint is refused, with no lookup', async () => {
    const answer = await stack.lookupRequest('Create', '', undefined, 'nothing' as any);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/no fingerprint or an unknown kind \(nothing\)/);
    expect(stack.lookups.calls).toEqual([]);
  });
});

describe('removal policy DESTROY: only a stack deletion deletes artifacts (DescribeStacks StackStatus DELETE_IN_PROGRESS)', () => {
  let stack: StackHarness;
  beforeEach(() => {
    stack = new StackHarness();
  });
  afterEach(() => jest.restoreAllMocks());

  async function deployBuilt(artifacts: Array<{ fingerprint: string; destroy?: boolean }>): Promise<void> {
    await stack.deploy(artifacts);
    for (const a of artifacts) if (!stack.builds.artifacts.has(a.fingerprint)) stack.builds.finish(a.fingerprint, 'succeeded');
    await stack.event();
    expect(await stack.settle()).toBe('complete');
  }

  test('stack delete with DESTROY deletes the artifacts of DESTROY jobs only, and answers SUCCESS', async () => {
    await deployBuilt([{ fingerprint: F1, destroy: true }, { fingerprint: F2 }]);
    const ownHold = [...stack.builds.holds.keys()];
    await stack.destroy();
    expect(stack.builds.destroyed).toEqual([`app/Image-${F1}`]);
    // told which mark is the deleted stack's own (just released), so that it counts as no other stack's use
    expect(stack.builds.destroyedFor).toEqual(ownHold);
    expect(stack.builds.artifacts.has(F1)).toBe(false);
    expect(stack.builds.artifacts.has(F2)).toBe(true);
    expect(stack.puts.at(-1)?.body.Status).toBe('SUCCESS');
    expect(stack.logs.join('\n')).toMatch(/app\/Image-f1: removal policy DESTROY: deleted 1: sha256:f1/);
  });

  test('stack delete with RETAIN (the default) deletes nothing and does not even ask for the stack status', async () => {
    await deployBuilt([{ fingerprint: F1 }]);
    await stack.destroy();
    expect(stack.builds.destroyed).toEqual([]);
    expect(stack.builds.artifacts.has(F1)).toBe(true);
    expect(stack.logs.join('\n')).toMatch(/no artifact was deleted/);
    expect(stack.statusReads).toBe(0);
  });

  test('an update\'s cleanup Delete of the old version deletes nothing, though its jobs are DESTROY', async () => {
    // GIVEN F1 (DESTROY), then an update to F2 (DESTROY): the jobs resource gets a new physical id
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    await deployBuilt([{ fingerprint: F2, destroy: true }]);
    // THEN the cleanup Delete of the old version (with F1) deleted nothing: a revert reuses F1
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

  test('a rollback\'s cleanup deletes nothing: the failed update\'s version and the rolled-back-to artifact stay', async () => {
    // GIVEN F1 (DESTROY) deployed; an update to F2 (DESTROY) whose build fails
    await deployBuilt([{ fingerprint: F1, destroy: true }]);
    await stack.deploy([{ fingerprint: F2, destroy: true }]);
    stack.builds.finish(F2, 'failed');
    await stack.event();
    // WHEN CloudFormation rolls back (UPDATE_ROLLBACK_IN_PROGRESS, then its cleanup deletes the failed version)
    expect(await stack.settle()).toBe('rolled-back');
    // THEN nothing was destroyed: F1 is what the stack runs again
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
    stack.builds.destroy = async (job, retry, holdTag) => {
      if (job.fingerprint === F1) throw Object.assign(new Error('User is not authorized to perform: ec2:DeregisterImage'), { name: 'UnauthorizedOperation' });
      if (job.fingerprint === F2) return { deleted: ['ami-2'], left: ['snap-2: InvalidSnapshot.InUse (used by ami-9)'] };
      return destroy(job, retry, holdTag);
    };
    await stack.destroy();
    expect(stack.puts.at(-1)?.body.Status).toBe('SUCCESS');
    const logs = stack.logs.join('\n');
    expect(logs).toMatch(/app\/Image-f1: removal policy DESTROY: stopped after .*UnauthorizedOperation/);
    expect(logs).toMatch(/app\/Image-f2: removal policy DESTROY: left 1: snap-2: InvalidSnapshot.InUse/);
    expect(logs).not.toMatch(/SECRET|X-Amz-Signature/);
  });
});
