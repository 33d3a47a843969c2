import { Annotations, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EcsDeploymentPlan, SERVICE_TYPE } from './deployment-binding';
import { EcsDeployment } from './ecs-deployment';
import { describesImageRuntime, isRootUser, samePath } from './image-runtime';
import { listenerDefaultActionProblem, warnIfNoRouteToRegistry } from './network-checks';
import { ServiceShared } from './service-shared';
import { TARGET_GROUP_DEFAULTS, TARGET_GROUP_LIMITS, unhealthyThresholdFor } from './target-group-defaults';
import { IContainerArtifact } from '../../artifacts/container/artifact';
import { ContainerPlatform } from '../../artifacts/container/platform';
import { acknowledgeInlinePolicy, acknowledgeLogGroup, acknowledgeTaskDefinition } from '../../internal/baseline';
import { checkConstraints } from '../../internal/constraints';
import { constructError, describeConstruct, known, Problem, PropProblems, warn } from '../../internal/errors';
import { pairContainer } from '../../internal/pairing';
import { checkPlaintextSecrets, entriesOf } from '../../internal/secrets';
import { recordFargateService } from '../../plan/metadata';

/**
 * Properties of an ImmutableFargateService.
 */
export interface ImmutableFargateServiceProps {
  /** The image to run, pinned by digest. A new artifact gives a new task-definition revision and a deployment. */
  readonly artifact: IContainerArtifact;

  /**
   * The cluster to run in.
   *
   * @default - a new cluster with Container Insights in `vpc`
   */
  readonly cluster?: ecs.ICluster;

  /**
   * The VPC of a new cluster, when `cluster` is not given.
   *
   * @default - `cluster` is required
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The task's CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384.
   *
   * @default 256
   */
  readonly cpu?: number;

  /**
   * The task's memory in MiB, one that Fargate offers with `cpu`.
   *
   * @default 512
   */
  readonly memoryLimitMiB?: number;

  /**
   * How many tasks run.
   *
   * @default 2
   */
  readonly desiredCount?: number;

  /**
   * The port the container listens on. Required with `targetGroup` or `listener`.
   *
   * @default - no port: a worker that takes no inbound traffic
   */
  readonly containerPort?: number;

  /**
   * The name of the container in the task definition.
   *
   * @default 'app'
   */
  readonly containerName?: string;

  /**
   * Plain-text environment variables. They are readable by anyone who can describe the task definition:
   * values that look like secrets fail synthesis, and names that look like secrets give a warning.
   * Put secrets in `secrets`.
   *
   * @default - no environment variables
   */
  readonly environment?: { [key: string]: string };

  /**
   * Environment variables read from Secrets Manager or SSM Parameter Store when a task starts; only the
   * task's execution role may read them.
   *
   * @default - no secrets
   */
  readonly secrets?: { [key: string]: ecs.Secret };

  /**
   * The container's own health check.
   *
   * @default - none; behind a load balancer, the target group's health check decides
   */
  readonly healthCheck?: ecs.HealthCheck;

  /**
   * Where the container's output goes.
   *
   * @default - the stack's shared service log group for `logRetention` (one per retention period), kept when
   * the stack is deleted; this service writes its own streams, `<construct path>/<container>/<task id>`
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * How long the new log group keeps log events. Only used without `logGroup`.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The platform the task runs on. It must match the artifact's platform: an arm64 image cannot run on
   * an x86_64 task, nor the reverse.
   *
   * @default - the artifact's platform
   */
  readonly platform?: ContainerPlatform;

  /**
   * How new tasks replace old ones when the artifact changes.
   *
   * @default EcsDeployment.rolling()
   */
  readonly deployment?: EcsDeployment;

  /**
   * Whether the container's root filesystem is read-only, so that a running task cannot be changed:
   * what runs is exactly the artifact. `writableDirectories` stay writable.
   *
   * An image that runs as a non-root user can write to a writable directory only if its Dockerfile
   * declares a `VOLUME` at that path, writable by that user (Fargate's volumes are owned by root, mode
   * 0755; ECS copies a `VOLUME`'s directory, owner and mode into the volume). Stock images that write
   * elsewhere need those paths in `writableDirectories`, for example `/var/cache/nginx` and `/var/run`
   * for nginx, `/usr/local/apache2/logs` for Apache httpd.
   *
   * @default true
   */
  readonly readonlyRootFilesystem?: boolean;

