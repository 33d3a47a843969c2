/**
 * `DeployTimeRuntime` on its own, in a bare stack (no image build or bake): what it renders for its
 * function, rules, policy, jobs and lookups. Fast enough to mutate (issue 17); the construct suites
 * (`runtime-construct.test.ts`) check it with real jobs.
 */
import { App, CfnParameter, Duration, Lazy, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { amiBake } from '../../../src/artifacts/ami/bake-job';
import { Fingerprint } from '../../../src/fingerprint';
import { START_ONLY } from '../../../src/internal/runtime/protocol';
import { DeployTimeRuntime } from '../../../src/internal/runtime/runtime';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const FP = 'a'.repeat(64);
const PREFIX = `App-jobs-${Fingerprint.ofString('App').short.slice(0, 8)}`;

function setUp(name = 'App') {
  const stack = new Stack(new App(), name, { env: ENV });
  return { stack, runtime: DeployTimeRuntime.of(stack) };
}

const only = (template: Template, type: string): [string, any] => {
  const found = Object.entries(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0];
};

describe('DeployTimeRuntime in a bare stack', () => {
  test('one per stack: a function of 10 minutes and 256 MB that knows its state path and schedule rule', () => {
    const { stack, runtime } = setUp();
    expect(DeployTimeRuntime.of(new Construct(stack, 'Deep'))).toBe(runtime);
    const [, fn] = only(Template.fromStack(stack), 'AWS::Lambda::Function');
    expect(fn.Properties).toMatchObject({
      Description: 'cdk-immutable-deploys: runs the deploy-time jobs of this stack (image builds, AMI bakes)',
      Timeout: 600,
      MemorySize: 256,
      Environment: { Variables: { CID_STATE_PATH: '/cdk-immutable-deploys/App', CID_POLL_RULE: `${PREFIX}-poll`, CID_POLICY: expect.stringMatching(/^CdkImmutableDeploysRuntime.*ServiceRoleDefaultPolicy/) } },
    });
  });

  test('its rules: a schedule of one minute, off until a job is pending, and one rule of state changes; each targets the function', () => {
    const { stack } = setUp();
    const rules = Template.fromStack(stack).findResources('AWS::Events::Rule');
    const poll = Object.values(rules).find((r: any) => r.Properties.ScheduleExpression) as any;
    const changes = Object.values(rules).find((r: any) => r.Properties.EventPattern) as any;
    expect(poll.Properties).toMatchObject({ Name: `${PREFIX}-poll`, ScheduleExpression: 'rate(1 minute)', State: 'DISABLED' });
    expect(poll.Properties.Description).toContain('stack App');
    expect(poll.Properties.Targets).toEqual([expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 0 }, Arn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } })]);
    expect(changes.Properties).toMatchObject({ Name: `${PREFIX}-events`, EventPattern: { source: ['cdk-immutable-deploys.none'] } });
    expect(changes.Properties.Description).toContain('stack App');
    expect(changes.Properties.Targets).toEqual([expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 2 } })]);
  });

  test('the state-change rule hears each watched source: one as it is, several under $or by key', () => {
    const one = setUp();
    one.runtime.watch('b', { source: ['aws.imagebuilder'] });
    expect(Object.values(Template.fromStack(one.stack).findResources('AWS::Events::Rule'))
      .map((r: any) => r.Properties.EventPattern).filter((p) => p)).toEqual([{ source: ['aws.imagebuilder'] }]);
    const two = setUp();
    two.runtime.watch('b', { source: ['aws.imagebuilder'] });
    two.runtime.watch('a', { source: ['aws.codebuild'] });
    two.runtime.watch('b', { 'source': ['aws.imagebuilder'], 'detail-type': ['EC2 Image Builder Image State Change'] });
    const patterns = Object.values(Template.fromStack(two.stack).findResources('AWS::Events::Rule')).map((r: any) => r.Properties.EventPattern).filter((p) => p);
    expect(patterns).toEqual([{ $or: [{ source: ['aws.codebuild'] }, { 'source': ['aws.imagebuilder'], 'detail-type': ['EC2 Image Builder Image State Change'] }] }]);
  });

  test('one permission lets the stack\'s rules invoke the function, for this account only', () => {
    const { stack } = setUp();
    const [, permission] = only(Template.fromStack(stack), 'AWS::Lambda::Permission');
    expect(permission.Properties).toMatchObject({ Principal: 'events.amazonaws.com', SourceAccount: '123456789012' });
    expect(JSON.stringify(permission.Properties.SourceArn)).toContain(`:events:eu-west-1:123456789012:rule/${PREFIX}-*"`);
  });

  test('its own policy: the state parameters under the stack\'s path, its schedule rule, and its stack\'s resources, status and signals', () => {
    const { stack } = setUp();
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const text = (s: any) => JSON.stringify(s.Resource);
    const ssm = statements.find((s) => JSON.stringify(s.Action).includes('ssm:'));
    expect(ssm.Action).toEqual(['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:GetParameter', 'ssm:GetParametersByPath']);
    expect(text(ssm)).toContain(':ssm:eu-west-1:123456789012:parameter/cdk-immutable-deploys/App"');
    expect(text(ssm)).toContain(':ssm:eu-west-1:123456789012:parameter/cdk-immutable-deploys/App/*"');
    const events = statements.find((s) => JSON.stringify(s.Action).includes('events:'));
    expect(events.Action).toEqual(['events:EnableRule', 'events:DisableRule']);
    expect(text(events)).toContain(`:events:eu-west-1:123456789012:rule/${PREFIX}-poll"`);
    const cfn = statements.find((s) => JSON.stringify(s.Action).includes('cloudformation:'));
    expect(cfn.Action).toEqual(['cloudformation:DescribeStackResource', 'cloudformation:SignalResource', 'cloudformation:DescribeStacks']);
    expect(cfn.Resource).toEqual({ Ref: 'AWS::StackId' });
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('cloudformation:'))).toHaveLength(1);
  });

  test('a grant is added once per key', () => {
    const { stack, runtime } = setUp();
    const statement = () => new iam.PolicyStatement({ actions: ['ecr:DescribeImages'], resources: ['arn:aws:ecr:eu-west-1:123456789012:repository/app-*'] });
    runtime.grant('images', [statement()], 'the stack\'s repositories');
    runtime.grant('images', [statement()], 'again');
    runtime.grant('other', [new iam.PolicyStatement({ actions: ['ecr:ListImages'], resources: ['*'] })]);
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.filter((s) => s.Action === 'ecr:DescribeImages')).toHaveLength(1);
    expect(statements.filter((s) => s.Action === 'ecr:ListImages')).toHaveLength(1);
  });

  test('a job: a wait named by fingerprint and timeout that takes one signal through its creation policy (no handle), its entry in the jobs resource, and a result lookup after the wait', () => {
    const { stack, runtime } = setUp();
    const owner = new Construct(stack, 'Image');
    const dependency = new Construct(stack, 'Grant');
    new iam.Role(dependency, 'Role', { assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com') });
    const job = runtime.addJob(owner, { kind: 'container-build', fingerprint: FP, spec: { Image: 'x' }, timeout: Duration.hours(1), dependencies: [dependency], readBack: { RepositoryUri: 'r' } });
    runtime.addJob(new Construct(stack, 'Image2'), { kind: 'container-build', fingerprint: FP, spec: {}, timeout: Duration.hours(2), readBack: {} });
    const suffix = Fingerprint.ofJson({ fingerprint: FP, timeout: 3600 }).short;
    const template = Template.fromStack(stack).toJSON();
    const waitId = Object.keys(template.Resources).find((id) => id.startsWith(`ImageWait${suffix}`))!;
    expect(Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::CloudFormation::WaitConditionHandle')).toEqual([]);
    const wait = template.Resources[waitId];
    expect(wait.Properties).toBeUndefined();
    expect(wait.CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: 'PT3600S' } });
    const [jobsId, jobs] = Object.entries(template.Resources).find(([, r]: any) => r.Type === 'Custom::CdkImmutableDeploysJobs') as [string, any];
    expect(jobsId).toMatch(/Jobs[A-F0-9]{8}$/);
    expect(wait.DependsOn).toEqual([jobsId]);
    expect(jobs.Properties.Jobs.slice(0, 1)).toEqual([{ Key: waitId, Kind: 'container-build', Path: 'App/Image', Fingerprint: FP, TimeoutSeconds: '3600', Spec: { Image: 'x' } }]);
    expect(jobs.Properties.ServiceTimeout).toBe('900');
    expect(jobs.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^cdkimmutabledeploysRuntimePoll/), expect.stringMatching(/^GrantRole/)]));
    // The result: a job-result lookup after the wait, whose Id is what consumers read; nothing reads the wait.
    const [resultId, result] = Object.entries<any>(template.Resources).find(([id]) => id.startsWith('ImageResult'))!;
    expect(result).toMatchObject({ Type: 'Custom::CdkImmutableDeploysLookup', Properties: { Kind: 'job-result', Path: 'App/Image', Fingerprint: FP, Spec: { RepositoryUri: 'r', JobKind: 'container-build', Key: waitId } } });
    expect(result.DependsOn).toEqual(expect.arrayContaining([waitId]));
    expect(stack.resolve(job.result)).toEqual({ 'Fn::GetAtt': [resultId, 'Id'] });
    expect(JSON.stringify(template)).not.toContain('"Data"]');
    // A new timeout is a new wait.
    expect(Object.keys(template.Resources).some((id) => id.startsWith(`Image2Wait${Fingerprint.ofJson({ fingerprint: FP, timeout: 7200 }).short}`))).toBe(true);
  });

  test('a timeout given as a lazy number becomes the wait\'s timeout as a string', () => {
    const { stack, runtime } = setUp();
    runtime.addJob(new Construct(stack, 'Image'), { kind: 'container-build', fingerprint: FP, spec: {}, timeout: Duration.seconds(Lazy.number({ produce: () => 600 })), readBack: {} });
    const wait = Object.values(Template.fromStack(stack).findResources('AWS::CloudFormation::WaitCondition'))[0] as any;
    expect(wait.CreationPolicy.ResourceSignal.Timeout).toBe('PT600S');
  });

  test('exactly 100,000 bytes still fit one request: two jobs of 50,000 share a resource, and one of 100,000 is no error', () => {
    const sized = (path: string, bytes: number) => {
      const empty = Buffer.byteLength(JSON.stringify({ Kind: 'ami-bake', Path: `Exact/${path}`, Fingerprint: FP, Spec: { Components: '' } }), 'utf8');
      return { kind: 'ami-bake' as const, fingerprint: FP, spec: { Components: 'x'.repeat(bytes - 160 - empty) }, timeout: Duration.hours(1), readBack: {} };
    };
    const two = setUp('Exact');
    two.runtime.addJob(new Construct(two.stack, 'A'), sized('A', 50_000));
    two.runtime.addJob(new Construct(two.stack, 'B'), sized('B', 50_000));
    expect(Object.values(Template.fromStack(two.stack).findResources('Custom::CdkImmutableDeploysJobs')).map((r: any) => r.Properties.Jobs.length)).toEqual([2]);
    const one = setUp('Exact');
    one.runtime.addJob(new Construct(one.stack, 'A'), sized('A', 100_000));
    expect(() => Template.fromStack(one.stack)).not.toThrow();
  });

  test('a timeout known only at deploy time becomes the wait\'s timeout, as a string', () => {
    const { stack, runtime } = setUp();
    const seconds = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    runtime.addJob(new Construct(stack, 'Image'), { kind: 'container-build', fingerprint: FP, spec: {}, timeout: Duration.seconds(seconds), readBack: {} });
    const wait = Object.values(Template.fromStack(stack).findResources('AWS::CloudFormation::WaitCondition'))[0] as any;
    // An intrinsic function at a leaf of a creation policy is valid CloudFormation (cfn-lint#4641, row 304).
    expect(wait.CreationPolicy.ResourceSignal.Timeout).toEqual({ 'Fn::Join': ['', ['PT', { Ref: 'Seconds' }, 'S']] });
  });

  test('a job that reads another job\'s result goes to the next jobs resource; jobs of one level share one', () => {
    const { stack, runtime } = setUp();
    const base = runtime.addJob(new Construct(stack, 'Base'), { kind: 'ami-bake', fingerprint: 'b'.repeat(64), spec: {}, timeout: Duration.hours(1), readBack: {} });
    runtime.addJob(new Construct(stack, 'Other'), { kind: 'ami-bake', fingerprint: 'd'.repeat(64), spec: { Data: 'not a result' }, timeout: Duration.hours(1), readBack: {} });
    runtime.addJob(new Construct(stack, 'Layer'), { kind: 'ami-bake', fingerprint: 'c'.repeat(64), spec: { ParentImage: base.result }, timeout: Duration.hours(1), readBack: {} });
    const resources = Template.fromStack(stack).toJSON().Resources;
    const jobs = Object.entries(resources).filter(([, r]: any) => r.Type === 'Custom::CdkImmutableDeploysJobs').map(([id, r]: any) => [id, r.Properties.Jobs.map((j: any) => j.Path)]);
    expect(jobs).toEqual([
      [expect.stringMatching(/RuntimeJobs[A-F0-9]{8}$/), ['App/Base', 'App/Other']],
      [expect.stringMatching(/RuntimeJobs2[A-F0-9]{8}$/), ['App/Layer']],
    ]);
  });

  test('jobs fill a resource up to 100,000 bytes, then the next; a job too large alone is a synth error', () => {
    const { stack, runtime } = setUp();
    for (let i = 0; i < 4; i++) runtime.addJob(new Construct(stack, `Bake${i}`), { kind: 'ami-bake', fingerprint: `${i}`.repeat(64), spec: { Components: 'x'.repeat(30_000) }, timeout: Duration.hours(1), readBack: {} });
    const counts = Object.values(Template.fromStack(stack).findResources('Custom::CdkImmutableDeploysJobs')).map((r: any) => r.Properties.Jobs.length);
    expect(counts).toEqual([3, 1]);
    const big = setUp('Big');
    big.runtime.addJob(new Construct(big.stack, 'Huge'), { kind: 'ami-bake', fingerprint: FP, spec: { Components: 'x'.repeat(100_000) }, timeout: Duration.hours(1), readBack: {} });
    expect(() => Template.fromStack(big.stack)).toThrow(/The deploy-time job of Big\/Huge takes about \d+ bytes, more than the 100000 that fit one CloudFormation request to the runtime of stack Big .*Move long scripts into files/);
    const fits = setUp('Fits');
    fits.runtime.addJob(new Construct(fits.stack, 'Large'), { kind: 'ami-bake', fingerprint: FP, spec: { Components: 'x'.repeat(99_000) }, timeout: Duration.hours(1), readBack: {} });
    expect(() => Template.fromStack(fits.stack)).not.toThrow();
  });

  test('GIVEN a job whose settings without its documents exceed what its pending state holds THEN synth fails naming it; documents of any size within a request do not count (review runtime #4)', () => {
    const docs = setUp('Docs');
    docs.runtime.addJob(new Construct(docs.stack, 'Bake'), { kind: 'ami-bake', fingerprint: FP, spec: { Components: 'x'.repeat(60_000), Assets: 'y'.repeat(20_000), RecipeName: 'r' }, timeout: Duration.hours(1), readBack: {} });
    expect(() => Template.fromStack(docs.stack)).not.toThrow();
    const arns = setUp('Arns');
    arns.runtime.addJob(new Construct(arns.stack, 'Bake'), { kind: 'ami-bake', fingerprint: FP, spec: { Components: 'x', ComponentArns: Array.from({ length: 100 }, (_, i) => `arn:aws:imagebuilder:eu-west-1:123456789012:component/arns-bake-${i}/1.0.0/1`) }, timeout: Duration.hours(1), readBack: {} });
    expect(() => Template.fromStack(arns.stack)).toThrow(/The deploy-time job of Arns\/Bake keeps about \d+ bytes of settings while it is pending \(without its Components and Assets\), more than the 6000 that fit the runtime's state \(an SSM parameter takes at most 8 KB\)\. Use fewer steps/);
  });

  test('the start-only settings the construct leaves out of a pending job\'s size are those the bake\'s runner leaves out of its state', () => {
    expect(amiBake.startOnly).toEqual(START_ONLY['ami-bake']);
  });

  test('a lookup: its own resource with the fingerprint and where to look, after the function, answering its Id', () => {
    const { stack, runtime } = setUp();
    const owner = new Construct(stack, 'Imported');
    const id = runtime.addLookup(owner, { kind: 'ami-lookup', fingerprint: FP, spec: { Owner: '111111111111' } });
    const [lookupId, lookup] = only(Template.fromStack(stack), 'Custom::CdkImmutableDeploysLookup');
    expect(lookupId).toMatch(/^ImportedLookup/);
    expect(lookup.Properties).toMatchObject({ Kind: 'ami-lookup', Path: 'App/Imported', Fingerprint: FP, Spec: { Owner: '111111111111' }, ServiceTimeout: '900' });
    expect(lookup.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^CdkImmutableDeploysRuntime.*ServiceRole/)]));
    expect(stack.resolve(id)).toEqual({ 'Fn::GetAtt': [lookupId, 'Id'] });
  });

  test('rule names: a long stack name is cut to 40 characters, and a hash of the whole name keeps them apart', () => {
    const long = 'S'.repeat(60);
    const { stack } = setUp(long);
    const rule = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')).find((r: any) => r.Properties.ScheduleExpression) as any;
    expect(rule.Properties.Name).toBe(`${'S'.repeat(40)}-jobs-${Fingerprint.ofString(long).short.slice(0, 8)}-poll`);
  });
});

