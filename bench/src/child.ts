/**
 * One measurement in a fresh Node.js process: `node child.js <variant> <n> <outdir>`.
 * Loads the variant (and with it what it imports), builds its app, synthesizes it into `outdir` and
 * prints one line `BENCH_RESULT {...}` with the phases' times and the process's peak RSS.
 * aws-cdk-lib's template validation runs unless CDK_VALIDATION=false, as in any `cdk synth`.
 */
import { performance } from 'perf_hooks';
import type { VariantModule } from './common';

function main(): void {
  const [variantName, nText, outdir] = process.argv.slice(2);
  const n = Number(nText);
  const startMs = performance.now(); // time since the process started: Node.js's own start-up
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const variant: VariantModule = require(`./variants/${variantName}`);
  const loadedMs = performance.now();
  const result: { [name: string]: unknown } = { variant: variantName, n, startupMs: startMs };
  if (variant.measure) {
    Object.assign(result, variant.measure());
  } else if (variant.build) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cdk: typeof import('aws-cdk-lib') = require('aws-cdk-lib');
    const app = new cdk.App({
      outdir,
      // Count every resource: the 500-resource check would stop the synths that the counts are about.
      context: { '@aws-cdk/core:stackResourceLimit': 0 },
    });
    const stack = new cdk.Stack(app, 'Bench');
    variant.build(stack, n);
    const constructedMs = performance.now();
    app.synth();
    const synthesizedMs = performance.now();
    Object.assign(result, {
      loadMs: loadedMs - startMs,
      constructMs: constructedMs - loadedMs,
      synthMs: synthesizedMs - constructedMs,
      totalMs: synthesizedMs,
    });
  }
  result.maxRssKb = process.resourceUsage().maxRSS;
  process.stdout.write(`\nBENCH_RESULT ${JSON.stringify(result)}\n`);
}

main();
