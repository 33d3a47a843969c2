import { CloudFormationClient, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { bakeTemplate, cleanUp, handAssembly, lookupRoleOf, planOf, run, stackOf as stack } from './fixtures';
import { EXIT } from '../../src/plan/cli';

/**
 * Online mode with stacks in several accounts, as a pipeline plans them: two stages whose stacks are
 * both named `Web` (the common "same stack name per environment" layout), in 111111111111 and
 * 222222222222. The CDK CLI reads a stack with the role the manifest names (`lookupRole`), and falls
 * back to the current credentials only when they are of the stack's account (aws-behaviour.md
 * #352-#354). The plan does the same, or says it did not plan the stack: it never reads one
 * account's stack with another account's credentials.
 */
const DEV = '111111111111';
const PROD = '222222222222';
const REGION = 'eu-west-1';
const cloudformation = mockClient(CloudFormationClient);
const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);

const refused = (message: string) => Object.assign(new Error(message), { name: 'AccessDenied' });
const credentials = (key: string) => ({ Credentials: { AccessKeyId: key, SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) } });

function twoAccounts(options: { readonly lookupRoles?: boolean } = {}): string {
  const role = (account: string) => (options.lookupRoles ?? true ? lookupRoleOf(account, REGION) : undefined);
  return handAssembly([
    { id: 'Dev/Web', stackName: 'Web', environment: `aws://${DEV}/${REGION}`, lookupRole: role(DEV), template: bakeTemplate('Dev/Web', 'a'.repeat(64)) },
    { id: 'Prod/Web', stackName: 'Web', environment: `aws://${PROD}/${REGION}`, lookupRole: role(PROD), template: bakeTemplate('Prod/Web', 'b'.repeat(64)) },
  ]);
}

beforeEach(() => {
  for (const m of [cloudformation, ec2, sts]) m.reset();
  // The current credentials are of DEV; a stack named Web exists in both accounts, each with its own template.
  sts.on(GetCallerIdentityCommand).resolves({ Account: DEV, Arn: `arn:aws:iam::${DEV}:user/ci` });
  // CloudFormation answers for the account whose credentials the client holds.
  cloudformation.on(DescribeStacksCommand, { StackName: 'Web' }).callsFake(async (_input, getClient) => ({
    Stacks: [{ StackName: 'Web', StackId: `arn:aws:cloudformation:${REGION}:${await accountOf(getClient())}:stack/Web/1`, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }],
  }));
  cloudformation.on(GetTemplateCommand).callsFake(async (input) => {
    const account = /:(\d{12}):stack\//.exec(input.StackName)![1];
    return { TemplateBody: JSON.stringify(bakeTemplate(account === DEV ? 'Dev/Web' : 'Prod/Web', (account === DEV ? 'a' : 'b').repeat(64))) };
  });
  ec2.on(DescribeImagesCommand).resolves({ Images: [] });
});
afterAll(() => {
  for (const m of [cloudformation, ec2, sts]) m.restore();
  cleanUp();
});

/** The account whose credentials a client holds: the key id names it here (ASIADEV, ASIAPROD; the environment's are DEV's). */
async function accountOf(client: CloudFormationClient): Promise<string> {
  const key = (await client.config.credentials()).accessKeyId;
  return key === 'ASIAPROD' ? PROD : DEV;
}

const SAVED = { ...process.env };
beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'ASIADEV';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
});
afterAll(() => {
  process.env = SAVED;
});

test('each stack is read with its own account\'s lookup role, so a stack name shared by two accounts is read in each', async () => {
  sts.on(AssumeRoleCommand, { RoleArn: lookupRoleOf(DEV, REGION) }).resolves(credentials('ASIADEV'));
  sts.on(AssumeRoleCommand, { RoleArn: lookupRoleOf(PROD, REGION) }).resolves(credentials('ASIAPROD'));

  const plan = await planOf(twoAccounts());

  expect(plan.stacks.map((s) => [s.name, s.account, s.region, s.change, s.readWith])).toEqual([
    ['Dev/Web', DEV, REGION, 'update', lookupRoleOf(DEV, REGION)],
    ['Prod/Web', PROD, REGION, 'update', lookupRoleOf(PROD, REGION)],
  ]);
  // Each reads its own template: both are unchanged, none is "new" or another account's.
  expect(stack(plan, 'Prod/Web').artifacts).toEqual([expect.objectContaining({ path: 'Prod/Web/Ami', change: 'unchanged' })]);
  expect(stack(plan, 'Prod/Web').notes).toEqual([]);
  const templatesRead = cloudformation.commandCalls(GetTemplateCommand).map((c) => c.args[0].input.StackName);
  expect(templatesRead).toEqual([`arn:aws:cloudformation:${REGION}:${DEV}:stack/Web/1`, `arn:aws:cloudformation:${REGION}:${PROD}:stack/Web/1`]);
  expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
    expect.objectContaining({ RoleArn: lookupRoleOf(DEV, REGION), RoleSessionName: 'cdk-immutable-deploys-plan' }),
    expect.objectContaining({ RoleArn: lookupRoleOf(PROD, REGION), RoleSessionName: 'cdk-immutable-deploys-plan' }),
  ]);
  const table = await run(twoAccounts());
  expect(table.stdout).toMatch(/^Stack Prod\/Web \(222222222222\/eu-west-1\)\nDeploy: update \(UPDATE_COMPLETE, read with role cdk-hnb659fds-lookup-role-222222222222-eu-west-1\)\n/m);
});

