import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/**
 * Suffixes of the deploy-time entry points projen bundles with esbuild into `assets/` (its
 * `.lambda.ts` family: `awscdk/internal.ts` in projen). Their compiled copies in `lib/` are never
 * what a user runs.
 */
export const HANDLER_SUFFIXES = ['.lambda', '.edge-lambda', '.singleton-lambda', '.lambda-extension'];

/** The plan command's entry point (the package's `bin`), relative to `src/` without extension. */
export const PLAN_CLI = 'plan/cli';

/**
 * The modules of the library: every `.ts` file under `srcDir` that `entry` reaches through its
 * `import`, `import type` and `export ... from` declarations, transitively, as paths relative to
 * `srcDir` without extension (`artifacts/ami/ami-bake`).
 *
 * Type-only edges count: a shipped `.d.ts` names the module it imports types from, so that
 * module's `.d.ts` must ship too. A handler entry point (`HANDLER_SUFFIXES`) is never part of the
 * library, even when reached: jsii libraries must not load `@aws-sdk/*` or `aws-lambda`.
 */
export function libraryModules(srcDir: string, entry = 'index'): string[] {
  const reached = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const module = pending.pop()!;
    if (reached.has(module) || isHandler(module)) {
      continue;
    }
    const file = path.join(srcDir, `${module}.ts`);
    if (!fs.existsSync(file)) {
      throw new Error(`libraryModules: '${file}' is imported but does not exist.`);
    }
    reached.add(module);
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, false);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) {
        pending.push(resolveRelative(srcDir, module, fileName));
      }
    }
  }
  return [...reached].sort();
}

function isHandler(module: string): boolean {
  return HANDLER_SUFFIXES.some(suffix => module.endsWith(suffix));
}

/** `./x` from `a/b` is `a/x`; `./dir` is `a/dir/index` when `dir` is a folder. */
function resolveRelative(srcDir: string, from: string, specifier: string): string {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier.replace(/\.(js|ts)$/, '')));
  if (fs.existsSync(path.join(srcDir, `${target}.ts`))) {
    return target;
  }
  if (fs.existsSync(path.join(srcDir, target, 'index.ts'))) {
    return `${target}/index`;
  }
  throw new Error(`libraryModules: '${specifier}' imported by '${from}.ts' resolves to no file under '${srcDir}'.`);
}