describe('the runtime\'s own policies, for IAM propagation (review runtime #8)', () => {
  test('GIVEN more grants than fit 10,000 characters THEN the function names its default policy and every overflow policy aws-cdk-lib split off', () => {
    const { stack, runtime } = setUp();
    for (let i = 0; i < 60; i++) {
      runtime.grant(`test:${i}`, [new iam.PolicyStatement({ actions: ['s3:GetObject', `sqs:Action${i}`], resources: [`arn:aws:s3:::bucket-with-a-rather-long-name-number-${i}/some/long/prefix/*`] })]);
    }
    const template = Template.fromStack(stack);
    const overflow = Object.keys(template.findResources('AWS::IAM::ManagedPolicy')).filter((id) => /OverflowPolicy\d/.test(id));
    expect(overflow.length).toBeGreaterThan(0);
    const [defaultPolicy] = Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => /^CdkImmutableDeploysRuntime.*ServiceRoleDefaultPolicy/.test(id));
    const [, fn] = only(template, 'AWS::Lambda::Function');
    expect(fn.Properties.Environment.Variables.CID_POLICY.split(',').sort()).toEqual([defaultPolicy, ...overflow].sort());
  });
});

describe('the retry word (context cdk-immutable-deploys:retry), in a bare stack', () => {
  /** The logical id of one job's wait, synthesized with this context. */
  function ids(context: { [key: string]: unknown }) {
    const stack = new Stack(new App({ context }), 'App', { env: ENV });
    const job = DeployTimeRuntime.of(stack).addJob(new Construct(stack, 'Image'), { kind: 'container-build', fingerprint: FP, spec: {}, timeout: Duration.hours(1), readBack: {} });
    return { wait: stack.resolve(job.wait.logicalId) };
  }
  const suffix = (extra: { [key: string]: unknown }) => Fingerprint.ofJson({ fingerprint: FP, timeout: 3600, ...extra }).short;
  /** `<construct><kind><suffix>` and the hash CDK appends to a logical id. */
  const named = (kind: string, extra: { [key: string]: unknown }) => new RegExp(`^Image${kind}${suffix(extra)}[0-9A-F]{8}$`);

  test('the wait\'s name: pinned without a word (existing stacks keep theirs), and with the word', () => {
    expect(ids({}).wait).toMatch(named('Wait', {}));
    expect(ids({ 'cdk-immutable-deploys:retry': '' })).toEqual(ids({}));
    expect(ids({ 'cdk-immutable-deploys:retry': null })).toEqual(ids({}));
    expect(ids({ 'cdk-immutable-deploys:retry': '2' }).wait).toMatch(named('Wait', { retry: '2' }));
    expect(ids({ 'cdk-immutable-deploys:retry': 2 })).toEqual(ids({ 'cdk-immutable-deploys:retry': '2' }));
  });

  test('a word of 1 to 32 letters, digits, ".", "_" or "-" is taken; anything else is a synth error naming the stack, the value and what to pass', () => {
    for (const word of ['a', 'x'.repeat(32), 'r.1_b-2']) expect(ids({ 'cdk-immutable-deploys:retry': word }).wait).toMatch(named('Wait', { retry: word }));
    for (const bad of ['x'.repeat(33), 'bad word', 'word bad', 'two/words']) {
      expect(() => ids({ 'cdk-immutable-deploys:retry': bad })).toThrow(
        `App: context cdk-immutable-deploys:retry (${bad}) must be 1 to 32 letters, digits, '.', '_' or '-'. Pass a new word for each retry after a deploy with --no-rollback failed, e.g. \`cdk deploy -c cdk-immutable-deploys:retry=2\`.`,
      );
    }
    expect(() => ids({ 'cdk-immutable-deploys:retry': true })).toThrow(/context cdk-immutable-deploys:retry \(true\) must be/);
    expect(() => ids({ 'cdk-immutable-deploys:retry': { word: 'a' } })).toThrow(/context cdk-immutable-deploys:retry .* must be/);
  });
});

