/**
 * What the `ImmutableFargateService`s of a stack share: one task execution role (for the services
 * that read no secrets) and one log group per retention period. Each service keeps what is its own:
 * its task definition, task role, service and security group, and its own log streams
 * (`<service path>/<container>/<task id>`).
 *
 * The execution role's policy does not grow with the number of services: it may log in to ECR and
 * write to the shared log groups, and each image's repository grants it pull in the repository's
 * own policy.
 *
 * Internal: never exported from the package.
 */
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeInlinePolicy, acknowledgeLogGroup } from '../../internal/baseline';
import { stackSingleton } from '../../internal/singleton';

/** Construct id of the per-stack shared service resources: part of the public contract, never renamed. */
const SHARED_ID = 'cdk-immutable-deploys.Services';

export class ServiceShared extends Construct {
  public static of(scope: IConstruct): ServiceShared {
    return stackSingleton(scope, SHARED_ID, (stack, id) => new ServiceShared(stack, id));
  }

  private role?: iam.Role;
  private acknowledged = false;
  private readonly logGroups = new Map<logs.RetentionDays, logs.LogGroup>();

  /** The execution role of the services that read no secrets. */
  public executionRole(): iam.Role {
    if (!this.role) {
      this.role = new iam.Role(this, 'ExecutionRole', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: `Task execution role of the ImmutableFargateServices of stack ${Stack.of(this).stackName} that read no secrets: pulls their images, writes their logs`,
      });
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only ecr:GetAuthorizationToken is on *: ECR does not scope it to a repository. Each image\'s repository grants pull in its own policy, and logs go to this stack\'s service log groups only.',
      });
    }
    return this.role;
  }

  /** Acknowledges the shared execution role's policy, once it holds statements. */
  public acknowledgeExecutionPolicy(): void {
    const policy = this.role?.node.tryFindChild('DefaultPolicy');
    if (!policy || this.acknowledged) return;
    this.acknowledged = true;
    acknowledgeInlinePolicy(policy, 'The shared task execution role\'s policy: log in to ECR and write this stack\'s service logs; each repository grants pull in its own policy.');
  }

  /** The log group of the services whose events expire after `retention`: kept when the stack is deleted. */
  public logGroup(retention: logs.RetentionDays): logs.LogGroup {
    let group = this.logGroups.get(retention);
    if (!group) {
      group = new logs.LogGroup(this, retention === logs.RetentionDays.ONE_MONTH ? 'Logs' : `Logs${retention}`, {
        retention,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledgeLogGroup(group, 'the container logs of this stack\'s services');
      this.logGroups.set(retention, group);
    }
    return group;
  }
}
