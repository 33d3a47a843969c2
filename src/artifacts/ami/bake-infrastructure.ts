/**
 * What every `AmiBake` of a stack shares: the build and test instances' role and profile, one
 * infrastructure configuration per distinct placement
 * (instance types, subnet, security group, tags), and the runtime's permissions for bakes, which
 * are scoped by the stack's name prefix and so do not grow with the number of bakes.
 *
 * Internal: never exported from the package.
 */
import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct, IConstruct } from 'constructs';
import { serviceLinkedRoleOf } from './bake-key';
import { grantAmiHolds } from './hold';
import { BAKE_TAG } from './types';
import type { BakeAssetCopy } from './types';
import { Fingerprint } from '../../fingerprint';
import { acknowledgeExact, acknowledgeWildcards, managedPolicyFinding } from '../../internal/nag';
import { DeployTimeRuntime } from '../../internal/runtime/runtime';
import { stackSingleton } from '../../internal/singleton';
import { nestedStackIdentity } from '../../internal/stack-identity';

/** Construct id of the per-stack shared bake resources: part of the public contract, never renamed. */
const SHARED_ID = 'cdk-immutable-deploys.AmiBake';

/** Where in the CDK assets bucket the runtime copies the files a stack's bakes ship: `<it>/<stack prefix>/<asset key>`. */
export const BAKE_ASSETS_PREFIX = 'cdk-immutable-deploys/bake-assets';

/** Where a bake's build and test instances run. */
export interface BakePlacement {
  readonly instanceTypes: ec2.InstanceType[];
  readonly vpc?: ec2.IVpc;
  readonly subnetSelection?: ec2.SubnetSelection;
  readonly tags: { [key: string]: string };
}

export class AmiBakeInfrastructure extends Construct {
  public static of(scope: IConstruct): AmiBakeInfrastructure {
    return stackSingleton(scope, SHARED_ID, (stack, id) => new AmiBakeInfrastructure(stack, id));
  }

  /** The prefix of every Image Builder name and log group of this stack's bakes. */
  public readonly namePrefix: string;
  /** The role of every build and test instance of the stack's bakes. */
  public readonly instanceRole: iam.Role;
  private readonly profile: iam.CfnInstanceProfile;
  private readonly infrastructures = new Map<string, imagebuilder.CfnInfrastructureConfiguration>();
  private readonly securityGroups = new Map<string, ec2.SecurityGroup>();
  private readonly keys = new Set<string>();
  private readonly assetBuckets = new Set<string>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.namePrefix = namePrefixOf(stack);

