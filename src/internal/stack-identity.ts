/**
 * A synth-time name of a deployed stack for the names of resources that must not collide with
 * another stack's in the same account and region (the runtime's rules, the bakes' Image Builder
 * names), and that must stay the same across updates of the stack (a new name replaces them).
 *
 * Internal: never exported from the package.
 */
import { Stack, Token } from 'aws-cdk-lib';

/**
 * What tells a nested stack apart from every other deployed stack of its account and region, when
 * its construct path alone does not. A stack name is unique in an account and region; a nested
 * stack's own name is known only at deploy time, but the root of its nesting has one at synth, and
 * the nested stack is its only one at its construct path below it.
 *
 * Undefined when the construct path alone does (what the names used before, kept so that no existing
 * stack's resources are renamed): a top-level stack (its own name serves), a nested stack whose root
 * keeps the name CDK derives from the root's construct path (two roots at the same path then have the
 * same name: they are one deployed stack), or whose root's name is not known at synth.
 */
export function nestedStackIdentity(stack: Stack): string | undefined {
  let root = stack;
  while (root.nestedStackParent) root = root.nestedStackParent;
  if (root === stack || Token.isUnresolved(root.stackName) || root.stackName === derivedNameOf(root)) return undefined;
  return `${root.stackName}/${stack.node.path.slice(root.node.path.length + 1)}`;
}

/** The name CDK gives a stack that was given none (`Stack.generateStackName`, pure), if it can be told. */
function derivedNameOf(stack: Stack): string | undefined {
  const generate = (stack as unknown as { generateStackName?: () => string }).generateStackName;
  if (typeof generate !== 'function') return undefined;
  try {
    return generate.call(stack);
  } catch {
    return undefined;
  }
}
