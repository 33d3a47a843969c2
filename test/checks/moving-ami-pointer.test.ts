import { CfnParameter, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import { checkedStack, findingsOf, summary } from './fixtures';

function template(machineImage: (stack: any) => ec2.IMachineImage) {
  const stack = checkedStack();
  new ec2.LaunchTemplate(stack, 'Template', { machineImage: machineImage(stack), instanceType: new ec2.InstanceType('t3.micro') });
  return stack;
}

describe('moving-ami-pointer', () => {
  test('compliant: an AMI id, a parameter of type AWS::EC2::Image::Id, a lookup cached in context', () => {
    expect(summary(template(() => ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-0123456789abcdef0' })))).toEqual([]);
    expect(summary(template((s) => ec2.MachineImage.genericLinux({ 'us-east-1': new CfnParameter(s, 'Ami', { type: 'AWS::EC2::Image::Id' }).valueAsString })))).toEqual([]);
    expect(summary(template(() => ec2.MachineImage.fromSsmParameter('/golden/web', { cachedInContext: true })))).toEqual([]);
  });

  test('non-compliant: the latest Amazon Linux, resolved from SSM at every deploy', () => {
    const findings = findingsOf(template(() => ec2.MachineImage.latestAmazonLinux2023()));
    expect(findings.map((f) => `${f.rule} ${f.level} ${f.path}`)).toEqual(['moving-ami-pointer error /Stack/Template/Resource']);
    expect(findings[0].message).toMatch(/AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>, which CloudFormation resolves from SSM at every deploy/);
  });

  test('non-compliant: an SSM parameter resolved at launch, or a dynamic reference', () => {
    const atLaunch = findingsOf(template(() => ec2.MachineImage.resolveSsmParameterAtLaunch('/golden/web')));
    expect(atLaunch.map((f) => f.rule)).toEqual(['moving-ami-pointer']);
    expect(atLaunch[0].message).toMatch(/resolved at every instance launch \('resolve:ssm:\/golden\/web'\)/);
    const stack = checkedStack();
    new ec2.CfnInstance(stack, 'Instance', { imageId: '{{resolve:ssm:/golden/web}}', instanceType: 't3.micro' });
    expect(summary(stack)).toEqual(['moving-ami-pointer error /Stack/Instance']);
  });

  test('non-compliant: an Image Builder recipe on the newest version of an image', () => {
    const stack = checkedStack();
    new imagebuilder.CfnImageRecipe(stack, 'Recipe', {
      name: 'web',
      version: '1.0.0',
      components: [],
      parentImage: 'arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x',
    });
    expect(summary(stack)).toEqual(['moving-ami-pointer error /Stack/Recipe']);
  });

  test('unreadable: a String parameter or a condition gives a warning', () => {
    expect(summary(template((s) => ec2.MachineImage.genericLinux({ 'us-east-1': new CfnParameter(s, 'Ami', { type: 'String' }).valueAsString }))))
      .toEqual(['moving-ami-pointer warning /Stack/Template/Resource']);
    const stack = checkedStack();
    new ec2.CfnInstance(stack, 'Instance', { imageId: Fn.conditionIf('Blue', 'ami-0123456789abcdef0', 'ami-0fedcba9876543210').toString(), instanceType: 't3.micro' });
    expect(summary(stack)).toEqual(['moving-ami-pointer warning /Stack/Instance']);
  });
});
