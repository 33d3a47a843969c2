/**
 * Every stage keeps the AMI it runs (issue 24 item 2: the AMI review's F2, F3, F17; the runtime
 * review's #4). Three stacks play a promotion through the runtime's real code (the bake's read-back,
 * the AMI lookup, the AMI keeper, the register of holds), against an in-memory EC2, Image Builder and
 * SSM: the bake stack and a staging stack in one account, production in another. After each bake the
 * runtime's retention (the bake job's real `prune`, with the job's spec as synthesized) runs against
 * Image Builder's records, one recipe version per fingerprint as Image Builder keeps them (an Image
 * Builder lifecycle policy would count per recipe version and delete nothing: docs/aws-behaviour.md
 * row 306), and the bake stack is deleted with removal policy DESTROY.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateTagsCommand, DeleteTagsCommand, DeregisterImageCommand, DescribeImageAttributeCommand, DescribeImagesCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DeleteImageCommand, DeleteImageRecipeCommand, GetImageCommand, GetImageRecipeCommand, ImagebuilderClient, ListComponentBuildVersionsCommand,
  ListImageBuildVersionsCommand, ListImageRecipesCommand,
} from '@aws-sdk/client-imagebuilder';
import { DeleteParameterCommand, GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { remaining } from './harness';
import { arnText, jobOf, throttlingRetry } from './jobs';
import { AmiBake, BakeStep, BaseImage } from '../../../src';
import { allHolders } from '../../../src/internal/runtime/holds';
import { transport } from '../../../src/internal/runtime/http';
import { KEEPERS, LOOKUPS, RUNNERS } from '../../../src/internal/runtime/runners';
import { handler } from '../../../src/internal/runtime/runtime.singleton-lambda';
import { world } from '../../../src/internal/runtime/world';

const TOOLING = '111111111111';
const PROD = '222222222222';
const REGION = 'eu-west-1';
const BAKE_STACK = `arn:aws:cloudformation:${REGION}:${TOOLING}:stack/Bake/1`;
const STAGING_STACK = `arn:aws:cloudformation:${REGION}:${TOOLING}:stack/Staging/2`;
const PROD_STACK = `arn:aws:cloudformation:${REGION}:${PROD}:stack/Production/3`;
const FP = (n: number) => `${n}`.repeat(64).slice(0, 64);

interface Ami {
  id: string;
  owner: string;
  created: string;
  tags: Map<string, string>;
  sharedWith: string[];
  description: string;
  imageArn: string;
  state: string;
}

const ec2 = mockClient(EC2Client);
const imagebuilder = mockClient(ImagebuilderClient);
const ssm = mockClient(SSMClient);
const cloudformation = mockClient(CloudFormationClient);

/** The AMI bake of the app as synthesized, shared with production's account: its job's spec. */
function bakeSpec(): any {
  const stack = new Stack(new App(), 'Bake', { env: { account: TOOLING, region: REGION } });
  new AmiBake(stack, 'Web', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(['echo web'])], retainImages: 3, distribution: { accounts: [PROD] } });
  const spec = jobOf(Template.fromStack(stack), 'Bake/Web').Spec;
  // ARNs as CloudFormation resolves them (the partition written as aws).
  return { ...spec, RecipeNameArn: arnText(spec.RecipeNameArn), ImageNameArn: arnText(spec.ImageNameArn) };
}

const SPEC = bakeSpec();
const BAKE_NAME: string = SPEC.BakeName;
/** The retention the runtime applies after the bake of fingerprint n, with the register of holds. */
const prune = (n: number) => RUNNERS['ami-bake'].prune!({ key: `WebWait${n}`, kind: 'ami-bake', path: 'Bake/Web', fingerprint: FP(n), spec: SPEC }, throttlingRetry().retry, { holders: allHolders });

