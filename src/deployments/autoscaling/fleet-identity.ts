/**
 * What the `ImmutableAutoScalingGroup`s of a stack share when they are given no role: one instance
 * role and profile that may only report (signal this stack, mark an instance of one of this stack's
 * groups unhealthy), and the one policy that says so. A group that needs permissions of its own
 * asks for `group.role`, which gives it a role and profile of its own with the same policy.
 *
 * The same for security groups: the groups of a VPC that no rule names share one security group per
 * VPC with no inbound rule and all outbound traffic (to report their health); a rule added through a
 * group's `connections`, or through its launch template's or Auto Scaling group's, gives that group a
 * security group of its own first, so that a rule opens one fleet only.
 *
 * Per stack, not per group: a fleet adds its launch template and its group.
 *
 * Internal: never exported from the package.
 */
import { ArnFormat, Aspects, Aws, Lazy, Names, Resource, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeInlinePolicy } from '../../internal/baseline';
import { acknowledgeWildcards } from '../../internal/nag';
import { stackSingleton } from '../../internal/singleton';

/** Construct id of the per-stack shared fleet identity: part of the public contract, never renamed. */
const SHARED_ID = 'cdk-immutable-deploys.Fleets';

const ROLE_DESCRIPTION = 'Instances of an ImmutableAutoScalingGroup: report their own health, nothing else';

export class FleetIdentity extends Construct {
  public static of(scope: IConstruct): FleetIdentity {
    return stackSingleton(scope, SHARED_ID, (stack, id) => new FleetIdentity(stack, id));
  }

  /** The two permissions every instance needs to report, attached to every role the groups use. */
  public readonly reporting: iam.Policy;
  private shared?: { role: iam.Role; profile: iam.CfnInstanceProfile };
  /** Per VPC: the shared security group, made before synthesis if a group still uses it. */
  private readonly networks = new Map<ec2.IVpc, { users: Array<() => ec2.ISecurityGroup | undefined>; group?: ec2.SecurityGroup }>();

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
    // The shared security groups are made when the groups' choices are known: after construction,
    // before synthesis (aspects run first), and only for a VPC where a group still uses one.
    Aspects.of(this).add({ visit: (node) => { if (node === this) this.makeSharedSecurityGroups(); } });
  }

  /**
   * The security group a launch template is given: its rules and its use as a peer go to the group's
   * own security group (`how.own()` makes it), and its id is the group's own, or else the VPC's
   * shared one, when the template is rendered.
   */
  public deferredSecurityGroup(scope: Construct, vpc: ec2.IVpc, how: DeferredSecurityGroupChoice): ec2.ISecurityGroup {
    const network = this.networks.get(vpc) ?? { users: [] };
    this.networks.set(vpc, network);
    network.users.push(how.chosen);
    const id = Lazy.string({ produce: () => (how.chosen() ?? network.group!).securityGroupId });
    return new DeferredSecurityGroup(scope, 'DeferredSecurityGroup', id, how.own);
  }

  private makeSharedSecurityGroups(): void {
    let index = 0;
    for (const [vpc, network] of this.networks) {
      index++;
      if (network.group || network.users.every((chosen) => chosen() !== undefined)) continue;
      network.group = new ec2.SecurityGroup(this, index === 1 ? 'SecurityGroup' : `SecurityGroup${index}`, {
        vpc,
        description: 'Instances of ImmutableAutoScalingGroups that no rule names: no inbound rules, outbound to report their health',
        allowAllOutbound: true,
      });
    }
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

/** How a deferred security group finds the group's own security group. */
export interface DeferredSecurityGroupChoice {
  /** Makes (once) and returns the group's own security group. */
  readonly own: () => ec2.ISecurityGroup;
  /** The group's own (or given) security group, if it has one by now. */
  readonly chosen: () => ec2.ISecurityGroup | undefined;
}

/**
 * A launch template's security group, decided when the template is rendered. Everything that adds a
 * rule, or names it in another group's rule, first gives the fleet a security group of its own, and
 * acts on that one: a rule never reaches the shared group.
 */
class DeferredSecurityGroup extends Resource implements ec2.ISecurityGroup {
  public readonly securityGroupId: string;
  public readonly allowAllOutbound = true;
  public readonly canInlineRule = false;
  public readonly uniqueId: string;
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, securityGroupId: string, private readonly own: () => ec2.ISecurityGroup) {
    super(scope, id);
    this.securityGroupId = securityGroupId;
    this.uniqueId = Names.nodeUniqueId(this.node);
    this.connections = new ec2.Connections({ securityGroups: [this] });
  }

  public get securityGroupRef(): ec2.SecurityGroupReference {
    return this.own().securityGroupRef;
  }

  public addIngressRule(peer: ec2.IPeer, connection: ec2.Port, description?: string, remoteRule?: boolean): void {
    this.own().addIngressRule(peer, connection, description, remoteRule);
  }

  public addEgressRule(peer: ec2.IPeer, connection: ec2.Port, description?: string, remoteRule?: boolean): void {
    this.own().addEgressRule(peer, connection, description, remoteRule);
  }

  public toIngressRuleConfig(): any {
    return this.own().toIngressRuleConfig();
  }

  public toEgressRuleConfig(): any {
    return this.own().toEgressRuleConfig();
  }
}
