/**
 * The pairing matrix: every kind of artifact against everything that runs it, for every attribute
 * that must agree (architecture, operating system, root device, platform, region, account). Each
 * combination is built twice, once agreeing and once not: the agreeing one synthesizes, the other
 * fails at synth naming the prop, wherever both sides know the attribute; where one side cannot
 * know it, the combination is listed with why and must be accepted (nothing is guessed).
 *
 * The combinations are generated from the lists below, not written out: a new artifact kind, runner
 * or attribute is one entry, and every combination with it is tested.
 */
import * as path from 'path';
import { App, ContextProvider, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { IConstruct } from 'constructs';
import {
  AmiArtifact, AmiBake, BakeStep, BaseImage, ContainerArtifact, ContainerImageBuild, ContainerPlatform,
  IAmiArtifact, IContainerArtifact, ImmutableAutoScalingGroup, ImmutableFargateService,
} from '../src';

const HOME = { account: '111111111111', region: 'eu-west-1' };
const OTHER_REGION = { account: HOME.account, region: 'us-east-1' };
const OTHER_ACCOUNT = { account: '222222222222', region: HOME.region };
const AMI = 'ami-0123456789abcdef0';
const FINGERPRINT = 'ab'.repeat(32);
const DIGEST = `sha256:${'c'.repeat(64)}`;
const CONTEXT = path.join(__dirname, 'artifacts', 'container', 'fixtures', 'app');

const X86 = ec2.InstanceArchitecture.X86_64;
const ARM = ec2.InstanceArchitecture.ARM_64;
const ARCHES = [X86, ARM];
const INSTANCE_TYPE = { [X86]: 't3.small', [ARM]: 't4g.small' } as const;
const PLATFORM = { [X86]: ContainerPlatform.LINUX_AMD64, [ARM]: ContainerPlatform.LINUX_ARM64 } as const;
const CPU = { [X86]: ecs.CpuArchitecture.X86_64, [ARM]: ecs.CpuArchitecture.ARM64 } as const;

/** Runs every validation of the tree (what synthesis runs first), so that a check added with `addValidation` counts. */
function validateTree(root: IConstruct): void {
  const errors = root.node.findAll().flatMap((c) => c.node.validate().map((e) => `${c.node.path}: ${e}`));
  if (errors.length > 0) throw new Error(errors.join('\n'));
}

/** A stack with a VPC imported by attributes (no resources, fast). */
function stackIn(app: App, id: string, env: { account: string; region: string }): Stack {
  const stack = new Stack(app, id, { env });
  ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: [`${env.region}a`, `${env.region}b`],
    privateSubnetIds: ['subnet-00000000000000001', 'subnet-00000000000000002'],
  });
  return stack;
}
const vpcOf = (stack: Stack) => stack.node.findChild('Vpc') as ec2.IVpc;

/** The synth-time lookups of the SSM parameters the bakes name, as `cdk.context.json` would hold them, in every environment. */
const SSM_CONTEXT: { [key: string]: string } = {};
for (const env of [HOME, { account: HOME.account, region: 'us-east-1' }, { account: '222222222222', region: HOME.region }]) {
  for (const arch of ['arm64', 'x86_64']) {
    const parameterName = `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`;
    const stack = new Stack(new App(), 'Lookup', { env });
    SSM_CONTEXT[ContextProvider.getKey(stack, { provider: cxschema.ContextProvider.SSM_PARAMETER_PROVIDER, props: { parameterName } }).key] = AMI;
  }
}

// ---------------------------------------------------------------------------------------------
// AMI artifacts, and what runs them

/** What an AMI artifact is made with: its architecture (when it says), root device, where it is copied and shared. */
interface AmiTraits {
  readonly architecture: ec2.InstanceArchitecture;
  readonly rootDeviceName: string;
  readonly regions?: string[];
  readonly accounts?: string[];
}

interface AmiSource {
  readonly name: string;
  /** Which attributes the artifact carries, so that a consumer can check them. */
  readonly knows: { architecture: boolean; rootDevice: boolean; reach: boolean };
  make(stack: Stack, traits: AmiTraits): IAmiArtifact;
}

