/**
 * The deploy-time model of issue 28: how long a deploy takes, phase by phase, for five scenarios,
 * side by side for plain aws-cdk-lib, @cdklabs/deploy-time-build, this library before issue 28 and
 * this library now. A model, not a measurement: nothing here reaches AWS. The model and its constants
 * are the library's own (lib/plan/time/, the plan command's estimate uses them too); this file only
 * says what each variant and scenario runs.
 *
 * Run: `npx projen compile` (the library's lib/), then `npm --prefix bench run deploy-time`, or without
 * bench's dependencies: `npx tsc -p bench/tsconfig.json && node bench/dist/deploy-time.js`.
 * Writes out/deploy-time.md and out/deploy-time.json and prints the markdown.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as Constants from '../../lib/plan/time/constants';
import type * as Model from '../../lib/plan/time/model';
import type * as Scenarios from '../../lib/plan/time/scenarios';
import type * as TargetGroups from '../../lib/deployments/ecs/target-group-defaults';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'bench', 'out');

/* eslint-disable @typescript-eslint/no-require-imports */
const constants = require(path.join(ROOT, 'lib', 'plan', 'time', 'constants')) as typeof Constants;
const model = require(path.join(ROOT, 'lib', 'plan', 'time', 'model')) as typeof Model;
const targetGroups = require(path.join(ROOT, 'lib', 'deployments', 'ecs', 'target-group-defaults')) as typeof TargetGroups;
const scenarios = require(path.join(ROOT, 'lib', 'plan', 'time', 'scenarios')) as typeof Scenarios;
const { EXAMPLE_APP, EXAMPLE_BAKE, NODE_SERVICE, SCENARIOS, VARIANTS } = scenarios;

type VariantName = Scenarios.VariantName;
/* eslint-enable @typescript-eslint/no-require-imports */

type Span = Constants.Span;
type AppSteps = Model.AppSteps;
type PhasePath = Model.PhasePath;

// ---------------------------------------------------------------------------------------------
// Output

interface Result {
  readonly app: string;
  readonly scenario: string;
  readonly variant: VariantName;
  readonly estimate?: Model.DeployEstimate;
}

function minutes(seconds: number): string {
  return (seconds / 60).toFixed(1);
}

function cell(e: Model.DeployEstimate | undefined): string {
  if (!e) return 'n/a';
  const mid = model.middle(e);
  return `**${minutes(mid)}** (${minutes(e.low)}–${minutes(e.high)})`;
}

function servingCell(e: Model.DeployEstimate | undefined): string {
  if (!e?.serving) return e ? '–' : 'n/a';
  return `${minutes(model.middle(e.serving))} (${minutes(e.serving.low)}–${minutes(e.serving.high)})`;
}

function phaseTable(e: Model.DeployEstimate): string[] {
  const lines = ['| phase | seconds | basis |', '|---|---|---|'];
  for (const p of e.phases) lines.push(`| ${p.name} | ${p.low === p.high ? p.low : `${p.low}–${p.high}`} | ${p.basis} |`);
  lines.push(`| **total** | **${e.low}–${e.high}** (middle ${model.middle(e)}) | |`);
  return lines;
}

