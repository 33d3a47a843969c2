import { createHash } from 'crypto';
import {
  CloudWatchLogsClient, CreateLogGroupCommand, DeleteLogGroupCommand, DeleteRetentionPolicyCommand, GetLogEventsCommand, PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DeleteSnapshotCommand, DeregisterImageCommand, DescribeImageAttributeCommand, DescribeImagesCommand, EC2Client, Image as Ec2Image, Tag } from '@aws-sdk/client-ec2';
import {
  CancelImageCreationCommand, CreateComponentCommand, CreateImageCommand, CreateImageRecipeCommand, GetImageCommand, Image, Ami,
  ImagebuilderClient, ListImageBuildVersionsCommand, ListWorkflowExecutionsCommand, ListWorkflowStepExecutionsCommand,
  DeleteComponentCommand, DeleteImageCommand, DeleteImageRecipeCommand, GetImageRecipeCommand, ListComponentBuildVersionsCommand,
  ListImageRecipesCommand,
} from '@aws-sdk/client-imagebuilder';
import { CopyObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { amiBake, describeFailure, failedComponent, findReusable, logLocation, recipeVersionOf } from '../../../src/artifacts/ami/bake-job';
import type { AmiBakeSpec } from '../../../src/artifacts/ami/types';
import { jsonBytes } from '../../../src/internal/failure';
import { MAX_SIGNAL_REASON_BYTES } from '../../../src/internal/runtime/http';
import type { DeletedStack, Held, Job } from '../../../src/internal/runtime/job';
import { throttlingRetry } from '../../internal/runtime/jobs';

const imagebuilder = mockClient(ImagebuilderClient);
const ec2 = mockClient(EC2Client);
const logs = mockClient(CloudWatchLogsClient);
const s3 = mockClient(S3Client);

const FP = 'ab'.repeat(32);
/** The components' version (from the fingerprint, at synth time). */
const VERSION = '1.179027883.193031107';
const PARENT = 'ami-0a1b2c3d4e5f67890';
/** The recipe's version of FP on PARENT without a key: sha256("<FP>\n<PARENT>\n"), written out. */
const RECIPE_VERSION = '1.51133583.222984343';
const ARN = 'arn:aws:imagebuilder:eu-west-1:123456789012';
const IMAGES = `${ARN}:image/s-web-1234abcd/${RECIPE_VERSION}`;
const IMAGE = `${IMAGES}/1`;
const AMI = 'ami-0123456789abcdef0';
const OLD_AMI = 'ami-00000000000000old';
const COMPONENT = (n: number) => `${ARN}:component/s-web-1234abcd-abababababababab-s${n}/${VERSION}`;
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1';
/** The deleted stack: nobody else holds anything, unless `held` names it. */
const deletedStack = (held: { [id: string]: string[] } = {}): DeletedStack & { asked: Held[] } => {
  const asked: Held[] = [];
  return { stackId: STACK_ID, asked, holders: async (artifact) => { asked.push(artifact); return held[artifact.id] ?? []; } };
};
const STACK = deletedStack();
const KEEP = { Key: 'cdk-immutable-deploys:keep', Value: 'true' };
const KEPT_BY = { Key: 'cdk-immutable-deploys:kept-by', Value: 'cdk-immutable-deploys' };
const LOG = { group: '/aws/imagebuilder/s-web-1234abcd', stream: `${RECIPE_VERSION}/1` };
const FULL_LOG = `Full log: CloudWatch Logs group ${LOG.group}, stream ${LOG.stream}`;
const ATTEMPT = { id: '0123456789abcdef' };
/** Written out, not read from the module: a state it forgot must fail here. */
const IN_PROGRESS = ['PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING'];

const SPEC: AmiBakeSpec = {
  RecipeName: 's-web-1234abcd',
  RecipeNameArn: `${ARN}:image-recipe/s-web-1234abcd`,
  ImageNameArn: `${ARN}:image/s-web-1234abcd`,
  ParentImage: PARENT,
  Components: [1, 2].map((n) => ({ Name: `s-web-1234abcd-abababababababab-s${n}`, Version: VERSION, Platform: 'Linux', Description: `step ${n}`, Data: `{"n":${n}}` })),
  ComponentArns: [COMPONENT(1), COMPONENT(2), 'arn:aws:imagebuilder:eu-west-1:aws:component/update-linux/x.x.x'],
  BlockDevice: { DeviceName: '/dev/xvda', VolumeSize: '20', KmsKeyId: '' },
  InfrastructureConfigurationArn: `${ARN}:infrastructure-configuration/s-web-1234abcd`,
  DistributionConfigurationArn: `${ARN}:distribution-configuration/s-web-1234abcd`,
  TestsEnabled: 'true',
  BakeName: 's-web-1234abcd',
  LogGroupName: '/aws/imagebuilder/s-web-1234abcd',
  LogRetentionDays: '90',
};

const job = (spec: Partial<AmiBakeSpec> = {}, path = 'S/Web/Bake'): Job<AmiBakeSpec> => ({ key: 'WebBakeWait0123', kind: 'ami-bake', path, fingerprint: FP, spec: { ...SPEC, ...spec } });

/** An SDK error of this name (ThrottlingException is retryable by its name). */
const sdkError = (name: string, status = 400): Error => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
const throttling = () => sdkError('ThrottlingException');

/** An AMI of this account with the fingerprint, made by the Image Builder image `imageArn`. */
const ami = (id: string, created: string, imageArn?: string): Ec2Image => ({ ImageId: id, CreationDate: created, Tags: imageArn ? [{ Key: 'Ec2ImageBuilderArn', Value: imageArn }] : [] });
const NEWEST = ami(AMI, '2024-06-01T00:00:00Z', IMAGE);

/** DescribeImages gives these AMIs. */
const amis = (...images: Ec2Image[]) => ec2.on(DescribeImagesCommand).resolves({ Images: images });

const imageState = (status: string, extra: Partial<Image> = {}): { image: Image } => ({ image: { state: { status: status as any }, ...extra } });

/** An AVAILABLE image with these AMIs, for the image of `fingerprint` (none: untagged). */
function available(outputAmis: Ami[] = [], fingerprint?: string): { image: Image } {
  return imageState('AVAILABLE', { outputResources: { amis: outputAmis }, tags: fingerprint ? { 'cdk-immutable-deploys:fingerprint': fingerprint } : undefined });
}

/** The inputs of every call of a command to a mock. */
const inputs = (mock: any, command: any): any[] => mock.commandCalls(command).map((c: any) => c.args[0].input);

/** ListImageBuildVersions gives images of these build numbers and states. */
function builds(...states: Array<[number, string]>): { imageSummaryList: any[] } {
  return { imageSummaryList: states.map(([n, status]) => ({ arn: `${IMAGES}/${n}`, state: { status } })) };
}

/** Only ended images of this recipe version; components, recipe and image are created. */
function nothingRunning(): void {
  imagebuilder.on(ListImageBuildVersionsCommand).resolves(builds([1, 'FAILED'], [2, 'AVAILABLE']));
  imagebuilder.on(CreateComponentCommand).resolves({});
  imagebuilder.on(CreateImageRecipeCommand).resolves({});
  imagebuilder.on(CreateImageCommand).resolves({ imageBuildVersionArn: `${IMAGES}/3` });
}

/** A FAILED or CANCELLED image with no workflow, and this build log (or this error reading it). */
function ended(status: string, reason: string, log: string[] | Error): void {
  imagebuilder.on(GetImageCommand).resolves(imageState(status, { state: { status: status as any, reason } }));
  imagebuilder.on(ListWorkflowExecutionsCommand).resolves({ workflowExecutions: [] });
  if (log instanceof Error) logs.on(GetLogEventsCommand).rejects(log);
  else logs.on(GetLogEventsCommand).resolves({ events: log.map((message) => ({ message })) });
}

/** The reason of a check that must fail. */
async function failureOf(): Promise<string> {
  const outcome = await amiBake.check(job(), IMAGE);
  if (outcome.state !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.reason;
}

beforeEach(() => {
  [imagebuilder, ec2, logs, s3].forEach((mock) => mock.reset());
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  // Jest gives each test file a copy of process.env.
  process.env.AWS_REGION = 'eu-west-1';
});

describe('find', () => {
  test('reuses the newest AMI with this fingerprint whose image is AVAILABLE and was created for it', async () => {
    // GIVEN: two AMIs with the fingerprint, listed oldest first
    amis(ami(OLD_AMI, '2024-01-01T00:00:00Z', `${IMAGES}/0`), NEWEST);
    imagebuilder.on(GetImageCommand).resolves(available([{ region: 'eu-west-1', image: AMI }], FP));
    // WHEN
    const found = await findReusable(FP);
    // THEN
    expect(found).toMatchObject({ amiId: AMI, imageArn: IMAGE });
    expect(inputs(ec2, DescribeImagesCommand)[0]).toMatchObject({
      Owners: ['self'],
      Filters: [{ Name: 'tag:cdk-immutable-deploys:fingerprint', Values: [FP] }, { Name: 'state', Values: ['available'] }],
    });
    expect(inputs(imagebuilder, GetImageCommand)).toEqual([{ imageBuildVersionArn: IMAGE }]);
  });

  test('skips an AMI whose image was created for another fingerprint (the shared distribution tagged it)', async () => {
    // GIVEN: the newest AMI's image carries another fingerprint, an older one this fingerprint
    amis(ami(OLD_AMI, '2024-01-01T00:00:00Z', `${IMAGES}/0`), NEWEST);
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: IMAGE }).resolves(available([], 'cd'.repeat(32)));
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: `${IMAGES}/0` }).resolves(available([{ region: 'eu-west-1', image: OLD_AMI }], FP));
    // WHEN / THEN
    expect(await amiBake.find(job())).toBe(OLD_AMI);
  });

  test('a tag proves nothing: an AMI that Image Builder does not record as its image\'s output, whose image record is gone, or that names no image is not reused (anyone who may tag an AMI can set the tags)', async () => {
    // GIVEN AMIs tagged with the fingerprint: one pointing at a real image that made another AMI, one at a gone record, one at none
    amis(NEWEST, ami(OLD_AMI, '2024-01-01T00:00:00Z', `${IMAGES}/0`), ami('ami-0000000000000old2', '2023-01-01T00:00:00Z'));
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: IMAGE }).resolves(available([{ region: 'eu-west-1', image: 'ami-0ffffffffffffffff' }], FP));
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: `${IMAGES}/0` }).rejects(sdkError('ResourceNotFoundException'));
    // WHEN / THEN
    await expect(findReusable(FP)).resolves.toBeUndefined();
    const log = (console.log as jest.Mock).mock.calls.map((c) => c.join(' ')).join('\n');
    expect(log).toContain(`${AMI} has the fingerprint tag, but ${IMAGE} did not make it: not reused.`);
    expect(log).toContain(`${OLD_AMI} has the fingerprint, but ${IMAGES}/0 cannot be read (ResourceNotFoundException): not reused.`);
    expect(log).toContain('ami-0000000000000old2 has the fingerprint tag, but no Image Builder image: not reused.');
  });

  test.each([
    ['is not AVAILABLE', () => imagebuilder.on(GetImageCommand).resolves(imageState('DISTRIBUTING'))],
    ['cannot be read (AccessDeniedException)', () => imagebuilder.on(GetImageCommand).rejects(sdkError('AccessDeniedException', 403))],
    ['cannot be read (ForbiddenException)', () => imagebuilder.on(GetImageCommand).rejects(sdkError('ForbiddenException', 403))],
  ])('an AMI whose image %s is not reused, and that is no failure', async (_why, getImage) => {
    // GIVEN
    amis(NEWEST);
    getImage();
    // WHEN / THEN
    await expect(amiBake.find(job())).resolves.toBeUndefined();
  });

  test.each([
    ['throttling of DescribeImages', () => ec2.on(DescribeImagesCommand).rejects(throttling()), /ThrottlingException/],
    ['throttling of GetImage', () => imagebuilder.on(GetImageCommand).rejects(throttling()), /ThrottlingException/],
    ['another error reading the image', () => imagebuilder.on(GetImageCommand).rejects(sdkError('InvalidParameterValueException')), /InvalidParameterValue/],
  ])('%s propagates (the runtime retries or fails the job)', async (_what, breakIt, error) => {
    // GIVEN
    amis(NEWEST);
    breakIt();
    // WHEN / THEN
    await expect(amiBake.find(job())).rejects.toThrow(error);
  });

  test('reads every page of DescribeImages', async () => {
    // GIVEN: the reusable AMI is on the second page
    ec2.on(DescribeImagesCommand).resolvesOnce({ Images: [], NextToken: 'page-2' }).resolves({ Images: [NEWEST] });
    imagebuilder.on(GetImageCommand).resolves(available([{ region: 'eu-west-1', image: AMI }], FP));
    // WHEN
    const found = await amiBake.find(job());
    // THEN
    expect(found).toBe(AMI);
    expect(inputs(ec2, DescribeImagesCommand).map((i) => i.NextToken)).toEqual([undefined, 'page-2']);
  });

  test('no AMI with the fingerprint: nothing to reuse', async () => {
    // GIVEN
    amis();
    // WHEN / THEN
    expect(await amiBake.find(job())).toBeUndefined();
  });
});

