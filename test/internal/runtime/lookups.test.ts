/**
 * Lookups (imports by fingerprint) through the stack's runtime, against the lifecycle harness:
 * answered at once, recorded per version so that a rollback answers the same with no new search, and
 * holding what this account's stack runs.
 */
import { StackHarness } from './harness';

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

  test('delete looks nothing up, and forgets what its version answered', async () => {
    const created = deployed(A1, await stack.lookupRequest('Create', A1));
    stack.lookups.calls = [];
    expect((await stack.lookupRequest('Delete', A1, created)).Status).toBe('SUCCESS');
    expect(stack.lookups.calls).toEqual([]);
    expect([...stack.state.keys()].filter((k) => k.includes('/lookups/'))).toEqual([]);
  });

  test('promotion rollback: the old AMI expired after the update started, and the rollback still lands on its id, from the record, with no new search (review #3)', async () => {
    // GIVEN production runs A1
    const v1 = deployed(A1, await stack.lookupRequest('Create', A1));
    // WHEN an update promotes A2 (a new physical id: a replacement), A1 is deleted by the bake's retention, and another resource fails
    const v2 = deployed(A2, await stack.lookupRequest('Update', A2, v1));
    expect(v2.physicalId).not.toBe(v1.physicalId);
    stack.lookups.visible.delete(A1);
    stack.lookups.calls = [];
    // THEN a rollback Update with the old properties answers A1's id and physical id, as before,
    const back = await stack.lookupRequest('Update', A1, v2);
    expect(back).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: v1.physicalId, Data: { Id: 'ami-0000000000000a001' } });
    expect(stack.lookups.calls).toEqual([]);
    // and the Delete of the failed update's physical id deletes nothing of A1's
    expect((await stack.lookupRequest('Delete', A2, v2)).Status).toBe('SUCCESS');
    expect((await stack.lookupRequest('Update', A1, { ...v1, fingerprint: A1 })).Data).toEqual({ Id: 'ami-0000000000000a001' });
  });

  test('promotion of a fingerprint not copied here yet: the update fails and keeps the old physical id, so CloudFormation rolls back to the old AMI', async () => {
    const v1 = deployed(A1, await stack.lookupRequest('Create', A1));
    const failed = await stack.lookupRequest('Update', 'a3'.repeat(32), v1);
    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: v1.physicalId });
    const back = await stack.lookupRequest('Update', A1, { ...v1, fingerprint: 'a3'.repeat(32) });
    expect(back).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: v1.physicalId, Data: { Id: 'ami-0000000000000a001' } });
  });

  test('an import of this account\'s AMI holds it while its version stands: marked kept, in the register; its Delete releases it', async () => {
    stack.lookups.holds = true;
    const v1 = deployed(A1, await stack.lookupRequest('Create', A1));
    expect([...stack.keeper.kept]).toEqual(['ami-0000000000000a001']);
    const v2 = deployed(A2, await stack.lookupRequest('Update', A2, v1));
    expect([...stack.keeper.kept].sort()).toEqual(['ami-0000000000000a001', 'ami-0000000000000a002']);
    await stack.lookupRequest('Delete', A2, v1); // the cleanup Delete of v1 carries the new properties (row 8)
    expect([...stack.keeper.kept]).toEqual(['ami-0000000000000a002']);
    await stack.lookupRequest('Delete', A2, v2);
    expect([...stack.keeper.kept]).toEqual([]);
  });

  test('an Update that keeps the version (same fingerprint, other settings) and holds less releases what it no longer holds', async () => {
    const copy = { kind: 'ami' as const, region: 'us-east-1', id: 'ami-0000000000000c001' };
    const here = { kind: 'ami' as const, region: 'eu-west-1', id: 'ami-0000000000000a001' };
    const look = jest.spyOn(stack.lookups, 'lookup').mockResolvedValueOnce({ data: here.id, summary: 's', held: [here, copy] });
    const v1 = deployed(A1, await stack.lookupRequest('Create', A1, undefined, 'ami-lookup', () => ({ CopyRegions: 'us-east-1' })));
    expect([...stack.keeper.kept].sort()).toEqual([here.id, copy.id]);
    look.mockResolvedValueOnce({ data: here.id, summary: 's', held: [here] });
    const v2 = await stack.lookupRequest('Update', A1, { ...v1, spec: { CopyRegions: 'us-east-1' } }, 'ami-lookup', () => ({ CopyRegions: '' }));
    expect(v2.PhysicalResourceId).toBe(v1.physicalId);
    expect([...stack.keeper.kept]).toEqual([here.id]);
    expect([...stack.state.keys()].filter((k) => k.includes('/_holds/'))).toEqual([expect.stringContaining(`/_holds/${here.id}/`)]);
  });

  test('an unknown kind or a missing fingerprint is refused, with no lookup', async () => {
    const answer = await stack.lookupRequest('Create', '', undefined, 'nothing' as any);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/no fingerprint or an unknown kind \(nothing\)/);
    expect(stack.lookups.calls).toEqual([]);
  });
});
