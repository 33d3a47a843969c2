/**
 * The plan as text (a table per stack) or as one JSON document.
 *
 * Internal to the plan command: never exported from the package.
 */
import type { Plan, StackPlan } from './plan';

/** Characters of a fingerprint in the table (`Fingerprint.short`). */
const SHORT = 16;

/** The plan as one JSON document: `{ "stacks": [ { "name", "artifacts", "deployments", "permissionsBroadened", "otherChanges" } ] }`. */
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

function formatStack(stack: StackPlan): string[] {
  const lines = [`Stack ${stack.name}`];
  lines.push('Artifacts');
  if (stack.artifacts.length === 0) lines.push('  (none)');
  else lines.push(...table(['PATH', 'KIND', 'FINGERPRINT', 'CHANGE'], stack.artifacts.map((a) => [a.path, a.kind, a.fingerprint.slice(0, SHORT), a.change])));
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

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`;
  return [line(header), ...rows.map(line)];
}
