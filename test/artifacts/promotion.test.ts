/**
 * Promotion as synthesized: imports by fingerprint (a lookup of the stack's one runtime), sharing
 * from the bake and build side, passing artifact objects between stacks without an export lock, and
 * the fingerprint reaching every stage unchanged.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fullDiff } from '@aws-cdk/cloudformation-diff';
import { App, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  AmiArtifact, AmiBake, BakeStep, BaseImage, ContainerArtifact, ContainerImageBuild, ImmutableAutoScalingGroup, ImmutableFargateService,
} from '../../src';
import { jobOf, runtimeStatements } from '../internal/runtime/jobs';
import { newTestApp, validate } from '../kit';
import { atSynth } from '../synth-errors';

const TOOLING = { account: '111111111111', region: 'eu-west-1' };
const STAGING = { account: '222222222222', region: 'eu-west-1' };
const PROD = { account: '333333333333', region: 'us-east-1' };
const FP = 'ab'.repeat(32);
const FP2 = 'cd'.repeat(32);

function context(content = '<h1>hello</h1>'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promotion-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/\n');
  fs.writeFileSync(path.join(dir, 'index.html'), content);
  return dir;
}

const lookups = (template: Template) => Object.values<any>(template.findResources('Custom::CdkImmutableDeploysLookup'));
const vpcOf = (stack: Stack) => ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['a', 'b'], privateSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'],
});

describe('AmiArtifact.fromFingerprint', () => {
  test('one lookup resource of the stack\'s runtime: the fingerprint and owner in its properties, the AMI id from its Id', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    // WHEN
    const artifact = AmiArtifact.fromFingerprint(stack, 'Web', { fingerprint: FP, owner: TOOLING.account, sourceRegion: TOOLING.region });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    const [lookup] = lookups(template);
    expect(lookup.Properties).toMatchObject({ Kind: 'ami-lookup', Path: 'Prod/Web', Fingerprint: FP, Spec: { Owner: TOOLING.account, SourceRegion: TOOLING.region }, ServiceTimeout: '900' });
    expect(lookup.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CdkImmutableDeploysRuntime/), 'Arn'] });
    expect(stack.resolve(artifact.amiId)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^WebLookup/), 'Id'] });
    expect(artifact.fingerprint).toBe(FP);
    expect(stack.resolve(artifact.machineImage.getImage(stack).imageId)).toEqual(stack.resolve(artifact.amiId));
  });

  test('its policy: ec2:DescribeImages, beyond the holds every runtime may keep; the same for 1 and 10 imports, and no broadening when only the fingerprint changes', () => {
    const stackWith = (n: number, fingerprint = FP) => {
      const stack = new Stack(new App(), 'Prod', { env: PROD });
      for (let i = 0; i < n; i++) AmiArtifact.fromFingerprint(stack, `Web${i}`, { fingerprint, owner: TOOLING.account });
      return Template.fromStack(stack);
    };
    const actions = runtimeStatements(stackWith(1)).flatMap((s) => [s.Action].flat());
    expect(actions).toContain('ec2:DescribeImages');
    expect(actions.filter((a) => !a.startsWith('ssm:') && !a.startsWith('events:') && !a.startsWith('cloudformation:'))).toEqual(['ec2:CreateTags', 'ec2:DeleteTags', 'ec2:DescribeImages']);
    expect(JSON.stringify(runtimeStatements(stackWith(10)))).toEqual(JSON.stringify(runtimeStatements(stackWith(1))));
    const diff = fullDiff(stackWith(1).toJSON(), stackWith(1, FP2).toJSON());
    expect(diff.isEmpty).toBe(false);
    expect(diff.permissionsBroadened).toBe(false);
  });

  test('the same fingerprint synthesizes the same template (a redeploy changes nothing, calls nothing)', () => {
    const synth = () => Template.fromStack((() => {
      const stack = new Stack(new App(), 'Prod', { env: PROD });
      AmiArtifact.fromFingerprint(stack, 'Web', { fingerprint: FP, owner: TOOLING.account });
      return stack;
    })()).toJSON();
    expect(JSON.stringify(synth())).toEqual(JSON.stringify(synth()));
  });

  test.each([
    ['fingerprint', { fingerprint: 'latest' }, /AmiArtifact.fromFingerprint\(\): fingerprint 'latest' is not a fingerprint. Pass the artifact's fingerprint/],
    ['owner', { fingerprint: FP, owner: 'tooling' }, /owner 'tooling' is not an AWS account id/],
    ['sourceRegion', { fingerprint: FP, sourceRegion: 'Ireland' }, /sourceRegion 'Ireland' is not a region name/],
  ])('a wrong %s is an error that shows the value and says what to pass', (_prop, props, message) => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    expect(() => AmiArtifact.fromFingerprint(stack, 'Web', props)).toThrow(message);
  });

  test('a fingerprint known only at deploy time is not checked, and warns that it is not pinned; valueFromLookup\'s placeholder is not an error', () => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    AmiArtifact.fromFingerprint(stack, 'Web', { fingerprint: Token.asString({ Ref: 'Fingerprint' }) });
    Annotations.fromStack(stack).hasWarning('/Prod/Web', Match.stringLikeRegexp('cdk-immutable-deploys:fingerprint-not-pinned'));
    expect(() => AmiArtifact.fromFingerprint(stack, 'Other', { fingerprint: 'dummy-value-for-/app/web/fingerprint' })).not.toThrow();
  });
});

describe('ContainerArtifact.fromFingerprint', () => {
  const repositoryArn = `arn:aws:ecr:${TOOLING.region}:${TOOLING.account}:repository/web`;

  test('a lookup of the fingerprint tag in the repository; the task runs the digest it resolves, and the execution role may pull', () => {
    // GIVEN
    const app = newTestApp();
    const stack = new Stack(app, 'Staging', { env: STAGING });
    const repository = ecr.Repository.fromRepositoryArn(stack, 'Repo', repositoryArn);
    // WHEN
    const artifact = ContainerArtifact.fromFingerprint(stack, 'Image', { repository, fingerprint: FP });
    new ImmutableFargateService(stack, 'Web', { vpc: vpcOf(stack), artifact });
    // THEN
    const { template, findings } = validate(stack);
    expect(findings).toEqual([]);
    const [lookup] = lookups(template);
    expect(lookup.Properties).toMatchObject({ Kind: 'image-lookup', Fingerprint: FP, Spec: { RepositoryUri: { 'Fn::Join': ['', [`${TOOLING.account}.dkr.ecr.${TOOLING.region}.`, { Ref: 'AWS::URLSuffix' }, '/web']] } } });
    expect(artifact.imageTag).toBe(`fp-${FP}`);
    const [taskDefinition] = Object.values<any>(template.findResources('AWS::ECS::TaskDefinition'));
    expect(JSON.stringify(taskDefinition.Properties.ContainerDefinitions[0].Image)).toMatch(/"\/web@",\{"Fn::GetAtt":\["ImageLookup[0-9A-F]+","Id"\]\}/);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain('ecr:BatchGetImage');
    // One read-only statement for every import (review #20): a repository of another account allows it in its own policy.
    expect(runtimeStatements(template).filter((s) => [s.Action].flat().includes('ecr:DescribeImages')).map((s) => s.Resource))
      .toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:*:*:repository/*']] }]);
  });

  test('two fingerprints of one repository, and another repository, share one grant: an import never changes IAM (no broadening, no approval; review #20)', () => {
    const policyOf = (repositories: number) => {
      const stack = new Stack(new App(), 'Staging', { env: STAGING });
      const repository = ecr.Repository.fromRepositoryArn(stack, 'Repo', repositoryArn);
      ContainerArtifact.fromFingerprint(stack, 'A', { repository, fingerprint: FP });
      ContainerArtifact.fromFingerprint(stack, 'B', { repository, fingerprint: FP2 });
      if (repositories > 1) ContainerArtifact.fromFingerprint(stack, 'C', { repository: ecr.Repository.fromRepositoryArn(stack, 'Other', repositoryArn.replace('/web', '/api')), fingerprint: FP });
      return runtimeStatements(Template.fromStack(stack));
    };
    expect(policyOf(1).filter((s) => [s.Action].flat().includes('ecr:DescribeImages'))).toHaveLength(1);
    expect(policyOf(2)).toEqual(policyOf(1));
  });

  test('a value that is not a fingerprint is an error', () => {
    const stack = new Stack(new App(), 'Staging', { env: STAGING });
    const repository = ecr.Repository.fromRepositoryArn(stack, 'Repo', repositoryArn);
    expect(() => ContainerArtifact.fromFingerprint(stack, 'A', { repository, fingerprint: `fp-${FP}` })).toThrow(/ContainerArtifact.fromFingerprint\(\): fingerprint 'fp-ab.*' is not a fingerprint/);
  });
});

describe('sharing from the bake and build side', () => {
  test('AmiBake: launch permissions and copies for the stages\' accounts and regions, KMS use for them and their Auto Scaling, copies held (tags granted per region), clean under the kit', () => {
    // GIVEN
    const app = newTestApp();
    const stack = new Stack(app, 'Bake', { env: TOOLING });
    const key = new kms.Key(stack, 'AmiKey', { enableKeyRotation: true });
    // WHEN
    new AmiBake(stack, 'Web', {
      baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'),
      steps: [BakeStep.shell(['echo baked'])],
      rootVolumeKey: key,
      distribution: { accounts: [STAGING.account, PROD.account], regions: [PROD.region], kmsKeyId: 'alias/ami' },
    });
    // THEN
    const { template, findings } = validate(stack);
    expect(findings).toEqual([]);
    const [distribution] = Object.values<any>(template.findResources('AWS::ImageBuilder::DistributionConfiguration'));
    const config = (d: any) => d.AmiDistributionConfiguration;
    const row = (d: any) => [d.Region, config(d).LaunchPermissionConfiguration.UserIds, config(d).KmsKeyId ?? null];
    const regions = distribution.Properties.Distributions.map(row);
    expect(regions)
      .toEqual([[TOOLING.region, [STAGING.account, PROD.account], null], [PROD.region, [STAGING.account, PROD.account], 'alias/ami']]);
    expect(distribution.Properties.Distributions.every((d: any) => d.AmiDistributionConfiguration.Description.endsWith(`fingerprint ${jobOf(template, 'Bake/Web').Fingerprint}`))).toBe(true);
    const [keyResource] = Object.values<any>(template.findResources('AWS::KMS::Key'));
    const shared = keyResource.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'CdkImmutableDeploysSharedAccounts');
    expect(JSON.stringify(shared.Principal)).toContain(STAGING.account);
    expect(JSON.stringify(shared.Principal)).toContain(PROD.account);
    expect(shared.Action).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:CreateGrant', 'kms:GenerateDataKey*', 'kms:ReEncrypt*', 'kms:DescribeKey']));
    expect(jobOf(template, 'Bake/Web').Spec.CopyRegions).toEqual([PROD.region]);
    const tagResources = runtimeStatements(template).filter((s) => [s.Action].flat().includes('ec2:CreateTags')).map((s) => JSON.stringify(s.Resource));
    expect(tagResources).toEqual([expect.stringContaining(':ec2:*::image/*')]);
  });

  test('ContainerImageBuild.shareWith: the repository lets those accounts pull and look up, nothing else; clean under the kit', () => {
    const app = newTestApp();
    const stack = new Stack(app, 'Build', { env: TOOLING });
    new ContainerImageBuild(stack, 'Web', { directory: context(), shareWith: [STAGING.account, PROD.account] });
    const { template, findings } = validate(stack);
    expect(findings).toEqual([]);
    const [repository] = Object.values<any>(template.findResources('AWS::ECR::Repository'));
    const statement = repository.Properties.RepositoryPolicyText.Statement.find((s: any) => s.Sid === 'CdkImmutableDeploysShareWith');
    expect(statement.Action.sort()).toEqual(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:GetDownloadUrlForLayer']);
    expect(JSON.stringify(statement.Principal)).toContain(`:iam::${STAGING.account}:root`);
    expect(repository.Properties.ImageTagMutability).toBe('IMMUTABLE');
  });

  test('shareWith on an imported repository warns that its policy must be changed by hand; a bad account id is an error', () => {
    const stack = new Stack(new App(), 'Build', { env: TOOLING });
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'web');
    new ContainerImageBuild(stack, 'Web', { directory: context(), repository, shareWith: [STAGING.account] });
    Annotations.fromStack(stack).hasWarning('/Build/Web', Match.stringLikeRegexp('cdk-immutable-deploys:share-with-imported-repository'));
    expect(atSynth(() => new ContainerImageBuild(stack, 'Bad', { directory: context(), shareWith: ['staging'] }))).toThrow(/Build\/Bad \[ContainerImageBuild\]: shareWith has 'staging', which is not an AWS account id/);
  });
});

describe('same account and region: passing the artifact object to a deployment in another stack', () => {
  function app(step = 'echo v1', html = '<h1>v1</h1>') {
    const a = new App();
    const bakeStack = new Stack(a, 'Artifacts', { env: TOOLING });
    const bake = new AmiBake(bakeStack, 'Web', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell([step])] });
    const image = new ContainerImageBuild(bakeStack, 'Image', { directory: context(html) });
    const deployStack = new Stack(a, 'Service', { env: TOOLING });
    const vpc = vpcOf(deployStack);
    new ImmutableAutoScalingGroup(deployStack, 'Fleet', { vpc, artifact: bake, instanceType: new ec2.InstanceType('t3.small') });
    new ImmutableFargateService(deployStack, 'Web', { vpc, artifact: image });
    return { bake, image, artifacts: Template.fromStack(bakeStack), service: Template.fromStack(deployStack) };
  }

  test('the consumer imports by fingerprint through its own runtime: no export of the AMI id or digest (no export lock)', () => {
    const { bake, image, artifacts, service } = app();
    const imports = JSON.stringify(service.toJSON()).match(/Fn::ImportValue[^}]*}/g) ?? [];
    // The only values the stacks share are the repository's name and ARN, which never change with the image.
    for (const i of imports) expect(i).toMatch(/Repository/);
    for (const output of Object.values<any>(artifacts.toJSON().Outputs ?? {})) expect(JSON.stringify(output.Value)).not.toMatch(/Wait|Data|Lookup/);
    expect(lookups(service).map((l) => [l.Properties.Kind, l.Properties.Fingerprint]).sort()).toEqual([['ami-lookup', bake.fingerprint], ['image-lookup', image.fingerprint]].sort());
    const [launchTemplate] = Object.values<any>(service.findResources('AWS::EC2::LaunchTemplate'));
    expect(JSON.stringify(launchTemplate.Properties.LaunchTemplateData.ImageId)).toMatch(/FleetImportedArtifactLookup[0-9A-F]+","Id"/);
  });

  test('a new artifact changes the consumer only in the fingerprints it looks up, and the producer exports nothing new', () => {
    const before = app();
    const after = app('echo v2', '<h1>v2</h1>');
    expect(after.bake.fingerprint).not.toBe(before.bake.fingerprint);
    expect(after.artifacts.toJSON().Outputs).toEqual(before.artifacts.toJSON().Outputs);
    const normalise = (t: Template, b: string, i: string) => JSON.stringify(t.toJSON()).split(b).join('<BAKE>').split(i).join('<IMAGE>');
    const expected = normalise(before.service, before.bake.fingerprint, before.image.fingerprint);
    expect(normalise(after.service, after.bake.fingerprint, after.image.fingerprint)).toEqual(expected);
  });

  test('a second stack that bakes the same fingerprint reuses the first one\'s AMI: the job is the same fingerprint, and the runtime finds AMIs of the account by it', () => {
    const a = new App();
    const one = new Stack(a, 'One', { env: TOOLING });
    const two = new Stack(a, 'Two', { env: TOOLING });
    const props = { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(['echo same'])] };
    const first = new AmiBake(one, 'Web', props);
    const second = new AmiBake(two, 'Web', props);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(jobOf(Template.fromStack(two), 'Two/Web').Fingerprint).toBe(jobOf(Template.fromStack(one), 'One/Web').Fingerprint);
  });
});

describe('promotion across accounts and regions: the fingerprint reaches every stage unchanged', () => {
  test('bake in tooling, staging in another account, production in a third account and region: every stage looks up the bake\'s fingerprint', () => {
    const a = new App();
    const tooling = new Stack(a, 'Tooling', { env: TOOLING });
    const key = new kms.Key(tooling, 'Key', { enableKeyRotation: true });
    const bake = new AmiBake(tooling, 'Web', {
      baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'),
      steps: [BakeStep.shell(['echo baked once'])],
      rootVolumeKey: key,
      distribution: { accounts: [STAGING.account, PROD.account], regions: [PROD.region], kmsKeyId: 'alias/ami' },
    });
    const image = new ContainerImageBuild(tooling, 'Image', { directory: context(), shareWith: [STAGING.account, PROD.account] });
    const stacks = [['Staging', STAGING], ['Production', PROD]].map(([name, env]) => {
      const stack = new Stack(a, name as string, { env: env as typeof STAGING });
      AmiArtifact.fromFingerprint(stack, 'Web', { fingerprint: bake.fingerprint, owner: TOOLING.account, sourceRegion: TOOLING.region });
      ContainerArtifact.fromFingerprint(stack, 'Image', { repository: ecr.Repository.fromRepositoryArn(stack, 'Repo', `arn:aws:ecr:${TOOLING.region}:${TOOLING.account}:repository/web`), fingerprint: image.fingerprint });
      return stack;
    });
    const stages = stacks.map((s) => Template.fromStack(s));
    const built = Template.fromStack(tooling);
    for (const stage of stages) {
      expect(lookups(stage).map((l) => l.Properties.Fingerprint).sort()).toEqual([jobOf(built, 'Tooling/Web').Fingerprint, jobOf(built, 'Tooling/Image').Fingerprint].sort());
    }
  });
});