  /**
   * Directories that stay writable when the root filesystem is read-only, each a task-scoped volume:
   * empty and owned by root (mode 0755), or a copy of the image's directory when its Dockerfile
   * declares a `VOLUME` at the same path. With an artifact that knows its Dockerfile, a non-root `USER`
   * without such a `VOLUME` gives a warning (the base image may declare one), or fails synthesis when
   * the Dockerfile describes the whole image (`FROM scratch`).
   *
   * @default ['/tmp']
   */
  readonly writableDirectories?: string[];

  /**
   * An Application Load Balancer target group (target type IP) to register the tasks with. Required by
   * the blue/green, canary and linear deployments, as their production target group.
   *
   * @default - no target group, unless `listener` is given
   */
  readonly targetGroup?: elbv2.IApplicationTargetGroup;

  /**
   * An Application Load Balancer listener to route to the tasks, through a new target group. Without
   * `listenerPriority` and `listenerConditions` the target group becomes the listener's default
   * action, which is an error when the listener has one already, another service was given it, or it
   * is imported.
   *
   * @default - no listener
   */
  readonly listener?: elbv2.IApplicationListener;

  /**
   * The priority of the rule added to `listener`; required with `listenerConditions`.
   *
   * @default - the new target group becomes the listener's default action
   */
  readonly listenerPriority?: number;

  /**
   * The conditions of the rule added to `listener`; required with `listenerPriority`.
   *
   * @default - the new target group becomes the listener's default action
   */
  readonly listenerConditions?: elbv2.ListenerCondition[];

  /**
   * The health check of the target group created for `listener`. Settings left out take the
   * defaults: a new task counts healthy at its first passing check, so checks every 10 s let it
   * take traffic within 10 s of being ready; a task that failed its first checks is back after 2
   * passing ones; a task is taken out after 60 s of failed checks, as with the load balancer's
   * own defaults (2 failures 30 s apart).
   *
   * @default - HTTP GET / on the container port every 10 seconds, healthy after 2 passing checks,
   * unhealthy after 60 seconds of failed checks (6 at 10 s)
   */
  readonly loadBalancerHealthCheck?: elbv2.HealthCheck;

  /**
   * How long the target group created for `listener` lets a replaced task finish its in-flight
   * requests before ECS stops it (the deregistration delay). Every deployment waits for it once.
   * Raise it for requests that last longer (uploads, streaming, long polling); 0 to 3600 seconds.
   *
   * @default Duration.seconds(30) - the load balancer's own default is 300 seconds
   */
  readonly deregistrationDelay?: Duration;

  /**
   * The role the application runs with.
   *
   * @default - a new role without permissions; grant it what the application needs
   */
  readonly taskRole?: iam.IRole;

  /**
   * The security groups of the tasks.
   *
   * @default - a new security group
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The subnets of the tasks.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Whether tasks get a public IP address. Tasks in public subnets need one to reach ECR (or VPC
   * endpoints); without it, a warning says so.
   *
   * @default false
   */
  readonly assignPublicIp?: boolean;

  /**
   * The name of the service.
   *
   * @default - a name CloudFormation generates
   */
  readonly serviceName?: string;
}

/**
 * The memory sizes (MiB) Fargate offers for each CPU size on Linux: `from` to `to` in steps of
 * `step`, or exactly `only`. 0.25 vCPU offers 0.5, 1 and 2 GB, not 1.5 GB.
 */
interface FargateSize {
  readonly cpu: number;
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly only?: number[];
}
const FARGATE_SIZES: ReadonlyArray<FargateSize> = [
  { cpu: 256, from: 512, to: 2048, step: 512, only: [512, 1024, 2048] },
  { cpu: 512, from: 1024, to: 4096, step: 1024 },
  { cpu: 1024, from: 2048, to: 8192, step: 1024 },
  { cpu: 2048, from: 4096, to: 16384, step: 1024 },
  { cpu: 4096, from: 8192, to: 30720, step: 1024 },
  { cpu: 8192, from: 16384, to: 61440, step: 4096 },
  { cpu: 16384, from: 32768, to: 122880, step: 8192 },
];

