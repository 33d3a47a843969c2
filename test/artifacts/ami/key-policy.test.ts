/**
 * An AMI baked with a `rootVolumeKey` launches, in the bake's account and in the accounts it is shared
 * with: the synthesized key policy and IAM policies are evaluated as KMS combines them (`kms-access.ts`),
 * for the principals that use the key at deploy and launch time, with the service-linked roles' own
 * IAM policies as AWS manages them.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { evaluate, Grant, KeyAccess, KmsRequest, PolicyDocument, resolve } from './kms-access';
import { AUTO_SCALING_SERVICE_ROLE_POLICY, IMAGE_BUILDER_SERVICE_ROLE_KMS } from './service-role-policies';
import { AmiArtifact, AmiBake, AmiBakeProps, BakeStep, BaseImage, ImmutableAutoScalingGroup } from '../../../src';
import { KEY_GRANT_OPERATIONS } from '../../../src/artifacts/ami/types';
import { runtimeStatements } from '../../internal/runtime/jobs';

const BAKE = { account: '111111111111', region: 'eu-west-1' };
const PROD = { account: '333333333333', region: 'eu-west-1' };
const KEY_ARN = 'arn:aws:kms:eu-west-1:111111111111:key/1a2b3c4d-0000-0000-0000-000000000001';
const slr = (account: string, service: string, name: string) => `arn:aws:iam::${account}:role/aws-service-role/${service}/${name}`;
const AUTO_SCALING = (account: string) => slr(account, 'autoscaling.amazonaws.com', 'AWSServiceRoleForAutoScaling');
const IMAGE_BUILDER = (account: string) => slr(account, 'imagebuilder.amazonaws.com', 'AWSServiceRoleForImageBuilder');

/**
 * What EBS asks KMS for, on behalf of the role that launches an instance from the encrypted AMI (or
 * builds on it): a grant for the volume, and the data key operations (EC2 Auto Scaling's key-policy
 * page lists them; EBS calls through EC2 with the volume's encryption context).
 */
