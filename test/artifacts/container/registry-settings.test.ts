/**
 * Registry-wide ECR settings are shared, never owned: a stack's runtime keeps its own replication rules
 * (and the repositories they replicate) and its own registry-policy statement beside everyone else's,
 * and takes only its own out again. Driven through the runtime's handler as CloudFormation calls it
 * (Create, Update with the old properties, Delete, a rollback's Update), for two stacks sharing one
 * registry, against an in-memory registry that behaves as ECR documents it: `PutReplicationConfiguration`
 * and `PutRegistryPolicy` replace the whole document, `GetRegistryPolicy` of a registry without one is
 * `RegistryPolicyNotFoundException`, `DescribeRepositories` of a missing repository is
 * `RepositoryNotFoundException`, `CreateRepository` of an existing one `RepositoryAlreadyExistsException`.
 */
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateRepositoryCommand,
  DeleteRegistryPolicyCommand,
  DeleteRepositoryPolicyCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetRegistryPolicyCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  PutRegistryPolicyCommand,
  PutReplicationConfigurationCommand,
  ReplicationRule,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { pacing } from '../../../src/artifacts/container/registry-job';
import type { RegistryPolicySpec, ReplicationRuleSpec, ReplicationSpec } from '../../../src/artifacts/container/types';
import { transport } from '../../../src/internal/runtime/http';
import { LOOKUPS } from '../../../src/internal/runtime/runners';
import { handler, world } from '../../../src/internal/runtime/runtime.singleton-lambda';

const ecr = mockClient(ECRClient);
const cloudformation = mockClient(CloudFormationClient);

const ACCOUNT = '111111111111';
const US = { Region: 'us-east-1', RegistryId: ACCOUNT };
const PROD = { Region: 'us-east-1', RegistryId: '333333333333' };
const EU = { Region: 'eu-central-1', RegistryId: ACCOUNT };
const LIFECYCLE = '{"rules":[]}';

const awsError = (name: string, message = name): Error => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

/** A repository as the fake registry keeps it. */
interface RepositoryState {
  mutability: string;
  scanOnPush: boolean;
  policy?: string;
  lifecycle?: string;
  tags: Record<string, string>;
  encryption?: string;
}

/** One registry (account and region), as ECR keeps it. */
class Registry {
  public rules: ReplicationRule[] = [];
  public policy?: string;
  public readonly repositories = new Map<string, RepositoryState>();
  public puts = 0;
  /** Another writer that read the registry before this stack's put, and puts its own document just after it. */
  public competitor?: (registry: Registry) => void;

