/**
 * Rule `group-update-without-replacement`: an Auto Scaling group whose update policy does not replace
 * its instances when its launch template changes.
 */
import { CfnResource } from 'aws-cdk-lib';
import { isIntrinsic, nonCompliant, properties, Rule, unreadable, updatePolicy, Verdict } from './rule';

const WHAT_TO_DO = 'Give the group an update policy that replaces instances: ReplacementStrategy.replaceGroup(), .rolling() or .instanceRefresh() of ImmutableAutoScalingGroup, or autoscaling.UpdatePolicy.replacingUpdate(), .rollingUpdate() or .instanceRefresh().';

export const GROUP_UPDATE_WITHOUT_REPLACEMENT: Rule = {
  id: 'group-update-without-replacement',
  protects: 'A new launch template (a new AMI, new user data) replaces the running instances: without an update policy that replaces them, only instances launched later pick it up, and the fleet runs two versions at once.',
  check(resource: CfnResource): Verdict[] {
    if (resource.cfnResourceType !== 'AWS::AutoScaling::AutoScalingGroup') return [];
    const props = properties(resource);
    if (props.LaunchTemplate === undefined && props.MixedInstancesPolicy === undefined && props.LaunchConfigurationName === undefined) return [];
    const policy = updatePolicy(resource);
    if (policy === undefined) {
      return [nonCompliant(`The group has no update policy: a change of its launch template reaches only instances launched afterwards. ${WHAT_TO_DO}`)];
    }
    if (isIntrinsic(policy)) return [unreadable(`The group's update policy is a token, unreadable at synth time. ${WHAT_TO_DO}`)];
    if (policy.AutoScalingRollingUpdate !== undefined || policy.AutoScalingInstanceRefresh !== undefined) return [];
    const willReplace = policy.AutoScalingReplacingUpdate?.WillReplace;
    if (willReplace === true || willReplace === 'true') return [];
    if (isIntrinsic(willReplace)) return [unreadable(`The group's WillReplace is a token, unreadable at synth time. ${WHAT_TO_DO}`)];
    return [nonCompliant(`The group's update policy replaces no instances when its launch template changes${willReplace === false || willReplace === 'false' ? ' (WillReplace is false)' : ''}. ${WHAT_TO_DO}`)];
  },
};
