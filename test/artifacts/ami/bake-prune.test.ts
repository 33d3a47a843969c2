/**
 * The bake's retention (`retainImages`), which the runtime applies after each bake that succeeded
 * (AMI review #1): the newest bakes of the AmiBake are counted over every version of its recipe (an
 * Image Builder lifecycle policy counts per recipe version, and every fingerprint has its own: it
 * would delete nothing; docs/aws-behaviour.md row 306), by Image Builder's own records.
 */
import { DeregisterImageCommand, DescribeImageAttributeCommand, DescribeImagesCommand, EC2Client, Image as Ec2Image } from '@aws-sdk/client-ec2';
import {
  DeleteImageCommand, DeleteImageRecipeCommand, ImagebuilderClient, ImageSummary, ListImageBuildVersionsCommand, ListImageRecipesCommand,
} from '@aws-sdk/client-imagebuilder';
import { mockClient } from 'aws-sdk-client-mock';
import { amiBake, recipeVersionOf } from '../../../src/artifacts/ami/bake-job';
import type { AmiBakeSpec } from '../../../src/artifacts/ami/types';
import type { Held, Job } from '../../../src/internal/runtime/job';
import { throttlingRetry } from '../../internal/runtime/jobs';

const imagebuilder = mockClient(ImagebuilderClient);
const ec2 = mockClient(EC2Client);

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const NAME = 's-web-1234abcd';
const ARN = `arn:aws:imagebuilder:${REGION}:${ACCOUNT}`;
const FP = 'ab'.repeat(32);
const PARENT = 'ami-0a1b2c3d4e5f67890';
const CURRENT = recipeVersionOf(FP, { ParentImage: PARENT, BlockDevice: { DeviceName: '/dev/xvda', VolumeSize: '', KmsKeyId: '' } });
const NOW = Date.parse('2026-12-10T00:00:00Z');
const DAY = 86_400_000;

const SPEC: AmiBakeSpec = {
  RecipeName: NAME,
  RecipeNameArn: `${ARN}:image-recipe/${NAME}`,
  ImageNameArn: `${ARN}:image/${NAME}`,
  ParentImage: PARENT,
  Components: [],
  ComponentArns: [],
  BlockDevice: { DeviceName: '/dev/xvda', VolumeSize: '', KmsKeyId: '' },
  InfrastructureConfigurationArn: `${ARN}:infrastructure-configuration/${NAME}`,
  DistributionConfigurationArn: `${ARN}:distribution-configuration/${NAME}`,
  TestsEnabled: 'false',
  BakeName: NAME,
  LogGroupName: `/aws/imagebuilder/${NAME}`,
  LogRetentionDays: '90',
  RetainImages: '2',
  KeepLaunchedDays: '14',
};
const job = (spec: Partial<AmiBakeSpec> = {}): Job<AmiBakeSpec> => ({ key: 'WebWait', kind: 'ami-bake', path: 'S/Web', fingerprint: FP, spec: { ...SPEC, ...spec } });

interface Bake {
  version: string;
  status: string;
  created: string;
  amis: Array<{ region: string; image: string; accountId?: string }>;
}
interface Ami {
  tags?: Array<{ Key: string; Value: string }>;
  sharedWith?: string[];
  lastLaunched?: string;
}

