/**
 * A stack's part of its registry's ECR replication, which every replicating `ContainerImageBuild` of
 * the stack contributes to, and the checks of `replicateTo`.
 *
 * ECR keeps one replication configuration per registry (account and region), shared by every stack,
 * app and team that replicates from it. `AWS::ECR::ReplicationConfiguration` owns it whole: its Create
 * fails when any rule exists, and its Delete empties it. So the stack's runtime keeps the stack's part
 * instead (a lookup of kind `ecr-replication`, `replication-job.ts`): the repositories its replicating
 * builds push to, which it creates or adopts by name (a name known when the app is synthesized, so
 * that a destination's stack can import the replica, and that a re-creation, a retry after a failed
 * first deploy or a revert takes over the repository rather than colliding with it), and the rules
 * that replicate them, merged with everyone else's.
 *
 * Internal: never exported from the package.
 */
import { CfnResource, CustomResource, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { RETAIN_LEGACY_CONTEXT } from './registry-settings';
import type { ReplicationTarget } from './replication';
import type { ReplicatedRepositorySpec, ReplicationRuleSpec, ReplicationSpec } from './types';
import { Fingerprint } from '../../fingerprint';
import { constructError, PropProblems, warnIfUnknownRegion } from '../../internal/errors';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';
import { stackSingleton } from '../../internal/singleton';

/** The prefix of the repositories a replicating `ContainerImageBuild` names, and of a destination's template. */
export const REPLICATED_PREFIX = 'cdk-immutable-deploys';

/** ECR's limits on one registry's replication configuration (ECR user guide, replication considerations; service quotas). */
const MAX_RULES = 10;
const MAX_FILTERS_PER_RULE = 100;
/** Unique destinations across all rules of a configuration: 25, not adjustable. */
const MAX_DESTINATIONS = 25;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;

/** A checked target: its account is the build's own when none was given. */
export interface Destination {
  readonly region: string;
  readonly registryId: string;
}

/**
 * Checks `replicateTo` of a build: region names, 12-digit accounts, no copy to the build's own
 * account and region, no duplicates. Tokens are not checked. Each problem is recorded (synthesis
 * reports them all), and its target left out of the destinations.
 */
export function checkReplicationTargets(scope: Construct, type: string, targets: ReplicationTarget[]): Destination[] {
  const stack = Stack.of(scope);
  const seen = new Set<string>();
  const destinations: Destination[] = [];
  targets.forEach((target, i) => {
    const prop = `replicateTo[${i}]`;
    for (const [name, value] of [['region', target.region], ['account', target.account]] as const) {
      if (value !== undefined && Token.isUnresolved(value)) {
        throw constructError(scope, type, {
          prop: `${prop}.${name}`,
          value,
          problem: 'is an unresolved token: the registry\'s replication rules are written at deploy time as one JSON document, and ECR needs the literal value in it',
          fix: name === 'region' ? "Pass the region's name, such as 'us-east-1' (a stack's env.region)." : "Pass the 12-digit account id (a stack's env.account), or leave it out for this stack's account.",
        });
      }
    }
    if (!REGION.test(target.region)) {
      return PropProblems.of(scope, type).add({ prop: `${prop}.region`, value: target.region, problem: 'is not a region name', fix: "Pass a region such as 'us-east-1'." });
    }
    warnIfUnknownRegion(scope, `${prop}.region`, target.region);
    if (target.account !== undefined && !ACCOUNT.test(target.account)) {
      return PropProblems.of(scope, type).add({ prop: `${prop}.account`, value: target.account, problem: 'is not an AWS account id', fix: 'Pass the 12-digit id of the account that receives the copies, or leave it out for this account.' });
    }
    const registryId = target.account ?? stack.account;
    const known = !Token.isUnresolved(target.region) && !Token.isUnresolved(registryId) && !Token.isUnresolved(stack.region);
    if (known && target.region === stack.region && registryId === stack.account) {
      return PropProblems.of(scope, type).add({
        prop: prop,
        value: `${target.region}, account ${registryId}`,
        problem: 'is the build\'s own region and account, where the image already is',
        fix: 'Replicate to another region or another account; deploy stacks of this region and account import the build\'s own repository.',
      });
    }
    const key = `${stack.resolve(target.region)}/${JSON.stringify(stack.resolve(registryId))}`;
    if (seen.has(key)) {
      return PropProblems.of(scope, type).add({ prop, value: `${target.region}, account ${registryId}`, problem: 'is listed twice', fix: 'List each region and account once.' });
    }
    seen.add(key);
    destinations.push({ region: target.region, registryId });
  });
  return destinations;
}

/** `cdk-immutable-deploys/<stack>/`: the names of a stack's replicating repositories start with it. */
export function replicatedRepositoryPrefix(scope: IConstruct): string {
  const stack = Stack.of(scope);
  const stackName = Token.isUnresolved(stack.stackName) ? stack.node.path : stack.stackName;
  return `${REPLICATED_PREFIX}/${slug(stackName, 64)}/`;
}

/**
 * The name a replicating build gives its repository: under `cdk-immutable-deploys/<stack>/`, from the
 * build's id, with a hash of its path, so that it is unique in the account and region, known when the
 * app is synthesized (the destination's import names it), and covered by a destination's repository
 * creation template.
 */
export function replicatedRepositoryName(scope: IConstruct): string {
  return `${replicatedRepositoryPrefix(scope)}${slug(scope.node.id, 64)}-${Fingerprint.ofString(scope.node.path).short.slice(0, 8)}`;
}

function slug(s: string, n: number): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, n).replace(/-+$/, '') || 'x';
}