test('a stack of another account whose lookup role cannot be assumed is not planned, is never read with these credentials, and trips every gate', async () => {
  sts.on(AssumeRoleCommand).resolves(credentials('ASIADEV'));
  sts.on(AssumeRoleCommand, { RoleArn: lookupRoleOf(PROD, REGION) })
    .rejects(refused(`User: arn:aws:iam::${DEV}:user/ci is not authorized to perform: sts:AssumeRole on resource: ${lookupRoleOf(PROD, REGION)}`));

  const plan = await planOf(twoAccounts());

  const prod = stack(plan, 'Prod/Web');
  expect(prod).toMatchObject({ change: 'not-planned', account: PROD, region: REGION, artifacts: [], deployments: [] });
  expect(prod.notes).toEqual([expect.stringMatching(
    new RegExp(`^other account: the current credentials are of ${DEV}, the stack deploys to ${PROD}, and its lookup role .*lookup-role-${PROD}-eu-west-1 could not be assumed \\(AccessDenied: .*\\)\\. Bootstrap ${PROD} with --trust-for-lookup ${DEV}, or plan it with credentials of ${PROD}\\.$`),
  )]);
  // Only Dev's Web was asked for: Prod's name never reached CloudFormation with Dev's credentials.
  expect(cloudformation.commandCalls(DescribeStacksCommand).length).toEqual(1);
  expect(cloudformation.commandCalls(GetTemplateCommand).map((c) => c.args[0].input.StackName)).toEqual([`arn:aws:cloudformation:${REGION}:${DEV}:stack/Web/1`]);

  const gated = await run(twoAccounts(), '--fail-on', 'broaden');
  expect(gated.code).toEqual(EXIT.TRIPPED);
  expect(gated.stderr).toMatch(/broaden: Prod\/Web was not planned \(other account: /);
  expect(gated.stdout).toMatch(/Stack Prod\/Web \(222222222222\/eu-west-1\)\nDeploy: NOT PLANNED \(read with current credentials\)\n/);
});

test('a stack of the credentials\' own account whose lookup role cannot be assumed is read with the credentials, as the CDK CLI does, and says so', async () => {
  sts.on(AssumeRoleCommand).rejects(refused('not authorized to perform: sts:AssumeRole'));
  const dev = handAssembly([{ id: 'Dev/Web', stackName: 'Web', environment: `aws://${DEV}/${REGION}`, lookupRole: lookupRoleOf(DEV, REGION), template: bakeTemplate('Dev/Web', 'a'.repeat(64)) }]);

  const plan = await planOf(dev);

  expect(plan.stacks[0]).toMatchObject({ change: 'update', readWith: 'current credentials' });
  expect(plan.stacks[0].notes).toEqual([expect.stringMatching(/^the lookup role .*lookup-role-111111111111-eu-west-1 was not assumed \(AccessDenied: .*\): read with the current credentials, which are of its account, as the CDK CLI does\.$/)]);
});

test('a synthesizer that names no lookup role (CliCredentialsStackSynthesizer): the own account is read, another account is not planned', async () => {
  const plan = await planOf(twoAccounts({ lookupRoles: false }));

  expect(sts.commandCalls(AssumeRoleCommand)).toEqual([]);
  expect(stack(plan, 'Dev/Web')).toMatchObject({ change: 'update', readWith: 'current credentials' });
  expect(stack(plan, 'Prod/Web')).toMatchObject({ change: 'not-planned' });
  expect(stack(plan, 'Prod/Web').notes[0]).toMatch(/its synthesizer names no lookup role to assume\. Plan it with credentials of 222222222222\.$/);
});

test('an environment-agnostic stack deploys to the credentials\' account and region: its role\'s placeholders are filled with them and their partition', async () => {
  process.env.AWS_REGION = 'cn-north-1';
  sts.on(GetCallerIdentityCommand).resolves({ Account: DEV, Arn: `arn:aws-cn:iam::${DEV}:user/ci` });
  sts.on(AssumeRoleCommand).resolves(credentials('ASIADEV'));
  const agnostic = handAssembly([{
    id: 'Web',
    stackName: 'Web',
    environment: 'aws://unknown-account/unknown-region',
    lookupRole: 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-lookup-role-${AWS::AccountId}-${AWS::Region}',
    template: bakeTemplate('Web', 'a'.repeat(64)),
  }]);

  const plan = await planOf(agnostic);

  expect(plan.stacks[0]).toMatchObject({ account: DEV, region: 'cn-north-1', readWith: lookupRoleOf(DEV, 'cn-north-1', 'aws-cn') });
  expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input.RoleArn).toEqual(`arn:aws-cn:iam::${DEV}:role/cdk-hnb659fds-lookup-role-${DEV}-cn-north-1`);
});
