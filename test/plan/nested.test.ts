import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand as DescribeAmisCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { cleanUp, NESTED, planOf, run, stackOf as stack, synthesizeNested } from './fixtures';
import { readAssembly } from '../../src/plan/assembly';
import { EXIT } from '../../src/plan/cli';
import type { StackPlan } from '../../src/plan/plan';

/**
 * Nested stacks, synthesized for real: `Parent` holds `Inner` (an image and its Fargate service),
 * which holds `Deeper` (an AMI bake). `cdk synth` writes each nested template as a file of the
 * assembly and names it in the nested stack resource's `aws:asset:path` metadata, which `cdk diff`
 * follows (aws-behaviour.md #350); a plain `app.synth()` leaves the metadata out, and the asset
 * manifest names the file by the object key of the resource's TemplateURL (#351).
 */
let base: string;
let codeChange: string;
let stepChange: string;
let grant: string;
let withoutInner: string;
let plainSynth: string;
let plainSynthChange: string;

beforeAll(() => {
  base = synthesizeNested(NESTED);
  codeChange = synthesizeNested({ ...NESTED, site: '<h1>nested, changed</h1>' });
  stepChange = synthesizeNested({ ...NESTED, step: 'dnf install -y nginx httpd-tools' });
  grant = synthesizeNested({ ...NESTED, grant: true });
  withoutInner = synthesizeNested({ ...NESTED, withoutInner: true });
  plainSynth = synthesizeNested({ ...NESTED, assetMetadata: false });
  plainSynthChange = synthesizeNested({ ...NESTED, site: '<h1>nested, changed</h1>', assetMetadata: false });
});
afterAll(() => cleanUp());

const rows = (s: StackPlan) => ({
  artifacts: Object.fromEntries(s.artifacts.map((a) => [a.path, a.change])),
  deployments: Object.fromEntries(s.deployments.map((d) => [d.path, d.change])),
});

describe('the assembly', () => {
  test('every nested stack is read, recursively, after the stack that holds it, named by its construct path', () => {
    for (const assembly of [base, plainSynth]) {
      const stacks = readAssembly(assembly);

      expect(stacks.map((s) => [s.name, s.nested?.parent.name, s.account, s.region])).toEqual([
        ['Parent', undefined, '123456789012', 'eu-west-1'],
        ['Parent/Inner', 'Parent', '123456789012', 'eu-west-1'],
        ['Parent/Inner/Deeper', 'Parent/Inner', '123456789012', 'eu-west-1'],
      ]);
      expect(stacks[1].nested?.logicalId).toMatch(/^InnerNestedStackInnerNestedStackResource/);
      expect(Object.values(stacks[2].template.Resources ?? {}).some((r) => r.Type === 'AWS::ImageBuilder::DistributionConfiguration')).toBe(true);
    }
  });
});