describe('start', () => {
  test.each(IN_PROGRESS)('attaches to an image of this recipe version that is %s instead of creating one', async (status) => {
    // GIVEN
    imagebuilder.on(ListImageBuildVersionsCommand, { imageVersionArn: IMAGES }).resolves(builds([1, 'FAILED'], [2, status]));
    // WHEN
    const started = await amiBake.start(job(), ATTEMPT);
    // THEN
    expect(started).toEqual({ state: 'started', ref: `${IMAGES}/2` });
    expect(imagebuilder.commandCalls(CreateComponentCommand)).toHaveLength(0);
    expect(imagebuilder.commandCalls(CreateImageCommand)).toHaveLength(0);
  });

  test('a full quota of concurrent images is throttled, not failed: the runtime starts it later (docs/aws-behaviour.md #26)', async () => {
    // GIVEN
    nothingRunning();
    imagebuilder.on(CreateImageCommand).rejects(Object.assign(new Error('You have exceeded the number of permitted resources'), { name: 'ServiceQuotaExceededException' }));
    // WHEN
    const started = await amiBake.start(job(), ATTEMPT);
    // THEN
    expect(started).toEqual({ state: 'throttled', reason: expect.stringMatching(/ServiceQuotaExceededException.*Service Quotas/) });
  });

  test('reads every page of the recipe version\'s images', async () => {
    // GIVEN: the running image is on the second page
    imagebuilder.on(ListImageBuildVersionsCommand).resolvesOnce({ ...builds(), nextToken: 'page-2' }).resolves(builds([2, 'BUILDING']));
    // WHEN / THEN
    expect(await amiBake.start(job(), ATTEMPT)).toEqual({ state: 'started', ref: `${IMAGES}/2` });
    expect(inputs(imagebuilder, ListImageBuildVersionsCommand).map((i) => i.nextToken)).toEqual([undefined, 'page-2']);
  });

  test('creates the components, then the recipe, then exactly one image, and gives its ARN', async () => {
    // GIVEN
    nothingRunning();
    // WHEN
    const started = await amiBake.start(job(), ATTEMPT);
    // THEN
    expect(started).toEqual({ state: 'started', ref: `${IMAGES}/3` });
    expect(inputs(imagebuilder, CreateComponentCommand)).toEqual(SPEC.Components.map((c) => expect.objectContaining({
      name: c.Name, semanticVersion: VERSION, platform: 'Linux', description: c.Description, data: c.Data,
    })));
    expect(inputs(imagebuilder, CreateImageRecipeCommand)).toEqual([expect.objectContaining({
      name: SPEC.RecipeName,
      semanticVersion: RECIPE_VERSION,
      parentImage: SPEC.ParentImage,
      components: SPEC.ComponentArns.map((componentArn) => ({ componentArn })),
    })]);
    expect(inputs(imagebuilder, CreateImageCommand)).toHaveLength(1);
  });

  test('a recipe version never created (ResourceNotFoundException on the listing) is created', async () => {
    // GIVEN
    nothingRunning();
    imagebuilder.on(ListImageBuildVersionsCommand).rejects(sdkError('ResourceNotFoundException'));
    // WHEN / THEN
    expect(await amiBake.start(job(), ATTEMPT)).toEqual({ state: 'started', ref: `${IMAGES}/3` });
  });

  test('components and a recipe that already exist (ResourceAlreadyExistsException) are done', async () => {
    // GIVEN: an earlier attempt created them
    nothingRunning();
    imagebuilder.on(CreateComponentCommand).rejects(sdkError('ResourceAlreadyExistsException'));
    imagebuilder.on(CreateImageRecipeCommand).rejects(sdkError('ResourceAlreadyExistsException'));
    // WHEN / THEN
    expect(await amiBake.start(job(), ATTEMPT)).toEqual({ state: 'started', ref: `${IMAGES}/3` });
    expect(imagebuilder.commandCalls(CreateComponentCommand)).toHaveLength(2);
  });

  test.each([
    ['another error creating a component', CreateComponentCommand, sdkError('InvalidParameterValueException'), 0],
    ['throttling of CreateImage', CreateImageCommand, throttling(), 1],
  ])('%s propagates', async (_what, command: any, error, images) => {
    // GIVEN
    nothingRunning();
    imagebuilder.on(command).rejects(error);
    // WHEN / THEN
    await expect(amiBake.start(job(), ATTEMPT)).rejects.toThrow(error.message);
    expect(imagebuilder.commandCalls(CreateImageCommand)).toHaveLength(images);
  });

  test.each([
    ['the size, and the default key', { DeviceName: '/dev/xvda', VolumeSize: '20', KmsKeyId: '' }, { volumeSize: 20 }],
    ['the key, and the snapshot\'s size', { DeviceName: '/dev/sda1', VolumeSize: '', KmsKeyId: 'alias/bakes' }, { kmsKeyId: 'alias/bakes' }],
  ])('the recipe\'s block device is encrypted gp3 with %s', async (_what, device, ebs) => {
    // GIVEN
    nothingRunning();
    // WHEN
    await amiBake.start(job({ BlockDevice: device }), ATTEMPT);
    // THEN
    expect(inputs(imagebuilder, CreateImageRecipeCommand)[0].blockDeviceMappings).toEqual([
      { deviceName: device.DeviceName, ebs: { encrypted: true, deleteOnTermination: true, volumeType: 'gp3', ...ebs } },
    ]);
  });

  test.each([
    ['enabled', { TestsEnabled: 'true' }, { imageTestsEnabled: true }],
    ['disabled', { TestsEnabled: 'false' }, { imageTestsEnabled: false }],
  ])('the image has the recipe, infrastructure, distribution, tests %s (no test timeout: Image Builder ignores it), and the tags', async (_tests, spec, tests) => {
    // GIVEN
    nothingRunning();
    // WHEN
    await amiBake.start(job(spec), ATTEMPT);
    // THEN
    expect(inputs(imagebuilder, CreateImageCommand)[0].imageTestsConfiguration).toEqual(tests);
    expect(inputs(imagebuilder, CreateImageCommand)[0]).toMatchObject({
      imageRecipeArn: `${SPEC.RecipeNameArn}/${RECIPE_VERSION}`,
      infrastructureConfigurationArn: SPEC.InfrastructureConfigurationArn,
      distributionConfigurationArn: SPEC.DistributionConfigurationArn,
      imageTestsConfiguration: tests,
      enhancedImageMetadataEnabled: true,
      tags: { 'cdk-immutable-deploys:fingerprint': FP, 'cdk-immutable-deploys:bake': SPEC.BakeName },
    });
  });

  test('client tokens: the same on a replay of the attempt, different between attempts and between components', async () => {
    // GIVEN
    nothingRunning();
    // WHEN: an attempt, its replay, and another attempt
    for (const id of [ATTEMPT.id, ATTEMPT.id, 'fedcba9876543210']) await amiBake.start(job(), { id });
    // THEN
    const [first, replay, next] = inputs(imagebuilder, CreateImageCommand).map((i) => i.clientToken);
    expect(first).toMatch(/^[0-9a-f]{36}$/);
    expect(replay).toBe(first);
    expect(next).not.toBe(first);
    const [component1, component2] = inputs(imagebuilder, CreateComponentCommand).map((i) => i.clientToken);
    expect(component1).toMatch(/^[0-9a-f]{36}$/);
    expect(component2).not.toBe(component1);
  });

  test('a replayed attempt finds the image it started and creates no second one', async () => {
    // GIVEN: the first call started an image, which is now building
    nothingRunning();
    imagebuilder.on(ListImageBuildVersionsCommand).resolvesOnce(builds()).resolves(builds([3, 'BUILDING']));
    await amiBake.start(job(), ATTEMPT);
    // WHEN
    const replay = await amiBake.start(job(), ATTEMPT);
    // THEN
    expect(replay).toEqual({ state: 'started', ref: `${IMAGES}/3` });
    expect(imagebuilder.commandCalls(CreateImageCommand)).toHaveLength(1);
  });

  test('CreateImage without an image ARN is an error that names the bake', async () => {
    // GIVEN
    nothingRunning();
    imagebuilder.on(CreateImageCommand).resolves({});
    // WHEN / THEN
    await expect(amiBake.start(job(), ATTEMPT)).rejects.toThrow('S/Web/Bake: CreateImage returned no image ARN');
  });
});

