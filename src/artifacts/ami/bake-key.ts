/**
 * What a bake's `rootVolumeKey` must allow, written into the key's policy when the key is one of the
 * app (an imported key's policy cannot be changed here: a warning lists the statements instead).
 *
 * - Image Builder's and EC2 Auto Scaling's service-linked roles of the bake's account use the key
 *   (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey) and create grants for AWS resources
 *   (`kms:GrantIsForAWSResource`), as EC2 Auto Scaling's key-policy page requires. Neither role has a
 *   KMS permission of its own that an account principal could delegate to (Auto Scaling's none at
 *   all), so the statements allow them directly: principal `*`, limited by `aws:PrincipalArn` to the
 *   two roles and by `kms:CallerAccount` to the bake's account (the form of the AWS managed `aws/ebs`
 *   key's policy). KMS checks no principal named only in a condition, so the key is created in an
 *   account where Auto Scaling's role does not exist yet (Auto Scaling creates it with the first group).
 * - The accounts the AMI is shared with use the key and create grants; each account's runtime grants
 *   its own Auto Scaling role, from that account (see `key-grant-job.ts`).
 *
 * Internal: never exported from the package.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { warn } from '../../internal/errors';

/** What the service-linked roles do with the key: EC2 Auto Scaling's key-policy page, first statement. */
export const SERVICE_ROLE_KEY_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];

/** What another account the AMI is shared with does with the key: that page's cross-account example, and ListGrants to see its own grant settle. */
export const SHARED_ACCOUNT_KEY_ACTIONS = [...SERVICE_ROLE_KEY_ACTIONS, 'kms:CreateGrant', 'kms:ListGrants'];

/** The ARN of a service-linked role of the stack's account. */
export function serviceLinkedRoleOf(stack: Stack, service: string, name: string): string {
  return `arn:${stack.partition}:iam::${stack.account}:role/aws-service-role/${service}/${name}`;
}

/** The ARNs of the two service-linked roles that use a bake's key in its account: Image Builder's (bakes) and EC2 Auto Scaling's (launches). */
export function keyServiceRolesOf(stack: Stack): string[] {
  return [
    serviceLinkedRoleOf(stack, 'imagebuilder.amazonaws.com', 'AWSServiceRoleForImageBuilder'),
    serviceLinkedRoleOf(stack, 'autoscaling.amazonaws.com', 'AWSServiceRoleForAutoScaling'),
  ];
}

/**
 * Adds to the key's policy what the bake's service roles and the accounts it shares with need. Returns
 * false (and warns, listing the statements) when the key is imported and its policy cannot be changed.
 */
export function allowKeyUse(bake: Construct, key: kms.IKey, accounts: string[]): boolean {
  const stack = Stack.of(bake);
  const roles = keyServiceRolesOf(stack);
  const direct = { StringEquals: { 'kms:CallerAccount': stack.account }, ArnEquals: { 'aws:PrincipalArn': roles } };
  const added = key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CdkImmutableDeploysServiceRolesUse',
    principals: [new iam.AnyPrincipal()],
    actions: SERVICE_ROLE_KEY_ACTIONS,
    resources: ['*'],
    conditions: direct,
  }));
  if (!added.statementAdded) {
    const shared = accounts.length > 0
      ? `; and let account(s) ${accounts.join(', ')} call ${SHARED_ACCOUNT_KEY_ACTIONS.join(', ')} (their stacks grant their own Auto Scaling role, with AmiArtifact.fromFingerprint({ encryptionKeyArn }))`
      : '';
    warn(bake, 'ami-key-policy',
      `rootVolumeKey is imported, so its key policy cannot be changed here. Its policy must let ${roles.join(' and ')} call ${SERVICE_ROLE_KEY_ACTIONS.join(', ')}, and kms:CreateGrant with the condition kms:GrantIsForAWSResource=true, naming them as principals (or principal * with aws:PrincipalArn and kms:CallerAccount conditions): an account principal only delegates to IAM policies, which these roles lack${shared}. Otherwise the bake cannot launch its instance and Auto Scaling cannot launch the AMI.`);
    return false;
  }
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CdkImmutableDeploysServiceRolesGrants',
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { ...direct, Bool: { 'kms:GrantIsForAWSResource': true } },
  }));
  if (accounts.length > 0) {
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CdkImmutableDeploysSharedAccounts',
      principals: accounts.map((a) => new iam.AccountPrincipal(a)),
      actions: SHARED_ACCOUNT_KEY_ACTIONS,
      resources: ['*'],
    }));
  }
  return true;
}
