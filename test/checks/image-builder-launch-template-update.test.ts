import { Fn } from 'aws-cdk-lib';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import { checkedStack, findingsOf, summary } from './fixtures';

describe('image-builder-launch-template-update', () => {
  test('compliant: a distribution of AMIs only', () => {
    const stack = checkedStack();
    new imagebuilder.CfnDistributionConfiguration(stack, 'Distribution', {
      name: 'web',
      distributions: [{ region: 'us-east-1', amiDistributionConfiguration: { Name: 'web-{{ imagebuilder:buildDate }}' } }],
    });
    expect(summary(stack)).toEqual([]);
  });

  test('non-compliant: a distribution that updates a launch template', () => {
    const stack = checkedStack();
    new imagebuilder.CfnDistributionConfiguration(stack, 'Distribution', {
      name: 'web',
      distributions: [{ region: 'eu-west-1', launchTemplateConfigurations: [{ launchTemplateId: 'lt-0123456789abcdef0', setDefaultVersion: false }] }],
    });
    const findings = findingsOf(stack);
    expect(findings.map((f) => `${f.rule} ${f.level} ${f.path}`)).toEqual(['image-builder-launch-template-update error /Stack/Distribution']);
    expect(findings[0].message).toMatch(/to eu-west-1 updates 1 launch template\(s\).*Leave launchTemplateConfigurations out/);
  });

  test('unreadable: launch-template configurations that are a token give a warning', () => {
    const stack = checkedStack();
    new imagebuilder.CfnDistributionConfiguration(stack, 'Distribution', {
      name: 'web',
      distributions: [{ region: 'us-east-1', launchTemplateConfigurations: Fn.getAtt('Other', 'Configurations') as any }],
    });
    expect(summary(stack)).toEqual(['image-builder-launch-template-update warning /Stack/Distribution']);
  });
});