  constructor() {
    ecr.on(DescribeRegistryCommand).callsFake(async () => ({
      registryId: ACCOUNT, replicationConfiguration: { rules: structuredClone(this.rules) },
    }));
    ecr.on(PutReplicationConfigurationCommand).callsFake(async (input) => {
      this.puts++;
      this.rules = structuredClone(input.replicationConfiguration.rules);
      const competitor = this.competitor;
      this.competitor = undefined;
      competitor?.(this);
      return { replicationConfiguration: input.replicationConfiguration };
    });
    ecr.on(GetRegistryPolicyCommand).callsFake(async () => {
      if (!this.policy) throw awsError('RegistryPolicyNotFoundException', 'Registry policy does not exist in the registry');
      return { registryId: ACCOUNT, policyText: this.policy };
    });
    ecr.on(PutRegistryPolicyCommand).callsFake(async (input) => {
      this.puts++;
      this.policy = input.policyText;
      const competitor = this.competitor;
      this.competitor = undefined;
      competitor?.(this);
      return {};
    });
    ecr.on(DeleteRegistryPolicyCommand).callsFake(async () => {
      if (!this.policy) throw awsError('RegistryPolicyNotFoundException');
      this.policy = undefined;
      return {};
    });
    ecr.on(DescribeRepositoriesCommand).callsFake(async (input) => {
      const name = input.repositoryNames[0];
      const r = this.repositories.get(name);
      if (!r) throw awsError('RepositoryNotFoundException', `The repository with name '${name}' does not exist`);
      return { repositories: [{ repositoryName: name, repositoryArn: `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/${name}`, imageTagMutability: r.mutability as any, imageScanningConfiguration: { scanOnPush: r.scanOnPush } }] };
    });
    ecr.on(CreateRepositoryCommand).callsFake(async (input) => {
      if (this.repositories.has(input.repositoryName)) throw awsError('RepositoryAlreadyExistsException');
      this.repositories.set(input.repositoryName, {
        mutability: input.imageTagMutability,
        scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? false,
        tags: Object.fromEntries((input.tags ?? []).map((t: any) => [t.Key, t.Value])),
        encryption: input.encryptionConfiguration?.encryptionType,
      });
      return {};
    });
    ecr.on(PutImageTagMutabilityCommand).callsFake(async (input) => {
      this.repositories.get(input.repositoryName)!.mutability = input.imageTagMutability;
      return {};
    });
    ecr.on(PutImageScanningConfigurationCommand).callsFake(async (input) => {
      this.repositories.get(input.repositoryName)!.scanOnPush = true;
      return {};
    });
    ecr.on(PutLifecyclePolicyCommand).callsFake(async (input) => {
      this.repositories.get(input.repositoryName)!.lifecycle = input.lifecyclePolicyText;
      return {};
    });
    ecr.on(SetRepositoryPolicyCommand).callsFake(async (input) => {
      this.repositories.get(input.repositoryName)!.policy = input.policyText;
      return {};
    });
    ecr.on(DeleteRepositoryPolicyCommand).callsFake(async (input) => {
      const r = this.repositories.get(input.repositoryName)!;
      if (!r.policy) throw awsError('RepositoryPolicyNotFoundException');
      r.policy = undefined;
      return {};
    });
    ecr.on(TagResourceCommand).callsFake(async (input) => {
      const name = input.resourceArn.split(':repository/')[1];
      Object.assign(this.repositories.get(name)!.tags, Object.fromEntries(input.tags.map((t: any) => [t.Key, t.Value])));
      return {};
    });
  }

  /** The registry policy's statements by Sid. */
  public statements(): Record<string, any> {
    return this.policy ? Object.fromEntries(JSON.parse(this.policy).Statement.map((s: any) => [s.Sid, s])) : {};
  }
}

/** The resources of one stack, as CloudFormation holds them. */
class CloudFormationStack {
  private requests = 0;
  public readonly answers: any[] = [];
  private physicalIds = new Map<string, string>();
  private specs = new Map<string, unknown>();
  /** Logical ids the stack holds besides the ones this driver deploys (an earlier version's resources). */
  public readonly holds = new Set<string>();

  constructor(public readonly name: string) {}

  public get stackId(): string {
    return `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/${this.name}/0000`;
  }