    this.instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Build and test instances of the AMI bakes of stack ${stack.stackName}`,
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('EC2InstanceProfileForImageBuilder'),
      ],
    });
    const instanceReason = 'Image Builder drives its build and test instances through SSM and AWSTOE: AmazonSSMManagedInstanceCore and EC2InstanceProfileForImageBuilder are the minimal policies AWS documents for them, and AWS keeps them current with the agents.';
    acknowledgeExact(this.instanceRole,
      { id: managedPolicyFinding('AmazonSSMManagedInstanceCore'), reason: instanceReason },
      { id: managedPolicyFinding('EC2InstanceProfileForImageBuilder'), reason: instanceReason });
    this.profile = new iam.CfnInstanceProfile(this, 'InstanceProfile', { roles: [this.instanceRole.roleName] });

    this.grantRuntime(DeployTimeRuntime.of(this));
  }

  /** The infrastructure configuration of a placement, created on first use. */
  public infrastructureFor(placement: BakePlacement): imagebuilder.CfnInfrastructureConfiguration {
    let subnetId: string | undefined;
    let securityGroupIds: string[] | undefined;
    if (placement.vpc) {
      const subnets = placement.vpc.selectSubnets(placement.subnetSelection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
      subnetId = subnets.subnetIds[0];
      securityGroupIds = [this.securityGroupFor(placement.vpc).securityGroupId];
    }
    const instanceTypes = placement.instanceTypes.map((t) => t.toString());
    const stack = Stack.of(this);
    const identity = stack.resolve({ instanceTypes, subnetId: subnetId ?? null, securityGroupIds: securityGroupIds ?? null, tags: placement.tags });
    const key = Fingerprint.ofJson(identity).short.slice(0, 8);
    const existing = this.infrastructures.get(key);
    if (existing) return existing;
    const infrastructure = new imagebuilder.CfnInfrastructureConfiguration(this, `Infrastructure${key}`, {
      name: `${this.namePrefix}-infrastructure-${key}`,
      description: `Build environment of AMI bakes of stack ${stack.stackName}`,
      instanceProfileName: this.profile.ref,
      instanceTypes,
      subnetId,
      securityGroupIds,
      terminateInstanceOnFailure: true,
      instanceMetadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 },
      resourceTags: placement.tags,
    });
    this.infrastructures.set(key, infrastructure);
    return infrastructure;
  }

  /** Lets the runtime read a key that encrypts the bakes' volumes (Image Builder checks the caller may). */
  public grantKey(key: kms.IKey): void {
    const id = key.node.addr;
    if (this.keys.has(id)) return;
    this.keys.add(id);
    DeployTimeRuntime.of(this).grant(`ami-bake:key:${id}`, [new iam.PolicyStatement({ actions: ['kms:DescribeKey'], resources: [key.keyArn] })]);
  }

  /**
   * A file or directory asset a bake ships: the copy the runtime makes of it under this stack's bake
   * prefix of the assets bucket (`<prefix>/<stack prefix>/<asset key>`), which the build and test
   * instances download, and what the runtime copies. The instances may read that prefix only, never
   * the rest of the assets bucket (every asset of every stack of the account and region); the runtime
   * reads the bucket (asset keys are content hashes, known only per change) and writes that prefix:
   * once per bucket, whatever the number of bakes and files.
   */
  public stageAsset(asset: s3assets.Asset): { url: string; copy: BakeAssetCopy } {
    const prefix = `${BAKE_ASSETS_PREFIX}/${this.namePrefix}`;
    const copy: BakeAssetCopy = { Bucket: asset.s3BucketName, Key: asset.s3ObjectKey, CopyKey: `${prefix}/${asset.s3ObjectKey}` };
    const bucketArn = asset.bucket.bucketArn;
    const id = JSON.stringify(Stack.of(this).resolve(bucketArn));
    if (!this.assetBuckets.has(id)) {
      this.assetBuckets.add(id);
      const copies = `${bucketArn}/${prefix}/*`;
      this.instanceRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [copies] }));
      acknowledgeWildcards(this.instanceRole, ['s3:GetObject'], [copies],
        `The build and test instances download the files of this stack's bakes from their copies under ${prefix}/ of the CDK assets bucket, which the runtime makes per file: the prefix is this stack's, and nothing else of the bucket is readable.`);
      DeployTimeRuntime.of(this).grant(`ami-bake:assets:${id}`, [
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${bucketArn}/*`] }),
        new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [copies] }),
      ], `CDK asset keys are content hashes, known per change: the runtime reads a bake's file assets (s3:GetObject on the assets bucket, as CloudFormation's own asset publishing does) to copy them under ${prefix}/, the only part of the bucket the bake instances read.`);
    }
    return { url: `s3://${copy.Bucket}/${copy.CopyKey}`, copy };
  }

  /**
   * Lets the runtime hold the AMIs a bake of this stack makes, and their copies in other regions, with
   * the same conditions as in the stack's region: once per region, whatever the number of bakes.
   */
  public grantHoldIn(regions: string[]): void {
    grantAmiHolds(this, regions);
  }