describe('key grants and removal policies, in a bare stack', () => {
  const KEY = 'arn:aws:kms:eu-west-1:111111111111:key/1a2b3c4d-0000-0000-0000-00000000000a';
  /** This account's Auto Scaling service-linked role, in the stack's partition. */
  const GRANTEE = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling']] };
  const describeStacks = (stack: Stack) => statementsOf(stack).filter((s) => [s.Action].flat().includes('cloudformation:DescribeStacks'));
  const statementsOf = (stack: Stack): any[] => Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);

  test('a key grant: one lookup resource per key, named by it, with the key, this account\'s Auto Scaling role and the runtime as retiring principal', () => {
    const { stack, runtime } = setUp();
    const grant = runtime.addKeyGrant(KEY);
    expect(runtime.addKeyGrant(KEY)).toBe(grant);
    const other = runtime.addKeyGrant(KEY.replace('0a', '0b'));
    expect(other).not.toBe(grant);
    const identity = JSON.stringify(KEY);
    const id = `KeyGrant${Fingerprint.ofString(identity).short.slice(0, 8)}`;
    expect(grant.node.id).toBe(id);
    const resources = Template.fromStack(stack).findResources('Custom::CdkImmutableDeploysLookup');
    expect(Object.keys(resources)).toHaveLength(2);
    const [, resource] = Object.entries<any>(resources).find(([logicalId]) => logicalId.includes(id))!;
    expect(resource.Properties).toMatchObject({
      Kind: 'key-grant',
      Path: `${runtime.node.path}/${id}`,
      Fingerprint: Fingerprint.ofJson({ key: identity, grantee: JSON.stringify(GRANTEE) }).hex,
      Spec: { KeyArn: KEY, Grantee: GRANTEE, RetiringPrincipal: { 'Fn::GetAtt': [expect.stringMatching(/ServiceRole/), 'Arn'] } },
      ServiceTimeout: '900',
    });
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^CdkImmutableDeploysRuntime.*ServiceRole/)]));
  });

  test('a key grant\'s policy: CreateGrant on that key only, for the Auto Scaling role and the operations it needs; RetireGrant on the key; once per key', () => {
    const { stack, runtime } = setUp();
    runtime.addKeyGrant(KEY);
    runtime.addKeyGrant(KEY);
    const statements = statementsOf(stack);
    expect(statements.filter((s) => s.Action === 'kms:CreateGrant')).toEqual([{
      Action: 'kms:CreateGrant',
      Effect: 'Allow',
      Resource: KEY,
      Condition: {
        'StringEquals': { 'kms:GranteePrincipal': GRANTEE },
        'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Encrypt', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'DescribeKey', 'CreateGrant'] },
      },
    }]);
    // RetireGrant on the key, with ListGrants to find the grant it made again
    expect(statements.filter((s) => [s.Action].flat().includes('kms:RetireGrant'))).toEqual([{ Action: ['kms:RetireGrant', 'kms:ListGrants'], Effect: 'Allow', Resource: KEY }]);
  });

  test('removal policy: RETAIN or none adds nothing; DESTROY adds the setting and no statement (the runtime reads its stack\'s status anyway); SNAPSHOT is refused', () => {
    // (a stack is synthesized once: one stack for what keeps, one for what deletes)
    const kept = setUp();
    const owner = new Construct(kept.stack, 'Image');
    expect(kept.runtime.removalSetting(owner, 'ContainerImageBuild', undefined)).toEqual({});
    expect(kept.runtime.removalSetting(owner, 'ContainerImageBuild', RemovalPolicy.RETAIN)).toEqual({});
    const deleted = setUp();
    const doomed = new Construct(deleted.stack, 'Image');
    expect(deleted.runtime.removalSetting(doomed, 'ContainerImageBuild', RemovalPolicy.DESTROY)).toEqual({ RemovalPolicy: 'destroy' });
    expect(deleted.runtime.removalSetting(doomed, 'ContainerImageBuild', RemovalPolicy.DESTROY)).toEqual({ RemovalPolicy: 'destroy' });
    expect(statementsOf(deleted.stack)).toEqual(statementsOf(setUp().stack));
    const describes = describeStacks(deleted.stack);
    expect(describes).toHaveLength(1);
    expect(describes[0].Resource).toEqual({ Ref: 'AWS::StackId' });
    const runtime = kept.runtime;
    for (const policy of [RemovalPolicy.SNAPSHOT, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE]) {
      expect(() => runtime.removalSetting(owner, 'ContainerImageBuild', policy)).toThrow(
        `App/Image [ContainerImageBuild]: removalPolicy (${policy}) has no meaning for an artifact, which is either kept or deleted with the stack. Pass RemovalPolicy.RETAIN (the default) or RemovalPolicy.DESTROY.`,
      );
    }
  });
});

