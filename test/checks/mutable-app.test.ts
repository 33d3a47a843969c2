/**
 * A whole app written the way many are, that lets immutability erode in every way the checks know:
 * it trips every rule, and each finding says what to do instead.
 */
import { Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { checkedStack, findingsOf } from './fixtures';
import { ImmutabilityChecks } from '../../src';

/** The app: a web tier on EC2, an API on Fargate, a worker, nightly patching and an AMI pipeline. */
function mutableApp(stack: Stack): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });

  // A web tier on the latest Amazon Linux, set up at boot, in a group that rolls nothing.
  const userData = ec2.UserData.forLinux();
  userData.addCommands(
    'yum update -y',
    'yum install -y httpd git',
    'curl -fsSL https://get.example.com/agent.sh | bash',
    'cd /var/www/html && git pull origin main',
    'systemctl enable --now httpd',
  );
  const launchTemplate = new ec2.LaunchTemplate(stack, 'WebTemplate', {
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    instanceType: new ec2.InstanceType('t3.small'),
    userData,
    requireImdsv2: true,
  });
  const web = new autoscaling.AutoScalingGroup(stack, 'Web', { vpc, launchTemplate, minCapacity: 2 });
  // "Always run the newest template": the console's default for a group made by hand.
  (web.node.defaultChild as autoscaling.CfnAutoScalingGroup).addPropertyOverride('LaunchTemplate.Version', '$Latest');

  // An API service on Fargate, from `latest` of a repository whose tags are mutable.
  const repository = new ecr.Repository(stack, 'ApiRepo');
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  new ecsPatterns.ApplicationLoadBalancedFargateService(stack, 'Api', {
    cluster,
    taskImageOptions: { image: ecs.ContainerImage.fromEcrRepository(repository) },
    circuitBreaker: undefined,
  });

  // A worker from Docker Hub, by a version tag.
  const worker = new ecs.FargateTaskDefinition(stack, 'Worker');
  worker.addContainer('worker', { image: ecs.ContainerImage.fromRegistry('redis:7.2'), memoryLimitMiB: 512 });

  // Nightly patching of the fleet, in place.
  new ssm.CfnAssociation(stack, 'PatchFleet', {
    name: 'AWS-RunPatchBaseline',
    parameters: { Operation: ['Install'] },
    targets: [{ key: 'tag:aws:autoscaling:groupName', values: [web.autoScalingGroupName] }],
    scheduleExpression: 'cron(0 3 ? * * *)',
  });
  const window = new ssm.CfnMaintenanceWindow(stack, 'Nightly', {
    name: 'nightly', schedule: 'cron(0 4 ? * * *)', duration: 2, cutoff: 1, allowUnassociatedTargets: false,
  });
  new ssm.CfnMaintenanceWindowTask(stack, 'NightlyScript', {
    windowId: window.ref,
    taskType: 'RUN_COMMAND',
    taskArn: 'AWS-RunShellScript',
    priority: 1,
    targets: [{ key: 'WindowTargetIds', values: ['target-id'] }],
    maxConcurrency: '10%',
    maxErrors: '1',
  });

  // An AMI pipeline that writes each new AMI into the web tier's launch template.
  new imagebuilder.CfnDistributionConfiguration(stack, 'Distribution', {
    name: 'web',
    distributions: [{
      region: 'us-east-1',
      launchTemplateConfigurations: [{ launchTemplateId: launchTemplate.launchTemplateId, setDefaultVersion: true }],
    }],
  });
}

describe('a mutable app', () => {
  test('trips every rule, each with what to do instead', () => {
    // GIVEN
    const stack = checkedStack();

    // WHEN
    mutableApp(stack);

    // THEN
    const findings = findingsOf(stack);
    const rules = [...new Set(findings.map((f) => f.rule))].sort();
    expect(rules).toEqual([...ImmutabilityChecks.RULE_IDS].sort());
    expect(findings.filter((f) => f.level === 'warning')).toEqual([]);
    for (const f of findings) {
      expect(f.message).toMatch(/\b(Pin|Reference|Give|Bake|Patch|Leave|Turn on|Make)\b/);
      expect(f.message).toContain(`acknowledge({ id: 'cdk-immutable-deploys:${f.rule}', reason })`);
    }
  });
});
