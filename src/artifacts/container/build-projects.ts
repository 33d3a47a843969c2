/**
 * What every `ContainerImageBuild` of a stack shares: one CodeBuild project per platform (and VPC),
 * its log group and its grants, and the runtime's grants to drive its builds. The limits a build's
 * timeout and queue live here too, as the project and the construct both use them.
 *
 * Internal: never exported from the package.
 */
import { ArnFormat, Aws, Duration, Lazy, Names, Stack, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { buildSpecObject } from './buildspec';
import { ContainerPlatform } from './platform';
import { grantPullThroughCache } from './pull-through-cache';
import { acknowledgeDockerBuildProject, acknowledgeLogGroup } from '../../internal/baseline';
import { acknowledgeWildcards } from '../../internal/nag';
import { DeployTimeRuntime, MAX_JOB_TIMEOUT } from '../../internal/runtime/runtime';
import { stackSingleton } from '../../internal/singleton';

/** The construct id of the stack's projects: part of the public contract, never renamed. */
const PROJECTS_ID = 'cdk-immutable-deploys.ContainerImageBuild';

/** The shortest wait in CodeBuild's queue a build is given (a build of the longest timeout gets this). */
export const QUEUE_MINUTES = 60;
/** The longest wait in CodeBuild's queue that CodeBuild allows (5 to 480 minutes). */
export const MAX_QUEUE_MINUTES = 480;
/** Time kept on top of queue and build for the runtime to notice the end and signal. */
export const MARGIN_MINUTES = 5;
/** CodeBuild's minimum build timeout. */
export const MIN_BUILD_MINUTES = 5;
/** The longest build timeout a deploy can wait for: a wait condition's 12 hours, less queue and margin. */
export const MAX_BUILD_MINUTES = MAX_JOB_TIMEOUT.toMinutes() - QUEUE_MINUTES - MARGIN_MINUTES;

/**
 * What the runtime calls on a build's repository: whether the fingerprint tag exists (its digest and
 * storage class), whether ECR has replicated it, and the restore of an archived image.
 */
export const IMAGE_STATE_ACTIONS = ['ecr:DescribeImages', 'ecr:DescribeImageReplicationStatus', 'ecr:UpdateImageStorageClass'];

/** What pulling an image needs on the repository (the login call is the puller's own). */
export const PULL_ACTIONS = ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'];

export interface SharedProject {
  readonly id: string;
  readonly project: codebuild.Project;
  readonly logGroup: logs.LogGroup;
}

/**
 * What every ContainerImageBuild of a stack shares: one CodeBuild project per platform (and VPC).
 * The ids are a contract: renaming one replaces users' resources.
 */
export class ContainerBuildProjects extends Construct {
  public static of(scope: Construct): ContainerBuildProjects {
    return stackSingleton(scope, PROJECTS_ID, (stack, id) => new ContainerBuildProjects(stack, id));
  }

  private readonly projects = new Map<string, SharedProject>();
  /** The grants a project took once: pull-through cache prefixes, the replicated repositories. */
  private readonly cacheGrants = new Set<string>();

  /** The project that builds images of this platform in this VPC, created on first use. */
  public projectFor(platform: ContainerPlatform, vpc: ec2.IVpc | undefined, context: s3assets.Asset): SharedProject {
    const platformId = platform.platform.split(/[^a-z0-9]+/i).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
    const id = `Project${platformId}${vpc ? `Vpc${Names.nodeUniqueId(vpc.node).slice(-8)}` : ''}`;
    const existing = this.projects.get(id);
    if (existing) return existing;

    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.THREE_MONTHS });
    const arm = platform.platform === ContainerPlatform.LINUX_ARM64.platform;
    const project = new codebuild.Project(this, id, {
      description: `cdk-immutable-deploys ContainerImageBuild: builds ${platform.platform} images of stack ${Stack.of(this).stackName}`,
      buildSpec: codebuild.BuildSpec.fromObject(buildSpecObject()),
      environment: {
        // Native builds: arm64 on Graviton, amd64 on x86-64; no emulation.
        buildImage: arm ? codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0 : codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5,
        computeType: codebuild.ComputeType.SMALL,
        privileged: true,
      },
      logging: { cloudWatch: { logGroup } },
      timeout: Duration.minutes(MAX_BUILD_MINUTES),
      queuedTimeout: Duration.minutes(QUEUE_MINUTES),
      vpc,
    });
    // Every build context of the stack is an object of the CDK assets bucket, named by its content: a
    // grant on one object would broaden IAM with every change of the context.
    project.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [context.bucket.arnForObjects('*')] }));
    project.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'], resources: [context.bucket.bucketArn] }));
    // docker login: the token call has no resource-level permissions.
    project.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    Validations.of(project).acknowledge(
      {
        id: 'AwsSolutions-CB3',
        reason:
          'Docker builds need the Docker daemon, which CodeBuild runs only in privileged mode. The project runs only this library\'s fixed buildspec, over build contexts of its own stack.',
      },
      {
        id: 'AwsSolutions-CB4',
        reason:
          'The project produces no CodeBuild artifacts (its build output is encrypted with the AWS managed S3 key): its only output is the image it pushes to ECR, which encrypts it with KMS, and its log, which CloudWatch Logs encrypts.',
      },
    );
    const shared = { id, project, logGroup };
    this.projects.set(id, shared);
    this.acknowledgeProjectRole(project, context);
    acknowledgeDockerBuildProject(project);
    acknowledgeLogGroup(logGroup, 'the logs of this stack\'s Docker builds');
    return shared;
  }

  /** Lets a project pull base images through these pull-through cache rules: once per project and prefix, whatever the number of images. */
  public grantPullThroughCache(shared: SharedProject, prefixes: string[]): void {
    for (const prefix of prefixes) {
      const key = `${shared.id}:${prefix}`;
      if (this.cacheGrants.has(key)) continue;
      this.cacheGrants.add(key);
      grantPullThroughCache(shared.project, prefix, PULL_ACTIONS);
    }
  }

  /**
   * Lets a project push to the repositories the runtime keeps for this stack's replicating builds,
   * which have no policy of the app's: one statement per project, on the stack's own prefix.
   */
  public grantReplicatedPush(shared: SharedProject, prefix: string, actions: string[]): void {
    const key = `${shared.id}:replicated`;
    if (this.cacheGrants.has(key)) return;
    this.cacheGrants.add(key);
    const kept = Stack.of(this).formatArn({ service: 'ecr', resource: 'repository', resourceName: `${prefix}*` });
    shared.project.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [kept] }));
    acknowledgeWildcards(shared.project.role!.node.tryFindChild('DefaultPolicy')!, [], [kept],
      'Push to the repositories the deploy-time runtime keeps for this stack\'s replicating builds (cdk-immutable-deploys/<stack>/*), which have no policy of the app\'s: one statement for all of them, whatever their number.');
  }

  /** Lets the runtime drive this project's builds and read their logs, and read image metadata. */
  public grantRuntime(runtime: DeployTimeRuntime, shared: SharedProject, requireImmutableTags: boolean): void {
    runtime.grant(`container-build:${shared.id}`, [
      new iam.PolicyStatement({
        actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds', 'codebuild:ListBuildsForProject', 'codebuild:StopBuild'],
        resources: [shared.project.projectArn],
      }),
      new iam.PolicyStatement({ actions: ['logs:GetLogEvents'], resources: [shared.logGroup.logGroupArn] }),
    ], 'CloudWatch Logs names the streams of a log group only at run time: one per build of this project.');
    const stack = Stack.of(this);
    runtime.grant(`container-build:images${requireImmutableTags ? ':tags' : ''}`, [
      new iam.PolicyStatement({
        actions: [...IMAGE_STATE_ACTIONS, ...(requireImmutableTags ? ['ecr:DescribeRepositories'] : [])],
        resources: [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })],
      }),
    ], 'Metadata of this account\'s repositories in this region: whether a fingerprint tag exists (and its digest), which reuses an image of another stack or a user\'s repository, and whether ECR has replicated it; and the restore of an archived fingerprint image before it is reused (a storage class change). It grants no pull and no push, and stays the same whatever images the stack builds.');
    runtime.watch('codebuild', {
      'source': ['aws.codebuild'],
      'detail-type': ['CodeBuild Build State Change'],
      'detail': {
        'project-name': Lazy.list({ produce: () => [...this.projects.values()].map((p) => p.project.projectName) }),
        'build-status': ['SUCCEEDED', 'FAILED', 'STOPPED'],
      },
    });
  }

  private acknowledgeProjectRole(project: codebuild.Project, context: s3assets.Asset): void {
    const stack = Stack.of(project);
    const policy = project.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledgeWildcards(policy, [], [
        '*',
        context.bucket.arnForObjects('*'),
        `${stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws/codebuild/${project.projectName}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })}:*`,
        stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${project.projectName}-*` }),
        // aws-cdk-lib writes this ARN with the pseudo parameters, also in a stack with a fixed environment.
        ...(project.node.tryFindChild('PolicyDocument') ? [
          stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' }),
          `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:network-interface/*`,
        ] : []),
      ],
      'Only the wildcards AWS or aws-cdk-lib require: ecr:GetAuthorizationToken (docker login) has no resource-level permissions; ' +
        'build contexts are objects of the CDK assets bucket named by their content hash, so a grant per object would broaden IAM with every change of a context (read-only, this environment\'s CDK staging bucket); ' +
        'aws-cdk-lib grants every CodeBuild project the streams of its default log group ("/aws/codebuild/<project>:*") and the report groups named after it ("<project>-*"); ' +
        'in a VPC, CodeBuild creates network interfaces at run time (limited by condition to the CodeBuild service and the chosen subnets). Repositories grant push in their own policies.');
    }
    const vpcPolicy = project.node.tryFindChild('PolicyDocument');
    if (vpcPolicy) {
      acknowledgeWildcards(vpcPolicy, [], ['*'],
        "aws-cdk-lib's policy for a CodeBuild project in a VPC: the EC2 Describe and network-interface calls CodeBuild makes before a build have no resource-level permissions.");
    }
  }
}