describe('check', () => {
  test.each(IN_PROGRESS)('an image that is %s is pending', async (status) => {
    // GIVEN
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: IMAGE }).resolves(imageState(status));
    // WHEN / THEN
    expect(await amiBake.check(job(), IMAGE)).toEqual({ state: 'pending', detail: `${IMAGE} is ${status}` });
  });

  test.each([
    ['the AMI of this region', [{ region: 'us-east-1', image: 'ami-0000000000000aaaa' }, { region: 'eu-west-1', image: AMI }], AMI],
  ])('AVAILABLE succeeds with %s', async (_which, outputAmis, expected) => {
    // GIVEN
    imagebuilder.on(GetImageCommand).resolves(available(outputAmis));
    // WHEN / THEN
    expect(await amiBake.check(job(), IMAGE)).toEqual({ state: 'succeeded', data: expected, summary: `Baked ${expected} (${IMAGE})` });
  });

  test.each([
    ['AMIs in other regions', [{ region: 'us-east-1', image: 'ami-0000000000000aaaa' }, { region: 'us-west-2', image: 'ami-0000000000000bbbb' }],
      'us-east-1: ami-0000000000000aaaa, us-west-2: ami-0000000000000bbbb'],
    ['no AMI', [], 'none'],
    // A copy in another region does not launch here, even when it is the only AMI.
    ['its only AMI in another region', [{ region: 'us-east-1', image: 'ami-0000000000000aaaa' }], 'us-east-1: ami-0000000000000aaaa'],
  ])('AVAILABLE with %s fails, naming the AMIs there are', async (_which, outputAmis, named) => {
    // GIVEN
    imagebuilder.on(GetImageCommand).resolves(available(outputAmis));
    // WHEN / THEN
    expect(await failureOf()).toBe(`S/Web/Bake: AMI bake ${IMAGE} is AVAILABLE but has no AMI in eu-west-1.\nAMIs: ${named}`);
  });

  test('FAILED: the reason, the failed step and component, the log tail and where the full log is', async () => {
    // GIVEN
    const document = `${COMPONENT(1)}/1`;
    imagebuilder.on(GetImageCommand).resolves(imageState('FAILED', { state: { status: 'FAILED', reason: 'Image build failed: step ExecuteBash failed' } }));
    imagebuilder.on(ListWorkflowExecutionsCommand, { imageBuildVersionArn: IMAGE }).resolves({
      workflowExecutions: [{ workflowExecutionId: 'wf-1', status: 'FAILED', type: 'BUILD' }, { workflowExecutionId: 'wf-2', status: 'COMPLETED', type: 'TEST' }],
    });
    imagebuilder.on(ListWorkflowStepExecutionsCommand, { workflowExecutionId: 'wf-1' }).resolves({
      steps: [{ name: 'LaunchBuildInstance', action: 'LaunchInstance', status: 'COMPLETED' }, { name: 'ApplyBuildComponents', action: 'ExecuteComponents', status: 'FAILED', message: `Document ${document} failed!` }],
    });
    logs.on(GetLogEventsCommand, { logGroupName: LOG.group, logStreamName: LOG.stream }).resolves({
      events: [{ message: 'Phase build' }, { message: 'Step Run: dnf install -y nginxx' }, { message: '\u001b[31mError: Unable to find a match: nginxx\u001b[0m' }],
    });
    // WHEN / THEN
    expect(await failureOf()).toBe([
      `S/Web/Bake: AMI bake FAILED: ${IMAGE}`,
      'Reason: Image build failed: step ExecuteBash failed',
      `Failed step: BUILD step ApplyBuildComponents (ExecuteComponents): Document ${document} failed!`,
      'Failed component: s-web-1234abcd-abababababababab-s1',
      'Log tail: Phase build\nStep Run: dnf install -y nginxx\nError: Unable to find a match: nginxx',
      FULL_LOG,
    ].join('\n'));
    expect(imagebuilder.commandCalls(ListWorkflowStepExecutionsCommand)).toHaveLength(1);
  });

  test('a failed workflow without a failed step gives the workflow\'s message', async () => {
    // GIVEN
    ended('FAILED', 'Workflow failed', ['Phase build']);
    imagebuilder.on(ListWorkflowExecutionsCommand).resolves({ workflowExecutions: [{ workflowExecutionId: 'wf-1', status: 'FAILED', type: 'TEST', message: 'Test instance timed out' }] });
    imagebuilder.on(ListWorkflowStepExecutionsCommand).resolves({ steps: [] });
    // WHEN / THEN
    expect(await failureOf()).toContain('\nFailed step: TEST: Test instance timed out\n');
  });

  test('CANCELLED with a missing log stream: the state\'s reason and a note, not an error', async () => {
    // GIVEN
    ended('CANCELLED', 'Image creation cancelled by CancelImageCreation', sdkError('ResourceNotFoundException'));
    // WHEN / THEN
    expect(await failureOf()).toBe([
      `S/Web/Bake: AMI bake CANCELLED: ${IMAGE}`,
      'Reason: Image creation cancelled by CancelImageCreation',
      'Log tail: (no build log: the instance never started logging)',
      FULL_LOG,
    ].join('\n'));
  });

  test('a workflow or log that cannot be read gives a note in the reason', async () => {
    // GIVEN
    ended('FAILED', 'boom', sdkError('AccessDeniedException', 403));
    imagebuilder.on(ListWorkflowExecutionsCommand).rejects(sdkError('AccessDeniedException', 403));
    // WHEN
    const reason = await failureOf();
    // THEN
    expect(reason).toContain('\nFailed step: (could not read the workflow: AccessDeniedException: AccessDeniedException happened)\n');
    expect(reason).toContain('\nLog tail: (could not read the log: AccessDeniedException: AccessDeniedException happened)\n');
  });

  test('a huge reason and log stay within the signal bound once JSON-encoded, printable, and end with the log', async () => {
    // GIVEN: 100 KB of reason and log, full of characters that JSON doubles
    ended('FAILED', `boom\u0000 "${'r\\'.repeat(50_000)}"`, Array.from({ length: 100 }, (_, i) => `${'"\t\\'.repeat(300)} line ${i}\u0007`));
    // WHEN
    const reason = await failureOf();
    // THEN
    expect(jsonBytes(reason)).toBeLessThanOrEqual(MAX_SIGNAL_REASON_BYTES);
    expect(reason).not.toMatch(/[\u0000\u0007]/);
    expect(reason).toMatch(/^S\/Web\/Bake: AMI bake FAILED: /);
    expect(reason).toContain('line 99');
    expect(reason.endsWith(FULL_LOG)).toBe(true);
  });

  test.each(['DEPRECATED', 'DISABLED', 'DELETED'])('an image that is %s (states ImageState lists beside the build\'s own) ends the attempt as failed, never pending', async (status) => {
    // GIVEN
    imagebuilder.on(GetImageCommand).resolves(imageState(status, { state: { status: status as any, reason: `image is ${status}` } }));
    imagebuilder.on(ListWorkflowExecutionsCommand).resolves({ workflowExecutions: [] });
    logs.on(GetLogEventsCommand).resolves({ events: [] });
    // WHEN / THEN
    expect(await failureOf()).toMatch(new RegExp(`^S/Web/Bake: AMI bake ${status}: `));
    // and no AMI of such an image is reused
    amis(NEWEST);
    expect(await findReusable(FP)).toBeUndefined();
  });

  test('an image that is gone (ResourceNotFoundException) fails', async () => {
    // GIVEN
    imagebuilder.on(GetImageCommand).rejects(sdkError('ResourceNotFoundException'));
    // WHEN / THEN
    expect(await failureOf()).toBe(`S/Web/Bake: the Image Builder image ${IMAGE} no longer exists.`);
  });

  test.each([
    ['GetImage', () => imagebuilder.on(GetImageCommand).rejects(throttling())],
    ['ListWorkflowExecutions', () => imagebuilder.on(ListWorkflowExecutionsCommand).rejects(throttling())],
    ['GetLogEvents', () => logs.on(GetLogEventsCommand).rejects(throttling())],
  ])('throttling of %s propagates (the runtime retries), never a failure', async (_call, throttle) => {
    // GIVEN: a failed image, and a throttled call
    ended('FAILED', 'boom', ['Phase build']);
    throttle();
    // WHEN / THEN
    await expect(amiBake.check(job(), IMAGE)).rejects.toThrow(/ThrottlingException/);
  });
});

