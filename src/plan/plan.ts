/**
 * The deploy plan: for every stack of an assembly (nested stacks included), which artifacts are
 * built, reused or unchanged and which of their inputs changed, which deployments are replaced (by
 * which strategy, because of which artifact), whether IAM permissions broaden, and how many other
 * resources change, by impact; and the stacks that left the assembly.
 *
 * The template comparison is `@aws-cdk/cloudformation-diff`'s (the one `cdk diff` uses); what is
 * deployed and which fingerprints exist come from a `Deployed`: the BEFORE assembly offline, or
 * the accounts online.
 *
 * Internal to the plan command: never exported from the package.
 */
import type * as cfnDiff from '@aws-cdk/cloudformation-diff';
import type { AssemblyStack, Template } from './assembly';
import { NESTED_STACK_TYPE, nestedStackIds } from './assembly';
import { OFFLINE_PACKAGES, requireOptional } from './errors';
import type { ArtifactMetadata } from './metadata';
import { changedInputs, modelOf } from './model';
import { describeStrategy } from './strategy';
import { estimateStack, StackEstimate } from './time/estimate';
import { JOBS_RESOURCE_TYPE, LOOKUP_RESOURCE_TYPE } from '../internal/runtime/protocol';

export { modelOf } from './model';
export type { TemplateModel } from './model';

/** What happens to an artifact. `build` and `added` start a build; `reuse` finds the fingerprint built already. */
export type ArtifactChange = 'build' | 'reuse' | 'unchanged' | 'added' | 'removed';
/** What happens to a deployment. */
export type DeploymentChange = 'replace' | 'unchanged' | 'added' | 'removed';
/**
 * What the deploy does to a stack: `create` it (not deployed), `update` it, `recreate` it (a stack
 * whose first create failed: the CDK CLI deletes it and creates it again), leave it `removed` from
 * the assembly, or `not-planned` (the plan could not read it).
 */
export type StackChange = 'create' | 'update' | 'recreate' | 'removed' | 'not-planned';

export interface ArtifactRow {
  readonly path: string;
  readonly kind: string;
  readonly fingerprint: string;
  readonly change: ArtifactChange;
  /** For a new fingerprint of an artifact that existed: the inputs whose digest changed, in words. */
  readonly changedInputs: string[];
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
  /** CloudFormation's name of the stack; null for a nested stack, which CloudFormation names. */
  readonly stackName: string | null;
  /** The account and region the stack deploys to; null when the stack is environment-agnostic and the plan is offline. */
  readonly account: string | null;
  readonly region: string | null;
  /** For a nested stack, the stack that holds it. */
  readonly nestedIn: string | null;
  readonly change: StackChange;
  /** Online: CloudFormation's status of the deployed stack. */
  readonly status: string | null;
  /** Online: whose credentials read the stack (the bootstrap lookup role's ARN, or `current credentials`). */
  readonly readWith: string | null;
  readonly artifacts: ArtifactRow[];
  readonly deployments: DeploymentRow[];
  readonly permissionsBroadened: boolean;
  /** Resources that change beside the artifacts, deployments and nested stacks, counted by `cdk diff`'s impact. */
  readonly otherChanges: { [impact: string]: number };
  /** What the plan could not tell, or how it told. */
  readonly notes: string[];
  /**
   * How long the deploy of this stack takes, phase by phase: a model's estimate (src/plan/time/);
   * null for a stack the plan could not read, or that left the assembly.
   */
  readonly estimate: StackEstimate | null;
}

export interface Plan {
  /** `offline` (two assemblies) or `online` (the accounts). */
  readonly mode: 'offline' | 'online';
  readonly stacks: StackPlan[];
}

/** Whether an artifact of a fingerprint exists where the deploy would look for it. */
export interface Existence {
  readonly exists: boolean;
  /** Why the answer is uncertain, or what the lookup found. */
  readonly note?: string;
}

/** What is deployed of one stack of AFTER. */
export interface DeployedStack {
  readonly change: Exclude<StackChange, 'removed'>;
  /** The template to compare with; undefined when the deploy creates the stack. */
  readonly template?: Template;
  readonly account?: string;
  readonly region?: string;
  readonly status?: string;
  readonly readWith?: string;
  readonly notes: string[];
  /**
   * The artifacts whose wait failed and that the deploy builds again (a stack that a deploy with
   * `--no-rollback` left failed), by logical id of their wait, with why.
   */
  readonly failed?: { readonly [logicalId: string]: string };
}

