import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AMI_A, fixture, group, INSTANCE_TYPE, withAlb } from './fixtures';
import { AmiArtifact } from '../../../src/artifacts/ami/artifact';
import {
  ImmutableAutoScalingGroup,
  ImmutableAutoScalingGroupProps,
  InstanceHealthCheck,
  ReplacementStrategy,
} from '../../../src/deployments/autoscaling';
import { describeFindings, newTestApp, validate } from '../../kit';

function userDataOf(stack: Stack): string {
  const lt = Object.values(Template.fromStack(stack).findResources('AWS::EC2::LaunchTemplate'))[0] as any;
  const parts = lt.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'][1] as unknown[];
  return parts.map(p => (typeof p === 'string' ? p : `<${JSON.stringify(p)}>`)).join('');
}

describe('ImmutableAutoScalingGroup', () => {
  describe('valid and clean', () => {
    test.each([
      ['replaceGroup (default)', undefined],
      ['rolling', ReplacementStrategy.rolling()],
      ['instanceRefresh', ReplacementStrategy.instanceRefresh({ bakeTime: Duration.minutes(10), checkpoints: [50, 100] })],
    ])('%s, behind an ALB', (_name, replacement) => {
      // GIVEN
      const { stack } = withAlb(replacement ? { replacement } : {});

      // WHEN
      const { findings } = validate(stack);

      // THEN: only the test's own load balancer (no access logs: no bucket in this test) may be flagged
      expect(describeFindings(findings.filter(f => !f.path.startsWith('Stack/Alb')))).toEqual([]);
    });

    test('in an environment-agnostic stack', () => {
      // GIVEN
      const app = newTestApp();
      const stack = new Stack(app, 'Agnostic');
      const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
      vpc.addFlowLog('FlowLog');
      new ImmutableAutoScalingGroup(stack, 'Fleet', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });

      // THEN
      expect(describeFindings(validate(stack).findings)).toEqual([]);
    });

    test('alone, with every optional prop', () => {
      // GIVEN
      const { stack, vpc } = fixture();
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      const topic = new sns.Topic(stack, 'Topic', { enforceSSL: true, masterKey: key });
      new ImmutableAutoScalingGroup(stack, 'Fleet', {
        vpc,
        artifact: AmiArtifact.fromAmiId(AMI_A),
        instanceType: INSTANCE_TYPE,
        rootVolumeEncryptionKey: key,
        rootVolumeSize: 30,
        notificationTopic: topic,
        userData: ec2.UserData.forLinux(),
      });

      // WHEN
      const { findings } = validate(stack);

      // THEN
      expect(describeFindings(findings)).toEqual([]);
    });
  });

  describe('launch template', () => {
    test('comes from the artifact, requires IMDSv2 and encrypts the root volume', () => {
      // GIVEN
      const { stack } = group();

      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({
          ImageId: AMI_A,
          InstanceType: 't3.small',
          MetadataOptions: { HttpTokens: 'required' },
          BlockDeviceMappings: [{
            DeviceName: '/dev/xvda',
            Ebs: { Encrypted: true, DeleteOnTermination: true, VolumeType: 'gp3' },
          }],
        }),
      });
    });

    test('encrypts with a customer managed key when given, on the root device of the OS', () => {
      // GIVEN
      const { stack, vpc } = fixture();
      const key = new kms.Key(stack, 'Key');

      // WHEN
      new ImmutableAutoScalingGroup(stack, 'Fleet', {
        vpc,
        artifact: AmiArtifact.fromAmiId(AMI_A, { osType: ec2.OperatingSystemType.WINDOWS }),
        instanceType: INSTANCE_TYPE,
        rootVolumeEncryptionKey: key,
        rootVolumeSize: 50,
      });

      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({
          BlockDeviceMappings: [{
            DeviceName: '/dev/sda1',
            Ebs: Match.objectLike({ Encrypted: true, VolumeSize: 50, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } }),
          }],
        }),
      });
    });

    test('the root device comes from the artifact: an Ubuntu bake maps /dev/sda1 without repeating it', () => {
      // GIVEN an AMI that says its root device is /dev/sda1 (Ubuntu's), as an AmiBake of an Ubuntu base does
      const { stack, vpc } = fixture();
      // WHEN
      new ImmutableAutoScalingGroup(stack, 'Fleet', {
        vpc,
        artifact: AmiArtifact.fromAmiId(AMI_A, { rootDeviceName: '/dev/sda1' }),
        instanceType: INSTANCE_TYPE,
      });
      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({ BlockDeviceMappings: [Match.objectLike({ DeviceName: '/dev/sda1' })] }),
      });
    });

    test('the group is pinned to the exact version number the template created, never $Latest or $Default', () => {
      // GIVEN
      const { stack } = group();

      // WHEN
      const template = Template.fromStack(stack);
      const [[ltId, lt]] = Object.entries<any>(template.findResources('AWS::EC2::LaunchTemplate'));

      // THEN (by name, for cdk-nag: nag-launch-template.test.ts)
      template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        LaunchTemplate: { LaunchTemplateName: lt.Properties.LaunchTemplateName, Version: { 'Fn::GetAtt': [ltId, 'LatestVersionNumber'] } },
      });
      expect(JSON.stringify(template.toJSON())).not.toMatch(/\$Latest|\$Default|DefaultVersionNumber/);
    });
  });

  describe('instances report their own health', () => {
    test('user data runs the artifact\'s commands, then the extra ones, then the health check and the report', () => {
      // GIVEN
      const extra = ec2.UserData.forLinux();
      extra.addCommands('systemctl start my-app');

      // WHEN
      const { stack, fleet } = group({
        artifact: AmiArtifact.fromAmiId(AMI_A, { userData: (() => { const u = ec2.UserData.forLinux(); u.addCommands('echo from-the-bake'); return u; })() }),
        userData: extra,
      });
      extra.addCommands('echo added-later');

      // THEN
      const script = userDataOf(stack);
      expect(script.startsWith('#!/bin/bash\necho from-the-bake\nsystemctl start my-app\necho added-later\n')).toBe(true);
      expect(script).toContain("curl --silent --show-error --fail --max-time 5 --output /dev/null 'http://127.0.0.1:8080/health'");
      expect(script).toContain("CID_RESOURCE='FleetASG9541CF7F'");
      expect(script).toContain('CID_STACK=\'<{"Ref":"AWS::StackName"}>\'');
      expect(script).toContain('cid_deadline=$(( $(date +%s) + 600 ))');
      expect(fleet.healthCheck.description).toEqual('HTTP GET http://127.0.0.1:8080/health');
      expect(script.match(/^#!/gm)).toHaveLength(1);
    });

    test('the logical id in the user data is the group\'s', () => {
      const { stack } = group();
      const [asgId] = Object.keys(Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup'));
      expect(userDataOf(stack)).toContain(`CID_RESOURCE='${asgId}'`);
    });

    test('tcp and command checks', () => {
      expect(userDataOf(group({ healthCheck: InstanceHealthCheck.tcp(5432, { timeout: Duration.minutes(3) }) }).stack))
        .toMatch(/\+ 180 \)\)[\s\S]*timeout 5 bash -c 'exec 3<>\/dev\/tcp\/127.0.0.1\/5432'/);
      expect(userDataOf(group({ healthCheck: InstanceHealthCheck.command('systemctl is-active --quiet my-app') }).stack))
        .toContain('( systemctl is-active --quiet my-app ) >/dev/null 2>&1');
    });

    test('Windows instances run the check in PowerShell and report with the AWS Tools for PowerShell', () => {
      // GIVEN
      const extra = ec2.UserData.forWindows();
      extra.addCommands('Start-Service MyApp');

      // WHEN
      const { stack } = group({
        artifact: AmiArtifact.fromAmiId(AMI_A, { osType: ec2.OperatingSystemType.WINDOWS }),
        userData: extra,
      });

      // THEN
      const script = userDataOf(stack);
      expect(script.startsWith('<powershell>\nStart-Service MyApp\n')).toBe(true);
      expect(script.endsWith('</powershell>')).toBe(true);
      expect(script).toContain("$q = [System.Net.WebRequest]::Create('http://127.0.0.1:8080/health'); $q.AllowAutoRedirect = $false;");
      expect(script).toContain('Send-CFNResourceSignal');
      expect(script).toContain('Set-ASInstanceHealth');
    });

    test('by default the stack\'s groups share one role and profile that may only signal this stack and mark its groups\' instances unhealthy, before any group exists', () => {
      // GIVEN
      const { stack, vpc } = fixture();

      // WHEN
      new ImmutableAutoScalingGroup(stack, 'Web', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });
      new ImmutableAutoScalingGroup(stack, 'Worker', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });

      // THEN
      const template = Template.fromStack(stack);
      const roles = template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] }) } });
      expect(Object.keys(roles)).toEqual([expect.stringMatching(/^cdkimmutabledeploysFleetsInstanceRole/)]);
      expect((Object.values(roles)[0] as any).Properties.ManagedPolicyArns).toBeUndefined();
      const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => !id.startsWith('Vpc'));
      expect(policies).toHaveLength(1);
      const [policyId, policy] = policies[0] as [string, any];
      expect(policy.Properties.Roles).toEqual([{ Ref: Object.keys(roles)[0] }]);
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        { Action: 'cloudformation:SignalResource', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
        {
          Action: 'autoscaling:SetInstanceHealth',
          Effect: 'Allow',
          // CloudFormation names a group "<stack name>-<logical id>-<suffix>" (its Name type).
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':autoscaling:eu-west-1:111111111111:autoScalingGroup:*:autoScalingGroupName/', { Ref: 'AWS::StackName' }, '-*']] },
        },
      ]);
      const [profileId] = Object.keys(template.findResources('AWS::IAM::InstanceProfile'));
      expect(Object.keys(template.findResources('AWS::IAM::InstanceProfile'))).toHaveLength(1);
      template.resourcePropertiesCountIs('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({ IamInstanceProfile: { Arn: { 'Fn::GetAtt': [profileId, 'Arn'] } } }),
      }, 2);
      template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 2);
      for (const asg of Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup'))) {
        expect((asg as any).DependsOn).toEqual(expect.arrayContaining([policyId]));
      }
    });

    test('reading group.role gives that group a role and profile of its own, with the same two permissions, so that grants reach that fleet only', () => {
      // GIVEN
      const { stack, vpc } = fixture();
      const web = new ImmutableAutoScalingGroup(stack, 'Web', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });
      new ImmutableAutoScalingGroup(stack, 'Worker', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });

      // WHEN
      web.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::web-assets/*'] }));
      iam.Grant.addToPrincipal({ grantee: web, actions: ['sqs:SendMessage'], resourceArns: ['arn:aws:sqs:eu-west-1:111111111111:web'] });

      // THEN
      const template = Template.fromStack(stack);
      const ownRoleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('WebInstanceRole'))!;
      expect(ownRoleId).toBeDefined();
      const ownProfileId = Object.entries(template.findResources('AWS::IAM::InstanceProfile')).find(([, p]: any) => p.Properties.Roles[0].Ref === ownRoleId)![0];
      const launchTemplates = template.findResources('AWS::EC2::LaunchTemplate');
      const profileOf = (prefix: string) => (Object.entries(launchTemplates).find(([id]) => id.startsWith(prefix))![1] as any).Properties.LaunchTemplateData.IamInstanceProfile.Arn['Fn::GetAtt'][0];
      expect(profileOf('Web')).toBe(ownProfileId);
      expect(profileOf('Worker')).toMatch(/^cdkimmutabledeploysFleetsInstanceProfile/);
      // The reporting policy covers both roles; the grants are on the own role only.
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: Match.objectLike({ Statement: Match.arrayWith([Match.objectLike({ Action: 'cloudformation:SignalResource' })]) }),
        Roles: Match.arrayWith([{ Ref: ownRoleId }]),
      });
      const grants = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => JSON.stringify(p).includes('s3:GetObject'));
      expect(grants).toHaveLength(1);
      expect((grants[0] as any).Properties.Roles).toEqual([{ Ref: ownRoleId }]);
      expect(JSON.stringify(grants[0])).toContain('sqs:SendMessage');
    });

    test('a given role gets the same two permissions', () => {
      // GIVEN
      const { stack, vpc } = fixture();
      const role = iam.Role.fromRoleName(stack, 'Existing', 'my-instance-role');

      // WHEN
      const fleet = new ImmutableAutoScalingGroup(stack, 'Fleet', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE, role });

      // THEN
      expect(fleet.role).toBe(role);
      Template.fromStack(stack).resourcePropertiesCountIs('AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] }),
      }, 0);
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: Match.objectLike({ Statement: Match.arrayWith([Match.objectLike({ Action: 'autoscaling:SetInstanceHealth' })]) }),
        Roles: ['my-instance-role'],
      });
    });
  });

  describe('network', () => {
    test('no inbound rule by default', () => {
      const { stack } = group();
      const sg = Object.values(Template.fromStack(stack).findResources('AWS::EC2::SecurityGroup'))[0] as any;
      expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
      Template.fromStack(stack).resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    });

    /** The security group ids a launch template of `fleet` renders. */
    function groupsOf(stack: Stack, fleet: ImmutableAutoScalingGroup): unknown {
      const lt = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fleet.launchTemplate.node.defaultChild as ec2.CfnLaunchTemplate)];
      return lt.Properties.LaunchTemplateData.SecurityGroupIds;
    }
    const SHARED_GROUP = [{ 'Fn::GetAtt': [expect.stringMatching(/^cdkimmutabledeploysFleetsSecurityGroup/), 'GroupId'] }];

    test('groups that no rule names share one egress-only security group per VPC', () => {
      // GIVEN
      const { stack, vpc, fleet } = group();
      const second = new ImmutableAutoScalingGroup(stack, 'Second', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });
      const template = Template.fromStack(stack);

      // THEN
      template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })],
        SecurityGroupIngress: Match.absent(),
      });
      expect(groupsOf(stack, fleet)).toEqual(SHARED_GROUP);
      expect(groupsOf(stack, second)).toEqual(SHARED_GROUP);
    });

    test.each([
      ['the group\'s connections', (f: ImmutableAutoScalingGroup) => f.connections],
      ['the Auto Scaling group\'s connections', (f: ImmutableAutoScalingGroup) => f.autoScalingGroup.connections],
      ['the launch template\'s connections', (f: ImmutableAutoScalingGroup) => f.launchTemplate.connections],
    ])('a rule added through %s opens that fleet only, on a security group of its own', (_name, connectionsOf) => {
      // GIVEN
      const { stack, vpc, fleet } = group();
      const other = new ImmutableAutoScalingGroup(stack, 'Other', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });

      // WHEN
      connectionsOf(fleet).allowFrom(ec2.Peer.ipv4('10.0.0.0/16'), ec2.Port.tcp(8080));
      const template = Template.fromStack(stack);

      // THEN: the rule is on the fleet's own group; the other fleet keeps the shared one, which has no rule
      const own = [{ 'Fn::GetAtt': [expect.stringMatching(/^FleetSecurityGroup/), 'GroupId'] }];
      expect(groupsOf(stack, fleet)).toEqual(own);
      expect(groupsOf(stack, other)).toEqual(SHARED_GROUP);
      template.resourceCountIs('AWS::EC2::SecurityGroup', 2);
      const withIngress = Object.entries(template.findResources('AWS::EC2::SecurityGroup'))
        .filter(([, r]: [string, any]) => r.Properties.SecurityGroupIngress !== undefined);
      expect(withIngress.map(([id, r]: [string, any]) => [id, r.Properties.SecurityGroupIngress])).toEqual([
        [expect.stringMatching(/^FleetSecurityGroup/), [expect.objectContaining({ CidrIp: '10.0.0.0/16', FromPort: 8080, ToPort: 8080 })]],
      ]);
    });

    test('a fleet named as the peer of a rule gets its own security group, never the shared one', () => {
      // GIVEN
      const { stack, vpc, fleet } = group();
      const client = new ImmutableAutoScalingGroup(stack, 'Client', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });
      const bystander = new ImmutableAutoScalingGroup(stack, 'Bystander', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });

      // WHEN: the fleet lets the client's instances in, naming the client through its Auto Scaling group
      fleet.connections.allowFrom(client.autoScalingGroup, ec2.Port.tcp(8080));
      const template = Template.fromStack(stack);

      // THEN
      expect(groupsOf(stack, client)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^ClientSecurityGroup/), 'GroupId'] }]);
      expect(groupsOf(stack, bystander)).toEqual(SHARED_GROUP);
      const sources = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties.SourceSecurityGroupId);
      expect(sources).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^ClientSecurityGroup/), 'GroupId'] }]);
      expect(JSON.stringify(template.toJSON())).not.toMatch(/"(GroupId|SourceSecurityGroupId|DestinationSecurityGroupId)":\{"Fn::GetAtt":\["cdkimmutabledeploysFleetsSecurityGroup/);
    });

    test('no shared security group when every fleet has its own, or was given one', () => {
      // GIVEN
      const { stack, vpc, fleet } = group();
      const given = new ec2.SecurityGroup(stack, 'Given', { vpc });
      new ImmutableAutoScalingGroup(stack, 'WithGiven', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE, securityGroup: given });

      // WHEN
      fleet.connections.allowFrom(ec2.Peer.ipv4('10.0.0.0/16'), ec2.Port.tcp(8080));

      // THEN
      const ids = Object.keys(Template.fromStack(stack).findResources('AWS::EC2::SecurityGroup'));
      expect(ids).toEqual([expect.stringMatching(/^FleetSecurityGroup/), expect.stringMatching(/^Given/)]);
    });

    test('one shared security group per VPC', () => {
      // GIVEN
      const { stack, vpc } = group();
      const otherVpc = new ec2.Vpc(stack, 'OtherVpc', { maxAzs: 2, natGateways: 1 });
      const elsewhere = new ImmutableAutoScalingGroup(stack, 'Elsewhere', { vpc: otherVpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });
      new ImmutableAutoScalingGroup(stack, 'Same', { vpc, artifact: AmiArtifact.fromAmiId(AMI_A), instanceType: INSTANCE_TYPE });
      const template = Template.fromStack(stack);

      // THEN
      template.resourceCountIs('AWS::EC2::SecurityGroup', 2);
      template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: { Ref: Match.stringLikeRegexp('^OtherVpc') } });
      expect(groupsOf(stack, elsewhere)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^cdkimmutabledeploysFleetsSecurityGroup2/), 'GroupId'] }]);
    });

    test('behind an ALB: only the load balancer may reach the instances, on the target port', () => {
      // GIVEN
      const { stack } = withAlb();
      const template = Template.fromStack(stack);

      // THEN
      const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties);
      expect(ingress).toEqual([expect.objectContaining({
        FromPort: 8080,
        ToPort: 8080,
        GroupId: { 'Fn::GetAtt': [expect.stringMatching(/^FleetSecurityGroup/), 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^AlbSecurityGroup/), 'GroupId'] },
      })]);
      expect(JSON.stringify(template.toJSON())).not.toMatch(/"CidrIp":"0\.0\.0\.0\/0","Description":"[^"]*","FromPort":8080/);
    });

    test('attachToApplicationTargetGroup: ELB health checks after a grace period', () => {
      // GIVEN
      const { stack } = withAlb();

      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        HealthCheckType: 'ELB',
        HealthCheckGracePeriod: 600,
        TargetGroupARNs: [{ Ref: Match.stringLikeRegexp('^Targets') }],
      });
    });

    test('the grace period can be set', () => {
      const g = group({ healthCheck: InstanceHealthCheck.none() });
      const tg = new elbv2.ApplicationTargetGroup(g.stack, 'Targets', { vpc: g.vpc, port: 80 });
      g.fleet.attachToApplicationTargetGroup(tg, { gracePeriod: Duration.seconds(90) });
      Template.fromStack(g.stack).hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { HealthCheckGracePeriod: 90 });
    });
  });

  describe('bad input fails at synth with the prop, the value and what to do', () => {
    test.each<[string, Partial<ImmutableAutoScalingGroupProps>, RegExp]>([
      ['min above max', { minCapacity: 5, maxCapacity: 3 }, /minCapacity \(5\) should be <= maxCapacity \(3\)\. Lower minCapacity or raise maxCapacity/],
      ['desired below min', { minCapacity: 2, maxCapacity: 4, desiredCapacity: 1 }, /desiredCapacity \(1\) should be >= minCapacity \(2\)/],
      ['desired above max', { minCapacity: 2, maxCapacity: 4, desiredCapacity: 6 }, /desiredCapacity \(6\) should be <= maxCapacity \(4\)/],
      ['negative capacity', { minCapacity: -1 }, /minCapacity \(-1\) must be a whole number of 0 or more/],
      ['Windows artifact with Linux user data', { artifact: AmiArtifact.fromAmiId(AMI_A, { osType: ec2.OperatingSystemType.WINDOWS }), userData: ec2.UserData.forLinux() },
        /Windows AMI but userData is a Linux shell script.*Use ec2.UserData.forWindows\(\)/],
      ['Linux artifact with Windows user data', { userData: ec2.UserData.forWindows() }, /Linux AMI but userData is Windows PowerShell.*Use ec2.UserData.forLinux\(\)/],
      ['Linux artifact with custom user data', { userData: ec2.UserData.custom('hello') }, /Linux AMI but userData is not a shell script/],
    ])('%s', (_name, overrides, message) => {
      expect(() => group(overrides)).toThrow(message);
    });

    test('errors start with the construct path and type', () => {
      expect(() => group({ minCapacity: 5, maxCapacity: 3 })).toThrow(/^Stack\/Fleet \[ImmutableAutoScalingGroup\]: minCapacity \(5\)/);
    });

    test('tokens skip validation', () => {
      // GIVEN: values only known at deploy time
      const { stack, vpc } = fixture();
      const min = new CfnParameter(stack, 'Min', { type: 'Number' }).valueAsNumber;
      const max = new CfnParameter(stack, 'Max', { type: 'Number' }).valueAsNumber;
      const pct = new CfnParameter(stack, 'Pct', { type: 'Number' }).valueAsNumber;
      const port = new CfnParameter(stack, 'Port', { type: 'Number' }).valueAsNumber;

      // WHEN
      const build = () => {
        new ImmutableAutoScalingGroup(stack, 'Refresh', {
          vpc,
          artifact: AmiArtifact.fromAmiId(AMI_A),
          instanceType: INSTANCE_TYPE,
          minCapacity: min,
          maxCapacity: max,
          desiredCapacity: max,
          healthCheck: InstanceHealthCheck.tcp(port),
          replacement: ReplacementStrategy.instanceRefresh({ minHealthyPercentage: pct, maxHealthyPercentage: pct, bakeTime: Duration.seconds(pct) }),
        });
        new ImmutableAutoScalingGroup(stack, 'Rolling', {
          vpc,
          artifact: AmiArtifact.fromAmiId(AMI_A),
          instanceType: INSTANCE_TYPE,
          minCapacity: min,
          maxCapacity: max,
          replacement: ReplacementStrategy.rolling({ minInstancesInService: max, maxBatchSize: min }),
        });
        new ImmutableAutoScalingGroup(stack, 'Replace', {
          vpc,
          artifact: AmiArtifact.fromAmiId(AMI_A),
          instanceType: INSTANCE_TYPE,
          minCapacity: min,
          maxCapacity: max,
          replacement: ReplacementStrategy.replaceGroup({ signalCount: max, minSuccessPercentage: pct }),
        });
      };

      // THEN
      expect(build).not.toThrow();
      Template.fromStack(stack).hasResource('AWS::AutoScaling::AutoScalingGroup', {
        CreationPolicy: { ResourceSignal: { Count: { Ref: 'Max' }, Timeout: 'PT15M' }, AutoScalingCreationPolicy: { MinSuccessfulInstancesPercent: { Ref: 'Pct' } } },
      });
    });

    test('a health check that outlasts the signal timeout is a warning', () => {
      const { stack } = group({
        healthCheck: InstanceHealthCheck.http({ port: 80, timeout: Duration.minutes(20) }),
      });
      Annotations.fromStack(stack).hasWarning('/Stack/Fleet', Match.stringLikeRegexp('health check\'s timeout \\(20 minutes\\) is not shorter than the time CloudFormation waits for signals \\(15 minutes\\)'));
    });
  });
});