  /**
   * Lets the runtime apply the bakes' retention after each bake (`retainImages`): delete the Image
   * Builder images and recipe versions of the stack's bakes, and deregister, in each region, AMIs of
   * the stack's bakes with the snapshots Image Builder made. Once, and once per region, whatever the
   * number of bakes.
   */
  public grantPruneIn(regions: string[]): void {
    const stack = Stack.of(this);
    const runtime = DeployTimeRuntime.of(this);
    const own = (resource: string) => this.ownArn(resource);
    runtime.grant('ami-bake:prune', [
      new iam.PolicyStatement({ actions: ['imagebuilder:DeleteImage'], resources: [own('image')] }),
      new iam.PolicyStatement({ actions: ['imagebuilder:DeleteImageRecipe'], resources: [own('image-recipe')] }),
      new iam.PolicyStatement({ actions: ['imagebuilder:ListImageRecipes'], resources: ['*'] }),
    ], `Retention and removal policy DESTROY: the versions and builds of the bakes' recipes and images are numbered by AWS and known only at run time; every name starts with '${this.namePrefix}-'. ListImageRecipes is read-only and takes no resource (the runtime filters recipes by the bake's name).`);
    // Who holds an AMI, in the register of each region, keeps it.
    grantAmiHolds(this, regions);
    // In every region (a region dropped from distribution.regions still holds copies to delete), same conditions: one grant, whatever the regions.
    runtime.grant('ami-bake:prune:ec2', [
      // Read-only: an AMI's launch permissions, to leave one another account may launch.
      new iam.PolicyStatement({ actions: ['ec2:DescribeImageAttribute'], resources: [`arn:${stack.partition}:ec2:*::image/*`] }),
      new iam.PolicyStatement({
        actions: ['ec2:DeregisterImage'],
        resources: [`arn:${stack.partition}:ec2:*::image/*`],
        conditions: { StringLike: { [`aws:ResourceTag/${BAKE_TAG}`]: `${this.namePrefix}-*` } },
      }),
      new iam.PolicyStatement({
        actions: ['ec2:DeleteSnapshot'],
        resources: [`arn:${stack.partition}:ec2:*::snapshot/*`],
        conditions: { StringEquals: { 'aws:ResourceTag/CreatedBy': 'EC2 Image Builder' } },
      }),
    ], `Retention and removal policy DESTROY: AMI and snapshot ids are known only when a bake ends. Deregistering is limited to AMIs whose bake tag starts with this stack's prefix '${this.namePrefix}-'; snapshots to those Image Builder created (its CreatedBy tag, the condition of AWS's own EC2ImageBuilderLifecycleExecutionPolicy), and the runtime deletes only the snapshots of the AMIs it deregistered.`);
  }