  /** Sends a lookup resource a request: Create (or Update with the spec it holds) or Delete; returns CloudFormation's record of the answer. */
  public async send(type: 'Create' | 'Update' | 'Delete', logicalId: string, kind: string, spec: unknown): Promise<any> {
    const url = `https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/${this.name}-${++this.requests}`;
    const props = (s: unknown) => ({ ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:runtime', Kind: kind, Path: `${this.name}/${logicalId}`, Fingerprint: 'f'.repeat(64), Spec: s });
    await handler({
      RequestType: type,
      ResponseURL: url,
      StackId: this.stackId,
      RequestId: `${this.name}-${this.requests}`,
      LogicalResourceId: logicalId,
      ResourceType: 'Custom::CdkImmutableDeploysLookup',
      ServiceToken: 'x',
      ...(type === 'Create' ? {} : { PhysicalResourceId: this.physicalIds.get(logicalId) }),
      ResourceProperties: props(type === 'Delete' ? this.specs.get(logicalId) : spec),
      ...(type === 'Update' ? { OldResourceProperties: props(this.specs.get(logicalId)) } : {}),
    }, { getRemainingTimeInMillis: () => 600_000 });
    const answer = responses.get(url);
    this.answers.push(answer);
    if (answer.Status === 'SUCCESS' && type !== 'Delete') {
      this.physicalIds.set(logicalId, answer.PhysicalResourceId);
      this.specs.set(logicalId, spec);
    } else if (type === 'Create') {
      this.physicalIds.set(logicalId, answer.PhysicalResourceId);
    }
    return answer;
  }

  /** Deploys a replication spec: Create the first time, Update after. */
  public async replicate(rules: ReplicationRuleSpec[], options: Partial<ReplicationSpec> = {}): Promise<any> {
    const repositories = rules.flatMap((r) => r.Repositories).map((Name) => ({ Name, LifecyclePolicy: LIFECYCLE, Policy: '', Tags: {} }));
    const spec: ReplicationSpec = { Repositories: JSON.stringify(repositories), Rules: JSON.stringify(rules), LegacyLogicalId: 'LegacyReplication', ...options };
    return this.send(this.specs.has('Replication') ? 'Update' : 'Create', 'Replication', 'ecr-replication', spec);
  }

  /** Deploys a registry-policy statement for these accounts. */
  public async allow(accounts: string[], options: Partial<RegistryPolicySpec> = {}): Promise<any> {
    const statement = { Sid: sidOf(this.name), Effect: 'Allow', Principal: { AWS: accounts.map((a) => `arn:aws:iam::${a}:root`) }, Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'], Resource: `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/cdk-immutable-deploys/*` };
    const spec: RegistryPolicySpec = { Statement: JSON.stringify(statement), LegacyLogicalId: 'LegacyPolicy', ...options };
    return this.send(this.specs.has('Policy') ? 'Update' : 'Create', 'Policy', 'ecr-registry-policy', spec);
  }

  public async delete(logicalId: string): Promise<any> {
    const answer = await this.send('Delete', logicalId, logicalId === 'Policy' ? 'ecr-registry-policy' : 'ecr-replication', undefined);
    this.specs.delete(logicalId);
    return answer;
  }
}

const responses = new Map<string, any>();
/** The Sid of a stack's statement in these tests. */
const sidOf = (stackName: string) => `CdkImmutableDeploysReplicationTo${stackName.padEnd(12, '0')}`;
const repo = (stack: string, id: string) => `cdk-immutable-deploys/${stack}/${id}-0123abcd`;
/** A rule's destinations and filters, as text: `us-east-1/111111111111: a, b`. */
const describe_ = (rules: ReplicationRule[]) => rules.map((r) => `${(r.destinations ?? []).map((d) => `${d.region}/${d.registryId}`).join(' ')}: ${(r.repositoryFilters ?? []).map((f) => f.filter).join(', ') || '(every repository)'}`);

let registry: Registry;

beforeEach(() => {
  ecr.reset();
  cloudformation.reset();
  responses.clear();
  registry = new Registry();
  world.lookups = { ...LOOKUPS };
  world.retryDelayMs = 0;
  pacing.pauseMs = 0;
  process.env.AWS_REGION = 'eu-west-1';
  transport.put = async (url: string, body: string) => { responses.set(url, JSON.parse(body)); };
  transport.retryDelaysMs = [];
  cloudformation.on(DescribeStackResourceCommand).callsFake(async (input) => {
    const stack = stacks.find((s) => s.stackId === input.StackName);
    if (stack?.holds.has(input.LogicalResourceId)) return { StackResourceDetail: { LogicalResourceId: input.LogicalResourceId, ResourceStatus: 'CREATE_COMPLETE' } };
    throw awsError('ValidationError', `Resource ${input.LogicalResourceId} does not exist for stack ${input.StackName}`);
  });
  jest.spyOn(console, 'log').mockImplementation(() => {});
});

afterEach(() => jest.restoreAllMocks());

let stacks: CloudFormationStack[] = [];
function stackNamed(name: string): CloudFormationStack {
  const made = new CloudFormationStack(name);
  stacks.push(made);
  return made;
}
beforeEach(() => { stacks = []; });

describe('replication rules: a stack keeps its own, beside everyone else\'s', () => {
  test('a registry that already has rules (a console rule, a rule that copies every repository) deploys: the stack\'s rule is added, theirs stay as they were', () => {
    return (async () => {
      // GIVEN: AWS::ECR::ReplicationConfiguration would fail here with AlreadyExists
      registry.rules = [
        { destinations: [{ region: 'eu-central-1', registryId: ACCOUNT }], repositoryFilters: [{ filter: 'team/app', filterType: 'PREFIX_MATCH' }] },
        { destinations: [{ region: 'us-west-2', registryId: ACCOUNT }] },
      ];
      // WHEN
      const answer = await stackNamed('build').replicate([{ Destinations: [US, PROD], Repositories: [repo('build', 'web')] }]);
      // THEN
      expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'ecr-replication:kept:Replication' });
      expect(describe_(registry.rules)).toEqual([
        `eu-central-1/${ACCOUNT}: team/app`,
        'us-west-2/111111111111: (every repository)',
        `us-east-1/${ACCOUNT} us-east-1/333333333333: ${repo('build', 'web')}`,
      ]);
    })();
  });

  test('two stacks on one registry share the library\'s rule for the same destinations; deleting one leaves the other\'s', async () => {
    // GIVEN two stacks (two apps) that replicate to the same destinations
    const a = stackNamed('a');
    const b = stackNamed('b');
    await a.replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }]);
    await b.replicate([{ Destinations: [US], Repositories: [repo('b', 'api')] }]);
    expect(describe_(registry.rules)).toEqual([`us-east-1/${ACCOUNT}: ${repo('a', 'web')}, ${repo('b', 'api')}`]);
    // WHEN one stack is deleted
    await a.delete('Replication');
    // THEN the other's filter, and its rule, stay
    expect(describe_(registry.rules)).toEqual([`us-east-1/${ACCOUNT}: ${repo('b', 'api')}`]);
    // and the last one takes the rule out with its filter: a rule without filters would copy every repository
    await b.delete('Replication');
    expect(registry.rules).toEqual([]);
  });

  test('two stacks with other destinations keep a rule each; a user\'s rule for the same destinations is never the library\'s to fill', async () => {
    registry.rules = [{ destinations: [{ region: 'us-east-1', registryId: ACCOUNT }], repositoryFilters: [{ filter: 'team/', filterType: 'PREFIX_MATCH' }] }];
    await stackNamed('a').replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }]);
    await stackNamed('b').replicate([{ Destinations: [EU], Repositories: [repo('b', 'api')] }]);
    expect(describe_(registry.rules)).toEqual([
      `us-east-1/${ACCOUNT}: team/`,
      `us-east-1/${ACCOUNT}: ${repo('a', 'web')}`,
      `eu-central-1/${ACCOUNT}: ${repo('b', 'api')}`,
    ]);
  });

  test('an Update takes out what the old spec had and the new one has not, moves a repository to its new destinations, and a rollback\'s Update puts it back', async () => {
    const a = stackNamed('a');
    const b = stackNamed('b');
    await b.replicate([{ Destinations: [US], Repositories: [repo('b', 'api')] }]);
    await a.replicate([{ Destinations: [US], Repositories: [repo('a', 'web'), repo('a', 'old')] }]);
    // WHEN: a build leaves the app, another moves to other destinations
    await a.replicate([{ Destinations: [EU], Repositories: [repo('a', 'web')] }]);
    // THEN
    expect(describe_(registry.rules)).toEqual([`us-east-1/${ACCOUNT}: ${repo('b', 'api')}`, `eu-central-1/${ACCOUNT}: ${repo('a', 'web')}`]);
    // WHEN the update rolls back: CloudFormation sends an Update with the old properties
    await a.replicate([{ Destinations: [US], Repositories: [repo('a', 'web'), repo('a', 'old')] }]);
    expect(describe_(registry.rules)).toEqual([`us-east-1/${ACCOUNT}: ${repo('b', 'api')}, ${repo('a', 'web')}, ${repo('a', 'old')}`]);
  });

  test('concurrent writers: another writer\'s put that crossed this stack\'s (and dropped its rule) is written over again, keeping both; nothing of theirs is lost', async () => {
    // GIVEN another writer that read the empty registry and puts its own rule just after this stack's put
    registry.competitor = (r) => { r.rules = [{ destinations: [{ region: 'ap-south-1', registryId: ACCOUNT }], repositoryFilters: [{ filter: 'other/', filterType: 'PREFIX_MATCH' }] }]; };
    // WHEN
    const answer = await stackNamed('a').replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }]);
    // THEN: the read after the put showed the rule missing, so it was written again from what was there
    expect(answer.Status).toBe('SUCCESS');
    expect(registry.puts).toBe(2);
    expect(describe_(registry.rules)).toEqual([`ap-south-1/${ACCOUNT}: other/`, `us-east-1/${ACCOUNT}: ${repo('a', 'web')}`]);
  });

  test('a writer that undoes every put fails the deploy, saying why, after a bounded number of writes', async () => {
    ecr.on(PutReplicationConfigurationCommand).callsFake(async () => { registry.puts++; return {}; });
    const answer = await stackNamed('a').replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }]);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/another writer changed it after each of 6 writes, which each time undid this stack's part.*replace the whole document/);
    expect(registry.puts).toBe(6);
  });

  test('ECR\'s limits on the whole registry (25 unique destinations, 10 rules) fail before any put, naming what is there', async () => {
    registry.rules = Array.from({ length: 3 }, (_, i) => ({
      destinations: Array.from({ length: 8 }, (__, j) => ({ region: `ap-test-${i * 8 + j + 1}`, registryId: ACCOUNT })),
      repositoryFilters: [{ filter: `team${i}/`, filterType: 'PREFIX_MATCH' as const }],
    }));
    const answer = await stackNamed('a').replicate([{ Destinations: [US, EU], Repositories: [repo('a', 'web')] }]);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/would replicate to 26 unique destinations across its rules, and ECR takes at most 25 \(not adjustable\)\. Nothing was changed\.\nRegistry now: 4 rules, 26 destinations/);
    expect(registry.puts).toBe(0);
    registry.rules = Array.from({ length: 10 }, (_, i) => ({ destinations: [{ region: 'us-east-1', registryId: ACCOUNT }], repositoryFilters: [{ filter: `team${i}/`, filterType: 'PREFIX_MATCH' as const }] }));
    expect((await stackNamed('b').replicate([{ Destinations: [EU], Repositories: [repo('b', 'web')] }])).Reason).toMatch(/would have 11 rules, and ECR takes at most 10/);
  });

  test('a Create that failed put nothing: the rollback\'s Delete takes nothing out', async () => {
    // GIVEN another stack's filter, and a stack whose Create fails (the legacy guard)
    await stackNamed('b').replicate([{ Destinations: [US], Repositories: [repo('b', 'api')] }]);
    const a = stackNamed('a');
    a.holds.add('LegacyReplication');
    expect((await a.replicate([{ Destinations: [US], Repositories: [repo('b', 'api')] }])).Status).toBe('FAILED');
    // WHEN the create rolls back
    expect((await a.send('Delete', 'Replication', 'ecr-replication', undefined)).Status).toBe('SUCCESS');
    // THEN
    expect(describe_(registry.rules)).toEqual([`us-east-1/${ACCOUNT}: ${repo('b', 'api')}`]);
  });
});

