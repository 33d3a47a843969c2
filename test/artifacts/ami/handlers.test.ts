import { EventEmitter } from 'events';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateTagsCommand, DeleteTagsCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CancelImageCreationCommand,
  CreateComponentCommand,
  CreateImageCommand,
  CreateImageRecipeCommand,
  GetImageCommand,
  ImagebuilderClient,
  ListImageBuildVersionsCommand,
  ListWorkflowExecutionsCommand,
  ListWorkflowStepExecutionsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-imagebuilder';
import { mockClient } from 'aws-sdk-client-mock';
import { inUseTag, handler as isComplete } from '../../../src/artifacts/ami/bake-is-complete.singleton-lambda';
import { handler as onEvent } from '../../../src/artifacts/ami/bake-on-event.singleton-lambda';
import { failedComponent, handler as report, logLocation, retrySettings } from '../../../src/artifacts/ami/bake-reporter.singleton-lambda';
import type { BakeResourceProps } from '../../../src/artifacts/ami/types';

// The real module object (an `import * as` namespace has read-only getters that jest cannot spy on).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const https: typeof import('https') = require('https');

const imagebuilder = mockClient(ImagebuilderClient);
const ec2 = mockClient(EC2Client);
const logs = mockClient(CloudWatchLogsClient);

const FP = 'ab'.repeat(32);
const RECIPE = 'arn:aws:imagebuilder:eu-west-1:123456789012:image-recipe/s-web-1234abcd/1.179027883.193031107';
const IMAGES = 'arn:aws:imagebuilder:eu-west-1:123456789012:image/s-web-1234abcd/1.179027883.193031107';
const IMAGE = `${IMAGES}/1`;
const HANDLE = 'https://cloudformation-waitcondition-eu-west-1.s3.eu-west-1.amazonaws.com/arn%3Aaws%3Acloudformation/handle?X-Amz-Signature=abc';

const PROPS: BakeResourceProps = {
  Fingerprint: FP,
  RecipeName: 's-web-1234abcd',
  RecipeVersion: '1.179027883.193031107',
  RecipeArn: RECIPE,
  ImageVersionArn: IMAGES,
  ParentImage: 'ami-0a1b2c3d4e5f67890',
  Components: [{ Name: 's-web-1234abcd-abababababababab-s1', Version: '1.179027883.193031107', Platform: 'Linux', Description: 'shell: echo', Data: '{}' }],
  ComponentArns: ['arn:aws:imagebuilder:eu-west-1:123456789012:component/s-web-1234abcd-abababababababab-s1/1.179027883.193031107'],
  BlockDevice: { DeviceName: '/dev/xvda', VolumeSize: '20', KmsKeyId: '' },
  InfrastructureConfigurationArn: 'arn:aws:imagebuilder:eu-west-1:123456789012:infrastructure-configuration/s-web-1234abcd',
  DistributionConfigurationArn: 'arn:aws:imagebuilder:eu-west-1:123456789012:distribution-configuration/s-web-1234abcd',
  TestsEnabled: 'true',
  TestTimeoutMinutes: '240',
  WaitHandle: HANDLE,
  BakeName: 's-web-1234abcd',
};

function event(requestType: 'Create' | 'Update' | 'Delete', requestId = 'req-1'): any {
  return {
    RequestType: requestType,
    RequestId: requestId,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1',
    LogicalResourceId: 'Bake',
    ResourceType: 'Custom::CdkImmutableDeploysAmiBake',
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:x',
    ResponseURL: 'https://example.com',
    ResourceProperties: { ServiceToken: 'x', ...PROPS },
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: RECIPE }),
  };
}

function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
}