describe('every stage keeps the AMI it runs (F2, F3, F17, runtime review #4)', () => {
  const amis = new Map<string, Ami>();
  const images = new Map<string, { arn: string; ami: string; created: string }>();
  const parameters = new Map<string, string>();
  const answers: any[] = [];
  let requests = 0;
  let clock = Date.parse('2026-12-01T10:00:00Z');

  beforeEach(() => {
    [ec2, imagebuilder, ssm, cloudformation].forEach((m) => m.reset());
    amis.clear();
    images.clear();
    parameters.clear();
    answers.length = 0;
    Object.assign(world, { runners: RUNNERS, lookups: LOOKUPS, keepers: KEEPERS, retryDelayMs: 0, now: () => clock });
    world.sleep = async (ms: number) => { clock += ms; };
    process.env.AWS_REGION = REGION;
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    transport.put = async (_url: string, body: string) => { answers.push(JSON.parse(body)); };
    // EC2: the account's AMIs; another account sees those shared with it (its own are none here).
    ec2.on(DescribeImagesCommand).callsFake(async (input) => {
      let found = [...amis.values()];
      if (input.ImageIds) found = found.filter((a) => input.ImageIds.includes(a.id));
      for (const filter of input.Filters ?? []) {
        if (filter.Name.startsWith('tag:')) found = found.filter((a) => filter.Values.includes(a.tags.get(filter.Name.slice(4))));
        if (filter.Name === 'description') found = found.filter((a) => a.description.endsWith(filter.Values[0].slice(1)));
        if (filter.Name === 'state') found = found.filter((a) => filter.Values.includes(a.state));
      }
      if (input.Owners && !input.Owners.includes('self')) found = found.filter((a) => input.Owners.includes(a.owner));
      const tagsOf = (a: Ami) => [...a.tags].map(([Key, Value]) => ({ Key, Value }));
      const imageOf = (a: Ami) => ({
        ImageId: a.id, OwnerId: a.owner, CreationDate: a.created, State: a.state, Description: a.description, Name: a.id, Tags: tagsOf(a),
      });
      return { Images: found.map(imageOf) };
    });
    ec2.on(CreateTagsCommand).callsFake(async (input) => {
      for (const t of input.Tags) amis.get(input.Resources[0])!.tags.set(t.Key, t.Value);
      return {};
    });
    ec2.on(DeleteTagsCommand).callsFake(async (input) => {
      for (const t of input.Tags) amis.get(input.Resources[0])?.tags.delete(t.Key);
      return {};
    });
    ec2.on(DescribeImageAttributeCommand).callsFake(async (input) => ({
      LaunchPermissions: amis.get(input.ImageId)!.sharedWith.map((UserId) => ({ UserId })),
    }));
    ec2.on(DeregisterImageCommand).callsFake(async (input) => { amis.delete(input.ImageId); return { Return: true, DeleteSnapshotResults: [] }; });
    // Image Builder: each image made one AMI here.
    imagebuilder.on(GetImageCommand).callsFake(async (input) => {
      const ami = [...amis.values()].find((a) => a.imageArn === input.imageBuildVersionArn);
      if (!ami) throw Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' });
      return { image: { state: { status: 'AVAILABLE' }, tags: { 'cdk-immutable-deploys:fingerprint': ami.tags.get('cdk-immutable-deploys:fingerprint') }, outputResources: { amis: [{ region: REGION, image: ami.id }] } } };
    });
    // Image Builder's records: one recipe version per fingerprint, one image of each (its AMI may be gone, its record stays until deleted).
    imagebuilder.on(ListImageRecipesCommand).callsFake(async () => ({
      imageRecipeSummaryList: [...new Set([...images.values()].map((i) => i.arn.split('/').slice(0, 3).join('/')))]
        .map((arn) => ({ name: BAKE_NAME, arn: arn.replace(':image/', ':image-recipe/') })),
    }));
    imagebuilder.on(GetImageRecipeCommand).resolves({ imageRecipe: { components: [] } });
    imagebuilder.on(ListImageBuildVersionsCommand).callsFake(async (input) => ({
      imageSummaryList: [...images.values()].filter((i) => i.arn.startsWith(`${input.imageVersionArn}/`))
        .map((i) => ({ arn: i.arn, state: { status: 'AVAILABLE' }, dateCreated: i.created, outputResources: { amis: [{ region: REGION, image: i.ami }] } })),
    }));
    imagebuilder.on(DeleteImageCommand).callsFake(async (input) => { images.delete(input.imageBuildVersionArn); return {}; });
    imagebuilder.on(DeleteImageRecipeCommand).resolves({});
    imagebuilder.on(ListComponentBuildVersionsCommand).resolves({ componentSummaryList: [] });
    // SSM: the stacks' state and the register (one in-memory store: one account's register is all that is written).
    ssm.on(PutParameterCommand).callsFake(async (input) => { parameters.set(input.Name, input.Value); return {}; });
    ssm.on(GetParameterCommand).callsFake(async (input) => {
      if (!parameters.has(input.Name)) throw Object.assign(new Error('nf'), { name: 'ParameterNotFound' });
      return { Parameter: { Value: parameters.get(input.Name) } };
    });
    ssm.on(DeleteParameterCommand).callsFake(async (input) => { parameters.delete(input.Name); return {}; });
    ssm.on(GetParametersByPathCommand).callsFake(async (input) => ({
      Parameters: [...parameters].filter(([n]) => n.startsWith(`${input.Path}/`) && (input.Recursive || !n.slice(input.Path.length + 1).includes('/'))).map(([Name, Value]) => ({ Name, Value })),
    }));
    cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'Bake', StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date(0) }] });
  });
  afterEach(() => jest.restoreAllMocks());

  /** Image Builder made the AMI of fingerprint n in the bake account, shared with production. */
  function bake(n: number): string {
    const id = `ami-0${`${n}`.repeat(16)}`;
    const imageArn = `arn:aws:imagebuilder:${REGION}:${TOOLING}:image/${BAKE_NAME}/1.0.${n}/1`;
    amis.set(id, {
      id,
      owner: TOOLING,
      created: new Date(Date.parse('2026-11-01T00:00:00Z') + n * 86_400_000).toISOString(),
      state: 'available',
      imageArn,
      tags: new Map([['cdk-immutable-deploys:fingerprint', FP(n)], ['cdk-immutable-deploys:bake', BAKE_NAME], ['Ec2ImageBuilderArn', imageArn]]),
      sharedWith: [PROD],
      description: `AMI bake ${BAKE_NAME}, fingerprint ${FP(n)}`,
    });
    images.set(imageArn, { arn: imageArn, ami: id, created: amis.get(id)!.created });
    return id;
  }

  /** A lookup request of a stack, as CloudFormation sends it; returns the answer. */
  async function lookup(
    stackId: string, type: string, kind: string, fingerprint: string, spec: object, logicalId: string, physicalId?: string,
  ): Promise<any> {
    process.env.CID_STATE_PATH = `/cdk-immutable-deploys/${stackId.split('/')[1]}`;
    await handler({
      RequestType: type,
      ResponseURL: `https://response/${++requests}`,
      StackId: stackId,
      RequestId: `r${requests}`,
      LogicalResourceId: logicalId,
      ResourceType: 'Custom::CdkImmutableDeploysLookup',
      PhysicalResourceId: physicalId,
      ResourceProperties: { Kind: kind, Path: `${stackId.split('/')[1]}/Web`, Fingerprint: fingerprint, Spec: spec },
    }, remaining(600_000));
    return answers.at(-1);
  }

  /** A stack's one fleet moves to fingerprint n: the lookup's Update (a new version), then, the update done, the old version's Delete. */
  async function moveTo(stackId: string, n: number, previous: { physicalId: string } | undefined, kind = 'job-result'): Promise<{ physicalId: string; id: string }> {
    const spec = kind === 'job-result' ? { JobKind: 'ami-bake', Key: `WebWait${n}` } : { Owner: TOOLING, SourceRegion: REGION };
    const logicalId = kind === 'job-result' ? 'WebResult' : 'WebImportedArtifactLookup';
    const answer = await lookup(stackId, previous ? 'Update' : 'Create', kind, FP(n), spec, logicalId, previous?.physicalId);
    expect(answer.Status).toBe('SUCCESS');
    if (previous && previous.physicalId !== answer.PhysicalResourceId) await lookup(stackId, 'Delete', kind, FP(n), spec, logicalId, previous.physicalId);
    return { physicalId: answer.PhysicalResourceId, id: answer.Data.Id };
  }

  test('the bake stack moves on more times than retainImages: staging (same account) and production (another account) keep the AMI they run', async () => {
    // GIVEN F1 baked and run by the bake stack, staging and production
    const first = bake(1);
    let bakeStack = await moveTo(BAKE_STACK, 1, undefined);
    const staging = await moveTo(STAGING_STACK, 1, undefined, 'ami-lookup');
    const production = await moveTo(PROD_STACK, 1, undefined, 'ami-lookup');
    expect([bakeStack.id, staging.id, production.id]).toEqual([first, first, first]);
    // production cannot mark another account's AMI: it holds nothing, and tags nothing
    expect([...parameters.keys()].filter((k) => k.startsWith('/cdk-immutable-deploys/_holds/')).map((k) => k.split('/').pop()!.split('.')[0]).sort()).toEqual(['Bake', 'Staging']);

    // WHEN the bake stack moves on four times (retainImages is 3), and the runtime prunes after each bake
    expect(BAKE_NAME).toMatch(/^bake-[0-9a-f]{6}-web/);
    expect(SPEC.RetainImages).toBe('3');
    for (const n of [2, 3, 4, 5]) {
      bake(n);
      bakeStack = await moveTo(BAKE_STACK, n, bakeStack);
      await prune(n);
    }

    // THEN staging's and production's AMI is still there, kept for staging (one keep tag, whoever holds it) and shared with production
    expect(amis.has(first)).toBe(true);
    expect(amis.get(first)!.tags.get('cdk-immutable-deploys:keep')).toBe('true');
    expect([...amis.get(first)!.tags.keys()].filter((k) => k.startsWith('cdk-immutable-deploys:'))).toEqual([
      'cdk-immutable-deploys:fingerprint', 'cdk-immutable-deploys:bake', 'cdk-immutable-deploys:keep', 'cdk-immutable-deploys:kept-by',
    ]);
    // AND F2, which nobody of this account holds, stays only because production's account may launch it: unshared, the next prune deletes it (and its record)
    const second = `ami-0${'2'.repeat(16)}`;
    expect(amis.has(second)).toBe(true);
    amis.get(second)!.sharedWith = [];
    amis.get(first)!.sharedWith = [];
    await prune(5);
    expect(amis.has(second)).toBe(false);
    expect([...images.values()].map((i) => i.ami)).not.toContain(second);
    // (F1 stays: staging holds it, by the register)
    expect(amis.has(first)).toBe(true);
    amis.get(first)!.sharedWith = [PROD];

    // WHEN staging moves on too: only production (another account) runs F1 now, and cannot say so
    await moveTo(STAGING_STACK, 5, staging, 'ami-lookup');
    expect(amis.get(first)!.tags.has('cdk-immutable-deploys:keep')).toBe(false);
    await prune(5);
    // THEN the retention still spares it: production's account may launch it
    expect(amis.has(first)).toBe(true);

    // AND once it is no longer shared, the same retention deletes it (the launch permission, not luck, kept it); the three newest stay
    amis.get(first)!.sharedWith = [];
    await prune(5);
    expect(amis.has(first)).toBe(false);
    expect([...amis.keys()].sort()).toEqual([3, 4, 5].map((n) => `ami-0${`${n}`.repeat(16)}`));
  });

  test('removal policy DESTROY of the bake stack leaves the AMI a stage of its account holds, and one another account may launch; it deletes the rest', async () => {
    const first = bake(1);
    const second = bake(2);
    const third = bake(3);
    amis.get(third)!.sharedWith = [];
    const staging = await moveTo(STAGING_STACK, 1, undefined, 'ami-lookup');
    void staging;
    // WHEN the bake stack is deleted (its jobs resource's Delete, the stack DELETE_IN_PROGRESS)
    process.env.CID_STATE_PATH = '/cdk-immutable-deploys/Bake';
    await handler({
      RequestType: 'Delete',
      ResponseURL: 'https://response/delete',
      StackId: BAKE_STACK,
      RequestId: 'd',
      LogicalResourceId: 'Jobs',
      PhysicalResourceId: 'Bake-Jobs',
      ResourceType: 'Custom::CdkImmutableDeploysJobs',
      ResourceProperties: { Jobs: [{ Key: 'WebWait3', Kind: 'ami-bake', Path: 'Bake/Web', Fingerprint: FP(3), TimeoutSeconds: '3600', Spec: { BakeName: BAKE_NAME, RemovalPolicy: 'destroy', ComponentArns: [] } }] },
    }, remaining(600_000));
    // THEN
    expect(answers.at(-1).Status).toBe('SUCCESS');
    expect(amis.has(first)).toBe(true); // staging holds it
    expect(amis.has(second)).toBe(true); // production's account may launch it
    expect(amis.has(third)).toBe(false);
    const log = (console.log as jest.Mock).mock.calls.map((c) => c.join(' ')).join('\n');
    expect(log).toMatch(new RegExp(`${first} \\(${REGION}\\): 1 other stack\\(s\\) hold it: Staging/Web`));
    expect(log).toMatch(new RegExp(`${second} \\(${REGION}\\): another account may launch it \\(${PROD}\\)`));
  });
});
