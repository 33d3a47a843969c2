/**
 * The synth-time checks of an `AmiBake`'s props: what CloudFormation, Image Builder or EC2 would refuse
 * at deploy time (after minutes of building) fails the synth, with the prop, the value and what to do.
 *
 * Internal: never exported from the package.
 */
import { Duration, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { AmiBakeProps } from './ami-bake';
import { checkConstraints } from '../../internal/constraints';
import { constructError, PropProblems, warnIfUnknownRegion } from '../../internal/errors';
import { MAX_JOB_TIMEOUT } from '../../internal/runtime/runtime';

const TYPE = 'AmiBake';

/** Image Builder's limit of build and test components of one recipe, in any combination. */
export const MAX_RECIPE_COMPONENTS = 20;

/** The longest `keepLaunchedWithin`: a lifecycle policy's `LastLaunched` value is 1 to 365 (days). */
const MAX_KEEP_DAYS = 365;

/**
 * What an `amiName` prefix may hold: the characters both Image Builder's AMI name pattern
 * (`^[-_A-Za-z0-9{][-_A-Za-z0-9\s:{}\.]+[-_A-Za-z0-9}]$`, with `{{ }}` for its own placeholders) and
 * EC2's AMI names accept, at most 80 of them, so that `<prefix>-<fingerprint>-<build date>` stays
 * within both limits.
 */
const AMI_NAME_PREFIX = /^[A-Za-z0-9_-][A-Za-z0-9_. -]{0,79}$/;

/** Tag keys that AWS reserves, or that the library and Image Builder set on every AMI and rely on. */
const RESERVED_TAG_KEYS = ['CreatedBy', 'Ec2ImageBuilderArn'];
const RESERVED_TAG_PREFIXES = ['aws:', 'cdk-immutable-deploys:'];

/**
 * Tag keys Image Builder refuses in an infrastructure configuration's `resourceTags` (the build
 * instances' tags) but that an AMI may carry: they go to the AMIs only.
 */
const BUILD_INSTANCE_RESERVED_KEYS = ['Name', 'Tags'];

/**
 * Checks the props. The build's subnets and a token root volume size (it counts in the fingerprint)
 * fail at once; every other problem is recorded, and synthesis reports them all.
 */
export function validateProps(bake: Construct, props: AmiBakeProps): void {
  checkConstraints(PropProblems.of(bake, TYPE), [['AmiBake.distribution.kmsKeyId', 'distribution.kmsKeyId', props.distribution?.kmsKeyId], ['AmiBake.tags', 'tags', props.tags], ['AmiBake.keepLaunchedWithin', 'keepLaunchedWithin', props.keepLaunchedWithin]]);
  if (props.vpc) {
    const subnets = props.vpc.selectSubnets(props.subnetSelection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    if (subnets.subnetIds.length === 0) {
      throw constructError(bake, TYPE, { prop: 'subnetSelection', problem: `selects no subnet of vpc ${props.vpc.node.path}`, fix: 'Select a subnet with outbound access.' });
    }
  } else if (props.subnetSelection) {
    PropProblems.of(bake, TYPE).add({ prop: 'subnetSelection', problem: 'is set but vpc is not', fix: 'Pass the vpc the subnets belong to.' });
  }
  if (props.steps.length === 0) {
    PropProblems.of(bake, TYPE).add({ prop: 'steps', problem: 'is empty', fix: 'Pass at least one BakeStep, such as BakeStep.shell([...]).' });
  }
  const components = props.steps.length + (props.testSteps?.length ?? 0);
  if (components > MAX_RECIPE_COMPONENTS) {
    PropProblems.of(bake, TYPE).add({
      prop: props.testSteps?.length ? 'steps and testSteps' : 'steps',
      value: `${props.steps.length} steps and ${props.testSteps?.length ?? 0} test steps`,
      problem: `make ${components} components, and an Image Builder recipe takes at most ${MAX_RECIPE_COMPONENTS} build and test components together`,
      fix: 'Merge shell steps (BakeStep.shell takes many commands), ship a script with BakeStep.file() and run it in one step, or split the bake into layers (BaseImage.fromAmiArtifact).',
    });
  }
  checkDurations(bake, props);
  checkSizes(bake, props);
  if (props.amiName !== undefined && !Token.isUnresolved(props.amiName) && !AMI_NAME_PREFIX.test(props.amiName)) {
    PropProblems.of(bake, TYPE).add({
      prop: 'amiName',
      value: props.amiName,
      problem: 'is not a valid AMI name prefix: Image Builder and EC2 both accept only letters, digits, spaces and . - _ in it, starting with a letter, digit, - or _',
      fix: 'Use 1 to 80 of those characters, such as \'web-server\'.',
    });
  }
  for (const region of props.distribution?.regions ?? []) {
    if (!Token.isUnresolved(region) && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
      PropProblems.of(bake, TYPE).add({ prop: 'distribution.regions', problem: `has '${region}', which is not a region name`, fix: "Pass names such as 'eu-west-1'." });
    } else {
      warnIfUnknownRegion(bake, 'distribution.regions', region);
    }
  }
  for (const account of props.distribution?.accounts ?? []) {
    if (!Token.isUnresolved(account) && !/^\d{12}$/.test(account)) {
      PropProblems.of(bake, TYPE).add({ prop: 'distribution.accounts', problem: `has '${account}', which is not an AWS account id`, fix: 'Pass 12-digit account ids.' });
    }
  }
  checkTags(bake, props.tags ?? {});
}

function checkDurations(bake: Construct, props: AmiBakeProps): void {
  const timeout = props.buildTimeout;
  if (timeout && !Token.isUnresolved(timeout.toSeconds())) {
    if (timeout.toSeconds() > MAX_JOB_TIMEOUT.toSeconds()) {
      PropProblems.of(bake, TYPE).add({ prop: 'buildTimeout', value: timeout, problem: 'is longer than 12 hours, the most a CloudFormation wait condition allows', fix: 'Pass at most Duration.hours(12), or make the bake shorter (a layered bake splits it).' });
    }
    if (timeout.toSeconds() < 60) {
      PropProblems.of(bake, TYPE).add({ prop: 'buildTimeout', value: timeout, problem: 'is shorter than a minute; no bake finishes that fast', fix: 'Pass at least Duration.minutes(30).' });
    }
  }
  const retain = props.retainImages;
  if (retain !== undefined && !Token.isUnresolved(retain) && (!Number.isInteger(retain) || retain < 1 || retain > 1000)) {
    PropProblems.of(bake, TYPE).add({ prop: 'retainImages', value: retain, problem: 'must be a whole number from 1 to 1000', fix: 'Pass 3 to keep the last three images.' });
  }
  const keep = props.keepLaunchedWithin;
  const day = Duration.days(1).toSeconds();
  if (keep && !Token.isUnresolved(keep.toSeconds())) {
    if (keep.toSeconds() < day || keep.toSeconds() % day !== 0) {
      PropProblems.of(bake, TYPE).add({ prop: 'keepLaunchedWithin', value: keep, problem: 'must be a whole number of days, at least 1', fix: 'Pass Duration.days(30), for example.' });
    } else if (keep.toSeconds() > MAX_KEEP_DAYS * day) {
      PropProblems.of(bake, TYPE).add({ prop: 'keepLaunchedWithin', value: keep, problem: `is longer than ${MAX_KEEP_DAYS} days, the most an Image Builder lifecycle policy's last-launched rule takes`, fix: 'Pass at most Duration.days(365); tag an AMI cdk-immutable-deploys:keep=true to keep it longer.' });
    }
  }
}

function checkSizes(bake: Construct, props: AmiBakeProps): void {
  const size = props.rootVolumeSize;
  if (!size) return;
  const gib = size.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (Token.isUnresolved(gib)) {
    throw constructError(bake, TYPE, { prop: 'rootVolumeSize', problem: 'is an unresolved token', fix: "The volume size counts in the bake's fingerprint, so it must be known at synth time; pass Size.gibibytes(<number>)." });
  }
  if (!Number.isInteger(gib) || gib < 1 || gib > 16384) {
    PropProblems.of(bake, TYPE).add({ prop: 'rootVolumeSize', value: `${gib} GiB`, problem: 'must be a whole number of GiB from 1 to 16384', fix: 'Pass Size.gibibytes(20), for example.' });
  }
}

function checkTags(bake: Construct, tags: { [key: string]: string }): void {
  for (const key of Object.keys(tags)) {
    if (Token.isUnresolved(key)) continue;
    const prefix = RESERVED_TAG_PREFIXES.find((p) => key.toLowerCase().startsWith(p));
    if (prefix || RESERVED_TAG_KEYS.includes(key)) {
      PropProblems.of(bake, TYPE).add({
        prop: 'tags',
        value: key,
        problem: prefix
          ? `starts with '${prefix}', which ${prefix === 'aws:' ? 'AWS reserves' : 'this library reserves for the tags it sets and relies on (fingerprint, bake, keep, in-use)'}`
          : 'is a tag Image Builder sets on every AMI and build instance it makes (and this library relies on)',
        fix: prefix === 'cdk-immutable-deploys:' ? 'Use another key; to keep one AMI from lifecycle deletion, tag that AMI cdk-immutable-deploys:keep=true yourself.' : 'Use another key.',
      });
    }
  }
}

/** The user's tags that Image Builder accepts on the build and test instances (the AMIs get them all). */
export function buildInstanceTags(tags: { [key: string]: string }): { [key: string]: string } {
  return Object.fromEntries(Object.entries(tags).filter(([key]) => !BUILD_INSTANCE_RESERVED_KEYS.includes(key)));
}

export function defaultInstanceTypes(architecture: ec2.InstanceArchitecture): ec2.InstanceType[] {
  return architecture === ec2.InstanceArchitecture.ARM_64
    ? [new ec2.InstanceType('m6g.large'), new ec2.InstanceType('m7g.large')]
    : [new ec2.InstanceType('m6i.large'), new ec2.InstanceType('m5.large')];
}

