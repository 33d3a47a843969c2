/**
 * A `ContainerImageBuild`'s props, checked and with their defaults, and what the build reads of them:
 * its fingerprints, the Dockerfile's stage, its wait in CodeBuild's queue.
 *
 * Internal: never exported from the package.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { Construct } from 'constructs';
import { MARGIN_MINUTES, MAX_BUILD_MINUTES, MAX_QUEUE_MINUTES, MIN_BUILD_MINUTES, QUEUE_MINUTES } from './build-projects';
import { BUILDER_REVISION } from './buildspec';
import type { ContainerImageBuildProps } from './container-image-build';
import { dockerfileRuntime, ImageRuntime, stageNames } from './dockerfile';
import { ContainerPlatform } from './platform';
import { checkCachePrefixes } from './pull-through-cache';
import { checkReplicationTargets, Destination } from './registry-replication';
import { Fingerprint } from '../../fingerprint';
import { constructError, describeConstruct, PropProblems } from '../../internal/errors';
import { requirePath } from '../../internal/paths';
import { MAX_JOB_TIMEOUT } from '../../internal/runtime/runtime';
import { containerInputDigests, InputDigests } from '../../plan/inputs';

/** Errors of a build start with the construct's path and this type. */
export const TYPE = 'ContainerImageBuild';

const DEFAULT_BUILD_MINUTES = 30;
const DEFAULT_RETAIN_IMAGES = 10;

/** A build's props, checked and with their defaults: every default is applied here, once. */
export interface BuildInputs {
  readonly directory: string;
  /** The Dockerfile's path inside the context, with forward slashes, and its text. */
  readonly dockerfile: string;
  readonly dockerfileText: string;
  readonly retainImages: number;
  readonly buildMinutes: number;
  readonly computeType: string;
  readonly buildArgs: { [name: string]: string };
  readonly target: string;
  readonly exclude: string[];
  readonly platform: ContainerPlatform;
  readonly cache: boolean;
  readonly requireImmutableTags: boolean;
  readonly shareWith: string[];
  readonly replicateTo: Destination[];
  readonly pullThroughCachePrefixes: string[];
}

/**
 * The build's inputs, checked. What the fingerprint is made of (directory, Dockerfile, target, build
 * arguments, ignore patterns) fails at once; every other problem is recorded, and synthesis reports
 * them all.
 */
export function resolveInputs(scope: Construct, props: ContainerImageBuildProps): BuildInputs {
  const directory = checkDirectory(scope, props.directory);
  const dockerfile = checkDockerfile(scope, directory, props.file ?? 'Dockerfile');
  checkLiterals(scope, 'target', { target: props.target ?? '' });
  const exclude = props.exclude ?? [];
  if (exclude.some((p) => Token.isUnresolved(p))) {
    throw constructError(scope, TYPE, { prop: 'exclude', value: exclude, problem: 'holds an unresolved token', fix: 'Ignore patterns decide what is fingerprinted: pass literal patterns.' });
  }
  return {
    directory,
    dockerfile,
    dockerfileText: fs.readFileSync(path.join(directory, dockerfile), 'utf8'),
    retainImages: checkRetainImages(scope, props.retainImages),
    buildMinutes: checkBuildTimeout(scope, props.buildTimeout),
    computeType: checkComputeType(scope, props.computeType),
    buildArgs: checkLiterals(scope, 'buildArgs', props.buildArgs ?? {}),
    target: props.target ?? '',
    exclude,
    platform: props.platform ?? ContainerPlatform.LINUX_AMD64,
    cache: props.cache ?? true,
    requireImmutableTags: props.requireImmutableTags ?? false,
    shareWith: checkAccounts(scope, props.shareWith ?? []),
    replicateTo: checkReplicationTargets(scope, TYPE, props.replicateTo ?? []),
    pullThroughCachePrefixes: checkCachePrefixes(scope, TYPE, props.pullThroughCachePrefixes ?? []),
  };
}

/**
 * How long a build may wait in CodeBuild's queue: what the wait condition's 12 hours leave after the
 * build and the margin, at most CodeBuild's 480 minutes. A queued build starts when a concurrent
 * build of its compute type frees up; with the default 30-minute build it may wait 8 hours.
 */
export function queueMinutesOf(inputs: BuildInputs): number {
  if (Token.isUnresolved(inputs.buildMinutes)) return QUEUE_MINUTES;
  return Math.min(MAX_QUEUE_MINUTES, MAX_JOB_TIMEOUT.toMinutes() - MARGIN_MINUTES - inputs.buildMinutes);
}

/** What the Dockerfile declares for the stage that is built; a target that names no stage is an error. */
export function runtimeOf(scope: Construct, inputs: BuildInputs): ImageRuntime {
  const runtime = dockerfileRuntime(inputs.dockerfileText, inputs.target || undefined);
  if (runtime) return runtime;
  const names = stageNames(inputs.dockerfileText);
  throw constructError(scope, TYPE, {
    prop: 'target',
    value: inputs.target,
    problem: `names no stage of ${inputs.dockerfile} (${names.length > 0 ? `its stages are ${names.join(', ')}` : 'it names no stage'}), so the build would fail`,
    fix: 'Pass the name of a stage (FROM <image> AS <name>), or leave out target to build the last stage.',
  });
}

export interface BuildFingerprints {
  readonly context: Fingerprint;
  readonly dockerfile: Fingerprint;
  readonly image: Fingerprint;
  /** The digest of each input, for the plan to name which changed. */
  readonly digests: InputDigests;
}