function bake(stack: Stack, id: string, baseImage: BaseImage, traits: { regions?: string[]; accounts?: string[] }): AmiBake {
  return new AmiBake(stack, id, {
    baseImage,
    steps: [BakeStep.shell(['true'])],
    distribution: traits.regions || traits.accounts ? { regions: traits.regions, accounts: traits.accounts } : undefined,
  });
}

const AMI_SOURCES: AmiSource[] = [
  {
    name: 'AmiBake from BaseImage.fromAmiId',
    knows: { architecture: true, rootDevice: true, reach: true },
    make: (stack, t) => bake(stack, 'Bake', BaseImage.fromAmiId(AMI, { architecture: t.architecture, rootDeviceName: t.rootDeviceName }), t),
  },
  {
    name: 'AmiBake from BaseImage.fromSsmParameter (architecture from the name)',
    knows: { architecture: true, rootDevice: true, reach: true },
    make: (stack, t) => {
      const parameterName = `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${t.architecture === ARM ? 'arm64' : 'x86_64'}`;
      return bake(stack, 'Bake', BaseImage.fromSsmParameter(parameterName, { rootDeviceName: t.rootDeviceName }), t);
    },
  },
  {
    name: 'AmiBake layered on another bake (BaseImage.fromAmiArtifact)',
    knows: { architecture: true, rootDevice: true, reach: true },
    make: (stack, t) => {
      const foundation = bake(stack, 'Foundation', BaseImage.fromAmiId(AMI, { architecture: t.architecture, rootDeviceName: t.rootDeviceName }), {});
      return bake(stack, 'Bake', BaseImage.fromAmiArtifact(foundation), t);
    },
  },
  {
    name: 'AmiArtifact.fromAmiId with architecture and rootDeviceName',
    knows: { architecture: true, rootDevice: true, reach: false },
    make: (_stack, t) => AmiArtifact.fromAmiId(AMI, { architecture: t.architecture, rootDeviceName: t.rootDeviceName }),
  },
  {
    name: 'AmiArtifact.fromAmiId without them',
    knows: { architecture: false, rootDevice: false, reach: false },
    make: () => AmiArtifact.fromAmiId(AMI),
  },
  {
    name: 'AmiArtifact.fromFingerprint with architecture and rootDeviceName',
    knows: { architecture: true, rootDevice: true, reach: false },
    make: (stack, t) => AmiArtifact.fromFingerprint(stack, 'Imported', { fingerprint: FINGERPRINT, architecture: t.architecture, rootDeviceName: t.rootDeviceName }),
  },
  {
    name: 'AmiArtifact.fromFingerprint without them',
    knows: { architecture: false, rootDevice: false, reach: false },
    make: (stack) => AmiArtifact.fromFingerprint(stack, 'Imported', { fingerprint: FINGERPRINT }),
  },
];

/** How a runner is given an instance type, user data and a root device; undefined where it takes no such thing. */
interface AmiUse {
  readonly instanceType: string;
  readonly windowsUserData?: boolean;
  readonly rootDeviceName?: string;
}

interface AmiRunnerKind {
  readonly name: string;
  /** The attributes this runner says something about. */
  readonly says: { rootDevice: boolean };
  /** The architecture the runner assumes when the artifact says none. */
  readonly defaultArchitecture?: ec2.InstanceArchitecture;
  run(stack: Stack, artifact: IAmiArtifact, use: AmiUse): void;
}

const userDataFor = (windows?: boolean) => (windows ? ec2.UserData.forWindows() : ec2.UserData.forLinux());