/** A deployed stack (offline: a stack of BEFORE) that AFTER does not hold. */
export interface RemovedStack {
  readonly name: string;
  readonly stackName?: string;
  readonly nestedIn?: string;
  readonly account?: string;
  readonly region?: string;
  readonly template: Template;
  /** Whether the deploy deletes it: a nested stack whose parent is updated without it. A top-level stack stays. */
  readonly deleted: boolean;
}

/** What is deployed: the BEFORE assembly, or the accounts. */
export interface Deployed {
  readonly mode: 'offline' | 'online';
  /** What is deployed of a stack. Called for a nested stack after its parent. */
  stack(stack: AssemblyStack): Promise<DeployedStack>;
  /** Whether an artifact of this fingerprint exists already, so that the deploy reuses it. */
  exists(stack: AssemblyStack, artifact: ArtifactMetadata): Promise<Existence>;
  /** The deployed stacks that `after` does not hold, once every stack of `after` was read. */
  removed(after: AssemblyStack[]): Promise<RemovedStack[]>;
}

/**
 * The plan of every stack of `after` against what is deployed.
 *
 * @param after the stacks to deploy, each nested stack after its parent
 * @param deployed what is deployed
 */
export async function plan(after: AssemblyStack[], deployed: Deployed): Promise<Plan> {
  const diff = requireOptional<typeof cfnDiff>('@aws-cdk/cloudformation-diff', OFFLINE_PACKAGES, 'cdk-immutable-deploys plan');
  const stacks: StackPlan[] = [];
  for (const stack of after) {
    stacks.push(await planStack(diff, stack, await deployed.stack(stack), deployed));
  }
  for (const removed of await deployed.removed(after)) stacks.push(removedPlan(removed));
  return { mode: deployed.mode, stacks };
}

async function planStack(diff: typeof cfnDiff, stack: AssemblyStack, current: DeployedStack, deployed: Deployed): Promise<StackPlan> {
  const header = {
    name: stack.name,
    stackName: stack.nested ? null : stack.stackName,
    account: current.account ?? stack.account ?? null,
    region: current.region ?? stack.region ?? null,
    nestedIn: stack.nested?.parent.name ?? null,
    change: current.change,
    status: current.status ?? null,
    readWith: current.readWith ?? null,
  };
  const notes = [...current.notes];
  if (current.change === 'not-planned') {
    return { ...header, artifacts: [], deployments: [], permissionsBroadened: false, otherChanges: {}, notes, estimate: null };
  }
  const before = current.template;
  const old = modelOf(before ?? {});
  const now = modelOf(stack.template);
  const templateDiff = diff.fullDiff(before ?? {}, stack.template);
  const changed = new Map<string, cfnDiff.ResourceImpact>();
  templateDiff.resources.forEachDifference((logicalId, change) => {
    if (change.changeImpact !== diff.ResourceImpact.NO_CHANGE) changed.set(logicalId, change.changeImpact);
  });
  const failed = current.failed ?? {};

  // Artifacts: by construct path.
  const artifacts: ArtifactRow[] = [];
  const rebuilt = new Set<string>();
  for (const artifact of now.artifacts) {
    const previous = old.artifacts.find((a) => a.path === artifact.path);
    let change: ArtifactChange;
    let inputs: string[] = [];
    if (previous?.fingerprint === artifact.fingerprint && !failed[artifact.logicalId]) {
      change = 'unchanged';
    } else {
      const found = await deployed.exists(stack, artifact);
      if (found.note) notes.push(`${artifact.path}: ${found.note}`);
      change = found.exists ? 'reuse' : previous ? 'build' : 'added';
      if (failed[artifact.logicalId]) {
        notes.push(`${artifact.path}: ${failed[artifact.logicalId]}`);
        rebuilt.add(artifact.path);
      } else if (previous) {
        const words = changedInputs(previous.inputs, artifact.inputs);
        if (words) inputs = words.length > 0 ? words : ['no recorded input (another setting of the build)'];
        else notes.push(`${artifact.path}: ${deployed.mode === 'online' ? 'the deployed template' : 'BEFORE'} records no inputs of its previous fingerprint (an earlier version of this library wrote it), so which input changed is not known.`);
      }
    }
    artifacts.push({ path: artifact.path, kind: artifact.kind, fingerprint: artifact.fingerprint, change, changedInputs: inputs });
  }
  for (const artifact of old.artifacts.filter((a) => !now.artifacts.some((n) => n.path === a.path))) {
    artifacts.push({ path: artifact.path, kind: artifact.kind, fingerprint: artifact.fingerprint, change: 'removed', changedInputs: [] });
  }

  // Deployments: replaced when an artifact they run changed (or failed, and runs again), or a
  // revision resource (every change to a launch template or task definition is a new version or
  // revision) or the resource itself.
  const deployments: DeploymentRow[] = [];
  for (const deployment of now.deployments) {
    const previous = old.deployments.find((d) => d.path === deployment.path);
    if (!previous) {
      deployments.push({ path: deployment.path, kind: deployment.kind, change: 'added', strategy: describeStrategy(deployment, 'added'), because: [] });
      continue;
    }
    const runsAgain = (a: { path?: string }) => a.path !== undefined && rebuilt.has(a.path);
    const because = deployment.artifacts
      .filter((a) => !previous.artifacts.some((p) => p.path === a.path && p.fingerprint === a.fingerprint) || runsAgain(a))
      .map((a) => a.path ?? a.fingerprint);
    if (because.length === 0) {
      for (const revision of deployment.revisions) {
        if (changed.has(revision.logicalId)) because.push(revision.path);
      }
      const impact = changed.get(deployment.logicalId);
      if (impact === diff.ResourceImpact.WILL_REPLACE || impact === diff.ResourceImpact.MAY_REPLACE) because.push(deployment.path);
    }
    deployments.push({ path: deployment.path, kind: deployment.kind, change: because.length > 0 ? 'replace' : 'unchanged', strategy: describeStrategy(deployment), because });
  }
  for (const deployment of old.deployments.filter((d) => !now.deployments.some((n) => n.path === d.path))) {
    deployments.push({ path: deployment.path, kind: deployment.kind, change: 'removed', strategy: describeStrategy(deployment), because: [] });
  }

  // Everything else, by impact. The rows above explain their own resources and the artifacts' jobs;
  // a nested stack's change is its own section.
  const explained = new Set<string>([...nestedStackIds(before), ...nestedStackIds(stack.template)]);
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

  const estimate = estimateStack({
    template: stack.template,
    artifacts: now.artifacts.map((a) => ({ ...a, change: artifacts.find((row) => row.path === a.path)?.change ?? 'unchanged' })),
    deployments: now.deployments.map((d) => ({ ...d, change: deployments.find((row) => row.path === d.path)?.change ?? 'unchanged' })),
    changes: !before || !templateDiff.isEmpty,
    otherChanges: Object.values(otherChanges).reduce((n, count) => n + count, 0),
  });
  return { ...header, artifacts, deployments, permissionsBroadened: templateDiff.permissionsBroadened, otherChanges, notes, estimate };
}

