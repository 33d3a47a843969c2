/**
 * The KMS grant for another account's AMI key, against a mocked KMS, driven through the runtime as
 * CloudFormation sends its requests: created from this account for its Auto Scaling role, replays
 * idempotent, access denied readable, throttling retried, and on Delete only the grant that the
 * deleted physical id names is retired (an update to a new key, and the rollback of one).
 */
import { createHash } from 'crypto';
import { CreateServiceLinkedRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateGrantCommand, KMSClient, ListGrantsCommand, RetireGrantCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { GRANT_SETTLE_MS, grantNameOf, keyGrant, timing } from '../../../src/artifacts/ami/key-grant-job';
import { KEY_GRANT_OPERATIONS } from '../../../src/artifacts/ami/types';
import type { KeyGrantSpec } from '../../../src/artifacts/ami/types';
import { world } from '../../../src/internal/runtime/runtime.singleton-lambda';
import { DeployedLookup, STACK_ID, StackHarness } from '../../internal/runtime/harness';

const kms = mockClient(KMSClient);
const iam = mockClient(IAMClient);
const KEY_A = 'arn:aws:kms:eu-west-1:111111111111:key/1a2b3c4d-0000-0000-0000-00000000000a';
const KEY_B = 'arn:aws:kms:eu-west-1:111111111111:key/1a2b3c4d-0000-0000-0000-00000000000b';
const GRANTEE = 'arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling';
const RUNTIME_ROLE = 'arn:aws:iam::123456789012:role/app-RuntimeRole';
// The "fingerprint" of a grant resource is that of its key and grantee: one per key here.
const FP: { [key: string]: string } = { [KEY_A]: 'aa'.repeat(32), [KEY_B]: 'bb'.repeat(32) };
const keyOf = (fp: string) => (fp === FP[KEY_A] ? KEY_A : KEY_B);
const specOf = (fp: string): KeyGrantSpec & { [name: string]: string } => ({ KeyArn: keyOf(fp), Grantee: GRANTEE, RetiringPrincipal: RUNTIME_ROLE });
const grantIdOf = (name: string) => createHash('sha256').update(name).digest('hex');
const sdkError = (name: string, status = 400) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

let stack: StackHarness;
/** Grants as KMS holds them: by name, as CreateGrant with a name is idempotent. */
let grants: Map<string, { id: string; key: string; created: number }>;
/** How long the runtime paused, in all. */
let paused: number;

beforeEach(() => {
  kms.reset();
  iam.reset();
  stack = new StackHarness();
  world.lookups = { ...world.lookups, 'key-grant': keyGrant };
  grants = new Map();
  paused = 0;
  // The runtime's pauses move the harness's clock (world.now), not the test's.
  timing.pause = async (ms) => {
    paused += ms;
    stack.now += ms;
  };
  // The account has its Auto Scaling role (IAM's answer to creating it again).
  iam.on(CreateServiceLinkedRoleCommand).rejects(Object.assign(sdkError('InvalidInputException'), {
    message: 'Service role name AWSServiceRoleForAutoScaling has been taken in this account, please try a different suffix.',
  }));
  kms.on(CreateGrantCommand).callsFake(async (input) => {
    const existing = grants.get(input.Name);
    if (existing) return { GrantId: existing.id, GrantToken: 'token-new-each-time' };
    const id = grantIdOf(`${input.Name}`);
    grants.set(input.Name, { id, key: input.KeyId, created: stack.now });
    return { GrantId: id, GrantToken: 'token-new-each-time' };
  });
  kms.on(ListGrantsCommand).callsFake(async (input) => ({
    Grants: [...grants.values()]
      .filter((g) => g.id === input.GrantId && g.key === input.KeyId)
      .map((g) => ({ GrantId: g.id, CreationDate: new Date(g.created) })),
  }));
  kms.on(RetireGrantCommand).callsFake(async (input) => {
    const entry = [...grants.entries()].find(([, g]) => g.id === input.GrantId && g.key === input.KeyId);
    if (!entry) throw sdkError('NotFoundException');
    grants.delete(entry[0]);
    return {};
  });
});

const request = (type: 'Create' | 'Update' | 'Delete', key: string, before?: DeployedLookup) =>
  stack.lookupRequest(type, FP[key], before, 'key-grant', specOf);
const deployed = (key: string, answer: any): DeployedLookup => ({ fingerprint: FP[key], physicalId: answer.PhysicalResourceId, id: answer.Data?.Id });

describe('KMS grant for another account\'s AMI key', () => {
  test('Create makes one named grant on the key ARN for this account\'s Auto Scaling role, retirable by the runtime, with the operations EC2 Auto Scaling lists', async () => {
    // WHEN
    const answer = await request('Create', KEY_A);
    // THEN
    expect(answer.Status).toBe('SUCCESS');
    const input = kms.commandCalls(CreateGrantCommand)[0].args[0].input;
    expect(input).toEqual({
      KeyId: KEY_A,
      GranteePrincipal: GRANTEE,
      RetiringPrincipal: RUNTIME_ROLE,
      Operations: ['Encrypt', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'DescribeKey', 'CreateGrant'],
      Name: expect.stringMatching(/^cdk-immutable-deploys-[0-9a-f]{32}$/),
    });
    expect(input.Operations).toEqual([...KEY_GRANT_OPERATIONS]);
    // The physical id names the grant (a grant id is 64 hexadecimal characters); the token is never answered or logged.
    expect(answer.PhysicalResourceId).toBe(`key-grant:${grants.get(input.Name!)!.id}`);
    expect(JSON.stringify(answer)).not.toMatch(/token-new-each-time/);
    expect(stack.logs.join('\n')).not.toMatch(/token-new-each-time/);
  });

  test('the KMS client works in the key\'s region', async () => {
    let region = '';
    kms.on(CreateGrantCommand).callsFake(async (_input, getClient) => {
      region = await getClient().config.region();
      return { GrantId: 'ab'.repeat(32) };
    });
    await keyGrant.lookup({ kind: 'key-grant', path: 'p', fingerprint: FP[KEY_A], spec: { ...specOf(FP[KEY_A]), KeyArn: KEY_A.replace('eu-west-1', 'us-east-2') }, account: '123456789012', region: 'eu-west-1', stackId: STACK_ID, logicalId: 'L' });
    expect(region).toBe('us-east-2');
  });

  test('a replay of the Create (same stack, resource, key and grantee) makes no second grant and answers the same physical id', async () => {
    const first = await request('Create', KEY_A);
    const replay = await request('Create', KEY_A);
    expect(replay.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(grants.size).toBe(1);
    const names = kms.commandCalls(CreateGrantCommand).map((c) => c.args[0].input.Name);
    expect(new Set(names).size).toBe(1);
  });

  test('the name differs for another stack, another resource, another key or another grantee', () => {
    const base = { kind: 'key-grant' as const, path: 'p', fingerprint: FP[KEY_A], spec: specOf(FP[KEY_A]), account: '123456789012', region: 'eu-west-1', stackId: STACK_ID, logicalId: 'L' };
    const names = [
      grantNameOf(base),
      grantNameOf({ ...base, stackId: STACK_ID.replace('4a1c0e10', '5b2d1f21') }),
      grantNameOf({ ...base, logicalId: 'Other' }),
      grantNameOf({ ...base, spec: specOf(FP[KEY_B]) }),
      grantNameOf({ ...base, spec: { ...specOf(FP[KEY_A]), Grantee: GRANTEE.replace('123456789012', '222222222222') } }),
    ];
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => n.length <= 256 && /^[a-zA-Z0-9:/_-]+$/.test(n))).toBe(true);
  });

  test('access denied (the key\'s policy does not let this account create grants) fails the deploy saying what to do, bounded', async () => {
    kms.on(CreateGrantCommand).rejects(sdkError('AccessDeniedException'));
    const answer = await request('Create', KEY_A);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(new RegExp(`the KMS grant that lets ${GRANTEE} use key ${KEY_A} could not be created from account 123456789012: the key's policy does not let this account create grants`));
    expect(answer.Reason).toMatch(/let account 123456789012 call kms:CreateGrant on the key .*distribution\.accounts/);
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThan(4_096);
    expect(JSON.stringify(answer)).not.toMatch(/SECRET|X-Amz-Signature/);
  });

  test('a missing or disabled key fails naming the key and encryptionKeyArn', async () => {
    kms.on(CreateGrantCommand).rejects(sdkError('KMSInvalidStateException'));
    const answer = await request('Create', KEY_A);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/the key is missing, disabled or pending deletion.*encryptionKeyArn/s);
  });

  test('throttling is tried again within the call, never a failed deploy', async () => {
    kms.on(CreateGrantCommand)
      .rejectsOnce(sdkError('ThrottlingException'))
      .rejectsOnce(sdkError('ThrottlingException'))
      .resolves({ GrantId: 'cd'.repeat(32) });
    const answer = await request('Create', KEY_A);
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `key-grant:${'cd'.repeat(32)}` });
    expect(kms.commandCalls(CreateGrantCommand)).toHaveLength(3);
  });

  test('an update to another key makes a new grant under a new physical id, and the cleanup Delete retires only the old grant', async () => {
    // GIVEN a grant on key A
    const v1 = deployed(KEY_A, await request('Create', KEY_A));
    const [grantA] = [...grants.values()];
    // WHEN the AMI's key becomes key B
    const v2 = deployed(KEY_B, await request('Update', KEY_B, v1));
    expect(v2.physicalId).not.toBe(v1.physicalId);
    expect(grants.size).toBe(2);
    // THEN CloudFormation deletes the old physical id: only grant A goes
    expect((await stack.lookupRequest('Delete', FP[KEY_A], v1, 'key-grant', specOf)).Status).toBe('SUCCESS');
    expect(kms.commandCalls(RetireGrantCommand).map((c) => c.args[0].input)).toEqual([{ KeyId: KEY_A, GrantId: grantA.id }]);
    expect([...grants.values()].map((g) => g.key)).toEqual([KEY_B]);
  });

  test('rollback: an update to key B that fails rolls back to key A\'s grant (the same one) and retires only B\'s', async () => {
    const v1 = deployed(KEY_A, await request('Create', KEY_A));
    const v2 = deployed(KEY_B, await request('Update', KEY_B, v1));
    // CloudFormation's rollback: an Update back to the old properties, then the Delete of the failed update's physical id.
    const back = await request('Update', KEY_A, v2);
    expect(back.PhysicalResourceId).toBe(v1.physicalId);
    await stack.lookupRequest('Delete', FP[KEY_B], v2, 'key-grant', specOf);
    expect([...grants.values()].map((g) => g.key)).toEqual([KEY_A]);
    expect(kms.commandCalls(RetireGrantCommand).map((c) => c.args[0].input.KeyId)).toEqual([KEY_B]);
  });

  test('an update that keeps key and grantee (another path) reuses the grant: same physical id, so nothing is deleted', async () => {
    const v1 = deployed(KEY_A, await request('Create', KEY_A));
    const again = await request('Update', KEY_A, v1);
    expect(again.PhysicalResourceId).toBe(v1.physicalId);
    expect(grants.size).toBe(1);
  });

  test('Delete of a resource whose Create failed (no grant of its own) retires nothing', async () => {
    kms.on(CreateGrantCommand).rejectsOnce(sdkError('AccessDeniedException'));
    const failed = await request('Create', KEY_A);
    expect(failed.PhysicalResourceId).toBe(`key-grant:${FP[KEY_A].slice(0, 32)}`);
    const answer = await stack.lookupRequest('Delete', FP[KEY_A], { fingerprint: FP[KEY_A], physicalId: failed.PhysicalResourceId, id: '' }, 'key-grant', specOf);
    expect(answer.Status).toBe('SUCCESS');
    expect(kms.commandCalls(RetireGrantCommand)).toHaveLength(0);
  });

  test('Delete of a grant already gone, or one that may not be retired, succeeds (a rollback or stack delete is never blocked) and says so in the log', async () => {
    const v1 = deployed(KEY_A, await request('Create', KEY_A));
    grants.clear();
    expect((await stack.lookupRequest('Delete', FP[KEY_A], v1, 'key-grant', specOf)).Status).toBe('SUCCESS');
    expect(stack.logs.join('\n')).toMatch(/was already gone/);
    kms.on(RetireGrantCommand).rejects(sdkError('AccessDeniedException'));
    expect((await stack.lookupRequest('Delete', FP[KEY_A], v1, 'key-grant', specOf)).Status).toBe('SUCCESS');
    expect(stack.logs.join('\n')).toMatch(/left it as it is after AccessDeniedException/);
  });
});

