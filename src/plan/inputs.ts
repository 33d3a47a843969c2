/**
 * What each artifact is made of, input by input, for `cdk-immutable-deploys plan` to name which input
 * changed: a short digest of every input that counts in the artifact's fingerprint (the files of a
 * build context or of a bake step, the Dockerfile, a build argument, the target, the platform, a step,
 * the base image), never a file's content or an argument's value.
 *
 * The digests go into the template's own `Metadata` section (key `PLAN_INPUTS_KEY`), by artifact path,
 * not onto a resource: CloudFormation never updates a resource for it, and a stack update cannot
 * change that section alone, so a template whose artifacts did not change stays byte-identical and
 * deploys nothing new. A large build context is bounded: directories are summarized by one digest
 * each until the context fits `CONTEXT_BUDGET` entries.
 *
 * Internal: never exported from the package.
 */
import * as crypto from 'crypto';
import { Lazy, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The template-metadata key. Part of the contract between a template and the plan command. */
export const PLAN_INPUTS_KEY = 'cdk-immutable-deploys:inputs';

/** Input name → short digest (12 hexadecimal characters of a SHA-256). */
export type InputDigests = { [name: string]: string };

/** What the template's metadata holds for one artifact. */
export interface ArtifactInputs {
  /** The fingerprint these inputs make. */
  readonly fingerprint: string;
  readonly inputs: InputDigests;
}

/** At most this many entries of a build context are named; larger contexts are summarized by directory. */
export const CONTEXT_BUDGET = 32;
/** At most this many entries of a bake step's directory are named. */
export const STEP_FILES_BUDGET = 8;
/** The characters of a digest: 48 bits tell two versions of one input apart. */
const DIGEST_LENGTH = 12;

/** A short digest of a value. */
export function digest(value: string): string {
  return crypto.createHash('sha256').update(value, 'utf8').digest('hex').slice(0, DIGEST_LENGTH);
}

const registries = new WeakMap<Stack, Map<string, ArtifactInputs>>();

/**
 * Records an artifact's input digests in its stack's template metadata.
 *
 * @param artifact the artifact construct
 * @param fingerprint the artifact's fingerprint
 * @param inputs its inputs' digests
 */
export function recordInputs(artifact: IConstruct, fingerprint: string, inputs: InputDigests): void {
  const stack = Stack.of(artifact);
  let registry = registries.get(stack);
  if (!registry) {
    const created = new Map<string, ArtifactInputs>();
    registry = created;
    registries.set(stack, created);
    stack.addMetadata(PLAN_INPUTS_KEY, Lazy.any({ produce: () => sortedObject(created) }));
  }
  registry.set(artifact.node.path, { fingerprint, inputs: sortedObject(new Map(Object.entries(inputs))) });
}

/** The inputs of a container build. */
export interface ContainerBuildInputs {
  /** The entries of the build context, as the fingerprint counts them. */
  readonly context: string[][];
  /** The Dockerfile's path in the context, and its text. */
  readonly dockerfile: string;
  readonly dockerfileText: string;
  readonly buildArgs: { readonly [name: string]: string };
  readonly target: string;
  readonly platform: string;
  readonly cache: boolean;
  /** The revision of the build procedure. */
  readonly builder: string;
}

/** The digests of a container build's inputs. A build argument's value is digested, never recorded. */
export function containerInputDigests(inputs: ContainerBuildInputs): InputDigests {
  const digests: InputDigests = {
    dockerfile: digest(`${inputs.dockerfile}\n${inputs.dockerfileText}`),
    baseImage: digest(baseImages(inputs.dockerfileText).join('\n')),
    target: digest(inputs.target),
    platform: digest(inputs.platform),
    cache: digest(String(inputs.cache)),
    builder: digest(inputs.builder),
  };
  for (const [name, value] of Object.entries(inputs.buildArgs)) digests[`buildArg:${name}`] = digest(value);
  for (const [key, entries] of groupEntries(inputs.context, CONTEXT_BUDGET)) digests[`context:${key}`] = digest(JSON.stringify(entries));
  return digests;
}

/** One step of a bake, as the plan names it. */
export interface BakeStepInputs {
  /** The step's fingerprint (its document and the content of every file it ships). */
  readonly fingerprint: string;
  /** The entries of the files it ships, when it ships files. */
  readonly files?: string[][];
}

/** The inputs of an AMI bake. */
export interface BakeInputs {
  readonly baseImage: string;
  readonly os: string;
  readonly rootVolume: unknown;
  readonly builder: string;
  readonly steps: BakeStepInputs[];
  readonly testSteps: BakeStepInputs[];
}

/** The digests of a bake's inputs: `step:2` for the second step, `step:2:<file>` for a file it ships. */
export function bakeInputDigests(inputs: BakeInputs): InputDigests {
  const digests: InputDigests = {
    baseImage: digest(inputs.baseImage),
    os: digest(inputs.os),
    rootVolume: digest(JSON.stringify(inputs.rootVolume)),
    builder: digest(inputs.builder),
  };
  const steps = (kind: string, list: BakeStepInputs[]) => list.forEach((step, i) => {
    digests[`${kind}:${i + 1}`] = digest(step.fingerprint);
    for (const [key, entries] of groupEntries(step.files ?? [], STEP_FILES_BUDGET)) digests[`${kind}:${i + 1}:${key}`] = digest(JSON.stringify(entries));
  });
  steps('step', inputs.steps);
  steps('testStep', inputs.testSteps);
  return digests;
}

/** The images of a Dockerfile's `FROM` lines, in order: its base images and stages. */
export function baseImages(dockerfile: string): string[] {
  return dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/)
    .map((l) => /^\s*FROM\s+(.*)$/i.exec(l)?.[1].trim())
    .filter((l): l is string => l !== undefined);
}

