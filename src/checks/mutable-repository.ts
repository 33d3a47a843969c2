/**
 * Rule `mutable-repository`: an ECR repository with mutable tags that a deployment of the app reads.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import { nonCompliant, properties, referencedLogicalIds, Rule, unreadable, Verdict } from './rule';
import { repositoryTagMutability } from './tag-mutability';

/** Where deployments name the images they run, in each resource type's resolved properties. */
const IMAGES_OF: Record<string, (props: Record<string, any>) => unknown> = {
  'AWS::ECS::TaskDefinition': (p) => Array.isArray(p.ContainerDefinitions) ? p.ContainerDefinitions.map((c: any) => c?.Image) : p.ContainerDefinitions,
  'AWS::Lambda::Function': (p) => p.Code?.ImageUri,
};

const WHAT_TO_DO = 'Make the repository tag-immutable (imageTagMutability: ecr.TagMutability.IMMUTABLE), as ContainerImageBuild\'s own repository is.';

export const MUTABLE_REPOSITORY: Rule = {
  id: 'mutable-repository',
  protects: 'An image tag names the same bits forever: in a repository with mutable tags, anyone who can push can change what a deployed tag (or the next rollback to it) runs.',
  check(resource: CfnResource): Verdict[] {
    if (resource.cfnResourceType !== 'AWS::ECR::Repository') return [];
    const readers = readersOf(resource);
    if (readers.length === 0) return [];
    const who = readers.slice(0, 3).join(', ') + (readers.length > 3 ? ` and ${readers.length - 3} more` : '');
    const mutability = repositoryTagMutability(resource);
    if (mutability === 'IMMUTABLE') return [];
    if (mutability === 'unknown') {
      return [unreadable(`The repository's tag mutability (${JSON.stringify(properties(resource).ImageTagMutability)}) is a token or has exclusions, so whether the tags ${who} reads can move is unknown at synth time. ${WHAT_TO_DO}`)];
    }
    return [nonCompliant(`The repository's tags are mutable, and ${who} runs images from it. ${WHAT_TO_DO}`)];
  },
};

/** The paths of the task definitions and functions of the repository's stack that name it in an image. */
function readersOf(repository: CfnResource): string[] {
  const stack = Stack.of(repository);
  const logicalId = stack.resolve(repository.logicalId);
  const readers: string[] = [];
  for (const node of stack.node.findAll()) {
    if (!CfnResource.isCfnResource(node) || Stack.of(node) !== stack) continue;
    const imagesOf = IMAGES_OF[node.cfnResourceType];
    if (imagesOf === undefined) continue;
    if (referencedLogicalIds(imagesOf(properties(node))).includes(logicalId)) readers.push(node.node.path);
  }
  return readers;
}
