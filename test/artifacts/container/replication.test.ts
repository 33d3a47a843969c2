/**
 * ECR replication of a build's images: one registry-wide replication configuration per stack, a
 * rule per set of destinations filtered by each repository's exact name, builds pushing only once it
 * exists; the destination's repository creation template (immutable tags, encryption, retention) and
 * registry policy; imports of the replica in a destination; synth errors for bad targets.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, CfnParameter, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { ContainerImageBuild, ImmutableFargateService, ReplicationDestination } from '../../../src';
import { arnText as arn, jobOf, runtimeStatements } from '../../internal/runtime/jobs';
import { atSynth } from '../../synth-errors';

const TOOLING = { account: '111111111111', region: 'eu-west-1' };
const PROD = { account: '333333333333', region: 'us-east-1' };

function context(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replication-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/\n');
  fs.writeFileSync(path.join(dir, 'index.html'), '<h1>hello</h1>');
  return dir;
}
const DIR = context();

const vpcOf = (stack: Stack, id = 'Vpc') => ec2.Vpc.fromVpcAttributes(stack, id, { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['a', 'b'], privateSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'] });

const repositories = (template: Template) => Object.entries<any>(template.findResources('AWS::ECR::Repository'));
const lookups = (template: Template, kind: string) => Object.entries<any>(template.findResources('Custom::CdkImmutableDeploysLookup')).filter(([, r]) => r.Properties.Kind === kind);
/** A resolved `Fn::Join` as text, the partition written as `aws`. */
const textOf = (joined: any): string => joined['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : p.Ref === 'AWS::Partition' ? 'aws' : 'TOKEN')).join('');
/** The stack's part of the registry's replication, as its lookup's spec carries it (JSON strings, resolved). */
function replicationOf(stack: Stack): { id: string; repositories: any[]; rules: any[]; spec: any } {
  const [[id, resource]] = lookups(Template.fromStack(stack), 'ecr-replication');
  const spec = resource.Properties.Spec;
  const json = (v: unknown) => JSON.parse(typeof v === 'string' ? v : textOf(stack.resolve(v)));
  return { id, repositories: json(spec.Repositories), rules: json(spec.Rules), spec };
}

describe('ContainerImageBuild replicateTo', () => {
  test('the images go to a repository named cdk-immutable-deploys/<stack>/<id>-<hash> that the stack\'s runtime keeps (creates, or adopts when it exists): no CloudFormation resource carries a fixed name', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    // WHEN
    const build = new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region: 'us-east-1' }, { region: 'us-east-1', account: PROD.account }], retainImages: 5 });
    // THEN: no AWS::ECR::ReplicationConfiguration (its Create fails on a registry with any rule, its Delete empties it)
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ECR::ReplicationConfiguration', 0);
    // the build's CloudFormation repository keeps a generated name: no re-creation collides with it
    expect(repositories(template).map(([, r]) => r.Properties.RepositoryName)).toEqual([undefined]);
    const { repositories: kept, rules } = replicationOf(stack);
    const name = build.repository.repositoryName;
    expect(name).toMatch(/^cdk-immutable-deploys\/bake\/web-[0-9a-f]{8}$/);
    expect(kept).toEqual([{ Name: name, LifecyclePolicy: expect.any(String), Policy: '', Tags: {} }]);
    expect(JSON.parse(kept[0].LifecyclePolicy).rules[0].selection).toEqual({ tagStatus: 'tagged', tagPrefixList: ['fp-'], countType: 'imageCountMoreThan', countNumber: 5 });
    expect(rules).toEqual([{ Destinations: [{ Region: 'us-east-1', RegistryId: TOOLING.account }, { Region: 'us-east-1', RegistryId: PROD.account }], Repositories: [name] }]);
    // the job pushes there, and is done once both destinations have the image
    const job = jobOf(template, 'Bake/Web');
    expect(JSON.stringify(stack.resolve(job.Spec.RepositoryUri))).toMatch(new RegExp(`${TOOLING.account}\\.dkr\\.ecr\\.${TOOLING.region}\\..*/${name}"`));
    expect(job.Spec.ReplicateTo).toEqual([{ Region: 'us-east-1', RegistryId: TOOLING.account }, { Region: 'us-east-1', RegistryId: PROD.account }]);
  });

  test('the build starts only once the stack\'s part of replication is kept (ECR replicates only what is pushed after)', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region: 'us-east-1' }] });
    const template = Template.fromStack(stack);
    const jobs = Object.values<any>(template.findResources('Custom::CdkImmutableDeploysJobs'));
    expect(jobs).toHaveLength(1);
    expect(jobs[0].DependsOn).toContain(replicationOf(stack).id);
  });

  test('builds of a stack share one resource: one rule per set of destinations, whatever their order', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region: 'us-east-1' }, { region: 'eu-central-1' }] });
    new ContainerImageBuild(stack, 'Api', { directory: DIR, replicateTo: [{ region: 'eu-central-1' }, { region: 'us-east-1' }] });
    new ContainerImageBuild(stack, 'Worker', { directory: DIR, replicateTo: [{ region: 'us-west-2' }] });
    new ContainerImageBuild(stack, 'Local', { directory: DIR });
    expect(lookups(Template.fromStack(stack), 'ecr-replication')).toHaveLength(1);
    const { rules, repositories: kept } = replicationOf(stack);
    expect(rules.map((r: any) => r.Repositories.length).sort()).toEqual([1, 2]);
    expect(kept).toHaveLength(3);
  });

  test('no replicateTo: no replication, and the repository keeps its generated name (nothing changes for existing builds)', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    new ContainerImageBuild(stack, 'Web', { directory: DIR });
    const template = Template.fromStack(stack);
    expect(lookups(template, 'ecr-replication')).toHaveLength(0);
    template.resourceCountIs('AWS::ECR::ReplicationConfiguration', 0);
    expect(repositories(template)[0][1].Properties.RepositoryName).toBeUndefined();
  });

  test.each([
    [[{ region: 'useast1' }], 'Bake/Web [ContainerImageBuild]: replicateTo[0].region (useast1) is not a region name. Pass a region such as \'us-east-1\'.'],
    [[{ region: 'us-east-1', account: '3333' }], 'Bake/Web [ContainerImageBuild]: replicateTo[0].account (3333) is not an AWS account id. Pass the 12-digit id'],
    [[{ region: 'eu-west-1' }], 'Bake/Web [ContainerImageBuild]: replicateTo[0] (eu-west-1, account 111111111111) is the build\'s own region and account, where the image already is. Replicate to another region or another account'],
    [[{ region: 'eu-west-1', account: TOOLING.account }], 'replicateTo[0] (eu-west-1, account 111111111111) is the build\'s own region and account'],
    [[{ region: 'us-east-1' }, { region: 'us-east-1', account: TOOLING.account }], 'replicateTo[1] (us-east-1, account 111111111111) is listed twice. List each region and account once.'],
  ])('bad target %j is a synth error naming the prop, the value and what to do', (replicateTo, message) => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    expect(atSynth(() => new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo }))).toThrow(message);
  });

  test('a region name aws-cdk-lib does not know (a typo) is a warning naming the prop, before any build runs', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region: 'us-est-1' }] });
    new ContainerImageBuild(stack, 'Known', { directory: DIR, replicateTo: [{ region: 'us-east-2' }] });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('unknown-region'));
    expect(warnings.map((w) => [w.id, String(w.entry.data)])).toEqual([
      ['/Bake/Web', expect.stringMatching(/replicateTo\[0\]\.region has 'us-est-1', which is not a region aws-cdk-lib knows.*Validations\.of\(construct\)\.acknowledge/)],
    ]);
  });

  test('a token region or account is refused naming the prop: the runtime writes the registry\'s rules as one JSON document, where a token would land as its text', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    const region = new CfnParameter(stack, 'Region').valueAsString;
    const account = new CfnParameter(stack, 'Account').valueAsString;
    expect(() => new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region, account: '333333333333' }] }))
      .toThrow(/replicateTo\[0\]\.region .* is an unresolved token: the registry's replication rules are written at deploy time as one JSON document/);
    expect(() => new ContainerImageBuild(stack, 'Web2', { directory: DIR, replicateTo: [{ region: 'us-east-1', account }] }))
      .toThrow(/replicateTo\[0\]\.account .* is an unresolved token.*Pass the 12-digit account id/);
  });

  test('more sets of destinations than ECR\'s 10 rules fail the synth, saying how to fix it', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    const regions = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-central-1', 'eu-north-1', 'eu-south-1', 'ap-south-1', 'ap-northeast-1', 'ap-southeast-1', 'sa-east-1'];
    regions.forEach((region, i) => new ContainerImageBuild(stack, `Web${i}`, { directory: DIR, replicateTo: [{ region }] }));
    expect(() => Template.fromStack(stack)).toThrow(/replicate to 11 different sets of destinations, and ECR's replication configuration takes at most 10 rules/);
  });

  test('more unique destinations than ECR\'s 25 across all rules fail the synth (a quota that cannot be raised), although each rule is small', () => {
    // GIVEN: 13 regions of two accounts, in two rules
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    const regions = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-central-1', 'eu-north-1', 'eu-south-1', 'ap-south-1', 'ap-northeast-1', 'ap-southeast-1', 'sa-east-1', 'ca-central-1', 'af-south-1'];
    new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: regions.map((region) => ({ region })) });
    new ContainerImageBuild(stack, 'Api', { directory: DIR, replicateTo: regions.map((region) => ({ region, account: PROD.account })) });
    // WHEN / THEN
    expect(() => Template.fromStack(stack)).toThrow(/replicateTo of this stack's builds names 26 unique destinations \(regions and accounts\), and ECR's replication configuration takes at most 25 across all its rules.*cannot be raised/);
    // 25 pass
    const fits = new Stack(new App(), 'Bake', { env: TOOLING });
    new ContainerImageBuild(fits, 'Web', { directory: DIR, replicateTo: regions.map((region) => ({ region })) });
    new ContainerImageBuild(fits, 'Api', { directory: DIR, replicateTo: regions.slice(1).map((region) => ({ region, account: PROD.account })) });
    expect(() => Template.fromStack(fits)).not.toThrow();
  });

  test('replicateTo with a repository you pass: a rule for its exact name, the repository itself stays yours (the runtime keeps no repository)', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    const repository = new ecr.Repository(stack, 'Mine', { repositoryName: 'team/web', imageTagMutability: ecr.TagMutability.IMMUTABLE });
    const build = new ContainerImageBuild(stack, 'Web', { directory: DIR, repository, replicateTo: [{ region: 'us-east-1' }] });
    expect(build.repository).toBe(repository);
    const { repositories: kept, rules } = replicationOf(stack);
    expect(kept).toEqual([]);
    expect(rules).toEqual([{ Destinations: [{ Region: 'us-east-1', RegistryId: TOOLING.account }], Repositories: ['team/web'] }]);
    expect(jobOf(Template.fromStack(stack), 'Bake/Web').Spec.ReplicateTo).toEqual([{ Region: 'us-east-1', RegistryId: TOOLING.account }]);
  });

  test('a stack in a region and account the build replicates to imports the replica, another the source, both by name: no export, no Fn::ImportValue', () => {
    // GIVEN a build in the tooling account that replicates to production's region and account
    const app = new App();
    const bake = new Stack(app, 'Bake', { env: TOOLING });
    const build = new ContainerImageBuild(bake, 'Web', { directory: DIR, replicateTo: [{ region: PROD.region, account: PROD.account }], shareWith: ['222222222222'] });
    // WHEN services in production and in staging (not a destination, but an account it shares with) run it
    const prod = new Stack(app, 'Prod', { env: PROD });
    new ImmutableFargateService(prod, 'Service', { vpc: vpcOf(prod), artifact: build });
    const staging = new Stack(app, 'Staging', { env: { account: '222222222222', region: 'eu-west-1' } });
    new ImmutableFargateService(staging, 'Service', { vpc: vpcOf(staging), artifact: build });
    // THEN production looks up the fingerprint tag in its own account and region's replica
    const name = build.repository.repositoryName;
    const lookupOf = (stack: Stack) => lookups(Template.fromStack(stack), 'image-lookup')[0][1];
    const uri = JSON.stringify(lookupOf(prod).Properties.Spec.RepositoryUri);
    expect(uri).toContain(`${PROD.account}.dkr.ecr.${PROD.region}.`);
    expect(uri).toContain(name);
    expect(lookupOf(prod).Properties.Fingerprint).toBe(build.fingerprint);
    // and staging the source repository, in the tooling account
    expect(JSON.stringify(lookupOf(staging).Properties.Spec.RepositoryUri)).toContain(`${TOOLING.account}.dkr.ecr.${TOOLING.region}.`);
    expect(JSON.stringify(Template.fromStack(staging).toJSON())).toContain(`:ecr:${TOOLING.region}:${TOOLING.account}:repository/${name}`);
    for (const stack of [prod, staging]) expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('Fn::ImportValue');
    // the repository policy of shareWith is the runtime's to write, on the repository it keeps
    expect(JSON.parse(replicationOf(bake).repositories[0].Policy).Statement[0]).toMatchObject({ Sid: 'CdkImmutableDeploysShareWith', Action: expect.arrayContaining(['ecr:BatchGetImage', 'ecr:DescribeImages']) });
  });

  test('adding replicateTo to a build another stack of its region runs changes no value that stack imports through an export', () => {
    // GIVEN a build and a service in another stack of its account and region, deployed without replicateTo
    const synth = (replicateTo?: Array<{ region: string }>) => {
      const app = new App();
      const build = new Stack(app, 'Build', { env: TOOLING });
      const image = new ContainerImageBuild(build, 'Web', { directory: DIR, replicateTo });
      const svc = new Stack(app, 'Svc', { env: TOOLING });
      new ImmutableFargateService(svc, 'Service', { vpc: vpcOf(svc), artifact: image });
      return { build: Template.fromStack(build).toJSON(), svc: Template.fromStack(svc).toJSON() };
    };
    const before = synth();
    const imports = [...JSON.stringify(before.svc).matchAll(/"Fn::ImportValue":"([^"]+)"/g)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    // WHEN replicateTo is added
    const after = synth([{ region: 'us-east-1' }]);
    // THEN every export the deployed service stack imports is still there, with the same value
    const exported = (template: any) => Object.fromEntries(Object.values<any>(template.Outputs ?? {})
      .filter((o) => o.Export).map((o) => [o.Export.Name, JSON.stringify(o.Value)]));
    for (const name of imports) expect(exported(after.build)[name]).toEqual(exported(before.build)[name]);
    // and the service stack now imports nothing: a later change of the build changes nothing it imports
    expect(JSON.stringify(after.svc)).not.toContain('Fn::ImportValue');
  });

  test('IAM does not grow with the number of replicating builds: the runtime keeps repositories under the stack\'s own prefix, the project pushes and the services pull there', () => {
    const stackWith = (n: number) => {
      const stack = new Stack(new App(), 'Bake', { env: TOOLING });
      for (let i = 0; i < n; i++) {
        const build = new ContainerImageBuild(stack, `Web${i}`, { directory: DIR, replicateTo: [{ region: 'us-east-1' }] });
        new ImmutableFargateService(stack, `Service${i}`, { vpc: vpcOf(stack, `Vpc${i}`), artifact: build });
      }
      return stack;
    };
    const policies = (stack: Stack) => JSON.stringify(stack.resolve(Object.values<any>(Template.fromStack(stack).findResources('AWS::IAM::Policy')).map((p) => p.Properties.PolicyDocument)));
    expect(policies(stackWith(3))).toEqual(policies(stackWith(1)));
    const statements = stackWith(1).resolve(runtimeStatements(Template.fromStack(stackWith(1))));
    const on = (action: string) => statements.filter((st: any) => [st.Action].flat().includes(action))
      .map((st: any) => [[st.Resource].flat().map(arn), st.Condition]);
    expect(on('ecr:PutReplicationConfiguration')).toEqual([[['*'], undefined]]);
    expect(on('ecr:CreateRepository')).toEqual([[[`arn:aws:ecr:${TOOLING.region}:${TOOLING.account}:repository/cdk-immutable-deploys/bake/*`], undefined]]);
    expect(on('iam:CreateServiceLinkedRole')).toEqual([[[`arn:aws:iam::${TOOLING.account}:role/aws-service-role/replication.ecr.amazonaws.com/AWSServiceRoleForECRReplication`], { StringEquals: { 'iam:AWSServiceName': 'replication.ecr.amazonaws.com' } }]]);
  });

  test('the runtime is granted every command its replication and registry-policy jobs send', () => {
    const app = new App();
    const stack = new Stack(app, 'Bake', { env: TOOLING });
    new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region: 'us-east-1' }] });
    new ReplicationDestination(stack, 'Replicas', { sourceAccounts: [PROD.account] });
    const granted = new Set(runtimeStatements(Template.fromStack(stack)).flatMap((st) => [st.Action].flat()));
    const sent = ['replication-job.ts', 'registry-policy-job.ts', 'registry-job.ts'].flatMap((file) => {
      const source = fs.readFileSync(path.join(__dirname, '../../../src/artifacts/container', file), 'utf8');
      return [...source.matchAll(/new (\w+)Command\(/g)].map((m) => `${/client-cloudformation/.test(source) && m[1] === 'DescribeStackResource' ? 'cloudformation' : 'ecr'}:${m[1]}`);
    });
    expect(sent.length).toBeGreaterThan(10);
    expect(sent.filter((c) => !granted.has(c))).toEqual([]);
  });

  test('the earlier version\'s AWS::ECR::ReplicationConfiguration: its logical id is named for the runtime to refuse its deletion, and with the retain context it stays, unchanged, with DeletionPolicy Retain', () => {
    // GIVEN the logical id an earlier version gave it (cdk-immutable-deploys.Replication/Resource)
    const old = new Stack(new App(), 'Bake', { env: TOOLING });
    const legacyId = old.resolve(new ecr.CfnReplicationConfiguration(new Construct(old, 'cdk-immutable-deploys.Replication'), 'Resource', { replicationConfiguration: { rules: [] } }).logicalId);
    // WHEN
    const plain = new Stack(new App(), 'Bake', { env: TOOLING });
    new ContainerImageBuild(plain, 'Web', { directory: DIR, replicateTo: [{ region: 'us-east-1' }] });
    const retained = new Stack(new App({ context: { 'cdk-immutable-deploys:retain-legacy-registry-settings': 'true' } }), 'Bake', { env: TOOLING });
    const build = new ContainerImageBuild(retained, 'Web', { directory: DIR, replicateTo: [{ region: 'us-east-1' }] });
    // THEN
    expect(replicationOf(plain).spec).toMatchObject({ LegacyLogicalId: legacyId });
    expect(replicationOf(plain).spec.LegacyRetained).toBeUndefined();
    Template.fromStack(plain).resourceCountIs('AWS::ECR::ReplicationConfiguration', 0);
    expect(replicationOf(retained).spec).toMatchObject({ LegacyLogicalId: legacyId, LegacyRetained: 'true' });
    const legacy = Template.fromStack(retained).findResources('AWS::ECR::ReplicationConfiguration');
    expect(Object.keys(legacy)).toEqual([legacyId]);
    expect(legacy[legacyId]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(legacy[legacyId].Properties.ReplicationConfiguration.Rules).toEqual([{
      Destinations: [{ Region: 'us-east-1', RegistryId: TOOLING.account }],
      RepositoryFilters: [{ Filter: build.repository.repositoryName, FilterType: 'PREFIX_MATCH' }],
    }]);
  });
});