const AMI_RUNNERS: AmiRunnerKind[] = [
  {
    name: 'ImmutableAutoScalingGroup',
    says: { rootDevice: true },
    run: (stack, artifact, use) => new ImmutableAutoScalingGroup(stack, 'Fleet', {
      vpc: vpcOf(stack),
      artifact,
      instanceType: new ec2.InstanceType(use.instanceType),
      userData: use.windowsUserData !== undefined ? userDataFor(use.windowsUserData) : undefined,
      rootDeviceName: use.rootDeviceName,
    }),
  },
  {
    name: 'ec2.LaunchTemplate through machineImage',
    says: { rootDevice: false }, // its block devices do not say which one is the root
    run: (stack, artifact, use) => new ec2.LaunchTemplate(stack, 'Template', {
      machineImage: artifact.machineImage,
      instanceType: new ec2.InstanceType(use.instanceType),
      userData: use.windowsUserData !== undefined ? userDataFor(use.windowsUserData) : undefined,
    }),
  },
  {
    name: 'ec2.Instance through machineImage',
    says: { rootDevice: false },
    run: (stack, artifact, use) => new ec2.Instance(stack, 'Instance', {
      vpc: vpcOf(stack),
      machineImage: artifact.machineImage,
      instanceType: new ec2.InstanceType(use.instanceType),
      userData: use.windowsUserData !== undefined ? userDataFor(use.windowsUserData) : undefined,
    }),
  },
  {
    name: 'AmiBake layered on it (BaseImage.fromAmiArtifact)',
    says: { rootDevice: true },
    defaultArchitecture: X86, // BaseImageOptions.architecture's default
    run: (stack, artifact, use) => new AmiBake(stack, 'Layered', {
      baseImage: BaseImage.fromAmiArtifact(artifact, {
        osType: use.windowsUserData ? ec2.OperatingSystemType.WINDOWS : undefined,
        rootDeviceName: use.rootDeviceName,
      }),
      steps: [BakeStep.shell(['true'])],
      instanceTypes: [new ec2.InstanceType(use.instanceType)],
    }),
  },
];

// ---------------------------------------------------------------------------------------------
// Container artifacts, and what runs them

interface ContainerTraits {
  readonly architecture: ec2.InstanceArchitecture;
  readonly replicateTo?: Array<{ region: string; account?: string }>;
}

interface ContainerSource {
  readonly name: string;
  readonly knows: { reach: boolean };
  make(stack: Stack, traits: ContainerTraits): IContainerArtifact;
}

const CONTAINER_SOURCES: ContainerSource[] = [
  {
    name: 'ContainerImageBuild',
    knows: { reach: true },
    make: (stack, t) => new ContainerImageBuild(stack, 'Image', { directory: CONTEXT, platform: PLATFORM[t.architecture], replicateTo: t.replicateTo }),
  },
  {
    name: 'ContainerArtifact.fromDigest',
    knows: { reach: false }, // a repository imported by ARN may be read from any region and account its policy allows
    make: (stack, t) => ContainerArtifact.fromDigest(stack, 'Imported', {
      repository: ecr.Repository.fromRepositoryName(stack, 'Repository', 'web'), imageDigest: DIGEST, platform: PLATFORM[t.architecture],
    }),
  },
  {
    name: 'ContainerArtifact.fromFingerprint',
    knows: { reach: false },
    make: (stack, t) => ContainerArtifact.fromFingerprint(stack, 'Imported', {
      repository: ecr.Repository.fromRepositoryName(stack, 'Repository', 'web'), fingerprint: FINGERPRINT, platform: PLATFORM[t.architecture],
    }),
  },
];

interface ContainerUse {
  /** The runner's CPU architecture; undefined where it names none (Fargate's default is X86_64). */
  readonly architecture?: ec2.InstanceArchitecture;
  readonly windows?: boolean;
}

interface ContainerRunnerKind {
  readonly name: string;
  /** Whether a runner that names no architecture still has a known one (Fargate's X86_64 default). */
  readonly defaultArchitecture?: ec2.InstanceArchitecture;
  /** What the runner can say: a CPU architecture and an OS family. */
  readonly says: { architecture: boolean; os: boolean };
  run(stack: Stack, artifact: IContainerArtifact, use: ContainerUse): void;
}

function runtimePlatform(use: ContainerUse): ecs.RuntimePlatform | undefined {
  if (use.architecture === undefined && !use.windows) return undefined;
  return {
    cpuArchitecture: use.architecture !== undefined ? CPU[use.architecture] : undefined,
    operatingSystemFamily: use.windows ? ecs.OperatingSystemFamily.WINDOWS_SERVER_2022_CORE : ecs.OperatingSystemFamily.LINUX,
  };
}