/** The bake's images, one per recipe version (each fingerprint its own), and the AMIs EC2 has. */
function world(bakes: Bake[], amis: { [id: string]: Ami }): { calls: Array<[string, string]> } {
  const calls: Array<[string, string]> = [];
  const versions = [...new Set(bakes.map((b) => b.version))];
  imagebuilder.on(ListImageRecipesCommand).resolves({ imageRecipeSummaryList: versions.map((v) => ({ name: NAME, arn: `${ARN}:image-recipe/${NAME}/${v}` })) });
  imagebuilder.on(ListImageBuildVersionsCommand).callsFake(async (input) => ({
    imageSummaryList: bakes.filter((b) => input.imageVersionArn === `${ARN}:image/${NAME}/${b.version}`).map((b): ImageSummary => ({
      arn: `${ARN}:image/${NAME}/${b.version}/1`,
      state: { status: b.status as any },
      dateCreated: b.created,
      outputResources: { amis: b.amis },
    })),
  }));
  imagebuilder.on(DeleteImageCommand).callsFake(async (input) => { calls.push(['DeleteImage', input.imageBuildVersionArn]); return {}; });
  imagebuilder.on(DeleteImageRecipeCommand).callsFake(async (input) => { calls.push(['DeleteImageRecipe', input.imageRecipeArn]); return {}; });
  ec2.on(DescribeImagesCommand).callsFake(async (input) => ({
    Images: (input.ImageIds ?? []).filter((id: string) => amis[id]).map((id: string): Ec2Image => ({
      ImageId: id, State: 'available', Tags: amis[id].tags ?? [], LastLaunchedTime: amis[id].lastLaunched,
    })),
  }));
  ec2.on(DescribeImageAttributeCommand).callsFake(async (input) => ({
    LaunchPermissions: (amis[input.ImageId].sharedWith ?? []).map((UserId) => ({ UserId })),
  }));
  ec2.on(DeregisterImageCommand).callsFake(async (input, getClient) => {
    calls.push(['DeregisterImage', `${await getClient().config.region()}/${input.ImageId}`]);
    delete amis[input.ImageId];
    return { Return: true, DeleteSnapshotResults: [{ SnapshotId: `snap-${input.ImageId.slice(4)}`, ReturnCode: 'success' }] };
  });
  return { calls };
}

const version = (n: number) => `1.0.${n}`;
const at = (n: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + n * DAY).toISOString();
const amiOf = (n: number) => `ami-0${`${n}`.repeat(16)}`;
const baked = (n: number, extra: Partial<Bake> = {}): Bake => ({ version: version(n), status: 'AVAILABLE', created: at(n), amis: [{ region: REGION, image: amiOf(n) }], ...extra });

beforeEach(() => {
  imagebuilder.reset();
  ec2.reset();
  process.env.AWS_REGION = REGION;
});