describe('cancel', () => {
  test('cancels the image with a client token of its own', async () => {
    // GIVEN
    imagebuilder.on(CancelImageCreationCommand).resolves({});
    // WHEN
    await amiBake.cancel(job(), IMAGE);
    // THEN
    expect(inputs(imagebuilder, CancelImageCreationCommand)).toEqual([{ imageBuildVersionArn: IMAGE, clientToken: expect.stringMatching(/^[0-9a-f]{36}$/) }]);
  });

  test.each(['ResourceNotFoundException', 'InvalidRequestException', 'AccessDeniedException'])('an image that cannot be cancelled (%s) is left alone', async (name) => {
    // GIVEN
    imagebuilder.on(CancelImageCreationCommand).rejects(sdkError(name));
    // WHEN / THEN
    await expect(amiBake.cancel(job(), IMAGE)).resolves.toBeUndefined();
    expect(imagebuilder.commandCalls(CancelImageCreationCommand)).toHaveLength(1);
  });

  test('throttling propagates (the runtime retries)', async () => {
    // GIVEN
    imagebuilder.on(CancelImageCreationCommand).rejects(throttling());
    // WHEN / THEN
    await expect(amiBake.cancel(job(), IMAGE)).rejects.toThrow(/ThrottlingException/);
  });
});

describe('readBack (the bake\'s result, once its wait completed)', () => {
  const COPY = 'ami-0fedcba9876543210';

  test('the AMI of the fingerprint in this region, and the copies Image Builder made of it in the regions the bake copies to, as what the stack holds', async () => {
    amis(NEWEST);
    imagebuilder.on(GetImageCommand).resolves(available([
      { region: 'eu-west-1', image: AMI },
      { region: 'us-east-1', image: COPY },
      { region: 'ap-south-1', image: 'ami-0aaaaaaaaaaaaaaaa' }, // a region the bake no longer copies to: not tagged (no grant there)
      { region: 'us-east-1', image: 'ami-0bbbbbbbbbbbbbbbb', accountId: '210987654321' }, // a copy in another account: not this account's to mark
    ], FP));
    const found = await amiBake.readBack!({ key: 'WaitX', kind: 'ami-bake', path: 'S/Web/Bake', fingerprint: FP, spec: { CopyRegions: 'us-east-1,eu-west-1' } as any });
    expect(found).toEqual({
      data: AMI,
      summary: `S/Web/Bake: fingerprint ${FP.slice(0, 16)} is ${AMI} (${IMAGE})`,
      held: [{ kind: 'ami', region: 'eu-west-1', id: AMI }, { kind: 'ami', region: 'us-east-1', id: COPY }],
    });
  });

  test('nothing of the fingerprint: nothing read back (the runtime says why)', async () => {
    amis();
    await expect(amiBake.readBack!({ key: 'WaitX', kind: 'ami-bake', path: 'S/Web/Bake', fingerprint: FP, spec: {} as any })).resolves.toBeUndefined();
  });
});

describe('helpers', () => {
  test('logLocation: the log group and stream of an image build, none for another ARN', () => {
    // GIVEN / WHEN / THEN
    expect(logLocation(IMAGE)).toEqual(LOG);
    expect(logLocation(`${SPEC.RecipeNameArn}/${RECIPE_VERSION}`)).toBeUndefined();
  });

  test('failedComponent: the last component named near a failure, else the last one named', () => {
    // GIVEN
    const ran = `ran ${COMPONENT(1)}/1`;
    // WHEN / THEN
    expect(failedComponent([ran, `${COMPONENT(2)}/1 failed`, `${COMPONENT(1)}/1 ok`])).toBe('s-web-1234abcd-abababababababab-s2');
    expect(failedComponent([`${COMPONENT(2)}/1 ok\n${ran}`])).toBe('s-web-1234abcd-abababababababab-s1');
    expect(failedComponent(['nothing here'])).toBeUndefined();
  });

  test('describeFailure: an image ARN without a log location reads no log and names none', async () => {
    // GIVEN
    imagebuilder.on(ListWorkflowExecutionsCommand).resolves({ workflowExecutions: [] });
    // WHEN
    const reason = await describeFailure('S/Web/Bake', 'not-an-image-arn', { state: { status: 'FAILED', reason: 'boom' } });
    // THEN
    expect(reason).toBe('S/Web/Bake: AMI bake FAILED: not-an-image-arn\nReason: boom');
    expect(logs.commandCalls(GetLogEventsCommand)).toHaveLength(0);
  });
});

