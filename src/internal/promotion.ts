/**
 * Passing an artifact object from the stack that makes it to a stack that deploys it. A reference
 * to the artifact's id (a wait condition's data, a lookup's result) across stacks would be a
 * CloudFormation export whose value changes with every new artifact, and CloudFormation refuses to
 * update an export that another stack imports. So a deployment in another stack imports the artifact
 * by its fingerprint, a synth-time string, through its own stack's runtime: no export of the id, and
 * a new artifact is only a new fingerprint in the consumer's template.
 *
 * Internal: never exported from the package.
 */
import { Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/** An artifact that knows how to import itself by fingerprint into another stack. */
interface Importable<T> {
  _importInto(scope: Construct): T;
}

function isImportable<T>(artifact: T): artifact is T & Importable<T> {
  return typeof (artifact as Partial<Importable<T>>)._importInto === 'function';
}

/**
 * The artifact as `scope` may use it: itself in its own stack, else its import by fingerprint into
 * the stack of `scope` (artifacts that cannot be imported so, such as one imported by id, are given
 * back as they are).
 */
export function artifactInScope<T>(scope: Construct, artifact: T): T {
  if (!Construct.isConstruct(artifact as unknown as IConstruct) || !isImportable(artifact)) return artifact;
  if (Stack.of(artifact as unknown as IConstruct) === Stack.of(scope)) return artifact;
  return artifact._importInto(scope);
}
