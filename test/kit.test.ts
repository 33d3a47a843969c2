import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { newSecurityBaselineApp, newTestApp, validate } from './kit';

describe('test kit', () => {
  test('a stack of secure, valid resources is valid and clean', () => {
    // GIVEN
    const app = newTestApp();
    const stack = new Stack(app, 'Clean');
    new sqs.Queue(stack, 'Queue', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'The test queue is itself a dead-letter queue.' });

    // WHEN
    const { template, findings } = validate(stack);

    // THEN
    expect(findings).toEqual([]);
    template.resourceCountIs('AWS::SQS::Queue', 1);
  });

  test('catches a property the CloudFormation schema does not have', () => {
    // GIVEN
    const app = newTestApp();
    const stack = new Stack(app, 'BadProperty');
    const queue = new sqs.Queue(stack, 'Queue', { enforceSSL: true });
    (queue.node.defaultChild as sqs.CfnQueue).addPropertyOverride('NotAQueueProperty', 1);
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'Not under test.' });

    // WHEN
    const { findings } = validate(stack);

    // THEN
    expect(findings).toEqual([
      expect.objectContaining({
        plugin: 'CloudFormation Validate',
        path: 'BadProperty/Queue/Resource',
        description: expect.stringMatching(/NotAQueueProperty/),
      }),
    ]);
  });

  test('catches a cdk-nag AwsSolutions finding, and honours an acknowledgement', () => {
    // GIVEN
    const app = newTestApp();
    const stack = new Stack(app, 'Nag');
    const bucket = new s3.Bucket(stack, 'Bucket', { enforceSSL: true });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S10', reason: 'Covered by enforceSSL; acknowledged to prove the kit filters.' });

    // WHEN
    const { findings } = validate(stack);

    // THEN
    const rules = findings.map((f) => f.rule);
    expect(rules).toContain('AwsSolutions-S1');
    expect(rules).not.toContain('AwsSolutions-S10');
    expect(findings.every((f) => f.path.startsWith('Nag/'))).toBe(true);
  });

  test('reports only the findings of the stack asked about', () => {
    // GIVEN
    const app = newTestApp();
    const clean = new Stack(app, 'CleanOne');
    new sqs.Queue(clean, 'Queue', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
    Validations.of(clean).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'Not under test.' });
    const dirty = new Stack(app, 'Dirty');
    new s3.Bucket(dirty, 'Bucket');

    // THEN
    expect(validate(dirty).findings.length).toBeGreaterThan(0);
    expect(validate(clean).findings).toEqual([]);
  });

  test('an acknowledgement of a plain rule id covers its construct only', () => {
    // GIVEN two queues without dead-letter queues, one acknowledged
    const app = newTestApp();
    const stack = new Stack(app, 'Scoped');
    const acknowledged = new sqs.Queue(stack, 'Acknowledged', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
    new sqs.Queue(stack, 'Other', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
    Validations.of(acknowledged).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'Not under test.' });

    // WHEN
    const { findings } = validate(stack);

    // THEN
    expect(findings.map((f) => `${f.rule} ${f.path}`)).toEqual(['AwsSolutions-SQS3 Scoped/Other/Resource']);
  });

  test('an acknowledgement of a finding id covers its construct only (aws-cdk-lib >= 2.271.0)', () => {
    // GIVEN two policies with the same wildcard, one acknowledged by its finding id
    const app = newTestApp();
    const stack = new Stack(app, 'FindingScope');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    for (const id of ['Library', 'User']) {
      const policy = new iam.Policy(stack, id, {
        statements: [new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] })],
      });
      policy.attachToRole(role);
      if (id === 'Library') {
        Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'GetAuthorizationToken has no resource-level permissions.' });
      }
    }

    // WHEN
    const { findings } = validate(stack);

    // THEN the other policy's finding is still reported
    expect(findings.map((f) => `${f.rule} ${f.path}`)).toEqual(['AwsSolutions-IAM5[Resource::*] FindingScope/User/Resource']);
  });

  test('the security-baseline app also runs NIST 800-53 R5 and the Control Tower rules, acknowledged by rule and resource', () => {
    // GIVEN two log groups kept for a week, without a customer-managed key; one acknowledged
    const app = newSecurityBaselineApp();
    const stack = new Stack(app, 'Baseline');
    const acknowledged = new logs.LogGroup(stack, 'Acknowledged', { retention: logs.RetentionDays.ONE_WEEK });
    new logs.LogGroup(stack, 'Other', { retention: logs.RetentionDays.ONE_WEEK });
    Validations.of(acknowledged).acknowledge(
      { id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason: 'Not under test.' },
      { id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check', reason: 'Not under test.' },
    );

    // WHEN
    const { findings } = validate(stack);

    // THEN
    expect(findings.map((f) => `${f.plugin} ${f.rule} ${f.path}`).sort()).toEqual([
      'NIST.800.53.R5 NIST.800.53.R5-CloudWatchLogGroupEncrypted Baseline/Other/Resource',
      'cdk-validator-cfnguard cloudwatch_log_group_encrypted_check Baseline/Acknowledged/Resource',
      'cdk-validator-cfnguard cloudwatch_log_group_encrypted_check Baseline/Other/Resource',
      'cdk-validator-cfnguard cloudwatch_log_group_retention_period_check Baseline/Other/Resource',
    ]);
  });

  test('refuses a stack whose app does not run the validators', () => {
    const stack = new Stack();
    expect(() => validate(stack)).toThrow(/must be created in newTestApp\(\)/);
  });
});
