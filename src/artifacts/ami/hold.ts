/**
 * What a stack needs to hold the AMIs it runs (the runtime's side is `hold-job.ts` and
 * `src/internal/runtime/holds.ts`): in each region where it holds one, the account's register of
 * holds, and the keep tag on AMIs that a bake made.
 *
 * Internal: never exported from the package.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { FINGERPRINT_TAG, KEEP_TAG, KEPT_BY_TAG } from './types';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';

/**
 * Lets the runtime of `scope`'s stack hold AMIs in `regions`: once per region, whatever the number of
 * AMIs, bakes or imports.
 */
export function grantAmiHolds(scope: IConstruct, regions: string[]): void {
  const runtime = DeployTimeRuntime.of(scope);
  const stack = Stack.of(scope);
  for (const region of regions) {
    runtime.grant(`ami-hold:${region}`, [holdStatement(stack, region)],
      `AMI ids are only known at deploy time: the runtime tags an AMI that a stack runs in ${region} as kept from lifecycle deletion, and untags it when no stack holds it. Conditions limit it to AMIs with a bake fingerprint tag and to the keep tags.`);
    runtime.grantHolds(region);
  }
}

/** Tagging AMIs of a region as kept or not: only bake AMIs (fingerprint tag), only the keep tags. */
function holdStatement(stack: Stack, region: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
    resources: [`arn:${stack.partition}:ec2:${region}::image/*`],
    conditions: {
      'Null': { [`aws:ResourceTag/${FINGERPRINT_TAG}`]: 'false', 'aws:TagKeys': 'false' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [KEEP_TAG, KEPT_BY_TAG] },
    },
  });
}
