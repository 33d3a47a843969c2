/**
 * What the variants share: the fixed inputs of the apps, and where the generated build contexts are.
 */
import * as path from 'path';
import type { Stack } from 'aws-cdk-lib';

/** A fixed AMI (Amazon Linux 2023, x86_64, us-east-1): the floor's pinned image and every bake's base. */
export const FIXED_AMI = 'ami-0c614dee691cbbf37';

/** The tag the floor's services run: a fixed tag pushed by some other process. */
export const FIXED_TAG = 'v1';

/** Environment variable naming the directory that holds one small build context per artifact (`ctx-<i>`). */
export const CONTEXTS_ENV = 'BENCH_CONTEXTS';

/** Environment variable naming the one build context of the single-artifact and large-context variants. */
export const CONTEXT_ENV = 'BENCH_CONTEXT';

/** Environment variable naming the directory of a one-file Lambda handler (the single-artifact variants' app function). */
export const HANDLER_ENV = 'BENCH_HANDLER';

/** Environment variable naming the synthesized template that the bound-replay variant replays. */
export const REPLAY_ENV = 'BENCH_REPLAY';

/** Environment variable choosing the family (`fleets` or `containers`) of the bound-one-function variant. */
export const BOUND_FAMILY_ENV = 'BENCH_BOUND_FAMILY';

/** What a variant module exports: it builds `n` artifacts, and what runs each, in `stack`. */
export interface VariantModule {
  build?(stack: Stack, n: number): void;
  /** A measurement that is not a synth (fingerprinting): returns named times in milliseconds. */
  measure?(): { [name: string]: number };
}

/** The build context of artifact `i`: a Dockerfile and one page, different for every artifact. */
export function contextDir(i: number): string {
  const root = process.env[CONTEXTS_ENV];
  if (!root) throw new Error(`${CONTEXTS_ENV} is not set: run the benchmark with \`npm run bench\`, which generates the contexts.`);
  return path.join(root, `ctx-${i}`);
}

/** The single build context of the single-artifact and large-context variants. */
export function singleContextDir(): string {
  const dir = process.env[CONTEXT_ENV];
  if (!dir) throw new Error(`${CONTEXT_ENV} is not set: run the benchmark with \`npm run bench\`, which generates the context.`);
  return dir;
}

/** The directory of a one-file Lambda handler. */
export function handlerDir(): string {
  const dir = process.env[HANDLER_ENV];
  if (!dir) throw new Error(`${HANDLER_ENV} is not set: run the benchmark with \`npm run bench\`, which generates the handler.`);
  return dir;
}

/** The library, loaded as a user loads it: through its package.json `main` (lib/index.js, built by `npx projen compile`). */
export function library(): typeof import('../..') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.resolve(__dirname, '..', '..'));
}
