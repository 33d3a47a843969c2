/**
 * The KMS grant an `ImmutableAutoScalingGroup` adds for an AMI encrypted with another account's key
 * (imported with `AmiArtifact.fromFingerprint({ encryptionKeyArn })`): one grant resource of the
 * stack's runtime per key, before the group; IAM on that exact key, for this account's Auto Scaling
 * role and the listed operations only; none for a key of this account.
 */
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AmiArtifact, ImmutableAutoScalingGroup } from '../../../src';
import { KEY_GRANT_OPERATIONS } from '../../../src/artifacts/ami/types';
import { runtimeStatements } from '../../internal/runtime/jobs';

const PROD = { account: '333333333333', region: 'us-east-1' };
const FP = 'ab'.repeat(32);
const TOOLING_KEY = 'arn:aws:kms:us-east-1:111111111111:key/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d';
const OTHER_KEY = 'arn:aws:kms:us-east-1:111111111111:key/mrk-1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d';
const OWN_KEY = 'arn:aws:kms:us-east-1:333333333333:key/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d';
// This account's Auto Scaling service-linked role, in the stack's partition.
const GRANTEE = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::333333333333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling']] };

function stackWith(keys: Array<string | undefined>) {
  const stack = new Stack(new App(), 'Prod', { env: PROD });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['a', 'b'], privateSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'],
  });
  keys.forEach((key, i) => {
    const artifact = AmiArtifact.fromFingerprint(stack, `Ami${i}`, { fingerprint: FP, owner: '111111111111', encryptionKeyArn: key });
    new ImmutableAutoScalingGroup(stack, `Fleet${i}`, { vpc, artifact, instanceType: new ec2.InstanceType('t3.small') });
  });
  return { stack, template: Template.fromStack(stack) };
}

const grants = (template: Template) => Object.entries<any>(template.findResources('Custom::CdkImmutableDeploysLookup')).filter(([, r]) => r.Properties.Kind === 'key-grant');
const groups = (template: Template) => Object.values<any>(template.findResources('AWS::AutoScaling::AutoScalingGroup'));

describe('ImmutableAutoScalingGroup: the KMS grant for another account\'s AMI key', () => {
  test('one grant resource of the stack\'s runtime, for this account\'s Auto Scaling role, retired by the runtime\'s role; the group waits for it', () => {
    // WHEN
    const { template } = stackWith([TOOLING_KEY]);
    // THEN
    const found = grants(template);
    expect(found).toHaveLength(1);
    const [id, grant] = found[0];
    expect(grant.Properties).toMatchObject({
      Kind: 'key-grant',
      Fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      Spec: { KeyArn: TOOLING_KEY, Grantee: GRANTEE, RetiringPrincipal: { 'Fn::GetAtt': [expect.stringMatching(/^CdkImmutableDeploysRuntime.*ServiceRole/), 'Arn'] } },
    });
    expect(grant.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CdkImmutableDeploysRuntime/), 'Arn'] });
    for (const group of groups(template)) expect(group.DependsOn).toContain(id);
  });

  test('IAM: CreateGrant on the exact key for the Auto Scaling role and the listed operations only, RetireGrant and ListGrants on that key; nothing else of KMS; creating only Auto Scaling\'s service-linked role', () => {
    const { template } = stackWith([TOOLING_KEY]);
    const kmsStatements = runtimeStatements(template).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([
      {
        Action: 'kms:CreateGrant',
        Effect: 'Allow',
        Resource: TOOLING_KEY,
        Condition: {
          'StringEquals': { 'kms:GranteePrincipal': GRANTEE },
          'ForAllValues:StringEquals': { 'kms:GrantOperations': [...KEY_GRANT_OPERATIONS] },
        },
      },
      { Action: ['kms:RetireGrant', 'kms:ListGrants'], Effect: 'Allow', Resource: TOOLING_KEY },
    ]);
    // The grantee must exist before the grant (a new account has no Auto Scaling role until its first group).
    expect(runtimeStatements(template).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('iam:')))).toEqual([{
      Action: 'iam:CreateServiceLinkedRole',
      Effect: 'Allow',
      Resource: GRANTEE,
      Condition: { StringEquals: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
    }]);
  });

  test('two groups of AMIs under one key share one grant; another key adds one grant and its own statements (by key, never by artifact)', () => {
    const two = stackWith([TOOLING_KEY, TOOLING_KEY]);
    expect(grants(two.template)).toHaveLength(1);
    const three = stackWith([TOOLING_KEY, TOOLING_KEY, OTHER_KEY]);
    expect(grants(three.template)).toHaveLength(2);
    const resources = runtimeStatements(three.template).filter((s) => s.Action === 'kms:CreateGrant').map((s) => s.Resource);
    expect(resources.sort()).toEqual([OTHER_KEY, TOOLING_KEY].sort());
  });

  test('no grant for a key of this account (its key policy decides) or an artifact without a key, and no KMS permission', () => {
    const { template } = stackWith([OWN_KEY, undefined]);
    expect(grants(template)).toHaveLength(0);
    expect(runtimeStatements(template).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')))).toEqual([]);
  });

  test('an encryptionKeyArn that is not a key ARN (an alias, a key id) is a synth error naming the prop and the value', () => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    for (const bad of ['alias/ami', '1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d', 'arn:aws:kms:us-east-1:111111111111:alias/ami']) {
      expect(() => AmiArtifact.fromFingerprint(stack, `Ami-${bad}`, { fingerprint: FP, encryptionKeyArn: bad }))
        .toThrow(`AmiArtifact.fromFingerprint(): encryptionKeyArn (${bad}) is not the ARN of a KMS key. Pass the key's ARN`);
    }
  });

  test('an encryptionKeyArn of another region than the stack\'s is a synth error: a KMS key lives in one region, and the launch decrypts the copy in this one', () => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    const elsewhere = 'arn:aws:kms:eu-west-1:111111111111:key/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d';
    expect(() => AmiArtifact.fromFingerprint(stack, 'Ami', { fingerprint: FP, encryptionKeyArn: elsewhere }))
      .toThrow(/encryptionKeyArn \(arn:aws:kms:eu-west-1:.*\) is a key of eu-west-1, but this stack launches the AMI's copy in us-east-1.*Pass the ARN of the key in us-east-1/);
    expect(() => AmiArtifact.fromFingerprint(stack, 'Here', { fingerprint: FP, encryptionKeyArn: TOOLING_KEY })).not.toThrow();
  });

  test('an encryptionKeyArn that is a token is not checked, and gets a grant (its account cannot be read)', () => {
    const stack = new Stack(new App(), 'Prod', { env: PROD });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['a'], privateSubnetIds: ['subnet-00000000000000001'] });
    const key = new CfnParameter(stack, 'Key').valueAsString;
    const artifact = AmiArtifact.fromFingerprint(stack, 'Ami', { fingerprint: FP, encryptionKeyArn: key });
    new ImmutableAutoScalingGroup(stack, 'Fleet', { vpc, artifact, instanceType: new ec2.InstanceType('t3.small') });
    expect(grants(Template.fromStack(stack))).toHaveLength(1);
  });
});
