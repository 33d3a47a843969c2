/**
 * The stack's one ECR replication configuration, which every replicating `ContainerImageBuild` of
 * the stack contributes a rule to, and the checks of `replicateTo`.
 *
 * Internal: never exported from the package.
 */
import { Lazy, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct, IConstruct } from 'constructs';
import type { ReplicationTarget } from './replication';
import { Fingerprint } from '../../fingerprint';
import { constructError } from '../../internal/errors';
import { stackSingleton } from '../../internal/singleton';

/** The prefix of the repositories a replicating `ContainerImageBuild` names, and of a destination's template. */
export const REPLICATED_PREFIX = 'cdk-immutable-deploys';

/** ECR's limits on one registry's replication configuration (PutReplicationConfiguration, service quotas). */
const MAX_RULES = 10;
const MAX_FILTERS_PER_RULE = 100;
const MAX_DESTINATIONS_PER_RULE = 100;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;

/** A checked target: its account is the build's own when none was given. */
export interface Destination {
  readonly region: string;
  readonly registryId: string;
}

/**
 * Checks `replicateTo` of a build: region names, 12-digit accounts, no copy to the build's own
 * account and region, no duplicates. Tokens are not checked.
 */
export function checkReplicationTargets(scope: Construct, type: string, targets: ReplicationTarget[]): Destination[] {
  const stack = Stack.of(scope);
  const seen = new Set<string>();
  const destinations: Destination[] = [];
  targets.forEach((target, i) => {
    const prop = `replicateTo[${i}]`;
    if (!Token.isUnresolved(target.region) && !REGION.test(target.region)) {
      throw constructError(scope, type, { prop: `${prop}.region`, value: target.region, problem: 'is not a region name', fix: "Pass a region such as 'us-east-1'." });
    }
    if (target.account !== undefined && !Token.isUnresolved(target.account) && !ACCOUNT.test(target.account)) {
      throw constructError(scope, type, { prop: `${prop}.account`, value: target.account, problem: 'is not an AWS account id', fix: 'Pass the 12-digit id of the account that receives the copies, or leave it out for this account.' });
    }
    const registryId = target.account ?? stack.account;
    const known = !Token.isUnresolved(target.region) && !Token.isUnresolved(registryId) && !Token.isUnresolved(stack.region);
    if (known && target.region === stack.region && registryId === stack.account) {
      throw constructError(scope, type, {
        prop: prop,
        value: `${target.region}, account ${registryId}`,
        problem: 'is the build\'s own region and account, where the image already is',
        fix: 'Replicate to another region or another account; deploy stacks of this region and account import the build\'s own repository.',
      });
    }
    const key = `${stack.resolve(target.region)}/${JSON.stringify(stack.resolve(registryId))}`;
    if (seen.has(key)) {
      throw constructError(scope, type, { prop, value: `${target.region}, account ${registryId}`, problem: 'is listed twice', fix: 'List each region and account once.' });
    }
    seen.add(key);
    destinations.push({ region: target.region, registryId });
  });
  return destinations;
}

/**
 * The name a replicating build gives its repository: under `cdk-immutable-deploys/`, from the stack's
 * name and the build's id, with a hash of its path, so that it is unique in the account and region,
 * known when the app is synthesized (the destination's import names it), and covered by a
 * destination's repository creation template.
 */
export function replicatedRepositoryName(scope: IConstruct): string {
  const stack = Stack.of(scope);
  const slug = (s: string, n: number) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, n).replace(/-+$/, '') || 'x';
  const stackName = Token.isUnresolved(stack.stackName) ? stack.node.path : stack.stackName;
  return `${REPLICATED_PREFIX}/${slug(stackName, 64)}/${slug(scope.node.id, 64)}-${Fingerprint.ofString(scope.node.path).short.slice(0, 8)}`;
}

/** The construct id of the stack's replication configuration: part of the public contract, never renamed. */
const REPLICATION_ID = 'cdk-immutable-deploys.Replication';

/**
 * The stack's replication configuration: ECR keeps ONE per account and region (the registry's), so
 * every replicating build of the stack contributes to this one resource: one rule per set of
 * destinations, whose filters are the exact names of those builds' repositories.
 *
 * Internal: never exported from the package.
 */
export class RegistryReplication extends Construct {
  /** The replication configuration of the stack of `scope`, created on first use. */
  public static of(scope: IConstruct): RegistryReplication {
    return stackSingleton(scope, REPLICATION_ID, (stack, id) => new RegistryReplication(stack, id));
  }

  /** The resource: builds push only once it exists, as ECR replicates only what is pushed after it. */
  public readonly resource: ecr.CfnReplicationConfiguration;
  private readonly rules = new Map<string, { destinations: Destination[]; repositories: string[]; owners: string[] }>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.resource = new ecr.CfnReplicationConfiguration(this, 'Resource', {
      replicationConfiguration: { rules: Lazy.any({ produce: () => this.render() }) },
    });
    this.node.addValidation({ validate: () => this.validate() });
  }

  /** Replicates the repository named `repositoryName` (a build's) to `destinations`. */
  public add(owner: IConstruct, repositoryName: string, destinations: Destination[]): void {
    const stack = Stack.of(this);
    const sorted = [...destinations].sort((a, b) => JSON.stringify(stack.resolve(a)).localeCompare(JSON.stringify(stack.resolve(b))));
    const key = JSON.stringify(stack.resolve(sorted));
    const rule = this.rules.get(key) ?? { destinations: sorted, repositories: [], owners: [] };
    rule.repositories.push(repositoryName);
    rule.owners.push(owner.node.path);
    this.rules.set(key, rule);
  }

  private render() {
    return [...this.rules.keys()].sort().map((key) => {
      const rule = this.rules.get(key)!;
      return {
        destinations: rule.destinations.map((d) => ({ region: d.region, registryId: d.registryId })),
        repositoryFilters: rule.repositories.map((filter) => ({ filter, filterType: 'PREFIX_MATCH' })),
      };
    });
  }

  private validate(): string[] {
    const errors: string[] = [];
    if (this.rules.size > MAX_RULES) {
      errors.push(`${this.node.path}: the builds of this stack replicate to ${this.rules.size} different sets of destinations, and ECR's replication configuration takes at most ${MAX_RULES} rules (one per set). Give builds the same replicateTo lists.`);
    }
    for (const rule of this.rules.values()) {
      if (rule.repositories.length > MAX_FILTERS_PER_RULE) {
        errors.push(`${this.node.path}: ${rule.repositories.length} builds replicate to the same destinations, and a rule of ECR's replication configuration takes at most ${MAX_FILTERS_PER_RULE} repository filters. Split the builds over two replicateTo lists, or two accounts.`);
      }
      if (rule.destinations.length > MAX_DESTINATIONS_PER_RULE) {
        errors.push(`${this.node.path}: ${rule.owners[0]} replicates to ${rule.destinations.length} destinations, and a rule takes at most ${MAX_DESTINATIONS_PER_RULE}.`);
      }
    }
    return errors;
  }
}