/** The props with every default applied: the one place the service's defaults live. */
interface ResolvedServiceProps extends ImmutableFargateServiceProps {
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  readonly desiredCount: number;
  readonly containerName: string;
  readonly readonlyRootFilesystem: boolean;
  /** The directories that get a writable volume: by default `/tmp` with a read-only root filesystem, none without. */
  readonly writableDirectories: string[];
  readonly deployment: EcsDeployment;
  readonly logRetention: logs.RetentionDays;
  readonly assignPublicIp: boolean;
  readonly environment: { [key: string]: string };
  readonly secrets: { [key: string]: ecs.Secret };
}

function withDefaults(props: ImmutableFargateServiceProps): ResolvedServiceProps {
  const readonlyRootFilesystem = props.readonlyRootFilesystem ?? true;
  return {
    ...props,
    cpu: props.cpu ?? 256,
    memoryLimitMiB: props.memoryLimitMiB ?? 512,
    desiredCount: props.desiredCount ?? 2,
    containerName: props.containerName ?? 'app',
    readonlyRootFilesystem,
    writableDirectories: props.writableDirectories ?? (readonlyRootFilesystem ? ['/tmp'] : []),
    deployment: props.deployment ?? EcsDeployment.rolling(),
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    assignPublicIp: props.assignPublicIp ?? false,
    environment: props.environment ?? {},
    secrets: props.secrets ?? {},
  };
}

/**
 * A Fargate service that runs an exact container artifact and replaces its tasks when the artifact changes.
 *
 * The task definition's image is the artifact's digest, so a new artifact is a new task-definition
 * revision and an ECS deployment, and an unchanged artifact changes nothing. New tasks are healthy
 * before old ones stop, and a failed deployment rolls back to the previous artifact on its own.
 *
 * @example
 * declare const artifact: IContainerArtifact;
 * declare const vpc: ec2.IVpc;
 *
 * new ImmutableFargateService(this, 'Worker', {
 *   vpc,
 *   artifact,
 * });
 */
export class ImmutableFargateService extends Construct implements ec2.IConnectable {
  /** The ECS service. */
  public readonly service: ecs.FargateService;

  /** The task definition: one revision per artifact. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;

  /** The application's container. */
  public readonly container: ecs.ContainerDefinition;

  /** The cluster the service runs in. */
  public readonly cluster: ecs.ICluster;

  /** The log group of the container's output. */
  public readonly logGroup: logs.ILogGroup;

  /** The role the application runs with. */
  public readonly taskRole: iam.IRole;

  /**
   * The production target group the tasks register with.
   *
   * @default - none: the service is not behind a load balancer
   */
  public readonly targetGroup?: elbv2.IApplicationTargetGroup;

  /** The network connections of the tasks. */
  public readonly connections: ec2.Connections;

  /** The deployment strategy. */
  public readonly deployment: EcsDeployment;

