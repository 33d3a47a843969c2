import { CfnParameter } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { checkedStack, findingsOf, summary } from './fixtures';

function read(repository: (stack: any) => ecr.IRepository, reference: 'tag' | 'digest' = 'tag') {
  const stack = checkedStack();
  const repo = repository(stack);
  const task = new ecs.FargateTaskDefinition(stack, 'Task');
  const image = reference === 'tag'
    ? ecs.ContainerImage.fromEcrRepository(repo, 'v1')
    : ecs.ContainerImage.fromRegistry(`${repo.repositoryUri}@sha256:${'a'.repeat(64)}`);
  task.addContainer('app', { image, memoryLimitMiB: 512 });
  return stack;
}

/** Only this rule's findings (a tag of a mutable repository also trips mutable-image-tag). */
const own = (stack: any) => summary(stack).filter((s) => s.startsWith('mutable-repository '));

describe('mutable-repository', () => {
  test('compliant: a tag-immutable repository; a mutable one that no deployment reads', () => {
    expect(own(read((s) => new ecr.Repository(s, 'Repo', { imageTagMutability: ecr.TagMutability.IMMUTABLE })))).toEqual([]);
    const stack = checkedStack();
    new ecr.Repository(stack, 'Scratch');
    expect(summary(stack)).toEqual([]);
  });

  test('non-compliant: a mutable repository a task definition reads, by tag or even by digest', () => {
    const findings = findingsOf(read((s) => new ecr.Repository(s, 'Repo'))).filter((f) => f.rule === 'mutable-repository');
    expect(findings.map((f) => `${f.level} ${f.path}`)).toEqual(['error /Stack/Repo/Resource']);
    expect(findings[0].message).toMatch(/Stack\/Task\/Resource runs images from it. Make the repository tag-immutable/);
    expect(own(read((s) => new ecr.Repository(s, 'Repo'), 'digest'))).toEqual(['mutable-repository error /Stack/Repo/Resource']);
  });

  test('unreadable: tag mutability from a parameter gives a warning', () => {
    const stack = read((s) => {
      const repo = new ecr.Repository(s, 'Repo');
      (repo.node.defaultChild as ecr.CfnRepository).imageTagMutability = new CfnParameter(s, 'Mutability', { type: 'String' }).valueAsString;
      return repo;
    });
    expect(own(stack)).toEqual(['mutable-repository warning /Stack/Repo/Resource']);
  });
});
