/**
 * The plan as text (a table per stack) or as one JSON document.
 *
 * Internal to the plan command: never exported from the package.
 */
import type { Plan, StackPlan } from './plan';

/** Characters of a fingerprint in the table (`Fingerprint.short`). */
const SHORT = 16;

/**
 * The plan as one JSON document: `{ "mode", "stacks": [ { "name", "stackName", "account", "region",
 * "nestedIn", "change", "status", "readWith", "artifacts", "deployments", "permissionsBroadened",
 * "otherChanges", "notes" } ] }`.
 */
export function formatJson(plan: Plan): string {
  return `${JSON.stringify(plan, undefined, 2)}\n`;
}

/** The plan as a table per stack, for a person approving the deploy. */
export function formatTable(plan: Plan): string {
  const out: string[] = [];
  for (const stack of plan.stacks) out.push(...formatStack(stack), '');
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
  return lines;
}

function inputWords(inputs: string[]): string {
  if (inputs.length === 0) return '-';
  const shown = inputs.slice(0, INPUTS_SHOWN).join(', ');
  return inputs.length > INPUTS_SHOWN ? `${shown} and ${inputs.length - INPUTS_SHOWN} more` : shown;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`;
  return [line(header), ...rows.map(line)];
}
