/**
 * The per-stack runtime as synthesized: one function for every deploy-time job, a policy that grants
 * exactly what its code sends and does not grow with the number of artifacts, and content changes
 * that never broaden IAM (`cdk deploy --require-approval broadening` does not stop on a code change).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fullDiff } from '@aws-cdk/cloudformation-diff';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { runtimeStatements } from './jobs';
import { AmiBake, BakeStep, BaseImage, ContainerImageBuild, ContainerPlatform, ImmutableAutoScalingGroup, ImmutableFargateService } from '../../../src';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function context(content = '<h1>hello</h1>'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-context-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/\n');
  fs.writeFileSync(path.join(dir, 'index.html'), content);
  return dir;
}

/** A stack with `n` image builds and `n` bakes. */
function stackWith(n: number, options: { html?: string; step?: string; key?: boolean; strict?: boolean; destroy?: boolean } = {}): Stack {
  const stack = new Stack(new App(), 'App', { env: ENV });
  const dir = context(options.html);
  const key = options.key ? new kms.Key(stack, 'Key', { enableKeyRotation: true }) : undefined;
  const removalPolicy = options.destroy ? RemovalPolicy.DESTROY : undefined;
  for (let i = 0; i < n; i++) {
    new ContainerImageBuild(stack, `Image${i}`, { directory: dir, platform: ContainerPlatform.LINUX_ARM64, requireImmutableTags: options.strict, removalPolicy });
    new AmiBake(stack, `Bake${i}`, {
      baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'),
      steps: [
        BakeStep.shell([options.step ?? `echo ${i}`]),
        BakeStep.awsManaged('update-linux', '1.0.2'),
        // A shipped file: the runtime copies it where the bake instances read it.
        ...(options.key ? [BakeStep.file(path.join(dir, 'index.html'), '/srv/index.html')] : []),
      ],
      rootVolumeKey: key,
      removalPolicy,
    });
  }
  return stack;
}

/** The AWS commands a source file sends: `new XCommand(` of a client it imports, as `service:X`. */
function commandsSent(file: string): string[] {
  const source = fs.readFileSync(path.join(__dirname, '../../../src', file), 'utf8');
  const services: Record<string, string> = {
    'client-codebuild': 'codebuild',
    'client-ecr': 'ecr',
    'client-cloudwatch-logs': 'logs',
    'client-imagebuilder': 'imagebuilder',
    'client-ec2': 'ec2',
    'client-ssm': 'ssm',
    'client-eventbridge': 'events',
    'client-cloudformation': 'cloudformation',
    'client-s3': 's3',
  };
  // A command authorized by other actions than its name: CopyObject reads the source and writes the copy.
  const actionsOf: Record<string, string[]> = { 's3:CopyObject': ['s3:GetObject', 's3:PutObject'] };
  const out = new Set<string>();
  for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/([a-z0-9-]+)'/g)) {
    expect(Object.keys(services)).toContain(m[2]);
    for (const name of m[1].split(',').map((n) => n.trim()).filter((n) => n.endsWith('Command'))) {
      const action = `${services[m[2]]}:${name.replace(/Command$/, '')}`;
      if (source.includes(`new ${name}(`)) (actionsOf[action] ?? [action]).forEach((a) => out.add(a));
    }
  }
  return [...out];
}

