/**
 * The security baseline: everything the library creates (both artifacts, both deployments, every
 * option that adds resources) is clean under cdk-nag's AwsSolutions and NIST 800-53 rev. 5 packs and
 * the AWS Control Tower proactive controls, with the CloudFormation schema validator in strict mode.
 * What is not fixed is acknowledged on its one resource, by rule, with a reason (src/internal/baseline.ts).
 */
import { Validations } from 'aws-cdk-lib';
import { composedStack } from './composed-app';
import { describeFindings, newSecurityBaselineApp, validate } from './kit';

describe('security baseline', () => {
  test('a composed app of everything the library creates has no unacknowledged finding under AwsSolutions, NIST 800-53 R5 and Control Tower', () => {
    // GIVEN
    const app = newSecurityBaselineApp();

    // WHEN
    const stack = composedStack(app);
    const { template, findings } = validate(stack);

    // THEN it holds what the baseline is about
    const types = ['AWS::CodeBuild::Project', 'AWS::ImageBuilder::InfrastructureConfiguration', 'AWS::ImageBuilder::DistributionConfiguration', 'AWS::ECS::Service',
      'AWS::AutoScaling::AutoScalingGroup', 'AWS::Lambda::Function', 'AWS::ECR::Repository', 'AWS::Logs::LogGroup'];
    expect(types.filter((type) => Object.keys(template.findResources(type)).length === 0)).toEqual([]);
    expect(describeFindings(findings)).toEqual([]);

    // AND every acknowledgement of a security finding is made on a construct inside the stack (never the app or the stack), and every reason has substance
    const acknowledgements = [stack, ...stack.node.findAll()].flatMap((c) => c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ at: c, id, reason }))));
    expect(acknowledgements.length).toBeGreaterThan(20);
    const securityPack = (id: string) => /AwsSolutions-|NIST\.800\.53\.R5-|cdk-validator-cfnguard::/.test(id);
    expect(acknowledgements.filter((a) => securityPack(a.id) && (a.at === stack || a.at === app)).map((a) => a.id)).toEqual([]);
    expect(acknowledgements.filter((a) => a.reason.length < 40).map((a) => `${a.id} at ${a.at.node.path}`)).toEqual([]);
  });
});
