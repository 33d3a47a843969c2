/**
 * Rule `unpinned-launch-template-version`: an Auto Scaling group launches `$Latest` or `$Default`.
 */
import { CfnResource } from 'aws-cdk-lib';
import { isIntrinsic, nonCompliant, properties, Rule, unreadable, Verdict } from './rule';

/** Attributes of `AWS::EC2::LaunchTemplate` that are version numbers, fixed once the template is deployed. */
const VERSION_NUMBER_ATTRIBUTES = ['LatestVersionNumber', 'DefaultVersionNumber'];

const WHAT_TO_DO = 'Reference the exact version number (`launchTemplate.versionNumber`, which CloudFormation resolves to the new version), as ImmutableAutoScalingGroup does.';

export const UNPINNED_LAUNCH_TEMPLATE_VERSION: Rule = {
  id: 'unpinned-launch-template-version',
  protects: 'An Auto Scaling group launches the launch-template version its template names: `$Latest` or `$Default` launch whatever version someone created or promoted last, outside the deployment.',
  check(resource: CfnResource): Verdict[] {
    if (resource.cfnResourceType !== 'AWS::AutoScaling::AutoScalingGroup') return [];
    const props = properties(resource);
    const specifications = [
      props.LaunchTemplate,
      props.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification,
      ...(Array.isArray(props.MixedInstancesPolicy?.LaunchTemplate?.Overrides)
        ? props.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: any) => o?.LaunchTemplateSpecification)
        : []),
    ].filter((s) => s !== undefined);
    const verdicts: Verdict[] = [];
    for (const spec of specifications) {
      const version = isIntrinsic(spec) ? spec : spec.Version;
      if (version === '$Latest' || version === '$Default') {
        verdicts.push(nonCompliant(`The group launches launch-template version '${version}', which moves when anyone creates or promotes a version. ${WHAT_TO_DO}`));
      } else if (isIntrinsic(version) && !isVersionNumberAttribute(version)) {
        verdicts.push(unreadable(`The group's launch-template version is a token that is not a version-number attribute of a launch template; it cannot be read at synth time. ${WHAT_TO_DO}`));
      } else if (version === undefined) {
        verdicts.push(nonCompliant(`The group names no launch-template version. ${WHAT_TO_DO}`));
      }
    }
    return verdicts;
  },
};

function isVersionNumberAttribute(value: any): boolean {
  const getAtt = value['Fn::GetAtt'];
  return Array.isArray(getAtt) && VERSION_NUMBER_ATTRIBUTES.includes(getAtt[1]);
}
