/**
 * ECR replication of a build's images: one registry-wide replication configuration per stack, a
 * rule per set of destinations filtered by each repository's exact name, builds pushing only once it
 * exists; the destination's repository creation template (immutable tags, encryption, retention) and
 * registry policy; imports of the replica in a destination; synth errors for bad targets.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ContainerImageBuild, ImmutableFargateService, ReplicationDestination } from '../../../src';

const TOOLING = { account: '111111111111', region: 'eu-west-1' };
const PROD = { account: '333333333333', region: 'us-east-1' };

function context(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replication-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/\n');
  fs.writeFileSync(path.join(dir, 'index.html'), '<h1>hello</h1>');
  return dir;
}
const DIR = context();

const replications = (template: Template) => Object.values<any>(template.findResources('AWS::ECR::ReplicationConfiguration'));
const repositories = (template: Template) => Object.entries<any>(template.findResources('AWS::ECR::Repository'));

describe('ContainerImageBuild replicateTo', () => {
  test('the repository gets a fixed name under cdk-immutable-deploys/, keeps immutable tags, and the stack\'s one replication configuration has a rule for exactly it', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    // WHEN
    new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region: 'us-east-1' }, { region: 'us-east-1', account: PROD.account }] });
    // THEN
    const template = Template.fromStack(stack);
    const [[repositoryId, repository]] = repositories(template);
    expect(repository.Properties.RepositoryName).toMatch(/^cdk-immutable-deploys\/bake\/web-[0-9a-f]{8}$/);
    expect(repository.Properties.ImageTagMutability).toBe('IMMUTABLE');
    const [replication] = replications(template);
    expect(replication.Properties.ReplicationConfiguration.Rules).toEqual([{
      Destinations: [{ Region: 'us-east-1', RegistryId: TOOLING.account }, { Region: 'us-east-1', RegistryId: PROD.account }],
      RepositoryFilters: [{ Filter: { Ref: repositoryId }, FilterType: 'PREFIX_MATCH' }],
    }]);
  });

  test('the build starts only once replication is configured (ECR replicates only what is pushed after it)', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region: 'us-east-1' }] });
    const template = Template.fromStack(stack);
    const [replicationId] = Object.keys(template.findResources('AWS::ECR::ReplicationConfiguration'));
    const jobs = Object.values<any>(template.findResources('Custom::CdkImmutableDeploysJobs'));
    expect(jobs).toHaveLength(1);
    expect(jobs[0].DependsOn).toContain(replicationId);
  });

  test('builds of a stack share one configuration (ECR keeps one per registry): one rule per set of destinations, whatever their order', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region: 'us-east-1' }, { region: 'eu-central-1' }] });
    new ContainerImageBuild(stack, 'Api', { directory: DIR, replicateTo: [{ region: 'eu-central-1' }, { region: 'us-east-1' }] });
    new ContainerImageBuild(stack, 'Worker', { directory: DIR, replicateTo: [{ region: 'us-west-2' }] });
    new ContainerImageBuild(stack, 'Local', { directory: DIR });
    const template = Template.fromStack(stack);
    const all = replications(template);
    expect(all).toHaveLength(1);
    const rules = all[0].Properties.ReplicationConfiguration.Rules;
    expect(rules).toHaveLength(2);
    expect(rules.map((r: any) => r.RepositoryFilters.length).sort()).toEqual([1, 2]);
    // The build that does not replicate keeps a generated name and is in no rule.
    const names = repositories(template).map(([, r]) => r.Properties.RepositoryName);
    expect(names.filter((n) => n === undefined)).toHaveLength(1);
  });

  test('no replicateTo: no replication configuration, and the repository keeps its generated name (nothing changes for existing builds)', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    new ContainerImageBuild(stack, 'Web', { directory: DIR });
    const template = Template.fromStack(stack);
    expect(replications(template)).toHaveLength(0);
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
    expect(() => new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo })).toThrow(message);
  });

  test('tokens are not checked', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    const region = new CfnParameter(stack, 'Region').valueAsString;
    const account = new CfnParameter(stack, 'Account').valueAsString;
    expect(() => new ContainerImageBuild(stack, 'Web', { directory: DIR, replicateTo: [{ region, account }] })).not.toThrow();
  });

  test('more sets of destinations than ECR\'s 10 rules fail the synth, saying how to fix it', () => {
    const stack = new Stack(new App(), 'Bake', { env: TOOLING });
    const regions = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-central-1', 'eu-north-1', 'eu-south-1', 'ap-south-1', 'ap-northeast-1', 'ap-southeast-1', 'sa-east-1'];
    regions.forEach((region, i) => new ContainerImageBuild(stack, `Web${i}`, { directory: DIR, replicateTo: [{ region }] }));
    expect(() => Template.fromStack(stack)).toThrow(/replicate to 11 different sets of destinations, and ECR's replication configuration takes at most 10 rules/);
  });

  test('a stack in a region and account the build replicates to imports the replica (same name, its own registry); another imports the source', () => {
    // GIVEN a build in the tooling account that replicates to production's region and account
    const app = new App();
    const bake = new Stack(app, 'Bake', { env: TOOLING });
    const build = new ContainerImageBuild(bake, 'Web', { directory: DIR, replicateTo: [{ region: PROD.region, account: PROD.account }], shareWith: ['222222222222'] });
    const vpcOf = (stack: Stack) => ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['a', 'b'], privateSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'] });
    // WHEN services in production and in staging (not a destination, but an account it shares with) run it
    const prod = new Stack(app, 'Prod', { env: PROD });
    new ImmutableFargateService(prod, 'Service', { vpc: vpcOf(prod), artifact: build });
    const staging = new Stack(app, 'Staging', { env: { account: '222222222222', region: 'eu-west-1' } });
    new ImmutableFargateService(staging, 'Service', { vpc: vpcOf(staging), artifact: build });
    // THEN production looks up the fingerprint tag in its own account and region's replica
    const name = repositories(Template.fromStack(bake))[0][1].Properties.RepositoryName;
    const lookupOf = (stack: Stack) => Object.values<any>(Template.fromStack(stack).findResources('Custom::CdkImmutableDeploysLookup'))[0];
    const uri = JSON.stringify(lookupOf(prod).Properties.Spec.RepositoryUri);
    expect(uri).toContain(`${PROD.account}.dkr.ecr.${PROD.region}.`);
    expect(uri).toContain(name);
    expect(lookupOf(prod).Properties.Fingerprint).toBe(build.fingerprint);
    // and staging the source repository, in the tooling account.
    expect(JSON.stringify(lookupOf(staging).Properties.Spec.RepositoryUri)).toContain(`:ecr:${TOOLING.region}:${TOOLING.account}:repository/${name}`);
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
  });

  test('sourceAccounts: a registry policy that lets each replicate into, and create, repositories under the prefix only', () => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    new ReplicationDestination(stack, 'Replicas', { sourceAccounts: [TOOLING.account], retainImages: 20 });
    const template = Template.fromStack(stack);
    const [policy] = Object.values<any>(template.findResources('AWS::ECR::RegistryPolicy'));
    expect(stack.resolve(policy.Properties.PolicyText.Statement)).toEqual([{
      Sid: 'CdkImmutableDeploysReplication0',
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${TOOLING.account}:root`]] } },
      Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecr:${PROD.region}:${PROD.account}:repository/cdk-immutable-deploys/*`]] },
    }]);
    const [created] = Object.values<any>(template.findResources('AWS::ECR::RepositoryCreationTemplate'));
    expect(JSON.parse(created.Properties.LifecyclePolicy).rules[0].selection.countNumber).toBe(20);
  });

  test.each([
    [{ repositoryPrefix: 'Cdk/' }, 'Prod/Replicas [ReplicationDestination]: repositoryPrefix (Cdk/) is not a repository name prefix.'],
    [{ sourceAccounts: ['1111'] }, 'Prod/Replicas [ReplicationDestination]: sourceAccounts ([1111]) has \'1111\', which is not an AWS account id.'],
    [{ sourceAccounts: [PROD.account] }, 'has this stack\'s own account (333333333333). Leave it out'],
    [{ retainImages: 0 }, 'Prod/Replicas [ReplicationDestination]: retainImages (0) must be a whole number of at least 1.'],
  ])('bad props %j are a synth error', (props, message) => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    expect(() => new ReplicationDestination(stack, 'Replicas', props)).toThrow(message);
  });
});
