/**
 * Rule `mutable-image-tag`: a task definition runs a container image by a tag that can move.
 */
import { CfnResource } from 'aws-cdk-lib';
import { flatten, list, nonCompliant, properties, referencedResources, Rule, RuleContext, TOKEN, unreadable, Verdict } from './rule';
import { repositoryTagMutability } from './tag-mutability';

/** How an image reference names its image, read from its text. */
export interface ImageReference {
  /** `digest`: `name@sha256:...`; `tag`: `name:tag`; `none`: no tag, which means `latest`; `unknown`: a token hides it. */
  readonly kind: 'digest' | 'tag' | 'none' | 'unknown';
  /** The tag, when `kind` is `tag` and it is known. */
  readonly tag?: string;
}

/** Reads an image reference (`[registry/]name[:tag][@digest]`), with deploy-time parts as `TOKEN`. */
export function parseImageReference(text: string): ImageReference {
  if (text.includes('@')) return { kind: 'digest' };
  const name = text.slice(text.lastIndexOf('/') + 1);
  const colon = name.lastIndexOf(':');
  if (colon < 0) return name.includes(TOKEN) ? { kind: 'unknown' } : { kind: 'none' };
  const tag = name.slice(colon + 1);
  return tag.includes(TOKEN) || tag === '' ? { kind: 'unknown' } : { kind: 'tag', tag };
}

/** The asset repository of the CDK bootstrap stack (`cdk-<qualifier>-container-assets-<account>-<region>`), tag-immutable. */
const CDK_ASSETS_REPOSITORY = /\/cdk-[a-z0-9]+-container-assets-[^/:]+:[a-f0-9]{64}$/;

const WHAT_TO_DO = 'Pin the image by digest (ContainerImageBuild, ContainerArtifact.fromDigest, or `name@sha256:...`), or by a tag of a repository with immutable tags.';

export const MUTABLE_IMAGE_TAG: Rule = {
  id: 'mutable-image-tag',
  protects: 'A task definition names the exact image it runs: a tag that can move (`latest`, no tag, or any tag of a repository whose tags are mutable) lets the same revision start different code.',
  check(resource: CfnResource, context: RuleContext): Verdict[] {
    if (resource.cfnResourceType !== 'AWS::ECS::TaskDefinition') return [];
    const containers = list(properties(resource).ContainerDefinitions);
    if (containers === undefined) {
      return [unreadable('The container definitions are a token: the images they run cannot be read at synth time. ' + WHAT_TO_DO)];
    }
    const verdicts: Verdict[] = [];
    for (const container of containers) {
      const name = typeof container?.Name === 'string' ? container.Name : '(unnamed)';
      const image = container?.Image;
      const text = flatten(image);
      const reference = parseImageReference(text);
      if (reference.kind === 'digest') continue;
      if (reference.kind === 'none' || reference.tag === 'latest') {
        verdicts.push(nonCompliant(`Container '${name}' runs an image by the tag 'latest'${reference.kind === 'none' ? ' (no tag given)' : ''}, which moves with every push. ${WHAT_TO_DO}`));
        continue;
      }
      if (CDK_ASSETS_REPOSITORY.test(text)) continue;
      const repositories = referencedResources(resource, context, image, 'AWS::ECR::Repository');
      if (repositories.length > 0) {
        const mutability = repositoryTagMutability(repositories[0]);
        if (mutability === 'IMMUTABLE') continue;
        if (mutability === 'MUTABLE') {
          verdicts.push(nonCompliant(`Container '${name}' runs an image by a tag${reference.tag ? ` ('${reference.tag}')` : ''} of repository ${repositories[0].node.path}, whose tags are mutable: a push can move it. ${WHAT_TO_DO}`));
        } else {
          verdicts.push(unreadable(`Container '${name}' runs an image by a tag of repository ${repositories[0].node.path}, whose tag mutability cannot be read at synth time. ${WHAT_TO_DO}`));
        }
        continue;
      }
      if (reference.kind === 'unknown') {
        verdicts.push(unreadable(`Container '${name}' runs an image whose tag or digest is a token, unreadable at synth time. ${WHAT_TO_DO}`));
        continue;
      }
      if (/\.dkr\.ecr\./.test(text)) {
        verdicts.push(unreadable(`Container '${name}' runs the tag '${reference.tag}' of an ECR repository that is not part of this app, whose tag mutability cannot be read at synth time. ${WHAT_TO_DO}`));
        continue;
      }
      verdicts.push(nonCompliant(`Container '${name}' runs the tag '${reference.tag}' of a registry outside ECR, where tags can be pushed again. ${WHAT_TO_DO}`));
    }
    return verdicts;
  },
};
