/**
 * Pairing: an artifact and what runs it must agree on every attribute that both sides know at synth
 * time (architecture, operating system, root device, platform, region, account), or EC2, ECS or the
 * stack's runtime refuses the pair at deploy time, after a bake or a build has run. One module for
 * every consumer: the two deployments, a plain launch template, instance or task definition (through
 * an artifact's `machineImage` or `containerImage`), and a layered bake (`BaseImage.fromAmiArtifact`).
 *
 * An attribute that one side does not know (an AMI imported by id without its architecture, a stack
 * without an explicit environment, a token) is not checked: nothing is guessed.
 *
 * Internal: never exported from the package.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct, IConstruct } from 'constructs';
import { constructError, describeConstruct, optionError, PropProblems, SynthError } from './errors';
import { artifactInScope } from './promotion';
import type { IAmiArtifact } from '../artifacts/ami/artifact';
import type { BaseImageOptions } from '../artifacts/ami/base-image';
import type { IContainerArtifact } from '../artifacts/container/artifact';
import type { ContainerPlatform } from '../artifacts/container/platform';

/**
 * Where an artifact passed as an object can be used: its own account and region, and those it is
 * copied, shared or replicated to. Artifacts that know (an `AmiBake`, a `ContainerImageBuild`) give
 * one through `_reach()`.
 */
export interface Reach {
  /** The artifact as messages name it: its path and type. */
  readonly artifact: string;
  /** The artifact's own region and account (never tokens). */
  readonly region: string;
  readonly account: string;
  /** Whether a stack in `region` and `account` can use the artifact when it is passed as an object. */
  reaches(region: string, account: string): boolean;
  /** What to change so that it can, as a sentence. */
  fix(region: string, account: string): string;
}

interface Reachable {
  _reach(): Reach | undefined;
}

function reachOf(artifact: unknown): Reach | undefined {
  const candidate = artifact as Partial<Reachable>;
  return typeof candidate._reach === 'function' ? candidate._reach() : undefined;
}

/** A stack's region and account, when both are known at synth time. */
function envOf(scope: IConstruct): { region: string; account: string } | undefined {
  const stack = Stack.of(scope);
  if (Token.isUnresolved(stack.region) || Token.isUnresolved(stack.account)) return undefined;
  return { region: stack.region, account: stack.account };
}

/**
 * The artifact must exist where `consumer`'s stack runs: an artifact of another stack, passed as an
 * object, is imported there by fingerprint, which finds nothing in a region or account it is not
 * copied or shared to. Refused at synth, naming what to add.
 */
export function checkReach(consumer: IConstruct, where: string, prop: string, artifact: unknown): void {
  if (!Construct.isConstruct(artifact as IConstruct)) return;
  if (Stack.of(artifact as IConstruct) === Stack.of(consumer)) return;
  const reach = reachOf(artifact);
  const here = envOf(consumer);
  if (!reach || !here) return;
  if (here.region === reach.region && here.account === reach.account) return;
  if (reach.reaches(here.region, here.account)) return;
  throw new SynthError(where, {
    prop,
    value: reach.artifact,
    problem: `is in ${reach.region}, account ${reach.account}, and does not reach ${here.region}, account ${here.account}, where this stack runs: the deploy would fail looking it up`,
    fix: reach.fix(here.region, here.account),
  });
}

/** The processor architecture of an instance type, or undefined when not known (a token, a family aws-cdk-lib does not know). */
export function architectureOf(instanceType: ec2.InstanceType | string | undefined): ec2.InstanceArchitecture | undefined {
  if (instanceType === undefined) return undefined;
  const name = instanceType.toString();
  if (Token.isUnresolved(name)) return undefined;
  try {
    return new ec2.InstanceType(name).architecture;
  } catch {
    return undefined;
  }
}

/** An instance type of the architecture, for messages. */
export function exampleInstanceType(architecture: ec2.InstanceArchitecture): string {
  return architecture === ec2.InstanceArchitecture.ARM_64 ? 'm7g.large or t4g.small' : 'm7i.large or t3.small';
}

/** One instance type a consumer launches the AMI on, and the prop that names it. */
export interface InstanceTypeUse {
  readonly prop: string;
  readonly instanceType: ec2.InstanceType | string;
}

/**
 * Every instance type must have the AMI's architecture: EC2 refuses the launch ("The architecture
 * 'x86_64' of the specified instance type does not match the architecture 'arm64' of the specified
 * AMI"). `where` is the consumer as messages name it (path and type), `ami` the AMI.
 */
export function checkArchitecture(where: string, ami: string, architecture: ec2.InstanceArchitecture | undefined, uses: InstanceTypeUse[], what = 'artifact'): void {
  if (architecture === undefined) return;
  for (const use of uses) {
    const actual = architectureOf(use.instanceType);
    if (actual === undefined || actual === architecture) continue;
    throw new SynthError(where, {
      prop: use.prop,
      value: use.instanceType.toString(),
      problem: `is ${actual}, but ${ami} is ${architecture}`,
      fix: `Pass ${architecture} instance types, such as ${exampleInstanceType(architecture)}, or an ${actual} ${what}: EC2 launches an AMI only on instance types of its architecture.`,
    });
  }
}