  constructor(scope: Construct, id: string, props: ImmutableFargateServiceProps) {
    super(scope, id);
    props = { ...props, artifact: pairContainer(this, SERVICE_TYPE, props.artifact, { platform: props.platform && { prop: 'platform', value: props.platform } }) };

    // resolve props
    const resolved = withDefaults(props);
    this.deployment = resolved.deployment;

    // validate: what the service owns, then what the deployment needs of the service
    this.validate(resolved);
    const plan = this.deployment._bind({ scope: this, targetGroup: props.targetGroup, hasListener: props.listener !== undefined });
    if (props.listener && props.listenerPriority === undefined && props.listenerConditions === undefined) {
      // At once: aws-cdk-lib's addTargetGroups would fail (an imported listener) or replace the default action.
      const problem = listenerDefaultActionProblem(this, props.listener);
      if (problem) throw this.error(problem);
    }

    // create
    this.cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    warnIfNoRouteToRegistry(this, this.cluster.vpc, props.vpcSubnets, resolved.assignPublicIp);
    this.logGroup = props.logGroup ?? ServiceShared.of(this).logGroup(resolved.logRetention);
    this.taskDefinition = this.createTaskDefinition(resolved);
    this.container = this.addAppContainer(resolved);
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      serviceName: props.serviceName,
      desiredCount: resolved.desiredCount,
      securityGroups: props.securityGroups,
      vpcSubnets: props.vpcSubnets,
      assignPublicIp: resolved.assignPublicIp,
      ...plan.serviceProps,
    });

    // wire
    for (const { id: warningId, reason } of plan.acknowledgedWarnings ?? []) {
      Annotations.of(this.service).acknowledgeWarning(warningId, reason);
    }
    this.targetGroup = this.registerTargets(resolved, plan);
    recordFargateService(this, this.service, this.taskDefinition, props.artifact, this.deployment.strategy);
    this.acknowledgeFindings(resolved);

    // expose
    this.taskRole = this.taskDefinition.taskRole;
    this.connections = this.service.connections;
  }

  private createTaskDefinition(props: ResolvedServiceProps): ecs.FargateTaskDefinition {
    const platform = props.platform ?? props.artifact.platform;
    return new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryLimitMiB,
      taskRole: props.taskRole,
      // Services that read no secrets share the stack's execution role; one that does gets its own, which reads only its secrets.
      executionRole: Object.keys(props.secrets).length === 0 ? ServiceShared.of(this).executionRole() : undefined,
      runtimePlatform: {
        cpuArchitecture: platform.cpuArchitecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
  }

  /** The application's container, with a task-scoped volume on each writable directory. */
  private addAppContainer(props: ResolvedServiceProps): ecs.ContainerDefinition {
    const container = this.taskDefinition.addContainer('Container', {
      containerName: props.containerName,
      // By digest: `<repository>@sha256:...`. Binding grants the execution role pull on this repository only.
      image: props.artifact.containerImage,
      essential: true,
      environment: props.environment,
      secrets: props.secrets,
      healthCheck: props.healthCheck,
      readonlyRootFilesystem: props.readonlyRootFilesystem,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: streamPrefixOf(this) }),
      portMappings: props.containerPort !== undefined ? [{ containerPort: props.containerPort, protocol: ecs.Protocol.TCP }] : undefined,
    });
    for (const directory of props.writableDirectories) {
      const name = volumeName(directory);
      this.taskDefinition.addVolume({ name });
      container.addMountPoints({ containerPath: directory, sourceVolume: name, readOnly: false });
    }
    return container;
  }

  /**
   * Registers the tasks with the production target group (and, for the blue/green family, its
   * alternate), or with a new target group behind `listener`.
   */
  private registerTargets(props: ResolvedServiceProps, plan: EcsDeploymentPlan): elbv2.IApplicationTargetGroup | undefined {
    const containerName = this.container.containerName;
    const containerPort = props.containerPort;
    if (props.listener) {
      const group = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
        vpc: this.cluster.vpc,
        port: containerPort,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        healthCheck: healthCheckOf(props.loadBalancerHealthCheck),
        deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(TARGET_GROUP_DEFAULTS.deregistrationDelaySeconds),
      });
      group.addTarget(this.service.loadBalancerTarget({ containerName, containerPort }));
      props.listener.addTargetGroups(`${this.node.id}Targets`, {
        targetGroups: [group],
        priority: props.listenerPriority,
        conditions: props.listenerConditions,
      });
      return group;
    }
    if (props.targetGroup) {
      props.targetGroup.addTarget(this.service.loadBalancerTarget({ containerName, containerPort, alternateTarget: plan.alternateTarget }));
    }
    return props.targetGroup;
  }

  private acknowledgeFindings(props: ResolvedServiceProps): void {
    acknowledgeTaskDefinition(this.taskDefinition);
    ServiceShared.of(this).acknowledgeExecutionPolicy();
    if (this.logGroup instanceof logs.LogGroup && this.logGroup.node.scope === this) acknowledgeLogGroup(this.logGroup, 'the service\'s container logs');
    // The artifact's binding gave the execution role pull on its repository; ECR's login action has no resource.
    const executionRole = this.taskDefinition.executionRole;
    if (executionRole && executionRole.node.scope === this.taskDefinition) {
      acknowledgeInlinePolicy(executionRole.node.tryFindChild('DefaultPolicy'), 'The task execution role\'s policy: pull the artifact\'s image, write this service\'s logs, read the secrets passed.');
      Validations.of(executionRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only ecr:GetAuthorizationToken is on *: ECR does not scope it to a repository. Pulling is limited to the artifact\'s repository, logs to this log group, secrets to the ones passed.',
      });
    }
    if (Object.keys(props.environment).length > 0) {
      Validations.of(this.taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason:
          'The environment holds configuration only: values that are secrets fail synthesis and secret-looking names give a warning; secrets go in `secrets`, read from Secrets Manager or SSM when the task starts.',
      });
    }
  }

  /**
   * Checks the props: what the constructor builds on (an artifact, where the service runs, which target
   * group it registers with, on what port, with what drain and rule priority) at once; every other problem is recorded, and synthesis reports them all.
   */
  private validate(props: ResolvedServiceProps): void {
    this.validateSources(props);
    if (props.targetGroup && props.listener) {
      throw this.error({ prop: 'targetGroup', problem: 'and listener are both given', fix: 'Pass targetGroup or listener, not both. With listener, the service creates its own target group.' });
    }
    if ((props.targetGroup || props.listener) && props.containerPort === undefined) {
      throw this.error({ prop: 'containerPort', problem: 'is missing', fix: 'A load-balanced service needs the port its container listens on.' });
    }
    // aws-cdk-lib's target group and listener rule refuse these with their own messages
    this.validateDeregistrationDelay(props);
    checkConstraints(describeConstruct(this, SERVICE_TYPE), [['ImmutableFargateService.listenerPriority', 'listenerPriority', props.listenerPriority]]);
    const problems = PropProblems.of(this, SERVICE_TYPE);
    problems.check(
      () => this.validateSize(props),
      () => this.validateCount(props),
      () => this.validateLoadBalancing(props),
      () => this.validateListenerOptions(props),
      () => this.validateWritableDirectories(props),
      () => this.checkImageCanWrite(props),
      () => this.checkEnvironment(props),
    );
    checkConstraints(problems, [
      ['ImmutableFargateService.containerName', 'containerName', props.containerName],
      ['ImmutableFargateService.serviceName', 'serviceName', props.serviceName],
    ]);
  }

  /** What the constructor builds on: an artifact, and a cluster or a VPC for one. */
  private validateSources(props: ResolvedServiceProps): void {
    if (!props.artifact) {
      throw this.error({ prop: 'artifact', problem: 'is missing', fix: 'Pass the IContainerArtifact to run, e.g. a ContainerImageBuild or ContainerArtifact.fromDigest(...).' });
    }
    if (!props.cluster && !props.vpc) {
      throw this.error({
        prop: 'cluster',
        problem: 'and vpc are both missing: pass cluster (an existing ECS cluster) or vpc (for a new cluster with Container Insights)',
        fix: 'Pass one of them.',
      });
    }
    if (props.cluster && props.vpc) {
      PropProblems.of(this, SERVICE_TYPE).add({ prop: 'cluster', problem: 'and vpc are both given', fix: 'Pass cluster or vpc, not both; the service runs in the cluster\'s VPC.' });
    }
  }

  private validateSize({ cpu, memoryLimitMiB: memory }: ResolvedServiceProps): void {
    if (known(cpu, memory)) {
      const size = FARGATE_SIZES.find((s) => s.cpu === cpu);
      if (!size) {
        throw this.error({ prop: 'cpu', value: cpu, problem: 'is not a Fargate size', fix: `Use one of ${FARGATE_SIZES.map((s) => s.cpu).join(', ')}.` });
      }
      const offered = size.only ? size.only.includes(memory) : memory >= size.from && memory <= size.to && (memory - size.from) % size.step === 0;
      if (!offered) {
        const choices = size.only ? size.only.join(', ') + ' MiB' : `${size.from} to ${size.to} MiB in steps of ${size.step}`;
        throw this.error({
          prop: 'memoryLimitMiB',
          value: memory,
          problem: `is not offered by Fargate with cpu ${cpu}`,
          fix: `With cpu ${cpu}, use ${choices}, or pick the cpu that offers ${memory} MiB.`,
        });
      }
    }
  }

  private validateCount({ desiredCount }: ResolvedServiceProps): void {
    if (known(desiredCount) && (!Number.isInteger(desiredCount) || desiredCount < 0)) {
      throw this.error({ prop: 'desiredCount', value: desiredCount, problem: 'should be a whole number, 0 or more', fix: 'Pass how many tasks run.' });
    }
  }

  private validateLoadBalancing(props: ResolvedServiceProps): void {
    const port = props.containerPort;
    if (port !== undefined && known(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw this.error({ prop: 'containerPort', value: port, problem: 'should be a port number from 1 to 65535', fix: 'Pass the port the container listens on.' });
    }
  }

  private validateListenerOptions(props: ResolvedServiceProps): void {
    const listenerOptions = [props.listenerPriority, props.listenerConditions, props.loadBalancerHealthCheck, props.deregistrationDelay];
    if (!props.listener && listenerOptions.some((option) => option !== undefined)) {
      throw this.error({
        prop: 'listenerPriority, listenerConditions, loadBalancerHealthCheck and deregistrationDelay',
        problem: 'apply only with listener',
        fix: 'Pass listener, or configure your targetGroup directly.',
      });
    }
  }

  private validateDeregistrationDelay(props: ResolvedServiceProps): void {
    const delay = props.deregistrationDelay;
    if (delay !== undefined && known(delay)) {
      const seconds = delay.toSeconds({ integral: false });
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > TARGET_GROUP_LIMITS.maxDeregistrationDelaySeconds) {
        throw this.error({
          prop: 'deregistrationDelay',
          value: delay,
          problem: `should be whole seconds from 0 to ${TARGET_GROUP_LIMITS.maxDeregistrationDelaySeconds}, the load balancer's limits`,
          fix: 'Pass Duration.seconds(n): as long as the longest request the service answers.',
        });
      }
    }
  }

  private validateWritableDirectories(props: ResolvedServiceProps): void {
    if (!props.readonlyRootFilesystem && props.writableDirectories.length > 0) {
      throw this.error({
        prop: 'writableDirectories',
        problem: 'applies only with a read-only root filesystem',
        fix: 'Remove it, or leave readonlyRootFilesystem at true.',
      });
    }
    const seen = new Set<string>();
    for (const directory of props.writableDirectories) {
      if (!directory.startsWith('/') || directory === '/') {
        throw this.error({ prop: `writableDirectories entry '${directory}'`, problem: 'should be an absolute directory path', fix: 'Pass a path such as \'/tmp\', not \'/\'.' });
      }
      const name = volumeName(directory);
      if (seen.has(name)) {
        throw this.error({ prop: 'writableDirectories', problem: `lists '${directory}' twice (or two paths that differ only in punctuation)`, fix: 'List each directory once.' });
      }
      seen.add(name);
    }
  }

  /**
   * On Fargate a bind-mount volume is owned by root with mode 0755, unless the image declares a
   * `VOLUME` at the same path, whose directory (files, owner and mode) ECS copies into it
   * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html). A non-root image
   * cannot write to a writable directory without one: it would crash-loop
   * (https://github.com/aws/containers-roadmap/issues/938). Checked when the artifact can say what
   * its image declares: an error only when the Dockerfile describes the whole image (its stages start
   * from `scratch`); a base image may declare volumes of its own, so with one it is a warning.
   */
  private checkImageCanWrite(props: ResolvedServiceProps): void {
    const runtime = props.readonlyRootFilesystem && describesImageRuntime(props.artifact) ? props.artifact._imageRuntime() : undefined;
    if (!runtime || (runtime.user !== undefined && isRootUser(runtime.user))) return;
    const unbacked = props.writableDirectories.filter((d) => !runtime.volumes.some((v) => samePath(v, d)));
    if (unbacked.length === 0) return;
    const fix = `Declare ${unbacked.length > 1 ? 'them' : 'it'} in the Dockerfile, writable by that user (for example after a chown): VOLUME ${JSON.stringify(unbacked)}; `
      + 'ECS then copies the image\'s directory, with its owner and mode, into the volume. Or set readonlyRootFilesystem: false.';
    const empty = `${unbacked.length > 1 ? 'are empty volumes' : 'is an empty volume'} owned by root (mode 0755) on Fargate`;
    if (runtime.user === undefined) {
      warn(this, 'writable-directory-without-volume',
        `writableDirectories ${unbacked.join(', ')} ${empty}, and the Dockerfile sets no USER: `
        + `if the base image runs as a non-root user, it cannot write there and the task fails to start. ${fix}`);
      return;
    }
    if (runtime.baseImage !== undefined) {
      // The base image may declare a VOLUME there itself, which the Dockerfile does not show: no verdict.
      warn(this, 'writable-directory-without-volume',
        `writableDirectories ${unbacked.join(', ')} ${empty}, and the Dockerfile declares no VOLUME there for the image's user (${runtime.user}): `
        + `unless the base image ${runtime.baseImage} declares one, that user cannot write there and the task fails to start. ${fix}`);
      return;
    }
    throw this.error({
      prop: 'writableDirectories',
      value: unbacked,
      problem: `would be empty volumes owned by root (mode 0755) on Fargate, which the image's user (${runtime.user}) cannot write to, so the task would fail to start`,
      fix,
    });
  }

  private checkEnvironment(props: ResolvedServiceProps) {
    for (const name of Object.keys(props.environment)) {
      if (Object.prototype.hasOwnProperty.call(props.secrets, name)) {
        PropProblems.of(this, SERVICE_TYPE).add({ prop: `environment variable ${name}`, problem: 'is in both environment and secrets', fix: 'Keep it in secrets only.' });
      }
    }
    checkPlaintextSecrets(this, SERVICE_TYPE, [
      ...entriesOf('environment variable', props.environment),
      ...[['serviceName', props.serviceName], ['containerName', props.containerName]].flatMap(([prop, value]) => (value !== undefined ? [{ prop: prop!, value }] : [])),
    ], {
      storedIn: 'the task definition',
      fix: (name) => (name !== undefined
        ? `Store it in Secrets Manager or SSM Parameter Store and pass it in secrets: { ${name}: ecs.Secret.fromSecretsManager(secret) }.`
        : 'Move secrets to secrets (ecs.Secret.fromSecretsManager or fromSsmParameter).'),
    });
  }

  private error(problem: Problem): Error {
    return constructError(this, SERVICE_TYPE, problem);
  }
}