describe('the repositories of replicating builds: created, or taken over, never AlreadyExists', () => {
  test('a new repository is created tag-immutable, scanned on push, encrypted at rest, with its lifecycle policy and tags', async () => {
    const a = stackNamed('a');
    const spec: ReplicationSpec = {
      Repositories: JSON.stringify([{ Name: repo('a', 'web'), LifecyclePolicy: LIFECYCLE, Policy: '{"Statement":[]}', Tags: { 'cdk-immutable-deploys:destroy-with': 'a' } }]),
      Rules: JSON.stringify([{ Destinations: [US], Repositories: [repo('a', 'web')] }]),
      LegacyLogicalId: 'LegacyReplication',
    };
    expect((await a.send('Create', 'Replication', 'ecr-replication', spec)).Status).toBe('SUCCESS');
    expect(registry.repositories.get(repo('a', 'web'))).toEqual({
      mutability: 'IMMUTABLE', scanOnPush: true, encryption: 'AES256', lifecycle: LIFECYCLE, policy: '{"Statement":[]}', tags: { 'cdk-immutable-deploys:destroy-with': 'a' },
    });
  });

  test.each([
    ['a failed first deploy, then a retry', async (a: CloudFormationStack) => { await a.send('Delete', 'Replication', 'ecr-replication', undefined); }],
    ['cdk destroy, then deploy', async (a: CloudFormationStack) => { await a.delete('Replication'); }],
  ])('%s: the repository left behind is taken over (its images kept), and its rule is back', async (_case, takeDown) => {
    // GIVEN the first deploy made the repository and its rule, and the stack went (its repositories stay)
    const first = stackNamed('a');
    await first.replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }]);
    await takeDown(first);
    expect(registry.rules).toEqual([]);
    expect(registry.repositories.has(repo('a', 'web'))).toBe(true);
    // WHEN the stack is deployed again (CloudFormation creates everything anew)
    const again = await stackNamed('a').replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }]);
    // THEN
    expect(again.Status).toBe('SUCCESS');
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(1);
    expect(describe_(registry.rules)).toEqual([`us-east-1/${ACCOUNT}: ${repo('a', 'web')}`]);
  });

  test('a repository of that name with mutable tags (a hand-made one) is taken over and made tag-immutable and scanned; its old policy goes when nothing is shared', async () => {
    registry.repositories.set(repo('a', 'web'), { mutability: 'MUTABLE', scanOnPush: false, policy: '{"old":true}', tags: {} });
    expect((await stackNamed('a').replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }])).Status).toBe('SUCCESS');
    expect(registry.repositories.get(repo('a', 'web'))).toMatchObject({ mutability: 'IMMUTABLE', scanOnPush: true, policy: undefined, lifecycle: LIFECYCLE });
  });

  test('two deploys racing to create it: the second\'s RepositoryAlreadyExistsException is a repository that exists', async () => {
    ecr.on(CreateRepositoryCommand).callsFake(async (input) => {
      registry.repositories.set(input.repositoryName, { mutability: 'IMMUTABLE', scanOnPush: true, tags: {} });
      throw awsError('RepositoryAlreadyExistsException');
    });
    expect((await stackNamed('a').replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }])).Status).toBe('SUCCESS');
  });
});

