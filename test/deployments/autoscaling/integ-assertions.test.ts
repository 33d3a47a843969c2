/**
 * The assertions of test/integ.immutable-asg.ts, run by integ-tests' own assertion handler against
 * the responses EC2 really gives for a group of two instances. DescribeInstances returns a list of
 * reservations, one per launch request, each with the instances that request launched
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Reservation.html): two instances come as
 * one reservation of two, or two reservations of one, never as the single instance an exact array
 * would need.
 */
import * as fs from 'fs';
import * as path from 'path';
// The handler integ-runner deploys for every assertion: the same decoding of matchers, the same verdict.
import { AssertionHandler } from '@aws-cdk/integ-tests-alpha/lib/assertions/providers/lambda-handler/assertion';

// The handler's module loads the Step Functions client (for its waiter), which no assertion here uses.
jest.mock('@aws-sdk/client-sfn', () => ({}), { virtual: true });

const SNAPSHOT = path.join(__dirname, '..', '..', 'integ.immutable-asg.js.snapshot');
const BAKED = 'ami-0baked000000000000';
const BASE = 'ami-0c101f26f147fa7fd';

/** The `expected` of the assertion on an API call, with every deploy-time value replaced by `value`. */
function expectedOf(call: string, value: string): string {
  const file = fs.readdirSync(SNAPSHOT).find((f) => f.includes('DeployAssert') && f.endsWith('.template.json'))!;
  const template = JSON.parse(fs.readFileSync(path.join(SNAPSHOT, file), 'utf8'));
  const resource = Object.values<any>(template.Resources).find((r) => String(r.Type).startsWith(`Custom::DeployAssert@SdkCall${call}`));
  const expected = resource.Properties.expected;
  if (typeof expected === 'string') return expected;
  const [, parts] = expected['Fn::Join'];
  return parts.map((p: unknown) => (typeof p === 'string' ? p : value)).join('');
}

async function verdict(expected: string, actual: unknown): Promise<'success' | 'fail'> {
  const handler = new AssertionHandler({ ResourceProperties: {} } as any, { getRemainingTimeInMillis: () => 60_000 } as any);
  clearTimeout((handler as any).timeout);
  // processEvent is what the deployed handler calls for each assertion (protected in its typings).
  const result = await (handler as any).processEvent({ actual: JSON.stringify(actual), expected, failDeployment: false });
  return JSON.parse(result.assertion).status;
}

const instance = (imageId: string, n: number) => ({ InstanceId: `i-0${n}`, ImageId: imageId, State: { Name: 'running' } });

describe('integ.immutable-asg.ts assertions', () => {
  const expected = expectedOf('EC2describeInstances', BAKED);

  test('two instances of the baked AMI in one reservation pass', async () => {
    expect(await verdict(expected, { Reservations: [{ ReservationId: 'r-1', Instances: [instance(BAKED, 1), instance(BAKED, 2)] }] })).toBe('success');
  });

  test('two instances of the baked AMI in two reservations pass', async () => {
    const reservations = [{ ReservationId: 'r-1', Instances: [instance(BAKED, 1)] }, { ReservationId: 'r-2', Instances: [instance(BAKED, 2)] }];
    expect(await verdict(expected, { Reservations: reservations })).toBe('success');
  });

  test('instances that do not run the baked AMI, or none at all, fail', async () => {
    expect(await verdict(expected, { Reservations: [{ ReservationId: 'r-1', Instances: [instance(BASE, 1), instance(BASE, 2)] }] })).toBe('fail');
    expect(await verdict(expected, { Reservations: [] })).toBe('fail');
  });

  test('the pinned launch-template version launches the baked AMI', async () => {
    const versions = expectedOf('EC2describeLaunchTemplateVe', BAKED);
    expect(await verdict(versions, { LaunchTemplateVersions: [{ VersionNumber: 3, LaunchTemplateData: { ImageId: BAKED, InstanceType: 't3.micro' } }] })).toBe('success');
    expect(await verdict(versions, { LaunchTemplateVersions: [{ VersionNumber: 3, LaunchTemplateData: { ImageId: BASE } }] })).toBe('fail');
  });
});