/**
 * Groups the entries of a directory (`[kind, relative path, detail]`) into at most `budget` keys:
 * a file by its path, a directory by its path with a trailing `/` (everything under it), and `*` for
 * the top-level entries beyond the budget. Starting from the top-level entries, the directory with
 * the most entries is opened while the result stays within the budget.
 */
export function groupEntries(entries: string[][], budget: number): Map<string, string[][]> {
  const groups = groupAt(entries, '');
  let keys = [...groups.keys()].sort();
  if (keys.length > budget) {
    const rest = keys.slice(budget - 1).flatMap((k) => groups.get(k)!);
    for (const key of keys.slice(budget - 1)) groups.delete(key);
    groups.set('*', rest);
  }
  for (;;) {
    keys = [...groups.keys()];
    const candidates = keys
      .filter((k) => k.endsWith('/'))
      .map((k) => ({ key: k, children: groupAt(groups.get(k)!, k) }))
      // Opening a directory with one entry below costs nothing and names it more closely.
      .filter((c) => !c.children.has(c.key) && keys.length - 1 + c.children.size <= budget)
      .sort((a, b) => groups.get(b.key)!.length - groups.get(a.key)!.length || (a.key < b.key ? -1 : 1));
    const open = candidates[0];
    if (!open) break;
    groups.delete(open.key);
    for (const [key, value] of open.children) groups.set(key, value);
  }
  return new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The entries under `prefix` (`''` or `dir/`), by their next path segment: a file by its path, a
 * directory by its path and `/`. A directory's own entry stays with it, unless it has entries
 * below it to say that it exists.
 */
function groupAt(entries: string[][], prefix: string): Map<string, string[][]> {
  const groups = new Map<string, string[][]>();
  const add = (key: string, entry: string[]) => {
    const list = groups.get(key);
    if (list) list.push(entry);
    else groups.set(key, [entry]);
  };
  const own: string[][] = [];
  for (const entry of entries) {
    const rest = entry[1].slice(prefix.length);
    if (prefix !== '' && `${entry[1]}/` === prefix) {
      own.push(entry);
      continue;
    }
    const slash = rest.indexOf('/');
    if (slash >= 0) add(`${prefix}${rest.slice(0, slash)}/`, entry);
    else add(entry[0] === 'dir' ? `${prefix}${rest}/` : `${prefix}${rest}`, entry);
  }
  // An empty directory is its own entry alone.
  if (own.length > 0 && groups.size === 0) groups.set(prefix, own);
  return groups;
}

function sortedObject<T>(map: Map<string, T>): { [key: string]: T } {
  const out: { [key: string]: T } = {};
  for (const key of [...map.keys()].sort()) out[key] = map.get(key)!;
  return out;
}