describe('destroy (removal policy DESTROY, on the stack\'s deletion)', () => {
  const COPY = 'ami-0fedcba9876543210';
  const RECIPES = `${ARN}:image-recipe/s-web-1234abcd`;
  const OLD_VERSION = '1.1.1';
  let { retry, retried: retries } = throttlingRetry();
  const bakeAmi = (id: string, snapshot: string, tags: Tag[] = []): Ec2Image => ({
    ImageId: id,
    Tags: [{ Key: 'cdk-immutable-deploys:bake', Value: 's-web-1234abcd' }, ...tags],
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshot } }, { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }],
  });

  /** EC2 of several regions: each AMI answered by its id, launch permissions by AMI; every call recorded with its region. */
  function world(regions: { [region: string]: Ec2Image[] }, shared: { [id: string]: string[] } = {}) {
    const calls: Array<{ region: string; command: string; input: any }> = [];
    const record = (command: string, answer: (input: any, region: string) => any) => async (input: any, getClient: () => any) => {
      const region = await getClient().config.region();
      calls.push({ region, command, input });
      return answer(input, region);
    };
    ec2.on(DescribeImagesCommand).callsFake(record('DescribeImages', (input, region) => ({ Images: (regions[region] ?? []).filter((i) => input.ImageIds.includes(i.ImageId)) })));
    ec2.on(DescribeImageAttributeCommand).callsFake(record('DescribeImageAttribute', (input) => ({ ImageId: input.ImageId, LaunchPermissions: (shared[input.ImageId] ?? []).map((UserId) => ({ UserId })) })));
    // With DeleteAssociatedSnapshots, EC2 deletes the AMI's snapshots and answers with a result for each.
    ec2.on(DeregisterImageCommand).callsFake(record('DeregisterImage', (input, region) => {
      const image = (regions[region] ?? []).find((i) => i.ImageId === input.ImageId);
      const snapshots = (image?.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId);
      return { Return: true, DeleteSnapshotResults: input.DeleteAssociatedSnapshots ? snapshots.map((id) => ({ SnapshotId: id, ReturnCode: 'success' })) : [] };
    }));
    ec2.on(DeleteSnapshotCommand).callsFake(record('DeleteSnapshot', () => ({})));
    return calls;
  }

  /**
   * Two recipe versions over two pages, each with one image build and the bake's own components; the
   * images' outputs are what Image Builder records (by version: the old one made OLD_AMI, the current one AMI and its copy).
   */
  function builder(outputs: { [version: string]: Ami[] } = {}): void {
    imagebuilder.on(ListImageRecipesCommand, { nextToken: undefined }).resolves({ imageRecipeSummaryList: [{ name: 's-web-1234abcd', arn: `${RECIPES}/${OLD_VERSION}` }], nextToken: 'p2' });
    imagebuilder.on(ListImageRecipesCommand, { nextToken: 'p2' }).resolves({ imageRecipeSummaryList: [{ name: 's-web-1234abcd', arn: `${RECIPES}/${RECIPE_VERSION}` }, { name: 's-web-1234abcd-other', arn: `${RECIPES}-other/1.0.0` }] });
    imagebuilder.on(GetImageRecipeCommand, { imageRecipeArn: `${RECIPES}/${OLD_VERSION}` }).resolves({
      imageRecipe: {
        components: [
          { componentArn: `${ARN}:component/s-web-1234abcd-0000000000000000-s1/${OLD_VERSION}` },
          { componentArn: 'arn:aws:imagebuilder:eu-west-1:aws:component/update-linux/x.x.x' },
        ],
      },
    });
    imagebuilder.on(GetImageRecipeCommand, { imageRecipeArn: `${RECIPES}/${RECIPE_VERSION}` }).rejects(sdkError('ResourceNotFoundException'));
    imagebuilder.on(ListImageBuildVersionsCommand).callsFake(async (input) => {
      const version = input.imageVersionArn.split('/').pop();
      return { imageSummaryList: [{ arn: `${input.imageVersionArn}/1`, state: { status: 'AVAILABLE' }, outputResources: { amis: outputs[version] ?? [] } }] };
    });
    imagebuilder.on(ListComponentBuildVersionsCommand).callsFake(async (input) => ({ componentSummaryList: [{ arn: `${input.componentVersionArn}/1` }] }));
    imagebuilder.on(DeleteImageCommand).resolves({});
    imagebuilder.on(DeleteImageRecipeCommand).resolves({});
    imagebuilder.on(DeleteComponentCommand).resolves({});
  }
  const OUTPUTS = {
    [OLD_VERSION]: [{ region: 'eu-west-1', image: OLD_AMI }],
    [RECIPE_VERSION]: [{ region: 'eu-west-1', image: AMI }, { region: 'us-east-1', image: COPY }, { region: 'us-east-1', image: 'ami-0cccccccccccccccc', accountId: '210987654321' }],
  };

  beforeEach(() => {
    ({ retry, retried: retries } = throttlingRetry());
  });

  test('deletes every AMI Image Builder records as an output of the bake\'s images, in every region, each with its EBS snapshots (never a copy of another account)', async () => {
    const calls = world({ 'eu-west-1': [bakeAmi(AMI, 'snap-1'), bakeAmi(OLD_AMI, 'snap-0')], 'us-east-1': [bakeAmi(COPY, 'snap-c')] });
    builder(OUTPUTS);
    const stack = deletedStack();
    const result = await amiBake.destroy!(job({ CopyRegions: ['us-east-1'] }), retry, stack);
    // Never a search by tag: each AMI is described by its id, where Image Builder put it
    expect(calls.filter((c) => c.command === 'DescribeImages').map((c) => [c.region, c.input])).toEqual([
      ['eu-west-1', { ImageIds: [OLD_AMI] }], ['eu-west-1', { ImageIds: [AMI] }], ['us-east-1', { ImageIds: [COPY] }],
    ]);
    expect(stack.asked.map((a) => a.id)).toEqual([OLD_AMI, AMI, COPY]);
    // Each AMI is deregistered with its snapshots in one call: no DeleteSnapshot races the deregistration.
    expect(calls.filter((c) => c.command === 'DeregisterImage').map((c) => [c.region, c.input.ImageId, c.input.DeleteAssociatedSnapshots])).toEqual([
      ['eu-west-1', OLD_AMI, true],
      ['eu-west-1', AMI, true],
      ['us-east-1', COPY, true],
    ]);
    expect(result.deleted.slice(0, 6)).toEqual([
      `AMI ${OLD_AMI} (eu-west-1)`, 'snapshot snap-0 (eu-west-1)',
      `AMI ${AMI} (eu-west-1)`, 'snapshot snap-1 (eu-west-1)',
      `AMI ${COPY} (us-east-1)`, 'snapshot snap-c (us-east-1)',
    ]);
    expect(result.left).toEqual([]);
  });

  test('an AMI tagged with the bake\'s name that the bake did not make is never touched (review #11)', async () => {
    const stranger = bakeAmi('ami-0dddddddddddddddd', 'snap-x');
    const calls = world({ 'eu-west-1': [stranger, bakeAmi(AMI, 'snap-1')] });
    builder({ [RECIPE_VERSION]: [{ region: 'eu-west-1', image: AMI }] });
    await amiBake.destroy!(job(), retry, STACK);
    expect(calls.filter((c) => c.command === 'DeregisterImage').map((c) => c.input.ImageId)).toEqual([AMI]);
    expect(JSON.stringify(calls)).not.toContain('ami-0dddddddddddddddd');
  });

  test('a snapshot EC2 keeps (another AMI uses it) or could not delete is left and named, with why; the rest goes on', async () => {
    world({ 'eu-west-1': [bakeAmi(AMI, 'snap-1'), bakeAmi(OLD_AMI, 'snap-0')] });
    ec2.on(DeregisterImageCommand, { ImageId: AMI }).resolves({ Return: true, DeleteSnapshotResults: [{ SnapshotId: 'snap-1', ReturnCode: 'skipped' }, { SnapshotId: 'snap-9', ReturnCode: 'missing-permissions' }, {}] });
    builder(OUTPUTS);
    const result = await amiBake.destroy!(job(), retry, STACK);
    expect(result.left).toEqual([
      'snapshot snap-1 (eu-west-1): another AMI still uses it',
      'snapshot snap-9 (eu-west-1): not deleted (missing-permissions; the DeleteSnapshot event in CloudTrail says why)',
    ]);
    expect(result.deleted).toEqual(expect.arrayContaining([`AMI ${AMI} (eu-west-1)`, `AMI ${OLD_AMI} (eu-west-1)`, 'snapshot snap-0 (eu-west-1)']));
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
  });

  test('then the Image Builder images of every recipe version, the recipes, and the bake\'s own components (never an AWS-managed one, never another bake\'s), and its build log group', async () => {
    world({});
    builder();
    const result = await amiBake.destroy!(job(), retry, STACK);
    expect(inputs(imagebuilder, ListImageRecipesCommand)[0]).toMatchObject({ owner: 'Self', filters: [{ name: 'name', values: ['s-web-1234abcd'] }] });
    expect(inputs(imagebuilder, DeleteImageCommand).map((i) => i.imageBuildVersionArn)).toEqual([`${IMAGES.replace(RECIPE_VERSION, OLD_VERSION)}/1`, `${IMAGES}/1`]);
    expect(inputs(imagebuilder, DeleteImageRecipeCommand).map((i) => i.imageRecipeArn)).toEqual([`${RECIPES}/${OLD_VERSION}`, `${RECIPES}/${RECIPE_VERSION}`]);
    expect(inputs(imagebuilder, DeleteComponentCommand).map((i) => i.componentBuildVersionArn)).toEqual([
      `${ARN}:component/s-web-1234abcd-0000000000000000-s1/${OLD_VERSION}/1`,
      `${COMPONENT(1)}/1`,
      `${COMPONENT(2)}/1`,
    ]);
    // The build log group is the runtime's (not a resource of the stack): it goes with the bake.
    expect(inputs(logs, DeleteLogGroupCommand)).toEqual([{ logGroupName: SPEC.LogGroupName }]);
    expect(result.left).toEqual([]);
    expect(result.deleted).toHaveLength(8);
    expect(result.deleted[7]).toBe(`log group ${SPEC.LogGroupName}`);
  });

  test('an AMI another stack holds (the register), a user keeps, or another account may launch stays with its snapshot; one the runtime kept is deleted (F2, F3)', async () => {
    builder({ [OLD_VERSION]: [{ region: 'eu-west-1', image: OLD_AMI }], [RECIPE_VERSION]: [{ region: 'eu-west-1', image: AMI }, { region: 'us-east-1', image: COPY }, { region: 'eu-west-1', image: 'ami-0eeeeeeeeeeeeeeee' }] });
    const calls = world({
      'eu-west-1': [bakeAmi(AMI, 'snap-1', [KEEP, KEPT_BY]), bakeAmi(OLD_AMI, 'snap-0', [KEEP]), bakeAmi('ami-0eeeeeeeeeeeeeeee', 'snap-e', [KEEP, KEPT_BY])],
      'us-east-1': [bakeAmi(COPY, 'snap-c', [KEEP, KEPT_BY])],
    }, { [COPY]: ['210987654321'] });
    const result = await amiBake.destroy!(job(), retry, deletedStack({ [AMI]: ['Staging/Fleet (arn:aws:cloudformation:eu-west-1:123456789012:stack/Staging/2)'] }));
    expect(inputs(ec2, DeregisterImageCommand).map((i) => i.ImageId)).toEqual(['ami-0eeeeeeeeeeeeeeee']);
    expect(result.deleted).toEqual(expect.arrayContaining(['snapshot snap-e (eu-west-1)']));
    expect(result.deleted.join()).not.toMatch(/snap-1|snap-0|snap-c/);
    expect(result.left).toEqual([
      `${OLD_AMI} (eu-west-1): kept by its cdk-immutable-deploys:keep tag`,
      `${AMI} (eu-west-1): 1 other stack(s) hold it: Staging/Fleet (arn:aws:cloudformation:eu-west-1:123456789012:stack/Staging/2)`,
      `${COPY} (us-east-1): another account may launch it (210987654321), and a stage there may run it: deregister it by hand once none does`,
    ]);
    // an AMI someone holds or keeps is not even asked about its launch permissions
    expect(calls.filter((c) => c.command === 'DescribeImageAttribute').map((c) => c.input.ImageId)).toEqual([COPY, 'ami-0eeeeeeeeeeeeeeee']);
  });

  test('an AMI deregistered before (a destroy that stopped half-way) has its snapshots deleted one by one; one in use (InvalidSnapshot.InUse) is left and named', async () => {
    world({ 'eu-west-1': [bakeAmi(AMI, 'snap-1'), bakeAmi(OLD_AMI, 'snap-0')] });
    ec2.on(DeregisterImageCommand, { ImageId: AMI }).rejects(sdkError('InvalidAMIID.NotFound'));
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-1' }).rejects(Object.assign(sdkError('InvalidSnapshot.InUse'), { message: 'The snapshot snap-1 is currently in use by ami-0aaaaaaaaaaaaaaaa' }));
    builder(OUTPUTS);
    const result = await amiBake.destroy!(job(), retry, STACK);
    expect(result.left).toEqual([expect.stringMatching(/^snapshot snap-1 \(eu-west-1\): .*InvalidSnapshot.InUse.*in use by ami-0a/)]);
    expect(result.deleted).toEqual(expect.arrayContaining([`AMI ${OLD_AMI} (eu-west-1)`, 'snapshot snap-0 (eu-west-1)']));
  });

  test('what is already gone (a deregistered AMI, one EC2 no longer lists, a deleted snapshot, recipe or component) counts as done, not as left', async () => {
    world({ 'eu-west-1': [bakeAmi(AMI, 'snap-1'), bakeAmi(OLD_AMI, 'snap-0')] });
    ec2.on(DeregisterImageCommand, { ImageId: AMI }).rejects(sdkError('InvalidAMIID.Unavailable'));
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-0' }).rejects(sdkError('InvalidSnapshot.NotFound'));
    ec2.on(DescribeImagesCommand, { ImageIds: [COPY] }).rejects(sdkError('InvalidAMIID.NotFound'));
    builder(OUTPUTS);
    imagebuilder.on(DeleteImageRecipeCommand).rejects(sdkError('ResourceNotFoundException'));
    imagebuilder.on(ListComponentBuildVersionsCommand).rejects(sdkError('ResourceNotFoundException'));
    const result = await amiBake.destroy!(job(), retry, STACK);
    expect(result.left).toEqual([]);
  });

  test('throttling goes through the retry it is given: every call is tried again', async () => {
    world({ 'eu-west-1': [bakeAmi(AMI, 'snap-1')] });
    ec2.on(DeregisterImageCommand).rejectsOnce(throttling()).resolves({});
    builder({ [RECIPE_VERSION]: [{ region: 'eu-west-1', image: AMI }] });
    imagebuilder.on(DeleteImageCommand).rejectsOnce(throttling()).resolves({});
    const result = await amiBake.destroy!(job(), retry, STACK);
    expect(retries).toEqual(['ThrottlingException', 'ThrottlingException']);
    expect(result.left).toEqual([]);
    expect(result.deleted).toContain(`AMI ${AMI} (eu-west-1)`);
  });

  test('an image that cannot be deleted (still running, or shared) leaves its recipe, named, and deletes the rest', async () => {
    world({});
    builder();
    imagebuilder.on(DeleteImageCommand, { imageBuildVersionArn: `${IMAGES}/1` }).rejects(sdkError('ResourceDependencyException'));
    const result = await amiBake.destroy!(job(), retry, STACK);
    expect(inputs(imagebuilder, DeleteImageRecipeCommand).map((i) => i.imageRecipeArn)).toEqual([`${RECIPES}/${OLD_VERSION}`]);
    expect(result.left).toEqual([
      expect.stringMatching(new RegExp(`^image ${IMAGES}/1: .*ResourceDependencyException`)),
      `recipe ${RECIPES}/${RECIPE_VERSION}: an image of it is left`,
    ]);
  });
});