/** Captures HTTPS PUTs to the wait-condition handle and answers them with `status`. */
function captureSignals(status = 200): Array<{ url: string; method?: string; headers: any; body: string }> {
  const sent: Array<{ url: string; method?: string; headers: any; body: string }> = [];
  jest.spyOn(https, 'request').mockImplementation(((url: string, options: any, callback: (res: any) => void) => {
    const request = new EventEmitter() as any;
    request.destroy = () => undefined;
    request.end = (body: string) => {
      sent.push({ url, method: options.method, headers: options.headers, body });
      const response = new EventEmitter() as any;
      response.statusCode = status;
      callback(response);
      process.nextTick(() => {
        response.emit('data', Buffer.from(status === 200 ? '' : '<Error>SlowDown</Error>'));
        response.emit('end');
      });
    };
    return request;
  }) as any);
  return sent;
}

beforeEach(() => {
  imagebuilder.reset();
  ec2.reset();
  logs.reset();
  jest.restoreAllMocks();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  retrySettings.baseDelayMs = 1;
  retrySettings.maxDelayMs = 2;
  retrySettings.budgetMs = 200;
  process.env.AWS_REGION = 'eu-west-1';
});

describe('onEvent', () => {
  test('names the resource by its recipe version, so a new fingerprint replaces it', async () => {
    expect(await onEvent(event('Create'))).toEqual({ PhysicalResourceId: RECIPE });
    expect(await onEvent(event('Delete'))).toEqual({ PhysicalResourceId: RECIPE });
  });
});

