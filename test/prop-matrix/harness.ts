/**
 * How the prop matrix calls each constructor, factory and method of the public API: a valid call
 * (the baseline arguments), into which one prop at a time is set, inside a stack where what it makes
 * is used (an AMI by a group, an image by a service), so that the rendered template shows where the
 * prop's value lands.
 */
import * as path from 'path';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  AmiArtifact, AmiBake, BakeStep, BaseImage, ContainerArtifact, ContainerImageBuild, EcsDeployment, Fingerprint, IAmiArtifact,
  IContainerArtifact, ImmutabilityChecks, ImmutableAutoScalingGroup, ImmutableFargateService, InstanceHealthCheck, ReplacementStrategy,
  ReplicationDestination,
} from '../../src';

export const ENV = { account: '111111111111', region: 'eu-west-1' };
export const AMI = 'ami-0123456789abcdef0';
export const FINGERPRINT = 'ab'.repeat(32);
const CONTEXT = path.join(__dirname, '..', 'artifacts', 'container', 'fixtures', 'app');
const FILE = path.join(CONTEXT, 'index.html');

/** The arguments of one call, by parameter or prop name. */
export type Args = { [name: string]: any };

export interface Harness {
  /** A valid call's arguments. */
  baseline(stack: Stack): Args;
  /** Makes the call with `args` in `stack`, and uses what it makes. */
  call(stack: Stack, args: Args): void;
}

export function newStack(): Stack {
  const stack = new Stack(new App(), 'Matrix', { env: ENV });
  ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'],
    publicSubnetIds: ['subnet-00000000000000003', 'subnet-00000000000000004'],
  });
  return stack;
}
const vpcOf = (stack: Stack) => stack.node.findChild('Vpc') as ec2.IVpc;

/** A group that runs `artifact`: where an AMI's settings land. */
function runAmi(stack: Stack, artifact: IAmiArtifact, extra: Partial<ConstructorParameters<typeof ImmutableAutoScalingGroup>[2]> = {}) {
  return new ImmutableAutoScalingGroup(stack, 'Fleet', { vpc: vpcOf(stack), artifact, instanceType: new ec2.InstanceType('t3.small'), ...extra });
}

/** A service that runs `artifact`: where an image's settings land. */
function runImage(stack: Stack, artifact: IContainerArtifact, extra: Partial<ConstructorParameters<typeof ImmutableFargateService>[2]> = {}) {
  return new ImmutableFargateService(stack, 'Service', { vpc: vpcOf(stack), artifact, ...extra });
}

function digestArtifact(stack: Stack): IContainerArtifact {
  return ContainerArtifact.fromDigest(stack, 'Artifact', { repository: ecr.Repository.fromRepositoryName(stack, 'Repository', 'web'), imageDigest: `sha256:${'a'.repeat(64)}` });
}

function bakeWith(stack: Stack, props: Partial<ConstructorParameters<typeof AmiBake>[2]>) {
  return new AmiBake(stack, 'Bake', { baseImage: BaseImage.fromAmiId(AMI), steps: [BakeStep.shell(['true'])], ...props });
}

/** A load balancer with the two target groups and the rules ECS's traffic-shifting deployments take. */
function trafficShift(stack: Stack) {
  const vpc = vpcOf(stack);
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
  const listener = alb.addListener('Http', { port: 80, open: false, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  const group = (id: string) => new elbv2.ApplicationTargetGroup(stack, id, {
    vpc, port: 8080, protocol: elbv2.ApplicationProtocol.HTTP, targetType: elbv2.TargetType.IP,
  });
  const blue = group('Blue');
  const green = group('Green');
  const rule = new elbv2.ApplicationListenerRule(stack, 'Rule', {
    listener,
    priority: 1,
    conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])],
    action: elbv2.ListenerAction.weightedForward([{ targetGroup: blue, weight: 100 }, { targetGroup: green, weight: 0 }]),
  });
  return { blue, green, rule };
}

