import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { ContainerImageBuild, ReplicationDestination } from '../../../src';
import { BUILD_ENV, BUILDKIT_IMAGE, buildSpecObject, cacheTagOf } from '../../../src/artifacts/container/buildspec';

/**
 * Builder stages cached (issue 28, item 3): every stage's layers go to a build cache in the repository,
 * under a tag of each build's own, on a BuildKit builder whose image comes from ECR Public; lifecycle
 * rules bound the caches and never count a fingerprint image.
 */

const URI = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app-images';
const FINGERPRINT = 'f'.repeat(64);

/** The build phase's one script, as CodeBuild runs it. */
function buildScript(): string {
  const spec = buildSpecObject() as { phases: { build: { commands: string[] } } };
  expect(spec.phases.build.commands).toHaveLength(1);
  return spec.phases.build.commands[0];
}

interface ScriptRun {
  readonly status: number | null;
  /** Every `docker` call, one line each, arguments separated by `|`. */
  readonly docker: string[];
  /** Every `curl` call, likewise. */
  readonly curl: string[];
  readonly stdout: string;
}

/** What the build environment can reach: ECR Public (or not), and whether the builder's image can be pulled. */
interface Network {
  readonly ecrPublic: boolean;
  readonly builderStarts: boolean;
}

/**
 * Runs the build script with bash, with a `docker` on the PATH that records its arguments (and fails
 * `buildx create` unless the builder starts), and a `curl` that reaches ECR Public or does not.
 */
