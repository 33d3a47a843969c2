import { Annotations, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { EcsDeploymentSettings } from './deployment-settings';
import { EcsDeployment } from './ecs-deployment';
import { isDynamicSecretReference, looksLikeSecretName, secretValueKind } from './plaintext-secrets';
import { IContainerArtifact } from '../../artifacts/container/artifact';
import { ContainerPlatform } from '../../artifacts/container/platform';

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
   * @default - a new log group, kept when the stack is deleted, whose events expire after `logRetention`
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
   * what runs is exactly the artifact. `writableDirectories` stay writable (and empty at start).
   *
   * @default true
   */
  readonly readonlyRootFilesystem?: boolean;

  /**
   * Directories that stay writable when the root filesystem is read-only, each an empty task-scoped
   * volume.
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
   * An Application Load Balancer listener to route to the tasks, through a new target group.
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
   * The health check of the target group created for `listener`.
   *
   * @default - HTTP GET / on the container port
   */
  readonly loadBalancerHealthCheck?: elbv2.HealthCheck;

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
   * Whether tasks get a public IP address.
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

    const deployment = props.deployment ?? EcsDeployment.rolling();
    const settings = deployment._settings;
    this.deployment = deployment;

    this.validate(props, settings);

    const platform = props.platform ?? props.artifact.platform;
    const cpu = props.cpu ?? 256;
    const memoryLimitMiB = props.memoryLimitMiB ?? 512;
    const readonlyRootFilesystem = props.readonlyRootFilesystem ?? true;

    this.cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.logGroup = props.logGroup ?? new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu,
      memoryLimitMiB,
      taskRole: props.taskRole,
      runtimePlatform: {
        cpuArchitecture: platform.cpuArchitecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.taskRole = this.taskDefinition.taskRole;

    this.container = this.taskDefinition.addContainer('Container', {
      containerName: props.containerName ?? 'app',
      // By digest: `<repository>@sha256:...`. Binding grants the execution role pull on this repository only.
      image: props.artifact.containerImage,
      essential: true,
      environment: props.environment,
      secrets: props.secrets,
      healthCheck: props.healthCheck,
      readonlyRootFilesystem,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'app' }),
      portMappings: props.containerPort !== undefined ? [{ containerPort: props.containerPort, protocol: ecs.Protocol.TCP }] : undefined,
    });

    // The artifact's binding gave the execution role pull on its repository; ECR's login action has no resource.
    const executionRole = this.taskDefinition.executionRole;
    if (executionRole) {
      Validations.of(executionRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only ecr:GetAuthorizationToken is on *: ECR does not scope it to a repository. Pulling is limited to the artifact\'s repository, logs to this log group, secrets to the ones passed.',
      });
    }

    if (readonlyRootFilesystem) {
      for (const directory of props.writableDirectories ?? ['/tmp']) {
        const name = volumeName(directory);
        this.taskDefinition.addVolume({ name });
        this.container.addMountPoints({ containerPath: directory, sourceVolume: name, readOnly: false });
      }
    }

    if (props.environment && Object.keys(props.environment).length > 0) {
      Validations.of(this.taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason:
          'The environment holds configuration only: values that are secrets fail synthesis and secret-looking names give a warning; secrets go in `secrets`, read from Secrets Manager or SSM when the task starts.',
      });
    }

    const trafficShift = settings.trafficShift;
    const loadBalanced = props.targetGroup !== undefined || props.listener !== undefined;

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      serviceName: props.serviceName,
      desiredCount: props.desiredCount ?? 2,
      securityGroups: props.securityGroups,
      vpcSubnets: props.vpcSubnets,
      assignPublicIp: props.assignPublicIp ?? false,
      minHealthyPercent: settings.minHealthyPercent,
      maxHealthyPercent: settings.maxHealthyPercent,
      circuitBreaker: { enable: true, rollback: true },
      deploymentAlarms: settings.alarms.length > 0
        ? { alarmNames: settings.alarms.map((a) => a.alarmName), behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM }
        : undefined,
      healthCheckGracePeriod: loadBalanced ? settings.healthCheckGracePeriod : undefined,
      deploymentStrategy: settings.strategy,
      bakeTime: settings.bakeTime,
      canaryConfiguration: settings.canary,
      linearConfiguration: settings.linear,
    });
    this.connections = this.service.connections;

    if (settings.minHealthyPercent < 100 && !Token.isUnresolved(settings.minHealthyPercent)) {
      Annotations.of(this).addWarningV2(
        'cdk-immutable-deploys:min-healthy-below-100',
        `minHealthyPercent (${settings.minHealthyPercent}) lets ECS stop old tasks before their replacements are healthy, so capacity drops during each deployment. Keep 100 unless the cluster cannot hold the extra tasks.`,
      );
    }

    const containerName = this.container.containerName;
    if (props.listener) {
      const group = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
        vpc: this.cluster.vpc,
        port: props.containerPort,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        healthCheck: props.loadBalancerHealthCheck,
      });
      group.addTarget(this.service.loadBalancerTarget({ containerName, containerPort: props.containerPort }));
      props.listener.addTargetGroups(`${this.node.id}Targets`, {
        targetGroups: [group],
        priority: props.listenerPriority,
        conditions: props.listenerConditions,
      });
      this.targetGroup = group;
    } else if (props.targetGroup) {
      const alternateTarget = trafficShift
        ? new ecs.AlternateTarget('AlternateTarget', {
          alternateTargetGroup: trafficShift.alternateTargetGroup,
          productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(trafficShift.productionListenerRule),
          testListener: trafficShift.testListenerRule
            ? ecs.ListenerRuleConfiguration.applicationListenerRule(trafficShift.testListenerRule)
            : undefined,
          role: trafficShift.infrastructureRole ?? this.infrastructureRole(props.targetGroup, trafficShift.alternateTargetGroup, [
            trafficShift.productionListenerRule,
            ...(trafficShift.testListenerRule ? [trafficShift.testListenerRule] : []),
          ]),
        })
        : undefined;
      props.targetGroup.addTarget(this.service.loadBalancerTarget({ containerName, containerPort: props.containerPort, alternateTarget }));
      this.targetGroup = props.targetGroup;
    }

    if (trafficShift?.lifecycleHook) {
      const stages = trafficShift.lifecycleHookStages ?? [
        trafficShift.testListenerRule ? ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT : ecs.DeploymentLifecycleStage.POST_SCALE_UP,
      ];
      // ECS invokes the function's unqualified ARN: allow exactly that, not its versions and aliases too.
      const role = new iam.Role(this, 'LifecycleHookRole', {
        assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
        description: 'Lets ECS invoke this service\'s deployment lifecycle hook',
      });
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [trafficShift.lifecycleHook.functionArn],
      }));
      const hook = new ecs.DeploymentLifecycleLambdaTarget(trafficShift.lifecycleHook, 'LifecycleHook', { lifecycleStages: stages, role });
      this.service.addLifecycleHook(hook);
    }
  }

  /**
   * The role ECS assumes to move blue/green traffic: it describes load balancer resources and changes
   * only these target groups and listener rules.
   */
  private infrastructureRole(
    production: elbv2.IApplicationTargetGroup,
    alternate: elbv2.IApplicationTargetGroup,
    rules: elbv2.ApplicationListenerRule[],
  ): iam.IRole {
    const role = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: 'Lets ECS shift blue/green traffic between this service\'s target groups',
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeRules',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetHealth',
      ],
      resources: ['*'],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      resources: [production.targetGroupArn, alternate.targetGroupArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['elasticloadbalancing:ModifyRule'],
      resources: rules.map((r) => r.listenerRuleArn),
    }));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the Elastic Load Balancing Describe* actions, which support no resource-level permissions, are on *; every change is limited to the two target groups and the listener rules of this service.',
    });
    return role;
  }

  private validate(props: ImmutableFargateServiceProps, settings: EcsDeploymentSettings) {
    const where = `ImmutableFargateService '${this.node.path}'`;
    if (!props.artifact) {
      throw new Error(`${where}: artifact is missing. Pass the IContainerArtifact to run, e.g. a ContainerImageBuild or ContainerArtifact.fromDigest(...).`);
    }
    if (!props.cluster && !props.vpc) {
      throw new Error(`${where}: pass cluster (an existing ECS cluster) or vpc (for a new cluster with Container Insights).`);
    }
    if (props.cluster && props.vpc) {
      throw new Error(`${where}: pass cluster or vpc, not both; the service runs in the cluster's VPC.`);
    }

    const cpu = props.cpu ?? 256;
    const memory = props.memoryLimitMiB ?? 512;
    if (!Token.isUnresolved(cpu) && !Token.isUnresolved(memory)) {
      const size = FARGATE_SIZES.find((s) => s.cpu === cpu);
      if (!size) {
        throw new Error(`${where}: cpu (${cpu}) is not a Fargate size. Use one of ${FARGATE_SIZES.map((s) => s.cpu).join(', ')}.`);
      }
      const offered = size.only ? size.only.includes(memory) : memory >= size.from && memory <= size.to && (memory - size.from) % size.step === 0;
      if (!offered) {
        const choices = size.only ? size.only.join(', ') + ' MiB' : `${size.from} to ${size.to} MiB in steps of ${size.step}`;
        throw new Error(
          `${where}: memoryLimitMiB (${memory}) is not offered by Fargate with cpu ${cpu}. With cpu ${cpu}, use ${choices}, or pick the cpu that offers ${memory} MiB.`,
        );
      }
    }

    const desiredCount = props.desiredCount ?? 2;
    if (!Token.isUnresolved(desiredCount) && (!Number.isInteger(desiredCount) || desiredCount < 0)) {
      throw new Error(`${where}: desiredCount (${desiredCount}) should be a whole number, 0 or more.`);
    }

    const artifactPlatform = props.artifact.platform;
    if (props.platform && artifactPlatform && props.platform.platform !== artifactPlatform.platform) {
      throw new Error(
        `${where}: platform (${props.platform.platform}) does not match the artifact, which is built for ${artifactPlatform.platform}: its image cannot run on a ${props.platform.platform} task. Remove platform to follow the artifact, or pass an artifact built for ${props.platform.platform}.`,
      );
    }

    const port = props.containerPort;
    if (port !== undefined && !Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw new Error(`${where}: containerPort (${port}) should be a port number from 1 to 65535.`);
    }
    if (props.targetGroup && props.listener) {
      throw new Error(`${where}: pass targetGroup or listener, not both. With listener, the service creates its own target group.`);
    }
    if ((props.targetGroup || props.listener) && port === undefined) {
      throw new Error(`${where}: containerPort is missing. A load-balanced service needs the port its container listens on.`);
    }
    const listenerOptions = [props.listenerPriority, props.listenerConditions, props.loadBalancerHealthCheck];
    if (!props.listener && listenerOptions.some((option) => option !== undefined)) {
      throw new Error(`${where}: listenerPriority, listenerConditions and loadBalancerHealthCheck apply only with listener. Pass listener, or configure your targetGroup directly.`);
    }

    const trafficShift = settings.trafficShift;
    if (trafficShift) {
      const method = strategyMethod(settings.strategy);
      if (!props.targetGroup) {
        throw new Error(
          `${where}: EcsDeployment.${method}() needs targetGroup, the production target group that productionListenerRule forwards to${props.listener ? ' (listener cannot be used: the rule must forward to both target groups)' : ''}. Pass targetGroup and containerPort.`,
        );
      }
      if (trafficShift.alternateTargetGroup === props.targetGroup) {
        throw new Error(`${where}: EcsDeployment.${method}() alternateTargetGroup is the service's targetGroup. Pass a second target group for the new tasks.`);
      }
    }

    const readonlyRoot = props.readonlyRootFilesystem ?? true;
    if (!readonlyRoot && props.writableDirectories) {
      throw new Error(`${where}: writableDirectories applies only with a read-only root filesystem; remove it, or leave readonlyRootFilesystem at true.`);
    }
    const seen = new Set<string>();
    for (const directory of props.writableDirectories ?? []) {
      if (!directory.startsWith('/') || directory === '/') {
        throw new Error(`${where}: writableDirectories entry '${directory}' should be an absolute directory path such as '/tmp', not '/'.`);
      }
      const name = volumeName(directory);
      if (seen.has(name)) {
        throw new Error(`${where}: writableDirectories lists '${directory}' twice (or two paths that differ only in punctuation).`);
      }
      seen.add(name);
    }

    this.checkEnvironment(where, props.environment ?? {}, props.secrets ?? {});
  }

  private checkEnvironment(where: string, environment: { [key: string]: string }, secrets: { [key: string]: ecs.Secret }) {
    const suspicious: string[] = [];
    for (const [name, value] of Object.entries(environment)) {
      if (Object.prototype.hasOwnProperty.call(secrets, name)) {
        throw new Error(`${where}: ${name} is in both environment and secrets. Keep it in secrets only.`);
      }
      if (Token.isUnresolved(value)) {
        let resolved: unknown;
        try {
          resolved = Stack.of(this).resolve(value);
        } catch {
          resolved = undefined; // not resolvable yet: nothing to judge
        }
        if (isDynamicSecretReference(resolved)) {
          throw new Error(
            `${where}: environment variable ${name} is a secret's value (a dynamic reference to Secrets Manager or SSM SecureString), which would be stored in plain text in the task definition. Pass it in secrets instead: secrets: { ${name}: ecs.Secret.fromSecretsManager(secret) }.`,
          );
        }
      } else {
        const kind = secretValueKind(value);
        if (kind) {
          throw new Error(
            `${where}: environment variable ${name} holds what looks like ${kind}, which would be stored in plain text in the task definition. Store it in Secrets Manager or SSM Parameter Store and pass it in secrets: { ${name}: ecs.Secret.fromSecretsManager(secret) }.`,
          );
        }
      }
      if (looksLikeSecretName(name)) suspicious.push(name);
    }
    if (suspicious.length > 0) {
      Annotations.of(this).addWarningV2(
        'cdk-immutable-deploys:plaintext-secret',
        `environment variable${suspicious.length > 1 ? 's' : ''} ${suspicious.join(', ')} look${suspicious.length > 1 ? '' : 's'} like ${suspicious.length > 1 ? 'they hold secrets' : 'it holds a secret'}, but environment is plain text in the task definition. Move secrets to secrets (ecs.Secret.fromSecretsManager or fromSsmParameter); if the value is not secret (e.g. a secret's name), acknowledge this warning.`,
      );
    }
  }
}

function strategyMethod(strategy: ecs.DeploymentStrategy): string {
  switch (strategy) {
    case ecs.DeploymentStrategy.CANARY: return 'canary';
    case ecs.DeploymentStrategy.LINEAR: return 'linear';
    case ecs.DeploymentStrategy.BLUE_GREEN: return 'blueGreen';
    default: return 'rolling';
  }
}

/** A task volume name for a writable directory: `/var/cache/nginx` gives `writable-var-cache-nginx`. */
function volumeName(directory: string): string {
  const slug = directory.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return `writable-${slug}`.slice(0, 255);
}