/** A stack that left the assembly: a nested stack is deleted with its artifacts and deployments; a top-level stack stays deployed. */
function removedPlan(removed: RemovedStack): StackPlan {
  const model = modelOf(removed.template);
  const header = {
    name: removed.name,
    stackName: removed.nestedIn ? null : (removed.stackName ?? removed.name),
    account: removed.account ?? null,
    region: removed.region ?? null,
    nestedIn: removed.nestedIn ?? null,
    change: 'removed' as const,
    status: null,
    readWith: null,
  };
  if (!removed.deleted) {
    return {
      ...header,
      artifacts: [],
      deployments: [],
      permissionsBroadened: false,
      otherChanges: {},
      notes: [removed.nestedIn
        ? `removed with ${removed.nestedIn}, which cdk deploy leaves deployed.`
        : 'not in the assembly: cdk deploy leaves it deployed as it is (cdk destroy deletes it, with what its removal policies let go).'],
      estimate: null,
    };
  }
  const destroyed = Object.values(removed.template.Resources ?? {}).filter((r) => r.Type !== NESTED_STACK_TYPE).length;
  return {
    ...header,
    artifacts: model.artifacts.map((a) => ({ path: a.path, kind: a.kind, fingerprint: a.fingerprint, change: 'removed' as const, changedInputs: [] })),
    deployments: model.deployments.map((d) => ({ path: d.path, kind: d.kind, change: 'removed' as const, strategy: describeStrategy(d), because: [] })),
    permissionsBroadened: false,
    otherChanges: destroyed > 0 ? { WILL_DESTROY: destroyed } : {},
    notes: [`no longer in ${removed.nestedIn}: CloudFormation deletes this nested stack when it updates ${removed.nestedIn}.`],
    estimate: null,
  };
}

function refOf(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

/** The checks `--fail-on` takes. */
export type Gate = 'replace' | 'build' | 'broaden';
export const GATES: Gate[] = ['replace', 'build', 'broaden'];

/** What trips each gate: none when the plan passes. A stack the plan could not read trips every gate. */
export function tripped(result: Plan, gates: Gate[]): string[] {
  const reasons: string[] = [];
  for (const stack of result.stacks) {
    if (stack.change === 'not-planned' && gates.length > 0) {
      reasons.push(`${gates.join(', ')}: ${stack.name} was not planned (${stack.notes[0] ?? 'unknown'}), so whether it trips is not known`);
      continue;
    }
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
