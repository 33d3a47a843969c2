/**
 * What the library's constructs share per stack (the runtime, the fleets' identity, the services'
 * roles and logs, the bake infrastructure, the build projects, the replication configuration) is
 * one construct with a fixed id at the stack's root, made by the first construct that needs it.
 *
 * Internal: never exported from the package.
 */
import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The construct `id` at the root of the stack of `scope`, made with `create` on first use. */
export function stackSingleton<T extends IConstruct>(scope: IConstruct, id: string, create: (stack: Stack, id: string) => T): T {
  const stack = Stack.of(scope);
  return (stack.node.tryFindChild(id) as T | undefined) ?? create(stack, id);
}
