import { CfnResource, CustomResource, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CACHE_IMAGES_KEPT, CACHE_TAG_PREFIX, TAG_PREFIX } from './buildspec';
import { legacyLogicalId, REPLICATED_PREFIX, retainsLegacy } from './registry-replication';
import { STATEMENT_SID_PREFIX } from './registry-settings';
import type { RegistryPolicySpec } from './types';
import { Fingerprint } from '../../fingerprint';
import { checkConstraints } from '../../internal/constraints';
import { PropProblems } from '../../internal/errors';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';
import { checkPlaintextSecrets } from '../../internal/secrets';

/**
 * A region, and optionally another account, that a `ContainerImageBuild` replicates its images to.
 */
export interface ReplicationTarget {
  /** The region of the copy, such as `us-east-1`. */
  readonly region: string;

  /**
   * The account of the copy. Another account must allow the replication in its registry policy
   * (`ReplicationDestination` with `sourceAccounts`).
   *
   * @default - the build stack's own account
   */
  readonly account?: string;
}

/**
 * Properties of a `ReplicationDestination`.
 */
export interface ReplicationDestinationProps {
  /**
   * The accounts whose builds replicate to this account and region: the registry policy lets each
   * of them replicate images (`ecr:ReplicateImage`) and create repositories (`ecr:CreateRepository`)
   * under `repositoryPrefix` only.
   *
   * @default - no other account: the registry policy is left as it is (replication from this account's other regions needs none)
   */
  readonly sourceAccounts?: string[];

  /**
   * The prefix of the repositories this template applies to, without a trailing slash: ECR applies
   * the template to the repositories it creates whose names start with `<prefix>/`.
   *
   * @default 'cdk-immutable-deploys', the prefix of every repository a replicating `ContainerImageBuild` names
   */
  readonly repositoryPrefix?: string;

  /**
   * How many fingerprint images each replicated repository keeps (its lifecycle policy): keep at
   * least as many as the source keeps (`retainImages` of the builds).
   *
   * @default 10
   */
  readonly retainImages?: number;
}

const ACCOUNT = /^\d{12}$/;
const PREFIX = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/**
 * The receiving side of replication, in each account and region that a `ContainerImageBuild`
 * replicates to (`replicateTo`): a repository creation template for the replicated repositories, so
 * that the repositories ECR creates there have immutable tags, encryption at rest (AES-256, keys ECR
 * manages) and the same retention as the source (without it, ECR creates them with MUTABLE tags), and, for other
 * accounts, the registry policy that lets them replicate.
 *
 * Both are registry-wide. ECR keeps one registry policy per account and region, which others use too
 * (other replication sources, pull-through cache, a landing zone's baseline): the stack's runtime adds
 * this destination's statement to it, beside theirs, and takes only that statement out again when the
 * stack is deleted; a registry that has a policy deploys. A template is one per prefix: create one
 * `ReplicationDestination` per account, region and prefix.
 *
 * Deploy it before the build stack replicates there: ECR creates the repository on the first
 * replicated push, with the template that exists then.
 *
 * @example
 * new ReplicationDestination(this, 'Replicas', { sourceAccounts: ['111111111111'] });
 */
export class ReplicationDestination extends Construct {
  /** The repository creation template. */
  public readonly template: ecr.CfnRepositoryCreationTemplate;

  /**
   * The resource that keeps this destination's statement in the registry policy (a deploy-time
   * lookup of the stack's runtime), when `sourceAccounts` were given.
   */
  public readonly registryPolicy?: CustomResource;

