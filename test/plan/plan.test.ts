import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationClient, DescribeStackResourceCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand as DescribeAmisCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { GetImageCommand, ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { mockClient } from 'aws-sdk-client-mock';
import { BASE, cleanUp, synthesize } from './fixtures';
import { EXIT, main } from '../../src/plan/cli';
import type { Plan, StackPlan } from '../../src/plan/plan';

/**
 * The plan command end to end, on four synthesized assemblies of one app (an image on Fargate, an
 * AMI on an Auto Scaling group): the base, a one-line code change, an AMI step change, and the base
 * with a second stage. Each is synthesized once (an AmiBake synth costs about a second).
 */
let base: string;
let codeChange: string;
let amiChange: string;
let withStage: string;

beforeAll(() => {
  base = synthesize(BASE);
  codeChange = synthesize({ ...BASE, site: '<h1>hello, world</h1>' });
  amiChange = synthesize({ ...BASE, step: 'dnf install -y nginx httpd-tools' });
  withStage = synthesize({ ...BASE, prodStage: true });
});
afterAll(() => cleanUp());

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(['plan', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

async function planOf(...args: string[]): Promise<Plan> {
  const result = await run(...args, '--json');
  expect(result.stderr).toEqual('');
  return JSON.parse(result.stdout);
}

function stack(plan: Plan, name: string): StackPlan {
  const found = plan.stacks.find((s) => s.name === name);
  if (!found) throw new Error(`no stack ${name} in ${plan.stacks.map((s) => s.name).join(', ')}`);
  return found;
}

/** The changes of a stack's rows, by path. */
function changes(s: StackPlan) {
  return {
    artifacts: Object.fromEntries(s.artifacts.map((a) => [a.path, a.change])),
    deployments: Object.fromEntries(s.deployments.map((d) => [d.path, `${d.change}${d.because.length > 0 ? ` because ${d.because.join(', ')}` : ''}`])),
  };
}

function fingerprintOf(assembly: string, kind: string): string {
  const template = JSON.parse(fs.readFileSync(path.join(assembly, 'Web.template.json'), 'utf8'));
  for (const resource of Object.values<any>(template.Resources)) {
    const metadata = resource.Metadata?.['cdk-immutable-deploys:plan'];
    if (metadata?.kind === kind) return metadata.fingerprint;
  }
  throw new Error(`no ${kind} in ${assembly}`);
}

describe('offline: plan BEFORE AFTER', () => {
  test('a one-line code change builds the image and replaces the service, by its strategy, because of the image; the fleet stays', async () => {
    const plan = await planOf(base, codeChange);

    expect(plan.mode).toEqual('offline');
    const web = stack(plan, 'Web');
    expect(changes(web)).toEqual({
      artifacts: { 'Web/Image': 'build', 'Web/Ami': 'unchanged' },
      deployments: { 'Web/Web': 'replace because Web/Image', 'Web/Fleet': 'unchanged' },
    });
    expect(web.artifacts.find((a) => a.path === 'Web/Image')).toEqual({
      path: 'Web/Image', kind: 'container-image', fingerprint: fingerprintOf(codeChange, 'container-image'), change: 'build',
    });
    expect(web.deployments.find((d) => d.path === 'Web/Web')?.strategy).toEqual('rolling, 100%/200%, circuit breaker rolls back');
    // What `cdk diff` shows (the jobs resource's properties, a new wait) is the artifact's, not another change.
    expect(web.otherChanges).toEqual({});
    expect(web.permissionsBroadened).toBe(false);
  });

  test('an AMI step change bakes the AMI and replaces the group with a new one beside it', async () => {
    const web = stack(await planOf(base, amiChange), 'Web');

    expect(changes(web)).toEqual({
      artifacts: { 'Web/Image': 'unchanged', 'Web/Ami': 'build' },
      deployments: { 'Web/Web': 'unchanged', 'Web/Fleet': 'replace because Web/Ami' },
    });
    expect(web.deployments.find((d) => d.path === 'Web/Fleet')?.strategy).toEqual('new group beside the old, cut over on 2 signals, within 15 min');
    // The distribution configuration names the AMI by fingerprint: an update, counted apart.
    expect(web.otherChanges).toEqual({ WILL_UPDATE: 1 });
  });

  test('a revert shows the old fingerprint as a build: offline, BEFORE alone cannot tell it was built before', async () => {
    const result = await run(codeChange, base);
    const plan = await planOf(codeChange, base);

    const web = stack(plan, 'Web');
    expect(web.artifacts.find((a) => a.path === 'Web/Image')).toMatchObject({ fingerprint: fingerprintOf(base, 'container-image'), change: 'build' });
    expect(changes(web).deployments['Web/Web']).toEqual('replace because Web/Image');
    expect(result.stdout).toMatch(/Leave out BEFORE to ask the account/);
  });

  test('a no-op: a second synth of the same sources (another checkout path) changes nothing', async () => {
    // The Web stack of withStage is a second synth of base's, from another context directory.
    const web = stack(await planOf(base, withStage), 'Web');

    expect(changes(web)).toEqual({
      artifacts: { 'Web/Image': 'unchanged', 'Web/Ami': 'unchanged' },
      deployments: { 'Web/Web': 'unchanged', 'Web/Fleet': 'unchanged' },
    });
    expect(web.otherChanges).toEqual({});
    expect(web.permissionsBroadened).toBe(false);
    expect(fs.readFileSync(path.join(withStage, 'Web.template.json'), 'utf8')).toEqual(fs.readFileSync(path.join(base, 'Web.template.json'), 'utf8'));
  });

  test('a new stage (a nested assembly): its AMI is reused by fingerprint, its image is built into its own new repository', async () => {
    const prod = stack(await planOf(base, withStage), 'Prod/Web');

    expect(changes(prod)).toEqual({
      artifacts: { 'Prod/Web/Image': 'added', 'Prod/Web/Ami': 'reuse' },
      deployments: { 'Prod/Web/Web': 'added', 'Prod/Web/Fleet': 'added' },
    });
    expect(prod.permissionsBroadened).toBe(true);
    expect(prod.otherChanges.WILL_CREATE).toBeGreaterThan(10);
    expect(prod.notes).toEqual(['not in BEFORE: every resource is new.']);
  });

  test('the table: a section per stack with artifacts, deployments, permissions and other changes', async () => {
    const { code, stdout } = await run(base, codeChange);

    expect(code).toEqual(EXIT.OK);
    const short = fingerprintOf(codeChange, 'container-image').slice(0, 16);
    expect(stdout).toMatch(/^Stack Web\nArtifacts\n {2}PATH +KIND +FINGERPRINT +CHANGE\n/);
    expect(stdout).toMatch(new RegExp(`\\n {2}Web/Image +container-image +${short} +build\\n`));
    expect(stdout).toMatch(/\n {2}Web\/Web +fargate-service +replace +rolling, 100%\/200%, circuit breaker rolls back +Web\/Image\n/);
    expect(stdout).toMatch(/\n {2}Web\/Fleet +auto-scaling-group +unchanged +new group beside the old, cut over on 2 signals, within 15 min +-\n/);
    expect(stdout).toMatch(/\nIAM permissions: do not broaden\nOther resource changes: none\n/);
  });

  test('the JSON document has the documented fields, and only them per row', async () => {
    const plan = await planOf(base, codeChange);

    const web = stack(plan, 'Web');
    expect(Object.keys(web).sort()).toEqual(['artifacts', 'deployments', 'name', 'notes', 'otherChanges', 'permissionsBroadened']);
    for (const a of web.artifacts) expect(Object.keys(a).sort()).toEqual(['change', 'fingerprint', 'kind', 'path']);
    for (const d of web.deployments) expect(Object.keys(d).sort()).toEqual(['because', 'change', 'kind', 'path', 'strategy']);
  });
});

describe('--fail-on', () => {
  test('replace, build and broaden trip on what they name, with exit code 2 and the reasons on stderr', async () => {
    const replace = await run(base, codeChange, '--fail-on', 'replace');
    expect(replace.code).toEqual(EXIT.TRIPPED);
    expect(replace.stderr).toMatch(/replace: Web\/Web is replaced \(rolling/);

    const build = await run(base, amiChange, '--fail-on=build');
    expect(build.code).toEqual(EXIT.TRIPPED);
    expect(build.stderr).toMatch(/build: Web\/Ami is built \(ami /);

    const broaden = await run(base, withStage, '--fail-on', 'broaden');
    expect(broaden.code).toEqual(EXIT.TRIPPED);
    expect(broaden.stderr).toMatch(/broaden: IAM permissions of Prod\/Web broaden/);
  });

  test('a plan that trips nothing exits 0: no permissions broaden on a code change, nothing at all on a no-op', async () => {
    expect((await run(base, codeChange, '--fail-on', 'broaden')).code).toEqual(EXIT.OK);
    const noop = await run(base, base, '--fail-on', 'replace,build,broaden', '--json');
    expect({ code: noop.code, stderr: noop.stderr }).toEqual({ code: EXIT.OK, stderr: '' });
  });

  test('an unknown check, option or a missing AFTER is an error with exit code 1 and the usage', async () => {
    const unknown = await run(base, codeChange, '--fail-on', 'delete');
    expect(unknown.code).toEqual(EXIT.ERROR);
    expect(unknown.stderr).toMatch(/unknown --fail-on value 'delete': pass one of replace, build, broaden/);
    expect(unknown.stderr).toMatch(/Usage: cdk-immutable-deploys plan/);

    expect((await run('--frobnicate', base)).stderr).toMatch(/unknown option '--frobnicate'/);
    expect((await run()).stderr).toMatch(/missing AFTER/);
    expect((await run(base, base, base)).stderr).toMatch(/too many arguments/);
    const notAssembly = await run(base, path.join(base, 'nowhere'));
    expect(notAssembly.code).toEqual(EXIT.ERROR);
    expect(notAssembly.stderr).toMatch(/nowhere is not a cloud assembly: it has no manifest.json/);
  });
});

describe('online: plan AFTER against the account', () => {
  const cloudformation = mockClient(CloudFormationClient);
  const ecr = mockClient(ECRClient);
  const ec2 = mockClient(EC2Client);
  const imagebuilder = mockClient(ImagebuilderClient);
  const region = process.env.AWS_REGION;

  beforeEach(() => {
    for (const m of [cloudformation, ecr, ec2, imagebuilder]) m.reset();
    process.env.AWS_REGION = 'eu-west-1';
  });
  afterAll(() => {
    for (const m of [cloudformation, ecr, ec2, imagebuilder]) m.restore();
    if (region === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = region;
  });

  const missing = (message: string) => Object.assign(new Error(message), { name: 'ValidationError' });

  /** The account runs `deployed`'s Web stack; Prod-Web is not deployed. */
  function account(deployed: string): void {
    const template = fs.readFileSync(path.join(deployed, 'Web.template.json'), 'utf8');
    // What CloudFormation answers for a stack that does not exist (aws-behaviour.md #42, #43).
    cloudformation.on(GetTemplateCommand).callsFake((input) => Promise.reject(missing(`Stack with id ${input.StackName} does not exist`)));
    cloudformation.on(DescribeStackResourceCommand).callsFake((input) => Promise.reject(missing(`Stack with id ${input.StackName} does not exist`)));
    cloudformation.on(GetTemplateCommand, { StackName: 'Web', TemplateStage: 'Original' }).resolves({ TemplateBody: template });
    cloudformation.on(DescribeStackResourceCommand, { StackName: 'Web' }).resolves({
      StackResourceDetail: {
        LogicalResourceId: 'ImageRepository',
        ResourceType: 'AWS::ECR::Repository',
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
        PhysicalResourceId: 'web-imagerepository-abc',
        StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Web/0a1b',
      },
    });
    ecr.on(DescribeImagesCommand).rejects(Object.assign(new Error('The image requested does not exist'), { name: 'ImageNotFoundException' }));
    ec2.on(DescribeAmisCommand).resolves({ Images: [] });
  }

  test('a revert: ECR holds the old fingerprint tag, so the image is reused, not built; the service is still replaced', async () => {
    // GIVEN the account runs the code change, and still holds the image of the base
    account(codeChange);
    const tag = `fp-${fingerprintOf(base, 'container-image')}`;
    ecr.on(DescribeImagesCommand, { registryId: '123456789012', repositoryName: 'web-imagerepository-abc', imageIds: [{ imageTag: tag }] })
      .resolves({ imageDetails: [{ imageDigest: 'sha256:0123', imageTags: [tag], imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' }] });

    // WHEN
    const plan = await planOf(base);

    // THEN
    expect(plan.mode).toEqual('online');
    const web = stack(plan, 'Web');
    expect(changes(web)).toEqual({
      artifacts: { 'Web/Image': 'reuse', 'Web/Ami': 'unchanged' },
      deployments: { 'Web/Web': 'replace because Web/Image', 'Web/Fleet': 'unchanged' },
    });
    expect(web.notes).toEqual(['Web/Image: reuses web-imagerepository-abc@sha256:0123']);
  });

  test('an AMI step change whose fingerprint was baked before (AVAILABLE, tagged): reused; one never baked: built', async () => {
    account(base);
    const fingerprint = fingerprintOf(amiChange, 'ami');
    ec2.on(DescribeAmisCommand, { Filters: [{ Name: 'tag:cdk-immutable-deploys:fingerprint', Values: [fingerprint] }, { Name: 'state', Values: ['available'] }] })
      .resolves({ Images: [{ ImageId: 'ami-0fedcba9876543210', CreationDate: '2026-11-30T10:00:00.000Z', Tags: [{ Key: 'Ec2ImageBuilderArn', Value: 'arn:aws:imagebuilder:eu-west-1:123456789012:image/web/1.0.0/1' }] }] });
    // Image Builder's own record of the image names the AMI among its outputs (a tag alone proves nothing).
    imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'AVAILABLE' }, tags: { 'cdk-immutable-deploys:fingerprint': fingerprint }, outputResources: { amis: [{ region: 'eu-west-1', image: 'ami-0fedcba9876543210' }] } } });

    const reused = stack(await planOf(amiChange), 'Web');
    expect(changes(reused).artifacts['Web/Ami']).toEqual('reuse');
    expect(changes(reused).deployments['Web/Fleet']).toEqual('replace because Web/Ami');

    ec2.on(DescribeAmisCommand).resolves({ Images: [] });
    const built = stack(await planOf(amiChange), 'Web');
    expect(changes(built).artifacts['Web/Ami']).toEqual('build');
  });

  test('a stack that is not deployed: every resource new, its repository not yet created so its image is built, its AMI looked up', async () => {
    account(base);

    const prod = stack(await planOf(withStage), 'Prod/Web');

    expect(changes(prod).artifacts).toEqual({ 'Prod/Web/Image': 'added', 'Prod/Web/Ami': 'added' });
    expect(prod.notes).toEqual([
      'Prod-Web is not deployed: every resource is new.',
      expect.stringMatching(/^Prod\/Web\/Image: its repository \(ImageRepository\w+\) is not deployed yet, so the image is built\.$/),
    ]);
    expect(cloudformation.commandCalls(DescribeStackResourceCommand, { StackName: 'Prod-Web' }).length).toEqual(1);
    expect(ec2.commandCalls(DescribeAmisCommand).length).toEqual(1);
  });

  test('a repository the deployed stack does not hold yet (a new image construct): the image is built', async () => {
    account(base);
    cloudformation.on(DescribeStackResourceCommand, { StackName: 'Web' }).rejects(missing('Resource ImageRepositoryX does not exist for stack Web'));

    const web = stack(await planOf(codeChange), 'Web');

    expect(changes(web).artifacts['Web/Image']).toEqual('build');
    expect(web.notes).toEqual([expect.stringMatching(/^Web\/Image: its repository \(ImageRepository\w+\) is not deployed yet/)]);
  });

  test('permissions refused: exit 1, naming the call, the stack and every permission the plan needs', async () => {
    cloudformation.on(GetTemplateCommand).rejects(Object.assign(new Error('User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:GetTemplate'), { name: 'AccessDenied' }));

    const result = await run(base);

    expect(result.code).toEqual(EXIT.ERROR);
    expect(result.stderr).toMatch(/cloudformation:GetTemplate for stack Web was refused \(AccessDenied: User: .* is not authorized/);
    expect(result.stderr).toMatch(/needs cloudformation:GetTemplate, cloudformation:DescribeStackResource, ecr:DescribeImages, ecr:DescribeRegistry, ec2:DescribeImages, imagebuilder:GetImage/);
  });
});