/** What a consumer says about the AMI it runs. */
export interface AmiRunner {
  /** The instance types it launches the AMI on. */
  readonly instanceTypes?: InstanceTypeUse[];
  /** The root device it maps (and encrypts), and the prop that names it. */
  readonly rootDevice?: { readonly prop: string; readonly name: string };
}

/**
 * An AMI artifact as `consumer` runs it: checked against what the consumer says (architecture, root
 * device), where it exists (region, account), and imported into the consumer's stack when it is
 * another stack's.
 */
export function pairAmi(consumer: Construct, type: string, artifact: IAmiArtifact, runner: AmiRunner): IAmiArtifact {
  if (!artifact) return artifact; // the consumer says it is missing
  const where = describeConstruct(consumer, type);
  const ami = `the artifact${Construct.isConstruct(artifact as unknown as IConstruct) ? ` (${(artifact as unknown as IConstruct).node.path})` : ''}`;
  // A mismatch of what runs it is recorded (synthesis reports it with every other problem); an
  // artifact out of reach fails at once, before it is imported into the consumer's stack.
  const problems = PropProblems.of(consumer, type);
  problems.check(() => checkArchitecture(where, ami, artifact.architecture, runner.instanceTypes ?? []));
  const root = runner.rootDevice;
  const known = root && artifact.rootDeviceName !== undefined && !Token.isUnresolved(root.name) && !Token.isUnresolved(artifact.rootDeviceName);
  if (root && known && root.name !== artifact.rootDeviceName) {
    problems.add({
      prop: root.prop,
      value: root.name,
      problem: `is not the root device of ${ami}, which is ${artifact.rootDeviceName}: the launch template would add a second volume, and leave the root volume unsized and encrypted only as the AMI is`,
      fix: `Leave ${root.prop} out to follow the artifact, or pass '${artifact.rootDeviceName}'.`,
    });
  }
  checkReach(consumer, where, 'artifact', artifact);
  return artifactInScope(consumer, artifact);
}

/**
 * What `BaseImage.fromAmiArtifact()` is told about the artifact must not contradict what the artifact
 * says: the bake would pick build instances, a root device or a shell for the wrong image.
 */
export function checkBaseImageOptions(artifact: IAmiArtifact, options: BaseImageOptions): void {
  const factory = 'BaseImage.fromAmiArtifact()';
  const said: Array<[string, unknown, unknown, string]> = [
    ['osType', options.osType, artifact.osType, ec2.OperatingSystemType[artifact.osType]],
    ['architecture', options.architecture, artifact.architecture, String(artifact.architecture)],
    ['rootDeviceName', options.rootDeviceName, artifact.rootDeviceName, String(artifact.rootDeviceName)],
  ];
  for (const [prop, given, known, shown] of said) {
    if (given === undefined || known === undefined || Token.isUnresolved(given) || given === known) continue;
    throw optionError(factory, {
      prop,
      value: typeof given === 'number' ? ec2.OperatingSystemType[given] : given,
      problem: `contradicts the artifact, whose ${prop} is ${shown}`,
      fix: `Leave ${prop} out to follow the artifact.`,
    });
  }
}

/** The instance type a plain EC2 construct launches, when it has one and it is readable. */
function instanceTypeOf(scope: IConstruct): string | undefined {
  if (scope instanceof ec2.LaunchTemplate) return scope.instanceType?.toString();
  if (scope instanceof ec2.Instance) return scope.instance.instanceType;
  if (scope instanceof autoscaling.AutoScalingGroup) {
    const config = scope.node.tryFindChild('LaunchConfig');
    if (config instanceof autoscaling.CfnLaunchConfiguration) return config.instanceType;
    const template = scope.node.tryFindChild('LaunchTemplate');
    if (template instanceof ec2.LaunchTemplate) return template.instanceType?.toString();
  }
  return undefined;
}

/** The user data a plain EC2 construct runs, rendered, when readable. */
function userDataOf(scope: IConstruct): string | undefined {
  try {
    const userData = scope instanceof ec2.LaunchTemplate ? scope.userData
      : scope instanceof ec2.Instance ? scope.userData
        : scope instanceof autoscaling.AutoScalingGroup ? scope.userData : undefined;
    return userData?.render();
  } catch {
    return undefined; // a group whose launch template has no user data
  }
}

const watched = new WeakSet<IConstruct>();

/**
 * An AMI given to a plain launch template, instance or group through `machineImage`: once the
 * construct is complete (its instance type and user data are set after it reads the image), its
 * instance type must have the AMI's architecture and its user data the AMI's OS.
 */