/** A traffic-shifting deployment's harness: the deployment runs a service behind the load balancer. */
function shifting(factory: (options: any) => EcsDeployment): Harness {
  const shared = new WeakMap<Stack, ReturnType<typeof trafficShift>>();
  const lb = (stack: Stack) => {
    if (!shared.has(stack)) shared.set(stack, trafficShift(stack));
    return shared.get(stack)!;
  };
  return {
    baseline: (stack) => ({ alternateTargetGroup: lb(stack).green, productionListenerRule: lb(stack).rule }),
    call: (stack, args) => runImage(stack, digestArtifact(stack), { deployment: factory(args), targetGroup: lb(stack).blue, containerPort: 8080 }),
  };
}

/** A replacement strategy's harness: a group of 2 to 4 instances replaced by it. */
function replacing(factory: (options: any) => ReplacementStrategy): Harness {
  return {
    baseline: () => ({}),
    call: (stack, args) => runAmi(stack, AmiArtifact.fromAmiId(AMI), { replacement: factory(args), minCapacity: 2, maxCapacity: 4 }),
  };
}

/** Every callable of the public API that takes props. */
export const HARNESS: { [callable: string]: Harness } = {
  'AmiBake': {
    baseline: () => ({ baseImage: BaseImage.fromAmiId(AMI), steps: [BakeStep.shell(['true'])] }),
    call: (stack, args) => runAmi(stack, new AmiBake(stack, 'Bake', args as any)),
  },
  'AmiArtifact.fromAmiId': {
    baseline: () => ({ amiId: AMI }),
    call: (stack, { amiId, ...options }) => runAmi(stack, AmiArtifact.fromAmiId(amiId, options)),
  },
  'AmiArtifact.fromFingerprint': {
    baseline: () => ({ fingerprint: FINGERPRINT }),
    call: (stack, args) => runAmi(stack, AmiArtifact.fromFingerprint(stack, 'Imported', args as any)),
  },
  'BaseImage.fromAmiId': {
    baseline: () => ({ amiId: AMI }),
    call: (stack, { amiId, ...options }) => runAmi(stack, bakeWith(stack, { baseImage: BaseImage.fromAmiId(amiId, options) })),
  },
  'BaseImage.fromAmiArtifact': {
    baseline: () => ({ artifact: AmiArtifact.fromAmiId(AMI) }),
    call: (stack, { artifact, ...options }) => runAmi(stack, bakeWith(stack, { baseImage: BaseImage.fromAmiArtifact(artifact, options) })),
  },
  'BaseImage.fromSsmParameter': {
    baseline: () => ({ parameterName: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' }),
    call: (stack, { parameterName, ...options }) => runAmi(stack, bakeWith(stack, { baseImage: BaseImage.fromSsmParameter(parameterName, options) })),
  },
  'BakeStep.shell': { baseline: () => ({ commands: ['true'] }), call: (stack, args) => runAmi(stack, bakeWith(stack, { steps: [BakeStep.shell(args.commands)] })) },
  'BakeStep.document': {
    baseline: () => ({ yaml: 'name: D\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Run\n        action: ExecuteBash\n        inputs:\n          commands:\n            - "true"\n' }),
    call: (stack, args) => runAmi(stack, bakeWith(stack, { steps: [BakeStep.document(args.yaml)] })),
  },
  'BakeStep.file': {
    baseline: () => ({ localPath: FILE, remotePath: '/opt/app/index.html' }),
    call: (stack, args) => runAmi(stack, bakeWith(stack, { steps: [BakeStep.file(args.localPath, args.remotePath)] })),
  },
  'BakeStep.directory': {
    baseline: () => ({ localPath: CONTEXT, remotePath: '/opt/app' }),
    call: (stack, { localPath, remotePath, ...options }) => runAmi(stack, bakeWith(stack, {
      steps: [BakeStep.directory(localPath, remotePath, options)],
    })),
  },
  'BakeStep.awsManaged': {
    baseline: () => ({ name: 'update-linux', version: '1.0.2' }),
    call: (stack, args) => runAmi(stack, bakeWith(stack, { steps: [BakeStep.awsManaged(args.name, args.version)] })),
  },
  'ContainerImageBuild': {
    baseline: () => ({ directory: CONTEXT }),
    call: (stack, args) => runImage(stack, new ContainerImageBuild(stack, 'Image', args as any)),
  },
  'ContainerImageBuild.grantPull': {
    baseline: (stack) => ({ grantee: new iam.Role(stack, 'Puller', { assumedBy: new iam.AccountRootPrincipal() }) }),
    call: (stack, args) => new ContainerImageBuild(stack, 'Image', { directory: CONTEXT }).grantPull(args.grantee),
  },
  'ContainerArtifact.fromDigest': {
    baseline: (stack) => ({ repository: ecr.Repository.fromRepositoryName(stack, 'Repository', 'web'), imageDigest: `sha256:${'a'.repeat(64)}` }),
    call: (stack, args) => runImage(stack, ContainerArtifact.fromDigest(stack, 'Imported', args as any)),
  },
  'ContainerArtifact.fromFingerprint': {
    baseline: (stack) => ({ repository: ecr.Repository.fromRepositoryName(stack, 'Repository', 'web'), fingerprint: FINGERPRINT }),
    call: (stack, args) => runImage(stack, ContainerArtifact.fromFingerprint(stack, 'Imported', args as any)),
  },
  'ImmutableFargateService': {
    baseline: (stack) => ({ vpc: vpcOf(stack), artifact: digestArtifact(stack) }),
    call: (stack, args) => {
      // A target group or listener needs the port; the listener options need the listener.
      const extra = (args.targetGroup || args.listener) && args.containerPort === undefined ? { containerPort: 8080 } : {};
      const needsListener = ['listenerPriority', 'listenerConditions', 'loadBalancerHealthCheck', 'deregistrationDelay'].some((k) => args[k] !== undefined) && !args.listener;
      const listener = needsListener
        ? new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: vpcOf(stack) }).addListener('Http', { port: 80, open: false, defaultAction: elbv2.ListenerAction.fixedResponse(404) })
        : undefined;
      const paired = args.listenerPriority !== undefined && !args.listenerConditions ? { listenerConditions: [elbv2.ListenerCondition.pathPatterns(['/*'])] }
        : args.listenerConditions !== undefined && args.listenerPriority === undefined ? { listenerPriority: 1 }
        // The harness's listener keeps its own default action: the service routes through a rule of its own.
          : needsListener ? { listenerPriority: 1, listenerConditions: [elbv2.ListenerCondition.pathPatterns(['/*'])] } : {};
      const cluster = args.cluster ? { vpc: undefined } : {};
      new ImmutableFargateService(stack, 'Service', { ...args, ...extra, ...paired, ...cluster, ...(listener ? { listener, containerPort: args.containerPort ?? 8080 } : {}) } as any);
    },
  },
  'EcsDeployment.rolling': { baseline: () => ({}), call: (stack, args) => runImage(stack, digestArtifact(stack), { deployment: EcsDeployment.rolling(args) }) },
  'EcsDeployment.blueGreen': shifting((o) => EcsDeployment.blueGreen(o)),
  'EcsDeployment.canary': shifting((o) => EcsDeployment.canary(o)),
  'EcsDeployment.linear': shifting((o) => EcsDeployment.linear(o)),
  'ImmutableAutoScalingGroup': {
    baseline: (stack) => ({ vpc: vpcOf(stack), artifact: AmiArtifact.fromAmiId(AMI), instanceType: new ec2.InstanceType('t3.small') }),
    call: (stack, args) => new ImmutableAutoScalingGroup(stack, 'Fleet', args as any),
  },
  'ImmutableAutoScalingGroup.attachToApplicationTargetGroup': {
    baseline: (stack) => ({ targetGroup: new elbv2.ApplicationTargetGroup(stack, 'Targets', { vpc: vpcOf(stack), port: 80, protocol: elbv2.ApplicationProtocol.HTTP }) }),
    call: (stack, { targetGroup, ...options }) => runAmi(stack, AmiArtifact.fromAmiId(AMI)).attachToApplicationTargetGroup(targetGroup, options),
  },
  'InstanceHealthCheck.command': {
    baseline: () => ({ command: 'true' }),
    call: (stack, { command, ...options }) => runAmi(stack, AmiArtifact.fromAmiId(AMI), {
      healthCheck: InstanceHealthCheck.command(command, options),
    }),
  },
  'InstanceHealthCheck.http': {
    baseline: () => ({ port: 8080 }),
    call: (stack, args) => runAmi(stack, AmiArtifact.fromAmiId(AMI), { healthCheck: InstanceHealthCheck.http(args as any) }),
  },
  'InstanceHealthCheck.tcp': {
    baseline: () => ({ port: 8080 }),
    call: (stack, { port, ...options }) => runAmi(stack, AmiArtifact.fromAmiId(AMI), { healthCheck: InstanceHealthCheck.tcp(port, options) }),
  },
  'ReplacementStrategy.replaceGroup': replacing((o) => ReplacementStrategy.replaceGroup(o)),
  'ReplacementStrategy.rolling': replacing((o) => ReplacementStrategy.rolling(o)),
  'ReplacementStrategy.instanceRefresh': replacing((o) => ReplacementStrategy.instanceRefresh(o)),
  'ReplicationDestination': { baseline: () => ({}), call: (stack, args) => new ReplicationDestination(stack, 'Replicas', args) },
  'ImmutabilityChecks': { baseline: () => ({}), call: (stack, args) => Aspects.of(stack).add(new ImmutabilityChecks(args)) },
  'ImmutabilityChecks.findingId': { baseline: () => ({ ruleId: ImmutabilityChecks.RULE_IDS[0] }), call: (_stack, args) => ImmutabilityChecks.findingId(args.ruleId) },
  'ImmutabilityChecks.visit': { baseline: (stack) => ({ node: stack }), call: (_stack, args) => new ImmutabilityChecks().visit(args.node) },
  'Fingerprint.combine': { baseline: () => ({ parts: Fingerprint.ofString('a') }), call: (_stack, args) => Fingerprint.combine(args.parts) },
  'Fingerprint.ofDirectory': {
    baseline: () => ({ directory: CONTEXT }),
    call: (_stack, { directory, ...options }) => Fingerprint.ofDirectory(directory, options),
  },
  'Fingerprint.ofFile': { baseline: () => ({ file: FILE }), call: (_stack, args) => Fingerprint.ofFile(args.file) },
  'Fingerprint.ofJson': { baseline: () => ({ value: { a: 1 } }), call: (_stack, args) => Fingerprint.ofJson(args.value) },
  'Fingerprint.ofString': { baseline: () => ({ value: 'a' }), call: (_stack, args) => Fingerprint.ofString(args.value) },
  'Fingerprint.sameAs': { baseline: () => ({ other: Fingerprint.ofString('a') }), call: (_stack, args) => Fingerprint.ofString('a').sameAs(args.other) },
};

/** `args` with the value at `path` (`a`, `a.b`, `list[].c`) replaced. */
export function withValue(args: Args, propPath: string, value: unknown): Args {
  const [head, ...rest] = propPath.split('.');
  if (rest.length === 0 && !head.endsWith('[]')) return { ...args, [head]: value };
  if (head.endsWith('[]')) {
    const name = head.slice(0, -2);
    const first = (args[name] ?? [])[0] ?? {};
    return { ...args, [name]: [withValue(first, rest.join('.'), value)] };
  }
  return { ...args, [head]: withValue(args[head] ?? {}, rest.join('.'), value) };
}

/** The baseline element of a list of structs, where a prop inside it needs its siblings (a replication target needs its region). */
export const ELEMENT_BASELINES: { [structArray: string]: Args } = {
  'ContainerImageBuild.replicateTo': { region: 'us-east-1' },
};

/** Props that take effect only with another: set together, so that a probe meets no other prop's rule. */
export const COMPANIONS: { [key: string]: Args } = {
  'ReplacementStrategy.instanceRefresh.checkpointDelay': { checkpoints: [50, 100] },
  'ReplacementStrategy.instanceRefresh.minHealthyPercentage': { maxHealthyPercentage: 100 },
};