describe('isComplete: create', () => {
  test('reuses an AVAILABLE image with this fingerprint whose AMI exists, and signals at once: no bake', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-00000000000000old', CreationDate: '2024-01-01T00:00:00Z', Tags: [{ Key: 'Ec2ImageBuilderArn', Value: `${IMAGES}/1` }] },
        { ImageId: 'ami-0123456789abcdef0', CreationDate: '2024-06-01T00:00:00Z', Tags: [{ Key: 'Ec2ImageBuilderArn', Value: `${IMAGES}/2` }] },
      ],
    });
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: `${IMAGES}/2` }).resolves({ image: { state: { status: 'AVAILABLE' } } });
    const signals = captureSignals();
    // WHEN
    const result = await isComplete(event('Create'));
    // THEN
    expect(result).toEqual({ IsComplete: true, Data: { AmiId: 'ami-0123456789abcdef0', ImageArn: `${IMAGES}/2`, Reused: 'true' } });
    expect(ec2.commandCalls(DescribeImagesCommand)[0].args[0].input).toMatchObject({
      Owners: ['self'],
      Filters: [{ Name: 'tag:cdk-immutable-deploys:fingerprint', Values: [FP] }, { Name: 'state', Values: ['available'] }],
    });
    expect(imagebuilder.commandCalls(CreateImageCommand)).toHaveLength(0);
    expect(signals).toHaveLength(1);
    expect(signals[0].url).toBe(HANDLE);
    expect(signals[0].method).toBe('PUT');
    expect(signals[0].headers['content-type']).toBe('');
    expect(JSON.parse(signals[0].body)).toEqual({
      Status: 'SUCCESS',
      Reason: `Reused ami-0123456789abcdef0, baked earlier with fingerprint ${FP.slice(0, 16)}`,
      UniqueId: 'bake',
      Data: 'ami-0123456789abcdef0',
    });
  });

  test('does not reuse an AMI whose Image Builder image was created for another fingerprint', async () => {
    // GIVEN: the AMI carries this fingerprint (the shared distribution configuration tagged it), its image another
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [{ Key: 'Ec2ImageBuilderArn', Value: `${IMAGES}/3` }] }] });
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'AVAILABLE' }, tags: { 'cdk-immutable-deploys:fingerprint': 'cd'.repeat(32) } } });
    imagebuilder.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: [] });
    imagebuilder.on(CreateImageCommand).resolves({ imageBuildVersionArn: `${IMAGES}/4` });
    const signals = captureSignals();
    // WHEN
    const result = await isComplete(event('Create'));
    // THEN: a bake of its own
    expect(result).toEqual({ IsComplete: true, Data: { ImageArn: `${IMAGES}/4`, Reused: 'false' } });
    expect(signals).toHaveLength(0);
    // The same image tagged with this fingerprint is reused.
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'AVAILABLE' }, tags: { 'cdk-immutable-deploys:fingerprint': FP } } });
    expect(await isComplete(event('Create'))).toMatchObject({ IsComplete: true, Data: { AmiId: 'ami-0123456789abcdef0', Reused: 'true' } });
  });

  test('does not reuse an AMI whose image is not AVAILABLE; creates components, recipe and exactly one image', async () => {
    // GIVEN: an AMI with the fingerprint whose image is still distributing is not reused; nothing is running.
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [{ Key: 'Ec2ImageBuilderArn', Value: `${IMAGES}/9` }] }] });
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'DISTRIBUTING' } } });
    imagebuilder.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: [{ arn: `${IMAGES}/1`, state: { status: 'FAILED' } }] });
    imagebuilder.on(CreateComponentCommand).resolves({});
    imagebuilder.on(CreateImageRecipeCommand).rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    imagebuilder.on(CreateImageCommand).resolves({ imageBuildVersionArn: `${IMAGES}/2` });
    const signals = captureSignals();
    // WHEN
    const result = await isComplete(event('Create'));
    // THEN
    expect(result).toEqual({ IsComplete: true, Data: { ImageArn: `${IMAGES}/2`, Reused: 'false' } });
    expect(signals).toHaveLength(0);
    expect(imagebuilder.commandCalls(CreateComponentCommand)[0].args[0].input).toMatchObject({
      name: PROPS.Components[0].Name, semanticVersion: PROPS.RecipeVersion, platform: 'Linux', data: '{}',
    });
    expect(imagebuilder.commandCalls(CreateImageRecipeCommand)[0].args[0].input).toMatchObject({
      name: PROPS.RecipeName,
      semanticVersion: PROPS.RecipeVersion,
      parentImage: PROPS.ParentImage,
      components: [{ componentArn: PROPS.ComponentArns[0] }],
      blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { encrypted: true, deleteOnTermination: true, volumeType: 'gp3', volumeSize: 20 } }],
    });
    const creates = imagebuilder.commandCalls(CreateImageCommand);
    expect(creates).toHaveLength(1);
    expect(creates[0].args[0].input).toMatchObject({
      imageRecipeArn: RECIPE,
      infrastructureConfigurationArn: PROPS.InfrastructureConfigurationArn,
      distributionConfigurationArn: PROPS.DistributionConfigurationArn,
      imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 240 },
      tags: { 'cdk-immutable-deploys:fingerprint': FP, 'cdk-immutable-deploys:bake': PROPS.BakeName },
    });
    expect(creates[0].args[0].input.clientToken).toMatch(/^[0-9a-f]{36}$/);
  });

  test('a replayed request starts no second image: it attaches to the running one, and its client token is the same', async () => {
    // GIVEN: the first call started an image
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    imagebuilder.on(ListImageBuildVersionsCommand).resolvesOnce({ imageSummaryList: [] }).resolves({ imageSummaryList: [{ arn: `${IMAGES}/1`, state: { status: 'BUILDING' } }] });
    imagebuilder.on(CreateComponentCommand).resolves({});
    imagebuilder.on(CreateImageRecipeCommand).resolves({});
    imagebuilder.on(CreateImageCommand).resolves({ imageBuildVersionArn: `${IMAGES}/1` });
    await isComplete(event('Create', 'req-7'));
    // WHEN: the same request again
    const replay = await isComplete(event('Create', 'req-7'));
    // THEN
    expect(replay).toEqual({ IsComplete: true, Data: { ImageArn: `${IMAGES}/1`, Reused: 'false' } });
    expect(imagebuilder.commandCalls(CreateImageCommand)).toHaveLength(1);
  });

  test('the client token of CreateImage depends only on the request and the fingerprint', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    imagebuilder.on(ListImageBuildVersionsCommand).rejects(new ResourceNotFoundException({ message: 'no such recipe version', $metadata: {} }));
    imagebuilder.on(CreateImageCommand).resolves({ imageBuildVersionArn: `${IMAGES}/1` });
    await isComplete(event('Create', 'req-9'));
    await isComplete(event('Create', 'req-9'));
    await isComplete(event('Create', 'req-10'));
    const tokens = imagebuilder.commandCalls(CreateImageCommand).map((c) => c.args[0].input.clientToken);
    expect(tokens[0]).toEqual(tokens[1]);
    expect(tokens[2]).not.toEqual(tokens[0]);
  });

  test('throttling is "not complete yet", never a failure', async () => {
    ec2.on(DescribeImagesCommand).rejects(throttled());
    expect(await isComplete(event('Create'))).toEqual({ IsComplete: false });
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    imagebuilder.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: [] });
    imagebuilder.on(CreateImageCommand).rejects(Object.assign(new Error('busy'), { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } }));
    expect(await isComplete(event('Update'))).toEqual({ IsComplete: false });
  });

  test('a signal the handle refuses with 5xx is retried, not failed', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [] }] });
    captureSignals(503);
    expect(await isComplete(event('Create'))).toEqual({ IsComplete: false });
  });

  test('a real error fails with a bounded, readable message', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    imagebuilder.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: [] });
    imagebuilder.on(CreateComponentCommand).rejects(Object.assign(new Error(`Invalid document\u0007 ${'x'.repeat(100_000)}`), { name: 'InvalidParameterValueException', $metadata: { httpStatusCode: 400 } }));
    const failure = isComplete(event('Create'));
    await expect(failure).rejects.toThrow(/^AMI bake s-web-1234abcd\/1\.179027883\.193031107 could not start\.\nError: InvalidParameterValueException: Invalid document x/);
    const message = await failure.then(() => '', (e: Error) => e.message);
    expect(Buffer.byteLength(message, 'utf8')).toBeLessThanOrEqual(2048);
    expect(message).not.toMatch(/\u0007/);
  });
});