function run(): void {
  const results: Result[] = [];
  const md: string[] = [];
  for (const app of [NODE_SERVICE, EXAMPLE_APP]) {
    md.push(`### ${app.name}`, '');
    md.push(`Minutes from \`cdk deploy\` until it returns: the middle of the range, and the range. ${app === NODE_SERVICE ? 'The headline app.' : ''}`, '');
    md.push(`| scenario | ${VARIANTS.map((v) => v.title).join(' | ')} |`, `|---|${VARIANTS.map(() => '---').join('|')}|`);
    const serving: string[] = [];
    for (const scenario of SCENARIOS) {
      const row: string[] = [];
      const servingRow: string[] = [];
      for (const variant of VARIANTS) {
        const paths = scenario.run(variant.name, app);
        const estimate = paths ? model.deployEstimate(paths) : undefined;
        results.push({ app: app.name, scenario: scenario.id, variant: variant.name, estimate });
        row.push(cell(estimate));
        servingRow.push(servingCell(estimate));
      }
      md.push(`| ${scenario.title} | ${row.join(' | ')} |`);
      serving.push(`| ${scenario.title} | ${servingRow.join(' | ')} |`);
    }
    md.push('', 'Minutes until the new version takes traffic (the rest is draining and stopping the old one, and CloudFormation\'s bookkeeping):', '');
    md.push(`| scenario | ${VARIANTS.map((v) => v.title).join(' | ')} |`, `|---|${VARIANTS.map(() => '---').join('|')}|`, ...serving, '');
  }

  md.push('### The critical path of the headline scenario, phase by phase', '');
  for (const variant of VARIANTS) {
    const e = results.find((r) => r.app === NODE_SERVICE.name && r.scenario === 'one-line' && r.variant === variant.name)!.estimate!;
    md.push(`#### ${variant.title}`, '', ...phaseTable(e), '');
  }
  for (const variant of VARIANTS.filter((v) => v.name !== 'deploy-time-build')) {
    const e = results.find((r) => r.app === NODE_SERVICE.name && r.scenario === 'bake' && r.variant === variant.name)!.estimate!;
    if (variant.name === 'after') md.push('#### A change to a fleet\'s bake, this library now', '', ...phaseTable(e), '');
  }

  md.push('### Every constant and its source', '');
  md.push('| constant | seconds | source | what it is, and the basis |', '|---|---|---|---|');
  for (const [name, c] of Object.entries(constants.CONSTANTS)) {
    const range = c.low === c.high ? (c.low === 0 && (name === 'firstHealthCheck' || name === 'drain') ? 'a setting' : String(c.low)) : `${c.low}–${c.high}`;
    md.push(`| \`${name}\` | ${range} | ${c.kind} | ${c.what}. ${c.basis}${c.urls.length > 0 ? ` (${c.urls.map((u) => `<${u}>`).join(', ')})` : ''} |`);
  }
  md.push('', '| setting | value | source |', '|---|---|---|');
  md.push(`| ALB health-check interval | ${constants.AWS_DEFAULTS.healthCheckIntervalSeconds} s | aws-default (ELB: target group health checks) |`);
  md.push(`| ALB deregistration delay | ${constants.AWS_DEFAULTS.deregistrationDelaySeconds} s | aws-default (ELB: target group attributes) |`);
  md.push(`| Fargate container stop timeout | ${constants.AWS_DEFAULTS.stopTimeoutSeconds} s | aws-default (ECS: ContainerDefinition stopTimeout) |`);
  md.push(`| this library's target group: interval, healthy threshold, failures before unhealthy, deregistration delay | ${targetGroups.TARGET_GROUP_DEFAULTS.healthCheckIntervalSeconds} s, ${targetGroups.TARGET_GROUP_DEFAULTS.healthyThresholdCount}, ${targetGroups.TARGET_GROUP_DEFAULTS.unhealthyAfterSeconds} s, ${targetGroups.TARGET_GROUP_DEFAULTS.deregistrationDelaySeconds} s | library (src/deployments/ecs/target-group-defaults.ts) |`);
  for (const app of [NODE_SERVICE, EXAMPLE_APP]) {
    const steps = (['basePull', 'dependencies', 'dependencyLayers', 'change', 'finalStage', 'pushChanged', 'pushAll', 'pushChangedRemote', 'pushAllRemote', 'start', 'stop'] as const)
      .map((k) => `${k} ${app[k].low}–${app[k].high}`).join(', ');
    md.push(`| ${app.name}, seconds | ${steps} | app (assumed for the reference app) |`);
  }
  md.push(`| the example's bake: steps, test steps, nginx start | ${EXAMPLE_BAKE.steps.low}–${EXAMPLE_BAKE.steps.high}, ${EXAMPLE_BAKE.testSteps.low}–${EXAMPLE_BAKE.testSteps.high}, ${EXAMPLE_BAKE.appStart.low}–${EXAMPLE_BAKE.appStart.high} | app (assumed) |`);

  const text = md.join('\n') + '\n';
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'deploy-time.md'), text);
  fs.writeFileSync(path.join(OUT, 'deploy-time.json'), JSON.stringify({ kind: 'model', results, constants: constants.CONSTANTS }, undefined, 2) + '\n');
  process.stdout.write(text);
}

run();
