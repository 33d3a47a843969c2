/**
 * What a build needs to pull base images through an ECR pull-through cache rule of its stack's account
 * and region (`FROM <account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<upstream repository>`): the pull
 * actions, plus `ecr:BatchImportUpstreamImage` (ECR imports the upstream image on the puller's behalf)
 * and `ecr:CreateRepository` (the first pull creates the cache repository), on `repository/<prefix>/*`
 * only: a rule's prefix always ends with an assumed '/'.
 *
 * Internal: not exported from the package.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { constructError, PropProblems, warn } from '../../internal/errors';
import { acknowledgeWildcards } from '../../internal/nag';

/** The shape of a rule's repository prefix (CreatePullThroughCacheRule): lowercase path segments. */
const PREFIX = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/**
 * Pull-through cache rule prefixes, as ECR names them (2 to 30 characters, lowercase path segments),
 * deduplicated and sorted. `ROOT` (every repository without a rule) is refused: its grant would be every
 * repository of the registry.
 */
export function checkCachePrefixes(scope: IConstruct, type: string, prefixes: string[]): string[] {
  for (const prefix of prefixes) {
    if (Token.isUnresolved(prefix)) {
      throw constructError(scope, type, { prop: 'pullThroughCachePrefixes', value: prefix, problem: 'holds an unresolved token', fix: "The prefix scopes the build's permissions at synth time: pass the rule's prefix, such as 'ecr-public'." });
    }
    if (prefix === 'ROOT' || !PREFIX.test(prefix) || prefix.length < 2 || prefix.length > 30) {
      PropProblems.of(scope, type).add({
        prop: 'pullThroughCachePrefixes',
        problem: `has '${prefix}', which is not the repository prefix of a pull-through cache rule (2 to 30 lowercase letters, digits, '.', '_', '-' and '/'; not ROOT)`,
        fix: "Pass the rule's prefix without a trailing slash, such as 'ecr-public' or 'docker-hub'.",
      });
    }
  }
  return [...new Set(prefixes)].sort();
}

/** Lets a project pull through the rule of one prefix: pull, import and create on `repository/<prefix>/*` of the stack's account and region. */
export function grantPullThroughCache(project: codebuild.Project, prefix: string, pullActions: string[]): void {
  const repositories = Stack.of(project).formatArn({ service: 'ecr', resource: 'repository', resourceName: `${prefix}/*` });
  project.addToRolePolicy(new iam.PolicyStatement({ actions: [...pullActions, 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'], resources: [repositories] }));
  const policy = project.role?.node.tryFindChild('DefaultPolicy');
  if (policy) {
    acknowledgeWildcards(policy, [], [repositories],
      `An ECR pull-through cache creates a repository per upstream repository under the rule's prefix '${prefix}/' on the first pull: their names are the Dockerfile's, and the grant is limited to that prefix in this account and region.`);
  }
}

/** A prefix that neither the Dockerfile nor a build argument pulls from is most likely a mistake: a warning. */
export function warnUnusedCachePrefixes(scope: IConstruct, prefixes: string[], texts: string[]): void {
  const stack = Stack.of(scope);
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) return;
  for (const prefix of prefixes) {
    const registry = `${stack.account}.dkr.ecr.${stack.region}.amazonaws.com/${prefix}/`;
    if (!texts.some((t) => t.includes(registry))) {
      warn(scope, 'pull-through-cache-unused',
        `pullThroughCachePrefixes has '${prefix}', but neither the Dockerfile nor a build argument pulls from ${registry}: the build's role may create and import repositories under that prefix for nothing. Pull base images from ${registry}<upstream repository>, or remove the prefix.`);
    }
  }
}
