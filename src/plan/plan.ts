/**
 * The deploy plan: for every stack of an assembly, which artifacts are built, reused or unchanged,
 * which deployments are replaced (by which strategy, because of which artifact), whether IAM
 * permissions broaden, and how many other resources change, by impact.
 *
 * The template comparison is `@aws-cdk/cloudformation-diff`'s (the one `cdk diff` uses); what is
 * deployed and which fingerprints exist come from a `Deployed`: the BEFORE assembly offline, or
 * the account online.
 *
 * Internal to the plan command: never exported from the package.
 */
import type * as cfnDiff from '@aws-cdk/cloudformation-diff';
import type { AssemblyStack, Template } from './assembly';
import { OFFLINE_PACKAGES, requireOptional } from './errors';
import { PLAN_METADATA_KEY } from './metadata';
import type { ArtifactMetadata, DeploymentMetadata, PlanMetadata, RevisionMetadata, RunsArtifact } from './metadata';
import { describeStrategy } from './strategy';
import { JOBS_RESOURCE_TYPE, LOOKUP_RESOURCE_TYPE } from '../internal/runtime/protocol';

/** What happens to an artifact. `build` and `added` start a build; `reuse` finds the fingerprint built already. */
export type ArtifactChange = 'build' | 'reuse' | 'unchanged' | 'added' | 'removed';
/** What happens to a deployment. */
export type DeploymentChange = 'replace' | 'unchanged' | 'added' | 'removed';

export interface ArtifactRow {
  readonly path: string;
  readonly kind: string;
  readonly fingerprint: string;
  readonly change: ArtifactChange;
}

export interface DeploymentRow {
  readonly path: string;
  readonly kind: string;
  readonly change: DeploymentChange;
  /** The strategy in words. */
  readonly strategy: string;
  /** The artifacts (or the revision resources) whose change replaces what runs. */
  readonly because: string[];
}

export interface StackPlan {
  readonly name: string;
  readonly artifacts: ArtifactRow[];
  readonly deployments: DeploymentRow[];
  readonly permissionsBroadened: boolean;
  /** Resources that change beside the artifacts and deployments, counted by `cdk diff`'s impact. */
  readonly otherChanges: { [impact: string]: number };
  /** What the plan could not tell, or how it told. */
  readonly notes: string[];
}

export interface Plan {
  /** `offline` (two assemblies) or `online` (the account). */
  readonly mode: 'offline' | 'online';
  readonly stacks: StackPlan[];
}

/** Whether an artifact of a fingerprint exists where the deploy would look for it. */
export interface Existence {
  readonly exists: boolean;
  /** Why the answer is uncertain, or what the lookup found. */
  readonly note?: string;
}

/** What is deployed: the BEFORE assembly, or the account. */
export interface Deployed {
  readonly mode: 'offline' | 'online';
  /** The deployed template of a stack, or undefined when the stack is not deployed. */
  template(stack: AssemblyStack): Promise<Template | undefined>;
  /** Whether an artifact of this fingerprint exists already, so that the deploy reuses it. */
  exists(stack: AssemblyStack, artifact: ArtifactMetadata): Promise<Existence>;
}

/** The artifact and deployment metadata of a template, with the logical ids that carry them. */
export interface TemplateModel {
  readonly artifacts: Array<ArtifactMetadata & { readonly logicalId: string }>;
  /** Each deployment, with the artifacts its revision resources run. */
  readonly deployments: Array<DeploymentMetadata & { readonly logicalId: string; readonly artifacts: RunsArtifact[] }>;
}

/** Reads the plan metadata of a template. */
export function modelOf(template: Template): TemplateModel {
  const artifacts: TemplateModel['artifacts'] = [];
  const deployments: Array<DeploymentMetadata & { readonly logicalId: string }> = [];
  const revisions: RevisionMetadata[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const metadata = resource.Metadata?.[PLAN_METADATA_KEY] as PlanMetadata | undefined;
    if (!metadata || typeof metadata !== 'object') continue;
    if (metadata.role === 'artifact') artifacts.push({ ...metadata, logicalId });
    if (metadata.role === 'deployment') deployments.push({ ...metadata, logicalId });
    if (metadata.role === 'revision') revisions.push(metadata);
  }
  return {
    artifacts,
    deployments: deployments.map((d) => ({ ...d, artifacts: revisions.filter((r) => r.deployment === d.path).flatMap((r) => r.artifacts) })),
  };
}

/**
 * The plan of every stack of `after` against what is deployed.
 *
 * @param after the stacks to deploy
 * @param deployed what is deployed
 */
export async function plan(after: AssemblyStack[], deployed: Deployed): Promise<Plan> {
  const diff = requireOptional<typeof cfnDiff>('@aws-cdk/cloudformation-diff', OFFLINE_PACKAGES, 'cdk-immutable-deploys plan');
  const stacks: StackPlan[] = [];
  for (const stack of after) {
    const before = await deployed.template(stack);
    stacks.push(await planStack(diff, stack, before, deployed));
  }
  return { mode: deployed.mode, stacks };
}

