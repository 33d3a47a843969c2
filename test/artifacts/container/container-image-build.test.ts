import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { addContainerImageBuild } from '../../../examples/container';
import { ContainerImageBuild, ContainerImageBuildProps, ContainerPlatform, IContainerArtifact } from '../../../src';
import { buildSpecObject } from '../../../src/artifacts/container/buildspec';
import { jobOf, jobsOf, runtimeStatements } from '../../internal/runtime/jobs';
import { describeFindings, newTestApp, validate } from '../../kit';
import { atSynth, expectSynthError } from '../../synth-errors';

/** A fresh build context in a temporary directory. */
function context(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cib-context-'));
  const all: Record<string, string> = {
    'Dockerfile': 'FROM public.ecr.aws/docker/library/nginx:1.27-alpine\nCOPY site/ /usr/share/nginx/html/\n',
    'site/index.html': '<h1>hello</h1>\n',
    '.dockerignore': 'README.md\n*.log\n',
    'README.md': 'not in the image\n',
    ...files,
  };
  for (const [name, content] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

function stack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function tagOf(directory: string, props: Partial<ContainerImageBuildProps> = {}): string {
  return new ContainerImageBuild(stack(), 'Image', { directory, ...props }).imageTag;
}

function statementsOf(template: Template, policyLogicalIdPattern: RegExp): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => policyLogicalIdPattern.test(id))
    .flatMap(([, p]) => (p as any).Properties.PolicyDocument.Statement);
}

