/**
 * Offline mode: what is deployed is the BEFORE assembly. A stack of AFTER is deployed when BEFORE
 * holds a stack of the same name in the same environment (a nested stack: in a parent of the same
 * name). An artifact exists when BEFORE holds its fingerprint where the deploy would look for it: an
 * AMI anywhere in the same account and region (the runtime finds AMIs by their fingerprint tag), an
 * image in the same repository.
 *
 * Internal to the plan command: never exported from the package.
 */
import type { AssemblyStack } from './assembly';
import type { ArtifactMetadata } from './metadata';
import { modelOf } from './model';
import type { Deployed, DeployedStack, Existence, RemovedStack } from './plan';

/** The BEFORE assembly as what is deployed. */
export function offline(before: AssemblyStack[]): Deployed {
  const find = (stack: AssemblyStack) => before.find((s) => s.name === stack.name && sameEnvironment(s, stack));
  return {
    mode: 'offline',
    stack: async (stack: AssemblyStack): Promise<DeployedStack> => {
      const found = find(stack);
      if (found) return { change: 'update', template: found.template, notes: [] };
      const elsewhere = before.find((s) => s.name === stack.name);
      const notes = elsewhere
        ? [`BEFORE has it in ${environmentOf(elsewhere)}, AFTER in ${environmentOf(stack)}: another environment is another stack, so every resource is new.`]
        : ['not in BEFORE: every resource is new.'];
      return { change: 'create', notes };
    },
    exists: async (stack: AssemblyStack, artifact: ArtifactMetadata): Promise<Existence> => {
      const scope = scopeOf(stack, artifact);
      const found = before.some((s) => modelOf(s.template).artifacts.some((a) =>
        a.kind === artifact.kind && a.fingerprint === artifact.fingerprint && scopeOf(s, a) === scope));
      return { exists: found };
    },
    removed: async (after: AssemblyStack[]): Promise<RemovedStack[]> => {
      const kept = (s: AssemblyStack) => after.some((a) => a.name === s.name && sameEnvironment(a, s));
      return before.filter((s) => !kept(s)).map((s) => ({
        name: s.name,
        stackName: s.stackName,
        nestedIn: s.nested?.parent.name,
        account: s.account,
        region: s.region,
        template: s.template,
        // A nested stack is deleted when the top-level stack above it is deployed without it.
        deleted: s.nested !== undefined && kept(rootOf(s)),
      }));
    },
  };
}

function rootOf(stack: AssemblyStack): AssemblyStack {
  return stack.nested ? rootOf(stack.nested.parent) : stack;
}

function sameEnvironment(a: AssemblyStack, b: AssemblyStack): boolean {
  return a.account === b.account && a.region === b.region;
}

function environmentOf(stack: AssemblyStack): string {
  return `${stack.account ?? 'any account'}/${stack.region ?? 'any region'}`;
}

/** Where the deploy looks for an artifact of this kind: same scope, same artifact. */
function scopeOf(stack: AssemblyStack, artifact: ArtifactMetadata): string {
  const environment = `${stack.account ?? '?'}/${stack.region ?? '?'}`;
  if (artifact.kind === 'ami') return environment;
  const repository = artifact.lookup?.repository;
  // A repository of the stack itself (`{ "Ref": ... }`) is the stack's own; a named one is the account's.
  return typeof repository === 'string' ? `${environment}/${repository}` : `${environment}/${stack.stackName}/${JSON.stringify(repository)}`;
}