const CONTAINER_RUNNERS: ContainerRunnerKind[] = [
  {
    name: 'ImmutableFargateService',
    defaultArchitecture: undefined, // it follows the artifact unless platform is given
    says: { architecture: true, os: false }, // always Linux
    run: (stack, artifact, use) => new ImmutableFargateService(stack, 'Service', {
      vpc: vpcOf(stack), artifact, platform: use.architecture !== undefined ? PLATFORM[use.architecture] : undefined,
    }),
  },
  {
    name: 'ecs.FargateTaskDefinition through containerImage',
    defaultArchitecture: X86,
    says: { architecture: true, os: true },
    run: (stack, artifact, use) => new ecs.FargateTaskDefinition(stack, 'Task', { cpu: 1024, memoryLimitMiB: 2048, runtimePlatform: runtimePlatform(use) })
      .addContainer('App', { image: artifact.containerImage }),
  },
  {
    name: 'ecs.Ec2TaskDefinition through containerImage',
    defaultArchitecture: undefined,
    // aws-cdk-lib refuses a runtime platform on an EC2 task definition: its instances decide, which synth cannot see.
    says: { architecture: false, os: false },
    run: (stack, artifact) => new ecs.Ec2TaskDefinition(stack, 'Task')
      .addContainer('App', { image: artifact.containerImage, memoryLimitMiB: 512 }),
  },
];

// ---------------------------------------------------------------------------------------------
// The combinations

interface Combination {
  readonly artifact: string;
  readonly runner: string;
  readonly attribute: string;
  readonly agree: string;
  readonly disagree: string;
  /** Whether the disagreeing pair must fail at synth; when not, why synth cannot know. */
  readonly checked: true | string;
  /** The prop the error names, and what else it must say. */
  readonly names?: RegExp;
  build(app: App, agree: boolean): IConstruct;
}

const combinations: Combination[] = [];

for (const source of AMI_SOURCES) {
  for (const runner of AMI_RUNNERS) {
    const base = { artifact: source.name, runner: runner.name };
    for (const architecture of ARCHES) {
      // What the runner checks against: the artifact's architecture, or the runner's default when the artifact says none.
      const effective = source.knows.architecture ? architecture : runner.defaultArchitecture;
      const expected = effective ?? architecture;
      const other = expected === X86 ? ARM : X86;
      combinations.push({
        ...base,
        attribute: `architecture (${architecture} AMI${source.knows.architecture ? '' : ', not said'})`,
        agree: `${INSTANCE_TYPE[expected]}`,
        disagree: `${INSTANCE_TYPE[other]}`,
        checked: effective !== undefined ? true : 'the artifact does not say its architecture',
        names: new RegExp(`(instanceType|instanceTypes\\[0\\]) \\(${INSTANCE_TYPE[other]}\\) is ${other}.*${expected}`),
        build: (app, agree) => {
          const stack = stackIn(app, 'Stack', HOME);
          runner.run(stack, source.make(stack, { architecture, rootDeviceName: '/dev/xvda' }), { instanceType: INSTANCE_TYPE[agree ? expected : other] });
          return app;
        },
      });
    }
    combinations.push({
      ...base,
      attribute: 'operating system (Linux AMI)',
      agree: 'Linux user data (or osType)',
      disagree: 'Windows user data (or osType)',
      checked: true,
      names: /(userData|artifact|osType).*(PowerShell|Windows|contradicts)/,
      build: (app, agree) => {
        const stack = stackIn(app, 'Stack', HOME);
        runner.run(stack, source.make(stack, { architecture: X86, rootDeviceName: '/dev/xvda' }), { instanceType: 't3.small', windowsUserData: !agree });
        return app;
      },
    });
    combinations.push({
      ...base,
      attribute: 'root device (/dev/xvda)',
      agree: '/dev/xvda',
      disagree: '/dev/sda1',
      checked: !runner.says.rootDevice ? 'the runner does not say which block device is the root'
        : !source.knows.rootDevice ? 'the artifact does not say its root device' : true,
      names: /rootDeviceName \(\/dev\/sda1\) (is not the root device|contradicts)/,
      build: (app, agree) => {
        const stack = stackIn(app, 'Stack', HOME);
        runner.run(stack, source.make(stack, { architecture: X86, rootDeviceName: '/dev/xvda' }), { instanceType: 't3.small', rootDeviceName: agree ? '/dev/xvda' : '/dev/sda1' });
        return app;
      },
    });
    const places: Array<[string, typeof HOME, { regions?: string[]; accounts?: string[] }, string]> = [
      ['region', OTHER_REGION, { regions: [OTHER_REGION.region] }, 'distribution.regions'],
      ['account', OTHER_ACCOUNT, { accounts: [OTHER_ACCOUNT.account] }, 'distribution.accounts'],
    ];
    for (const [attribute, env, distribution, prop] of places) {
      combinations.push({
        ...base,
        attribute: `${attribute} (the runner's stack is in another ${attribute})`,
        agree: `${prop} names it`,
        disagree: `${prop} does not`,
        checked: source.knows.reach ? true : 'an AMI id or fingerprint says nothing of where the AMI is copied or shared to',
        names: new RegExp(`(artifact|baseImage|machineImage) \\(.*AmiBake\\]\\) is in eu-west-1.*does not reach.*Add '(${OTHER_REGION.region}|${OTHER_ACCOUNT.account})' to ${prop.replace('.', '\\.')}`),
        build: (app, agree) => {
          const home = stackIn(app, 'Home', HOME);
          const artifact = source.make(home, { architecture: X86, rootDeviceName: '/dev/xvda', ...(agree ? distribution : {}) });
          runner.run(stackIn(app, 'Away', env), artifact, { instanceType: 't3.small' });
          return app;
        },
      });
    }
  }
}