describe('isComplete: result', () => {
  const resultEvent = (): any => ({ ...event('Create'), ResourceType: 'Custom::CdkImmutableDeploysAmiBakeResult', ResourceProperties: { ServiceToken: 'x', Mode: 'result', Fingerprint: FP } });

  test('is named by the fingerprint, and reads the AMI id of the AVAILABLE image', async () => {
    expect(await onEvent(resultEvent())).toEqual({ PhysicalResourceId: `result:${FP}` });
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [{ Key: 'Ec2ImageBuilderArn', Value: IMAGE }] }] });
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'AVAILABLE' } } });
    const signals = captureSignals();
    expect(await isComplete(resultEvent())).toEqual({ IsComplete: true, Data: { AmiId: 'ami-0123456789abcdef0', ImageArn: IMAGE } });
    expect(signals).toHaveLength(0);
    expect(imagebuilder.commandCalls(CreateImageCommand)).toHaveLength(0);
  });

  test('keeps the AMI its stack uses: an in-use tag of its own, and the keep tag the lifecycle policy excludes', async () => {
    // GIVEN: the AMI has no keep tag yet
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [{ Key: 'Ec2ImageBuilderArn', Value: IMAGE }] }] });
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'AVAILABLE' } } });
    // WHEN
    await isComplete(resultEvent());
    // THEN
    const inUse = inUseTag(resultEvent());
    expect(inUse).toEqual({ Key: expect.stringMatching(/^cdk-immutable-deploys:in-use:[0-9a-f]{24}$/), Value: 'S/Bake' });
    expect(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)).toEqual([{
      Resources: ['ami-0123456789abcdef0'],
      Tags: [inUse, { Key: 'cdk-immutable-deploys:keep', Value: 'true' }, { Key: 'cdk-immutable-deploys:kept-by', Value: 'cdk-immutable-deploys' }],
    }]);
    // Another stack's result has its own tag.
    expect(inUseTag({ StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Prod/2', LogicalResourceId: 'Bake' }).Key).not.toEqual(inUse.Key);
  });

  test('a keep tag a user set is left alone; an AMI already tagged for this result is not tagged again', async () => {
    const inUse = inUseTag(resultEvent());
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [{ Key: 'cdk-immutable-deploys:keep', Value: 'true' }] }] });
    await isComplete(resultEvent());
    expect(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input.Tags)).toEqual([[inUse]]);
    ec2.reset();
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [inUse, { Key: 'cdk-immutable-deploys:keep', Value: 'true' }] }] });
    expect(await isComplete(resultEvent())).toMatchObject({ IsComplete: true });
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });

  test('deleting the result releases the AMI: the last user removes the keep tag it set, never one a user set', async () => {
    const inUse = inUseTag(resultEvent());
    const other = { Key: 'cdk-immutable-deploys:in-use:000000000000000000000000', Value: 'Prod/Bake' };
    const kept = [{ Key: 'cdk-immutable-deploys:keep', Value: 'true' }, { Key: 'cdk-immutable-deploys:kept-by', Value: 'cdk-immutable-deploys' }];
    const deleteEvent = { ...resultEvent(), RequestType: 'Delete', PhysicalResourceId: `result:${FP}` };
    // Last user: both tags go.
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [inUse, ...kept] }] });
    expect(await isComplete(deleteEvent)).toEqual({ IsComplete: true });
    expect(ec2.commandCalls(DescribeImagesCommand)[0].args[0].input).toMatchObject({ Owners: ['self'], Filters: [{ Name: 'tag-key', Values: [inUse.Key] }] });
    expect(ec2.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: ['ami-0123456789abcdef0'], Tags: [{ Key: inUse.Key }] },
      { Resources: ['ami-0123456789abcdef0'], Tags: [{ Key: 'cdk-immutable-deploys:keep' }, { Key: 'cdk-immutable-deploys:kept-by' }] },
    ]);
    // Another stack still uses it: the keep tag stays.
    ec2.reset();
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [inUse, other, ...kept] }] });
    await isComplete(deleteEvent);
    expect(ec2.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input.Tags)).toEqual([[{ Key: inUse.Key }]]);
    // A user's keep tag (no kept-by) stays.
    ec2.reset();
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Tags: [inUse, kept[0]] }] });
    await isComplete(deleteEvent);
    expect(ec2.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input.Tags)).toEqual([[{ Key: inUse.Key }]]);
    // Throttling is "not complete yet"; other errors never block the delete.
    ec2.reset();
    ec2.on(DescribeImagesCommand).rejects(throttled());
    expect(await isComplete(deleteEvent)).toEqual({ IsComplete: false });
    ec2.on(DescribeImagesCommand).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } }));
    expect(await isComplete(deleteEvent)).toEqual({ IsComplete: true });
  });

  test('an AMI not visible yet is "not complete yet"; deleting a result cancels nothing', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    expect(await isComplete(resultEvent())).toEqual({ IsComplete: false });
    expect(await isComplete({ ...resultEvent(), RequestType: 'Delete', PhysicalResourceId: `result:${FP}` })).toEqual({ IsComplete: true });
    expect(imagebuilder.commandCalls(CancelImageCreationCommand)).toHaveLength(0);
  });
});