export function watchMachineImageUse(scope: Construct, architecture: ec2.InstanceArchitecture | undefined, osType: ec2.OperatingSystemType): void {
  if (watched.has(scope)) return;
  watched.add(scope);
  scope.node.addValidation({
    validate: () => {
      const where = scope.node.path;
      const errors: string[] = [];
      const instanceType = instanceTypeOf(scope);
      const actual = architectureOf(instanceType);
      if (architecture !== undefined && actual !== undefined && actual !== architecture) {
        errors.push(`${where}: instanceType (${instanceType}) is ${actual}, but its machineImage is an ${architecture} AMI: EC2 launches an AMI only on instance types of its architecture. `
          + `Pass ${architecture} instance types, such as ${exampleInstanceType(architecture)}, or the artifact of an ${actual} AMI.`);
      }
      const rendered = userDataOf(scope);
      const windows = osType === ec2.OperatingSystemType.WINDOWS;
      if (rendered !== undefined && rendered !== '' && !Token.isUnresolved(rendered) && (windows ? rendered.startsWith('#!') : rendered.startsWith('<powershell>'))) {
        errors.push(`${where}: userData is ${windows ? 'a Linux shell script' : 'Windows PowerShell'}, but its machineImage is a ${windows ? 'Windows' : 'Linux'} AMI. `
          + `Use ec2.UserData.for${windows ? 'Windows' : 'Linux'}() commands.`);
      }
      return errors;
    },
  });
}

/** The CPU architecture a container platform needs on ECS. */
function cpuOf(platform: ContainerPlatform): string {
  return platform.cpuArchitecture._cpuArchitecture;
}

/** What a consumer says about the image it runs. */
export interface ContainerRunner {
  /** The platform the consumer's tasks run on, and the prop that names it. */
  readonly platform?: { readonly prop: string; readonly value: ContainerPlatform };
}

/**
 * A container artifact as `consumer` runs it: checked against the consumer's platform and against
 * where it exists (region, account), and imported into the consumer's stack when it is another
 * stack's.
 */
export function pairContainer(consumer: Construct, type: string, artifact: IContainerArtifact, runner: ContainerRunner): IContainerArtifact {
  if (!artifact) return artifact; // the consumer says it is missing
  const platform = runner.platform;
  if (platform && artifact.platform && cpuOf(platform.value) !== cpuOf(artifact.platform)) {
    const wanted = platform.value.platform;
    // At once: the container's image binding refuses the same mismatch with its own message.
    throw constructError(consumer, type, {
      prop: platform.prop,
      value: wanted,
      problem: `does not match the artifact, which is built for ${artifact.platform.platform}: its image cannot run on a ${wanted} task`,
      fix: `Remove ${platform.prop} to follow the artifact, or pass an artifact built for ${wanted}.`,
    });
  }
  checkReach(consumer, describeConstruct(consumer, type), 'artifact', artifact);
  return artifactInScope(consumer, artifact);
}

/**
 * An image given to a plain task definition through `containerImage`: the task definition's runtime
 * platform must be the image's (Fargate runs X86_64 Linux when the task definition names none; an EC2
 * task definition without one runs on whatever its instances are, which synth cannot see).
 */
export function checkTaskPlatform(container: ecs.ContainerDefinition, artifact: IContainerArtifact): void {
  const where = container.node.path;
  checkReach(container, where, 'image', artifact);
  const taskDefinition = container.taskDefinition;
  const resource = taskDefinition.node.defaultChild;
  if (!(resource instanceof ecs.CfnTaskDefinition) || !artifact.platform) return;
  type Platform = { cpuArchitecture?: unknown; operatingSystemFamily?: unknown } | undefined;
  const runtime: Platform = Stack.of(taskDefinition).resolve(resource.runtimePlatform);
  const cpu = runtime?.cpuArchitecture ?? (taskDefinition.isFargateCompatible ? 'X86_64' : undefined);
  const os = runtime?.operatingSystemFamily;
  const wanted = cpuOf(artifact.platform);
  if (typeof cpu === 'string' && cpu !== wanted) {
    throw new SynthError(where, {
      prop: 'image',
      value: artifact.platform.platform,
      problem: `cannot run on task definition ${taskDefinition.node.path}, whose runtime platform is ${cpu}${runtime?.cpuArchitecture === undefined ? ' (Fargate\'s default when runtimePlatform names none)' : ''}`,
      fix: `Give the task definition runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.${wanted} }, or run an image built for ${cpu === 'ARM64' ? 'linux/arm64' : 'linux/amd64'}.`,
    });
  }
  if (typeof os === 'string' && os !== 'LINUX') {
    throw new SynthError(where, {
      prop: 'image',
      value: artifact.platform.platform,
      problem: `is a Linux image, but task definition ${taskDefinition.node.path} runs ${os}`,
      fix: 'Run it in a task definition whose runtimePlatform has operatingSystemFamily LINUX.',
    });
  }
}