for (const source of CONTAINER_SOURCES) {
  for (const runner of CONTAINER_RUNNERS) {
    const base = { artifact: source.name, runner: runner.name };
    for (const architecture of ARCHES) {
      const other = architecture === X86 ? ARM : X86;
      combinations.push({
        ...base,
        attribute: `architecture (${PLATFORM[architecture].platform} image)`,
        agree: `${CPU[architecture]._cpuArchitecture} task`,
        disagree: `${CPU[other]._cpuArchitecture} task`,
        checked: runner.says.architecture ? true : 'the task definition names no architecture: its EC2 instances decide',
        names: /(platform \(linux\/(amd|arm)64\) does not match the artifact|image \(linux\/(amd|arm)64\) cannot run on task definition)/,
        build: (app, agree) => {
          const stack = stackIn(app, 'Stack', HOME);
          runner.run(stack, source.make(stack, { architecture }), { architecture: agree ? architecture : other });
          return app;
        },
      });
      if (runner.defaultArchitecture !== undefined) {
        const def = runner.defaultArchitecture;
        combinations.push({
          ...base,
          attribute: `architecture (${PLATFORM[architecture].platform} image, runner's default)`,
          agree: def === architecture ? 'no runtime platform' : 'a runtime platform that names it',
          disagree: def === architecture ? 'a runtime platform of the other architecture' : 'no runtime platform (default X86_64)',
          checked: true,
          names: /image \(linux\/(amd|arm)64\) cannot run on task definition/,
          build: (app, agree) => {
            const stack = stackIn(app, 'Stack', HOME);
            const named = def === architecture ? (agree ? undefined : other) : (agree ? architecture : undefined);
            runner.run(stack, source.make(stack, { architecture }), { architecture: named });
            return app;
          },
        });
      }
    }
    combinations.push({
      ...base,
      attribute: 'operating system (Linux image)',
      agree: 'a Linux task',
      disagree: 'a Windows task',
      checked: runner.says.os ? true : 'the runner names no other operating system than Linux',
      names: /image \(linux\/amd64\) is a Linux image, but task definition .* runs WINDOWS/,
      build: (app, agree) => {
        const stack = stackIn(app, 'Stack', HOME);
        runner.run(stack, source.make(stack, { architecture: X86 }), { architecture: X86, windows: !agree });
        return app;
      },
    });
    for (const [attribute, env] of [['region', OTHER_REGION], ['account', OTHER_ACCOUNT]] as const) {
      const target = attribute === 'region' ? { region: OTHER_REGION.region } : { region: HOME.region, account: OTHER_ACCOUNT.account };
      combinations.push({
        ...base,
        attribute: `${attribute} (the runner's stack is in another ${attribute})`,
        agree: 'replicateTo names it',
        disagree: 'replicateTo does not',
        checked: source.knows.reach ? true : 'an imported repository may be read from any region and account its policy allows',
        names: /(artifact|image) \(.*ContainerImageBuild\]\) is in eu-west-1.*does not reach.*to replicateTo of .*ContainerArtifact\.fromFingerprint\(\)/,
        build: (app, agree) => {
          const home = stackIn(app, 'Home', HOME);
          const artifact = source.make(home, { architecture: X86, replicateTo: agree ? [target] : undefined });
          runner.run(stackIn(app, 'Away', env), artifact, { architecture: X86 });
          return app;
        },
      });
    }
  }
}

