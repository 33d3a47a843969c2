import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Lazy, Size, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AmiArtifact, AmiBake, AmiBakeProps, BakeStep, BaseImage, Fingerprint } from '../../../src';
import { arnText, jobOf, jobsOf, runtimeStatements } from '../../internal/runtime/jobs';
import { describeFindings, newTestApp, validate } from '../../kit';
import { atSynth } from '../../synth-errors';

const AL2023 = 'ami-0a1b2c3d4e5f67890';

function tmpFile(content: string, name = 'file.txt'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ami-bake-'));
  fs.writeFileSync(path.join(dir, name), content);
  return path.join(dir, name);
}

function tmpDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ami-bake-dir-'));
  for (const [f, c] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), c);
  return dir;
}

function baseProps(overrides: Partial<AmiBakeProps> = {}): AmiBakeProps {
  return {
    baseImage: BaseImage.fromAmiId(AL2023),
    steps: [BakeStep.shell(['dnf install -y nginx'])],
    testSteps: [BakeStep.shell(['test -x /usr/sbin/nginx'])],
    ...overrides,
  };
}

/** The fingerprint of a bake with these props, in a fresh app. */
function fingerprintOf(overrides: Partial<AmiBakeProps> = {}, stackProps = {}): string {
  const stack = new Stack(undefined, 'S', stackProps);
  return new AmiBake(stack, 'Bake', baseProps(overrides)).fingerprint;
}

