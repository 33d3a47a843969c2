/**
 * `pullThroughCachePrefixes`: a Dockerfile that pulls through an ECR pull-through cache rule needs, on
 * the build's role, the pull actions plus ecr:BatchImportUpstreamImage and, on the first pull,
 * ecr:CreateRepository (ECR User Guide, "IAM permissions required to sync an upstream registry with an
 * Amazon ECR private registry"), on the rule's prefix only: the prefix always ends with an assumed '/'
 * ("Customizing repository prefixes for ECR to ECR pull through cache").
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ContainerImageBuild, ContainerPlatform } from '../../../src';
import { arnText as arn } from '../../internal/runtime/jobs';
import { describeFindings, newTestApp, validate } from '../../kit';
import { atSynth } from '../../synth-errors';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const CACHE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

function context(dockerfile = `FROM ${CACHE}/ecr-public/docker/library/nginx:1.27-alpine\n`): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptc-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

/** The project role's statements that name a pull-through cache action. */
function cacheStatements(stack: Stack): any[] {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => /ContainerImageBuildProject/.test(id))
    .flatMap(([, p]) => (p as any).Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().includes('ecr:BatchImportUpstreamImage'))
    .map((s: any) => stack.resolve(s));
}


describe('ContainerImageBuild pullThroughCachePrefixes', () => {
  test('grants the build\'s role pull, import and create on repository/<prefix>/* of this account and region, and nothing wider', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    new ContainerImageBuild(stack, 'Image', { directory: context(), pullThroughCachePrefixes: ['ecr-public'] });
    const statements = cacheStatements(stack);
    expect(statements.map((s) => [s.Action, arn(s.Resource)])).toEqual([[
      ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
      'arn:aws:ecr:eu-west-1:123456789012:repository/ecr-public/*',
    ]]);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('pull-through-cache-unused'));
  });

  test('without it, the build\'s role has no pull-through cache permission', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    new ContainerImageBuild(stack, 'Image', { directory: context() });
    expect(cacheStatements(stack)).toEqual([]);
  });

  test('one statement per project and prefix, whatever the number of images; another platform\'s project gets its own', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    for (const id of ['A', 'B', 'C']) new ContainerImageBuild(stack, id, { directory: context(), pullThroughCachePrefixes: ['ecr-public', 'docker-hub'] });
    new ContainerImageBuild(stack, 'Arm', { directory: context(), pullThroughCachePrefixes: ['ecr-public'], platform: ContainerPlatform.LINUX_ARM64 });
    expect(cacheStatements(stack).map((s) => arn(s.Resource)).sort()).toEqual([
      'arn:aws:ecr:eu-west-1:123456789012:repository/docker-hub/*',
      'arn:aws:ecr:eu-west-1:123456789012:repository/ecr-public/*',
      'arn:aws:ecr:eu-west-1:123456789012:repository/ecr-public/*',
    ]);
  });

  test('the build logs in to the cache\'s registry, which the Dockerfile names', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    new ContainerImageBuild(stack, 'Image', { directory: context(), pullThroughCachePrefixes: ['ecr-public'] });
    const [jobs] = Object.values(Template.fromStack(stack).findResources('Custom::CdkImmutableDeploysJobs')) as any[];
    expect(jobs.Properties.Jobs[0].Spec.PullRegistries).toBe(CACHE);
  });

  test('clean under cdk-nag: the prefix wildcard is acknowledged with its reason', () => {
    const app = newTestApp();
    const stack = new Stack(app, 'Clean', { env: ENV });
    new ContainerImageBuild(stack, 'Image', { directory: context(), pullThroughCachePrefixes: ['ecr-public'] });
    expect(describeFindings(validate(stack).findings)).toEqual([]);
  });

  test('a prefix the Dockerfile does not pull from gives a warning', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    new ContainerImageBuild(stack, 'Image', { directory: context('FROM public.ecr.aws/docker/library/nginx:1.27\n'), pullThroughCachePrefixes: ['docker-hub'] });
    Annotations.fromStack(stack).hasWarning('/S/Image', Match.stringLikeRegexp(`'docker-hub'.*${CACHE.replace(/\./g, '\\.')}/docker-hub/.*cdk-immutable-deploys:pull-through-cache-unused`));
  });

  test.each([
    ['ROOT', /not ROOT/],
    ['x', /2 to 30/],
    ['ecr-public/', /without a trailing slash/],
    ['Docker-Hub', /lowercase/],
    ['a'.repeat(31), /2 to 30/],
  ])('refuses %s: not the prefix of a pull-through cache rule', (prefix, message) => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    expect(atSynth(() => new ContainerImageBuild(stack, 'Image', { directory: context(), pullThroughCachePrefixes: [prefix] })))
      .toThrow(new RegExp(`^S/Image \\[ContainerImageBuild\\]: pullThroughCachePrefixes has '${prefix.replace('/', '\\/')}'.*${message.source}`));
  });
});