/** The error of building one side of a combination, or undefined when it builds and validates. */
function errorOf(combination: Combination, agree: boolean): string | undefined {
  try {
    validateTree(combination.build(new App({ context: SSM_CONTEXT }), agree));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('pairing matrix: every artifact against everything that runs it, for every attribute', () => {
  const checked = combinations.filter((c) => c.checked === true);
  const unknowable = combinations.filter((c) => c.checked !== true);

  test.each(checked.map((c) => [`${c.artifact} on ${c.runner}: ${c.attribute}`, c]))('%s: the agreeing pair builds, the other fails at synth naming the prop', (_title, combination) => {
    // GIVEN an artifact and a runner that agree, and the same pair that does not
    // WHEN each is built and validated
    const agreeing = errorOf(combination, true);
    const disagreeing = errorOf(combination, false);
    // THEN only the disagreeing one fails, with a message that names the prop and what to do
    expect(agreeing).toBeUndefined();
    expect(disagreeing).toMatch(combination.names!);
  });

  test.each(unknowable.map((c) => [`${c.artifact} on ${c.runner}: ${c.attribute}`, c]))('%s: not knowable at synth, so both pairs build', (_title, combination) => {
    // GIVEN a pair where one side does not say the attribute
    // WHEN both are built
    // THEN neither fails: nothing is guessed
    expect(errorOf(combination, true)).toBeUndefined();
    expect(errorOf(combination, false)).toBeUndefined();
  });

  test('the matrix covers every artifact kind, runner and attribute', () => {
    const artifacts = new Set(combinations.map((c) => c.artifact));
    const runners = new Set(combinations.map((c) => c.runner));
    // Every artifact meets every runner of its kind.
    expect(artifacts.size).toBe(AMI_SOURCES.length + CONTAINER_SOURCES.length);
    expect(runners.size).toBe(AMI_RUNNERS.length + CONTAINER_RUNNERS.length);
    for (const source of AMI_SOURCES) {
      expect(new Set(combinations.filter((c) => c.artifact === source.name).map((c) => c.runner))).toEqual(new Set(AMI_RUNNERS.map((r) => r.name)));
    }
    for (const source of CONTAINER_SOURCES) {
      const met = combinations.filter((c) => c.artifact === source.name).map((c) => c.runner);
      expect(new Set(met)).toEqual(new Set(CONTAINER_RUNNERS.map((r) => r.name)));
    }
    const lines = [
      `pairing matrix: ${combinations.length} combinations (${checked.length} checked at synth, ${unknowable.length} not knowable), `
        + `${artifacts.size} artifact kinds x ${runners.size} runners`,
      ...unknowable.map((c) => `  not checked: ${c.artifact} on ${c.runner}, ${c.attribute}: ${c.checked}`),
    ];
    // The coverage is part of every run's log (the test environment shows console output of failed tests only).
    process.stdout.write(`${lines[0]}\n`);
    // eslint-disable-next-line no-console
    console.log(lines.join('\n'));
  });
});

