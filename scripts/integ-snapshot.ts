/**
 * Writes the committed snapshot of integration apps: the cloud assembly that each
 * `test/integ.<name>.ts` synthesizes, in `test/integ.<name>.js.snapshot/`, where integ-runner
 * looks for it. `test/integ-snapshots.test.ts` synthesizes every app again on each test run
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

function main(args: string[]) {
  const apps = args.length > 0 ? args : integApps();
  for (const app of apps) {
    const out = snapshotDir(app);
    fs.rmSync(out, { recursive: true, force: true });
    execFileSync(path.join(root, 'node_modules/.bin/ts-node'), ['-P', 'tsconfig.dev.json', app], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, CDK_OUTDIR: out },
    });
    // The tree is a debugging aid that changes with every aws-cdk-lib release: leave it out of the snapshot.
    fs.rmSync(path.join(out, 'tree.json'), { force: true });
    process.stdout.write(`wrote ${path.relative(root, out)}\n`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2));
}