/**
 * The logical id of the resource an earlier version kept at `<scope>/<id>`: that resource, kept with
 * DeletionPolicy Retain (the context `cdk-immutable-deploys:retain-legacy-registry-settings`), or,
 * without it, the id the stack allocates for that path, with nothing left in the template.
 */
export function legacyLogicalId(scope: Construct, id: string, type: string, kept: CfnResource | undefined): string {
  const stack = Stack.of(scope);
  if (kept) {
    kept.applyRemovalPolicy(RemovalPolicy.RETAIN);
    return stack.resolve(kept.logicalId);
  }
  const probe = new CfnResource(scope, id, { type });
  const logicalId = stack.resolve(probe.logicalId);
  scope.node.tryRemoveChild(id);
  return logicalId;
}

/** Whether the context asks to keep an earlier version's registry-wide resource (`cdk-immutable-deploys:retain-legacy-registry-settings`). */
export function retainsLegacy(scope: IConstruct): boolean {
  const value = scope.node.tryGetContext(RETAIN_LEGACY_CONTEXT);
  return value === true || value === 'true';
}

/** The construct id of the stack's replication: part of the public contract, never renamed. */
const REPLICATION_ID = 'cdk-immutable-deploys.Replication';

/** What a replicating build contributes: its repository's name, where ECR copies it, and how the runtime keeps it. */
export interface ReplicatedRepository {
  readonly name: string;
  readonly destinations: Destination[];
  /** The repository's lifecycle policy, repository policy (or '') and tags; absent for a repository the user passed, which stays theirs. */
  readonly keep?: { readonly lifecyclePolicy: string; readonly policy: string; readonly tags: { [key: string]: string } };
}

/**
 * The stack's part of its registry's replication: its replicating repositories, and one rule per set
 * of destinations whose filters are those repositories' exact names. One resource per stack (a lookup
 * of the stack's runtime, answered at once), which the builds' jobs come after: ECR replicates only
 * what is pushed once a rule covers it.
 *
 * Internal: never exported from the package.
 */
export class RegistryReplication extends Construct {
  /** The replication of the stack of `scope`, created on first use. */
  public static of(scope: IConstruct): RegistryReplication {
    return stackSingleton(scope, REPLICATION_ID, (stack, id) => new RegistryReplication(stack, id));
  }