describe('what AWS may leave out, and edges (mutation testing, issue 17)', () => {
  const sha = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 36);
  const logged = () => (console.log as jest.Mock).mock.calls.map((c) => c.join(' ')).join('\n');

  test('the component documents and the files to copy are only for starting: the runtime leaves them out of a pending job', () => {
    expect(amiBake.startOnly).toEqual(['Components', 'Assets']);
  });

  test('client tokens are derived from the fingerprint, the kind of request and its name and version, attempt or image (fixed values): a changed request never reuses an old token (IdempotentParameterMismatchException, AMI review #4)', async () => {
    nothingRunning();
    imagebuilder.on(CancelImageCreationCommand).resolves({});
    await amiBake.start(job(), ATTEMPT);
    await amiBake.cancel(job(), IMAGE);
    expect(inputs(imagebuilder, CreateComponentCommand)[0].clientToken).toBe(sha(FP, 'component', SPEC.Components[0].Name, VERSION));
    expect(inputs(imagebuilder, CreateImageRecipeCommand)[0].clientToken).toBe(sha(FP, 'recipe', SPEC.RecipeName, RECIPE_VERSION));
    // The same fingerprint on a new parent AMI (a foundation baked again), and components of a new revision: new tokens.
    imagebuilder.resetHistory();
    await amiBake.start(job({ ParentImage: 'ami-0ffffffffffffffff', Components: [{ ...SPEC.Components[0], Version: '1.2.3' }] }), ATTEMPT);
    expect(inputs(imagebuilder, CreateImageRecipeCommand)[0].clientToken).toBe(sha(FP, 'recipe', SPEC.RecipeName, recipeVersionOf(FP, { ...SPEC, ParentImage: 'ami-0ffffffffffffffff' })));
    expect(inputs(imagebuilder, CreateImageRecipeCommand)[0].clientToken).not.toBe(sha(FP, 'recipe', SPEC.RecipeName, RECIPE_VERSION));
    expect(inputs(imagebuilder, CreateComponentCommand)[0].clientToken).toBe(sha(FP, 'component', SPEC.Components[0].Name, '1.2.3'));
    imagebuilder.resetHistory();
    await amiBake.start(job(), ATTEMPT);
    await amiBake.cancel(job(), IMAGE);
    expect(inputs(imagebuilder, CreateImageCommand)[0].clientToken).toBe(sha(FP, 'image', ATTEMPT.id));
    expect(inputs(imagebuilder, CancelImageCreationCommand)[0].clientToken).toBe(sha(IMAGE, 'cancel'));
    expect(inputs(imagebuilder, CreateImageRecipeCommand)[0].description).toBe(`cdk-immutable-deploys bake, fingerprint ${FP}`);
    // Parts are separated: ('ab', 'c') and ('a', 'bc') give two tokens.
    expect(sha('ab', 'c')).not.toBe(sha('a', 'bc'));
  });

  test('attaching to a running image is logged', async () => {
    imagebuilder.on(ListImageBuildVersionsCommand).resolves(builds([4, 'BUILDING']));
    await amiBake.start(job(), ATTEMPT);
    expect(logged()).toContain(`S/Web/Bake: an image of this recipe version is already running: ${IMAGES}/4`);
  });

  test('a recipe version\'s image listed without a state is not running; a spec without components creates none', async () => {
    nothingRunning();
    imagebuilder.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: [{ arn: `${IMAGES}/1` }] });
    const { Components: _c, ...rest } = SPEC;
    expect(await amiBake.start({ ...job(), spec: rest as AmiBakeSpec }, ATTEMPT)).toEqual({ state: 'started', ref: `${IMAGES}/3` });
    expect(imagebuilder.commandCalls(CreateComponentCommand)).toHaveLength(0);
    expect(imagebuilder.commandCalls(CreateImageRecipeCommand)).toHaveLength(1);
  });

  test.each([
    ['access denied', sdkError('AccessDeniedException', 403)],
    ['throttling', throttling()],
  ])('a listing of the recipe version\'s images that fails (%s) propagates, and nothing is created', async (_why, error) => {
    nothingRunning();
    imagebuilder.on(ListImageBuildVersionsCommand).rejects(error);
    await expect(amiBake.start(job(), ATTEMPT)).rejects.toThrow(error.message);
    expect(imagebuilder.commandCalls(CreateImageCommand)).toHaveLength(0);
  });

  test('an image described without a state fails as FAILED, with no reason part', async () => {
    imagebuilder.on(GetImageCommand).resolves({ image: {} });
    imagebuilder.on(ListWorkflowExecutionsCommand).resolves({ workflowExecutions: [] });
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: 'Phase build' }] });
    expect(await failureOf()).toBe([`S/Web/Bake: AMI bake FAILED: ${IMAGE}`, 'Log tail: Phase build', FULL_LOG].join('\n'));
  });

  test('an AVAILABLE image without output resources fails, naming no AMI', async () => {
    imagebuilder.on(GetImageCommand).resolves(imageState('AVAILABLE'));
    expect(await failureOf()).toBe(`S/Web/Bake: AMI bake ${IMAGE} is AVAILABLE but has no AMI in eu-west-1.\nAMIs: none`);
  });

  test('the failed component may be named only by the state\'s reason', async () => {
    ended('FAILED', `Component ${COMPONENT(2)}/1 failed to execute`, ['Phase build']);
    expect(await failureOf()).toContain('\nFailed component: s-web-1234abcd-abababababababab-s2\n');
  });

  test('failed steps: each named, joined; without type, action message or workflow message, plainly', async () => {
    ended('FAILED', 'boom', ['Phase build']);
    imagebuilder.on(ListWorkflowExecutionsCommand).resolves({
      workflowExecutions: [
        { workflowExecutionId: 'wf-1', status: 'FAILED', message: 'Workflow failed at ApplyBuildComponents' },
        { workflowExecutionId: 'wf-2', status: 'FAILED', type: 'TEST' },
      ],
    });
    imagebuilder.on(ListWorkflowStepExecutionsCommand, { workflowExecutionId: 'wf-1' }).resolves({
      steps: [{ name: 'A', action: 'ExecuteComponents', status: 'FAILED' }, { name: 'B', action: 'RunCommand', status: 'FAILED', message: 'exit 1' }],
    });
    imagebuilder.on(ListWorkflowStepExecutionsCommand, { workflowExecutionId: 'wf-2' }).resolves({ steps: [] });
    expect(await failureOf()).toContain('\nFailed step: workflow step A (ExecuteComponents); workflow step B (RunCommand): exit 1\n');
  });

  test('a failed workflow without steps takes its message under "workflow" when it has no type', async () => {
    ended('FAILED', 'boom', ['Phase build']);
    imagebuilder.on(ListWorkflowExecutionsCommand).resolves({ workflowExecutions: [{ workflowExecutionId: 'wf-1', status: 'FAILED', message: 'timed out' }] });
    imagebuilder.on(ListWorkflowStepExecutionsCommand).resolves({ steps: [] });
    expect(await failureOf()).toContain('\nFailed step: workflow: timed out\n');
  });

  test('the log tail is read from the end of the stream; events without a message add nothing', async () => {
    ended('FAILED', 'boom', ['Phase build']);
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: 'first' }, {}, { message: 'last' }] });
    expect(await failureOf()).toContain('\nLog tail: first\nlast\n');
    expect(inputs(logs, GetLogEventsCommand)[0]).toMatchObject({ logGroupName: LOG.group, logStreamName: LOG.stream, startFromHead: false });
  });

  test('logLocation reads build numbers of any length, and nothing after them', () => {
    expect(logLocation(`${IMAGES}/12`)).toEqual({ group: LOG.group, stream: `${RECIPE_VERSION}/12` });
    expect(logLocation(`${IMAGE}/extra`)).toBeUndefined();
  });

  test('failedComponent: components of other partitions, and one named only on the first line', () => {
    expect(failedComponent(['arn:aws-us-gov:imagebuilder:us-gov-west-1:123456789012:component/s-web-x1/1.0.0/1 failed'])).toBe('s-web-x1');
    expect(failedComponent([`${COMPONENT(1)}/1 failed\nthen other lines\nand more`])).toBe('s-web-1234abcd-abababababababab-s1');
  });

  test('find: the newest AMI first, one without a creation date last, one without an id passed over', async () => {
    amis(
      { ImageId: 'ami-0000000000000none', Tags: [{ Key: 'Ec2ImageBuilderArn', Value: `${IMAGES}/9` }] },
      ami(OLD_AMI, '2024-01-01T00:00:00Z', `${IMAGES}/0`),
      { CreationDate: '2025-01-01T00:00:00Z' },
      NEWEST,
      ami('ami-000000000000mid1', '2024-03-01T00:00:00Z', `${IMAGES}/5`),
    );
    imagebuilder.on(GetImageCommand).resolves(imageState('DISTRIBUTING'));
    await expect(findReusable(FP)).resolves.toBeUndefined();
    expect(inputs(imagebuilder, GetImageCommand).map((i) => i.imageBuildVersionArn)).toEqual([IMAGE, `${IMAGES}/5`, `${IMAGES}/0`, `${IMAGES}/9`]);
  });

  test('find: an AMI without tags is not reused (no Image Builder record names it); the record is found among other tags', async () => {
    amis({ ImageId: AMI, CreationDate: '2024-06-01T00:00:00Z' });
    expect(await findReusable(FP)).toBeUndefined();
    amis({ ImageId: AMI, CreationDate: '2024-06-01T00:00:00Z', Tags: [{ Key: 'Name', Value: 'web' }, { Key: 'Ec2ImageBuilderArn', Value: IMAGE }] });
    imagebuilder.on(GetImageCommand).resolves(available([{ image: AMI }], FP));
    expect(await findReusable(FP)).toMatchObject({ amiId: AMI, imageArn: IMAGE });
    expect(inputs(imagebuilder, GetImageCommand).map((i) => i.imageBuildVersionArn)).toEqual([IMAGE]);
  });

  test('find: an image record without tags or state is not reused, and the log says why of each AMI passed over', async () => {
    amis(
      NEWEST, ami(OLD_AMI, '2024-01-01T00:00:00Z', `${IMAGES}/0`), ami('ami-0000000000000old2', '2023-01-01T00:00:00Z', `${IMAGES}/00`),
      ami('ami-0000000000000old3', '2022-01-01T00:00:00Z', `${IMAGES}/000`),
    );
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: IMAGE }).resolves({});
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: `${IMAGES}/0` }).resolves({ image: { tags: { 'cdk-immutable-deploys:fingerprint': 'cd'.repeat(32) } } });
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: `${IMAGES}/00` }).rejects(sdkError('AccessDeniedException', 403));
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: `${IMAGES}/000` }).resolves({ image: { tags: { 'cdk-immutable-deploys:fingerprint': FP }, outputResources: { amis: [{ image: 'ami-0000000000000old3' }] } } });
    await expect(findReusable(FP)).resolves.toBeUndefined();
    expect(logged()).toContain(`${AMI} has the fingerprint tag, but ${IMAGE} was created for no fingerprint: not reused.`);
    expect(logged()).toContain(`${OLD_AMI} has the fingerprint tag, but ${IMAGES}/0 was created for ${'cd'.repeat(32)}: not reused.`);
    expect(logged()).toContain(`ami-0000000000000old2 has the fingerprint, but ${IMAGES}/00 cannot be read (AccessDeniedException): not reused.`);
    expect(logged()).toContain(`ami-0000000000000old3 has the fingerprint, but ${IMAGES}/000 is undefined: not reused.`);
  });

  test('cancel logs what it did, or why it could not', async () => {
    imagebuilder.on(CancelImageCreationCommand).resolvesOnce({}).rejects(sdkError('InvalidRequestException'));
    await amiBake.cancel(job(), IMAGE);
    await amiBake.cancel(job(), IMAGE);
    expect(logged()).toContain(`Cancelled ${IMAGE}.`);
    expect(logged()).toContain(`Could not cancel ${IMAGE}: InvalidRequestException: InvalidRequestException happened`);
  });
});

