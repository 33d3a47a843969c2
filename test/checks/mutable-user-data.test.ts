import { CfnParameter, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { checkedStack, findingsOf, summary } from './fixtures';

function instanceWith(...commands: string[]) {
  const stack = checkedStack();
  const userData = ec2.UserData.forLinux();
  userData.addCommands(...commands);
  new ec2.LaunchTemplate(stack, 'Template', {
    machineImage: ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-0123456789abcdef0' }),
    userData,
  });
  return stack;
}

describe('mutable-user-data', () => {
  test('compliant: user data that starts what the image holds, with deploy-time values', () => {
    const stack = instanceWith(
      'systemctl enable --now nginx',
      `echo ${Fn.ref('AWS::StackName')} > /etc/stack-name`,
      '# yum update -y is done by the bake',
      'curl -sf http://localhost/health',
      'apt-get update',
    );
    expect(summary(stack)).toEqual([]);
  });

  test.each([
    ['yum update -y', /installs or upgrades packages/],
    ['dnf -y install nginx', /installs or upgrades packages/],
    ['DEBIAN_FRONTEND=noninteractive apt-get -y upgrade', /installs or upgrades packages/],
    ['pip3 install -r requirements.txt', /installs language packages/],
    ['curl -fsSL https://get.docker.com | sudo sh', /runs a script downloaded at boot/],
    ['bash <(curl -s https://example.com/setup.sh)', /runs a script downloaded at boot/],
    ['cd /srv/app && git pull origin main', /fetches code from a repository/],
    ['ansible-pull -U https://example.com/config.git', /configuration management/],
    ['puppet agent --onetime', /configuration management/],
  ])('non-compliant: %s', (command, message) => {
    const findings = findingsOf(instanceWith('set -e', command));
    expect(findings.map((f) => `${f.rule} ${f.level} ${f.path}`)).toEqual(['mutable-user-data error /Stack/Template/Resource']);
    expect(findings[0].message).toMatch(message);
    expect(findings[0].message).toMatch(/Bake the change into the AMI/);
  });

  test('non-compliant: in literal base64 user data of an instance', () => {
    const stack = checkedStack();
    new ec2.CfnInstance(stack, 'Instance', {
      imageId: 'ami-0123456789abcdef0',
      instanceType: 't3.micro',
      userData: Buffer.from('#!/bin/bash\nyum install -y httpd\n').toString('base64'),
    });
    expect(summary(stack)).toEqual(['mutable-user-data error /Stack/Instance']);
  });

  test('unreadable: user data that is a parameter gives a warning', () => {
    const stack = checkedStack();
    new ec2.CfnInstance(stack, 'Instance', {
      imageId: 'ami-0123456789abcdef0',
      instanceType: 't3.micro',
      userData: Fn.base64(new CfnParameter(stack, 'Script', { type: 'String' }).valueAsString),
    });
    expect(summary(stack)).toEqual(['mutable-user-data warning /Stack/Instance']);
  });
});
