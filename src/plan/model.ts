/**
 * What the plan reads of a template: the artifact and deployment metadata its constructs wrote on
 * resources (`PLAN_METADATA_KEY`), the input digests of its artifacts in the template's own metadata
 * (`PLAN_INPUTS_KEY`), and which of two versions of an artifact's inputs differ, in words.
 *
 * Internal to the plan command: never exported from the package.
 */
import type { Template } from './assembly';
import type { ArtifactInputs, InputDigests } from './inputs';
import type { ArtifactMetadata, DeploymentMetadata, PlanMetadata, RevisionMetadata, RunsArtifact } from './metadata';

/** The keys, repeated here so that reading a template loads no construct code. */
const PLAN_METADATA_KEY = 'cdk-immutable-deploys:plan';
const PLAN_INPUTS_KEY = 'cdk-immutable-deploys:inputs';

/** The artifact and deployment metadata of a template, with the logical ids that carry them. */
export interface TemplateModel {
  /** Each artifact, with its input digests when the template records them for its fingerprint. */
  readonly artifacts: Array<ArtifactMetadata & { readonly logicalId: string; readonly inputs?: InputDigests }>;
  /** Each deployment, with the artifacts its revision resources run. */
  readonly deployments: Array<DeploymentMetadata & { readonly logicalId: string; readonly artifacts: RunsArtifact[] }>;
}

/** Reads the plan metadata of a template. */
export function modelOf(template: Template): TemplateModel {
  const recorded = (template.Metadata?.[PLAN_INPUTS_KEY] ?? {}) as { [path: string]: ArtifactInputs | undefined };
  const artifacts: TemplateModel['artifacts'] = [];
  const deployments: Array<DeploymentMetadata & { readonly logicalId: string }> = [];
  const revisions: RevisionMetadata[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const metadata = resource.Metadata?.[PLAN_METADATA_KEY] as PlanMetadata | undefined;
    if (!metadata || typeof metadata !== 'object') continue;
    if (metadata.role === 'artifact') {
      const own = recorded[metadata.path];
      artifacts.push({ ...metadata, logicalId, ...(own?.fingerprint === metadata.fingerprint && own.inputs ? { inputs: own.inputs } : {}) });
    }
    if (metadata.role === 'deployment') deployments.push({ ...metadata, logicalId });
    if (metadata.role === 'revision') revisions.push(metadata);
  }
  return {
    artifacts,
    deployments: deployments.map((d) => ({ ...d, artifacts: revisions.filter((r) => r.deployment === d.path).flatMap((r) => r.artifacts) })),
  };
}

/**
 * The inputs that differ between two versions of an artifact, in words (`context: src/app.ts`,
 * `build arg VERSION`, `step 2`), sorted; undefined when either version did not record its inputs.
 * An input that one side names file by file and the other summarizes by its directory is named by
 * the directory.
 */
export function changedInputs(before: InputDigests | undefined, after: InputDigests | undefined): string[] | undefined {
  if (!before || !after) return undefined;
  const changed = new Set<string>();
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[key] === after[key]) continue;
    const other = key in before ? after : before;
    // A file of one side inside a directory (or the rest, `*`) that the other side summarizes.
    const summary = Object.keys(other).find((k) => k !== key && sameScope(k, key) && (k.endsWith('/') || k.endsWith(':*')) && covers(k, key));
    changed.add(summary ?? key);
  }
  return [...changed].sort(byInputOrder).map(describeInput);
}

/** `context:src/` covers `context:src/app.ts`; `context:*` covers whatever its side does not name. */
function covers(summary: string, key: string): boolean {
  return summary.endsWith(':*') || key.startsWith(summary);
}

/** Both name entries of the same thing: the context, or the files of the same step. */
function sameScope(a: string, b: string): boolean {
  const scope = (k: string) => (k.startsWith('context:') ? 'context:' : /^(step|testStep):\d+:/.exec(k)?.[0]);
  return scope(a) !== undefined && scope(a) === scope(b);
}

const ORDER = ['baseImage', 'dockerfile', 'buildArg', 'target', 'platform', 'step', 'testStep', 'context', 'os', 'rootVolume', 'cache', 'builder'];

function byInputOrder(a: string, b: string): number {
  const rank = (k: string) => ORDER.indexOf(k.split(':')[0]);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** An input's name in words. */
export function describeInput(key: string): string {
  const [kind, ...rest] = key.split(':');
  const detail = rest.join(':');
  switch (kind) {
    case 'context': return detail === '*' ? 'context: other entries' : `context: ${detail}`;
    case 'buildArg': return `build arg ${detail}`;
    case 'dockerfile': return 'Dockerfile';
    case 'baseImage': return 'base image';
    case 'step':
    case 'testStep': {
      const [index, ...file] = rest;
      const words = `${kind === 'step' ? 'step' : 'test step'} ${index}`;
      if (file.length === 0) return words;
      const entry = file.join(':');
      return `${words}: ${entry === '*' ? 'other files' : entry}`;
    }
    case 'os': return 'operating system';
    case 'rootVolume': return 'root volume';
    case 'builder': return 'build procedure (library version)';
    default: return key;
  }
}
