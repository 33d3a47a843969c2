import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand, GetTemplateCommand, StackStatus } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { bakeTemplate, cleanUp, handAssembly, lookupRoleOf, planOf, run } from './fixtures';
import { EXIT } from '../../src/plan/cli';
import type { StackPlan } from '../../src/plan/plan';
import { readStatus } from '../../src/plan/stack-status';

/**
 * Online mode reads a stack's status first (`DescribeStacks`), as the CDK CLI does before a deploy,
 * and plans what the deploy will do from it (aws-behaviour.md #355-#359): a stack whose first create
 * failed is deleted and created again, a failed `--no-rollback` update is rolled back first or
 * retried with a new retry word, an operation under way makes the deploy fail until it ends.
 */
const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Web/1`;
const FP = 'a'.repeat(64);
const cloudformation = mockClient(CloudFormationClient);
const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);
const SAVED = { ...process.env };

/** The app: one stack `Web` with a bake of FP and the group that runs it. */
const app = () => handAssembly([{ id: 'Web', stackName: 'Web', environment: `aws://${ACCOUNT}/${REGION}`, lookupRole: lookupRoleOf(ACCOUNT, REGION), template: bakeTemplate('Web', FP) }]);

beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
});
beforeEach(() => {
  for (const m of [cloudformation, ec2, sts]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ci` });
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) } });
  // Whatever the status, GetTemplate returns the template of the last operation: here the same as AFTER's.
  cloudformation.on(GetTemplateCommand, { StackName: STACK_ID }).resolves({ TemplateBody: JSON.stringify(bakeTemplate('Web', FP)) });
  ec2.on(DescribeImagesCommand).resolves({ Images: [] });
});
afterAll(() => {
  for (const m of [cloudformation, ec2, sts]) m.restore();
  process.env = SAVED;
  cleanUp();
});

function deployedIn(status: StackStatus, reason?: string): void {
  cloudformation.on(DescribeStacksCommand, { StackName: 'Web' }).resolves({
    Stacks: [{ StackName: 'Web', StackId: STACK_ID, StackStatus: status, StackStatusReason: reason, CreationTime: new Date() }],
  });
}


async function web(): Promise<StackPlan> {
  return (await planOf(app())).stacks[0];
}

const rows = (s: StackPlan) => ({
  artifacts: s.artifacts.map((a) => `${a.path} ${a.change}`),
  deployments: s.deployments.map((d) => `${d.path} ${d.change}${d.because.length > 0 ? ` because ${d.because.join(', ')}` : ''}`),
});

test('a settled stack is compared with its template: nothing changes', async () => {
  deployedIn(StackStatus.UPDATE_COMPLETE);

  const plan = await web();

  expect(plan).toMatchObject({ change: 'update', status: 'UPDATE_COMPLETE', notes: [] });
  expect(rows(plan)).toEqual({ artifacts: ['Web/Ami unchanged'], deployments: ['Web/Fleet unchanged'] });
});

test('ROLLBACK_COMPLETE (its first create failed): the deploy deletes and re-creates it, so everything is new, whatever its template says', async () => {
  deployedIn(StackStatus.ROLLBACK_COMPLETE, 'The following resource(s) failed to create: [AmiWaitaaaaaaaa].');

  const plan = await web();

  expect(plan).toMatchObject({ change: 'recreate', status: 'ROLLBACK_COMPLETE' });
  expect(rows(plan)).toEqual({ artifacts: ['Web/Ami added'], deployments: ['Web/Fleet added'] });
  expect(plan.deployments[0].strategy).toEqual('new group, created on 2 signals, within 15 min');
  expect(plan.notes[0]).toMatch(/^ROLLBACK_COMPLETE \(The following resource\(s\) failed to create: \[AmiWaitaaaaaaaa\]\.\): its first create failed\. cdk deploy deletes it and creates it again, so every resource is new\.$/);
  // The failed create's template is not what the deploy starts from.
  expect(cloudformation.commandCalls(GetTemplateCommand)).toEqual([]);
  const table = await run(app());
  expect(table.stdout).toMatch(/\nDeploy: delete and create again \(ROLLBACK_COMPLETE, read with role cdk-hnb659fds-lookup-role-111111111111-eu-west-1\)\n/);
  expect((await run(app(), '--fail-on', 'build')).code).toEqual(EXIT.TRIPPED);
});

test('UPDATE_FAILED after --no-rollback with a failed bake (its wait completed, its result lookup failed): the artifact is built again and its group replaced, and the retry word is named (review runtime #5, #6)', async () => {
  deployedIn(StackStatus.UPDATE_FAILED, 'The following resource(s) failed to update: [AmiResult].');
  cloudformation.on(DescribeStackResourceCommand, { StackName: STACK_ID, LogicalResourceId: 'AmiWaitaaaaaaaa' }).resolves({
    StackResourceDetail: { LogicalResourceId: 'AmiWaitaaaaaaaa', ResourceType: 'AWS::CloudFormation::WaitCondition', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
  });
  cloudformation.on(DescribeStackResourceCommand, { StackName: STACK_ID, LogicalResourceId: 'AmiResult' }).resolves({
    StackResourceDetail: {
      LogicalResourceId: 'AmiResult',
      ResourceType: 'Custom::CdkImmutableDeploysLookup',
      ResourceStatus: 'UPDATE_FAILED',
      ResourceStatusReason: 'Received response status [FAILED] from custom resource. Message returned: Web/Ami: AMI bake FAILED in step 1',
      LastUpdatedTimestamp: new Date(),
    },
  });

  const plan = await web();

  expect(plan).toMatchObject({ change: 'update', status: 'UPDATE_FAILED' });
  expect(rows(plan)).toEqual({ artifacts: ['Web/Ami build'], deployments: ['Web/Fleet replace because Web/Ami'] });
  expect(plan.notes).toEqual([
    expect.stringMatching(/^UPDATE_FAILED .*: an update with --no-rollback failed\. cdk deploy rolls it back first \(it asks, or --force\), then deploys; cdk deploy --no-rollback retries from where it stopped, and a failed build needs a new retry word \(-c cdk-immutable-deploys:retry=<new word>\): without one its failed result lookup fails again at once, and a wait that got no signal is created again and can wait its whole timeout;/),
    expect.stringMatching(/^Web\/Ami: its last build failed \(result lookup AmiResult UPDATE_FAILED: Received response status \[FAILED\] .*AMI bake FAILED in step 1\)\. It is built again after the rollback; with --no-rollback only under a new retry word \(-c cdk-immutable-deploys:retry=<new word>\): without one, CloudFormation runs the failed result lookup again, which fails again at once\.$/),
  ]);
});

test('UPDATE_FAILED after --no-rollback with a wait that got no signal: built again, and a retry without a new word is said to wait the whole timeout, not to fail at once (review runtime #6)', async () => {
  deployedIn(StackStatus.UPDATE_FAILED, 'The following resource(s) failed to create: [AmiWaitaaaaaaaa].');
  cloudformation.on(DescribeStackResourceCommand, { StackName: STACK_ID, LogicalResourceId: 'AmiWaitaaaaaaaa' }).resolves({
    StackResourceDetail: {
      LogicalResourceId: 'AmiWaitaaaaaaaa',
      ResourceType: 'AWS::CloudFormation::WaitCondition',
      ResourceStatus: 'CREATE_FAILED',
      ResourceStatusReason: 'Failed to receive 1 resource signal(s) within the specified duration',
      LastUpdatedTimestamp: new Date(),
    },
  });
  // The result lookup, which depends on the wait, was never created.
  cloudformation.on(DescribeStackResourceCommand, { StackName: STACK_ID, LogicalResourceId: 'AmiResult' })
    .rejects(Object.assign(new Error('Resource AmiResult does not exist for stack Web'), { name: 'ValidationError' }));

  const plan = await web();

  expect(rows(plan)).toEqual({ artifacts: ['Web/Ami build'], deployments: ['Web/Fleet replace because Web/Ami'] });
  expect(plan.notes[1]).toMatch(/^Web\/Ami: its wait AmiWaitaaaaaaaa got no signal within its timeout \(CREATE_FAILED: Failed to receive 1 resource signal\(s\) within the specified duration\)\. .*without one, CloudFormation creates the same wait again, which nothing may signal .*, so it can wait its whole timeout \(up to 12 hours\) and fail again\.$/);
  expect(plan.notes.join('\n')).not.toMatch(/fails again at once\.$/m);
});

test('a stack with an operation under way is compared with the template it applies, and the deploy is said to fail until it ends', async () => {
  deployedIn(StackStatus.UPDATE_IN_PROGRESS);

  const plan = await web();

  expect(plan).toMatchObject({ change: 'update', status: 'UPDATE_IN_PROGRESS' });
  expect(rows(plan).artifacts).toEqual(['Web/Ami unchanged']);
  expect(plan.notes).toEqual([expect.stringMatching(/^UPDATE_IN_PROGRESS: an operation is under way, and CloudFormation takes one at a time, so cdk deploy fails until it ends: plan again then\./)]);
});

test('UPDATE_ROLLBACK_FAILED: the rollback is continued before the deploy', async () => {
  deployedIn(StackStatus.UPDATE_ROLLBACK_FAILED);

  const plan = await web();

  expect(plan.notes).toEqual([expect.stringMatching(/^UPDATE_ROLLBACK_FAILED: a rollback failed\. cdk deploy continues the rollback first \(it asks, or --force; cdk rollback does it alone\), then deploys/)]);
});

test('every status CloudFormation documents has a reading; only a settled one needs no words', () => {
  for (const status of Object.values(StackStatus)) {
    const reading = readStatus(status, undefined, false);
    expect([status, reading.note ?? '']).not.toEqual([status, expect.stringContaining('a status the plan does not know')]);
    const settled = ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE'].includes(status);
    expect([status, reading.note === undefined]).toEqual([status, settled]);
  }
  expect(readStatus('SOMETHING_NEW', undefined, false)).toMatchObject({ change: 'update', compare: true, note: expect.stringMatching(/^SOMETHING_NEW: a status the plan does not know/) });
  // A failed create paused by --no-rollback: the rollback deletes a stack with no stable state, then the deploy creates it.
  expect(readStatus('CREATE_FAILED', undefined, false)).toMatchObject({ change: 'recreate', compare: false, note: expect.stringMatching(/rolls it back first .*, which deletes a stack that never completed a create/) });
  // A nested stack is deployed only through its parent.
  expect(readStatus('ROLLBACK_COMPLETE', undefined, true).note).toMatch(/the deploy of its parent deletes it and creates it again/);
});
