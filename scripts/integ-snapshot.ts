/**
 * Writes the committed snapshot of integration apps: the manifests and templates of the cloud
 * assembly that each `test/integ.<name>.ts` synthesizes, in `test/integ.<name>.js.snapshot/`,
 * where integ-runner looks for it. `test/integ-snapshots.test.ts` synthesizes every app again on each test run
 * and fails when a template no longer matches its snapshot.
 *
 *   npx ts-node -P tsconfig.dev.json scripts/integ-snapshot.ts [test/integ.<name>.ts ...]
 *
 * With no argument, every integration app under test/ is written again.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..');

export function integApps(): string[] {
  return fs.readdirSync(path.join(root, 'test')).filter((f) => /^integ\..+\.ts$/.test(f)).sort().map((f) => path.join('test', f));
}

export function snapshotDir(app: string): string {
  return path.join(root, app.replace(/\.ts$/, '.js.snapshot'));
}

/**
 * The environment an integration app is synthesized in, for the snapshot and for its check:
 * construct creation stack traces are left out, since they differ between runners.
 */
export function synthEnv(outdir: string): Record<string, string> {
  return { CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:disable-stack-trace': true }) };
}

/** The files of a snapshot that are compared: each stack's template and the integ manifest. */
export function comparedFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.template.json') || f === 'integ.json').sort();
}

/**
 * A snapshot file's content as it is compared: integ-tests assertions carry a `salt` that
 * changes on every synthesis (it makes them run on every deployment), so it is left out.
 */
export function comparable(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'), (key, value) => (key === 'salt' ? undefined : value));
}

function main(args: string[]) {
  const apps = args.length > 0 ? args : integApps();
  for (const app of apps) {
    const out = snapshotDir(app);
    fs.rmSync(out, { recursive: true, force: true });
    execFileSync(path.join(root, 'node_modules/.bin/ts-node'), ['-P', 'tsconfig.dev.json', app], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...synthEnv(out) },
    });
    // Keep the manifests and templates. Asset directories (handler bundles, build contexts) are
    // content-addressed by the hashes the manifests already record; the tree is a debugging aid
    // that changes with every aws-cdk-lib release.
    for (const entry of fs.readdirSync(out)) {
      if (!entry.endsWith('.json') || entry === 'tree.json' || entry === 'validation-report.json') fs.rmSync(path.join(out, entry), { recursive: true, force: true });
    }
    process.stdout.write(`wrote ${path.relative(root, out)}\n`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2));
}
