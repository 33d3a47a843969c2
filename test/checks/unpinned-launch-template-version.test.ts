import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import { checkedStack, findingsOf, summary } from './fixtures';

function group(version: any) {
  const stack = checkedStack();
  const resource = new autoscaling.CfnAutoScalingGroup(stack, 'Group', {
    minSize: '1',
    maxSize: '2',
    availabilityZones: ['us-east-1a'],
    launchTemplate: { launchTemplateId: 'lt-0123456789abcdef0', version },
  });
  resource.cfnOptions.updatePolicy = { autoScalingRollingUpdate: { minInstancesInService: 1 } };
  return stack;
}

describe('unpinned-launch-template-version', () => {
  test('compliant: a version number, or the version-number attribute of a launch template', () => {
    expect(summary(group('3'))).toEqual([]);
    expect(summary(group({ 'Fn::GetAtt': ['Template', 'LatestVersionNumber'] } as any))).toEqual([]);
  });

  test.each(['$Latest', '$Default'])('non-compliant: %s', (version) => {
    const findings = findingsOf(group(version));
    expect(findings.map((f) => `${f.rule} ${f.level} ${f.path}`)).toEqual(['unpinned-launch-template-version error /Stack/Group']);
    expect(findings[0].message).toContain(`'${version}'`);
  });

  test('non-compliant: in a mixed-instances policy too', () => {
    const stack = checkedStack();
    const g = new autoscaling.CfnAutoScalingGroup(stack, 'Group', {
      minSize: '1',
      maxSize: '2',
      availabilityZones: ['us-east-1a'],
      mixedInstancesPolicy: { launchTemplate: { launchTemplateSpecification: { launchTemplateId: 'lt-0123456789abcdef0', version: '$Latest' } } },
    });
    g.cfnOptions.updatePolicy = { autoScalingRollingUpdate: {} };
    expect(summary(stack)).toEqual(['unpinned-launch-template-version error /Stack/Group']);
  });

  test('unreadable: a version that is another token gives a warning', () => {
    expect(summary(group({ Ref: 'TemplateVersion' } as any))).toEqual(['unpinned-launch-template-version warning /Stack/Group']);
  });
});