describe('DeployTimeRuntime', () => {
  const sharedOf = (template: Template) => Object.keys(template.toJSON().Resources).filter((id) => /^(CdkImmutableDeploysRuntime|cdkimmutabledeploysRuntime)/.test(id));

  test('one function and no state machine for every build and bake of a stack; seven shared resources', () => {
    const template = Template.fromStack(stackWith(2));
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    // Function, role, policy, jobs resource, event rule, schedule rule and one permission for both rules.
    expect(sharedOf(template)).toHaveLength(7);
  });

  test('its code is the bundled handler, staged as a file asset of the stack exactly as lambda.Code.fromAsset stages it', () => {
    const bundle = path.join(__dirname, '..', '..', '..', 'assets', 'internal', 'runtime', 'runtime.singleton-lambda');
    const build = (appContext: { [key: string]: unknown }) => {
      const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-code-')), context: appContext });
      const ours = new Stack(app, 'App', { env: ENV });
      new AmiBake(ours, 'Bake', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(['echo 1'])] });
      // The same bundle through aws-cdk-lib's own asset code: the reference for hash, key and metadata.
      const reference = new Stack(app, 'Reference', { env: ENV });
      new lambda.Function(reference, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(bundle) });
      const assembly = app.synth();
      const fnOf = (stack: Stack) => Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
      const assetsOf = (stack: Stack) =>
        JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')).files;
      return {
        ours: fnOf(ours),
        reference: fnOf(reference),
        ourAssets: assetsOf(ours),
        referenceAssets: assetsOf(reference),
        directory: assembly.directory,
      };
    };

    const plain = build({});
    expect(plain.ours.Properties.Code).toEqual(plain.reference.Properties.Code);
    const hash = String(plain.ours.Properties.Code.S3Key).replace(/\.zip$/, '');
    expect(plain.ourAssets[hash].source).toEqual(plain.referenceAssets[hash].source);
    // The name cdk deploy prints while it publishes: the function's own path, as an Asset named 'Code' has.
    expect(plain.ourAssets[hash].displayName).toEqual('CdkImmutableDeploysRuntime9ed933286eae197c5289645108040085/Code');
    const staged: string = plain.ourAssets[hash].source.path;
    expect(plain.ourAssets[hash].source).toEqual({ path: `asset.${hash}.singleton-lambda`, packaging: 'zip' });
    expect(fs.readFileSync(path.join(plain.directory, staged, 'index.js'), 'utf8')).toEqual(fs.readFileSync(path.join(bundle, 'index.js'), 'utf8'));
    expect(plain.ours.Metadata?.['aws:asset:path']).toBeUndefined();

    // With asset metadata on (the CLI's default, read by the SAM CLI), the function names its staged code.
    const withMetadata = build({ 'aws:cdk:enable-asset-metadata': true });
    expect(withMetadata.ours.Metadata).toMatchObject({ 'aws:asset:path': staged, 'aws:asset:is-bundled': false, 'aws:asset:property': 'Code' });
    for (const key of ['aws:asset:path', 'aws:asset:is-bundled', 'aws:asset:property']) {
      expect(withMetadata.ours.Metadata[key]).toEqual(withMetadata.reference.Metadata[key]);
    }
  });

  test('one permission lets both rules invoke the function: the source ARN (matched with ArnLike) is the stack\'s rule prefix, which both names start with', () => {
    const stack = stackWith(1);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    const permission = Object.values<any>(template.findResources('AWS::Lambda::Permission'))[0].Properties;
    expect(permission).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceAccount: '123456789012' });
    const sourceArn = JSON.stringify(stack.resolve(permission.SourceArn));
    const prefix = /rule\/([^"]+)-\*/.exec(sourceArn)![1];
    const names = Object.values<any>(template.findResources('AWS::Events::Rule')).map((r) => r.Properties.Name);
    expect(names.sort()).toEqual([`${prefix}-events`, `${prefix}-poll`]);
  });

  test.each([
    ['50 builds', { builds: 50, bakes: 0 }],
    ['50 bakes', { builds: 0, bakes: 50 }],
  ])('%s in one stack need at most eight shared resources', (_name, counts) => {
    const stack = new Stack(new App(), 'App', { env: ENV });
    const dir = context();
    for (let i = 0; i < counts.builds; i++) new ContainerImageBuild(stack, `Image${i}`, { directory: dir });
    for (let i = 0; i < counts.bakes; i++) {
      new AmiBake(stack, `Bake${i}`, { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(['dnf install -y nginx', `echo ${i}`])] });
    }
    expect(sharedOf(Template.fromStack(stack)).length).toBeLessThanOrEqual(8);
  });

  test('its policy grants every AWS command the runtime and its jobs send, and nothing else but the dependent actions AWS documents', () => {
    // GIVEN the commands of the runtime and of every job
    const sent = new Set(['internal/runtime/runtime.singleton-lambda.ts', 'internal/runtime/state.ts', 'artifacts/container/build-job.ts', 'artifacts/container/image-state-job.ts', 'artifacts/ami/bake-job.ts', 'artifacts/ami/bake-cleanup-job.ts', 'artifacts/ami/bake-records-job.ts', 'artifacts/ami/hold-job.ts',
      'artifacts/container/lookup-job.ts', 'artifacts/ami/lookup-job.ts'].flatMap(commandsSent));
    // CreateImage reads the recipe and the configurations and tags the image; CreateImageRecipe reads its
    // components and the key; the first bake of an account creates Image Builder's service-linked role;
    // with no workflow named it reads the AWS-managed build and test workflows (GetWorkflow);
    // DeleteRepository of a KMS-encrypted repository retires ECR's grants on its key with the caller's kms:RetireGrant.
    const dependent = ['imagebuilder:GetImageRecipe', 'imagebuilder:GetInfrastructureConfiguration', 'imagebuilder:GetDistributionConfiguration',
      'imagebuilder:GetComponent', 'imagebuilder:TagResource', 'imagebuilder:GetWorkflow', 'iam:CreateServiceLinkedRole', 'kms:DescribeKey', 'kms:RetireGrant'];
    // WHEN
    // (with removal policy DESTROY, whose deletes a stack that keeps its artifacts is not granted)
    const template = Template.fromStack(stackWith(1, { key: true, strict: true, destroy: true }));
    const granted = new Set(runtimeStatements(template).flatMap((s) => [s.Action].flat()));
    // THEN
    expect([...sent].filter((c) => !granted.has(c))).toEqual([]);
    expect([...granted].filter((g) => !sent.has(g) && !dependent.includes(g))).toEqual([]);
  });

  test('its policy is the same for 1 and 10 artifacts of each kind', () => {
    const policy = (n: number) => JSON.stringify(Template.fromStack(stackWith(n)).toJSON().Resources, (k, v) => (k === 'Jobs' ? undefined : v));
    const statements = (n: number) => JSON.stringify(runtimeStatements(Template.fromStack(stackWith(n))));
    expect(statements(10)).toEqual(statements(1));
    expect(policy(1)).toBeDefined();
  });

  test('50 builds and 50 bakes fit: no overflow policies, every policy far below IAM\'s size limits', () => {
    const template = Template.fromStack(stackWith(50));
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    for (const policy of Object.values<any>(template.findResources('AWS::IAM::Policy'))) {
      expect(JSON.stringify(policy.Properties.PolicyDocument).length).toBeLessThan(6_144);
    }
  });

  test.each([
    ['a file of a build context', { html: '<h1>changed</h1>' }],
    ['a bake step', { step: 'echo changed' }],
  ])('changing %s does not broaden IAM', (_what, change) => {
    const before = Template.fromStack(stackWith(1)).toJSON();
    const after = Template.fromStack(stackWith(1, change)).toJSON();
    const diff = fullDiff(before, after);
    expect(diff.isEmpty).toBe(false);
    expect(diff.permissionsBroadened).toBe(false);
  });

  test('what consumers run comes from each artifact\'s result lookup, never from a wait: no handle, no Data of a wait anywhere (review #1)', () => {
    // GIVEN a fleet of a layered bake and a service of a build
    const stack = new Stack(new App(), 'App', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const base = new AmiBake(stack, 'Base', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(['echo base'])] });
    const web = new AmiBake(stack, 'Web', { baseImage: BaseImage.fromAmiArtifact(base), steps: [BakeStep.shell(['echo web'])] });
    new ImmutableAutoScalingGroup(stack, 'Fleet', { vpc, artifact: web, instanceType: new ec2.InstanceType('t3.micro') });
    const image = new ContainerImageBuild(stack, 'Image', { directory: context() });
    new ImmutableFargateService(stack, 'Service', { cluster: new ecs.Cluster(stack, 'Cluster', { vpc }), artifact: image, desiredCount: 1 });
    // WHEN
    const template = Template.fromStack(stack).toJSON();
    const text = JSON.stringify(template);
    const resultOf = (at: string) => Object.entries<any>(template.Resources).find(([, r]) => r.Type === 'Custom::CdkImmutableDeploysLookup' && r.Properties.Path === at)![0];
    // THEN
    expect(text).not.toContain('AWS::CloudFormation::WaitConditionHandle');
    expect(text).not.toMatch(/"Data"\]/);
    expect(stack.resolve(web.amiId)).toEqual({ 'Fn::GetAtt': [resultOf('App/Web'), 'Id'] });
    expect(stack.resolve(image.imageDigest)).toEqual({ 'Fn::GetAtt': [resultOf('App/Image'), 'Id'] });
    const launchTemplate = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::EC2::LaunchTemplate');
    expect(launchTemplate.Properties.LaunchTemplateData.ImageId).toEqual({ 'Fn::GetAtt': [resultOf('App/Web'), 'Id'] });
    const layer = Object.values<any>(template.Resources).filter((r) => r.Type === 'Custom::CdkImmutableDeploysJobs').flatMap((r) => r.Properties.Jobs).find((j) => j.Path === 'App/Web');
    expect(layer.Spec.ParentImage).toEqual({ 'Fn::GetAtt': [resultOf('App/Base'), 'Id'] });
    const task = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition');
    expect(JSON.stringify(task.Properties.ContainerDefinitions[0].Image)).toContain(`{"Fn::GetAtt":["${resultOf('App/Image')}","Id"]}`);
  });

  test('hears the state changes of the stack\'s builds and bakes through one rule, with no input of its own (no handle in it)', () => {
    const template = Template.fromStack(stackWith(1));
    const rules = Object.values<any>(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(2);
    const events = rules.find((r) => r.Properties.EventPattern);
    expect(events.Properties.EventPattern.$or.map((b: any) => b.source[0])).toEqual(['aws.codebuild', 'aws.imagebuilder']);
    const schedule = rules.find((r) => r.Properties.ScheduleExpression);
    expect(schedule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'DISABLED' });
    for (const rule of rules) for (const target of rule.Properties.Targets) expect(target.Input ?? target.InputTransformer).toBeUndefined();
  });

  test('jobs are spread over as many jobs resources as their requests need; one job too large for a request is a synth-time error', () => {
    // 50 builds and 50 bakes do not fit one request of at most 256 KB, old and new properties together.
    const template = Template.fromStack(stackWith(50));
    const resources = Object.values<any>(template.findResources('Custom::CdkImmutableDeploysJobs'));
    expect(resources.length).toBeGreaterThan(1);
    expect(resources.flatMap((r) => r.Properties.Jobs)).toHaveLength(100);
    for (const r of resources) expect(JSON.stringify(r.Properties).length).toBeLessThan(100_000);

    const stack = new Stack(new App(), 'App', { env: ENV });
    const script = Array.from({ length: 2_000 }, (_, i) => `echo line ${i} of a very long inline script`);
    new AmiBake(stack, 'Huge', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(script)] });
    expect(() => Template.fromStack(stack)).toThrow(/deploy-time job of App\/Huge takes about \d+ bytes.*BakeStep\.file/s);
  });

  test('a retry after --no-rollback (context cdk-immutable-deploys:retry) gives every job a new wait (and its result a new key); the same word gives the same ones', () => {
    // GIVEN the same app, synthesized with no retry word, with one, again with it, and with another
    const build = (retry?: string | number) => {
      const app = new App({ context: retry === undefined ? {} : { 'cdk-immutable-deploys:retry': retry } });
      const stack = new Stack(app, 'App', { env: ENV });
      new ContainerImageBuild(stack, 'Image', { directory: context(), platform: ContainerPlatform.LINUX_ARM64 });
      new AmiBake(stack, 'Bake', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(['echo hi'])] });
      const template = Template.fromStack(stack);
      const waits = Object.keys(template.findResources('AWS::CloudFormation::WaitCondition')).sort();
      const keys = Object.values<any>(template.findResources('Custom::CdkImmutableDeploysJobs')).flatMap((r) => r.Properties.Jobs.map((j: any) => j.Key)).sort();
      const results = Object.values<any>(template.findResources('Custom::CdkImmutableDeploysLookup')).map((r) => r.Properties.Spec.Key).sort();
      return { waits, keys, results };
    };
    const none = build();
    const first = build('1');

    // THEN a new word is a new wait for every job, and the jobs resource and the results name the new waits
    expect(first.waits).toHaveLength(2);
    expect(first.waits.filter((w) => none.waits.includes(w))).toEqual([]);
    expect(first.keys).toEqual(first.waits);
    expect(first.results).toEqual(first.waits);
    // the same word (a number or its text) keeps them, another word changes them again
    expect(build('1')).toEqual(first);
    expect(build(1)).toEqual(first);
    expect(build('2').waits.filter((w) => first.waits.includes(w))).toEqual([]);
    // no word, or an empty one, is the default: existing stacks keep their waits
    expect(build('')).toEqual(none);

    // AND a word that cannot be part of a name is a synth-time error that says what to pass
    expect(() => build('two words')).toThrow(/context cdk-immutable-deploys:retry \(two words\) must be 1 to 32 letters, digits.*cdk deploy -c cdk-immutable-deploys:retry=2/s);
  });
});

