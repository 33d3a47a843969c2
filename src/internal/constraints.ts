/**
 * AWS's constraints on every prop of the public API, in one table: the pattern, length, range, count
 * or allowed values a service documents for what the prop becomes, with where AWS says so; or why a
 * prop has none. Validators read their limits here (`checkConstraint`), so a limit is written once,
 * and the prop matrix (`test/prop-matrix.test.ts`) probes each limit through the public API: the
 * value at the limit is accepted and the value past it refused, with the library's message.
 *
 * Keys are the props as the jsii assembly names them: `<Class>.<prop>` for a construct's props,
 * `<Class>.<method>.<parameter or prop>` for a factory's or method's, `[]` for the elements of a list
 * of structs (`ContainerImageBuild.replicateTo[].region`).
 *
 * Internal: never exported from the package.
 */
import { Duration, Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import { PropProblems, SynthError } from './errors';

/** A limit AWS documents. */
export interface Limit {
  /** What AWS allows, as the fix of an error says it: `1 to 365 days`. */
  readonly rule: string;
  /** Where AWS says so. */
  readonly source: string;
  /** A numeric range, in `unit` for durations and sizes. */
  readonly range?: { readonly min?: number; readonly max?: number; readonly integer?: boolean; readonly unit?: 'seconds' | 'minutes' | 'hours' | 'days' | 'GiB' };
  /** A string's length. */
  readonly length?: { readonly min?: number; readonly max: number };
  /** A string's shape. */
  readonly pattern?: RegExp;
  /** How many entries a list or map may hold. */
  readonly count?: { readonly max: number };
  /** For a map: the length of each key and value. */
  readonly entries?: { readonly keyLength: number; readonly valueLength: number; readonly reservedKeys?: RegExp };
  /**
   * Values at the limit (accepted) and past it (refused), for the shapes a range cannot generate
   * (patterns). Written as the prop takes them; the matrix adds the generated ones.
   */
  readonly probes?: { readonly accepted: unknown[]; readonly refused: unknown[] };
  /**
   * The branch of this round whose fix enforces the limit (it should read it from here). Until it
   * merges, the matrix expects the limit not to hold yet, and fails once it does: then remove this.
   */
  readonly pendingOn?: 'ami' | 'containers';
  /**
   * Why a token cannot be taken here (it counts in a fingerprint, aws-cdk-lib renders the value as text
   * at synth): `checkConstraint` then refuses one, naming the prop. Absent: a token is taken as it is.
   */
  readonly tokens?: string;
  /** Who enforces it today, when not `checkConstraint`: the construct's own validator, or aws-cdk-lib. */
  readonly enforcedBy?: 'construct' | 'aws-cdk-lib';
}

/** A prop AWS puts no constraint on, or none that synth can check, and why. */
export interface NoLimit {
  readonly none: string;
}

/** An AWS constraint this library does not check yet, and why: listed, never silently missing. */
export interface Unchecked {
  readonly unchecked: string;
  readonly rule: string;
  readonly source: string;
}

export type Entry = Limit | NoLimit | Unchecked;

// Sources, each named once.
const CFN = 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference';
const IMAGEBUILDER = 'https://docs.aws.amazon.com/imagebuilder/latest/APIReference';
const SRC = {
  amiId: 'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html',
  accountId: 'https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html',
  region: 'https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html',
  kmsKeyId: 'https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id',
  deviceName: 'https://docs.aws.amazon.com/ebs/latest/userguide/device_naming.html',
  ebsSize: 'https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html',
  ec2Tags: 'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions',
  amiName: `${IMAGEBUILDER}/API_AmiDistributionConfiguration.html`,
  resourceTags: `${IMAGEBUILDER}/API_CreateInfrastructureConfiguration.html`,
  lastLaunched: `${IMAGEBUILDER}/API_LifecyclePolicyDetailExclusionRulesAmisLastLaunched.html`,
  lifecycleCount: `${IMAGEBUILDER}/API_LifecyclePolicyDetailFilter.html`,
  recipeComponents: `${IMAGEBUILDER}/API_CreateImageRecipe.html`,
  componentData: `${IMAGEBUILDER}/API_CreateComponent.html`,
  componentName: `${IMAGEBUILDER}/API_ComponentConfiguration.html`,
  waitCondition: `${CFN}/aws-resource-cloudformation-waitcondition.html`,
  creationPolicy: `${CFN}/aws-attribute-creationpolicy.html`,
  updatePolicy: `${CFN}/aws-attribute-updatepolicy.html`,
  instanceRefresh: 'https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html',
  codebuildTimeout: 'https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html',
  codebuildCompute: 'https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-compute-types.html',
  ecrLifecycle: 'https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html',
  ecrReplication: 'https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html',
  pullThroughCache: 'https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreatePullThroughCacheRule.html',
  creationTemplate: 'https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepositoryCreationTemplate.html',
  imageDigest: 'https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageIdentifier.html',
  fargateSizes: 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size',
  containerName: 'https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html',
  serviceName: 'https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html',
  ecsDeployment: 'https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html',
  portMapping: 'https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html',
  listenerPriority: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RulePriorityPair.html',
  deregistrationDelay: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html',
  taskDefinitionSize: 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html',
  userData: 'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html',
  asgCapacity: 'https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html',
  ssmName: 'https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html',
};

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;
const DEVICE = /^\/dev\/(sd[a-z][0-9]{0,2}|xvd[a-z]{1,2})$/;

const regionLimit: Limit = { rule: "a region name, such as 'eu-west-1'", source: SRC.region, pattern: REGION, probes: { accepted: ['eu-west-1', 'us-gov-west-1'], refused: ['eu-west', 'EU-WEST-1'] }, enforcedBy: 'construct' };
const accountLimit: Limit = { rule: 'a 12-digit AWS account id', source: SRC.accountId, pattern: ACCOUNT, probes: { accepted: ['123456789012'], refused: ['12345678901', '1234567890123'] }, enforcedBy: 'construct' };
const accountsLimit: Limit = { ...accountLimit, probes: { accepted: [['123456789012']], refused: [['12345678901']] } };
const amiIdLimit: Limit = { rule: "'ami-' and 8 or 17 lowercase hexadecimal characters", source: SRC.amiId, pattern: /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/, probes: { accepted: ['ami-01234567', 'ami-0123456789abcdef0'], refused: ['ami-0123456', 'ami-0123456789ABCDEF0'] }, enforcedBy: 'construct' };
const deviceLimit: Limit = { rule: 'a Linux or Windows device name, such as /dev/xvda or /dev/sda1', source: SRC.deviceName, pattern: DEVICE, probes: { accepted: ['/dev/xvda', '/dev/sda1'], refused: ['xvda', '/dev/nvme0n1'] } };
const enumNone: NoLimit = { none: 'an enum (or enum-like class) of the values AWS takes: nothing else can be passed' };
const referenceNone: NoLimit = { none: 'a reference to a resource (of this app or imported): AWS checks that it exists when the stack deploys' };
const booleanNone: NoLimit = { none: 'a boolean: both values are valid' };
const localNone: NoLimit = { none: 'a local file, directory or pattern read at synth time (checked to exist where it matters): never sent to AWS' };
const libraryNone = (what: string): NoLimit => ({ none: `the library's own: ${what}` });
const userDataUnchecked: Unchecked = { unchecked: 'the user data is one script with the library\'s own lines and tokens; its rendered size is known only at deploy time', rule: 'at most 16 KB of user data before base64 encoding', source: SRC.userData };
const LIFECYCLE_TEXT = 'aws-cdk-lib writes the lifecycle policy as JSON text at synth time, where a token would be written as a number';
const ISO_DURATION = 'CloudFormation takes an ISO 8601 duration, which aws-cdk-lib renders at synth time from a known value only';

/** A valid component document of exactly `size` characters (padded with a comment). */
function documentOf(size: number): string {
  const body = 'name: D\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Run\n        action: ExecuteBash\n        inputs:\n          commands:\n            - "true"\n#';
  return body + 'x'.repeat(Math.max(0, size - body.length));
}
const percentLimit = (low: number, high: number, source: string): Limit => ({ rule: `a whole percentage from ${low} to ${high}`, source, range: { min: low, max: high, integer: true }, enforcedBy: 'construct' });
const alarmsUnchecked: Unchecked = { unchecked: 'aws-cdk-lib passes the list as it is', rule: 'at most 10 alarms', source: SRC.ecsDeployment };

/** The traffic-shift options shared by blue/green, canary and linear. */
function trafficShift(factory: string): { [key: string]: Entry } {
  return {
    [`${factory}.alternateTargetGroup`]: referenceNone,
    [`${factory}.productionListenerRule`]: referenceNone,
    [`${factory}.testListenerRule`]: referenceNone,
    [`${factory}.bakeTime`]: { rule: 'whole minutes from 0 to 1440', source: SRC.ecsDeployment, range: { min: 0, max: 1440, integer: true, unit: 'minutes' }, enforcedBy: 'construct' },
    [`${factory}.infrastructureRole`]: referenceNone,
    [`${factory}.lifecycleHook`]: referenceNone,
    [`${factory}.lifecycleHookStages`]: enumNone,
    [`${factory}.alarms`]: alarmsUnchecked,
    [`${factory}.healthCheckGracePeriod`]: { rule: 'from 0 to 2,147,483,647 seconds', source: SRC.serviceName, range: { min: 0, max: 2147483647, integer: true, unit: 'seconds' } },
  };
}

function stepped(factory: string): { [key: string]: Entry } {
  return {
    ...trafficShift(factory),
    [`${factory}.stepPercent`]: { unchecked: 'ECS documents the range per strategy; aws-cdk-lib passes it as is', rule: 'a percentage of traffic per step', source: SRC.ecsDeployment },
    [`${factory}.stepBakeTime`]: { rule: 'whole minutes from 0 to 1440', source: SRC.ecsDeployment, range: { min: 0, max: 1440, integer: true, unit: 'minutes' } },
  };
}

function baseImageOptions(factory: string): { [key: string]: Entry } {
  return {
    [`${factory}.architecture`]: enumNone,
    [`${factory}.osType`]: enumNone,
    [`${factory}.rootDeviceName`]: { ...deviceLimit, tokens: 'the root device counts in the bake\'s fingerprint, which is known at synth time' },
  };
}

function importedAmi(factory: string): { [key: string]: Entry } {
  return {
    [`${factory}.architecture`]: enumNone,
    [`${factory}.osType`]: enumNone,
    [`${factory}.rootDeviceName`]: deviceLimit,
    [`${factory}.userData`]: { none: 'user data for the launch template that runs the AMI: the consumer\'s, checked there (OS and secrets)' },
  };
}

/** Every prop of the public API, and its entry. */
export const CONSTRAINTS: { readonly [prop: string]: Entry } = {
  // AmiBake
  'AmiBake.baseImage': { none: 'a BaseImage: its factories\' parameters have their own entries' },
  'AmiBake.steps': {
    rule: 'at most 20 build and test components in a recipe, in any combination', source: SRC.recipeComponents, count: { max: 20 },
  },
  'AmiBake.testSteps': {
    rule: 'at most 20 build and test components in a recipe, in any combination (with the one step of the probe: 19 test steps)', source: SRC.recipeComponents, count: { max: 19 },
  },
  'AmiBake.amiName': {
    rule: "1 to 80 characters (the name adds '-<fingerprint>-{{ imagebuilder:buildDate }}', within Image Builder's 127 and EC2's 128) that both Image Builder's and EC2's AMI name patterns accept: letters, digits, '-', '_', '.' and spaces, starting with a letter, digit, '-' or '_'",
    source: SRC.amiName,
    pattern: /^[A-Za-z0-9_-][A-Za-z0-9_. -]{0,79}$/,
    probes: { accepted: ['a', 'a'.repeat(80), 'web-1.2_x'], refused: ['a'.repeat(81), 'web(1)', 'web/app', '.web', 'web:1'] },
    enforcedBy: 'construct',
  },
  'AmiBake.buildTimeout': { rule: 'from 1 minute to 12 hours (a wait condition\'s 43,200 seconds)', source: SRC.waitCondition, range: { min: 60, max: 43200, unit: 'seconds' }, enforcedBy: 'construct' },
  'AmiBake.distribution.accounts': accountsLimit,
  'AmiBake.distribution.kmsKeyId': {
    rule: 'a KMS key id, key ARN, alias name or alias ARN',
    source: SRC.kmsKeyId,
    pattern: /^((mrk-)?[0-9a-f-]{32,36}|alias\/[A-Za-z0-9/_-]{1,250}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/(mrk-)?[0-9a-f-]{32,36}|alias\/[A-Za-z0-9/_-]{1,250}))$/,
    probes: { accepted: ['1234abcd-12ab-34cd-56ef-1234567890ab', 'alias/ami', 'arn:aws:kms:eu-west-1:111111111111:alias/ami'], refused: ['ami-key', 'arn:aws:kms:eu-west-1:111111111111:ami'] },
  },
  'AmiBake.distribution.regions': { ...regionLimit, probes: { accepted: [['us-east-1']], refused: [['us-east']] } },
  'AmiBake.instanceTypes': { none: 'EC2 instance types, named through aws-cdk-lib\'s InstanceType; their architecture must be the base image\'s (the pairing checks)' },
  'AmiBake.keepLaunchedWithin': { rule: 'whole days from 1 to 365', source: SRC.lastLaunched, range: { min: 1, max: 365, integer: true, unit: 'days' }, enforcedBy: 'construct' },
  'AmiBake.logRetention': enumNone,
  'AmiBake.removalPolicy': enumNone,
  'AmiBake.retainImages': { rule: 'a whole number of images from 1 to 1000', source: SRC.lifecycleCount, range: { min: 1, max: 1000, integer: true }, enforcedBy: 'construct' },
  'AmiBake.rootVolumeKey': referenceNone,
  'AmiBake.rootVolumeSize': { rule: 'whole GiB from 1 to 16384', source: SRC.ebsSize, range: { min: 1, max: 16384, integer: true, unit: 'GiB' }, enforcedBy: 'construct' },
  'AmiBake.subnetSelection': { none: 'subnets of vpc, checked to select at least one' },
  'AmiBake.tags': {
    rule: 'at most 48 tags (EC2\'s 50 per AMI, less the bake\'s two), keys of 1 to 128 and values of up to 256 characters; not the keys Image Builder reserves (Name, CreatedBy, Ec2ImageBuilderArn, Tags, aws:*)',
    source: `${SRC.ec2Tags} ${SRC.resourceTags}`,
    count: { max: 48 },
    entries: { keyLength: 128, valueLength: 256, reservedKeys: /^(Name|CreatedBy|Ec2ImageBuilderArn|Tags|aws:.*)$/ },
    probes: { accepted: [{ ['k'.repeat(128)]: 'v'.repeat(256) }], refused: [{ ['k'.repeat(129)]: 'v' }, { k: 'v'.repeat(257) }] },
  },
  'AmiBake.userData': userDataUnchecked,
  'AmiBake.vpc': referenceNone,

  // AmiArtifact, BaseImage
  'AmiArtifact.fromAmiId.amiId': amiIdLimit,
  ...importedAmi('AmiArtifact.fromAmiId'),
  'AmiArtifact.fromFingerprint.fingerprint': libraryNone('a fingerprint, 64 lowercase hexadecimal characters, checked as such'),
  'AmiArtifact.fromFingerprint.encryptionKeyArn': {
    rule: 'the ARN of a KMS key (KMS grants take no alias)',
    source: SRC.kmsKeyId,
    pattern: /^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:key\/(mrk-)?[0-9a-f-]+$/,
    probes: { accepted: ['arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab'], refused: ['arn:aws:kms:eu-west-1:111111111111:alias/ami'] },
    enforcedBy: 'construct',
  },
  'AmiArtifact.fromFingerprint.owner': accountLimit,
  'AmiArtifact.fromFingerprint.sourceRegion': regionLimit,
  ...importedAmi('AmiArtifact.fromFingerprint'),
  'BaseImage.fromAmiId.amiId': amiIdLimit,
  ...baseImageOptions('BaseImage.fromAmiId'),
  'BaseImage.fromAmiArtifact.artifact': referenceNone,
  ...baseImageOptions('BaseImage.fromAmiArtifact'),
  'BaseImage.fromSsmParameter.parameterName': {
    rule: 'an SSM parameter name: 1 to 2048 letters, digits, and . - _ /',
    source: SRC.ssmName,
    pattern: /^[A-Za-z0-9_.\-/]{1,2048}$/,
    probes: { accepted: ['/aws/service/ami', 'a'.repeat(2048)], refused: ['a'.repeat(2049), '/my parameter'] },
  },
  ...baseImageOptions('BaseImage.fromSsmParameter'),

  // BakeStep
  'BakeStep.awsManaged.name': {
    rule: 'an Image Builder component name: lowercase letters, digits, - and _',
    source: SRC.componentName,
    pattern: /^[a-z0-9][a-z0-9_-]*$/,
    probes: { accepted: ['update-linux'], refused: ['Update Linux'] },
    enforcedBy: 'construct',
  },
  'BakeStep.awsManaged.version': {
    rule: "a semantic version, major.minor.patch, each a number or 'x'",
    source: SRC.componentName,
    pattern: /^(\d+|x)\.(\d+|x)\.(\d+|x)$/,
    probes: { accepted: ['1.0.2', '1.x.x'], refused: ['latest', '1.0'] },
    enforcedBy: 'construct',
  },
  'BakeStep.directory.localPath': localNone,
  'BakeStep.directory.remotePath': libraryNone('an absolute path on the instance, checked as such'),
  'BakeStep.directory.exclude': localNone,
  'BakeStep.document.yaml': {
    rule: 'a component document of at most 16,000 characters, without {{ }} that AWSTOE would read as a variable',
    source: SRC.componentData,
    length: { max: 16000 },
    enforcedBy: 'construct',
    probes: { accepted: [documentOf(16000)], refused: [documentOf(16001)] },
  },
  'BakeStep.file.localPath': localNone,
  'BakeStep.file.remotePath': libraryNone('an absolute path on the instance, checked as such'),
  'BakeStep.shell.commands': { unchecked: 'AWSTOE reads {{ }} in commands as variables; the ami branch of this round refuses them', rule: 'no {{ }} in a component document', source: 'https://github.com/aws/ec2-image-builder-roadmap/issues/114' },

  // ContainerImageBuild
  'ContainerImageBuild.directory': localNone,
  'ContainerImageBuild.file': localNone,
  'ContainerImageBuild.buildArgs': { none: 'Docker build arguments, passed to the build as one JSON value of the job\'s settings; checked for secrets' },
  'ContainerImageBuild.buildTimeout': {
    rule: 'whole minutes from 5 to 655 (CodeBuild takes 5 to 2160; the wait condition\'s 12 hours less 60 minutes of queue and 5 of margin)',
    source: `${SRC.codebuildTimeout} ${SRC.waitCondition}`,
    range: { min: 5, max: 655, integer: true, unit: 'minutes' },
    enforcedBy: 'construct',
  },
  'ContainerImageBuild.cache': booleanNone,
  'ContainerImageBuild.computeType': {
    rule: 'a BUILD_GENERAL1_* compute type (Docker builds need a privileged container, which Lambda compute does not run)',
    source: SRC.codebuildCompute,
    pattern: /^BUILD_GENERAL1_/,
    probes: { accepted: ['BUILD_GENERAL1_SMALL', 'BUILD_GENERAL1_2XLARGE'], refused: ['BUILD_LAMBDA_1GB'] },
    enforcedBy: 'construct',
  },
  'ContainerImageBuild.exclude': localNone,
  'ContainerImageBuild.platform': enumNone,
  'ContainerImageBuild.pullThroughCachePrefixes': {
    rule: "2 to 30 lowercase letters, digits, '.', '_', '-' and '/' (not ROOT)",
    source: SRC.pullThroughCache,
    pattern: /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/,
    probes: { accepted: [['ab'], ['a'.repeat(30)]], refused: [['a'], ['a'.repeat(31)], ['Docker']] },
    enforcedBy: 'construct',
  },
  'ContainerImageBuild.removalPolicy': enumNone,
  'ContainerImageBuild.replicateTo': { rule: 'at most 25 unique destinations across the registry\'s replication rules', source: SRC.ecrReplication, count: { max: 25 } },
  'ContainerImageBuild.replicateTo[].region': { ...regionLimit, probes: { accepted: ['us-east-1', 'us-gov-west-1'], refused: ['us-east', 'US-EAST-1'] } },
  'ContainerImageBuild.replicateTo[].account': accountLimit,
  'ContainerImageBuild.repository': referenceNone,
  'ContainerImageBuild.requireImmutableTags': booleanNone,
  'ContainerImageBuild.retainImages': { rule: 'a whole number of images, at least 1', source: SRC.ecrLifecycle, range: { min: 1, integer: true }, enforcedBy: 'construct', tokens: LIFECYCLE_TEXT },
  'ContainerImageBuild.shareWith': accountsLimit,
  'ContainerImageBuild.target': { none: 'a Dockerfile stage name, which Docker checks; no AWS API reads it' },
  'ContainerImageBuild.vpc': referenceNone,
  'ContainerImageBuild.grantPull.grantee': referenceNone,

  // ContainerArtifact
  'ContainerArtifact.fromDigest.imageDigest': {
    rule: "'sha256:' and 64 lowercase hexadecimal characters",
    source: SRC.imageDigest,
    pattern: /^sha256:[0-9a-f]{64}$/,
    probes: { accepted: [`sha256:${'a'.repeat(64)}`], refused: [`sha256:${'a'.repeat(63)}`, `sha256:${'A'.repeat(64)}`] },
    enforcedBy: 'construct',
  },
  'ContainerArtifact.fromDigest.repository': referenceNone,
  'ContainerArtifact.fromDigest.imageTag': { none: 'for information only: never sent to AWS (the image is pulled by digest)' },
  'ContainerArtifact.fromDigest.platform': enumNone,
  'ContainerArtifact.fromFingerprint.fingerprint': libraryNone('a fingerprint, 64 lowercase hexadecimal characters, checked as such'),
  'ContainerArtifact.fromFingerprint.repository': referenceNone,
  'ContainerArtifact.fromFingerprint.platform': enumNone,

  // EcsDeployment
  'EcsDeployment.rolling.minHealthyPercent': percentLimit(0, 100, SRC.ecsDeployment),
  'EcsDeployment.rolling.maxHealthyPercent': {
    rule: 'a whole percentage of at least 100, above minHealthyPercent (100 by default)', source: SRC.ecsDeployment, probes: { accepted: [101, 400], refused: [99, 100.5] }, enforcedBy: 'construct',
  },
  'EcsDeployment.rolling.alarms': alarmsUnchecked,
  'EcsDeployment.rolling.healthCheckGracePeriod': trafficShift('EcsDeployment.rolling')['EcsDeployment.rolling.healthCheckGracePeriod'],
  ...trafficShift('EcsDeployment.blueGreen'),
  ...stepped('EcsDeployment.canary'),
  ...stepped('EcsDeployment.linear'),

  // Fingerprint, ImmutabilityChecks: local, no AWS
  'Fingerprint.combine.parts': libraryNone('fingerprints to combine, computed locally'),
  'Fingerprint.ofDirectory.directory': localNone,
  'Fingerprint.ofDirectory.exclude': localNone,
  'Fingerprint.ofDirectory.useDockerignore': booleanNone,
  'Fingerprint.ofFile.file': localNone,
  'Fingerprint.ofJson.value': libraryNone('any JSON value, hashed locally'),
  'Fingerprint.ofString.value': libraryNone('any string, hashed locally'),
  'Fingerprint.sameAs.other': libraryNone('a fingerprint to compare, locally'),
  'ImmutabilityChecks.level': enumNone,
  'ImmutabilityChecks.ruleLevels': libraryNone('levels per rule id of the library\'s own rules'),
  'ImmutabilityChecks.findingId.ruleId': libraryNone('a rule id of the library'),
  'ImmutabilityChecks.visit.node': libraryNone('the construct an Aspect visits, given by aws-cdk-lib'),

  // ImmutableAutoScalingGroup
  'ImmutableAutoScalingGroup.artifact': referenceNone,
  'ImmutableAutoScalingGroup.instanceType': { none: 'an EC2 instance type through aws-cdk-lib\'s InstanceType; its architecture must be the artifact\'s (the pairing checks)' },
  'ImmutableAutoScalingGroup.vpc': referenceNone,
  // Whole numbers of instances, 0 or more; the probes keep min <= desired <= max, and minCapacity >= 1 for the default replaceGroup's signals.
  'ImmutableAutoScalingGroup.desiredCapacity': { rule: 'a whole number of instances, 0 or more', source: SRC.asgCapacity, probes: { accepted: [1, 10], refused: [-1, 1.5] }, enforcedBy: 'construct' },
  'ImmutableAutoScalingGroup.maxCapacity': { rule: 'a whole number of instances, 0 or more', source: SRC.asgCapacity, probes: { accepted: [1, 10], refused: [-1, 1.5] }, enforcedBy: 'construct' },
  'ImmutableAutoScalingGroup.minCapacity': { rule: 'a whole number of instances, 0 or more', source: SRC.asgCapacity, probes: { accepted: [1, 10], refused: [-1, 1.5] }, enforcedBy: 'construct' },
  'ImmutableAutoScalingGroup.healthCheck': { none: 'an InstanceHealthCheck: its factories\' parameters have their own entries' },
  'ImmutableAutoScalingGroup.notificationTopic': referenceNone,
  'ImmutableAutoScalingGroup.replacement': { none: 'a ReplacementStrategy: its factories\' options have their own entries' },
  'ImmutableAutoScalingGroup.role': referenceNone,
  'ImmutableAutoScalingGroup.rootDeviceName': deviceLimit,
  'ImmutableAutoScalingGroup.rootVolumeEncryptionKey': referenceNone,
  'ImmutableAutoScalingGroup.rootVolumeSize': { rule: 'whole GiB from 1 to 16384 (gp3)', source: SRC.ebsSize, range: { min: 1, max: 16384, integer: true } },
  'ImmutableAutoScalingGroup.securityGroup': referenceNone,
  'ImmutableAutoScalingGroup.userData': userDataUnchecked,
  'ImmutableAutoScalingGroup.vpcSubnets': { none: 'subnets of vpc, selected by aws-cdk-lib' },
  'ImmutableAutoScalingGroup.attachToApplicationTargetGroup.targetGroup': referenceNone,
  'ImmutableAutoScalingGroup.attachToApplicationTargetGroup.gracePeriod': { unchecked: 'passed to the group in whole seconds', rule: 'whole seconds, 0 or more', source: SRC.asgCapacity },

  // ImmutableFargateService
  'ImmutableFargateService.artifact': referenceNone,
  'ImmutableFargateService.assignPublicIp': { none: 'a boolean; whether tasks in public subnets can reach ECR without one is the containers branch\'s warning' },
  'ImmutableFargateService.cluster': referenceNone,
  'ImmutableFargateService.containerName': {
    rule: 'up to 255 letters, digits, hyphens and underscores',
    source: SRC.containerName,
    pattern: /^[A-Za-z0-9_-]{1,255}$/,
    probes: { accepted: ['a', 'a'.repeat(255)], refused: ['a'.repeat(256), 'web app'] },
  },
  'ImmutableFargateService.containerPort': { rule: 'a port from 1 to 65535', source: SRC.portMapping, range: { min: 1, max: 65535, integer: true }, enforcedBy: 'construct' },
  'ImmutableFargateService.cpu': {
    rule: 'a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384 (with a memory it offers)', source: SRC.fargateSizes, probes: { accepted: [256], refused: [128, 32768] }, enforcedBy: 'construct',
  },
  'ImmutableFargateService.deregistrationDelay': {
    rule: 'whole seconds from 0 to 3600 (deregistration_delay.timeout_seconds)', source: SRC.deregistrationDelay, range: { min: 0, max: 3600, integer: true, unit: 'seconds' }, enforcedBy: 'construct',
  },
  'ImmutableFargateService.deployment': { none: 'an EcsDeployment: its factories\' options have their own entries' },
  'ImmutableFargateService.desiredCount': { rule: 'a whole number of tasks, 0 or more', source: SRC.serviceName, range: { min: 0, integer: true }, enforcedBy: 'construct' },
  'ImmutableFargateService.environment': { unchecked: 'aws-cdk-lib renders the task definition, whose whole size is known only once rendered', rule: 'a task definition of at most 64 KiB', source: SRC.taskDefinitionSize },
  'ImmutableFargateService.healthCheck': { none: 'aws-cdk-lib\'s ecs.HealthCheck, passed to its ContainerDefinition as it is: aws-cdk-lib checks its ranges' },
  'ImmutableFargateService.listener': referenceNone,
  'ImmutableFargateService.listenerConditions': { none: 'aws-cdk-lib\'s ListenerCondition objects, rendered by aws-cdk-lib' },
  'ImmutableFargateService.listenerPriority': { rule: 'a whole number from 1 to 50000', source: SRC.listenerPriority, range: { min: 1, max: 50000, integer: true } },
  'ImmutableFargateService.loadBalancerHealthCheck': { none: 'aws-cdk-lib\'s elbv2.HealthCheck, passed to its target group as it is: aws-cdk-lib checks its ranges' },
  'ImmutableFargateService.logGroup': referenceNone,
  'ImmutableFargateService.logRetention': enumNone,
  'ImmutableFargateService.memoryLimitMiB': {
    rule: 'a memory size Fargate offers with the cpu', source: SRC.fargateSizes, probes: { accepted: [512, 2048], refused: [256, 4096] }, enforcedBy: 'construct',
  },
  'ImmutableFargateService.platform': enumNone,
  'ImmutableFargateService.readonlyRootFilesystem': booleanNone,
  'ImmutableFargateService.secrets': referenceNone,
  'ImmutableFargateService.securityGroups': referenceNone,
  'ImmutableFargateService.serviceName': {
    rule: 'up to 255 letters, digits, hyphens and underscores',
    source: SRC.serviceName,
    pattern: /^[A-Za-z0-9_-]{1,255}$/,
    probes: { accepted: ['a', 'a'.repeat(255)], refused: ['a'.repeat(256), 'web.app'] },
  },
  'ImmutableFargateService.targetGroup': referenceNone,
  'ImmutableFargateService.taskRole': referenceNone,
  'ImmutableFargateService.vpc': referenceNone,
  'ImmutableFargateService.vpcSubnets': { none: 'subnets of the cluster\'s VPC, selected by aws-cdk-lib' },
  'ImmutableFargateService.writableDirectories': libraryNone('absolute directory paths of the container, each a task volume named from it; checked as such'),

  // InstanceHealthCheck: probes on the instance, not AWS API values
  'InstanceHealthCheck.command.command': libraryNone('a shell command run on the instance'),
  'InstanceHealthCheck.command.timeout': libraryNone('how long the instance probes itself (at least 5 seconds), within the group\'s signal timeout'),
  'InstanceHealthCheck.http.port': libraryNone('a TCP port on the instance, 1 to 65535, checked as such'),
  'InstanceHealthCheck.http.path': libraryNone('a URL path on the instance, checked to be one'),
  'InstanceHealthCheck.http.timeout': libraryNone('how long the instance probes itself (at least 5 seconds), within the group\'s signal timeout'),
  'InstanceHealthCheck.tcp.port': libraryNone('a TCP port on the instance, 1 to 65535, checked as such'),
  'InstanceHealthCheck.tcp.timeout': libraryNone('how long the instance probes itself (at least 5 seconds), within the group\'s signal timeout'),

  // ReplacementStrategy
  'ReplacementStrategy.instanceRefresh.alarms': { rule: 'at most 10 alarms', source: SRC.instanceRefresh, count: { max: 10 }, enforcedBy: 'construct' },
  'ReplacementStrategy.instanceRefresh.bakeTime': { rule: 'from 0 to 172,800 seconds (48 hours)', source: SRC.instanceRefresh, range: { min: 0, max: 172800, unit: 'seconds' }, enforcedBy: 'construct' },
  'ReplacementStrategy.instanceRefresh.checkpointDelay': { rule: 'from 0 to 172,800 seconds (48 hours)', source: SRC.instanceRefresh, range: { min: 0, max: 172800, unit: 'seconds' }, enforcedBy: 'construct' },
  'ReplacementStrategy.instanceRefresh.checkpoints': {
    rule: 'whole percentages from 1 to 100, ascending, ending with 100', source: SRC.instanceRefresh, probes: { accepted: [[100], [1, 100]], refused: [[0, 100], [50], [101]] }, enforcedBy: 'construct',
  },
  'ReplacementStrategy.instanceRefresh.creationTimeout': { rule: 'at most 12 hours', source: SRC.creationPolicy, range: { min: 0, max: 43200, unit: 'seconds' }, tokens: ISO_DURATION },
  'ReplacementStrategy.instanceRefresh.instanceWarmup': { unchecked: 'aws-cdk-lib renders it in seconds', rule: 'whole seconds, 0 or more', source: SRC.instanceRefresh },
  'ReplacementStrategy.instanceRefresh.maxHealthyPercentage': percentLimit(100, 200, SRC.instanceRefresh),
  'ReplacementStrategy.instanceRefresh.minHealthyPercentage': percentLimit(0, 100, SRC.instanceRefresh),
  'ReplacementStrategy.instanceRefresh.skipMatching': booleanNone,
  'ReplacementStrategy.replaceGroup.minSuccessPercentage': percentLimit(0, 100, SRC.creationPolicy),
  'ReplacementStrategy.replaceGroup.signalCount': { rule: 'a whole number of signals, at least 1', source: SRC.creationPolicy, range: { min: 1, integer: true }, enforcedBy: 'construct' },
  'ReplacementStrategy.replaceGroup.timeout': { rule: 'at most 12 hours', source: SRC.creationPolicy, range: { min: 0, max: 43200, unit: 'seconds' }, tokens: ISO_DURATION },
  'ReplacementStrategy.rolling.maxBatchSize': { rule: 'a whole number of instances, at least 1', source: SRC.updatePolicy, range: { min: 1, integer: true }, enforcedBy: 'construct' },
  'ReplacementStrategy.rolling.minInstancesInService': { rule: 'a number of instances, 0 or more', source: SRC.updatePolicy, range: { min: 0 }, enforcedBy: 'construct' },
  'ReplacementStrategy.rolling.minSuccessPercentage': { ...percentLimit(0, 100, SRC.updatePolicy), tokens: 'aws-cdk-lib checks the update policy\'s percentage at synth, and refuses a token' },
  'ReplacementStrategy.rolling.pauseTime': { rule: 'at most one hour', source: SRC.updatePolicy, range: { min: 0, max: 3600, unit: 'seconds' }, enforcedBy: 'construct', tokens: ISO_DURATION },
  'ReplacementStrategy.rolling.waitOnResourceSignals': booleanNone,

  // ReplicationDestination
  'ReplicationDestination.repositoryPrefix': {
    rule: "lowercase path segments of letters, digits, '.', '_' and '-', 2 to 256 characters",
    source: SRC.creationTemplate,
    pattern: /^(?=.{2,256}$)[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/,
    probes: { accepted: ['ab', 'a'.repeat(256)], refused: ['a'.repeat(257), 'Cdk/'] },
  },
  'ReplicationDestination.retainImages': { rule: 'a whole number of images, at least 1', source: SRC.ecrLifecycle, range: { min: 1, integer: true }, enforcedBy: 'construct', tokens: LIFECYCLE_TEXT },
  'ReplicationDestination.sourceAccounts': accountsLimit,
};

/** A value as the table's units measure it: a Duration in its unit, a Size in GiB, a number as it is. */
function measure(value: unknown, unit: string | undefined): number | undefined {
  if (value instanceof Duration) {
    try {
      const n = unit === 'days' ? value.toDays({ integral: false }) : unit === 'hours' ? value.toHours({ integral: false })
        : unit === 'minutes' ? value.toMinutes({ integral: false }) : value.toSeconds({ integral: false });
      return Token.isUnresolved(n) ? undefined : n;
    } catch {
      return undefined; // a token in another unit: aws-cdk-lib cannot convert it
    }
  }
  if (value instanceof Size) {
    const gib = value.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
    return Token.isUnresolved(gib) ? undefined : gib;
  }
  return typeof value === 'number' && !Token.isUnresolved(value) ? value : undefined;
}

/** Whether aws-cdk-lib can express a token Duration in `unit` (only in the unit it was made with). */
function convertible(value: Duration, unit: string): boolean {
  try {
    measure(value, unit);
    const units: { [u: string]: () => number } = {
      days: () => value.toDays({ integral: false }),
      hours: () => value.toHours({ integral: false }),
      minutes: () => value.toMinutes({ integral: false }),
      seconds: () => value.toSeconds({ integral: false }),
    };
    units[unit]?.();
    return true;
  } catch {
    return false;
  }
}

function isToken(value: unknown): boolean {
  if (value instanceof Duration) return value.isUnresolved();
  if (value instanceof Size) return Token.isUnresolved(value.toMebibytes({ rounding: SizeRoundingBehavior.NONE }));
  return Token.isUnresolved(value) || (Array.isArray(value) && value.some((v) => Token.isUnresolved(v)));
}

function describe(value: unknown): unknown {
  if (value instanceof Duration) return value;
  if (value instanceof Size) return `${value.toGibibytes({ rounding: SizeRoundingBehavior.NONE })} GiB`;
  if (typeof value === 'string' && value.length > 40) return `${value.slice(0, 20)}... (${value.length} characters)`;
  return value;
}

/**
 * Refuses a known value that breaks the table's limit for `key`, naming `prop` as the user wrote it.
 * Tokens and undefined are not checked. `where` is the construct (path and type) or the factory.
 */
export function checkConstraint(where: string, key: string, prop: string, value: unknown): void {
  checkToken(where, key, prop, value);
  checkLimit(where, key, prop, value);
}

/** The limit of `key`, when the table has one that is checked. */
function limitOf(key: string, value: unknown): Limit | undefined {
  const entry = CONSTRAINTS[key];
  if (value === undefined || entry === undefined || !('rule' in entry) || !('source' in entry) || 'unchecked' in entry) return undefined;
  return entry as Limit;
}

/** Refuses a token the prop cannot take: what the construct builds cannot be made of it. */
function checkToken(where: string, key: string, prop: string, value: unknown): void {
  const limit = limitOf(key, value);
  if (!limit || !isToken(value)) return;
  if (limit.tokens) throw new SynthError(where, { prop, problem: `is an unresolved token, which cannot be taken here: ${limit.tokens}`, fix: 'Pass a literal value.' });
  if (value instanceof Duration && limit.range?.unit && !convertible(value, limit.range.unit)) {
    throw new SynthError(where, { prop, problem: `is a token Duration that cannot be converted to ${limit.range.unit}`, fix: `Pass Duration.${limit.range.unit}(<token>).` });
  }
}

/** Refuses a known value past the limit. */
function checkLimit(where: string, key: string, prop: string, value: unknown): void {
  const limit = limitOf(key, value);
  if (!limit) return;
  const fail = (shown: unknown): never => {
    throw new SynthError(where, { prop, value: describe(shown), problem: `is not what AWS takes: ${limit.rule}`, fix: `Pass ${limit.rule} (${limit.source.split(' ')[0]}).` });
  };
  // A pending limit is enforced by the branch that reads it from here once it merges, and one a
  // construct enforces with its own message is not checked twice.
  if (limit.pendingOn || limit.enforcedBy) return;
  if (limit.range) {
    const n = measure(value, limit.range.unit);
    const { min, max, integer } = limit.range;
    if (n !== undefined && ((integer && !Number.isInteger(n)) || (min !== undefined && n < min) || (max !== undefined && n > max))) fail(value);
  }
  const strings = Array.isArray(value) ? value : [value];
  for (const s of strings) {
    if (typeof s !== 'string' || Token.isUnresolved(s)) continue;
    if (limit.pattern && !limit.pattern.test(s)) fail(s);
    if (limit.length && (s.length > limit.length.max || s.length < (limit.length.min ?? 0))) fail(s);
  }
  if (limit.count && Array.isArray(value) && !Token.isUnresolved(value) && value.length > limit.count.max) fail(`${value.length} entries`);
  if (limit.entries && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as { [k: string]: unknown });
    if (limit.count && entries.length > limit.count.max) fail(`${entries.length} entries`);
    for (const [k, v] of entries) {
      if (Token.isUnresolved(k)) continue;
      if (k.length < 1 || k.length > limit.entries.keyLength) fail(k);
      if (typeof v === 'string' && !Token.isUnresolved(v) && v.length > limit.entries.valueLength) fail(`${k}: ${v}`);
    }
  }
}

/**
 * `checkConstraint` for several props of one construct or factory: `[key, prop, value]`. A factory
 * (`where` its name) throws the first problem. A construct throws at once for a token a prop cannot
 * take (what it builds cannot be made of it); each value past a limit is recorded, and reported with
 * every other problem when the app synthesizes.
 */
export function checkConstraints(where: string | PropProblems, checks: Array<[string, string, unknown]>): void {
  if (typeof where === 'string') {
    for (const [key, prop, value] of checks) checkConstraint(where, key, prop, value);
    return;
  }
  for (const [key, prop, value] of checks) checkToken(where.where, key, prop, value);
  where.check(...checks.map(([key, prop, value]) => () => checkLimit(where.where, key, prop, value)));
}