describe('offline', () => {
  test('a build inside a nested stack is planned like one in a top-level stack, and --fail-on build trips on it', async () => {
    const plan = await planOf(base, codeChange);

    expect(plan.stacks.map((s) => [s.name, s.nestedIn, s.change])).toEqual([
      ['Parent', null, 'update'],
      ['Parent/Inner', 'Parent', 'update'],
      ['Parent/Inner/Deeper', 'Parent/Inner', 'update'],
    ]);
    expect(rows(stack(plan, 'Parent/Inner'))).toEqual({ artifacts: { 'Parent/Inner/Image': 'build' }, deployments: { 'Parent/Inner/Web': 'replace' } });
    expect(stack(plan, 'Parent/Inner').artifacts[0].changedInputs).toEqual(['context: index.html']);
    expect(rows(stack(plan, 'Parent/Inner/Deeper'))).toEqual({ artifacts: { 'Parent/Inner/Deeper/Ami': 'unchanged' }, deployments: {} });
    // The parent's nested stack resource changes (a new TemplateURL): the nested section says how, it is no other change.
    expect(stack(plan, 'Parent').otherChanges).toEqual({});

    const gated = await run(base, codeChange, '--fail-on', 'build');
    expect(gated.code).toEqual(EXIT.TRIPPED);
    expect(gated.stderr).toMatch(/build: Parent\/Inner\/Image is built \(container-image /);
  });

  test('a bake two levels down is planned, and named by the step that changed', async () => {
    const deeper = stack(await planOf(base, stepChange), 'Parent/Inner/Deeper');

    expect(deeper.artifacts).toEqual([expect.objectContaining({ path: 'Parent/Inner/Deeper/Ami', change: 'build', changedInputs: ['step 1'] })]);
    expect((await run(base, stepChange, '--fail-on=build')).code).toEqual(EXIT.TRIPPED);
  });

  test('IAM permissions that broaden inside a nested stack trip --fail-on broaden', async () => {
    const plan = await planOf(base, grant);

    expect(stack(plan, 'Parent/Inner').permissionsBroadened).toBe(true);
    expect(stack(plan, 'Parent').permissionsBroadened).toBe(false);
    const gated = await run(base, grant, '--fail-on', 'broaden');
    expect(gated.code).toEqual(EXIT.TRIPPED);
    expect(gated.stderr).toMatch(/broaden: IAM permissions of Parent\/Inner broaden/);
  });

  test('without asset metadata (a plain app.synth()), the nested templates are found through the asset manifest', async () => {
    const plan = await planOf(plainSynth, plainSynthChange);

    expect(rows(stack(plan, 'Parent/Inner')).artifacts).toEqual({ 'Parent/Inner/Image': 'build' });
    expect(Object.values(JSON.parse(fs.readFileSync(path.join(plainSynth, 'Parent.template.json'), 'utf8')).Resources)
      .some((r: any) => r.Metadata?.['aws:asset:path'])).toBe(false);
  });

  test('nested stacks removed from their parent are listed, deleted with their artifacts and deployments', async () => {
    const plan = await planOf(base, withoutInner);

    expect(plan.stacks.map((s) => [s.name, s.change])).toEqual([
      ['Parent', 'update'],
      ['Parent/Inner', 'removed'],
      ['Parent/Inner/Deeper', 'removed'],
    ]);
    const inner = stack(plan, 'Parent/Inner');
    expect(rows(inner)).toEqual({ artifacts: { 'Parent/Inner/Image': 'removed' }, deployments: { 'Parent/Inner/Web': 'removed' } });
    expect(inner.notes).toEqual(['no longer in Parent: CloudFormation deletes this nested stack when it updates Parent.']);
    expect(inner.otherChanges.WILL_DESTROY).toBeGreaterThan(5);
    expect(rows(stack(plan, 'Parent/Inner/Deeper')).artifacts).toEqual({ 'Parent/Inner/Deeper/Ami': 'removed' });
  });
});

describe('online', () => {
  const cloudformation = mockClient(CloudFormationClient);
  const ecr = mockClient(ECRClient);
  const ec2 = mockClient(EC2Client);
  const sts = mockClient(STSClient);
  const PARENT = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Parent/1111';
  const INNER = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Parent-InnerNestedStackInner-ABC/2222';
  const DEEPER = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Parent-InnerNestedStackInner-ABC-DeeperNested-DEF/3333';

  beforeEach(() => {
    for (const m of [cloudformation, ecr, ec2, sts]) m.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/ci' });
    // AssumeRole is not mocked to answer: the lookup role is not assumed, and the current credentials are of the account.
  });
  afterAll(() => {
    for (const m of [cloudformation, ecr, ec2, sts]) m.restore();
  });

  /** The account runs `deployed`: the parent, and its nested stacks under the ids CloudFormation gave them. */
  function account(deployed: string): void {
    const [parent, inner, deeper] = readAssembly(deployed);
    const status = (id: string) => ({ Stacks: [{ StackName: id.split('/')[1], StackId: id, StackStatus: 'UPDATE_COMPLETE' as const, CreationTime: new Date() }] });
    cloudformation.on(DescribeStacksCommand, { StackName: 'Parent' }).resolves(status(PARENT));
    cloudformation.on(DescribeStacksCommand, { StackName: INNER }).resolves(status(INNER));
    cloudformation.on(DescribeStacksCommand, { StackName: DEEPER }).resolves(status(DEEPER));
    // A nested stack resource's physical id is the nested stack's ARN (aws-behaviour.md #43, #350).
    const resource = (id: string) => ({ StackResourceDetail: { LogicalResourceId: 'x', ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'UPDATE_COMPLETE' as const, LastUpdatedTimestamp: new Date(), PhysicalResourceId: id } });
    cloudformation.on(DescribeStackResourceCommand, { StackName: PARENT, LogicalResourceId: inner.nested!.logicalId }).resolves(resource(INNER));
    cloudformation.on(DescribeStackResourceCommand, { StackName: INNER, LogicalResourceId: deeper.nested!.logicalId }).resolves(resource(DEEPER));
    cloudformation.on(DescribeStackResourceCommand, { StackName: INNER }).resolves({
      StackResourceDetail: { LogicalResourceId: 'ImageRepository', ResourceType: 'AWS::ECR::Repository', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(), PhysicalResourceId: 'inner-repository' },
    });
    cloudformation.on(DescribeStackResourceCommand, { StackName: INNER, LogicalResourceId: deeper.nested!.logicalId }).resolves(resource(DEEPER));
    for (const [id, s] of [[PARENT, parent], [INNER, inner], [DEEPER, deeper]] as const) {
      cloudformation.on(GetTemplateCommand, { StackName: id, TemplateStage: 'Original' }).resolves({ TemplateBody: JSON.stringify(s.template) });
    }
    ecr.on(DescribeImagesCommand).rejects(Object.assign(new Error('The image requested does not exist'), { name: 'ImageNotFoundException' }));
    ec2.on(DescribeAmisCommand).resolves({ Images: [] });
  }

  test('a nested stack is read through its parent\'s resource, by the ARN CloudFormation gave it, recursively', async () => {
    account(base);

    const plan = await planOf(codeChange);

    expect(plan.stacks.map((s) => [s.name, s.change, s.status, s.readWith])).toEqual([
      ['Parent', 'update', 'UPDATE_COMPLETE', 'current credentials'],
      ['Parent/Inner', 'update', 'UPDATE_COMPLETE', 'current credentials'],
      ['Parent/Inner/Deeper', 'update', 'UPDATE_COMPLETE', 'current credentials'],
    ]);
    expect(rows(stack(plan, 'Parent/Inner'))).toEqual({ artifacts: { 'Parent/Inner/Image': 'build' }, deployments: { 'Parent/Inner/Web': 'replace' } });
    expect(rows(stack(plan, 'Parent/Inner/Deeper')).artifacts).toEqual({ 'Parent/Inner/Deeper/Ami': 'unchanged' });
    // Its image is looked for in the nested stack's own repository.
    expect(ecr.commandCalls(DescribeImagesCommand)[0].args[0].input).toMatchObject({ registryId: '123456789012', repositoryName: 'inner-repository' });
    expect(cloudformation.commandCalls(GetTemplateCommand).map((c) => c.args[0].input.StackName)).toEqual([PARENT, INNER, DEEPER]);
    expect((await run(codeChange, '--fail-on', 'build')).code).toEqual(EXIT.TRIPPED);
  });

  test('a nested stack its parent does not hold yet is new; one the deployed parent holds and AFTER does not is deleted', async () => {
    // GIVEN the deployed parent holds no nested stack yet
    account(base);
    const [parent] = readAssembly(withoutInner);
    const [, inner] = readAssembly(base);
    cloudformation.on(GetTemplateCommand, { StackName: PARENT, TemplateStage: 'Original' }).resolves({ TemplateBody: JSON.stringify(parent.template) });
    cloudformation.on(DescribeStackResourceCommand, { StackName: PARENT, LogicalResourceId: inner.nested!.logicalId })
      .rejects(Object.assign(new Error(`Resource ${inner.nested!.logicalId} does not exist for stack Parent`), { name: 'ValidationError' }));

    const added = await planOf(base);
    expect(added.stacks.map((s) => [s.name, s.change])).toEqual([['Parent', 'update'], ['Parent/Inner', 'create'], ['Parent/Inner/Deeper', 'create']]);
    expect(rows(stack(added, 'Parent/Inner')).artifacts).toEqual({ 'Parent/Inner/Image': 'added' });

    // GIVEN it holds both, and AFTER has neither
    cloudformation.reset();
    account(base);
    const removed = await planOf(withoutInner);
    expect(removed.stacks.map((s) => [s.name, s.change, s.nestedIn])).toEqual([
      ['Parent', 'update', null],
      [expect.stringMatching(/^Parent\/InnerNestedStackInnerNestedStackResource/), 'removed', 'Parent'],
      [expect.stringMatching(/\/DeeperNestedStackDeeperNestedStackResource/), 'removed', expect.stringMatching(/^Parent\/Inner/)],
    ]);
    expect(rows(removed.stacks[1]).artifacts).toEqual({ 'Parent/Inner/Image': 'removed' });
  });
});
