/**
 * cdk-nag 3 judges an Auto Scaling group by its launch template (AwsSolutions-EC26: encrypted
 * volumes; NIST/HIPAA EC2IMDSv2Enabled: IMDSv2), which it finds among the stack's launch templates by
 * name, or, for a group that names none, as the first launch template of the stack that has no name
 * either. The group names its own template, so another template of the app decides nothing.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { HIPAASecurityChecks } from 'cdk-nag';
import { AMI_A, INSTANCE_TYPE } from './fixtures';
import { AmiArtifact } from '../../../src/artifacts/ami/artifact';
import { ImmutableAutoScalingGroup } from '../../../src/deployments/autoscaling';
import { describeFindings, newSecurityBaselineApp, validate } from '../../kit';

const ENV = { account: '111111111111', region: 'eu-west-1' };

function fleetIn(stack: Stack, id = 'Fleet'): ImmutableAutoScalingGroup {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, `${id}Vpc`, { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-0a', 'subnet-0b'] });
  return new ImmutableAutoScalingGroup(stack, id, { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });
}

describe('cdk-nag finds the group\'s own launch template', () => {
  test('an unnamed launch template of the app, before the group in the stack, raises no EC26 or IMDSv2 finding on the group (default replacement strategy)', () => {
    // GIVEN an app that runs AwsSolutions, NIST 800-53 R5 and HIPAA, and a stack whose first launch template is the app's own, without encryption or IMDSv2
    const app = newSecurityBaselineApp();
    Validations.of(app).addPlugins(new HIPAASecurityChecks(app));
    const stack = new Stack(app, 'Stack', { env: ENV });
    new ec2.LaunchTemplate(stack, 'AppTemplate', { instanceType: INSTANCE_TYPE });

    // WHEN a group is added after it
    const fleet = fleetIn(stack);
    const { findings } = validate(stack);

    // THEN the group is judged by its own template, which encrypts its volume and requires IMDSv2
    const onGroup = findings.filter((f) => f.path.startsWith(`${fleet.node.path}/`));
    expect(describeFindings(onGroup)).toEqual([]);
    // AND the app's own template is still judged (the Control Tower IMDSv2 control reads the template itself)
    expect(findings.filter((f) => f.path.startsWith('Stack/AppTemplate/')).map((f) => f.rule)).toContain('ec2_launch_template_imdsv2_check');
  });

  test('the group names its launch template by name and pins its version; the name is unique per stack name, within EC2\'s 128 characters and alphabet', () => {
    // GIVEN two apps with the same construct ids whose stacks have different names, one of the longest a stack may have
    const names = ['web-dev', 'web-prod', 'x'.repeat(128)].map((stackName) => {
      const stack = new Stack(new App(), 'Web', { env: ENV, stackName });
      fleetIn(stack, 'F'.repeat(60));

      // WHEN
      const template = Template.fromStack(stack);
      const [ltId, lt] = Object.entries<any>(template.findResources('AWS::EC2::LaunchTemplate'))[0];
      const [group] = Object.values<any>(template.findResources('AWS::AutoScaling::AutoScalingGroup'));

      // THEN the group names the template (CloudFormation takes its id or its name, not both) and its exact version
      expect(group.Properties.LaunchTemplate).toEqual({
        LaunchTemplateName: lt.Properties.LaunchTemplateName,
        Version: { 'Fn::GetAtt': [ltId, 'LatestVersionNumber'] },
      });
      return lt.Properties.LaunchTemplateName as string;
    });
    expect(new Set(names).size).toBe(3);
    for (const name of names) {
      expect(name).toMatch(/^[a-zA-Z0-9().\-/_]{3,128}$/);
    }
  });
});
