import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand as DescribeAmisCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { GetImageCommand, ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { bakeTemplate, BASE, cleanUp, handAssembly, planOf, run, stackOf as stack, synthesize, tempDir } from './fixtures';
import { EXIT } from '../../src/plan/cli';
import type { StackPlan } from '../../src/plan/plan';

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
      path: 'Web/Image', kind: 'container-image', fingerprint: fingerprintOf(codeChange, 'container-image'), change: 'build', changedInputs: ['context: index.html'],
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
    // There is no old group to stand beside: the new one is created.
    expect(prod.deployments.find((d) => d.path === 'Prod/Web/Fleet')?.strategy).toEqual('new group, created on 2 signals, within 15 min');
    expect(prod.deployments.find((d) => d.path === 'Prod/Web/Web')?.strategy).toEqual('created');
  });

  test('a stack whose environment changed is another stack: the new one is created, the old one listed as left', async () => {
    const stackIn = (environment: string) => handAssembly([{ id: 'Web', stackName: 'Web', environment, template: bakeTemplate('Web', 'a'.repeat(64)) }]);

    const plan = await planOf(stackIn('aws://111111111111/eu-west-1'), stackIn('aws://222222222222/eu-west-1'));

    expect(plan.stacks.map((s) => [s.name, s.account, s.change])).toEqual([['Web', '222222222222', 'create'], ['Web', '111111111111', 'removed']]);
    expect(plan.stacks[0].notes).toEqual(['BEFORE has it in 111111111111/eu-west-1, AFTER in 222222222222/eu-west-1: another environment is another stack, so every resource is new.']);
    expect(plan.stacks[0].artifacts).toEqual([expect.objectContaining({ path: 'Web/Ami', change: 'added' })]);
  });

  test('a stack in BEFORE and not in AFTER is listed: cdk deploy leaves it deployed as it is', async () => {
    const plan = await planOf(withStage, base);

    expect(plan.stacks.map((s) => [s.name, s.change])).toEqual([['Web', 'update'], ['Prod/Web', 'removed']]);
    expect(stack(plan, 'Prod/Web')).toMatchObject({ stackName: 'Prod-Web', artifacts: [], deployments: [], otherChanges: {} });
    expect(stack(plan, 'Prod/Web').notes).toEqual(['not in the assembly: cdk deploy leaves it deployed as it is (cdk destroy deletes it, with what its removal policies let go).']);
    const table = await run(withStage, base);
    expect(table.stdout).toMatch(/\nStack Prod\/Web \(any account\/any region\)\nDeploy: removed from the assembly\n/);
  });

  test('the table: a section per stack with artifacts, deployments, permissions and other changes', async () => {
    const { code, stdout } = await run(base, codeChange);

    expect(code).toEqual(EXIT.OK);
    const short = fingerprintOf(codeChange, 'container-image').slice(0, 16);
    expect(stdout).toMatch(/^Stack Web \(any account\/any region\)\nDeploy: update\nArtifacts\n {2}PATH +KIND +FINGERPRINT +CHANGE +BECAUSE\n/);
    expect(stdout).toMatch(new RegExp(`\\n {2}Web/Image +container-image +${short} +build +context: index.html\\n`));
    expect(stdout).toMatch(/\n {2}Web\/Web +fargate-service +replace +rolling, 100%\/200%, circuit breaker rolls back +Web\/Image\n/);
    expect(stdout).toMatch(/\n {2}Web\/Fleet +auto-scaling-group +unchanged +new group beside the old, cut over on 2 signals, within 15 min +-\n/);
    expect(stdout).toMatch(/\nIAM permissions: do not broaden\nOther resource changes: none\n/);
  });

  test('the JSON document has the documented fields, and only them per row', async () => {
    const plan = await planOf(base, codeChange);

    const web = stack(plan, 'Web');
    expect(Object.keys(web).sort()).toEqual([
      'account', 'artifacts', 'change', 'deployments', 'estimate', 'name', 'nestedIn', 'notes', 'otherChanges', 'permissionsBroadened', 'readWith', 'region', 'stackName', 'status',
    ]);
    expect(web).toMatchObject({ name: 'Web', stackName: 'Web', account: null, region: null, nestedIn: null, change: 'update', status: null, readWith: null });
    for (const a of web.artifacts) expect(Object.keys(a).sort()).toEqual(['change', 'changedInputs', 'fingerprint', 'kind', 'path']);
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

  test('an unknown check, option or too many arguments is an error with exit code 1 and the usage', async () => {
    const unknown = await run(base, codeChange, '--fail-on', 'delete');
    expect(unknown.code).toEqual(EXIT.ERROR);
    expect(unknown.stderr).toMatch(/unknown --fail-on value 'delete': pass one of replace, build, broaden/);
    expect(unknown.stderr).toMatch(/Usage: cdk-immutable-deploys plan/);

    expect((await run('--frobnicate', base)).stderr).toMatch(/unknown option '--frobnicate'/);
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
  const sts = mockClient(STSClient);
  const region = process.env.AWS_REGION;
  const LOOKUP_ROLE = 'arn:aws:iam::123456789012:role/cdk-hnb659fds-lookup-role-123456789012-eu-west-1';

  beforeEach(() => {
    for (const m of [cloudformation, ecr, ec2, imagebuilder, sts]) m.reset();
    process.env.AWS_REGION = 'eu-west-1';
    // The credentials are of 123456789012, whose lookup role they may assume (aws-behaviour.md #352, #353).
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/ci', UserId: 'AIDAEXAMPLE' });
    sts.on(AssumeRoleCommand, { RoleArn: LOOKUP_ROLE }).resolves({
      Credentials: { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) },
    });
  });
  afterAll(() => {
    for (const m of [cloudformation, ecr, ec2, imagebuilder, sts]) m.restore();
    if (region === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = region;
  });

  const missing = (message: string) => Object.assign(new Error(message), { name: 'ValidationError' });

  /** The account runs `deployed`'s Web stack; Prod-Web is not deployed. */
  function account(deployed: string): void {
    const template = fs.readFileSync(path.join(deployed, 'Web.template.json'), 'utf8');
    const webId = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Web/0a1b';
    // What CloudFormation answers for a stack that does not exist (aws-behaviour.md #58, #43).
    cloudformation.on(DescribeStacksCommand).callsFake((input) => Promise.reject(missing(`Stack with id ${input.StackName} does not exist`)));
    cloudformation.on(DescribeStacksCommand, { StackName: 'Web' }).resolves({
      Stacks: [{ StackName: 'Web', StackId: webId, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }],
    });
    cloudformation.on(GetTemplateCommand).callsFake((input) => Promise.reject(missing(`Stack with id ${input.StackName} does not exist`)));
    cloudformation.on(DescribeStackResourceCommand).callsFake((input) => Promise.reject(missing(`Stack with id ${input.StackName} does not exist`)));
    cloudformation.on(GetTemplateCommand, { StackName: webId, TemplateStage: 'Original' }).resolves({ TemplateBody: template });
    cloudformation.on(DescribeStackResourceCommand, { StackName: webId }).resolves({
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
    expect(prod).toMatchObject({ change: 'create', status: null, account: '123456789012', region: 'eu-west-1', readWith: LOOKUP_ROLE });
    expect(prod.notes).toEqual([
      'Prod-Web is not deployed: every resource is new.',
      expect.stringMatching(/^Prod\/Web\/Image: its repository \(ImageRepository\w+\) is created with the stack, so the image is built\.$/),
    ]);
    // Nothing of a stack that is not deployed is asked for; the AMI is looked up by fingerprint in the account.
    expect(cloudformation.commandCalls(DescribeStackResourceCommand, { StackName: 'Prod-Web' }).length).toEqual(0);
    expect(cloudformation.commandCalls(GetTemplateCommand, { StackName: 'Prod-Web' }).length).toEqual(0);
    expect(ec2.commandCalls(DescribeAmisCommand).length).toEqual(1);
  });

  test('a repository the deployed stack does not hold yet (a new image construct): the image is built', async () => {
    account(base);
    cloudformation.on(DescribeStackResourceCommand, { StackName: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Web/0a1b' })
      .rejects(missing('Resource ImageRepositoryX does not exist for stack Web'));

    const web = stack(await planOf(codeChange), 'Web');

    expect(changes(web).artifacts['Web/Image']).toEqual('build');
    expect(web.notes).toEqual([expect.stringMatching(/^Web\/Image: its repository \(ImageRepository\w+\) is not deployed yet/)]);
  });

  test('permissions refused: exit 1, naming the call, the stack, every permission the plan needs and the role it read with', async () => {
    account(base);
    cloudformation.on(GetTemplateCommand).rejects(Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: cloudformation:GetTemplate'), { name: 'AccessDenied' }));

    const result = await run(base);

    expect(result.code).toEqual(EXIT.ERROR);
    expect(result.stderr).toMatch(/cloudformation:GetTemplate for stack Web was refused \(AccessDenied: User: .* is not authorized/);
    expect(result.stderr).toMatch(/needs cloudformation:DescribeStacks, cloudformation:GetTemplate, cloudformation:DescribeStackResource, ecr:DescribeImages, ec2:DescribeImages, imagebuilder:GetImage, sts:AssumeRole on the bootstrap lookup roles/);
    expect(result.stderr).toMatch(/read with the bootstrap lookup role arn:aws:iam::123456789012:role\/cdk-hnb659fds-lookup-role-123456789012-eu-west-1, whose ReadOnlyAccess policy/);
  });

  test('with no assembly named, it plans cdk.out of the current directory, or the output cdk.json names', async () => {
    account(base);
    const cwd = process.cwd();
    const app = tempDir('plan-app-');
    try {
      process.chdir(app);
      fs.symlinkSync(base, path.join(app, 'cdk.out'));
      const plain = await run('--json');
      expect(plain.code).toEqual(EXIT.OK);
      expect(JSON.parse(plain.stdout).stacks.map((s: StackPlan) => s.name)).toEqual(['Web']);

      fs.writeFileSync(path.join(app, 'cdk.json'), JSON.stringify({ app: 'npx ts-node app.ts', output: 'build/cdk.out' }));
      const named = await run();
      expect(named.stderr).toMatch(/^cdk-immutable-deploys plan: build\/cdk.out is not a cloud assembly: it has no manifest.json/);
    } finally {
      process.chdir(cwd);
    }
  });
});