  /** The resource that keeps the stack's part: builds push only once it is there. */
  public readonly resource: CustomResource;
  private readonly repositories: ReplicatedRepository[] = [];
  private readonly rules = new Map<string, { destinations: Destination[]; repositories: string[]; owners: string[] }>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const runtime = DeployTimeRuntime.of(this);
    const retainLegacy = retainsLegacy(this);
    const legacyId = this.legacyResource(retainLegacy);
    const spec: ReplicationSpec = {
      Repositories: Lazy.string({ produce: () => stack.toJsonString(this.repositories.filter((r) => r.keep).map((r) => this.repositorySpec(r))) }),
      Rules: Lazy.string({ produce: () => stack.toJsonString(this.ruleSpecs()) }),
      LegacyLogicalId: legacyId,
      ...(retainLegacy ? { LegacyRetained: 'true' } : {}),
    };
    const fingerprint = Lazy.string({
      produce: () => Fingerprint.ofString(JSON.stringify(stack.resolve({ r: this.repositories, s: this.ruleSpecs() }))).hex,
    });
    runtime.addLookup(this, { kind: 'ecr-replication', fingerprint, spec: { ...spec } });
    this.resource = this.node.findChild('Lookup') as CustomResource;
    this.grant(runtime);
    this.node.addValidation({ validate: () => this.validate() });
  }

  /** Replicates a build's repository (created or adopted by the runtime) to `destinations`. */
  public add(owner: IConstruct, repository: ReplicatedRepository): void {
    const stack = Stack.of(this);
    const sorted = [...repository.destinations].sort((a, b) => JSON.stringify(stack.resolve(a)).localeCompare(JSON.stringify(stack.resolve(b))));
    const key = JSON.stringify(stack.resolve(sorted));
    const rule = this.rules.get(key) ?? { destinations: sorted, repositories: [], owners: [] };
    rule.repositories.push(repository.name);
    rule.owners.push(owner.node.path);
    this.rules.set(key, rule);
    this.repositories.push(repository);
  }

  private repositorySpec(r: ReplicatedRepository): ReplicatedRepositorySpec {
    return { Name: r.name, LifecyclePolicy: r.keep!.lifecyclePolicy, Policy: r.keep!.policy, Tags: r.keep!.tags };
  }

  private ruleSpecs(): ReplicationRuleSpec[] {
    return [...this.rules.keys()].sort().map((key) => {
      const rule = this.rules.get(key)!;
      return { Destinations: rule.destinations.map((d) => ({ Region: d.region, RegistryId: d.registryId })), Repositories: rule.repositories };
    });
  }

  /**
   * The logical id of the `AWS::ECR::ReplicationConfiguration` an earlier version kept at this path
   * (`Resource`), which the runtime refuses to let CloudFormation delete. With the context
   * `cdk-immutable-deploys:retain-legacy-registry-settings`, that resource stays in the template,
   * rendered as that version rendered it, with DeletionPolicy Retain: a deploy with it lets the resource
   * leave the stack without its Delete (which empties the registry's replication).
   */
  private legacyResource(retain: boolean): string {
    let legacy: CfnResource | undefined;
    if (retain) {
      legacy = new ecr.CfnReplicationConfiguration(this, 'Resource', {
        replicationConfiguration: {
          rules: Lazy.any({
            produce: () => this.ruleSpecs().map((r) => ({
              destinations: r.Destinations.map((d) => ({ region: d.Region, registryId: d.RegistryId })),
              repositoryFilters: r.Repositories.map((filter) => ({ filter, filterType: 'PREFIX_MATCH' })),
            })),
          }),
        },
      });
    }
    return legacyLogicalId(this, 'Resource', 'AWS::ECR::ReplicationConfiguration', legacy);
  }

  /**
   * What the runtime may do, once per stack: read and put the registry's replication configuration
   * (registry-wide actions, which IAM scopes to no resource), create ECR's replication service-linked
   * role the first time, and create and configure repositories under this stack's own prefix only.
   */
  private grant(runtime: DeployTimeRuntime): void {
    const stack = Stack.of(this);
    runtime.grant('ecr-replication', [
      new iam.PolicyStatement({ actions: ['ecr:DescribeRegistry', 'ecr:PutReplicationConfiguration'], resources: ['*'] }),
      new iam.PolicyStatement({
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [`arn:${stack.partition}:iam::${stack.account}:role/aws-service-role/replication.ecr.amazonaws.com/AWSServiceRoleForECRReplication`],
        conditions: { StringEquals: { 'iam:AWSServiceName': 'replication.ecr.amazonaws.com' } },
      }),
      new iam.PolicyStatement({
        actions: [
          'ecr:DescribeRepositories', 'ecr:CreateRepository', 'ecr:TagResource', 'ecr:PutImageTagMutability', 'ecr:PutImageScanningConfiguration',
          'ecr:PutLifecyclePolicy', 'ecr:SetRepositoryPolicy', 'ecr:DeleteRepositoryPolicy',
        ],
        resources: [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: `${replicatedRepositoryPrefix(this)}*` })],
      }),
    ], 'ECR\'s registry-wide replication configuration is one per account and region, and IAM scopes DescribeRegistry and PutReplicationConfiguration to no resource; '
      + 'the repositories are this stack\'s replicating ones, under its own prefix cdk-immutable-deploys/<stack>/, whose names end with a hash of each build\'s path.');
  }

  private validate(): string[] {
    const errors: string[] = [];
    if (this.rules.size > MAX_RULES) {
      errors.push(`${this.node.path}: the builds of this stack replicate to ${this.rules.size} different sets of destinations, and ECR's replication configuration takes at most ${MAX_RULES} rules (one per set), for the whole registry. Give builds the same replicateTo lists.`);
    }
    const stack = Stack.of(this);
    const unique = new Set([...this.rules.values()].flatMap((r) => r.destinations.map((d) => JSON.stringify(stack.resolve(d)))));
    if (unique.size > MAX_DESTINATIONS) {
      errors.push(`${this.node.path}: replicateTo of this stack's builds names ${unique.size} unique destinations (regions and accounts), and ECR's replication configuration takes at most ${MAX_DESTINATIONS} across all its rules, for the whole registry (a quota that cannot be raised). Replicate to fewer regions and accounts, or from another account.`);
    }
    for (const rule of this.rules.values()) {
      if (rule.repositories.length > MAX_FILTERS_PER_RULE) {
        errors.push(`${this.node.path}: ${rule.repositories.length} builds replicate to the same destinations, and a rule of ECR's replication configuration takes at most ${MAX_FILTERS_PER_RULE} repository filters. Split the builds over two replicateTo lists, or two accounts.`);
      }
    }
    return errors;
  }
}
