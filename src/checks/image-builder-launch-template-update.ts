/**
 * Rule `image-builder-launch-template-update`: an Image Builder distribution that writes new AMIs
 * into launch templates, outside CloudFormation.
 */
import { CfnResource } from 'aws-cdk-lib';
import { isIntrinsic, list, nonCompliant, properties, Rule, unreadable, Verdict } from './rule';

const WHAT_TO_DO = 'Leave launchTemplateConfigurations out; let the deployment name the new AMI in the launch template (AmiBake with ImmutableAutoScalingGroup), so CloudFormation creates the version and replaces the instances.';

export const IMAGE_BUILDER_LAUNCH_TEMPLATE_UPDATE: Rule = {
  id: 'image-builder-launch-template-update',
  protects: 'Launch templates change through the deployment only: a distribution with launch-template configurations makes Image Builder create launch-template versions (the default one unless told otherwise) whenever a pipeline runs, which CloudFormation does not know and the next stack update undoes.',
  check(resource: CfnResource): Verdict[] {
    if (resource.cfnResourceType !== 'AWS::ImageBuilder::DistributionConfiguration') return [];
    const distributions = list(properties(resource).Distributions);
    if (distributions === undefined) return [unreadable(`The distributions are a token, unreadable at synth time. ${WHAT_TO_DO}`)];
    const verdicts: Verdict[] = [];
    for (const distribution of distributions) {
      const configurations = distribution?.LaunchTemplateConfigurations;
      const region = typeof distribution?.Region === 'string' ? distribution.Region : 'a region';
      if (configurations === undefined) continue;
      if (isIntrinsic(configurations) || isIntrinsic(distribution)) {
        verdicts.push(unreadable(`The launch-template configurations of the distribution to ${region} are a token, unreadable at synth time. ${WHAT_TO_DO}`));
      } else if (Array.isArray(configurations) && configurations.length > 0) {
        verdicts.push(nonCompliant(`The distribution to ${region} updates ${configurations.length} launch template(s) with each new AMI, outside CloudFormation. ${WHAT_TO_DO}`));
      }
    }
    return verdicts;
  },
};