describe('levels and grant keys (mutation testing of the single resolve and the key grants)', () => {
  test('a job reads only the level of the jobs it names: two layers on one base share the second jobs resource', () => {
    const { stack, runtime } = setUp();
    const base = runtime.addJob(new Construct(stack, 'Base'), { kind: 'ami-bake', fingerprint: 'b'.repeat(64), spec: {}, timeout: Duration.hours(1), readBack: {} });
    runtime.addJob(new Construct(stack, 'Layer'), { kind: 'ami-bake', fingerprint: 'c'.repeat(64), spec: { ParentImage: base.result }, timeout: Duration.hours(1), readBack: {} });
    runtime.addJob(new Construct(stack, 'Layer2'), { kind: 'ami-bake', fingerprint: 'e'.repeat(64), spec: { ParentImage: base.result }, timeout: Duration.hours(1), readBack: {} });
    const resources = Template.fromStack(stack).toJSON().Resources;
    const jobs = Object.values(resources).filter((r: any) => r.Type === 'Custom::CdkImmutableDeploysJobs').map((r: any) => r.Properties.Jobs.map((j: any) => j.Path));
    expect(jobs).toEqual([['App/Base'], ['App/Layer', 'App/Layer2']]);
  });

  test('two keys, two grants in the policy: each key is its own grant', () => {
    const { stack, runtime } = setUp();
    const keys = ['0a', '0b'].map((k) => `arn:aws:kms:eu-west-1:111111111111:key/1a2b3c4d-0000-0000-0000-0000000000${k}`);
    keys.forEach((k) => runtime.addKeyGrant(k));
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.filter((s) => s.Action === 'kms:CreateGrant').map((s) => s.Resource)).toEqual(keys);
    expect(statements.filter((s) => [s.Action].flat().includes('kms:RetireGrant')).map((s) => s.Resource)).toEqual(keys);
  });
});