describe('the registry policy: a destination keeps its own statement, beside everyone else\'s', () => {
  const PULL_THROUGH = { Sid: 'PullThroughCache', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: ['ecr:BatchImportUpstreamImage'], Resource: '*' };

  test('a registry that has a policy (pull-through cache, a landing zone) deploys: the statement is added, theirs stays; delete takes only this one out', async () => {
    // GIVEN: AWS::ECR::RegistryPolicy would fail here with AlreadyExists, and its delete would delete theirs
    registry.policy = JSON.stringify({ Version: '2012-10-17', Statement: PULL_THROUGH });
    const prod = stackNamed('prod');
    // WHEN
    expect((await prod.allow(['222222222222'])).Status).toBe('SUCCESS');
    // THEN
    expect(Object.keys(registry.statements())).toEqual(['PullThroughCache', sidOf('prod')]);
    await prod.delete('Policy');
    expect(registry.statements()).toEqual({ PullThroughCache: PULL_THROUGH });
  });

  test('two destinations (two apps) keep a statement each; deleting one leaves the other; the last one deletes the policy it leaves empty', async () => {
    const one = stackNamed('one');
    const two = stackNamed('two');
    await one.allow(['222222222222']);
    await two.allow(['444444444444']);
    expect(Object.keys(registry.statements())).toHaveLength(2);
    await one.delete('Policy');
    expect(Object.keys(registry.statements())).toEqual([sidOf('two')]);
    await two.delete('Policy');
    expect(registry.policy).toBeUndefined();
  });

  test('an Update with other accounts replaces the statement in place; a crossing writer\'s put is written over again', async () => {
    const prod = stackNamed('prod');
    await prod.allow(['222222222222']);
    registry.competitor = (r) => { r.policy = JSON.stringify({ Version: '2012-10-17', Statement: [PULL_THROUGH] }); };
    await prod.allow(['222222222222', '444444444444']);
    expect(registry.statements()[sidOf('prod')].Principal.AWS).toEqual(['arn:aws:iam::222222222222:root', 'arn:aws:iam::444444444444:root']);
    expect(Object.keys(registry.statements())).toEqual(['PullThroughCache', sidOf('prod')]);
  });
});