describe('ReplicationDestination', () => {
  test('a repository creation template for replication under cdk-immutable-deploys/: immutable tags, encryption at rest, the fingerprint images kept', () => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    new ReplicationDestination(stack, 'Replicas');
    const template = Template.fromStack(stack);
    const [created] = Object.values<any>(template.findResources('AWS::ECR::RepositoryCreationTemplate'));
    expect(created.Properties).toMatchObject({
      Prefix: 'cdk-immutable-deploys',
      AppliedFor: ['REPLICATION'],
      ImageTagMutability: 'IMMUTABLE',
      EncryptionConfiguration: { EncryptionType: 'AES256' },
    });
    expect(JSON.parse(created.Properties.LifecyclePolicy).rules).toEqual([
      expect.objectContaining({ selection: { tagStatus: 'tagged', tagPrefixList: ['fp-'], countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } }),
      // Replication copies the build caches too: bounded as in the source repository.
      expect.objectContaining({ selection: { tagStatus: 'tagged', tagPrefixList: ['cache-'], countType: 'imageCountMoreThan', countNumber: 2 }, action: { type: 'expire' } }),
    ]);
    // Replication from this account's other regions needs no registry policy: none is set.
    template.resourceCountIs('AWS::ECR::RegistryPolicy', 0);
    expect(lookups(template, 'ecr-registry-policy')).toHaveLength(0);
  });

  test('sourceAccounts: the runtime keeps one statement of this construct\'s own in the registry policy (no AWS::ECR::RegistryPolicy), letting each replicate into, and create, repositories under the prefix only', () => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    const destination = new ReplicationDestination(stack, 'Replicas', { sourceAccounts: [TOOLING.account, '444444444444'], retainImages: 20 });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ECR::RegistryPolicy', 0);
    const [[id, kept]] = lookups(template, 'ecr-registry-policy');
    expect(id).toBe(stack.getLogicalId(destination.registryPolicy!.node.defaultChild as CfnElement));
    const statement = JSON.parse(textOf(stack.resolve(kept.Properties.Spec.Statement)));
    expect(statement).toEqual({
      Sid: expect.stringMatching(/^CdkImmutableDeploysReplicationTo[0-9a-f]{12}$/),
      Effect: 'Allow',
      Principal: { AWS: [`arn:aws:iam::${TOOLING.account}:root`, 'arn:aws:iam::444444444444:root'] },
      Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
      Resource: `arn:aws:ecr:${PROD.region}:${PROD.account}:repository/cdk-immutable-deploys/*`,
    });
    const [created] = Object.values<any>(template.findResources('AWS::ECR::RepositoryCreationTemplate'));
    expect(JSON.parse(created.Properties.LifecyclePolicy).rules[0].selection.countNumber).toBe(20);
    const statements = stack.resolve(runtimeStatements(template));
    expect(statements.filter((st: any) => [st.Action].flat().includes('ecr:PutRegistryPolicy')).map((st: any) => st.Resource)).toEqual(['*']);
  });

  test('the Sid is this construct\'s own: two destinations of two apps in one registry keep two statements', () => {
    const sidOf = (stackName: string) => {
      const stack = new Stack(new App(), stackName, { env: PROD });
      new ReplicationDestination(stack, 'Replicas', { sourceAccounts: [TOOLING.account] });
      return JSON.stringify(stack.resolve(lookups(Template.fromStack(stack), 'ecr-registry-policy')[0][1].Properties.Spec.Statement)).match(/CdkImmutableDeploysReplicationTo[0-9a-f]{12}/)![0];
    };
    expect(sidOf('AppOne')).not.toEqual(sidOf('AppTwo'));
    expect(sidOf('AppOne')).toEqual(sidOf('AppOne'));
  });

  test('the earlier version\'s AWS::ECR::RegistryPolicy: named for the runtime to refuse its deletion; with the retain context it stays, as that version wrote it, with DeletionPolicy Retain', () => {
    const plain = new Stack(new App(), 'Prod', { env: PROD });
    new ReplicationDestination(plain, 'Replicas', { sourceAccounts: [TOOLING.account] });
    const old = new Stack(new App(), 'Prod', { env: PROD });
    const legacyId = old.resolve(new ecr.CfnRegistryPolicy(new Construct(old, 'Replicas'), 'RegistryPolicy', { policyText: {} }).logicalId);
    const spec = (stack: Stack) => lookups(Template.fromStack(stack), 'ecr-registry-policy')[0][1].Properties.Spec;
    expect(spec(plain)).toMatchObject({ LegacyLogicalId: legacyId });
    Template.fromStack(plain).resourceCountIs('AWS::ECR::RegistryPolicy', 0);
    const retained = new Stack(new App({ context: { 'cdk-immutable-deploys:retain-legacy-registry-settings': 'true' } }), 'Prod', { env: PROD });
    new ReplicationDestination(retained, 'Replicas', { sourceAccounts: [TOOLING.account] });
    expect(spec(retained)).toMatchObject({ LegacyLogicalId: legacyId, LegacyRetained: 'true' });
    const legacy = Template.fromStack(retained).findResources('AWS::ECR::RegistryPolicy');
    expect(legacy[legacyId]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(retained.resolve(legacy[legacyId].Properties.PolicyText.Statement)[0].Sid).toBe('CdkImmutableDeploysReplication0');
  });

  test.each([
    [{ repositoryPrefix: 'Cdk/' }, 'Prod/Replicas [ReplicationDestination]: repositoryPrefix (Cdk/) is not a repository name prefix.'],
    [{ sourceAccounts: ['1111'] }, 'Prod/Replicas [ReplicationDestination]: sourceAccounts ([1111]) has \'1111\', which is not an AWS account id.'],
    [{ sourceAccounts: [PROD.account] }, 'has this stack\'s own account (333333333333). Leave it out'],
    [{ retainImages: 0 }, 'Prod/Replicas [ReplicationDestination]: retainImages (0) must be a whole number of at least 1.'],
  ])('bad props %j are a synth error', (props, message) => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    expect(atSynth(() => new ReplicationDestination(stack, 'Replicas', props))).toThrow(message);
  });
});
