/**
 * A `ContainerImageBuild` that pushes to a repository of another account or region (`repository`
 * imported by ARN): the runtime's grant on this account and region's `repository/*` does not cover it,
 * so it gets a grant on that repository's ARN; another account's repository policy must let this
 * account in, which a warning says.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { ContainerImageBuild } from '../../../src';
import { arnText as arn, runtimeStatements } from '../../internal/runtime/jobs';

const ENV = { account: '111111111111', region: 'eu-west-1' };

function context(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/nginx:1.27-alpine\n');
  return dir;
}
const DIR = context();

/** The resources the runtime may call an ECR read action on. */
function describeResources(stack: Stack, action: string): string[] {
  const statements = stack.resolve(runtimeStatements(Template.fromStack(stack)));
  return statements.filter((s: any) => [s.Action].flat().includes(action)).flatMap((s: any) => [s.Resource].flat().map(arn)).sort();
}

describe('ContainerImageBuild with a repository of another account or region', () => {
  test.each([
    ['another account and region', 'arn:aws:ecr:us-east-1:222222222222:repository/app'],
    ['another region of this account', 'arn:aws:ecr:us-east-1:111111111111:repository/app'],
    ['another account in this region', 'arn:aws:ecr:eu-west-1:222222222222:repository/app'],
  ])('%s: the runtime may describe its images (its repository/* grant is this account and region only)', (_case, repositoryArn) => {
    // GIVEN
    const stack = new Stack(new App(), 'Build', { env: ENV });
    const repository = ecr.Repository.fromRepositoryArn(stack, 'Theirs', repositoryArn);
    // WHEN
    new ContainerImageBuild(stack, 'Image', { directory: DIR, repository, requireImmutableTags: true });
    // THEN
    expect(describeResources(stack, 'ecr:DescribeImages')).toEqual(['arn:aws:ecr:eu-west-1:111111111111:repository/*', repositoryArn].sort());
    expect(describeResources(stack, 'ecr:DescribeRepositories')).toContain(repositoryArn);
  });

  test('another account: a warning names the account and what its repository policy must allow', () => {
    const stack = new Stack(new App(), 'Build', { env: ENV });
    const repository = ecr.Repository.fromRepositoryArn(stack, 'Theirs', 'arn:aws:ecr:us-east-1:222222222222:repository/app');
    new ContainerImageBuild(stack, 'Image', { directory: DIR, repository, requireImmutableTags: true });
    Annotations.fromStack(stack).hasWarning('/Build/Image', Match.stringLikeRegexp(
      'repository Build/Theirs is in account 222222222222 \\(us-east-1\\): its repository policy must let this account\'s roles in.*Let account 111111111111 call ecr:DescribeImages and ecr:DescribeRepositories.*ecr:PutImage'));
  });

  test('a repository of this account and region adds no statement and no warning', () => {
    const stack = new Stack(new App(), 'Build', { env: ENV });
    const repository = ecr.Repository.fromRepositoryName(stack, 'Ours', 'app');
    new ContainerImageBuild(stack, 'Image', { directory: DIR, repository });
    expect(describeResources(stack, 'ecr:DescribeImages')).toEqual(['arn:aws:ecr:eu-west-1:111111111111:repository/*']);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('is in account'))).toEqual([]);
  });
});