describe('isComplete: delete', () => {
  test('cancels a bake of this recipe version that is still running, and only that one', async () => {
    imagebuilder.on(ListImageBuildVersionsCommand, { imageVersionArn: IMAGES }).resolves({
      imageSummaryList: [
        { arn: `${IMAGES}/1`, state: { status: 'FAILED' } },
        { arn: `${IMAGES}/2`, state: { status: 'BUILDING' } },
        { arn: `${IMAGES}/3`, state: { status: 'AVAILABLE' } },
      ],
    });
    imagebuilder.on(CancelImageCreationCommand).resolves({});
    expect(await isComplete(event('Delete'))).toEqual({ IsComplete: true });
    const cancels = imagebuilder.commandCalls(CancelImageCreationCommand);
    expect(cancels.map((c) => c.args[0].input.imageBuildVersionArn)).toEqual([`${IMAGES}/2`]);
  });

  test('an image already gone, or a recipe version never created, completes the delete', async () => {
    imagebuilder.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: [{ arn: `${IMAGES}/2`, state: { status: 'TESTING' } }] });
    imagebuilder.on(CancelImageCreationCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    expect(await isComplete(event('Delete'))).toEqual({ IsComplete: true });
    imagebuilder.reset();
    imagebuilder.on(ListImageBuildVersionsCommand).rejects(new ResourceNotFoundException({ message: 'no such recipe', $metadata: {} }));
    expect(await isComplete(event('Delete'))).toEqual({ IsComplete: true });
    expect(await isComplete({ ...event('Delete'), PhysicalResourceId: 'not-a-recipe' })).toEqual({ IsComplete: true });
  });

  test('throttling while cancelling is "not complete yet"; other errors never block the delete', async () => {
    imagebuilder.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: [{ arn: `${IMAGES}/2`, state: { status: 'BUILDING' } }] });
    imagebuilder.on(CancelImageCreationCommand).rejects(throttled());
    expect(await isComplete(event('Delete'))).toEqual({ IsComplete: false });
    imagebuilder.on(ListImageBuildVersionsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));
    expect(await isComplete(event('Delete'))).toEqual({ IsComplete: true });
  });
});

