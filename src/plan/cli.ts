#!/usr/bin/env node
/**
 * `cdk-immutable-deploys plan`: before a deploy, which artifacts are built or reused and which fleets
 * and services are replaced, by which strategy.
 *
 *   cdk-immutable-deploys plan BEFORE AFTER   two cloud assemblies, no AWS account
 *   cdk-immutable-deploys plan [AFTER]        against the accounts the stacks deploy to (AFTER: cdk.out)
 *
 * Exit codes: 0 the plan was made (and no --fail-on check tripped), 1 an error, 2 a --fail-on check tripped.
 *
 * Internal: the package's `bin`, never exported from the package.
 */
import type { AssemblyStack } from './assembly';
import { defaultAssembly, readAssembly } from './assembly';
import { OFFLINE_PACKAGES, ONLINE_PACKAGES, PlanError, requireInstalled } from './errors';
import { formatJson, formatTable } from './format';
import { offline } from './offline';
import type * as onlineModule from './online';
import { Deployed, Gate, GATES, plan, tripped } from './plan';

/** Where the command writes. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const USAGE = `Usage: cdk-immutable-deploys plan [[BEFORE] AFTER] [--json] [--fail-on replace|build|broaden]...

  BEFORE, AFTER   cloud assemblies (the output of 'cdk synth'); AFTER is cdk.out (or the output
                  of cdk.json) when left out. Stages and nested stacks are included. Without
                  BEFORE, AFTER is compared with the stacks deployed in each stack's account,
                  read as 'cdk diff' reads them (the bootstrap lookup role, or the current
                  credentials when they are of that account).
  --json          print the plan as one JSON document
  --fail-on X     exit with code 2 when a deployment is replaced (replace), an artifact is built
                  (build) or IAM permissions broaden (broaden), or a stack could not be planned;
                  repeat it or list with commas
`;

/** Exit codes. */
export const EXIT = { OK: 0, ERROR: 1, TRIPPED: 2 };

interface Options {
  readonly before?: string;
  readonly after: string;
  readonly json: boolean;
  readonly failOn: Gate[];
}

/**
 * Runs the command.
 *
 * @param args the arguments after the program name (`plan ...`)
 * @param io where to write
 * @returns the exit code
 */
export async function main(args: string[], io: Io): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseArgs(args);
    if (!options) {
      io.stdout(USAGE);
      return EXIT.OK;
    }
    const result = await plan(readAssembly(options.after), deployedFor(options));
    io.stdout(options.json ? formatJson(result) : formatTable(result));
    const reasons = tripped(result, options.failOn);
    if (reasons.length > 0) {
      io.stderr(`--fail-on ${options.failOn.join(',')}:\n${reasons.map((r) => `  ${r}`).join('\n')}\n`);
      return EXIT.TRIPPED;
    }
    return EXIT.OK;
  } catch (e) {
    if (e instanceof PlanError) {
      io.stderr(`cdk-immutable-deploys plan: ${e.message}\n`);
      if (/^(unknown|missing|too many)/.test(e.message)) io.stderr(USAGE);
      return EXIT.ERROR;
    }
    io.stderr(`cdk-immutable-deploys plan failed: ${(e as Error).stack ?? e}\n`);
    return EXIT.ERROR;
  }
}

function deployedFor(options: Options): Deployed {
  if (options.before !== undefined) {
    requireInstalled(OFFLINE_PACKAGES, 'cdk-immutable-deploys plan BEFORE AFTER');
    const before: AssemblyStack[] = readAssembly(options.before);
    return offline(before);
  }
  requireInstalled([...OFFLINE_PACKAGES, ...ONLINE_PACKAGES], 'cdk-immutable-deploys plan AFTER (online)');
  // Loaded only now: it imports the AWS SDK clients.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { online } = require('./online') as typeof onlineModule;
  return online();
}

function parseArgs(args: string[]): Options | undefined {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) return undefined;
  const [command, ...rest] = args;
  if (command !== 'plan') throw new PlanError(`unknown command '${command}': the command is 'plan'.`);
  const positional: string[] = [];
  const failOn: Gate[] = [];
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--json') {
      json = true;
    } else if (arg === '--fail-on' || arg.startsWith('--fail-on=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : rest[++i];
      if (value === undefined) throw new PlanError(`missing value of --fail-on: pass one of ${GATES.join(', ')}.`);
      for (const gate of value.split(',').map((g) => g.trim()).filter((g) => g)) {
        if (!GATES.includes(gate as Gate)) throw new PlanError(`unknown --fail-on value '${gate}': pass one of ${GATES.join(', ')}.`);
        if (!failOn.includes(gate as Gate)) failOn.push(gate as Gate);
      }
    } else if (arg.startsWith('-')) {
      throw new PlanError(`unknown option '${arg}'.`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length === 0) positional.push(defaultAssembly());
  if (positional.length > 2) throw new PlanError(`too many arguments (${positional.join(' ')}): pass BEFORE AFTER, or AFTER alone.`);
  return positional.length === 2 ? { before: positional[0], after: positional[1], json, failOn } : { after: positional[0], json, failOn };
}

/* istanbul ignore next: the bin entry point (tests call main) */
if (require.main === module) {
  // Diagnostics of the shared lookups (console.log in the runtime's code) go to stderr, never into --json.
  console.log = (...parts: unknown[]) => console.error(...parts);
  main(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) })
    .then((code) => { process.exitCode = code; })
    .catch((e) => { console.error(e); process.exitCode = EXIT.ERROR; });
}
