/**
 * The IAM policies of the two service-linked roles that use a bake's key, as AWS manages them (data
 * for `kms-access.ts`): what an account principal in a key policy could delegate to.
 *
 * - `AutoScalingServiceRolePolicy` (v of 2024-02-29), the only policy of `AWSServiceRoleForAutoScaling`:
 *   no `kms:` action at all ("Amazon EC2 Auto Scaling service-linked roles ... do not include access to
 *   your customer managed keys", EC2 Auto Scaling User Guide, key-policy-requirements-EBS-encryption).
 * - `AWSServiceRoleForImageBuilder` (v of 2026-02-12): its KMS statements (the rest has no `kms:` action),
 *   each limited to calls through EC2.
 *
 * Source: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AutoScalingServiceRolePolicy.html,
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSServiceRoleForImageBuilder.html
 * (as recorded by iann0036/iam-dataset, aws/managedpolicies/).
 */
import type { PolicyDocument } from './kms-access';

/** Every action of AutoScalingServiceRolePolicy, statement by statement. */
export const AUTO_SCALING_SERVICE_ROLE_POLICY: PolicyDocument = {
  Statement: [
    { Effect: 'Allow', Resource: '*', Action: ['ec2:AttachClassicLinkVpc', 'ec2:CancelSpotInstanceRequests', 'ec2:CreateFleet', 'ec2:CreateTags', 'ec2:DeleteTags', 'ec2:Describe*', 'ec2:DetachClassicLinkVpc', 'ec2:GetInstanceTypesFromInstanceRequirements', 'ec2:GetSecurityGroupsForVpc', 'ec2:ModifyInstanceAttribute', 'ec2:RequestSpotInstances', 'ec2:RunInstances', 'ec2:StartInstances', 'ec2:StopInstances', 'ec2:TerminateInstances'] },
    { Effect: 'Allow', Resource: '*', Action: ['iam:PassRole'], Condition: { StringLike: { 'iam:PassedToService': 'ec2.amazonaws.com*' } } },
    { Effect: 'Allow', Resource: '*', Action: ['iam:CreateServiceLinkedRole'], Condition: { StringEquals: { 'iam:AWSServiceName': 'spot.amazonaws.com' } } },
    { Effect: 'Allow', Resource: '*', Action: ['elasticloadbalancing:Register*', 'elasticloadbalancing:Deregister*', 'elasticloadbalancing:Describe*'] },
    { Effect: 'Allow', Resource: '*', Action: ['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData', 'cloudwatch:PutMetricAlarm'] },
    { Effect: 'Allow', Resource: '*', Action: ['sns:Publish'] },
    { Effect: 'Allow', Resource: '*', Action: ['events:PutRule', 'events:PutTargets', 'events:RemoveTargets', 'events:DeleteRule', 'events:DescribeRule'], Condition: { StringEquals: { 'events:ManagedBy': 'autoscaling.amazonaws.com' } } },
    { Effect: 'Allow', Resource: '*', Action: ['ssm:GetParameters'] },
    { Effect: 'Allow', Resource: '*', Action: ['vpc-lattice:DeregisterTargets', 'vpc-lattice:GetTargetGroup', 'vpc-lattice:ListTargets', 'vpc-lattice:ListTargetGroups', 'vpc-lattice:RegisterTargets'] },
  ],
};

/** The KMS statements of AWSServiceRoleForImageBuilder's policy. */
export const IMAGE_BUILDER_SERVICE_ROLE_KMS: PolicyDocument = {
  Statement: [
    {
      Effect: 'Allow',
      Resource: '*',
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKeyWithoutPlaintext'],
      Condition: { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['aws:ebs:id'] }, 'StringLike': { 'kms:ViaService': ['ec2.*.amazonaws.com'] } },
    },
    { Effect: 'Allow', Resource: '*', Action: ['kms:DescribeKey'], Condition: { StringLike: { 'kms:ViaService': ['ec2.*.amazonaws.com'] } } },
    { Effect: 'Allow', Resource: '*', Action: ['kms:CreateGrant'], Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' }, StringLike: { 'kms:ViaService': ['ec2.*.amazonaws.com'] } } },
  ],
};
