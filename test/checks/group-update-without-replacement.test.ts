import { CfnParameter } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import { checkedStack, findingsOf, summary } from './fixtures';

function group(updatePolicy?: any) {
  const stack = checkedStack();
  const resource = new autoscaling.CfnAutoScalingGroup(stack, 'Group', {
    minSize: '1',
    maxSize: '2',
    availabilityZones: ['us-east-1a'],
    launchTemplate: { launchTemplateId: 'lt-0123456789abcdef0', version: '1' },
  });
  if (updatePolicy) resource.cfnOptions.updatePolicy = typeof updatePolicy === 'function' ? updatePolicy(stack) : updatePolicy;
  return stack;
}

describe('group-update-without-replacement', () => {
  test.each([
    ['a replacing update', { autoScalingReplacingUpdate: { willReplace: true } }],
    ['a rolling update', { autoScalingRollingUpdate: { maxBatchSize: 1 } }],
    ['an instance refresh', { autoScalingInstanceRefresh: { preferences: {} } }],
  ])('compliant: %s', (_, policy) => {
    expect(summary(group(policy))).toEqual([]);
  });

  test('non-compliant: no update policy, or one that replaces nothing', () => {
    expect(summary(group())).toEqual(['group-update-without-replacement error /Stack/Group']);
    const findings = findingsOf(group({
      autoScalingReplacingUpdate: { willReplace: false },
      autoScalingScheduledAction: { ignoreUnmodifiedGroupSizeProperties: true },
    }));
    expect(findings.map((f) => f.rule)).toEqual(['group-update-without-replacement']);
    expect(findings[0].message).toMatch(/WillReplace is false/);
  });

  test('unreadable: WillReplace from a parameter gives a warning', () => {
    const stack = group((s: any) => ({ autoScalingReplacingUpdate: { willReplace: new CfnParameter(s, 'Replace', { type: 'String' }).valueAsString as any } }));
    expect(summary(stack)).toEqual(['group-update-without-replacement warning /Stack/Group']);
  });

  test('not applicable: a group without a launch template or configuration (an instance-id group)', () => {
    const stack = checkedStack();
    new autoscaling.CfnAutoScalingGroup(stack, 'Group', { minSize: '1', maxSize: '2', instanceId: 'i-0123456789abcdef0' });
    expect(summary(stack)).toEqual([]);
  });
});
