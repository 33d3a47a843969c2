/**
 * What the `ImmutableAutoScalingGroup`s of a stack share when they are given no role: one instance
 * role and profile that may only report (signal this stack, mark an instance of one of this stack's
 * groups unhealthy), and the one policy that says so. A group that needs permissions of its own
 * asks for `group.role`, which gives it a role and profile of its own with the same policy.
 *
 * Per stack, not per group: a fleet adds its launch template, its group and its security group.
 *
 * Internal: never exported from the package.
 */
import { ArnFormat, Aws, Lazy, Resource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeInlinePolicy } from '../../internal/baseline';
import { acknowledgeWildcards } from '../../internal/nag';

/** Construct id of the per-stack shared fleet identity: part of the public contract, never renamed. */
const SHARED_ID = 'cdk-immutable-deploys.Fleets';

const ROLE_DESCRIPTION = 'Instances of an ImmutableAutoScalingGroup: report their own health, nothing else';

export class FleetIdentity extends Construct {
  public static of(scope: IConstruct): FleetIdentity {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(SHARED_ID) as FleetIdentity | undefined) ?? new FleetIdentity(stack, SHARED_ID);
  }

  /** The two permissions every instance needs to report, attached to every role the groups use. */
  public readonly reporting: iam.Policy;
  private shared?: { role: iam.Role; profile: iam.CfnInstanceProfile };

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    // Groups get names that CloudFormation generates from the stack's name ("<stack>-<logical id>-<suffix>",
    // CloudFormation's Name type), so the stack's groups are `autoScalingGroupName/<stack>-*`. The
    // permission exists before any group, so an instance can report from its first boot.
    const groups = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${Aws.STACK_NAME}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.reporting = new iam.Policy(this, 'ReportingPolicy', {
      statements: [
        new iam.PolicyStatement({ actions: ['cloudformation:SignalResource'], resources: [stack.stackId] }),
        new iam.PolicyStatement({ actions: ['autoscaling:SetInstanceHealth'], resources: [groups] }),
      ],
    });
    acknowledgeWildcards(this.reporting, [], [groups],
      'Auto Scaling group ARNs carry an id generated at creation: the ARN pattern is limited to groups whose CloudFormation-generated names start with this stack\'s name, and the only action is marking an instance unhealthy.');
    acknowledgeInlinePolicy(this.reporting, 'Instances signal this stack (cloudformation:SignalResource on its id) and mark instances of its groups unhealthy.');
  }

  /** The role and profile of the groups that have none of their own. */
  public sharedProfile(): iam.CfnInstanceProfile {
    if (!this.shared) {
      const role = new iam.Role(this, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'), description: ROLE_DESCRIPTION });
      this.reporting.attachToRole(role);
      const profile = new iam.CfnInstanceProfile(this, 'InstanceProfile', { roles: [role.roleName] });
      this.shared = { role, profile };
    }
    return this.shared.profile;
  }

  /** A role and profile of one group's own, with the reporting policy. */
  public ownRole(scope: Construct): { role: iam.Role; profile: iam.CfnInstanceProfile } {
    const role = new iam.Role(scope, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'), description: ROLE_DESCRIPTION });
    this.reporting.attachToRole(role);
    const profile = new iam.CfnInstanceProfile(scope, 'InstanceProfile', { roles: [role.roleName] });
    return { role, profile };
  }
}

/**
 * The instance profile of a launch template, decided when the template is rendered: the group's own
 * if something asked for its role, else the stack's shared one.
 */
export class DeferredInstanceProfile extends Resource implements iam.IInstanceProfile {
  public readonly instanceProfileArn: string;
  public readonly instanceProfileName: string;
  public readonly instanceProfileRef: iam.InstanceProfileReference;

  constructor(scope: Construct, id: string, choose: () => iam.CfnInstanceProfile) {
    super(scope, id);
    this.instanceProfileArn = Lazy.string({ produce: () => choose().attrArn });
    this.instanceProfileName = Lazy.string({ produce: () => choose().ref });
    this.instanceProfileRef = { instanceProfileArn: this.instanceProfileArn, instanceProfileName: this.instanceProfileName };
  }
}