/** The fingerprints of the context, of the Dockerfile, and of the image: every input that shapes its bits. */
export function fingerprintsOf(inputs: BuildInputs): BuildFingerprints {
  const { fingerprint: context, entries } = Fingerprint._ofDirectoryEntries(inputs.directory, { exclude: inputs.exclude });
  const dockerfile = Fingerprint.ofFile(path.join(inputs.directory, inputs.dockerfile));
  const image = Fingerprint.combine(context, dockerfile, Fingerprint.ofJson({
    builder: BUILDER_REVISION,
    buildArgs: inputs.buildArgs,
    target: inputs.target || null,
    platform: inputs.platform.platform,
    cache: inputs.cache,
  }));
  const digests = containerInputDigests({
    context: entries,
    dockerfile: inputs.dockerfile,
    dockerfileText: inputs.dockerfileText,
    buildArgs: inputs.buildArgs,
    target: inputs.target,
    platform: inputs.platform.platform,
    cache: inputs.cache,
    builder: BUILDER_REVISION,
  });
  return { context, dockerfile, image, digests };
}

function checkDirectory(scope: Construct, directory: string): string {
  if (Token.isUnresolved(directory)) {
    throw constructError(scope, TYPE, { prop: 'directory', value: directory, problem: 'is an unresolved token', fix: 'The build context is read at synth time: pass a path.' });
  }
  return requirePath(describeConstruct(scope, TYPE), 'directory', directory, 'directory', "Pass the directory of the Docker build context, e.g. path.join(__dirname, 'app').");
}

/** The Dockerfile's path inside the context, with forward slashes. */
function checkDockerfile(scope: Construct, directory: string, file: string): string {
  const full = path.resolve(directory, file);
  const relative = path.relative(directory, full);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw constructError(scope, TYPE, {
      prop: 'file',
      problem: `'${file}' is outside the build context '${directory}'`,
      fix: "CodeBuild receives only the context: move the Dockerfile into it and pass its path relative to 'directory'.",
    });
  }
  if (!fs.existsSync(full) || !fs.statSync(full).isFile()) {
    throw constructError(scope, TYPE, { prop: 'file', problem: `'${file}' does not exist in '${directory}'`, fix: "Pass the Dockerfile's path relative to 'directory' (default 'Dockerfile')." });
  }
  return relative.split(path.sep).join('/');
}

function checkAccounts(scope: Construct, accounts: string[]): string[] {
  for (const account of accounts) {
    if (!Token.isUnresolved(account) && !/^\d{12}$/.test(account)) {
      PropProblems.of(scope, TYPE).add({ prop: 'shareWith', problem: `has '${account}', which is not an AWS account id`, fix: 'Pass 12-digit account ids.' });
    }
  }
  return [...new Set(accounts)];
}

function checkRetainImages(scope: Construct, retainImages: number | undefined): number {
  const value = retainImages ?? DEFAULT_RETAIN_IMAGES;
  if (Token.isUnresolved(value)) return value;
  if (!Number.isInteger(value) || value < 1) {
    PropProblems.of(scope, TYPE).add({
      prop: 'retainImages',
      value: retainImages,
      problem: 'must be a whole number of at least 1: lifecycle rules must keep the image a deployment runs',
      fix: `Pass 1 or more (default ${DEFAULT_RETAIN_IMAGES}).`,
    });
  }
  return value;
}

function checkBuildTimeout(scope: Construct, timeout: Duration | undefined): number {
  if (timeout === undefined) return DEFAULT_BUILD_MINUTES;
  if (timeout.isUnresolved()) return timeout.toMinutes();
  const seconds = timeout.toSeconds();
  if (seconds % 60 !== 0 || seconds < MIN_BUILD_MINUTES * 60 || seconds > MAX_BUILD_MINUTES * 60) {
    PropProblems.of(scope, TYPE).add({
      prop: 'buildTimeout',
      value: timeout,
      problem: `must be whole minutes from ${MIN_BUILD_MINUTES} to ${MAX_BUILD_MINUTES}: a deploy waits for the build through a CloudFormation wait condition, which waits 12 hours at most, at least ${QUEUE_MINUTES} minutes of CodeBuild's queue included`,
      fix: 'Use a larger computeType, or build the image in a pipeline and import it with ContainerArtifact.fromDigest().',
    });
  }
  return seconds / 60;
}

function checkComputeType(scope: Construct, computeType: codebuild.ComputeType | undefined): string {
  const value = computeType ?? codebuild.ComputeType.SMALL;
  if (Token.isUnresolved(value)) return value;
  if (!/^BUILD_GENERAL1_/.test(value)) {
    PropProblems.of(scope, TYPE).add({
      prop: 'computeType',
      value,
      problem: 'cannot run Docker builds, which need a privileged container',
      fix: 'Pass a BUILD_GENERAL1 type: codebuild.ComputeType.SMALL, MEDIUM, LARGE, X_LARGE or X2_LARGE.',
    });
  }
  return value;
}

function checkLiterals(scope: Construct, prop: string, values: { [name: string]: string }): { [name: string]: string } {
  for (const [name, value] of Object.entries(values)) {
    if (Token.isUnresolved(name) || Token.isUnresolved(value)) {
      const what = prop === 'target' ? 'target' : `buildArgs.${name}`;
      throw constructError(scope, TYPE, {
        prop: what,
        problem: `is an unresolved token (${value})`,
        fix: 'It is part of the image fingerprint, which must be known at synth time: pass a literal value.',
      });
    }
  }
  return values;
}