describe('destroy: edges (mutation testing of the removal policy)', () => {
  const RECIPE = `${ARN}:image-recipe/s-web-1234abcd/${VERSION}`;
  const { retry } = throttlingRetry();
  const tagged = (id: string | undefined, tags: Tag[] | undefined, snapshot = 'snap-1'): Ec2Image => ({
    ImageId: id,
    Tags: tags,
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshot } }],
  });
  /** One recipe version (no components of its own), with these image builds and component builds; `made` are the AMIs its one image made here. */
  function oneRecipe(
    images: Array<{ arn?: string }> = [], components: any = { componentSummaryList: [] }, made: Array<string | undefined> = [],
  ): void {
    imagebuilder.on(ListImageRecipesCommand).resolves({ imageRecipeSummaryList: [{ name: 's-web-1234abcd', arn: RECIPE }] });
    imagebuilder.on(GetImageRecipeCommand).resolves({ imageRecipe: { components: [] } });
    const outputs = { outputResources: { amis: made.map((image) => ({ region: process.env.AWS_REGION, image })) } };
    const listed = images.length > 0 ? images.map((i, n) => (n === 0 ? { ...i, ...outputs } : i)) : [outputs];
    imagebuilder.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: listed });
    ec2.on(DescribeImageAttributeCommand).resolves({ LaunchPermissions: [] });
    imagebuilder.on(ListComponentBuildVersionsCommand).resolves(components);
    imagebuilder.on(DeleteImageCommand).resolves({});
    imagebuilder.on(DeleteImageRecipeCommand).resolves({});
    imagebuilder.on(DeleteComponentCommand).resolves({});
    ec2.on(DeregisterImageCommand).resolves({});
    ec2.on(DeleteSnapshotCommand).resolves({});
  }
  const deregistered = () => inputs(ec2, DeregisterImageCommand).map((i) => i.ImageId);

  test('what was deleted is named, each with its region or ARN', async () => {
    amis(tagged(AMI, []));
    oneRecipe([{ arn: IMAGE }], { componentSummaryList: [{ arn: `${COMPONENT(1)}/1` }] }, [AMI]);
    const result = await amiBake.destroy!(job({ ComponentArns: [COMPONENT(1)] }), retry, STACK);
    expect(result).toEqual({
      deleted: [`AMI ${AMI} (eu-west-1)`, 'snapshot snap-1 (eu-west-1)', `image ${IMAGE}`, `recipe ${RECIPE}`, `component ${COMPONENT(1)}/1`, `log group ${SPEC.LogGroupName}`],
      left: [],
    });
  });

  test('an output without an AMI or a region is passed over; an AMI without block devices is deregistered alone', async () => {
    amis(tagged(undefined, []), { ImageId: OLD_AMI, Tags: [] });
    oneRecipe([], undefined, [undefined, OLD_AMI]);
    imagebuilder.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: [{ outputResources: { amis: [{ region: 'eu-west-1' }, { image: AMI }, { region: 'eu-west-1', image: OLD_AMI }] } }] });
    const result = await amiBake.destroy!(job(), retry, STACK);
    expect(deregistered()).toEqual([OLD_AMI]);
    expect(ec2.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(result.left).toEqual([]);
  });

  test('a tag without a key and a keep tag that is not "true" hold nothing; the stack asked about holders is the deleted one', async () => {
    amis(
      tagged(AMI, [{ Key: 'cdk-immutable-deploys:in-use:000000000000000000000000', Value: 'an old hold tag: not a hold' }]),
      tagged(OLD_AMI, [{ Value: 'x' }, { Key: 'cdk-immutable-deploys:keep', Value: 'false' }, { Key: 'Team', Value: 'true' }]),
    );
    oneRecipe([], undefined, [AMI, OLD_AMI]);
    const result = await amiBake.destroy!(job(), retry, STACK);
    expect(deregistered()).toEqual([AMI, OLD_AMI]);
    expect(result.left).toEqual([]);
  });

  test('an AMI already gone still has its snapshots deleted; an error known by its Code alone is gone too', async () => {
    amis(tagged(AMI, []), tagged(OLD_AMI, [], 'snap-0'));
    oneRecipe([], undefined, [AMI, OLD_AMI]);
    ec2.on(DeregisterImageCommand, { ImageId: AMI }).rejects(sdkError('InvalidAMIID.NotFound'));
    ec2.on(DeregisterImageCommand, { ImageId: OLD_AMI }).rejects(Object.assign(new Error('gone'), { name: 'Error', Code: 'InvalidAMIID.Unavailable' }));
    const result = await amiBake.destroy!(job(), retry, STACK);
    expect(inputs(ec2, DeleteSnapshotCommand).map((i) => i.SnapshotId)).toEqual(['snap-1', 'snap-0']);
    expect(result.left).toEqual([]);
  });

  test('a recipe answered without its document, an image build without an ARN, and a component build without one are passed over', async () => {
    amis();
    oneRecipe([{}, { arn: IMAGE }], { componentSummaryList: [{}, { arn: `${COMPONENT(1)}/1` }] });
    imagebuilder.on(GetImageRecipeCommand).resolves({});
    const result = await amiBake.destroy!(job({ ComponentArns: [COMPONENT(1)] }), retry, STACK);
    expect(inputs(imagebuilder, DeleteImageCommand).map((i) => i.imageBuildVersionArn)).toEqual([IMAGE]);
    expect(inputs(imagebuilder, DeleteComponentCommand).map((i) => i.componentBuildVersionArn)).toEqual([`${COMPONENT(1)}/1`]);
    expect(result.left).toEqual([]);
  });

  test('every page of a component\'s build versions is deleted; a component that is gone has none', async () => {
    amis();
    oneRecipe();
    imagebuilder.on(ListComponentBuildVersionsCommand, { componentVersionArn: COMPONENT(1), nextToken: undefined }).resolves({ componentSummaryList: [{ arn: `${COMPONENT(1)}/1` }], nextToken: 'p2' });
    imagebuilder.on(ListComponentBuildVersionsCommand, { componentVersionArn: COMPONENT(1), nextToken: 'p2' }).resolves({ componentSummaryList: [{ arn: `${COMPONENT(1)}/2` }] });
    imagebuilder.on(ListComponentBuildVersionsCommand, { componentVersionArn: COMPONENT(2) }).rejects(sdkError('ResourceNotFoundException'));
    await amiBake.destroy!(job(), retry, STACK);
    expect(inputs(imagebuilder, DeleteComponentCommand).map((i) => i.componentBuildVersionArn)).toEqual([`${COMPONENT(1)}/1`, `${COMPONENT(1)}/2`]);
  });

  test('a recipe naming a component by its build version, another bake\'s component of this account and an AWS-managed one: only the bake\'s own version is listed', async () => {
    amis();
    oneRecipe();
    imagebuilder.on(GetImageRecipeCommand).resolves({
      imageRecipe: {
        components: [
          { componentArn: `${COMPONENT(1)}/1` },
          { componentArn: `${ARN}:component/s-api-99999999-abababababababab-s1/${VERSION}` },
          { componentArn: 'arn:aws:imagebuilder:eu-west-1:aws:component/update-linux/x.x.x' },
          {} as { componentArn: string },
        ],
      },
    });
    await amiBake.destroy!(job({ ComponentArns: [] }), retry, STACK);
    expect(inputs(imagebuilder, ListComponentBuildVersionsCommand).map((i) => i.componentVersionArn)).toEqual([COMPONENT(1)]);
  });

  test('a recipe or a component that cannot be read (other than gone) fails the destroy with its error, deleting nothing of Image Builder', async () => {
    amis();
    oneRecipe();
    imagebuilder.on(GetImageRecipeCommand).rejects(sdkError('AccessDeniedException', 403));
    await expect(amiBake.destroy!(job(), retry, STACK)).rejects.toThrow(/AccessDeniedException happened/);
    expect(imagebuilder.commandCalls(DeleteImageRecipeCommand)).toHaveLength(0);
    imagebuilder.on(GetImageRecipeCommand).resolves({});
    imagebuilder.on(ListComponentBuildVersionsCommand).rejects(sdkError('AccessDeniedException', 403));
    await expect(amiBake.destroy!(job(), retry, STACK)).rejects.toThrow(/AccessDeniedException happened/);
    expect(imagebuilder.commandCalls(DeleteComponentCommand)).toHaveLength(0);
  });
});

