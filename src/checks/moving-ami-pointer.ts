/**
 * Rule `moving-ami-pointer`: an instance, launch template or bake takes its AMI from a pointer that
 * moves, resolved at deploy or launch time.
 */
import { CfnParameter, CfnResource, Stack } from 'aws-cdk-lib';
import { flatten, isIntrinsic, nonCompliant, properties, referencedLogicalIds, Rule, RuleContext, unreadable, Verdict } from './rule';

const WHAT_TO_DO = 'Pin the AMI by id: an AmiBake or AmiArtifact.fromAmiId(), BaseImage.fromSsmParameter() (resolved once at synth), '
  + 'or ec2.MachineImage.lookup() / fromSsmParameter(..., { cachedInContext: true }), whose value is kept in cdk.context.json.';

/** Where each resource type keeps its image, in its resolved properties. */
const IMAGE_OF: Record<string, (props: Record<string, any>) => unknown> = {
  'AWS::EC2::LaunchTemplate': (p) => p.LaunchTemplateData?.ImageId,
  'AWS::EC2::Instance': (p) => p.ImageId,
  'AWS::AutoScaling::LaunchConfiguration': (p) => p.ImageId,
  'AWS::ImageBuilder::ImageRecipe': (p) => p.ParentImage,
};

export const MOVING_AMI_POINTER: Rule = {
  id: 'moving-ami-pointer',
  protects: 'Instances start from the AMI the deployment names: an SSM parameter resolved at deploy or launch time (`resolve:ssm:`, `{{resolve:ssm:...}}`, an SSM parameter type, an uncached latest-image lookup) or an Image Builder `x.x.x` version gives a new AMI without a reviewed change, and different AMIs to instances of one fleet.',
  check(resource: CfnResource, context: RuleContext): Verdict[] {
    const imageOf = IMAGE_OF[resource.cfnResourceType];
    if (imageOf === undefined) return [];
    const image = imageOf(properties(resource));
    if (image === undefined) return [];
    const text = flatten(image);
    if (/resolve:ssm/.test(text)) {
      return [nonCompliant(`The AMI is an SSM parameter resolved at ${text.includes('{{resolve:') ? 'every deploy' : 'every instance launch'} ('${printable(text)}'): a new value changes what instances run without a change to the app. ${WHAT_TO_DO}`)];
    }
    if (resource.cfnResourceType === 'AWS::ImageBuilder::ImageRecipe') {
      if (/^ssm:/.test(text)) return [nonCompliant(`The bake's parent image is an SSM parameter that Image Builder resolves at each bake ('${printable(text)}'). ${WHAT_TO_DO}`)];
      if (/\/x\.x\.x$|\/\d+\.x\.x$|\/\d+\.\d+\.x$/.test(text)) return [nonCompliant(`The bake's parent image is the newest of an Image Builder image version ('${printable(text)}'), chosen at each bake. ${WHAT_TO_DO}`)];
    }
    const stack = Stack.of(resource);
    for (const id of referencedLogicalIds(image)) {
      const element = context.resourceByLogicalId(stack, id);
      if (!(element instanceof CfnParameter)) continue;
      const type = element.type;
      if (type.startsWith('AWS::SSM::Parameter::Value<')) {
        return [nonCompliant(`The AMI comes from parameter ${id} of type ${type}, which CloudFormation resolves from SSM at every deploy (ec2.MachineImage.latestAmazonLinux2023() and other latest-image lookups not cached in context do this): a new image published to it replaces the fleet on an unrelated deploy, and stages deployed on different days run different AMIs. ${WHAT_TO_DO}`)];
      }
      if (type !== 'AWS::EC2::Image::Id') {
        return [unreadable(`The AMI comes from parameter ${id} of type ${type}, whose value is only known at deploy time. ${WHAT_TO_DO}`)];
      }
    }
    if (isIntrinsic(image) && (image as any)['Fn::If'] !== undefined) {
      return [unreadable(`The AMI is chosen by a condition (Fn::If), unreadable at synth time. ${WHAT_TO_DO}`)];
    }
    return [];
  },
};

function printable(text: string): string {
  return text.replace(/\u0001/g, '${Token}');
}