describe('generated names meet AWS\'s rules, for the longest stack name and a deep construct path', () => {
  // CloudFormation stack names: up to 128 characters of [A-Za-z0-9-].
  const stackName = `A${'-very-long-stack-name'.repeat(6)}`.slice(0, 128);
  const stack = new Stack(new App(), stackName, { env: ENV });
  let scope: Construct = stack;
  for (const id of ['Platform', 'Services', 'Frontend-Web_Tier', 'Images']) scope = new Construct(scope, id);
  const bake = new AmiBake(scope, 'BakeWithAVeryLongConstructIdIndeed', {
    baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'),
    steps: [BakeStep.shell(['echo'])],
    testSteps: [BakeStep.shell(['true'])],
  });
  new ContainerImageBuild(scope, 'Image', { directory: context() });
  const template = Template.fromStack(stack);
  const jobs = Object.values<any>(template.findResources('Custom::CdkImmutableDeploysJobs')).flatMap((r) => r.Properties.Jobs);

  test('Image Builder names: 1 to 128 characters of [-_A-Za-z0-9 ], starting and ending with no space', () => {
    const names = [bake.recipeName, ...jobs.flatMap((j) => (j.Spec.Components ?? []).map((c: any) => c.Name))];
    expect(names.length).toBe(3);
    for (const name of names) expect(name).toMatch(/^[-_A-Za-z0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z0-9]$/);
    for (const resource of ['AWS::ImageBuilder::DistributionConfiguration', 'AWS::ImageBuilder::InfrastructureConfiguration']) {
      for (const r of Object.values<any>(template.findResources(resource))) expect(r.Properties.Name).toMatch(/^[-_A-Za-z0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z0-9]$/);
    }
  });

  test('AMI names: at most 128 characters once Image Builder puts in the build date (24 characters)', () => {
    const distribution = Object.values<any>(template.findResources('AWS::ImageBuilder::DistributionConfiguration'))[0];
    const name: string = distribution.Properties.Distributions[0].AmiDistributionConfiguration.Name;
    expect(name.replace('{{ imagebuilder:buildDate }}', '2026-12-01T20-48-01.123Z').length).toBeLessThanOrEqual(128);
    expect(name).toMatch(/^[A-Za-z0-9().\-/_]+\{\{ imagebuilder:buildDate \}\}$/);
  });

  test('the schedule rule: at most 64 characters of [.-_A-Za-z0-9]; the state path: at most 1,011 characters and 15 levels', () => {
    const rule = Object.values<any>(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.ScheduleExpression);
    expect(rule.Properties.Name).toMatch(/^[.\-_A-Za-z0-9]{1,64}$/);
    const fn = Object.values<any>(template.findResources('AWS::Lambda::Function'))[0];
    const statePath = `${fn.Properties.Environment.Variables.CID_STATE_PATH}/${jobs[0].Key}`;
    expect(statePath.length).toBeLessThanOrEqual(1011);
    expect(statePath.split('/').length - 1).toBeLessThanOrEqual(15);
    expect(statePath).toMatch(/^\/[a-zA-Z0-9_.\-/]+$/);
  });
});