describe('AmiBake template', () => {
  test('valid and clean: no unacknowledged finding of the schema validator or cdk-nag', () => {
    // GIVEN
    const app = newTestApp();
    const stack = new Stack(app, 'Clean');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    vpc.addFlowLog('FlowLog');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    // WHEN
    new AmiBake(stack, 'Bake', baseProps({
      vpc,
      rootVolumeKey: key,
      rootVolumeSize: Size.gibibytes(16),
      steps: [
        BakeStep.shell(['dnf install -y nginx']),
        BakeStep.file(tmpFile('server {}'), '/etc/nginx/conf.d/app.conf'),
        BakeStep.directory(tmpDir({ 'index.html': '<h1>hi</h1>' }), '/usr/share/nginx/html'),
        BakeStep.awsManaged('amazon-cloudwatch-agent-linux', '1.0.1'),
        BakeStep.reboot(),
      ],
      distribution: { regions: ['eu-west-1'], accounts: ['111122223333'], kmsKeyId: 'alias/ami' },
    }));
    const { findings } = validate(stack);
    // THEN
    expect(describeFindings(findings)).toEqual([]);
  });

  test('names and versions components from the fingerprint; the recipe\'s version is left to the deploy (it follows the parent AMI and key too)', () => {
    // GIVEN
    const stack = new Stack();
    // WHEN
    const bake = new AmiBake(stack, 'Bake', baseProps());
    const template = Template.fromStack(stack);
    // THEN
    const short = bake.fingerprint.slice(0, 16);
    // The components' version: the fingerprint and the revision of the rendered documents (2: file steps
    // download the runtime's copy), so an upgrade makes new components without changing the fingerprint.
    const versioned = Fingerprint.ofString(`combine:${bake.fingerprint},${Fingerprint.ofJson({ componentRevision: 2 }).hex}`).hex;
    const version = `1.${parseInt(versioned.slice(0, 7), 16)}.${parseInt(versioned.slice(7, 14), 16)}`;
    expect(bake.recipeVersion).toEqual(version);
    const job = jobOf(template, 'Default/Bake');
    expect(job).toMatchObject({ Kind: 'ami-bake', Fingerprint: bake.fingerprint, TimeoutSeconds: '14400' });
    expect(JSON.stringify(job.Spec)).not.toMatch(/RecipeVersion|TestTimeoutMinutes|image-recipe\/[^"]*\/1\./);
    expect(job.Spec).toMatchObject({
      RecipeName: bake.recipeName,
      RecipeNameArn: { 'Fn::Join': ['', expect.arrayContaining([`:image-recipe/${bake.recipeName}`])] },
      ImageNameArn: { 'Fn::Join': ['', expect.arrayContaining([`:image/${bake.recipeName}`])] },
      Components: [
        expect.objectContaining({ Name: `${bake.recipeName}-${short}-s1`, Version: version, Platform: 'Linux' }),
        expect.objectContaining({ Name: `${bake.recipeName}-${short}-t1`, Version: version, Platform: 'Linux' }),
      ],
      TestsEnabled: 'true',
    });
    // The wait is named by the fingerprint and the timeout: a new one of either gets a new one.
    const [waitId] = Object.keys(template.findResources('AWS::CloudFormation::WaitCondition'));
    expect(waitId).toMatch(/^BakeWait[0-9a-f]{16}[0-9A-F]{8}$/);
    const other = new Stack();
    new AmiBake(other, 'Bake', baseProps({ buildTimeout: Duration.hours(5) }));
    expect(Object.keys(Template.fromStack(other).findResources('AWS::CloudFormation::WaitCondition'))).not.toContain(waitId);
    template.hasResource('AWS::CloudFormation::WaitCondition', { CreationPolicy: { ResourceSignal: { Count: 1, Timeout: `PT${4 * 3600}S` } } });
    // The AMI name carries the fingerprint.
    template.hasResourceProperties('AWS::ImageBuilder::DistributionConfiguration', {
      Distributions: [Match.objectLike({
        AmiDistributionConfiguration: Match.objectLike({
          Name: `${bake.recipeName}-${short}-{{ imagebuilder:buildDate }}`,
          AmiTags: { 'cdk-immutable-deploys:fingerprint': bake.fingerprint, 'cdk-immutable-deploys:bake': bake.recipeName },
        }),
      })],
    });
  });

  test('a distribution region aws-cdk-lib does not know (a typo) is a warning naming the prop; a known one is not', () => {
    const stack = new Stack();
    new AmiBake(stack, 'Typo', baseProps({ distribution: { regions: ['eu-wst-1'] } }));
    new AmiBake(stack, 'Known', baseProps({ distribution: { regions: ['eu-west-2'] } }));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('unknown-region'));
    expect(warnings.map((w) => [w.id, String(w.entry.data)])).toEqual([
      ['/Default/Typo', expect.stringMatching(/distribution\.regions has 'eu-wst-1', which is not a region aws-cdk-lib knows/)],
    ]);
  });

  test('two synths give byte-identical templates', () => {
    const synth = () => {
      const stack = new Stack();
      new AmiBake(stack, 'Bake', baseProps());
      return JSON.stringify(Template.fromStack(stack).toJSON());
    };
    expect(synth()).toEqual(synth());
  });

  test('build instances require IMDSv2 and terminate on failure; the root volume is encrypted with the given key', () => {
    // GIVEN
    const stack = new Stack();
    const key = new kms.Key(stack, 'Key');
    // WHEN
    new AmiBake(stack, 'Bake', baseProps({ rootVolumeKey: key, rootVolumeSize: Size.gibibytes(20) }));
    const template = Template.fromStack(stack);
    // THEN
    template.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', {
      InstanceMetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
      TerminateInstanceOnFailure: true,
      InstanceTypes: ['m6i.large', 'm5.large'],
    });
    expect(jobOf(template, 'Default/Bake').Spec.BlockDevice).toEqual({ DeviceName: '/dev/xvda', VolumeSize: '20', KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] } });
    // Image Builder's and Auto Scaling's service-linked roles may use the key (evaluated in key-policy.test.ts).
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'CdkImmutableDeploysServiceRolesUse',
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
          Condition: Match.objectLike({
            ArnEquals: {
              'aws:PrincipalArn': [
                Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':role/aws-service-role/imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder'])]) }),
                Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling'])]) }),
              ],
            },
          }),
        })]),
      },
    });
  });

  test('the instance profile has the SSM and Image Builder policies only; the runtime keeps the logs with a retention, in a group the stack does not own', () => {
    const stack = new Stack();
    const bake = new AmiBake(stack, 'Bake', baseProps());
    const template = Template.fromStack(stack);
    // No log group of a fixed name in the template: a re-created stack or a revert never collides with one left behind.
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    expect(jobOf(template, 'Default/Bake').Spec).toMatchObject({ LogGroupName: `/aws/imagebuilder/${bake.recipeName}`, LogRetentionDays: '90' });
    expect(bake.logGroup.logGroupName).toEqual(`/aws/imagebuilder/${bake.recipeName}`);
    const never = new Stack();
    new AmiBake(never, 'Bake', baseProps({ logRetention: logs.RetentionDays.INFINITE }));
    expect(jobOf(Template.fromStack(never), 'Default/Bake').Spec.LogRetentionDays).toEqual('');
    const roles = template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] } } });
    const [role] = Object.values<any>(roles);
    expect(role.Properties.ManagedPolicyArns.map((a: any) => JSON.stringify(a))).toEqual([
      expect.stringContaining('policy/AmazonSSMManagedInstanceCore'),
      expect.stringContaining('policy/EC2InstanceProfileForImageBuilder'),
    ]);
    expect(role.Properties.Policies).toBeUndefined();
  });

  test('retention: no Image Builder lifecycle policy (its COUNT counts per recipe version, and each fingerprint has its own: it would delete nothing); the runtime prunes after each bake, keeping retainImages bakes and AMIs launched within keepLaunchedWithin (AMI review #1)', () => {
    // GIVEN
    const stack = new Stack(undefined, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
    // WHEN
    new AmiBake(stack, 'Bake', baseProps({ retainImages: 5, keepLaunchedWithin: Duration.days(14), distribution: { regions: ['us-east-1'] } }));
    new AmiBake(stack, 'Other', baseProps({ steps: [BakeStep.shell(['echo other'])] }));
    const template = Template.fromStack(stack);
    // THEN
    template.resourceCountIs('AWS::ImageBuilder::LifecyclePolicy', 0);
    expect(Object.values<any>(template.findResources('AWS::IAM::Role')).filter((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('imagebuilder.amazonaws.com'))).toEqual([]);
    expect(jobOf(template, 'S/Bake').Spec).toMatchObject({ RetainImages: '5', KeepLaunchedDays: '14' });
    expect(jobOf(template, 'S/Other').Spec).toMatchObject({ RetainImages: '3', KeepLaunchedDays: '30' });
    // AND the runtime may deregister only AMIs of this stack's bakes, in every region (a region dropped from the distribution still
    // holds copies), once whatever the number of bakes and regions
    const deregister = runtimeStatements(template).filter((st) => [st.Action].flat().includes('ec2:DeregisterImage'));
    expect(deregister.map((st) => [arnText(st.Resource), st.Condition])).toEqual([[
      'arn:aws:ec2:*::image/*', { StringLike: { 'aws:ResourceTag/cdk-immutable-deploys:bake': expect.stringMatching(/^s-[0-9a-f]{6}-\*$/) } },
    ]]);
    const deleteImage = runtimeStatements(template).filter((st) => [st.Action].flat().includes('imagebuilder:DeleteImage'));
    expect(deleteImage.map((st) => arnText(st.Resource))).toEqual([expect.stringMatching(/^arn:aws:imagebuilder:eu-west-1:123456789012:image\/s-[0-9a-f]{6}-\*$/)]);
    // Components and log groups stay theirs to DESTROY only
    expect(runtimeStatements(template).filter((st) => [st.Action].flat().some((a: string) => a === 'imagebuilder:DeleteComponent' || a === 'logs:DeleteLogGroup'))).toEqual([]);
  });

  test('completion: the runtime hears the state changes of the stack\'s images, and the AMI id is read back by the bake\'s result lookup after its wait', () => {
    const stack = new Stack(undefined, 'S');
    const bake = new AmiBake(stack, 'Bake', baseProps());
    const template = Template.fromStack(stack);
    const prefix = bake.recipeName.split('-bake-')[0];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.imagebuilder'],
        'detail-type': ['EC2 Image Builder Image State Change'],
        'resources': [{ prefix: { 'Fn::Join': ['', Match.arrayWith([`:image/${prefix}-`])] } }],
        'detail': { state: { status: ['AVAILABLE', 'FAILED', 'CANCELLED'] } },
      },
    });
    // The wait waits for the jobs resource, which starts the bake.
    const waits = template.findResources('AWS::CloudFormation::WaitCondition');
    const [jobsId] = Object.keys(template.findResources('Custom::CdkImmutableDeploysJobs'));
    const [waitId] = Object.keys(waits);
    expect(waits[waitId].DependsOn).toContain(jobsId);
    expect(jobOf(template, 'S/Bake').Key).toEqual(waitId);
    const [resultId, result] = Object.entries<any>(template.findResources('Custom::CdkImmutableDeploysLookup')).find(([, r]) => r.Properties.Kind === 'job-result')!;
    expect(result.DependsOn).toContain(waitId);
    expect(result.Properties).toMatchObject({ Path: 'S/Bake', Fingerprint: bake.fingerprint, Spec: { JobKind: 'ami-bake', Key: waitId } });
    expect(stack.resolve(bake.amiId)).toEqual({ 'Fn::GetAtt': [resultId, 'Id'] });
  });

  test('three bakes share the stack\'s one runtime, instance role and infrastructure; each adds its distribution, lifecycle policy, wait and result', () => {
    // GIVEN
    const stack = new Stack();
    // WHEN
    for (const id of ['A', 'B', 'C']) new AmiBake(stack, id, baseProps({ steps: [BakeStep.shell([`echo ${id}`])] }));
    const template = Template.fromStack(stack);
    // THEN
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    expect(jobsOf(template)).toHaveLength(3);
    template.resourceCountIs('AWS::ImageBuilder::InfrastructureConfiguration', 1);
    template.resourceCountIs('AWS::IAM::InstanceProfile', 1);
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    for (const type of ['AWS::ImageBuilder::DistributionConfiguration', 'AWS::CloudFormation::WaitCondition', 'Custom::CdkImmutableDeploysLookup']) {
      template.resourceCountIs(type, 3);
    }
    template.resourceCountIs('AWS::CloudFormation::WaitConditionHandle', 0);
  });

  test('IAM: the runtime acts on Image Builder names of this stack\'s prefix, and its policy does not grow with the bakes', () => {
    const env = { account: '123456789012', region: 'eu-west-1' };
    const one = new Stack(undefined, 'S', { env });
    const bake = new AmiBake(one, 'Bake', baseProps());
    const three = new Stack(undefined, 'S', { env });
    for (const id of ['Bake', 'Two', 'Three']) new AmiBake(three, id, baseProps({ steps: [BakeStep.shell([`echo ${id}`])] }));
    const policy = (s: Stack) => JSON.stringify(s.resolve(runtimeStatements(Template.fromStack(s))));
    expect(policy(three)).toEqual(policy(one));
    const prefix = bake.recipeName.split('-bake-')[0];
    const flat = policy(one);
    for (const resource of ['image-recipe', 'image', 'component', 'infrastructure-configuration', 'distribution-configuration']) {
      expect(flat).toContain(`:imagebuilder:eu-west-1:123456789012:${resource}/${prefix}-*"`);
    }
    expect(flat).toContain(`log-group:/aws/imagebuilder/${prefix}-*`);
    expect(bake.recipeName.startsWith(`${prefix}-`)).toBe(true);
    // No action is a service-wide wildcard.
    expect(flat).not.toMatch(/"imagebuilder:\*"|"Action":"\*"/);
    expect(runtimeStatements(Template.fromStack(one))).toContainEqual(expect.objectContaining({
      Action: 'iam:CreateServiceLinkedRole',
      Condition: { StringEquals: { 'iam:AWSServiceName': 'imagebuilder.amazonaws.com' } },
    }));
  });

  test('IAM: tagging AMIs in use is limited to bake AMIs and to the keep tags (who holds what is the register: no tag per stack, F17)', () => {
    const stack = new Stack(undefined, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
    new AmiBake(stack, 'Bake', baseProps());
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:*::image/*']] },
          Condition: {
            'Null': { 'aws:ResourceTag/cdk-immutable-deploys:fingerprint': 'false', 'aws:TagKeys': 'false' },
            'ForAllValues:StringEquals': { 'aws:TagKeys': ['cdk-immutable-deploys:keep', 'cdk-immutable-deploys:kept-by'] },
          },
        }]),
      },
    });
  });

  test('GIVEN a bake that copies to another region WHEN an update stops copying there THEN the hold grants stay the same: a release there still may (review runtime #2)', () => {
    const holdsOf = (props: Partial<AmiBakeProps>) => {
      const stack = new Stack(undefined, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
      new AmiBake(stack, 'Bake', baseProps(props));
      return runtimeStatements(Template.fromStack(stack))
        .filter((s) => /_holds|ec2:CreateTags/.test(JSON.stringify([s.Resource, s.Action])));
    };
    const copying = holdsOf({ distribution: { regions: ['us-east-1', 'us-west-2'] } });
    expect(copying).toHaveLength(3);
    expect(holdsOf({ distribution: { regions: ['us-east-1'] } })).toEqual(copying);
    expect(holdsOf({})).toEqual(copying);
  });

  test('machineImage pins the baked AMI with the base image\'s OS and user data', () => {
    const stack = new Stack();
    const userData = ec2.UserData.forLinux();
    userData.addCommands('echo ready');
    const bake = new AmiBake(stack, 'Bake', baseProps({ userData }));
    const image = bake.machineImage.getImage(stack);
    expect(image.imageId).toBe(bake.amiId);
    expect(image.osType).toBe(ec2.OperatingSystemType.LINUX);
    expect(image.userData.render()).toContain('echo ready');
    expect(bake.architecture).toBe(ec2.InstanceArchitecture.X86_64);
  });

  test('arm64 base images get arm64 build instances by default', () => {
    const stack = new Stack();
    new AmiBake(stack, 'Bake', baseProps({ baseImage: BaseImage.fromAmiId(AL2023, { architecture: ec2.InstanceArchitecture.ARM_64 }) }));
    Template.fromStack(stack).hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', { InstanceTypes: ['m6g.large', 'm7g.large'] });
  });

  test('a VPC gives the instances a subnet and an egress-only security group', () => {
    const stack = new Stack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
    new AmiBake(stack, 'Bake', baseProps({ vpc }));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', { SubnetId: Match.anyValue(), SecurityGroupIds: [Match.anyValue()] });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('Build and test'), SecurityGroupIngress: Match.absent() });
  });

  test('layered bakes: the foundation\'s AMI is the parent, its fingerprint counts', () => {
    const stack = new Stack();
    const foundation = new AmiBake(stack, 'Foundation', baseProps());
    const app = new AmiBake(stack, 'App', baseProps({ baseImage: BaseImage.fromAmiArtifact(foundation), steps: [BakeStep.shell(['echo app'])] }));
    const template = Template.fromStack(stack);
    const appJob = jobsOf(template).find((j) => j.Fingerprint === app.fingerprint)!;
    expect(appJob.Spec.ParentImage).toEqual(stack.resolve(foundation.amiId));
    // The layer starts from the jobs resource after the foundation's wait, not from the one the foundation's wait waits for.
    const jobs = template.findResources('Custom::CdkImmutableDeploysJobs');
    expect(Object.keys(jobs)).toHaveLength(2);
    const second = Object.values<any>(jobs).find((r) => r.Properties.Jobs.some((j: any) => j.Fingerprint === app.fingerprint));
    expect(second.Properties.Jobs).toHaveLength(1);
    const other = new AmiBake(new Stack(), 'Foundation', baseProps({ steps: [BakeStep.shell(['dnf install -y httpd'])] }));
    expect(fingerprintOf({ baseImage: BaseImage.fromAmiArtifact(foundation), steps: [BakeStep.shell(['echo app'])] }))
      .not.toEqual(fingerprintOf({ baseImage: BaseImage.fromAmiArtifact(other), steps: [BakeStep.shell(['echo app'])] }));
  });

  test('BaseImage.fromSsmParameter reads the context value recorded in cdk.context.json', () => {
    const name = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';
    const env = { account: '123456789012', region: 'eu-west-1' };
    const app = newTestApp({ context: { [`ssm:account=${env.account}:parameterName=${name}:region=${env.region}`]: AL2023 } });
    const stack = new Stack(app, 'S', { env });
    const bake = new AmiBake(stack, 'Bake', baseProps({ baseImage: BaseImage.fromSsmParameter(name) }));
    expect(jobOf(Template.fromStack(stack), 'S/Bake').Spec.ParentImage).toEqual(AL2023);
    expect(bake.architecture).toBe(ec2.InstanceArchitecture.ARM_64);
    expect(() => new AmiBake(new Stack(), 'Agnostic', baseProps({ baseImage: BaseImage.fromSsmParameter(name) }))).toThrow(/no explicit account and region/);
  });

  test('BaseImage.fromSsmParameter: a first synth without the context value records the lookup and raises no error', () => {
    // GIVEN: no context value yet (the CLI looks it up, then synthesizes again)
    const name = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
    const app = newTestApp();
    const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
    // WHEN
    new AmiBake(stack, 'Bake', baseProps({ baseImage: BaseImage.fromSsmParameter(name) }));
    // THEN: the lookup is recorded as missing, so no deployment uses the placeholder
    const missing = app.synth().manifest.missing ?? [];
    expect(missing.map((m) => m.props)).toEqual([expect.objectContaining({ parameterName: name, account: '123456789012', region: 'eu-west-1' })]);
    // A value that is not an AMI id is an error that names the parameter and the value.
    const bad = newTestApp({ context: { [`ssm:account=123456789012:parameterName=${name}:region=eu-west-1`]: 'not-an-ami' } });
    expect(() => new AmiBake(new Stack(bad, 'S', { env: { account: '123456789012', region: 'eu-west-1' } }), 'Bake', baseProps({ baseImage: BaseImage.fromSsmParameter(name) })))
      .toThrow(/parameter '\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-default-x86_64' holds 'not-an-ami'/);
  });

  test('warnings: an unpinned AWS-managed component, retainImages 1, sharing with the default key', () => {
    const stack = new Stack();
    new AmiBake(stack, 'Bake', baseProps({
      steps: [BakeStep.awsManaged('update-linux', '1.x.x')],
      retainImages: 1,
      distribution: { accounts: ['111122223333'] },
    }));
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning('/Default/Bake', Match.stringLikeRegexp("'update-linux' at version '1.x.x'"));
    annotations.hasWarning('/Default/Bake', Match.stringLikeRegexp('retainImages is 1'));
    annotations.hasWarning('/Default/Bake', Match.stringLikeRegexp('default EBS key'));
  });
});

describe('AmiBake fingerprint', () => {
  const reference = () => fingerprintOf();

  test('is stable for the same inputs', () => {
    expect(fingerprintOf()).toEqual(reference());
    expect(fingerprintOf()).toMatch(/^[0-9a-f]{64}$/);
  });

  test('is the documented combination: base AMI, volume and builder revision, steps, test steps', () => {
    const step = (phase: string, commands: string[]) => Fingerprint.ofString(JSON.stringify({
      name: 'Shell',
      description: `shell: ${commands[0]}`,
      schemaVersion: '1.0',
      phases: [{ name: phase, steps: [{ name: 'Run', action: 'ExecuteBash', inputs: { commands: ['set -eo pipefail', ...commands] } }] }],
    }, undefined, 2));
    const expected = Fingerprint.combine(
      Fingerprint.ofJson({ builderRevision: 1, baseImage: AL2023, osType: 'LINUX', rootVolume: { deviceName: '/dev/xvda', sizeGiB: null, key: null } }),
      Fingerprint.ofJson({ steps: [step('build', ['dnf install -y nginx']).hex] }),
      Fingerprint.ofJson({ testSteps: [step('test', ['test -x /usr/sbin/nginx']).hex] }),
    );
    expect(reference()).toEqual(expected.hex);
  });

  test.each<[string, Partial<AmiBakeProps>]>([
    ['base AMI id', { baseImage: BaseImage.fromAmiId('ami-0fffffffffffffff0') }],
    ['a step', { steps: [BakeStep.shell(['dnf install -y httpd'])] }],
    ['step order', { steps: [BakeStep.shell(['b']), BakeStep.shell(['a'])] }],
    ['a test step', { testSteps: [BakeStep.shell(['true'])] }],
    ['no test steps', { testSteps: [] }],
    ['a component document', { steps: [BakeStep.document('schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecuteBash\n        inputs:\n          commands: [echo]\n')] }],
    ['an AWS-managed component version', { steps: [BakeStep.awsManaged('update-linux', '1.0.3')] }],
    ['a reboot', { steps: [BakeStep.shell(['dnf install -y nginx']), BakeStep.reboot()] }],
    ['root volume size', { rootVolumeSize: Size.gibibytes(30) }],
    ['root device name', { baseImage: BaseImage.fromAmiId(AL2023, { rootDeviceName: '/dev/sda1' }) }],
  ])('changes with %s', (_name, overrides) => {
    expect(fingerprintOf(overrides)).not.toEqual(reference());
  });

  test('changes with the content of a shipped file, not with its local path', () => {
    const a = tmpFile('one');
    const b = tmpFile('two');
    const aCopy = tmpFile('one');
    const withFile = (f: string) => fingerprintOf({ steps: [BakeStep.file(f, '/etc/app.conf')] });
    expect(withFile(a)).not.toEqual(withFile(b));
    expect(withFile(a)).toEqual(withFile(aCopy));
    expect(fingerprintOf({ steps: [BakeStep.file(a, '/etc/other.conf')] })).not.toEqual(withFile(a));
  });

  test('changes with the content of a shipped directory, not with an excluded file', () => {
    const dir = tmpDir({ 'index.html': 'v1', 'notes.md': 'x' });
    const withDir = () => fingerprintOf({ steps: [BakeStep.directory(dir, '/srv/www', { exclude: ['*.md'] })] });
    const before = withDir();
    fs.writeFileSync(path.join(dir, 'notes.md'), 'changed');
    expect(withDir()).toEqual(before);
    fs.writeFileSync(path.join(dir, 'index.html'), 'v2');
    expect(withDir()).not.toEqual(before);
  });

  test('changes with the root volume key', () => {
    const withKey = (arn: string) => {
      const stack = new Stack();
      return new AmiBake(stack, 'Bake', baseProps({ rootVolumeKey: kms.Key.fromKeyArn(stack, 'K', arn) })).fingerprint;
    };
    expect(withKey('arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-1111-1111-111111111111'))
      .not.toEqual(withKey('arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-2222-2222-222222222222'));
    expect(withKey('arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-1111-1111-111111111111')).not.toEqual(reference());
  });

  test.each<[string, Partial<AmiBakeProps>]>([
    ['a distribution region', { distribution: { regions: ['eu-west-1'] } }],
    ['distribution accounts', { distribution: { accounts: ['111122223333'] } }],
    ['instance types', { instanceTypes: [new ec2.InstanceType('c6i.xlarge')] }],
    ['tags', { tags: { team: 'web' } }],
    ['the AMI name prefix', { amiName: 'web' }],
    ['the build timeout', { buildTimeout: Duration.hours(2) }],
    ['retention', { retainImages: 7 }],
  ])('does not change with %s', (_name, overrides) => {
    expect(fingerprintOf(overrides)).toEqual(reference());
  });

  test('does not depend on the construct path or the stack', () => {
    const stack = new Stack(undefined, 'Other');
    expect(new AmiBake(stack, 'Elsewhere', baseProps()).fingerprint).toEqual(reference());
  });
});

describe('AmiBake synth-time errors', () => {
  /** Builds a bake and synthesizes its app: what the props checks record is reported then. */
  const make = (overrides: Partial<AmiBakeProps>) => atSynth(() => new AmiBake(new Stack(), 'Bake', baseProps(overrides)));

  test('errors name the construct path and type, or the factory called', () => {
    expect(atSynth(() => new AmiBake(new Stack(undefined, 'S'), 'Bake', baseProps({ retainImages: 0 })))).toThrow(/^S\/Bake \[AmiBake\]: retainImages \(0\)/);
    expect(() => BakeStep.shell([])).toThrow(/^BakeStep\.shell\(\): commands/);
    expect(() => BaseImage.fromAmiId('ami-xyz')).toThrow(/^BaseImage\.fromAmiId\(\): amiId 'ami-xyz' is not an AMI id/);
  });

  test('no steps', () => {
    expect(make({ steps: [] })).toThrow(/steps is empty\. Pass at least one BakeStep/);
  });

  test('buildTimeout above 12 hours', () => {
    expect(make({ buildTimeout: Duration.hours(13) })).toThrow(/buildTimeout \(13 hours\) is longer than 12 hours.*Duration\.hours\(12\)/);
  });

  test('retainImages below 1, or not whole', () => {
    expect(make({ retainImages: 0 })).toThrow(/retainImages \(0\) must be a whole number from 1 to 1000/);
    expect(make({ retainImages: 2.5 })).toThrow(/retainImages \(2\.5\)/);
  });

  test('an instance type whose architecture does not match the base image', () => {
    expect(make({ instanceTypes: [new ec2.InstanceType('m6i.large'), new ec2.InstanceType('c7g.large')] }))
      .toThrow(/instanceTypes\[1\] \(c7g\.large\) is arm64, but the base image is x86_64\. Pass x86_64 instance types/);
  });

  test('a malformed component document, with the line', () => {
    expect(() => BakeStep.document('schemaVersion: 1.0\nphases:\n  - name: build\n    steps: [\n')).toThrow(/YAML syntax error at line \d+/);
    expect(() => BakeStep.document('phases:\n  - name: deploy\n    steps:\n      - name: A\n        action: RunSomething\n'))
      .toThrow(/schemaVersion is missing[\s\S]*phases\[0\]\.name is "deploy"[\s\S]*action "RunSomething", which AWSTOE does not know/);
  });

  test('a file or directory step pointing at nothing', () => {
    expect(() => BakeStep.file('/does/not/exist.conf', '/etc/app.conf')).toThrow(/^BakeStep\.file\(\): localPath \(\/does\/not\/exist\.conf\) does not exist/);
    expect(() => BakeStep.directory('/does/not/exist', '/srv')).toThrow(/^BakeStep\.directory\(\): localPath \(\/does\/not\/exist\) does not exist/);
    expect(() => BakeStep.file(os.tmpdir(), '/etc/app.conf')).toThrow(/is not a file\..*use BakeStep\.directory\(\)/);
    expect(() => BakeStep.file(tmpFile('x'), 'relative/path')).toThrow(/remotePath 'relative\/path' is not absolute/);
  });

  test('a bad base image id, region or account', () => {
    expect(() => BaseImage.fromAmiId('ami-xyz')).toThrow(/amiId 'ami-xyz' is not an AMI id/);
    expect(make({ distribution: { regions: ['Europe'] } })).toThrow(/distribution\.regions has 'Europe'/);
    expect(make({ distribution: { accounts: ['12345'] } })).toThrow(/distribution\.accounts has '12345'/);
  });

  test('tokens skip validation', () => {
    const stack = new Stack();
    const bake = new AmiBake(stack, 'Bake', baseProps({
      retainImages: Token.asNumber(Lazy.number({ produce: () => 0 })),
      buildTimeout: Duration.seconds(Token.asNumber(Lazy.number({ produce: () => 999_999 }))),
      instanceTypes: [new ec2.InstanceType(Lazy.string({ produce: () => 'c7g.large' }))],
    }));
    expect(bake.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    // The values reach the template unchanged, for CloudFormation to judge.
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', { InstanceTypes: ['c7g.large'] });
    template.hasResource('AWS::CloudFormation::WaitCondition', { CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT999999S' } } });
  });
});

describe('AmiArtifact compatibility', () => {
  test('an AmiBake is an IAmiArtifact next to AmiArtifact.fromAmiId', () => {
    const stack = new Stack();
    const artifacts = [new AmiBake(stack, 'Bake', baseProps()), AmiArtifact.fromAmiId(AL2023)];
    for (const a of artifacts) expect(a.machineImage.getImage(stack).osType).toBe(ec2.OperatingSystemType.LINUX);
  });
});

describe('the root device travels with the AMI', () => {
  test('a bake carries its base image\'s root device, and a layered bake its foundation\'s', () => {
    const stack = new Stack();
    const ubuntu = new AmiBake(stack, 'Ubuntu', baseProps({ baseImage: BaseImage.fromAmiId(AL2023, { rootDeviceName: '/dev/sda1' }) }));
    const layer = new AmiBake(stack, 'Layer', baseProps({ baseImage: BaseImage.fromAmiArtifact(ubuntu), steps: [BakeStep.shell(['echo layer'])] }));
    expect(ubuntu.rootDeviceName).toEqual('/dev/sda1');
    expect(layer.rootDeviceName).toEqual('/dev/sda1');
    expect(AmiArtifact.fromAmiId(AL2023, { rootDeviceName: '/dev/sda1' }).rootDeviceName).toEqual('/dev/sda1');
    expect(new AmiBake(stack, 'Default', baseProps()).rootDeviceName).toEqual('/dev/xvda');
  });
});