function runScript(env: Record<string, string>, network: Network = { ecrPublic: true, builderStarts: true }): ScriptRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cib-script-'));
  const log = path.join(dir, 'docker.log');
  fs.writeFileSync(path.join(dir, 'docker'), [
    '#!/bin/bash',
    `(IFS='|'; echo "$*") >> '${log}'`,
    `if [ "$1 $2" = "buildx create" ] && [ "${network.builderStarts ? 'yes' : 'no'}" = no ]; then echo 'ERROR: failed to pull image' >&2; exit 1; fi`,
    'exit 0',
  ].join('\n'), { mode: 0o755 });
  // curl exits 28 when --max-time passes: no route to ECR Public (a VPC with endpoints only).
  fs.writeFileSync(path.join(dir, 'curl'), ['#!/bin/bash', `(IFS='|'; echo "curl|$*") >> '${log}'`, `exit ${network.ecrPublic ? 0 : 28}`].join('\n'), { mode: 0o755 });
  const result = spawnSync('bash', ['-c', buildScript()], {
    cwd: dir,
    env: { PATH: `${dir}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
  });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  const docker = calls.filter((c) => !c.startsWith('curl|'));
  const curl = calls.filter((c) => c.startsWith('curl|'));
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: result.status, docker, curl, stdout: result.stdout };
}

function buildEnv(cache: boolean, cacheFrom = ''): Record<string, string> {
  return {
    [BUILD_ENV.IMAGE_URI]: URI,
    [BUILD_ENV.IMAGE_TAG]: `fp-${FINGERPRINT}`,
    [BUILD_ENV.DOCKERFILE]: 'Dockerfile',
    [BUILD_ENV.PLATFORM]: 'linux/amd64',
    [BUILD_ENV.FINGERPRINT]: FINGERPRINT,
    [BUILD_ENV.CACHE]: String(cache),
    [BUILD_ENV.CACHE_FROM]: cacheFrom,
    [BUILD_ENV.CACHE_TAG]: cache ? cacheTagOf('linux/amd64', FINGERPRINT) : '',
    [BUILD_ENV.BUILD_ARG_COUNT]: '0',
  };
}

function buildCall(run: ScriptRun): string[] {
  const build = run.docker.find((line) => line.startsWith('buildx|build|'));
  if (!build) throw new Error(`no docker buildx build among: ${run.docker.join('\n')}`);
  return build.split('|');
}

describe('the build script', () => {
  test('with the cache off: the Docker daemon\'s own builder, no cache, no builder started, nothing pulled', () => {
    // WHEN
    const run = runScript(buildEnv(false));
    // THEN
    expect(run.status).toEqual(0);
    expect(run.docker).toHaveLength(1);
    expect(run.curl).toEqual([]);
    const args = buildCall(run);
    expect(args).not.toContain('--builder');
    expect(args.filter((a) => a.startsWith('--cache'))).toEqual([]);
    expect(args).toEqual(expect.arrayContaining(['--push', '--provenance=false', '--sbom=false', `${URI}:fp-${FINGERPRINT}`]));
  });

  test('with the cache on: a BuildKit builder of its own from ECR Public, pinned by digest; every stage\'s layers go to the build\'s own cache tag as an OCI image manifest; both caches are read', () => {
    // GIVEN
    const from = `${URI}:cache-amd64-${'e'.repeat(64)} ${URI}:fp-${'e'.repeat(64)}`;
    // WHEN
    const run = runScript(buildEnv(true, from));
    // THEN
    expect(run.status).toEqual(0);
    expect(run.curl).toEqual(['curl|--silent|--max-time|5|--output|/dev/null|https://public.ecr.aws/v2/']);
    expect(run.docker[0].split('|')).toEqual(['buildx', 'create', '--name', 'cid-cache', '--driver', 'docker-container', '--driver-opt', `image=${BUILDKIT_IMAGE}`, '--bootstrap']);
    expect(BUILDKIT_IMAGE).toMatch(/^public\.ecr\.aws\/[^@]+@sha256:[0-9a-f]{64}$/);
    const args = buildCall(run);
    expect(args[args.indexOf('--builder') + 1]).toEqual('cid-cache');
    expect(args[args.indexOf('--cache-to') + 1]).toEqual(`type=registry,ref=${URI}:cache-amd64-${FINGERPRINT},mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true`);
    expect(args.filter((_, i) => args[i - 1] === '--cache-from')).toEqual([
      `type=registry,ref=${URI}:cache-amd64-${'e'.repeat(64)}`,
      `type=registry,ref=${URI}:fp-${'e'.repeat(64)}`,
    ]);
  });

  test('with the cache on and no route to ECR Public (a VPC with endpoints only): no builder is started, the daemon\'s builder builds with an inline cache', () => {
    // WHEN
    const run = runScript(buildEnv(true, `${URI}:fp-${'e'.repeat(64)}`), { ecrPublic: false, builderStarts: true });
    // THEN
    expect(run.status).toEqual(0);
    expect(run.docker.map((l) => l.split('|').slice(0, 2).join(' '))).toEqual(['buildx rm', 'buildx build']);
    const args = buildCall(run);
    expect(args[args.indexOf('--builder') + 1]).toEqual('default');
    expect(args[args.indexOf('--cache-to') + 1]).toEqual('type=inline');
  });

  test('with the cache on and a builder that cannot start (its image cannot be pulled): the daemon\'s builder, named, with an inline cache, and the build goes on', () => {
    // WHEN
    const run = runScript(buildEnv(true, `${URI}:fp-${'e'.repeat(64)}`), { ecrPublic: true, builderStarts: false });
    // THEN
    expect(run.status).toEqual(0);
    expect(run.stdout).toContain('The BuildKit builder did not start');
    expect(run.docker.map((l) => l.split('|').slice(0, 2).join(' '))).toEqual(['buildx create', 'buildx rm', 'buildx build']);
    const args = buildCall(run);
    expect(args[args.indexOf('--builder') + 1]).toEqual('default');
    expect(args[args.indexOf('--cache-to') + 1]).toEqual('type=inline');
    expect(args[args.indexOf('--cache-from') + 1]).toEqual(`type=registry,ref=${URI}:fp-${'e'.repeat(64)}`);
  });

  test('the cache tag names the architecture and the fingerprint: every build writes a tag of its own, none ever moves', () => {
    expect(cacheTagOf('linux/arm64', FINGERPRINT)).toEqual(`cache-arm64-${FINGERPRINT}`);
    expect(cacheTagOf('linux/amd64', FINGERPRINT)).toEqual(`cache-amd64-${FINGERPRINT}`);
    expect(cacheTagOf('linux/amd64', FINGERPRINT).length).toBeLessThanOrEqual(128);
  });
});

function context(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cib-cache-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/node:22 AS build\nRUN true\nFROM public.ecr.aws/docker/library/node:22-slim\nCOPY --from=build /etc/hostname /x\n');
  return dir;
}

function stack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

describe('cache retention', () => {
  test('the repository it creates keeps the last 2 build caches (cache- tags), beside the fingerprint images it keeps', () => {
    // GIVEN
    const s = stack();
    // WHEN
    new ContainerImageBuild(s, 'Image', { directory: context(), retainImages: 5 });
    // THEN
    const [repository] = Object.values(Template.fromStack(s).findResources('AWS::ECR::Repository'));
    const policy = JSON.parse(repository.Properties.LifecyclePolicy.LifecyclePolicyText);
    expect(policy.rules).toEqual([
      expect.objectContaining({ rulePriority: 1, selection: expect.objectContaining({ tagStatus: 'tagged', tagPrefixList: ['fp-'], countType: 'imageCountMoreThan', countNumber: 5 }) }),
      expect.objectContaining({ rulePriority: 2, selection: expect.objectContaining({ tagStatus: 'untagged' }) }),
      expect.objectContaining({ rulePriority: 3, selection: expect.objectContaining({ tagStatus: 'tagged', tagPrefixList: ['cache-'], countType: 'imageCountMoreThan', countNumber: 2 }) }),
    ]);
    // A cache tag never starts with a fingerprint image's prefix, so the cache rule never expires a fingerprint image.
    expect(cacheTagOf('linux/amd64', FINGERPRINT).startsWith('fp-')).toBe(false);
  });

  test('a repository you pass gets a warning to bound the caches; with the cache off, none', () => {
    // GIVEN
    const s = stack();
    const repository = new ecr.Repository(s, 'Repo', { imageTagMutability: ecr.TagMutability.IMMUTABLE });
    // WHEN
    new ContainerImageBuild(s, 'Cached', { directory: context(), repository });
    new ContainerImageBuild(s, 'Uncached', { directory: context(), repository, cache: false });
    // THEN
    const annotations = Annotations.fromStack(s);
    annotations.hasWarning('/Stack/Cached', Match.stringLikeRegexp("build cache to Stack/Repo, one image per build tagged 'cache-<arch>-<fingerprint>'.*tagPrefixList: \\['cache-'\\], maxImageCount: 2.*\\[ack: cdk-immutable-deploys:build-cache-retention\\]"));
    expect(annotations.findWarning('/Stack/Uncached', Match.stringLikeRegexp('build cache'))).toHaveLength(0);
  });

  test('replicated repositories keep the last 2 build caches too (ReplicationDestination\'s creation template)', () => {
    // GIVEN
    const s = stack();
    // WHEN
    new ReplicationDestination(s, 'Replicas');
    // THEN
    const template = Object.values(Template.fromStack(s).findResources('AWS::ECR::RepositoryCreationTemplate'))[0];
    expect(JSON.parse(template.Properties.LifecyclePolicy).rules).toContainEqual(
      expect.objectContaining({ rulePriority: 2, selection: expect.objectContaining({ tagPrefixList: ['cache-'], countNumber: 2 }) }),
    );
  });
});