describe('holds and nesting, in a bare stack', () => {
  const statementsOf = (stack: Stack): any[] => Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);

  test('GIVEN any runtime THEN it may hold and release in every region: the register (every entry read, only this stack\'s own written) and the keep tags of bake AMIs, once, whatever its regions (review runtime #2, #3)', () => {
    const { stack, runtime } = setUp();
    const before = JSON.stringify(statementsOf(stack));
    runtime.grantHolds();
    runtime.grantHolds();
    expect(JSON.stringify(statementsOf(stack))).toEqual(before);
    const holds = statementsOf(stack).filter((s) => /_holds|:image\//.test(JSON.stringify(s.Resource)));
    expect(holds.map((s) => [s.Action, stack.resolve(s.Resource), s.Condition])).toEqual([
      ['ssm:GetParametersByPath', { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:*:123456789012:parameter/cdk-immutable-deploys/_holds/*']] }, undefined],
      [['ssm:PutParameter', 'ssm:DeleteParameter'], { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:*:123456789012:parameter/cdk-immutable-deploys/_holds/*/App.*']] }, undefined],
      [['ec2:CreateTags', 'ec2:DeleteTags'], { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:*::image/*']] }, {
        'Null': { 'aws:ResourceTag/cdk-immutable-deploys:fingerprint': 'false', 'aws:TagKeys': 'false' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['cdk-immutable-deploys:keep', 'cdk-immutable-deploys:kept-by'] },
      }],
    ]);
  });

  test('in a nested stack, the runtime may read the status of the root of its nesting (only its deletion deletes artifacts); a top-level stack reads only its own', () => {
    const root = new Stack(new App(), 'Root', { env: ENV });
    const nested = new NestedStack(new NestedStack(root, 'Middle'), 'Inner');
    DeployTimeRuntime.of(nested);
    const describes = statementsOf(nested).filter((s) => [s.Action].flat().includes('cloudformation:DescribeStacks'));
    expect(describes.map((s) => nested.resolve(s.Resource))).toEqual([
      { Ref: 'AWS::StackId' },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:eu-west-1:123456789012:stack/Root/*']] },
    ]);
    const { stack } = setUp();
    expect(statementsOf(stack).filter((s) => [s.Action].flat().includes('cloudformation:DescribeStacks')).map((s) => s.Resource)).toEqual([{ Ref: 'AWS::StackId' }]);
  });
});
