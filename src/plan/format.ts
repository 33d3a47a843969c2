/**
 * The plan as text (a table per stack) or as one JSON document.
 *
 * Internal to the plan command: never exported from the package.
 */
import type { Plan, StackPlan } from './plan';
import type { StackEstimate } from './time/estimate';

/** Characters of a fingerprint in the table (`Fingerprint.short`). */
const SHORT = 16;

/**
 * The plan as one JSON document: `{ "mode", "stacks": [ { "name", "stackName", "account", "region",
 * "nestedIn", "change", "status", "readWith", "artifacts", "deployments", "permissionsBroadened",
 * "otherChanges", "notes", "estimate" } ] }`.
 */
export function formatJson(plan: Plan): string {
  return `${JSON.stringify(plan, undefined, 2)}\n`;
}

/** The plan as a table per stack, for a person approving the deploy. */
export function formatTable(plan: Plan): string {
  const out: string[] = [];
  for (const stack of plan.stacks) out.push(...formatStack(stack), '');
  if (plan.stacks.filter((st) => st.estimate !== null && !st.nestedIn).length > 1) out.push(formatTotal(plan), '');
  const builds = plan.stacks.some((s) => s.artifacts.some((a) => a.change === 'build' || a.change === 'added'));
  if (plan.mode === 'offline' && builds) {
    out.push('Offline, an artifact is "reuse" only when BEFORE holds its fingerprint; one built earlier (a revert, another account\'s stage) is reused at deploy time all the same. Leave out BEFORE to ask the account.');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

/** What the deploy does to a stack, in words. */
const STACK_CHANGE: { [change in StackPlan['change']]: string } = {
  'create': 'create',
  'update': 'update',
  'recreate': 'delete and create again',
  'removed': 'removed from the assembly',
  'not-planned': 'NOT PLANNED',
};

/** Changed inputs shown in the table; `--json` has them all. */
const INPUTS_SHOWN = 3;

function formatStack(stack: StackPlan): string[] {
  const where = `${stack.account ?? 'any account'}/${stack.region ?? 'any region'}`;
  const lines = [`Stack ${stack.name} (${where})${stack.nestedIn ? `, nested in ${stack.nestedIn}` : ''}`];
  const how = [stack.status, stack.readWith ? `read with ${stack.readWith.replace(/^arn:[^:]+:iam::\d+:role\//, 'role ')}` : undefined].filter((p) => p);
  lines.push(`Deploy: ${STACK_CHANGE[stack.change]}${how.length > 0 ? ` (${how.join(', ')})` : ''}`);
  lines.push('Artifacts');
  if (stack.artifacts.length === 0) {
    lines.push('  (none)');
  } else {
    lines.push(...table(['PATH', 'KIND', 'FINGERPRINT', 'CHANGE', 'BECAUSE'],
      stack.artifacts.map((a) => [a.path, a.kind, a.fingerprint.slice(0, SHORT), a.change, inputWords(a.changedInputs)])));
  }
  lines.push('Deployments');
  if (stack.deployments.length === 0) {
    lines.push('  (none)');
  } else {
    lines.push(...table(['PATH', 'KIND', 'CHANGE', 'STRATEGY', 'BECAUSE'],
      stack.deployments.map((d) => [d.path, d.kind, d.change, d.strategy, d.because.length > 0 ? d.because.join(', ') : '-'])));
  }
  lines.push(`IAM permissions: ${stack.permissionsBroadened ? 'BROADEN (run cdk diff for the statements)' : 'do not broaden'}`);
  const other = Object.entries(stack.otherChanges);
  lines.push(`Other resource changes: ${other.length === 0 ? 'none' : other.map(([impact, n]) => `${n} ${impact.toLowerCase().replace(/_/g, ' ')}`).join(', ')}`);
  for (const note of stack.notes) lines.push(`Note: ${note}`);
  if (stack.estimate) lines.push(...formatEstimate(stack.estimate));
  return lines;
}

function inputWords(inputs: string[]): string {
  if (inputs.length === 0) return '-';
  const shown = inputs.slice(0, INPUTS_SHOWN).join(', ');
  return inputs.length > INPUTS_SHOWN ? `${shown} and ${inputs.length - INPUTS_SHOWN} more` : shown;
}

/** The estimate: its range, when the new version serves, and the phases of its longest path. */
function formatEstimate(estimate: StackEstimate): string[] {
  const serving = estimate.servingLowSeconds !== undefined ? `; the new version takes traffic after ${minutes(estimate.servingLowSeconds, estimate.servingHighSeconds!)}` : '';
  const lines = [`Deploy time (a model from AWS defaults and assumptions, not a measurement): ${minutes(estimate.lowSeconds, estimate.highSeconds)}${serving}`];
  const phases = estimate.phases.map((p) => [p.lowSeconds === p.highSeconds ? `${p.lowSeconds} s` : `${p.lowSeconds}-${p.highSeconds} s`, p.name]);
  lines.push(...table(['SECONDS', 'PHASE (longest path)'], phases));
  for (const note of estimate.notes) lines.push(`  Assumed: ${note}`);
  return lines;
}

/** The stacks one after another, as `cdk deploy --all` deploys them by default. */
function formatTotal(plan: Plan): string {
  const estimated = plan.stacks.filter((st) => st.estimate !== null && !st.nestedIn);
  const low = estimated.reduce((s, st) => s + st.estimate!.lowSeconds, 0);
  const high = estimated.reduce((s, st) => s + st.estimate!.highSeconds, 0);
  return `Deploy time of all ${estimated.length} stacks, one after another (cdk deploy --all deploys one stack at a time by default): ${minutes(low, high)} (model)`;
}

/** `2.5 to 6.1 min`, or seconds under two minutes. */
function minutes(low: number, high: number): string {
  if (high < 120) return `${Math.round(low)} to ${Math.round(high)} s`;
  return `${(low / 60).toFixed(1)} to ${(high / 60).toFixed(1)} min`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`;
  return [line(header), ...rows.map(line)];
}