describe('reporter', () => {
  const reporterEvent = { imageArn: IMAGE, handle: HANDLE };

  test('AVAILABLE: signals success with the AMI id of this region as the data', async () => {
    imagebuilder.on(GetImageCommand, { imageBuildVersionArn: IMAGE }).resolves({
      image: { state: { status: 'AVAILABLE' }, outputResources: { amis: [{ region: 'us-east-1', image: 'ami-0000000000000aaaa' }, { region: 'eu-west-1', image: 'ami-0123456789abcdef0' }] } },
    });
    const signals = captureSignals();
    await report(reporterEvent);
    expect(signals).toHaveLength(1);
    expect(signals[0].body).toEqual(JSON.stringify({ Status: 'SUCCESS', Reason: `Baked ami-0123456789abcdef0 (${IMAGE})`, UniqueId: 'bake', Data: 'ami-0123456789abcdef0' }));
  });

  test('FAILED: signals failure with the reason, failed step and component, log tail and log group', async () => {
    // GIVEN
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'FAILED', reason: 'Image build failed: step ExecuteBash failed' } } });
    imagebuilder.on(ListWorkflowExecutionsCommand).resolves({ workflowExecutions: [{ workflowExecutionId: 'wf-1', status: 'FAILED', type: 'BUILD' }, { workflowExecutionId: 'wf-2', status: 'COMPLETED', type: 'TEST' }] });
    imagebuilder.on(ListWorkflowStepExecutionsCommand, { workflowExecutionId: 'wf-1' }).resolves({
      steps: [{ name: 'LaunchBuildInstance', action: 'LaunchInstance', status: 'COMPLETED' }, { name: 'ApplyBuildComponents', action: 'ExecuteComponents', status: 'FAILED', message: 'Document arn:aws:imagebuilder:eu-west-1:123456789012:component/s-web-1234abcd-abababababababab-s1/1.179027883.193031107/1 failed!' }],
    });
    logs.on(GetLogEventsCommand, { logGroupName: '/aws/imagebuilder/s-web-1234abcd', logStreamName: '1.179027883.193031107/1' }).resolves({
      events: [{ message: 'Phase build' }, { message: 'Step Run: dnf install -y nginxx' }, { message: '\u001b[31mError: Unable to find a match: nginxx\u001b[0m' }],
    });
    const signals = captureSignals();
    // WHEN
    await report(reporterEvent);
    // THEN: the exact body
    expect(signals).toHaveLength(1);
    expect(JSON.parse(signals[0].body)).toEqual({
      Status: 'FAILURE',
      Reason: [
        `AMI bake FAILED: ${IMAGE}`,
        'Reason: Image build failed: step ExecuteBash failed',
        'Failed step: BUILD step ApplyBuildComponents (ExecuteComponents): Document arn:aws:imagebuilder:eu-west-1:123456789012:component/s-web-1234abcd-abababababababab-s1/1.179027883.193031107/1 failed!',
        'Failed component: s-web-1234abcd-abababababababab-s1',
        'Log tail: Phase build\nStep Run: dnf install -y nginxx\nError: Unable to find a match: nginxx',
        'Full log: CloudWatch Logs group /aws/imagebuilder/s-web-1234abcd, stream 1.179027883.193031107/1',
      ].join('\n'),
      UniqueId: 'bake',
      Data: IMAGE,
    });
  });

  test('CANCELLED: signals failure with the state reason and where the log is', async () => {
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'CANCELLED', reason: 'Image creation cancelled by CancelImageCreation' } } });
    imagebuilder.on(ListWorkflowExecutionsCommand).resolves({ workflowExecutions: [] });
    logs.on(GetLogEventsCommand).rejects(Object.assign(new Error('no stream'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }));
    const signals = captureSignals();
    await report(reporterEvent);
    expect(JSON.parse(signals[0].body)).toEqual({
      Status: 'FAILURE',
      Reason: [
        `AMI bake CANCELLED: ${IMAGE}`,
        'Reason: Image creation cancelled by CancelImageCreation',
        'Log tail: (no build log: the instance never started logging)',
        'Full log: CloudWatch Logs group /aws/imagebuilder/s-web-1234abcd, stream 1.179027883.193031107/1',
      ].join('\n'),
      UniqueId: 'bake',
      Data: IMAGE,
    });
  });

  test('a 100 KB reason and log stay bounded, printable and end with the log tail', async () => {
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'FAILED', reason: `boom\u0000${'r'.repeat(100_000)}` } } });
    imagebuilder.on(ListWorkflowExecutionsCommand).resolves({ workflowExecutions: [] });
    logs.on(GetLogEventsCommand).resolves({ events: Array.from({ length: 100 }, (_, i) => ({ message: `${'l'.repeat(1_000)} line ${i}\u0007` })) });
    const signals = captureSignals();
    await report(reporterEvent);
    const body = signals[0].body;
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThan(4096);
    const signal = JSON.parse(body);
    expect(Buffer.byteLength(signal.Reason, 'utf8')).toBeLessThanOrEqual(2048);
    expect(signal.Reason).not.toMatch(/[\u0000\u0007]/);
    expect(signal.Reason).toMatch(/^AMI bake FAILED: /);
    expect(signal.Reason).toContain('line 99');
    expect(signal.Reason).toContain('Full log: CloudWatch Logs group /aws/imagebuilder/s-web-1234abcd');
  });

  test('throttling is retried and never becomes a failure signal', async () => {
    imagebuilder.on(GetImageCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({
      image: { state: { status: 'AVAILABLE' }, outputResources: { amis: [{ region: 'eu-west-1', image: 'ami-0123456789abcdef0' }] } },
    });
    const signals = captureSignals();
    await report(reporterEvent);
    expect(signals.map((s) => JSON.parse(s.body).Status)).toEqual(['SUCCESS']);
    // Throttled beyond the budget: the invocation fails (Lambda retries it), and nothing is signalled.
    imagebuilder.on(GetImageCommand).rejects(throttled());
    await expect(report(reporterEvent)).rejects.toThrow(/Rate exceeded/);
    expect(signals).toHaveLength(1);
  });

  test('an image that has not ended is not signalled', async () => {
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'TESTING' } } });
    const signals = captureSignals();
    await report(reporterEvent);
    expect(signals).toHaveLength(0);
  });

  test('helpers: log location and failed component', () => {
    expect(logLocation(IMAGE)).toEqual({ group: '/aws/imagebuilder/s-web-1234abcd', stream: '1.179027883.193031107/1' });
    expect(failedComponent(['ran arn:aws:imagebuilder:eu-west-1:123456789012:component/a/1.0.0/1', 'arn:aws:imagebuilder:eu-west-1:123456789012:component/b/1.0.0/1 failed'])).toBe('b');
    expect(failedComponent(['nothing here'])).toBeUndefined();
  });
});
