/**
 * Holding artifacts (src/internal/runtime/holds.ts) against an in-memory SSM and a recording keeper:
 * the register of holders in the artifact's region, the keep mark while anyone holds it, and a
 * release racing a hold (review 2026-12-06-runtime #16).
 */
import { DeleteParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { hold, otherHolders, release } from '../../../src/internal/runtime/holds';
import type { Held, Keeper } from '../../../src/internal/runtime/job';
import { holderOf } from '../../../src/internal/runtime/state';

const ssm = mockClient(SSMClient);
const AMI: Held = { kind: 'ami', region: 'eu-west-1', id: 'ami-0123456789abcdef0' };
const STAGING = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Staging/1';
const PROD = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Production/2';
const parameters = new Map<string, string>();

/** A keeper whose mark is a flag, and whose calls are recorded in order. */
function keeper(): Keeper & { kept: boolean; calls: string[]; onUnkeep?: () => Promise<void> } {
  const k = {
    kept: false,
    calls: [] as string[],
    onUnkeep: undefined as undefined | (() => Promise<void>),
    keep: async () => { k.calls.push('keep'); k.kept = true; },
    unkeep: async () => {
      k.calls.push('unkeep');
      await k.onUnkeep?.();
      k.kept = false;
    },
  };
  return k;
}

beforeEach(() => {
  ssm.reset();
  parameters.clear();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  ssm.on(PutParameterCommand).callsFake(async (input) => { parameters.set(input.Name, input.Value); return {}; });
  ssm.on(DeleteParameterCommand).callsFake(async (input) => {
    if (!parameters.delete(input.Name)) throw Object.assign(new Error('nf'), { name: 'ParameterNotFound' });
    return {};
  });
  ssm.on(GetParametersByPathCommand).callsFake(async (input) => ({
    Parameters: [...parameters].filter(([n]) => n.startsWith(`${input.Path}/`)).map(([Name, Value]) => ({ Name, Value })),
  }));
});
afterEach(() => jest.restoreAllMocks());

test('a hold registers, then keeps; the last release unkeeps; another holder keeps it kept', async () => {
  const k = keeper();
  const staging = holderOf(STAGING, 'WebLookup', 'ami-lookup:a', 'Staging/Web');
  const prod = holderOf(PROD, 'WebLookup', 'ami-lookup:a', 'Production/Web');
  await hold({ ami: k }, staging, [AMI]);
  await hold({ ami: k }, prod, [AMI]);
  expect([...parameters.keys()].sort()).toEqual([`/cdk-immutable-deploys/_holds/${AMI.id}/${prod.id}`, `/cdk-immutable-deploys/_holds/${AMI.id}/${staging.id}`].sort());
  expect(await otherHolders(AMI, STAGING)).toEqual([`Production/Web (${PROD})`]);
  await release({ ami: k }, staging, [AMI]);
  expect(k.kept).toBe(true);
  expect(k.calls).toEqual(['keep', 'keep']);
  await release({ ami: k }, prod, [AMI]);
  expect(k.kept).toBe(false);
  expect(parameters.size).toBe(0);
});

test('a hold that comes while the last release removes the mark: the release looks again and keeps it (review #16)', async () => {
  const k = keeper();
  const staging = holderOf(STAGING, 'WebLookup', 'ami-lookup:a', 'Staging/Web');
  const prod = holderOf(PROD, 'WebLookup', 'ami-lookup:a', 'Production/Web');
  await hold({ ami: k }, staging, [AMI]);
  // WHEN production holds the AMI between staging's look at the register and its removal of the mark
  k.onUnkeep = async () => {
    k.onUnkeep = undefined;
    await hold({ ami: k }, prod, [AMI]);
  };
  await release({ ami: k }, staging, [AMI]);
  // THEN the mark is back, and production is in the register
  expect(k.kept).toBe(true);
  expect(k.calls).toEqual(['keep', 'unkeep', 'keep', 'keep']);
  expect(await otherHolders(AMI, STAGING)).toEqual([`Production/Web (${PROD})`]);
});

test('a release of what is no longer registered (a Delete replayed) still unkeeps when nobody holds it, and fails nothing', async () => {
  const k = keeper();
  k.kept = true;
  await release({ ami: k }, holderOf(STAGING, 'WebLookup', 'p', 'Staging/Web'), [AMI]);
  expect(k.kept).toBe(false);
});