/**
 * The health check of a target group the service creates: the given settings, and the defaults for
 * those left out. The unhealthy threshold follows the interval, so that a target is taken out after
 * about 60 s of failed checks at any interval (unless given).
 */
function healthCheckOf(given: elbv2.HealthCheck = {}): elbv2.HealthCheck {
  const interval = given.interval ?? Duration.seconds(TARGET_GROUP_DEFAULTS.healthCheckIntervalSeconds);
  return {
    ...given,
    interval,
    healthyThresholdCount: given.healthyThresholdCount ?? TARGET_GROUP_DEFAULTS.healthyThresholdCount,
    unhealthyThresholdCount: given.unhealthyThresholdCount ?? (interval.isUnresolved() ? undefined : unhealthyThresholdFor(interval.toSeconds())),
  };
}

/** A task volume name for a writable directory: `/var/cache/nginx` gives `writable-var-cache-nginx`. */
function volumeName(directory: string): string {
  const slug = directory.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return `writable-${slug}`.slice(0, 255);
}

/** The service's log streams: its construct path within the stack (unique there), without the characters a stream name may not hold. */
function streamPrefixOf(service: Construct): string {
  const stack = Stack.of(service);
  const relative = service.node.path.slice(stack.node.path.length + 1);
  return (relative || service.node.id).replace(/[:*]/g, '-');
}
