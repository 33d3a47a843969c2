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

const EXAMPLE_DOCKERFILE = path.join(__dirname, '..', '..', '..', 'examples', 'container-app', 'Dockerfile');
const FIXTURE_DOCKERFILE = path.join(__dirname, 'fixtures', 'web', 'Dockerfile');

/** An artifact whose image is built from `dockerfile`, as an artifact that knows its Dockerfile describes it. */
function builtFrom(stack: Stack, dockerfile: string): IContainerArtifact {
  return Object.assign(artifact(stack), { _imageRuntime: () => dockerfileRuntime(dockerfile) });
}

describe('writable directories and the image\'s user', () => {
  test('a non-root USER without a VOLUME at a writable directory fails synthesis, saying what to add', () => {
    const stack = newStack();
    const image = builtFrom(stack, 'FROM nginx:1.27-alpine\nUSER nginx\n');
    expect(() => service(stack, { artifact: image })).toThrow(
      /^S\/Web \[ImmutableFargateService\]: writableDirectories \(\[\/tmp\]\) would be empty volumes owned by root \(mode 0755\) on Fargate, which the image's user \(nginx\) cannot write to.*VOLUME \["\/tmp"\]/,
    );
  });

  test('a ContainerImageBuild describes its image: its Dockerfile\'s non-root USER without a VOLUME fails synthesis', () => {
    const stack = newStack();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'non-root-'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nUSER nginx\n');
    const image = new ContainerImageBuild(stack, 'Image', { directory: dir });
    expect(() => service(stack, { artifact: image })).toThrow(/image's user \(nginx\) cannot write to/);
  });

  test('a VOLUME at each writable directory, or a root user, is accepted', () => {
    const withVolume = newStack();
    service(withVolume, {
      artifact: builtFrom(withVolume, 'FROM alpine\nRUN mkdir /cache && chown 101 /cache\nUSER 101\nVOLUME ["/tmp", "/cache/"]\n'),
      writableDirectories: ['/tmp', '/cache'],
    });
    const asRoot = newStack();
    expect(() => service(asRoot, { artifact: builtFrom(asRoot, 'FROM nginx\nUSER root:root\n') })).not.toThrow();
  });

  test('only the final stage counts', () => {
    const stack = newStack();
    const image = builtFrom(stack, 'FROM golang AS build\nVOLUME /tmp\nUSER root\nFROM alpine\nUSER 65532\n');
    expect(() => service(stack, { artifact: image })).toThrow(/image's user \(65532\) cannot write to/);
  });

  test('a Dockerfile without USER leaves the user to its base image: a warning, not a verdict', () => {
    const stack = newStack();
    service(stack, { artifact: builtFrom(stack, 'FROM public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine\n') });
    Annotations.fromStack(stack).hasWarning('/S/Web', Match.stringLikeRegexp('writableDirectories /tmp is an empty volume owned by root.*sets no USER'));
  });

  test('an artifact that cannot say what its image declares (imported by digest) is not checked', () => {
    const stack = newStack();
    expect(() => service(stack)).not.toThrow();
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('empty volume'))).toEqual([]);
  });

  test('a writable root filesystem mounts nothing, so there is nothing to check', () => {
    const stack = newStack();
    expect(() => service(stack, { artifact: builtFrom(stack, 'FROM alpine\nUSER 101\n'), readonlyRootFilesystem: false })).not.toThrow();
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
    expect(dockerfileRuntime(dockerfile).volumes).toEqual(['/tmp']);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('empty volume'))).toEqual([]);
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ ReadonlyRootFilesystem: true, MountPoints: [Match.objectLike({ ContainerPath: '/tmp' })] })],
    });
  });
});