const EBS_LAUNCH: Array<{ action: string; context: KmsRequest['context'] }> = [
  ...['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'].map((action) => ({
    action, context: { 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com', 'kms:EncryptionContextKeys': ['aws:ebs:id'] },
  })),
  { action: 'kms:CreateGrant', context: { 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com', 'kms:GrantIsForAWSResource': true } },
];

function bakeStack(props: Partial<AmiBakeProps> = {}): { stack: Stack; keyPolicy: PolicyDocument } {
  const stack = new Stack(new App(), 'Bake', { env: BAKE });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  new AmiBake(stack, 'Web', {
    baseImage: BaseImage.fromAmiId('ami-0123456789abcdef0'),
    steps: [BakeStep.shell(['dnf install -y nginx'])],
    rootVolumeKey: key,
    ...props,
  });
  const [resource] = Object.values<any>(Template.fromStack(stack).findResources('AWS::KMS::Key'));
  return { stack, keyPolicy: resolve(resource.Properties.KeyPolicy, BAKE) };
}

/** The service-linked roles with their AWS-managed policies, and nothing else. */
function serviceRoles(account: string): KeyAccess['identityPolicies'] {
  return { [AUTO_SCALING(account)]: [AUTO_SCALING_SERVICE_ROLE_POLICY], [IMAGE_BUILDER(account)]: [IMAGE_BUILDER_SERVICE_ROLE_KMS] };
}

function decisions(access: KeyAccess, principalArn: string): string[] {
  return EBS_LAUNCH.map(({ action, context }) => `${action}: ${evaluate(access, { principalArn, action, keyArn: KEY_ARN, context })}`);
}
const allAllowed = EBS_LAUNCH.map(({ action }) => `${action}: allowed`);
const allDenied = EBS_LAUNCH.map(({ action }) => `${action}: denied`);

describe('the key of an encrypted bake, evaluated', () => {
  test('in the bake\'s account, EC2 Auto Scaling\'s and Image Builder\'s service-linked roles may launch volumes of the AMI: the key policy allows them directly', () => {
    // GIVEN
    const { keyPolicy } = bakeStack();
    const access: KeyAccess = { keyPolicy, identityPolicies: serviceRoles(BAKE.account) };
    // THEN
    expect(decisions(access, AUTO_SCALING(BAKE.account))).toEqual(allAllowed);
    expect(decisions(access, IMAGE_BUILDER(BAKE.account))).toEqual(allAllowed);
    // AutoScalingServiceRolePolicy has no KMS action: only a statement naming the role (or * limited to it) lets it in.
    expect(AUTO_SCALING_SERVICE_ROLE_POLICY.Statement.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  test('the statements open the key to nobody else: another role of the account, another account\'s service roles, a service role calling from elsewhere', () => {
    const { keyPolicy } = bakeStack({ distribution: { accounts: [PROD.account] } });
    const access: KeyAccess = { keyPolicy, identityPolicies: { ...serviceRoles(BAKE.account), ...serviceRoles(PROD.account) } };
    // A role of the bake's account without an IAM policy: the account statement only delegates to IAM.
    expect(decisions(access, `arn:aws:iam::${BAKE.account}:role/Developer`)).toEqual(allDenied);
    // A shared account's Auto Scaling role needs the grant its own account makes (below).
    expect(decisions(access, AUTO_SCALING(PROD.account))).toEqual(allDenied);
    expect(decisions(access, AUTO_SCALING('444444444444'))).toEqual(allDenied);
    // The roles' statements carry kms:CallerAccount and aws:PrincipalArn: a principal named like the role in another account is not it.
    const statement = keyPolicy.Statement.find((s) => s.Sid === 'CdkImmutableDeploysServiceRolesUse')!;
    expect(statement).toMatchObject({
      Principal: { AWS: '*' },
      Condition: { StringEquals: { 'kms:CallerAccount': BAKE.account }, ArnEquals: { 'aws:PrincipalArn': [IMAGE_BUILDER(BAKE.account), AUTO_SCALING(BAKE.account)] } },
    });
    const grants = keyPolicy.Statement.find((s) => s.Sid === 'CdkImmutableDeploysServiceRolesGrants')!;
    expect(grants.Condition).toMatchObject({ Bool: { 'kms:GrantIsForAWSResource': true } });
    // A grant to anything but an AWS resource (a principal) is not allowed to the service roles.
    expect(evaluate(access, { principalArn: AUTO_SCALING(BAKE.account), action: 'kms:CreateGrant', keyArn: KEY_ARN, context: { 'kms:GrantIsForAWSResource': false } })).toBe('denied');
  });

  test('a stage in a shared account: its runtime may create the grant (key policy + its IAM policy), and the grant lets its Auto Scaling role launch the AMI', () => {
    // GIVEN the bake shares with production, and production imports the AMI with the key's ARN
    const { keyPolicy } = bakeStack({ distribution: { accounts: [PROD.account] } });
    const production = new Stack(new App(), 'Production', { env: PROD });
    const vpc = ec2.Vpc.fromVpcAttributes(production, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['a'], privateSubnetIds: ['subnet-00000000000000001'] });
    const artifact = AmiArtifact.fromFingerprint(production, 'Web', { fingerprint: 'ab'.repeat(32), owner: BAKE.account, encryptionKeyArn: KEY_ARN });
    new ImmutableAutoScalingGroup(production, 'Fleet', { vpc, artifact, instanceType: new ec2.InstanceType('t3.small') });
    const template = Template.fromStack(production);
    const runtimeRole = `arn:aws:iam::${PROD.account}:role/ProductionRuntimeRole`;
    const runtimePolicy: PolicyDocument = { Statement: resolve(runtimeStatements(template), PROD) };
    const [grantResource] = Object.values<any>(template.findResources('Custom::CdkImmutableDeploysLookup')).filter((r) => r.Properties.Kind === 'key-grant');
    const grantee = resolve(grantResource.Properties.Spec.Grantee, PROD);
    expect(grantee).toEqual(AUTO_SCALING(PROD.account));
    // WHEN the runtime asks for the grant the job sends
    const createGrant: KmsRequest = {
      principalArn: runtimeRole,
      action: 'kms:CreateGrant',
      keyArn: KEY_ARN,
      context: { 'kms:GranteePrincipal': grantee, 'kms:GrantOperations': [...KEY_GRANT_OPERATIONS] },
    };
    const access: KeyAccess = { keyPolicy, identityPolicies: { [runtimeRole]: [runtimePolicy], ...serviceRoles(PROD.account) } };
    // THEN
    expect(evaluate(access, createGrant)).toBe('allowed');
    expect(evaluate(access, { ...createGrant, action: 'kms:ListGrants', context: {} })).toBe('allowed');
    // A grant for another principal, or with more operations, is refused by the runtime's own policy.
    expect(evaluate(access, { ...createGrant, context: { ...createGrant.context, 'kms:GranteePrincipal': `arn:aws:iam::${PROD.account}:role/Other` } })).toBe('denied');
    expect(evaluate(access, { ...createGrant, context: { ...createGrant.context, 'kms:GrantOperations': [...KEY_GRANT_OPERATIONS, 'RetireGrant'] } })).toBe('denied');
    // With the grant, production's Auto Scaling role launches the AMI.
    const grant: Grant = { grantee, operations: [...KEY_GRANT_OPERATIONS] };
    expect(decisions({ ...access, grants: [grant] }, AUTO_SCALING(PROD.account))).toEqual(allAllowed);
    // A bake that does not share with production gives its runtime nothing to create the grant with.
    const unshared = bakeStack();
    expect(evaluate({ ...access, keyPolicy: unshared.keyPolicy }, createGrant)).toBe('denied');
  });

  test('an imported key: its policy cannot be changed here, so a warning lists what it must allow, naming both roles', () => {
    const stack = new Stack(new App(), 'Bake', { env: BAKE });
    new AmiBake(stack, 'Web', {
      baseImage: BaseImage.fromAmiId('ami-0123456789abcdef0'),
      steps: [BakeStep.shell(['true'])],
      rootVolumeKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
      distribution: { accounts: [PROD.account] },
    });
    Annotations.fromStack(stack).hasWarning('/Bake/Web', Match.stringLikeRegexp(
      'rootVolumeKey is imported.*AWSServiceRoleForImageBuilder.*AWSServiceRoleForAutoScaling.*kms:GrantIsForAWSResource=true.*an account principal only delegates to IAM policies.*333333333333'));
  });
});