describe('start: the recipe version, the build log group and the bake\'s files', () => {
  test('the recipe version follows the fingerprint, the parent AMI and the key: a foundation baked again (a new AMI under the same fingerprint) gets a new recipe, never the old one that names a deleted AMI', async () => {
    // GIVEN the same fingerprint on the foundation's first AMI, then on the AMI it was baked again into
    nothingRunning();
    // WHEN
    await amiBake.start(job(), ATTEMPT);
    await amiBake.start(job({ ParentImage: 'ami-0fffffffffffffff0' }), ATTEMPT);
    await amiBake.start(job({ BlockDevice: { ...SPEC.BlockDevice, KmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/new' } }), ATTEMPT);
    // THEN three recipe versions, each naming its own parent, and three images of those versions
    const recipes = inputs(imagebuilder, CreateImageRecipeCommand);
    expect(recipes.map((r) => r.semanticVersion)).toEqual([RECIPE_VERSION, expect.stringMatching(/^1\.\d+\.\d+$/), expect.stringMatching(/^1\.\d+\.\d+$/)]);
    expect(new Set(recipes.map((r) => r.semanticVersion)).size).toBe(3);
    expect(recipes.map((r) => r.parentImage)).toEqual([PARENT, 'ami-0fffffffffffffff0', PARENT]);
    expect(inputs(imagebuilder, CreateImageCommand).map((i) => i.imageRecipeArn)).toEqual(recipes.map((r) => `${SPEC.RecipeNameArn}/${r.semanticVersion}`));
    // A running image is looked for under the version of this parent and key.
    expect(inputs(imagebuilder, ListImageBuildVersionsCommand).map((i) => i.imageVersionArn)).toEqual(recipes.map((r) => `${SPEC.ImageNameArn}/${r.semanticVersion}`));
    // The components are the same (they do not depend on the parent): same names and versions every time.
    expect(new Set(inputs(imagebuilder, CreateComponentCommand).map((c) => `${c.name}/${c.semanticVersion}`)).size).toBe(2);
    // Image Builder's semantic version nodes are at most 2^30-1.
    expect(recipeVersionOf(FP, SPEC).split('.').slice(1).every((n) => Number(n) < 2 ** 28)).toBe(true);
  });

  test('the build log group is created with the bake\'s retention before the image; one a deleted stack or an earlier deploy left is adopted, never a failure', async () => {
    // GIVEN
    nothingRunning();
    logs.on(CreateLogGroupCommand).rejectsOnce(sdkError('ResourceAlreadyExistsException')).resolves({});
    // WHEN: the group exists already (adopted), then a bake that keeps its logs for ever
    await amiBake.start(job(), ATTEMPT);
    await amiBake.start(job({ LogRetentionDays: '' }), ATTEMPT);
    // THEN
    expect(inputs(logs, CreateLogGroupCommand)).toEqual([{ logGroupName: SPEC.LogGroupName }, { logGroupName: SPEC.LogGroupName }]);
    expect(inputs(logs, PutRetentionPolicyCommand)).toEqual([{ logGroupName: SPEC.LogGroupName, retentionInDays: 90 }]);
    expect(inputs(logs, DeleteRetentionPolicyCommand)).toEqual([{ logGroupName: SPEC.LogGroupName }]);
    // Before the image: Image Builder's instance would otherwise create it with no retention.
    const order: string[] = [];
    logs.on(PutRetentionPolicyCommand).callsFake(async () => { order.push('retention'); return {}; });
    imagebuilder.on(CreateImageCommand).callsFake(async () => { order.push('image'); return { imageBuildVersionArn: `${IMAGES}/3` }; });
    await amiBake.start(job(), ATTEMPT);
    expect(order).toEqual(['retention', 'image']);
    // Another error creating the group fails the start (retried by the runtime when transient).
    logs.reset();
    logs.on(CreateLogGroupCommand).rejects(sdkError('AccessDeniedException'));
    await expect(amiBake.start(job(), ATTEMPT)).rejects.toThrow(/AccessDeniedException/);
  });

  test('the bake\'s files are copied under the stack\'s bake prefix before the components that download them are created', async () => {
    // GIVEN
    nothingRunning();
    const assets = [
      { Bucket: 'cdk-hnb659fds-assets-123456789012-eu-west-1', Key: 'abc123.zip', CopyKey: 'cdk-immutable-deploys/bake-assets/s-123456/abc123.zip' },
      { Bucket: 'cdk-hnb659fds-assets-123456789012-eu-west-1', Key: 'prefix/def 456.conf', CopyKey: 'cdk-immutable-deploys/bake-assets/s-123456/prefix/def 456.conf' },
    ];
    const order: string[] = [];
    s3.on(CopyObjectCommand).callsFake(async (input) => { order.push(`copy ${input.Key}`); return {}; });
    imagebuilder.on(CreateComponentCommand).callsFake(async (input) => { order.push(`component ${input.name}`); return {}; });
    // WHEN
    await amiBake.start(job({ Assets: assets }), ATTEMPT);
    // THEN
    expect(inputs(s3, CopyObjectCommand)).toEqual([
      { Bucket: assets[0].Bucket, Key: assets[0].CopyKey, CopySource: `${assets[0].Bucket}/abc123.zip` },
      { Bucket: assets[1].Bucket, Key: assets[1].CopyKey, CopySource: `${assets[1].Bucket}/prefix/def%20456.conf` },
    ]);
    expect(order.slice(0, 2)).toEqual(assets.map((a) => `copy ${a.CopyKey}`));
    // The documents are needed only to start: a pending job does not keep them.
    expect(amiBake.startOnly).toEqual(expect.arrayContaining(['Components', 'Assets']));
  });

  test('a copy that fails for good (the asset is gone) fails the start with the asset, the error and what to do, bounded', async () => {
    nothingRunning();
    s3.on(CopyObjectCommand).rejects(sdkError('NoSuchKey', 404));
    const asset = { Bucket: 'assets', Key: 'gone.zip', CopyKey: 'cdk-immutable-deploys/bake-assets/s/gone.zip' };
    await expect(amiBake.start(job({ Assets: [asset] }), ATTEMPT)).rejects.toThrow(/S\/Web\/Bake: could not copy the bake's file s3:\/\/assets\/gone\.zip[\s\S]*NoSuchKey[\s\S]*deploy again/);
    expect(inputs(imagebuilder, CreateImageCommand)).toEqual([]);
    // Throttling is left to the runtime's retries.
    s3.reset();
    s3.on(CopyObjectCommand).rejects(throttling());
    await expect(amiBake.start(job({ Assets: [asset] }), ATTEMPT)).rejects.toThrow(/ThrottlingException/);
  });
});
