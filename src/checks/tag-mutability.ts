/**
 * The tag mutability of an ECR repository of the app, as a rule reads it.
 */
import { CfnResource } from 'aws-cdk-lib';
import { isIntrinsic, properties } from './rule';

/**
 * `IMMUTABLE`, `MUTABLE` (also when unset: ECR's default), or `unknown`: a token, or a setting with
 * exclusions (`IMMUTABLE_WITH_EXCLUSION`, `MUTABLE_WITH_EXCLUSION`), under which some tags move and
 * others do not.
 */
export function repositoryTagMutability(repository: CfnResource): 'IMMUTABLE' | 'MUTABLE' | 'unknown' {
  const value = properties(repository).ImageTagMutability;
  if (value === undefined || value === 'MUTABLE') return 'MUTABLE';
  if (value === 'IMMUTABLE') return 'IMMUTABLE';
  if (isIntrinsic(value) || typeof value === 'string') return 'unknown';
  return 'unknown';
}
