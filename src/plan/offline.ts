/**
 * Offline mode: what is deployed is the BEFORE assembly. An artifact exists when BEFORE holds its
 * fingerprint where the deploy would look for it: an AMI anywhere in the same account and region (the
 * runtime finds AMIs by their fingerprint tag), an image in the same repository.
 *
 * Internal to the plan command: never exported from the package.
 */
import type { AssemblyStack, Template } from './assembly';
import type { ArtifactMetadata } from './metadata';
import { Deployed, Existence, modelOf } from './plan';

/** The BEFORE assembly as what is deployed. */
export function offline(before: AssemblyStack[]): Deployed {
  return {
    mode: 'offline',
    template: async (stack: AssemblyStack): Promise<Template | undefined> => before.find((s) => s.name === stack.name)?.template,
    exists: async (stack: AssemblyStack, artifact: ArtifactMetadata): Promise<Existence> => {
      const scope = scopeOf(stack, artifact);
      const found = before.some((s) => modelOf(s.template).artifacts.some((a) =>
        a.kind === artifact.kind && a.fingerprint === artifact.fingerprint && scopeOf(s, a) === scope));
      return { exists: found };
    },
  };
}

/** Where the deploy looks for an artifact of this kind: same scope, same artifact. */
function scopeOf(stack: AssemblyStack, artifact: ArtifactMetadata): string {
  const environment = `${stack.account ?? '?'}/${stack.region ?? '?'}`;
  if (artifact.kind === 'ami') return environment;
  const repository = artifact.lookup?.repository;
  // A repository of the stack itself (`{ "Ref": ... }`) is the stack's own; a named one is the account's.
  return typeof repository === 'string' ? `${environment}/${repository}` : `${environment}/${stack.stackName}/${JSON.stringify(repository)}`;
}