describe('KMS grant: whole messages, names and logs (mutation testing)', () => {
  const PATH = 'app/Fleet/ImportedArtifact';
  const HEAD = `${PATH}: the KMS grant that lets ${GRANTEE} use key ${KEY_A}`;

  test('the grant\'s name is pinned to its derivation: a release that changed it would make a second grant on every replay', () => {
    const lookup = { kind: 'key-grant' as const, path: 'p', fingerprint: FP[KEY_A], spec: specOf(FP[KEY_A]), account: '123456789012', region: 'eu-west-1', stackId: STACK_ID, logicalId: 'L' };
    const identity = `${STACK_ID}\nL\n${KEY_A}\n${GRANTEE}`;
    expect(grantNameOf(lookup)).toBe(`cdk-immutable-deploys-${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`);
    // The parts are separated: moving text from one to the next is another grant.
    expect(grantNameOf({ ...lookup, logicalId: 'LA', spec: { ...lookup.spec, KeyArn: 'B' } }))
      .not.toBe(grantNameOf({ ...lookup, logicalId: 'L', spec: { ...lookup.spec, KeyArn: 'AB' } }));
  });

  test('access denied: the whole reason, with the error and what to do', async () => {
    kms.on(CreateGrantCommand).rejects(sdkError('AccessDeniedException'));
    const answer = await request('Create', KEY_A);
    expect(answer.Reason).toBe([
      `${HEAD} could not be created from account 123456789012: the key's policy does not let this account create grants.`,
      'Error: AccessDeniedException: AccessDeniedException happened',
      'What to do: In the key\'s account, let account 123456789012 call kms:CreateGrant on the key (an AmiBake does so for each account in distribution.accounts, when its rootVolumeKey is a key of the app), deploy that stack, then this one. (Right after a deploy changes the runtime\'s own permissions, a refusal is tried again until the call\'s deadline, so IAM catching up is not the cause.)',
    ].join('\n'));
  });

  test.each(['NotFoundException', 'KMSInvalidStateException', 'DisabledException'])('%s: the key is missing, disabled or pending deletion (whole reason)', async (name) => {
    kms.on(CreateGrantCommand).rejects(sdkError(name));
    const answer = await request('Create', KEY_A);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toBe([
      `${HEAD} could not be created: the key is missing, disabled or pending deletion.`,
      `Error: ${name}: ${name} happened`,
      'What to do: Pass the ARN of the key that encrypts the AMI\'s snapshots in this region (encryptionKeyArn of AmiArtifact.fromFingerprint()), and check in its account that it is enabled.',
    ].join('\n'));
  });

  test('another error that is not transient fails as the runtime\'s generic lookup failure, not as a missing key', async () => {
    kms.on(CreateGrantCommand).rejects(sdkError('ValidationException'));
    const answer = await request('Create', KEY_A);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).not.toMatch(/missing, disabled|policy does not let/);
    expect(answer.Reason).toMatch(/ValidationException: ValidationException happened/);
  });

  test('CreateGrant answering without a grant id fails the deploy, saying so', async () => {
    kms.on(CreateGrantCommand).resolves({});
    const answer = await request('Create', KEY_A);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toBe(`${HEAD}: CreateGrant answered without a grant id.`);
  });

  test('a Create logs its summary: the grant, the grantee and the key', async () => {
    kms.on(CreateGrantCommand).resolves({ GrantId: 'ef'.repeat(32) });
    await request('Create', KEY_A);
    expect(stack.logs).toContain(`${PATH}: grant ${'ef'.repeat(32)} lets ${GRANTEE} use ${KEY_A}`);
  });

  test('a Delete logs the grant it retired; a Delete of a failed Create has nothing to retire and leaves no error in the log', async () => {
    const v1 = deployed(KEY_A, await request('Create', KEY_A));
    const [grantA] = [...grants.values()];
    await stack.lookupRequest('Delete', FP[KEY_A], v1, 'key-grant', specOf);
    expect(stack.logs).toContain(`${PATH}: retired grant ${grantA.id} on ${KEY_A}`);
    stack.logs.length = 0;
    const failedId = `key-grant:${FP[KEY_A].slice(0, 32)}`;
    expect((await stack.lookupRequest('Delete', FP[KEY_A], { fingerprint: FP[KEY_A], physicalId: failedId, id: '' }, 'key-grant', specOf)).Status).toBe('SUCCESS');
    expect(stack.logs.join('\n')).not.toMatch(/left it as it is/);
  });

  test('only a physical id that is exactly key-grant:<grant id> names a grant to retire', async () => {
    const id = 'ab'.repeat(32);
    for (const physicalId of [`old-key-grant:${id}`, `key-grant:${id}-old`]) {
      expect((await stack.lookupRequest('Delete', FP[KEY_A], { fingerprint: FP[KEY_A], physicalId, id: '' }, 'key-grant', specOf)).Status).toBe('SUCCESS');
    }
    expect(kms.commandCalls(RetireGrantCommand)).toHaveLength(0);
  });
});