  constructor(scope: Construct, id: string, props: ReplicationDestinationProps = {}) {
    super(scope, id);
    const type = 'ReplicationDestination';
    const stack = Stack.of(this);
    const prefix = props.repositoryPrefix ?? REPLICATED_PREFIX;
    // Every problem of the props is recorded, and synthesis reports them all.
    const problems = PropProblems.of(this, type);
    if (!Token.isUnresolved(prefix) && !PREFIX.test(prefix)) {
      problems.add({ prop: 'repositoryPrefix', value: prefix, problem: 'is not a repository name prefix', fix: "Pass lowercase words separated by '/', without a trailing slash, such as 'cdk-immutable-deploys'." });
    }
    checkConstraints(problems, [
      ['ReplicationDestination.repositoryPrefix', 'repositoryPrefix', prefix],
      ['ReplicationDestination.retainImages', 'retainImages', props.retainImages],
    ]);
    const retainImages = props.retainImages ?? 10;
    if (!Token.isUnresolved(retainImages) && (!Number.isInteger(retainImages) || retainImages < 1)) {
      problems.add({ prop: 'retainImages', value: retainImages, problem: 'must be a whole number of at least 1', fix: 'Keep at least the image a deployment runs: pass 1 or more (default 10).' });
    }
    checkPlaintextSecrets(this, type, [{ prop: 'repositoryPrefix', value: prefix }], {
      storedIn: 'the template and every repository name', fix: () => 'Pass a prefix that is not a secret.',
    });
    const accounts = props.sourceAccounts ?? [];
    for (const account of accounts) {
      if (!Token.isUnresolved(account) && !ACCOUNT.test(account)) {
        problems.add({ prop: 'sourceAccounts', value: accounts, problem: `has '${account}', which is not an AWS account id`, fix: 'Pass the 12-digit ids of the accounts whose builds replicate here.' });
      }
      if (!Token.isUnresolved(account) && !Token.isUnresolved(stack.account) && account === stack.account) {
        problems.add({ prop: 'sourceAccounts', value: accounts, problem: `has this stack's own account (${account})`, fix: 'Leave it out: replication within an account needs no registry policy.' });
      }
    }

    this.template = new ecr.CfnRepositoryCreationTemplate(this, 'Template', {
      prefix,
      appliedFor: ['REPLICATION'],
      description: 'cdk-immutable-deploys: replicated fingerprint images keep immutable tags, encryption at rest and their retention',
      imageTagMutability: 'IMMUTABLE',
      // Encrypted at rest with keys ECR manages: a template with KMS keys needs a custom role for ECR (its user guide).
      encryptionConfiguration: { encryptionType: 'AES256' },
      lifecyclePolicy: JSON.stringify({
        rules: [
          { rulePriority: 1, description: `Keep the last ${retainImages} fingerprint images`, selection: { tagStatus: 'tagged', tagPrefixList: [TAG_PREFIX], countType: 'imageCountMoreThan', countNumber: retainImages }, action: { type: 'expire' } },
          // Replication copies the build caches too: bound them as the source repository does.
          { rulePriority: 2, description: `Keep the last ${CACHE_IMAGES_KEPT} build caches`, selection: { tagStatus: 'tagged', tagPrefixList: [CACHE_TAG_PREFIX], countType: 'imageCountMoreThan', countNumber: CACHE_IMAGES_KEPT }, action: { type: 'expire' } },
        ],
      }),
    });

    if (accounts.length > 0) {
      this.registryPolicy = this.keepStatement(stack, [...new Set(accounts)], prefix);
    }
  }

  /**
   * The statement that lets `accounts` replicate into, and create, repositories under the prefix, kept
   * in the registry policy by the stack's runtime: its `Sid` is this construct's own, from the stack's
   * name and the construct's path, so that it is the same on every deploy and no other stack's.
   */
  private keepStatement(stack: Stack, accounts: string[], prefix: string): CustomResource {
    const runtime = DeployTimeRuntime.of(this);
    const statement = {
      Sid: `${STATEMENT_SID_PREFIX}ReplicationTo${Fingerprint.ofString(`${Token.isUnresolved(stack.stackName) ? '' : stack.stackName}\n${this.node.path}`).short.slice(0, 12)}`,
      Effect: 'Allow',
      Principal: { AWS: accounts.map((account) => `arn:${stack.partition}:iam::${account}:root`) },
      Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
      Resource: stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: `${prefix}/*` }),
    };
    const retain = retainsLegacy(this);
    const spec: RegistryPolicySpec = {
      Statement: stack.toJsonString(statement),
      LegacyLogicalId: this.legacyPolicy(stack, accounts, prefix, retain),
      ...(retain ? { LegacyRetained: 'true' } : {}),
    };
    runtime.grant('ecr-registry-policy', [
      new iam.PolicyStatement({ actions: ['ecr:GetRegistryPolicy', 'ecr:PutRegistryPolicy', 'ecr:DeleteRegistryPolicy'], resources: ['*'] }),
    ], 'ECR keeps one registry policy per account and region, and IAM scopes its actions to no resource: the runtime changes only this stack\'s own statement in it.');
    runtime.addLookup(this, { kind: 'ecr-registry-policy', fingerprint: Fingerprint.ofString(JSON.stringify(stack.resolve(spec))).hex, spec: { ...spec } });
    return this.node.findChild('Lookup') as CustomResource;
  }

  /**
   * The logical id of the `AWS::ECR::RegistryPolicy` an earlier version kept at this path
   * (`RegistryPolicy`), which the runtime refuses to let CloudFormation delete; with the context
   * `cdk-immutable-deploys:retain-legacy-registry-settings`, that resource stays in the template, as
   * that version rendered it, with DeletionPolicy Retain.
   */
  private legacyPolicy(stack: Stack, accounts: string[], prefix: string, retain: boolean): string {
    let legacy: CfnResource | undefined;
    if (retain) {
      legacy = new ecr.CfnRegistryPolicy(this, 'RegistryPolicy', {
        policyText: {
          Version: '2012-10-17',
          Statement: accounts.map((account, i) => ({
            Sid: `CdkImmutableDeploysReplication${i}`,
            Effect: 'Allow',
            Principal: { AWS: `arn:${stack.partition}:iam::${account}:root` },
            Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
            Resource: stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: `${prefix}/*` }),
          })),
        },
      });
    }
    return legacyLogicalId(this, 'RegistryPolicy', 'AWS::ECR::RegistryPolicy', legacy);
  }
}