async function planStack(diff: typeof cfnDiff, stack: AssemblyStack, before: Template | undefined, deployed: Deployed): Promise<StackPlan> {
  const notes: string[] = [];
  if (!before) notes.push(deployed.mode === 'online' ? `${stack.stackName} is not deployed: every resource is new.` : 'not in BEFORE: every resource is new.');
  const old = modelOf(before ?? {});
  const now = modelOf(stack.template);
  const templateDiff = diff.fullDiff(before ?? {}, stack.template);
  const changed = new Map<string, cfnDiff.ResourceImpact>();
  templateDiff.resources.forEachDifference((logicalId, change) => {
    if (change.changeImpact !== diff.ResourceImpact.NO_CHANGE) changed.set(logicalId, change.changeImpact);
  });

  // Artifacts: by construct path.
  const artifacts: ArtifactRow[] = [];
  for (const artifact of now.artifacts) {
    const previous = old.artifacts.find((a) => a.path === artifact.path);
    let change: ArtifactChange;
    if (previous?.fingerprint === artifact.fingerprint) {
      change = 'unchanged';
    } else {
      const found = await deployed.exists(stack, artifact);
      if (found.note) notes.push(`${artifact.path}: ${found.note}`);
      change = found.exists ? 'reuse' : previous ? 'build' : 'added';
    }
    artifacts.push({ path: artifact.path, kind: artifact.kind, fingerprint: artifact.fingerprint, change });
  }
  for (const artifact of old.artifacts.filter((a) => !now.artifacts.some((n) => n.path === a.path))) {
    artifacts.push({ path: artifact.path, kind: artifact.kind, fingerprint: artifact.fingerprint, change: 'removed' });
  }

  // Deployments: replaced when an artifact they run changed, or a revision resource (every change to
  // a launch template or task definition is a new version or revision) or the resource itself.
  const deployments: DeploymentRow[] = [];
  for (const deployment of now.deployments) {
    const previous = old.deployments.find((d) => d.path === deployment.path);
    const strategy = describeStrategy(deployment);
    if (!previous) {
      deployments.push({ path: deployment.path, kind: deployment.kind, change: 'added', strategy, because: [] });
      continue;
    }
    const because = deployment.artifacts
      .filter((a) => !previous.artifacts.some((p) => p.path === a.path && p.fingerprint === a.fingerprint))
      .map((a) => a.path ?? a.fingerprint);
    if (because.length === 0) {
      for (const revision of deployment.revisions) {
        if (changed.has(revision.logicalId)) because.push(revision.path);
      }
      const impact = changed.get(deployment.logicalId);
      if (impact === diff.ResourceImpact.WILL_REPLACE || impact === diff.ResourceImpact.MAY_REPLACE) because.push(deployment.path);
    }
    deployments.push({ path: deployment.path, kind: deployment.kind, change: because.length > 0 ? 'replace' : 'unchanged', strategy, because });
  }
  for (const deployment of old.deployments.filter((d) => !now.deployments.some((n) => n.path === d.path))) {
    deployments.push({ path: deployment.path, kind: deployment.kind, change: 'removed', strategy: describeStrategy(deployment), because: [] });
  }

  // Everything else, by impact. The rows above explain their own resources and the artifacts' jobs.
  const explained = new Set<string>();
  for (const model of [old, now]) {
    for (const artifact of model.artifacts) explained.add(artifact.logicalId);
    // A deployment row explains its resources when it replaces, adds or removes them; an in-place
    // update of an unchanged deployment (a new desired count) is another change.
    for (const deployment of model.deployments.filter((d) => deployments.some((row) => row.path === d.path && row.change !== 'unchanged'))) {
      [deployment.logicalId, ...deployment.revisions.map((r) => r.logicalId)].forEach((id) => explained.add(id));
    }
  }
  for (const template of [before ?? {}, stack.template]) {
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type === JOBS_RESOURCE_TYPE) explained.add(logicalId);
      // An artifact's result (what its job made, read back after its wait) changes with the artifact.
      if (resource.Type === LOOKUP_RESOURCE_TYPE && resource.Properties?.Kind === 'job-result') explained.add(logicalId);
      // An artifact's wait condition waits on a handle of its own.
      const handle = explained.has(logicalId) && resource.Type === 'AWS::CloudFormation::WaitCondition' ? refOf(resource.Properties?.Handle) : undefined;
      if (handle) explained.add(handle);
    }
  }
  const otherChanges: { [impact: string]: number } = {};
  for (const [logicalId, impact] of [...changed.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (!explained.has(logicalId)) otherChanges[impact] = (otherChanges[impact] ?? 0) + 1;
  }

  return { name: stack.name, artifacts, deployments, permissionsBroadened: templateDiff.permissionsBroadened, otherChanges, notes };
}

function refOf(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

/** The checks `--fail-on` takes. */
export type Gate = 'replace' | 'build' | 'broaden';
export const GATES: Gate[] = ['replace', 'build', 'broaden'];

/** What trips each gate: none when the plan passes. */
export function tripped(result: Plan, gates: Gate[]): string[] {
  const reasons: string[] = [];
  for (const stack of result.stacks) {
    if (gates.includes('replace')) {
      for (const d of stack.deployments.filter((row) => row.change === 'replace')) reasons.push(`replace: ${d.path} is replaced (${d.strategy})`);
    }
    if (gates.includes('build')) {
      for (const a of stack.artifacts.filter((row) => row.change === 'build' || row.change === 'added')) {
        reasons.push(`build: ${a.path} is built (${a.kind} ${a.fingerprint.slice(0, 16)})`);
      }
    }
    if (gates.includes('broaden') && stack.permissionsBroadened) reasons.push(`broaden: IAM permissions of ${stack.name} broaden`);
  }
  return reasons;
}
