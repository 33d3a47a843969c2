import { Fn } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { checkedStack, findingsOf, summary } from './fixtures';
import { parseImageReference } from '../../src/checks/mutable-image-tag';
import { TOKEN } from '../../src/checks/rule';

function taskWith(image: ecs.ContainerImage | ((stack: any) => ecs.ContainerImage)) {
  const stack = checkedStack();
  const task = new ecs.FargateTaskDefinition(stack, 'Task');
  task.addContainer('app', { image: typeof image === 'function' ? image(stack) : image, memoryLimitMiB: 512 });
  return stack;
}

describe('mutable-image-tag', () => {
  test.each([
    ['a digest', 'public.ecr.aws/nginx/nginx@sha256:' + 'a'.repeat(64)],
    ['a digest after a tag', 'nginx:1.27@sha256:' + 'b'.repeat(64)],
  ])('compliant: an image by %s', (_, image) => {
    expect(summary(taskWith(ecs.ContainerImage.fromRegistry(image)))).toEqual([]);
  });

  test('compliant: a tag of a tag-immutable repository of the app', () => {
    const stack = taskWith((s) => ecs.ContainerImage.fromEcrRepository(new ecr.Repository(s, 'Repo', { imageTagMutability: ecr.TagMutability.IMMUTABLE }), 'v1.2.3'));
    expect(summary(stack)).toEqual([]);
  });

  test('compliant: a CDK image asset, tagged by its content hash in the bootstrap repository', () => {
    const stack = taskWith(ecs.ContainerImage.fromAsset(`${__dirname}/../artifacts/container/fixtures/app`));
    expect(summary(stack)).toEqual([]);
  });

  test.each([
    ['no tag', 'nginx', /'latest' \(no tag given\)/],
    ['latest', 'nginx:latest', /tag 'latest'/],
    ['a tag of Docker Hub', 'nginx:1.27', /'1.27' of a registry outside ECR/],
    ['a tag of a registry with a port', 'registry.example.com:5000/team/app:2', /'2' of a registry outside ECR/],
  ])('non-compliant: %s', (_, image, message) => {
    const stack = taskWith(ecs.ContainerImage.fromRegistry(image));
    const findings = findingsOf(stack);
    expect(findings.map((f) => `${f.rule} ${f.level} ${f.path}`)).toEqual(['mutable-image-tag error /Stack/Task/Resource']);
    expect(findings[0].message).toMatch(message);
    expect(findings[0].message).toMatch(/Pin the image by digest/);
  });

  test('non-compliant: a tag of a repository of the app whose tags are mutable', () => {
    const stack = taskWith((s) => ecs.ContainerImage.fromEcrRepository(new ecr.Repository(s, 'Repo'), 'v1'));
    const findings = findingsOf(stack).filter((f) => f.rule === 'mutable-image-tag');
    expect(findings.map((f) => f.path)).toEqual(['/Stack/Task/Resource']);
    expect(findings[0].message).toMatch(/\('v1'\) of repository Stack\/Repo\/Resource, whose tags are mutable/);
  });

  test('unreadable: a tag that is a token, or a repository outside the app, gives a warning', () => {
    const tokenTag = taskWith(() => ecs.ContainerImage.fromRegistry(`nginx:${Fn.importValue('ImageTag')}`));
    expect(summary(tokenTag)).toEqual(['mutable-image-tag warning /Stack/Task/Resource']);
    const imported = taskWith((s) => ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(s, 'Repo', 'web'), 'v1'));
    expect(summary(imported)).toEqual(['mutable-image-tag warning /Stack/Task/Resource']);
    expect(findingsOf(imported)[0].message).toMatch(/not part of this app/);
  });

  test('reads image references by their parts', () => {
    expect(parseImageReference('nginx')).toEqual({ kind: 'none' });
    expect(parseImageReference('localhost:5000/nginx')).toEqual({ kind: 'none' });
    expect(parseImageReference('a/b:c')).toEqual({ kind: 'tag', tag: 'c' });
    expect(parseImageReference(`a/b@${TOKEN}`)).toEqual({ kind: 'digest' });
    expect(parseImageReference(`${TOKEN}/${TOKEN}:v1`)).toEqual({ kind: 'tag', tag: 'v1' });
    expect(parseImageReference(`${TOKEN}/${TOKEN}`)).toEqual({ kind: 'unknown' });
  });
});