describe('ContainerImageBuild', () => {
  test('is valid and clean (schema validator in strict mode, cdk-nag AwsSolutions)', () => {
    // GIVEN
    const app = newTestApp();
    const s = new Stack(app, 'Clean');
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 });
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'A test VPC: flow logs are not under test.' });

    // WHEN
    new ContainerImageBuild(s, 'Amd64', { directory: context() });
    new ContainerImageBuild(s, 'Arm64', { directory: context(), platform: ContainerPlatform.LINUX_ARM64, cache: false });
    new ContainerImageBuild(s, 'InVpc', { directory: context(), vpc, computeType: codebuild.ComputeType.LARGE });
    const example = addContainerImageBuild(s);

    // THEN
    const { template, findings } = validate(s);
    expect(describeFindings(findings)).toEqual([]);
    // amd64, arm64 (shared by the example) and amd64 in the VPC
    template.resourceCountIs('AWS::CodeBuild::Project', 3);
    expect(example.platform).toBe(ContainerPlatform.LINUX_ARM64);
  });

  test('a VPC of public subnets only (a default VPC) is a synth error naming vpc: CodeBuild gives its network interfaces no public IP', () => {
    // GIVEN a VPC shaped like a default one: public subnets only
    const s = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = ec2.Vpc.fromVpcAttributes(s, 'Default', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'], publicSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'] });
    // THEN the build refuses it, with what to do
    expect(() => new ContainerImageBuild(s, 'Web', { directory: context(), vpc }))
      .toThrow(/S\/Web \[ContainerImageBuild\]: vpc \(S\/Default\) has no private subnets.*Pass a VPC with private subnets and a NAT gateway.*or leave out vpc/);
  });

  test('exposes the image pinned by digest and tagged by fingerprint', () => {
    const s = stack();
    const image = new ContainerImageBuild(s, 'Image', { directory: context() });
    const artifact: IContainerArtifact = image;
    expect(artifact.containerImage).toBeInstanceOf(ecs.ContainerImage);

    expect(image.imageTag).toMatch(/^fp-[0-9a-f]{64}$/);
    expect(image.fingerprint).toEqual(image.imageTag.slice(3));
    expect(image.platform).toBe(ContainerPlatform.LINUX_AMD64);
    // The digest is read back from the repository by the build's result lookup, after its wait: never a signal's data.
    const template = Template.fromStack(s);
    const wait = jobOf(template, 'Stack/Image').Key;
    const [resultId, result] = Object.entries<any>(template.findResources('Custom::CdkImmutableDeploysLookup')).find(([, r]) => r.Properties.Kind === 'job-result')!;
    expect(result.DependsOn).toContain(wait);
    expect(result.Properties.Spec).toMatchObject({ JobKind: 'container-build', Key: wait, ImageTag: image.imageTag, RequireImmutableTags: 'false', RepositoryUri: expect.anything() });
    const digest = { 'Fn::GetAtt': [resultId, 'Id'] };
    expect(s.resolve(image.imageDigest)).toEqual(digest);
    expect(JSON.stringify(s.resolve(image.imageUri))).toContain('{"Ref":"ImageRepository');
    expect(JSON.stringify(s.resolve(image.imageUri))).toContain(`"@",${JSON.stringify(digest)}`);
  });

  test('creates a repository with immutable tags, scan on push, KMS encryption and retention rules', () => {
    const s = stack();
    new ContainerImageBuild(s, 'Image', { directory: context(), retainImages: 25 });

    const template = Template.fromStack(s);
    template.hasResource('AWS::ECR::Repository', {
      DeletionPolicy: 'Retain',
      Properties: {
        ImageTagMutability: 'IMMUTABLE',
        ImageScanningConfiguration: { ScanOnPush: true },
        EncryptionConfiguration: { EncryptionType: 'KMS' },
      },
    });
    const repository = Object.values(template.findResources('AWS::ECR::Repository'))[0] as any;
    const rules = JSON.parse(repository.Properties.LifecyclePolicy.LifecyclePolicyText).rules;
    expect(rules).toEqual([
      expect.objectContaining({ rulePriority: 1, selection: { tagStatus: 'tagged', tagPrefixList: ['fp-'], countType: 'imageCountMoreThan', countNumber: 25 } }),
      expect.objectContaining({ rulePriority: 2, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 7, countUnit: 'days' } }),
      expect.objectContaining({ rulePriority: 3, selection: { tagStatus: 'tagged', tagPrefixList: ['cache-'], countType: 'imageCountMoreThan', countNumber: 2 } }),
    ]);
  });

  test('builds in a privileged project that runs the fixed buildspec natively for each platform', () => {
    const s = stack();
    new ContainerImageBuild(s, 'Amd', { directory: context() });
    new ContainerImageBuild(s, 'Arm', { directory: context(), platform: ContainerPlatform.LINUX_ARM64 });

    const template = Template.fromStack(s);
    template.resourceCountIs('AWS::CodeBuild::Project', 2);
    for (const [type, image] of [
      ['LINUX_CONTAINER', 'aws/codebuild/amazonlinux-x86_64-standard:5.0'],
      ['ARM_CONTAINER', 'aws/codebuild/amazonlinux-aarch64-standard:3.0'],
    ]) {
      template.hasResourceProperties('AWS::CodeBuild::Project', {
        Environment: { Type: type, Image: image, PrivilegedMode: true, ComputeType: 'BUILD_GENERAL1_SMALL' },
        Source: { Type: 'NO_SOURCE', BuildSpec: Match.stringLikeRegexp('docker buildx build') },
        Artifacts: { Type: 'NO_ARTIFACTS' },
        LogsConfig: { CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: Match.anyValue() } } },
        TimeoutInMinutes: 655,
        QueuedTimeoutInMinutes: 60,
      });
    }
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  test('passes every build setting to its job as strings', () => {
    const s = stack();
    const image = new ContainerImageBuild(s, 'Image', {
      directory: context({ 'docker/app.Dockerfile': 'FROM scratch AS runtime\n' }),
      file: 'docker/app.Dockerfile',
      buildArgs: { VERSION: '1.2.3', CHANNEL: 'stable' },
      target: 'runtime',
      platform: ContainerPlatform.LINUX_ARM64,
      computeType: codebuild.ComputeType.MEDIUM,
      buildTimeout: Duration.minutes(20),
      cache: false,
      requireImmutableTags: true,
    });

    const job = jobOf(Template.fromStack(s), 'Stack/Image');
    // 20 minutes of build, 480 of CodeBuild's queue (its maximum, within the wait's 12 hours), 5 of margin
    expect(job).toMatchObject({ Kind: 'container-build', Fingerprint: image.fingerprint, TimeoutSeconds: String((20 + 480 + 5) * 60) });
    expect(job.Spec).toEqual({
      ProjectName: { Ref: expect.stringMatching(/^cdkimmutabledeploysContainerImageBuildProjectLinuxArm64/) },
      RepositoryUri: expect.anything(),
      ImageTag: image.imageTag,
      SourceBucket: 'cdk-hnb659fds-assets-123456789012-eu-west-1',
      SourceKey: expect.stringMatching(/^[0-9a-f]{64}\.zip$/),
      Dockerfile: 'docker/app.Dockerfile',
      Target: 'runtime',
      Platform: 'linux/arm64',
      BuildArgs: '{"CHANNEL":"stable","VERSION":"1.2.3"}',
      Cache: 'false',
      ComputeType: 'BUILD_GENERAL1_MEDIUM',
      TimeoutMinutes: '20',
      QueuedTimeoutMinutes: '480',
      RequireImmutableTags: 'true',
      PullRegistries: '',
    });
  });

  test.each([
    [30, 480],
    [300, 415],
    [655, 60],
  ])('a %i-minute build may wait %i minutes in CodeBuild\'s queue: what the wait condition\'s 12 hours leave, at most CodeBuild\'s 480', (build, queue) => {
    // GIVEN: below a full queue, StartBuild succeeds and the build waits for a free concurrent build
    const s = stack();
    // WHEN
    new ContainerImageBuild(s, 'Image', { directory: context(), buildTimeout: Duration.minutes(build) });
    // THEN
    const job = jobOf(Template.fromStack(s), 'Stack/Image');
    expect(job.Spec.QueuedTimeoutMinutes).toBe(String(queue));
    expect(Number(job.TimeoutSeconds)).toBe((build + queue + 5) * 60);
    expect(Number(job.TimeoutSeconds)).toBeLessThanOrEqual(12 * 3600);
  });

  test('logs in to every ECR registry the Dockerfile or a build argument pulls from (a base image of another account or region)', () => {
    // GIVEN
    const s = stack();
    const image = new ContainerImageBuild(s, 'Image', {
      directory: context({ Dockerfile: 'ARG BASE\nFROM 111122223333.dkr.ecr.us-east-1.amazonaws.com/base:1 AS base\nFROM ${BASE}\n' }),
      buildArgs: { BASE: '444455556666.dkr.ecr.eu-central-1.amazonaws.com/runtime@sha256:abc' },
    });
    // THEN: the job names both registries; the buildspec logs in to each in its own region
    expect(jobOf(Template.fromStack(s), image.node.path).Spec.PullRegistries).toEqual('111122223333.dkr.ecr.us-east-1.amazonaws.com 444455556666.dkr.ecr.eu-central-1.amazonaws.com');
    const buildspec = JSON.stringify(buildSpecObject());
    expect(buildspec).toContain('for registry in ${CIB_PULL_REGISTRIES:-}');
    expect(buildspec).toContain('get-login-password --region \\"$region\\" | docker login --username AWS --password-stdin \\"$registry\\"');
  });

  test('shares one project and the stack\'s one runtime among three builds; each adds its repository, a wait and a result', () => {
    const s = stack();
    for (const id of ['One', 'Two', 'Three']) {
      new ContainerImageBuild(s, id, { directory: context({ 'site/index.html': id }) });
    }

    const template = Template.fromStack(s);
    expect(jobsOf(template)).toHaveLength(3);
    template.resourceCountIs('Custom::CdkImmutableDeploysJobs', 1);
    template.resourceCountIs('AWS::CodeBuild::Project', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::ECR::Repository', 3);
    template.resourceCountIs('AWS::CloudFormation::WaitConditionHandle', 0);
    template.resourceCountIs('AWS::CloudFormation::WaitCondition', 3);
    template.resourceCountIs('Custom::CdkImmutableDeploysLookup', 3);
  });

  test('grants each role only what it uses, and no grant names one image, context or repository', () => {
    // GIVEN
    const s = stack();
    new ContainerImageBuild(s, 'Image', { directory: context() });
    const template = Template.fromStack(s);

    // THEN: the runtime drives that project's builds, reads their logs, and reads image metadata
    expect(runtimeStatements(template)).toEqual(expect.arrayContaining([
      {
        Action: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds', 'codebuild:ListBuildsForProject', 'codebuild:StopBuild'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/ProjectLinuxAmd64/), 'Arn'] },
      },
      { Action: 'logs:GetLogEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/ProjectLinuxAmd64Logs/), 'Arn'] } },
      // whether the fingerprint tag exists, whether ECR replicated it, and the restore of an archived image
      {
        Action: ['ecr:DescribeImages', 'ecr:DescribeImageReplicationStatus', 'ecr:UpdateImageStorageClass'],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:eu-west-1:123456789012:repository/*']] },
      },
    ]));

    // THEN: the project reads the CDK assets bucket's objects (named by content) and may log in to ECR
    const project = statementsOf(template, /ProjectLinuxAmd64RoleDefaultPolicy/);
    expect(project).toEqual(expect.arrayContaining([
      {
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/*']] },
      },
      { Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' },
    ]));
    // THEN: the repository lets the project's role push, in its own policy
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryPolicyText: {
        Statement: [{
          Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'],
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Condition: { ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('ProjectLinuxAmd64Role'), 'Arn'] } } },
        }],
      },
    });
    // Nothing in the stack allows every action, and only GetAuthorizationToken (which has no resource-level permissions) is on "*".
    for (const statement of statementsOf(template, /.*/)) {
      expect([statement.Action].flat()).not.toContain('*');
      if (statement.Resource === '*') expect([statement.Action].flat()).toEqual(expect.arrayContaining([expect.stringMatching(/^(ecr:GetAuthorizationToken|ec2:DescribeImages)$/)]));
    }
  });

  test('the build starts only once the project may read the context and push (the jobs resource waits for the project and its role\'s policy)', () => {
    const s = stack();
    new ContainerImageBuild(s, 'Image', { directory: context(), requireImmutableTags: true });
    const template = Template.fromStack(s);
    const jobs = Object.values(template.findResources('Custom::CdkImmutableDeploysJobs'))[0] as any;
    expect(jobs.DependsOn).toEqual(expect.arrayContaining([
      expect.stringMatching(/ProjectLinuxAmd64RoleDefaultPolicy/),
      expect.stringMatching(/ProjectLinuxAmd64Role[0-9A-F]{8}$/),
      expect.stringMatching(/ProjectLinuxAmd64[0-9A-F]{8}$/),
    ]));
  });

  test('an imported repository, whose tag mutability cannot be read at synth, gets a warning unless the deploy checks it', () => {
    // GIVEN
    const s = stack();
    const imported = ecr.Repository.fromRepositoryName(s, 'Imported', 'team/app');

    // WHEN
    new ContainerImageBuild(s, 'Lenient', { directory: context(), repository: imported });
    new ContainerImageBuild(s, 'Strict', { directory: context(), repository: imported, requireImmutableTags: true });

    // THEN
    const annotations = Annotations.fromStack(s);
    annotations.hasWarning('/Stack/Lenient', Match.stringLikeRegexp('Imported was imported.*Set requireImmutableTags'));
    annotations.hasNoWarning('/Stack/Strict', Match.stringLikeRegexp('was imported'));
  });

  test('asks to read the repository settings only when tags must be immutable', () => {
    const lenient = stack();
    new ContainerImageBuild(lenient, 'Image', { directory: context() });
    const actions = (s: Stack) => runtimeStatements(Template.fromStack(s)).flatMap((st) => [st.Action].flat());
    expect(actions(lenient)).not.toContain('ecr:DescribeRepositories');

    const strict = stack();
    const imported = ecr.Repository.fromRepositoryName(strict, 'Imported', 'team/app');
    new ContainerImageBuild(strict, 'Strict', { directory: context(), repository: imported, requireImmutableTags: true });
    expect(runtimeStatements(Template.fromStack(strict))).toContainEqual({
      Action: ['ecr:DescribeImages', 'ecr:DescribeImageReplicationStatus', 'ecr:UpdateImageStorageClass', 'ecr:DescribeRepositories'],
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:eu-west-1:123456789012:repository/*']] },
    });
  });

  test('its containerImage puts the digest in the task definition and lets the execution role pull', () => {
    const s = stack();
    const image = new ContainerImageBuild(s, 'Image', { directory: context() });
    const task = new ecs.FargateTaskDefinition(s, 'Task');
    task.addContainer('App', { image: image.containerImage });

    const template = Template.fromStack(s);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      // The digest is what the build's result lookup read back from the repository.
      ContainerDefinitions: [{ Image: { 'Fn::Join': ['', Match.arrayWith(['@', { 'Fn::GetAtt': [Match.stringLikeRegexp('^ImageResult'), 'Id'] }])] } }],
    });
    // The repository's own policy lets the execution role pull; only ECR's login is on the role.
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryPolicyText: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
          Principal: { AWS: '*' },
          Condition: { ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^TaskExecutionRole'), 'Arn'] } } },
        })]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^TaskExecutionRole') }],
      PolicyDocument: { Statement: [{ Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' }] },
    });
  });

  test('grantPull() grants a role of this account pull in the repository\'s own policy, so that a shared role does not grow per image (IAM policy evaluation in one account)', () => {
    const s = stack();
    const images = [1, 2, 3].map((i) => new ContainerImageBuild(s, `Image${i}`, { directory: context({ Dockerfile: `FROM public.ecr.aws/docker/library/alpine:3.20\nRUN echo ${i}\n` }) }));
    const role = new iam.Role(s, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    for (const image of images) image.grantPull(role);

    const template = Template.fromStack(s);
    template.resourcePropertiesCountIs('AWS::ECR::Repository', {
      RepositoryPolicyText: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['ecr:BatchGetImage']), Principal: { AWS: '*' }, Condition: { ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^Role'), 'Arn'] } } } })]) },
    }, 3);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Role') }],
      PolicyDocument: { Statement: [{ Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' }] },
    });
  });

  test('grantPull() to a principal of another account grants it in both policies, as cross-account pulls need', () => {
    const s = stack();
    const image = new ContainerImageBuild(s, 'Image', { directory: context() });
    const other = new iam.AccountPrincipal('222222222222');
    image.grantPull(other);

    Template.fromStack(s).hasResourceProperties('AWS::ECR::Repository', {
      RepositoryPolicyText: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['ecr:BatchGetImage']), Principal: { AWS: Match.anyValue() } })]) },
    });
  });

  test('uploads the context as Docker would send it: ignored files left out, the Dockerfile kept', () => {
    // GIVEN: a .dockerignore that ignores the Dockerfile itself, as some projects do
    const dir = context({ '.dockerignore': 'README.md\nDockerfile\n', 'debug.log': 'x', 'secrets/key.pem': 'x' });
    const app = new App();
    const s = new Stack(app, 'Stack');
    const image = new ContainerImageBuild(s, 'Image', { directory: dir, exclude: ['secrets'] });

    // WHEN
    const assembly = app.synth();

    // THEN
    const key: string = jobOf(Template.fromStack(s), image.node.path).Spec.SourceKey;
    const staged = `asset.${key.replace(/\.zip$/, '')}`;
    const files = listFiles(path.join(assembly.directory, staged));
    expect(files).toEqual(['.dockerignore', 'Dockerfile', 'debug.log', 'site/index.html']);
  });

  test('two syntheses of the same sources give identical templates', () => {
    const dir = context();
    const one = Template.fromStack(withImage(dir)).toJSON();
    const two = Template.fromStack(withImage(dir)).toJSON();
    expect(JSON.stringify(two)).toEqual(JSON.stringify(one));

    function withImage(directory: string): Stack {
      const s = stack();
      new ContainerImageBuild(s, 'Image', { directory });
      return s;
    }
  });
});

describe('ContainerImageBuild fingerprint', () => {
  test('is the same for the same inputs in another checkout', () => {
    expect(tagOf(context())).toEqual(tagOf(context()));
  });

  test('changes with the Dockerfile', () => {
    expect(tagOf(context({ Dockerfile: 'FROM public.ecr.aws/docker/library/nginx:1.28-alpine\n' }))).not.toEqual(tagOf(context()));
  });

  test('changes with a file of the context', () => {
    expect(tagOf(context({ 'site/index.html': '<h1>hello, world</h1>\n' }))).not.toEqual(tagOf(context()));
  });

  test('changes with a build argument', () => {
    const dir = context();
    expect(tagOf(dir, { buildArgs: { VERSION: '2' } })).not.toEqual(tagOf(dir, { buildArgs: { VERSION: '1' } }));
    expect(tagOf(dir, { buildArgs: { A: '1', B: '2' } })).toEqual(tagOf(dir, { buildArgs: { B: '2', A: '1' } }));
  });

  test('changes with the platform and the target', () => {
    const dir = context({ Dockerfile: 'FROM public.ecr.aws/docker/library/nginx:1.27-alpine AS test\nCOPY site/ /usr/share/nginx/html/\n' });
    expect(tagOf(dir, { platform: ContainerPlatform.LINUX_ARM64 })).not.toEqual(tagOf(dir, { platform: ContainerPlatform.LINUX_AMD64 }));
    expect(tagOf(dir, { target: 'test' })).not.toEqual(tagOf(dir));
  });

  test('does not change with a file that .dockerignore or exclude leave out', () => {
    const base = tagOf(context());
    expect(tagOf(context({ 'README.md': 'edited\n', 'build.log': 'noise' }))).toEqual(base);
    expect(tagOf(context({ 'notes/todo.txt': 'x' }), { exclude: ['notes'] })).toEqual(tagOf(context(), { exclude: ['notes'] }));
  });

  test('does not change with settings that do not shape the image', () => {
    const dir = context();
    const repository = (s: Stack) => new ecr.Repository(s, 'Repo', { imageTagMutability: ecr.TagMutability.IMMUTABLE });
    const s = stack();
    const other = new ContainerImageBuild(s, 'Image', {
      directory: dir,
      buildTimeout: Duration.minutes(45),
      computeType: codebuild.ComputeType.X_LARGE,
      repository: repository(s),
    });
    expect(other.imageTag).toEqual(tagOf(dir));
  });
});

describe('ContainerImageBuild validation', () => {
  test('a missing directory', () => {
    expect(() => tagOf('/does/not/exist')).toThrow(/ \[ContainerImageBuild\]: directory \(\/does\/not\/exist\) does not exist .* Pass the directory of the Docker build context/);
  });

  test('a directory that is a file', () => {
    expect(() => tagOf(path.join(context(), 'Dockerfile'))).toThrow(/is not a directory/);
  });

  test('a missing Dockerfile', () => {
    expect(() => tagOf(context(), { file: 'docker/Dockerfile' })).toThrow(/file 'docker\/Dockerfile' does not exist in '.*'\. Pass the Dockerfile's path relative to 'directory'/);
  });

  test('a Dockerfile outside the context', () => {
    const dir = context();
    fs.writeFileSync(path.join(path.dirname(dir), 'Dockerfile.outside'), 'FROM scratch\n');
    expect(() => tagOf(dir, { file: '../Dockerfile.outside' })).toThrow(/file '\.\.\/Dockerfile\.outside' is outside the build context .* move the Dockerfile into it/);
    expect(() => tagOf(dir, { file: '/etc/hosts' })).toThrow(/is outside the build context/);
  });

  test.each([
    [Duration.minutes(656), /buildTimeout \(10 hours 56 minutes\) must be whole minutes from 5 to 655/],
    [Duration.hours(12), /buildTimeout \(12 hours\) must be whole minutes from 5 to 655: a deploy waits .* 12 hours at most, at least 60 minutes of CodeBuild's queue included/],
    [Duration.minutes(4), /buildTimeout \(4 minutes\) must be whole minutes from 5 to 655/],
    [Duration.seconds(330), /buildTimeout \(5 minutes 30 seconds\)/],
  ])('a buildTimeout the wait cannot hold: %s', (timeout, message) => {
    expect(atSynth(() => new ContainerImageBuild(stack(), 'Image', { directory: context(), buildTimeout: timeout }))).toThrow(message);
  });

  test('an error names the construct path and type, the prop and the value, then what to do', () => {
    expect(atSynth(() => new ContainerImageBuild(stack(), 'Image', { directory: context(), retainImages: 0 }))).toThrow(
      /^Stack\/Image \[ContainerImageBuild\]: retainImages \(0\) must be a whole number of at least 1.*\. Pass 1 or more/,
    );
  });

  test.each([0, -1, 2.5])('a retainImages of %s', (retainImages) => {
    expect(atSynth(() => new ContainerImageBuild(stack(), 'Image', { directory: context(), retainImages }))).toThrow(new RegExp(`retainImages \\(${retainImages}\\) must be a whole number of at least 1`));
  });

  test('a compute type that cannot run Docker', () => {
    expect(atSynth(() => new ContainerImageBuild(stack(), 'Image', { directory: context(), computeType: codebuild.ComputeType.LAMBDA_4GB }))).toThrow(/computeType \(BUILD_LAMBDA_4GB\) cannot run Docker builds/);
  });

  test('a build argument or target only known at deploy time', () => {
    const s = stack();
    const param = new CfnParameter(s, 'Version');
    expect(() => new ContainerImageBuild(s, 'A', { directory: context(), buildArgs: { VERSION: param.valueAsString } })).toThrow(
      /buildArgs\.VERSION is an unresolved token .* must be known at synth time/,
    );
    expect(() => new ContainerImageBuild(s, 'B', { directory: context(), target: param.valueAsString })).toThrow(/target is an unresolved token/);
  });

  test('tokens skip validation and reach the build as they resolve', () => {
    // GIVEN
    const s = stack();
    const minutes = new CfnParameter(s, 'Minutes', { type: 'Number' });
    const computeType = new CfnParameter(s, 'ComputeTypeParameter');

    // WHEN
    new ContainerImageBuild(s, 'Image', {
      directory: context(),
      buildTimeout: Duration.minutes(minutes.valueAsNumber),
      computeType: computeType.valueAsString as codebuild.ComputeType,
    });

    // THEN
    const template = Template.fromStack(s);
    expect(jobOf(template, 'Stack/Image').Spec).toMatchObject({
      TimeoutMinutes: { Ref: 'Minutes' },
      QueuedTimeoutMinutes: '60',
      ComputeType: { Ref: 'ComputeTypeParameter' },
    });
    // retainImages is refused as a token: aws-cdk-lib writes the lifecycle policy as JSON text at synth time (the prop matrix found the token's reference inside it).
    const retain = new CfnParameter(s, 'Retain', { type: 'Number' });
    expect(() => new ContainerImageBuild(s, 'Retained', { directory: context(), retainImages: retain.valueAsNumber })).toThrow(/retainImages is an unresolved token, which cannot be taken here: aws-cdk-lib writes the lifecycle policy as JSON text/);
  });

  test('a repository of the app with mutable tags is a warning, or an error when asked', () => {
    const s = stack();
    const mutable = new ecr.Repository(s, 'Mutable');
    new ContainerImageBuild(s, 'Image', { directory: context(), repository: mutable });
    Annotations.fromStack(s).hasWarning('/Stack/Image', Match.stringLikeRegexp('repository Stack/Mutable has MUTABLE tags, under which fingerprint tags such as fp-.* can be moved: a fingerprint tag that can be moved'));

    new ContainerImageBuild(s, 'Strict', { directory: context(), repository: mutable, requireImmutableTags: true });
    expectSynthError(s,
      /repository Stack\/Mutable has MUTABLE tags.*\(requireImmutableTags is true\)/,
    );
  });

  // ECR's exclusion filters are wildcard patterns (docs/aws-behaviour.md #32).
  test.each([
    [ecr.TagMutability.IMMUTABLE_WITH_EXCLUSION, 'fp-*', true],
    [ecr.TagMutability.IMMUTABLE_WITH_EXCLUSION, 'dev-*', false],
    [ecr.TagMutability.MUTABLE_WITH_EXCLUSION, 'fp-*', false],
    [ecr.TagMutability.MUTABLE_WITH_EXCLUSION, 'release-*', true],
  ])('a repository with %s tags excluding %s: fingerprint tags can move, %s', (mutability, filter, moves) => {
    const s = stack();
    const repository = new ecr.Repository(s, 'Repository', {
      imageTagMutability: mutability,
      imageTagMutabilityExclusionFilters: [ecr.ImageTagMutabilityExclusionFilter.wildcard(filter)],
    });
    new ContainerImageBuild(s, 'Image', { directory: context(), repository });
    const warnings = Annotations.fromStack(s).findWarning('/Stack/Image', Match.stringLikeRegexp('under which fingerprint tags such as fp-'));
    expect(warnings.length > 0).toBe(moves);
    if (moves) {
      new ContainerImageBuild(s, 'Strict', { directory: context(), repository, requireImmutableTags: true });
      expectSynthError(s, /exclusion filters/);
    }
  });

  test('a repository with immutable tags gives no warning (but that about its build caches, which the cache off removes)', () => {
    const s = stack();
    new ContainerImageBuild(s, 'A', { directory: context(), repository: new ecr.Repository(s, 'Immutable', { imageTagMutability: ecr.TagMutability.IMMUTABLE }), cache: false });
    expect(Annotations.fromStack(s).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('retainImages with a repository of your own is a warning', () => {
    const s = stack();
    new ContainerImageBuild(s, 'Image', { directory: context(), repository: ecr.Repository.fromRepositoryName(s, 'Imported', 'team/app'), retainImages: 5 });
    Annotations.fromStack(s).hasWarning('/Stack/Image', Match.stringLikeRegexp('retainImages \\(5\\) applies only to the repository ContainerImageBuild creates'));
  });
});

function listFiles(root: string, dir = root): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(root, path.join(dir, e.name)) : [path.relative(root, path.join(dir, e.name)).split(path.sep).join('/')]))
    .sort();
}