describe('the grantee exists and the grant is effective before the group launches', () => {
  test('a new account without Auto Scaling\'s role: the runtime creates it (only that role), then tries the grant again while KMS does not know the new role yet', async () => {
    // GIVEN IAM creates the role now, and KMS refuses a grant for it twice (IAM's eventual consistency)
    iam.reset();
    iam.on(CreateServiceLinkedRoleCommand).resolves({ Role: { Arn: GRANTEE } as any });
    kms.on(CreateGrantCommand)
      .rejectsOnce(sdkError('InvalidArnException'))
      .rejectsOnce(sdkError('InvalidArnException'))
      .callsFake(async (input) => {
        grants.set(input.Name, { id: 'ef'.repeat(32), key: input.KeyId, created: stack.now });
        return { GrantId: 'ef'.repeat(32) };
      });
    // WHEN
    const answer = await request('Create', KEY_A);
    // THEN
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `key-grant:${'ef'.repeat(32)}` });
    expect(iam.commandCalls(CreateServiceLinkedRoleCommand).map((c) => c.args[0].input)).toEqual([{ AWSServiceName: 'autoscaling.amazonaws.com' }]);
    expect(kms.commandCalls(CreateGrantCommand)).toHaveLength(3);
    expect(stack.logs.join('\n')).toMatch(/created arn:aws:iam::123456789012:role\/aws-service-role\/autoscaling\.amazonaws\.com\/AWSServiceRoleForAutoScaling/);
  });

  test('a role that existed already (IAM: "has been taken") and a grant KMS refuses for its grantee: no retry, a readable failure', async () => {
    kms.on(CreateGrantCommand).rejects(sdkError('InvalidArnException'));
    const answer = await request('Create', KEY_A);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/KMS does not know the grantee [\s\S]*create-service-linked-role --aws-service-name autoscaling\.amazonaws\.com/);
    expect(kms.commandCalls(CreateGrantCommand)).toHaveLength(1);
    expect(paused).toBe(0);
  });

  test('GIVEN a first deploy (the runtime\'s role and policy are minutes old) WHEN KMS does not know the retiring principal yet THEN the grant is tried again; a final refusal names both principals (review runtime #7)', async () => {
    // GIVEN Auto Scaling's role existed already, and CloudFormation has just created the runtime's role and policy
    stack.policyUpdatedAt = stack.now;
    kms.on(CreateGrantCommand)
      .rejectsOnce(sdkError('InvalidArnException'))
      .rejectsOnce(sdkError('InvalidArnException'))
      .resolves({ GrantId: 'ef'.repeat(32) });
    // WHEN
    const answer = await request('Create', KEY_A);
    // THEN
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `key-grant:${'ef'.repeat(32)}` });
    expect(kms.commandCalls(CreateGrantCommand)).toHaveLength(3);
    expect(paused).toBeGreaterThanOrEqual(10_000);
    expect(stack.logs.join('\n')).toMatch(/or arn:aws:iam::123456789012:role\/app-RuntimeRole is not known to KMS yet/);
    // and when KMS never learns it, the failure names the grantee and the retiring principal
    kms.reset();
    kms.on(CreateGrantCommand).rejects(sdkError('InvalidArnException'));
    const failed = await request('Create', KEY_B);
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toMatch(/KMS does not know the grantee arn:aws:iam::123456789012:role\/aws-service-role\/autoscaling\.amazonaws\.com\/AWSServiceRoleForAutoScaling or the retiring principal arn:aws:iam::123456789012:role\/app-RuntimeRole\./);
    expect(failed.Reason).toMatch(/the runtime's role arn:aws:iam::123456789012:role\/app-RuntimeRole exists/);
  });

  test('creating the role is refused (a service control policy): the grant still decides, and the refusal is only logged', async () => {
    iam.reset();
    iam.on(CreateServiceLinkedRoleCommand).rejects(sdkError('AccessDenied', 403));
    const answer = await request('Create', KEY_A);
    expect(answer.Status).toBe('SUCCESS');
    expect(stack.logs.join('\n')).toMatch(/could not create .*AWSServiceRoleForAutoScaling.*AccessDenied/);
  });

  test('a new grant is answered once it is five minutes old (KMS: "usually less than five minutes" until a grant is effective); a grant an earlier call made (a replay, a rollback) at once', async () => {
    // WHEN
    const start = stack.now;
    const first = await request('Create', KEY_A);
    // THEN: the answer comes GRANT_SETTLE_MS after the grant was made
    expect(GRANT_SETTLE_MS).toBe(5 * 60_000);
    expect(first.Status).toBe('SUCCESS');
    expect(stack.now - start).toBe(GRANT_SETTLE_MS);
    expect(kms.commandCalls(ListGrantsCommand)[0].args[0].input).toEqual({ KeyId: KEY_A, GrantId: first.PhysicalResourceId.replace('key-grant:', '') });
    expect(stack.logs.join('\n')).toMatch(/waiting 300 s for grant [0-9a-f]{64} to take effect throughout KMS/);
    // A replay finds the grant, five minutes old already: nothing to wait for.
    const before = paused;
    await request('Create', KEY_A);
    expect(paused).toBe(before);
  });

  test('when the key\'s grants may not be listed, the wait counts from now; it never runs past the call\'s deadline', async () => {
    kms.on(ListGrantsCommand).rejects(sdkError('AccessDeniedException'));
    const start = stack.now;
    const answer = await request('Create', KEY_A);
    expect(answer.Status).toBe('SUCCESS');
    expect(stack.now - start).toBe(GRANT_SETTLE_MS);
    // A deadline 2 minutes away: the lookup answers before it, and says the grant may still be settling.
    const lookup = { kind: 'key-grant' as const, path: 'p', fingerprint: FP[KEY_B], spec: specOf(FP[KEY_B]), account: '123456789012', region: 'eu-west-1', stackId: STACK_ID, logicalId: 'L2' };
    const logged: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((m) => { logged.push(String(m)); });
    const at = stack.now;
    await keyGrant.lookup({ ...lookup, deadline: at + 120_000, now: () => stack.now });
    expect(stack.now).toBeLessThan(at + 120_000);
    expect(stack.now).toBeGreaterThan(at + 60_000);
    expect(logged.join('\n')).toMatch(/s old at the call's deadline; the group's first launches may be retried by Auto Scaling/);
  });
});
