/**
 * A promoted image is there when the next stage looks: through the runtime, as CloudFormation drives
 * it (the lifecycle harness), a build with replicateTo signals its wait only once ECR reports the image
 * COMPLETE in every destination, not when the push ends.
 */
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { DescribeImageReplicationStatusCommand, DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { containerBuild } from '../../../src/artifacts/container/build-job';
import type { ContainerBuildSpec } from '../../../src/artifacts/container/types';
import { world } from '../../../src/internal/runtime/runtime.singleton-lambda';
import { ArtifactSpec, StackHarness } from '../../internal/runtime/harness';

const codebuild = mockClient(CodeBuildClient);
const ecr = mockClient(ECRClient);

const FP = 'c'.repeat(64);
const DIGEST = `sha256:${'d'.repeat(64)}`;
const URI = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/cdk-immutable-deploys/app/web-0123abcd';
const SPEC: ContainerBuildSpec = {
  ProjectName: 'cib',
  RepositoryUri: URI,
  ImageTag: `fp-${FP}`,
  SourceBucket: 'b',
  SourceKey: 'k.zip',
  Dockerfile: 'Dockerfile',
  Target: '',
  Platform: 'linux/amd64',
  BuildArgs: '{}',
  Cache: 'false',
  ComputeType: '',
  TimeoutMinutes: '30',
  QueuedTimeoutMinutes: '25',
  RequireImmutableTags: 'false',
  PullRegistries: '',
  ReplicateTo: [{ Region: 'us-east-1', RegistryId: '333333333333' }],
};

test('replication still in progress when the build ends: the wait completes only once every destination has the image', async () => {
  // GIVEN a stack whose build replicates to production, driven by the real container-build job
  const stack = new StackHarness();
  world.runners = { ...world.runners, 'container-build': containerBuild };
  const jobOf = (stack as any).jobOf.bind(stack);
  (stack as any).jobOf = (a: ArtifactSpec) => ({ ...jobOf(a), Spec: SPEC });
  stack.readBack = { RepositoryUri: URI, ImageTag: `fp-${FP}`, RequireImmutableTags: 'false' };
  codebuild.reset();
  ecr.reset();
  codebuild.on(ListBuildsForProjectCommand).resolves({ ids: [] });
  codebuild.on(StartBuildCommand).resolves({ build: { id: 'cib:1' } });
  codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'cib:1', buildStatus: 'IN_PROGRESS', currentPhase: 'BUILD' }] });
  ecr.on(DescribeImagesCommand).rejects(Object.assign(new Error('no tag'), { name: 'ImageNotFoundException', $metadata: {} }));

  // WHEN the deploy starts the build
  expect(await stack.deploy([{ fingerprint: FP }])).toBe('failed');
  expect(stack.waiting).toBe(true);
  expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(1);

  // AND the build pushes, while ECR still copies the image to production
  codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'cib:1', buildStatus: 'SUCCEEDED', endTime: new Date(stack.now) }] });
  ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: [`fp-${FP}`], imagePushedAt: new Date(stack.now) }] });
  ecr.on(DescribeImageReplicationStatusCommand).resolves({ replicationStatuses: [{ region: 'us-east-1', registryId: '333333333333', status: 'IN_PROGRESS' }] });
  await stack.advance(3);

  // THEN the deploy still waits: the next stage would not find the replica yet
  expect(await stack.settle()).toBe('failed');
  expect(stack.signals(FP)).toEqual([]);

  // WHEN ECR reports the copy COMPLETE
  ecr.on(DescribeImageReplicationStatusCommand).resolves({ replicationStatuses: [{ region: 'us-east-1', registryId: '333333333333', status: 'COMPLETE' }] });
  await stack.advance(1);

  // THEN the wait completes (its result lookup reads the digest back from the repository)
  expect(await stack.settle()).toBe('complete');
  expect(stack.signals(FP)).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
});
