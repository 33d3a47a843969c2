/**
 * Acknowledgements for the security baseline beyond AwsSolutions: cdk-nag's NIST 800-53 rev. 5 pack
 * and the AWS Control Tower proactive controls of `@cdklabs/cdk-validator-cfnguard`, for the findings
 * on resources this library creates that are its design, not an oversight. Each names its rule and is
 * made on the one resource it covers (aws-cdk-lib scopes an acknowledgement to its construct and its
 * children), with the reason a reviewer reads. `test/security-baseline.test.ts` runs every pack on a
 * composed app and expects no unacknowledged finding.
 *
 * Control Tower findings are acknowledged as `cdk-validator-cfnguard::<rule>`, the id the plugin
 * reports them under; cdk-nag's by their plain id.
 *
 * Internal: never exported from the package.
 */
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';
import { acknowledgeExact } from './nag';

const CONTROL_TOWER = 'cdk-validator-cfnguard';

/** The id of a Control Tower rule's findings, as aws-cdk-lib's report matches acknowledgements. */
export function controlTower(rule: string): string {
  return `${CONTROL_TOWER}::${rule}`;
}

/**
 * NIST IAMNoInlinePolicy on a policy that belongs to exactly one role of the library. `what` says
 * what it grants.
 */
export function acknowledgeInlinePolicy(policy: IConstruct | undefined, what: string): void {
  if (policy === undefined) return;
  acknowledgeExact(policy, {
    id: 'NIST.800.53.R5-IAMNoInlinePolicy',
    reason: `${what} It belongs to exactly one role and lives and dies with it; a customer-managed policy could be attached to other principals, which would widen it. Its statements are scoped to this stack's resources.`,
  });
}

/**
 * A log group the library creates: encryption (NIST and Control Tower) and, when `retention` is
 * the user's choice, the one-year retention control.
 */
export function acknowledgeLogGroup(logGroup: logs.ILogGroup, holds: string): void {
  const encrypted = 'CloudWatch Logs encrypts all log data at rest with keys it manages; a customer-managed KMS key would add a key and its policy per stack for '
    + `${holds}, which hold no secrets (the library never logs response or handle URLs).`;
  acknowledgeExact(logGroup,
    { id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason: encrypted },
    { id: controlTower('cloudwatch_log_group_encrypted_check'), reason: encrypted },
    {
      id: controlTower('cloudwatch_log_group_retention_period_check'),
      reason: `The log group holds ${holds}: a debugging aid, not an audit record (the artifacts and CloudFormation events are the record). Its retention is the app's choice, shorter than a year to limit cost.`,
    },
  );
}

/** The CodeBuild project that builds Docker images: privileged mode, and its role's inline policies. */
export function acknowledgeDockerBuildProject(project: codebuild.Project): void {
  acknowledgeExact(project.node.defaultChild as IConstruct, {
    id: controlTower('codebuild_project_environment_privileged_check'),
    reason: 'Docker builds need the Docker daemon, which CodeBuild runs only in privileged mode. The project runs only this library\'s fixed buildspec, over build contexts of its own stack.',
  });
  acknowledgeInlinePolicy(project.role?.node.tryFindChild('DefaultPolicy'), 'The build project\'s policy: read its build contexts, write its logs, log in to ECR.');
  acknowledgeInlinePolicy(project.node.tryFindChild('PolicyDocument'), "aws-cdk-lib's policy for a CodeBuild project in a VPC: the network interfaces CodeBuild creates for each build.");
}

/**
 * The stack's deploy-time runtime function: no VPC, no dead-letter queue, no reserved concurrency,
 * by design.
 */
export function acknowledgeRuntimeFunction(fn: lambda.Function): void {
  const vpc = 'The runtime calls only AWS APIs and the presigned CloudFormation URLs, and reaches no resource inside a VPC; in a VPC it would need a NAT gateway or an endpoint per service, which the stack may not have.';
  acknowledgeExact(fn.node.defaultChild as IConstruct,
    { id: 'NIST.800.53.R5-LambdaInsideVPC', reason: vpc },
    { id: controlTower('lambda_inside_vpc_check'), reason: vpc },
    {
      id: 'NIST.800.53.R5-LambdaDLQ',
      reason: 'CloudFormation and EventBridge invoke the runtime asynchronously. A dead-letter queue would store CloudFormation requests, whose presigned response URL is a secret, and recover nothing: '
        + 'a request never answered fails the stack operation at its ServiceTimeout, and a lost job event is made up for by the runtime checking on pending jobs by itself.',
    },
    {
      id: 'NIST.800.53.R5-LambdaConcurrency',
      reason: 'Reserved concurrency is taken from the account\'s unreserved pool, which Lambda keeps at 100 at least: on accounts with a low concurrency quota, reserving any fails the deploy. '
        + 'The runtime is invoked a few times per deploy and job; a throttled asynchronous invocation is retried by Lambda.',
    },
  );
  // The role's default policy is created with the first grant, after this: acknowledged on the role,
  // whose only policy it is.
  acknowledgeInlinePolicy(fn.role, 'The runtime\'s policy: a constant set of statements, scoped by this stack\'s name prefixes and tags.');
}

/** The launch template and group of an immutable fleet: monitoring, zones, instance types. */
export function acknowledgeFleet(launchTemplate: ec2.LaunchTemplate, group: autoscaling.AutoScalingGroup): void {
  acknowledgeExact(launchTemplate.node.defaultChild as IConstruct, {
    id: controlTower('ec2_launch_template_monitoring_enabled_check'),
    reason: 'Detailed (1-minute) monitoring is billed per instance and metric; the group\'s rollouts are judged by the instances\' own health checks and load-balancer health, not by EC2 metrics. '
      + 'Turn it on through the exposed launchTemplate when scaling needs 1-minute metrics.',
  });
  acknowledgeExact(group.node.defaultChild as IConstruct,
    {
      id: controlTower('autoscaling_multiple_az_check'),
      reason: 'The group is placed by subnets (VPCZoneIdentifier, from vpcSubnets), which set its Availability Zones: two or more when the VPC has them. CloudFormation takes AvailabilityZones or subnets, and the rule reads only the first.',
    },
    {
      id: controlTower('autoscaling_mixed_instances_policy_multiple_instance_types_check'),
      reason: 'An immutable fleet runs the one instance type its AMI was baked and tested on (instanceType); a second type would run the same artifact on untested hardware.',
    },
  );
}

/** The task definition of an immutable Fargate service: its container's user and memory. */
export function acknowledgeTaskDefinition(taskDefinition: ecs.TaskDefinition): void {
  acknowledgeExact(taskDefinition.node.defaultChild as IConstruct,
    {
      id: controlTower('ecs_task_definition_nonroot_user_check'),
      reason: 'The container runs as the user its image declares (USER in its Dockerfile): a user set here must exist in the image, which the library cannot know for an image built elsewhere. '
        + 'Its root filesystem is read-only by default.',
    },
    {
      id: controlTower('ecs_task_definition_memory_hard_limit_check'),
      reason: 'The task runs one container, and Fargate enforces the task\'s memory (memoryLimitMiB) as its hard limit: a container limit equal to it would change nothing.',
    },
  );
}