describe('prune: the bake\'s retention after each bake', () => {
  test('keeps the newest retainImages bakes counted over every recipe version, and every AMI a stack holds, tagged keep, another account may launch, or launched within keepLaunchedWithin; deletes the rest with their snapshots, in every region, then their image records and recipe versions', async () => {
    // GIVEN eight bakes of eight fingerprints (each its own recipe version, one image each), the newest the one just baked
    const bakes = [
      { ...baked(0), status: 'FAILED', amis: [] }, // a failed bake: no AMI, not counted
      baked(1, { amis: [{ region: REGION, image: amiOf(1) }, { region: 'us-east-1', image: 'ami-0copyofone000000' }, { region: 'us-west-2', image: 'ami-0otheraccount0000', accountId: '999999999999' }] }),
      baked(2), baked(3), baked(4), baked(5), baked(6),
      { ...baked(7), version: CURRENT }, // this job's
      { ...baked(8), status: 'BUILDING', amis: [] }, // another bake running: never touched, not counted
    ];
    const amis: { [id: string]: Ami } = {
      [amiOf(1)]: {},
      'ami-0copyofone000000': {},
      [amiOf(2)]: { tags: [{ Key: 'cdk-immutable-deploys:keep', Value: 'true' }, { Key: 'cdk-immutable-deploys:kept-by', Value: 'cdk-immutable-deploys' }] },
      [amiOf(3)]: {},
      [amiOf(4)]: { sharedWith: ['222222222222'] },
      [amiOf(5)]: { lastLaunched: new Date(NOW - 10 * DAY).toISOString() },
      [amiOf(6)]: {},
      [amiOf(7)]: {},
    };
    const { calls } = world(bakes, amis);
    const asked: Held[] = [];
    const holds = { holders: async (a: Held) => { asked.push(a); return a.id === amiOf(3) ? ['Staging/Web (arn:aws:cloudformation:eu-west-1:123456789012:stack/Staging/2)'] : []; } };
    jest.spyOn(Date, 'now').mockReturnValue(NOW);

    // WHEN the runtime prunes after the bake
    const { deleted, left } = await amiBake.prune!(job(), throttlingRetry().retry, holds);

    // THEN the two newest bakes stay (7, this job's, and 6), and every kept AMI is named with why
    expect(Object.keys(amis).sort()).toEqual([amiOf(2), amiOf(3), amiOf(4), amiOf(5), amiOf(6), amiOf(7)].sort());
    expect(left).toEqual([
      `${amiOf(2)} (${REGION}): kept by its cdk-immutable-deploys:keep tag`,
      `${amiOf(3)} (${REGION}): 1 stack(s) hold it: Staging/Web (arn:aws:cloudformation:eu-west-1:123456789012:stack/Staging/2)`,
      `${amiOf(4)} (${REGION}): another account may launch it (222222222222), and a stage there may run it: deregister it by hand once none does`,
      `${amiOf(5)} (${REGION}): an instance was launched from it at ${new Date(NOW - 10 * DAY).toISOString()} (keepLaunchedWithin)`,
    ]);
    // AND bake 1 goes in both regions with its snapshots (never another account's copy), then its image and recipe version; the failed bake's record too
    expect(calls).toEqual([
      ['DeleteImage', `${ARN}:image/${NAME}/${version(0)}/1`],
      ['DeleteImageRecipe', `${ARN}:image-recipe/${NAME}/${version(0)}`],
      ['DeregisterImage', `${REGION}/${amiOf(1)}`],
      ['DeregisterImage', 'us-east-1/ami-0copyofone000000'],
      ['DeleteImage', `${ARN}:image/${NAME}/${version(1)}/1`],
      ['DeleteImageRecipe', `${ARN}:image-recipe/${NAME}/${version(1)}`],
    ]);
    expect(deleted).toEqual(expect.arrayContaining([`AMI ${amiOf(1)} (${REGION})`, `snapshot snap-${amiOf(1).slice(4)} (${REGION})`, 'AMI ami-0copyofone000000 (us-east-1)']));
    // AND an image whose AMI is kept keeps its record (a revert reuses that AMI: no second AMI of the fingerprint), and no kept bake is asked about
    expect(calls.filter(([c, arn]) => c === 'DeleteImage' && /\/1\.0\.[2-8]\//.test(arn))).toEqual([]);
    expect(asked.map((a) => a.id)).not.toContain(amiOf(6));
    expect(asked.map((a) => a.id)).not.toContain(amiOf(7));
  });

  test('a launch older than keepLaunchedWithin (and its day of reporting delay) keeps nothing; a job without RetainImages (an older template) prunes nothing', async () => {
    const amis: { [id: string]: Ami } = { [amiOf(1)]: { lastLaunched: new Date(NOW - 15 * DAY - 1000).toISOString() }, [amiOf(2)]: {} };
    const { calls } = world([baked(1), { ...baked(2), version: CURRENT }], amis);
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    const nobody = { holders: async () => [] };
    expect(await amiBake.prune!(job({ RetainImages: undefined }), throttlingRetry().retry, nobody)).toEqual({ deleted: [], left: [] });
    expect(calls).toEqual([]);
    await amiBake.prune!(job({ RetainImages: '1' }), throttlingRetry().retry, { holders: async () => [] });
    expect(calls.map(([c]) => c)).toEqual(['DeregisterImage', 'DeleteImage', 'DeleteImageRecipe']);
  });

  test('what cannot be deleted is left and named, and the image record of an AMI left stays; the rest goes on', async () => {
    const amis: { [id: string]: Ami } = { [amiOf(1)]: {}, [amiOf(2)]: {}, [amiOf(3)]: {} };
    const { calls } = world([baked(1), baked(2), { ...baked(3), version: CURRENT }], amis);
    ec2.on(DeregisterImageCommand, { ImageId: amiOf(1) }).rejects(Object.assign(new Error('no'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } }));
    const { left } = await amiBake.prune!(job({ RetainImages: '1' }), throttlingRetry().retry, { holders: async () => [] });
    expect(left).toEqual([`AMI ${amiOf(1)} (${REGION}): UnauthorizedOperation: no`]);
    expect(calls).toEqual([
      ['DeregisterImage', `${REGION}/${amiOf(2)}`],
      ['DeleteImage', `${ARN}:image/${NAME}/${version(2)}/1`],
      ['DeleteImageRecipe', `${ARN}:image-recipe/${NAME}/${version(2)}`],
    ]);
  });
});

afterEach(() => jest.restoreAllMocks());