describe('the earlier version\'s AWS::ECR::ReplicationConfiguration and AWS::ECR::RegistryPolicy: never deleted by CloudFormation', () => {
  test('while the stack holds one not retained, the deploy is refused with what to do, and nothing is written', async () => {
    const a = stackNamed('a');
    a.holds.add('LegacyReplication');
    a.holds.add('LegacyPolicy');
    const replication = await a.replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }]);
    expect(replication.Status).toBe('FAILED');
    expect(replication.Reason).toMatch(/^a\/Replication: this stack holds LegacyReplication, the AWS::ECR::ReplicationConfiguration of an earlier version of cdk-immutable-deploys\. CloudFormation would delete it once this update completes, and its Delete empties the registry's whole replication configuration.*Nothing was changed\.\nWhat to do: Deploy once with `cdk deploy -c cdk-immutable-deploys:retain-legacy-registry-settings=true`/s);
    const policy = await a.allow(['222222222222']);
    expect(policy.Reason).toMatch(/holds LegacyPolicy, the AWS::ECR::RegistryPolicy of an earlier version.*empties the registry's whole permissions policy/s);
    expect(registry.puts).toBe(0);
    expect(registry.repositories.size).toBe(0);
  });

  test('the deploy that retains it goes on, and so does the next one, from which it is gone (the earlier version\'s statements go with it)', async () => {
    const a = stackNamed('a');
    a.holds.add('LegacyReplication');
    a.holds.add('LegacyPolicy');
    // the earlier version's rule and statements are in the registry
    registry.rules = [{ destinations: [{ region: 'us-east-1', registryId: ACCOUNT }], repositoryFilters: [{ filter: repo('a', 'web'), filterType: 'PREFIX_MATCH' }] }];
    registry.policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'CdkImmutableDeploysReplication0', Effect: 'Allow' }] });
    expect((await a.replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }], { LegacyRetained: 'true' })).Status).toBe('SUCCESS');
    expect((await a.allow(['222222222222'], { LegacyRetained: 'true' })).Status).toBe('SUCCESS');
    expect(registry.puts).toBe(1); // the rule was there already: no replication put
    // WHEN the next deploy leaves it out (it leaves the stack retained, in the update's cleanup)
    expect((await a.replicate([{ Destinations: [US], Repositories: [repo('a', 'web')] }])).Status).toBe('SUCCESS');
    expect((await a.allow(['222222222222'])).Status).toBe('SUCCESS');
    // THEN
    expect(describe_(registry.rules)).toEqual([`us-east-1/${ACCOUNT}: ${repo('a', 'web')}`]);
    expect(Object.keys(registry.statements())).toEqual([sidOf('a')]);
  });
});
