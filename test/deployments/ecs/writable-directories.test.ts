/**
 * A read-only root filesystem leaves an image's user a place to write. On Fargate a bind-mount volume
 * is owned by root with mode 0755 unless the image declares a VOLUME at the same container path, whose
 * directory (files, owner and mode) ECS copies into the volume:
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html (considerations), and
 * https://github.com/aws/containers-roadmap/issues/938 for what happens to a non-root image without one.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { artifact, newStack, service } from './fixtures';
import { ContainerImageBuild, IContainerArtifact } from '../../../src';
import { dockerfileRuntime } from '../../../src/artifacts/container/dockerfile';
import { expectSynthError, synthErrors } from '../../synth-errors';

const EXAMPLE_DOCKERFILE = path.join(__dirname, '..', '..', '..', 'examples', 'container-app', 'Dockerfile');
const FIXTURE_DOCKERFILE = path.join(__dirname, 'fixtures', 'web', 'Dockerfile');

/** An artifact whose image is built from `dockerfile`, as an artifact that knows its Dockerfile describes it. */
function builtFrom(stack: Stack, dockerfile: string): IContainerArtifact {
  return Object.assign(artifact(stack), { _imageRuntime: () => dockerfileRuntime(dockerfile)! });
}

describe('writable directories and the image\'s user', () => {
  test('a non-root USER without a VOLUME at a writable directory, in an image built FROM scratch, fails synthesis, saying what to add', () => {
    const stack = newStack();
    const image = builtFrom(stack, 'FROM scratch\nCOPY app /app\nUSER 65532\n');
    service(stack, { artifact: image });
    expectSynthError(stack,
      /^S\/Web \[ImmutableFargateService\]: writableDirectories \(\[\/tmp\]\) would be empty volumes owned by root \(mode 0755\) on Fargate, which the image's user \(65532\) cannot write to.*VOLUME \["\/tmp"\]/,
    );
  });

  test('a non-root USER without a VOLUME on a base image the Dockerfile does not describe: a warning naming the base image (it may declare the VOLUME itself), not a verdict', () => {
    // GIVEN: an image such as postgres declares VOLUMEs of its own, which the Dockerfile does not show
    const stack = newStack();
    const image = builtFrom(stack, 'FROM nginx:1.27-alpine\nUSER nginx\n');
    // WHEN
    expect(() => service(stack, { artifact: image })).not.toThrow();
    // THEN
    Annotations.fromStack(stack).hasWarning('/S/Web', Match.stringLikeRegexp(
      'writableDirectories /tmp is an empty volume owned by root.*declares no VOLUME there for the image\'s user \\(nginx\\): unless the base image nginx:1.27-alpine declares one.*VOLUME \\["/tmp"\\]'));
  });

  test('a ContainerImageBuild describes its image: its Dockerfile\'s non-root USER without a VOLUME fails synthesis (FROM scratch), or warns (a base image)', () => {
    const stack = newStack();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'non-root-'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM golang:1.23 AS build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\nUSER 65532\n');
    const image = new ContainerImageBuild(stack, 'Image', { directory: dir });
    service(stack, { artifact: image });
    expectSynthError(stack, /image's user \(65532\) cannot write to/);
    const other = newStack();
    const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'non-root-'));
    fs.writeFileSync(path.join(dir2, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nUSER nginx\n');
    service(other, { artifact: new ContainerImageBuild(other, 'Image', { directory: dir2 }) });
    Annotations.fromStack(other).hasWarning('/S/Web', Match.stringLikeRegexp('unless the base image public.ecr.aws/nginx/nginx:1.27 declares one'));
  });

  test('a VOLUME at each writable directory, or a root user, is accepted', () => {
    const withVolume = newStack();
    service(withVolume, {
      artifact: builtFrom(withVolume, 'FROM alpine\nRUN mkdir /cache && chown 101 /cache\nUSER 101\nVOLUME ["/tmp", "/cache/"]\n'),
      writableDirectories: ['/tmp', '/cache'],
    });
    expect(Annotations.fromStack(withVolume).findWarning('*', Match.stringLikeRegexp('empty volume'))).toEqual([]);
    const asRoot = newStack();
    service(asRoot, { artifact: builtFrom(asRoot, 'FROM nginx\nUSER root:root\n') });
    expect(synthErrors(asRoot)).toEqual([]);
  });

  test('a stage built FROM an earlier stage keeps that stage\'s VOLUMEs and USER (Docker starts it from that stage\'s image): no false error', () => {
    // GIVEN: the VOLUME is declared in the stage the built one starts from
    const stack = newStack();
    const dockerfile = 'FROM nginxinc/nginx-unprivileged AS base\nVOLUME ["/tmp"]\nFROM base AS runtime\nUSER 101\n';
    // WHEN
    expect(() => service(stack, { artifact: builtFrom(stack, dockerfile) })).not.toThrow();
    // THEN
    expect(dockerfileRuntime(dockerfile)).toEqual({ user: '101', volumes: ['/tmp'], baseImage: 'nginxinc/nginx-unprivileged' });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('empty volume'))).toEqual([]);
  });

  test('the stage named by target is read, not the last one: a runtime stage that would crash-loop is not hidden by a root debug stage after it', () => {
    const dockerfile = 'FROM scratch AS runtime\nCOPY app /app\nUSER 65532\nFROM runtime AS debug\nUSER root\n';
    expect(dockerfileRuntime(dockerfile)).toEqual({ user: 'root', volumes: [], baseImage: undefined });
    expect(dockerfileRuntime(dockerfile, 'runtime')).toEqual({ user: '65532', volumes: [], baseImage: undefined });
    expect(dockerfileRuntime(dockerfile, 'RUNTIME')).toEqual({ user: '65532', volumes: [], baseImage: undefined });
    expect(dockerfileRuntime(dockerfile, 'nope')).toBeUndefined();
    const stack = newStack();
    const image = Object.assign(artifact(stack), { _imageRuntime: () => dockerfileRuntime(dockerfile, 'runtime') });
    service(stack, { artifact: image });
    expectSynthError(stack, /image's user \(65532\) cannot write to/);
  });

  test('a ContainerImageBuild reads the stage its target names, and refuses a target that names no stage', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'target-'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM alpine:3.20 AS runtime\nUSER app\nFROM runtime AS debug\nUSER root\n');
    const debug = newStack();
    service(debug, { artifact: new ContainerImageBuild(debug, 'Image', { directory: dir }) });
    expect(Annotations.fromStack(debug).findWarning('*', Match.stringLikeRegexp('empty volume'))).toEqual([]);
    const runtime = newStack();
    service(runtime, { artifact: new ContainerImageBuild(runtime, 'Image', { directory: dir, target: 'runtime' }) });
    Annotations.fromStack(runtime).hasWarning('/S/Web', Match.stringLikeRegexp('image\'s user \\(app\\): unless the base image alpine:3.20 declares one'));
    expect(() => new ContainerImageBuild(newStack(), 'Image', { directory: dir, target: 'prod' })).toThrow(
      'S/Image [ContainerImageBuild]: target (prod) names no stage of Dockerfile (its stages are runtime, debug), so the build would fail. Pass the name of a stage',
    );
  });

  test('earlier stages that the built one does not start from do not count', () => {
    const stack = newStack();
    const image = builtFrom(stack, 'FROM golang AS build\nVOLUME /tmp\nUSER root\nFROM scratch\nUSER 65532\n');
    service(stack, { artifact: image });
    expectSynthError(stack, /image's user \(65532\) cannot write to/);
    expect(dockerfileRuntime('FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nUSER 1\nFROM build\n')).toEqual({ user: '1', volumes: [], baseImage: 'golang:1.23' });
  });

  test('a Dockerfile without USER leaves the user to its base image: a warning, not a verdict', () => {
    const stack = newStack();
    service(stack, { artifact: builtFrom(stack, 'FROM public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine\n') });
    Annotations.fromStack(stack).hasWarning('/S/Web', Match.stringLikeRegexp('writableDirectories /tmp is an empty volume owned by root.*sets no USER'));
  });

  test('an artifact that cannot say what its image declares (imported by digest) is not checked', () => {
    const stack = newStack();
    service(stack);
    expect(synthErrors(stack)).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('empty volume'))).toEqual([]);
  });

  test('a writable root filesystem mounts nothing, so there is nothing to check', () => {
    const stack = newStack();
    service(stack, { artifact: builtFrom(stack, 'FROM alpine\nUSER 101\n'), readonlyRootFilesystem: false });
    expect(synthErrors(stack)).toEqual([]);
  });

  test.each([
    ['the example app\'s image (examples/container-app)', EXAMPLE_DOCKERFILE],
    ['the ECS test fixture\'s image (test/deployments/ecs/fixtures/web)', FIXTURE_DOCKERFILE],
  ])('%s can write to its writable directories with the read-only default', (_name, file) => {
    // GIVEN: the image runs as a non-root user (nginx-unprivileged's uid 101, or USER nginx)
    const dockerfile = fs.readFileSync(file, 'utf8');
    const stack = newStack();
    // WHEN
    service(stack, { artifact: builtFrom(stack, dockerfile) });
    // THEN: every writable directory is a VOLUME of the image, so ECS copies its owner and mode
    expect(dockerfileRuntime(dockerfile)!.volumes).toEqual(['/tmp']);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('empty volume'))).toEqual([]);
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ ReadonlyRootFilesystem: true, MountPoints: [Match.objectLike({ ContainerPath: '/tmp' })] })],
    });
  });
});