  /**
   * Lets the runtime delete what the stack's bakes made, for bakes whose removal policy is DESTROY:
   * what the retention may delete (`grantPruneIn`), and the bakes' components and build log groups.
   * A stack with no such bake gets only the retention's.
   */
  public grantDestroyIn(regions: string[]): void {
    const stack = Stack.of(this);
    const runtime = DeployTimeRuntime.of(this);
    this.grantPruneIn(regions);
    runtime.grant('ami-bake:destroy', [
      new iam.PolicyStatement({ actions: ['imagebuilder:ListComponentBuildVersions', 'imagebuilder:DeleteComponent'], resources: [this.ownArn('component')] }),
      new iam.PolicyStatement({
        actions: ['logs:DeleteLogGroup'],
        resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws/imagebuilder/${this.namePrefix}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    ], `Removal policy DESTROY: the versions and builds of the bakes' components are numbered by AWS and known only at run time; every name starts with '${this.namePrefix}-', as does every bake's build log group, which the runtime made.`);
  }

  /** The ARN of every Image Builder resource of a type that the stack's bakes name (`<prefix>-*`). */
  private ownArn(resource: string): string {
    return Stack.of(this).formatArn({ service: 'imagebuilder', resource, resourceName: `${this.namePrefix}-*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  }

  private securityGroupFor(vpc: ec2.IVpc): ec2.SecurityGroup {
    const id = vpc.node.addr;
    let group = this.securityGroups.get(id);
    if (!group) {
      group = new ec2.SecurityGroup(this, `SecurityGroup${id.slice(0, 8)}`, {
        vpc,
        description: `Build and test instances of AMI bakes of stack ${Stack.of(this).stackName}: no inbound, outbound to reach SSM, S3 and package repositories`,
        allowAllOutbound: true,
      });
      this.securityGroups.set(id, group);
    }
    return group;
  }

  /** The runtime's permissions for every bake of this stack, on the stack's name prefix. */
  private grantRuntime(runtime: DeployTimeRuntime): void {
    const stack = Stack.of(this);
    const ib = (resource: string, name: string, account?: string) => stack.formatArn({ service: 'imagebuilder', resource, resourceName: name, account, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const own = (resource: string) => ib(resource, `${this.namePrefix}-*`);
    const prefixReason = `Image Builder names are known only per bake and fingerprint (and AWS numbers their build versions): every name of this stack's bakes starts with '${this.namePrefix}-', so the grant does not grow with the number of bakes.`;
    runtime.grant('ami-bake', [
      new iam.PolicyStatement({ actions: ['imagebuilder:CreateComponent', 'imagebuilder:GetComponent'], resources: [own('component')] }),
      new iam.PolicyStatement({ actions: ['imagebuilder:CreateImageRecipe', 'imagebuilder:GetImageRecipe'], resources: [own('image-recipe')] }),
      // CreateImage authorizes on the image only; what it reads of the recipe and the configurations
      // (and, with no workflow named, the AWS-managed build and test workflows) are its dependent actions.
      new iam.PolicyStatement({
        actions: ['imagebuilder:CreateImage', 'imagebuilder:ListImageBuildVersions', 'imagebuilder:CancelImageCreation', 'imagebuilder:TagResource', 'imagebuilder:ListWorkflowExecutions'],
        resources: [own('image')],
      }),
      new iam.PolicyStatement({ actions: ['imagebuilder:GetInfrastructureConfiguration'], resources: [own('infrastructure-configuration')] }),
      new iam.PolicyStatement({ actions: ['imagebuilder:GetDistributionConfiguration'], resources: [own('distribution-configuration')] }),
      new iam.PolicyStatement({ actions: ['imagebuilder:GetWorkflow'], resources: [ib('workflow', '*', 'aws')] }),
      // The build logs: read for a failure's tail; the group is created (or adopted) by the runtime, with its retention.
      new iam.PolicyStatement({
        actions: ['logs:GetLogEvents', 'logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy'],
        resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws/imagebuilder/${this.namePrefix}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    ], prefixReason);
    runtime.grant('ami-bake:read', [
      new iam.PolicyStatement({ actions: ['imagebuilder:GetImage'], resources: [ib('image', '*')] }),
      new iam.PolicyStatement({ actions: ['imagebuilder:GetComponent'], resources: [ib('component', '*', 'aws')] }),
      new iam.PolicyStatement({ actions: ['imagebuilder:ListWorkflowStepExecutions'], resources: [ib('workflow-execution', '*')] }),
      new iam.PolicyStatement({ actions: ['ec2:DescribeImages'], resources: ['*'] }),
    ], 'Read-only: an AMI with the same fingerprint may come from another stack\'s bake and is reused only when its Image Builder image is AVAILABLE; the recipe reads the AWS-managed components it names, and CreateImage the AWS-managed workflows; workflow execution ids are known only at run time; ec2:DescribeImages has no resource-level permissions.');
    runtime.grant('ami-bake:tags', [
      new iam.PolicyStatement({
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [serviceLinkedRoleOf(stack, 'imagebuilder.amazonaws.com', 'AWSServiceRoleForImageBuilder')],
        conditions: { StringEquals: { 'iam:AWSServiceName': 'imagebuilder.amazonaws.com' } },
      }),
    ]);
    grantAmiHolds(this, [stack.region]);
    runtime.watch('imagebuilder', {
      'source': ['aws.imagebuilder'],
      'detail-type': ['EC2 Image Builder Image State Change'],
      'resources': [{ prefix: `${ib('image', '')}${this.namePrefix}-` }],
      'detail': { state: { status: ['AVAILABLE', 'FAILED', 'CANCELLED'] } },
    });
  }
}

/**
 * The prefix of the stack's bake names: its name, lowercase, and a hash of it, so that it is unique
 * in an account and region and one stack's prefix never starts another's.
 */
function namePrefixOf(stack: Stack): string {
  // A nested stack: its root's name and path below it, where its construct path alone is not unique (stack-identity.ts).
  const name = Token.isUnresolved(stack.stackName) ? nestedStackIdentity(stack) ?? stack.node.path : stack.stackName;
  const readable = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 24).replace(/-$/, '');
  return `${readable || 'stack'}-${Fingerprint.ofString(name).short.slice(0, 6)}`;
}
