import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import * as ts from 'typescript';
import { changelog } from '../projenrc/changelog';
import { libraryModules, PLAN_CLI } from '../projenrc/package-contents';
import { OFFLINE_PACKAGES, ONLINE_PACKAGES } from '../src/plan/errors';

/**
 * The npm package holds what users run and nothing else (the rules: `.npmignore`, written from
 * `.projenrc.ts`). This packs the package as `npm publish` would and checks the file list, that
 * the library in `lib/` is whole and loads nothing it does not declare, and the size.
 *
 * It packs the build's output: `npx projen build` runs it after `pre-compile` (assets/, CHANGELOG.md,
 * yaml without its browser build) and `compile` (jsii, lib/ and .jsii). Alone:
 * `npx projen pre-compile && npx projen compile`, then `npx jest test/package.test.ts`.
 */
const root = path.join(__dirname, '..');

/**
 * Today: about 0.52 MB packed, 2.2 MB unpacked, 348 files (158 of them yaml's): the jsii assembly
 * (.jsii, 0.60 MB unpacked, which every jsii language binding and Construct Hub read), yaml (0.41 MB),
 * lib/ (0.94 MB; of the deploy-time job code only what the plan command runs), the runtime's bundle
 * (0.13 MB) and the README (0.11 MB). Before source maps left lib/ and the browser build left yaml:
 * 0.84 MB, 3.4 MB and 389 files.
 */
const MAX_PACKED_BYTES = 560_000;
const MAX_UNPACKED_BYTES = 2_500_000;
/** A deploy-time bundle with the AWS SDK in it would be megabytes: the SDK is the Lambda runtime's. */
const MAX_BUNDLE_BYTES = 500_000;

interface PackedFile {
  readonly path: string;
  readonly size: number;
}

interface Pack {
  readonly files: PackedFile[];
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
}

const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const bundled: string[] = manifest.bundledDependencies ?? [];
const declared = new Set<string>([
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}),
]);

const ALLOWED: RegExp[] = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^CHANGELOG\.md$/,
  /^\.jsii$/,
  /^lib\/(.+\/)?[^/]+\.(js|d\.ts)$/,
  /^assets\/.+/,
  ...bundled.map((name) => new RegExp(`^node_modules/${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/.+`)),
];

const FORBIDDEN: RegExp[] = [
  /^(src|test|examples|bench|scripts|rosetta|docs|projenrc|\.ci|\.github|\.projen|dist|cdk\.out|coverage|test-reports)\//,
  /^lib\/.*\.(lambda|edge-lambda|singleton-lambda|lambda-extension)\.(js|d\.ts)$/,
  /(^|\/)[^/]*\.test\.[jt]s$/,
  /^lib\/.*(?<!\.d)\.ts$/,
  /\.(snap|tsbuildinfo|tgz)$/,
  /^(\.projenrc\.ts|cdk\.json|tsconfig(\.dev)?\.json|\.jsii\.tabl\.json|\.eslintrc\.json|\.npmignore|\.gitignore|\.gitattributes)$/,
];

let pack: Pack;
let shipped: Set<string>;

beforeAll(() => {
  // GIVEN the build's output
  for (const needed of ['lib/index.js', 'lib/index.d.ts', '.jsii', 'assets', 'CHANGELOG.md']) {
    if (!fs.existsSync(path.join(root, needed))) {
      throw new Error(`${needed} does not exist: the package test packs the build's output; run it after \`npx projen pre-compile && npx projen compile\` (\`npx projen build\` does).`);
    }
  }
  if (fs.existsSync(path.join(root, 'node_modules', 'yaml', 'browser'))) {
    throw new Error('node_modules/yaml/browser exists (npm ci puts it back): the package test packs the build\'s output; run `npx projen pre-compile` first (`npx projen build` does).');
  }

  // WHEN it is packed as npm publish would
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  [pack] = JSON.parse(out) as Pack[];
  shipped = new Set(pack.files.map((f) => f.path));
});

describe('the npm package', () => {
  test('holds only allowed files, none forbidden', () => {
    const notAllowed = [...shipped].filter((f) => !ALLOWED.some((re) => re.test(f)));
    const forbidden = [...shipped].filter((f) => FORBIDDEN.some((re) => re.test(f)));
    expect({ notAllowed, forbidden }).toEqual({ notAllowed: [], forbidden: [] });
  });

  test('holds the assembly, the docs, the library entry point and the bundled dependencies', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', '.jsii', 'lib/index.js', 'lib/index.d.ts']) {
      expect({ f, shipped: shipped.has(f) }).toEqual({ f, shipped: true });
    }
    for (const name of bundled) {
      expect({ name, shipped: shipped.has(`node_modules/${name}/package.json`) }).toEqual({ name, shipped: true });
    }
    expect(bundles().length).toBeGreaterThan(0);
  });

  test('lib/ holds the .js and .d.ts of exactly the modules src/index.ts and the plan command reach (the rule in .projenrc.ts)', () => {
    const modules = [...new Set([...libraryModules(path.join(root, 'src')), ...libraryModules(path.join(root, 'src'), PLAN_CLI)])];
    const expected = modules.flatMap((m) => [`lib/${m}.d.ts`, `lib/${m}.js`]).sort();
    expect([...shipped].filter((f) => f.startsWith('lib/')).sort()).toEqual(expected);
  });

  test('lib/ is whole: what lib/index.js and the plan command require, transitively, is in the package', () => {
    const reached = new Set<string>();
    const missing: string[] = [];
    const pending = ['lib/index.js', `lib/${PLAN_CLI}.js`];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (reached.has(file)) {
        continue;
      }
      reached.add(file);
      for (const specifier of requiredBy(file).filter((s) => s.startsWith('.'))) {
        const target = resolveShipped(file, specifier, '.js');
        if (target) {
          pending.push(target);
        } else {
          missing.push(`${file} requires '${specifier}', which is not in the package`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(reached.size).toBeGreaterThan(10);
  });

  test('no file of the library loads a package the library does not declare (jsii libraries never load @aws-sdk/* or aws-lambda)', () => {
    const undeclared: string[] = [];
    for (const file of reachedFrom('lib/index.js')) {
      for (const specifier of requiredBy(file).filter((s) => !s.startsWith('.'))) {
        if (!isBuiltin(specifier) && !declared.has(packageName(specifier))) {
          undeclared.push(`${file} requires '${specifier}'`);
        }
      }
    }
    expect(undeclared).toEqual([]);
  });

  test('the plan command loads only what the library declares and the packages it names in its install line', () => {
    const optional = new Set([...OFFLINE_PACKAGES, ...ONLINE_PACKAGES]);
    const undeclared: string[] = [];
    for (const file of [...shipped].filter((f) => /^lib\/.+\.js$/.test(f))) {
      for (const specifier of requiredBy(file).filter((s) => !s.startsWith('.'))) {
        if (!isBuiltin(specifier) && !declared.has(packageName(specifier)) && !optional.has(packageName(specifier))) {
          undeclared.push(`${file} requires '${specifier}'`);
        }
      }
    }
    expect(undeclared).toEqual([]);
    // The SDK is loaded only in online mode: the entry point itself never requires it.
    expect(requiredBy(`lib/${PLAN_CLI}.js`).filter((s) => !s.startsWith('.') && !isBuiltin(s))).toEqual([]);
  });

  test('the bin entry is shipped with its shebang, and package.json names it', () => {
    expect(manifest.bin).toEqual({ 'cdk-immutable-deploys': `lib/${PLAN_CLI}.js` });
    expect(shipped.has(`lib/${PLAN_CLI}.js`)).toBe(true);
    expect(fs.readFileSync(path.join(root, `lib/${PLAN_CLI}.js`), 'utf8').split('\n')[0]).toEqual('#!/usr/bin/env node');
  });

  test('every .d.ts in lib/ refers only to shipped declarations', () => {
    const problems: string[] = [];
    for (const file of [...shipped].filter((f) => /^lib\/.+\.d\.ts$/.test(f))) {
      const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(root, file), 'utf8'), true, true);
      for (const { fileName } of importedFiles.filter((i) => i.fileName.startsWith('.'))) {
        if (!resolveShipped(file, fileName, '.d.ts')) {
          problems.push(`${file} imports '${fileName}', which is not in the package`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('ships no compiled copy of a deploy-time bundle, and every bundle the library points at', () => {
    // Each assets/<entry>/ is esbuild's bundle of src/<entry>.ts: lib/<entry>.js would be the same code twice.
    const duplicates = bundles().filter((dir) => shipped.has(`lib/${dir.slice('assets/'.length)}.js`));
    const missing: string[] = [];
    for (const file of [...shipped].filter((f) => /^lib\/.+\.js$/.test(f))) {
      for (const [, literal] of code(file).matchAll(/['"`](\.[^'"`\n]*\/assets\/[^'"`\n]+)['"`]/g)) {
        const dir = path.posix.join(path.posix.dirname(file), literal);
        if (!bundles().includes(dir)) {
          missing.push(`${file} points at ${dir}`);
        }
      }
    }
    expect({ duplicates, missing }).toEqual({ duplicates: [], missing: [] });
  });

  test('deploy-time bundles leave the AWS SDK to the Lambda runtime', () => {
    const problems: string[] = [];
    for (const f of pack.files.filter((p) => p.path.startsWith('assets/') && p.path.endsWith('.js'))) {
      if (f.size > MAX_BUNDLE_BYTES) {
        problems.push(`${f.path} is ${f.size} bytes (budget ${MAX_BUNDLE_BYTES})`);
      }
      // esbuild names each bundled module in a comment: `// node_modules/@aws-sdk/client-ec2/...`.
      if (/^\/\/ node_modules\/(@aws-sdk|@smithy)\//m.test(fs.readFileSync(path.join(root, f.path), 'utf8'))) {
        problems.push(`${f.path} bundles the AWS SDK`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('.npmignore has the `!.jsii` line jsii-pacmak looks for (else package:js rewrites it, a tracked file)', () => {
    expect(fs.readFileSync(path.join(root, '.npmignore'), 'utf8').split('\n')).toContain('!.jsii');
  });

  test('a stack trace names a file that ships: lib/ carries no source map (which would name src/*.ts, not shipped)', () => {
    const mapped = [...shipped].filter((f) => /^lib\/.+\.js$/.test(f))
      .filter((file) => /^\/\/# sourceMappingURL=/m.test(fs.readFileSync(path.join(root, file), 'utf8')));
    expect(mapped).toEqual([]);
    expect([...shipped].filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  test('bundles yaml as Node loads it (dist/), without its browser build', () => {
    expect(shipped.has('node_modules/yaml/dist/index.js')).toBe(true);
    expect([...shipped].filter((f) => f.startsWith('node_modules/yaml/browser/'))).toEqual([]);
  });

  test('package.json names the home page and where to report bugs; the changelog links every release\'s notes', () => {
    const repository = manifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    expect(manifest.homepage).toEqual(`${repository}#readme`);
    expect(manifest.bugs).toEqual({ url: `${repository}/issues` });
    expect(fs.readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8')).toContain(`${repository}/releases`);
  });

  test('in a release, the changelog carries the notes the bump wrote for its version; outside one, it says so', () => {
    const notes = '## [0.2.0](https://github.com/o/r/compare/v0.1.0...v0.2.0) (2027-01-04)\n\n### Features\n\n* a feature';
    expect(changelog('https://github.com/o/r/releases', notes)).toEqual(`# Changelog\n\nThe notes of every release: https://github.com/o/r/releases\n\n${notes}\n`);
    expect(changelog('https://github.com/o/r/releases', undefined)).toContain('not a release (version 0.0.0)');
  });

  test('stays within its size budget', () => {
    expect(pack.size).toBeLessThanOrEqual(MAX_PACKED_BYTES);
    expect(pack.unpackedSize).toBeLessThanOrEqual(MAX_UNPACKED_BYTES);
  });
});

/** The bundle directories under assets/ (each holds an index.js). */
function bundles(): string[] {
  return [...shipped].filter((f) => /^assets\/.+\/index\.js$/.test(f)).map((f) => path.posix.dirname(f));
}

/** A compiled file's code, without its inline source map. */
function code(file: string): string {
  return fs.readFileSync(path.join(root, file), 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
}

/** What a compiled CommonJS file loads: tsc writes every import as `require("...")`, and keeps a `require('...')` as written. */
function requiredBy(file: string): string[] {
  return [...code(file).matchAll(/\brequire\((["'])([^"']+)\1\)/g)].map((m) => m[2]);
}

/** The shipped .js files a file requires, transitively, itself included. */
function reachedFrom(entry: string): string[] {
  const reached = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (reached.has(file)) continue;
    reached.add(file);
    for (const specifier of requiredBy(file).filter((s) => s.startsWith('.'))) {
      const target = resolveShipped(file, specifier, '.js');
      if (target) pending.push(target);
    }
  }
  return [...reached];
}

/** `./x` from lib/a/b.js: lib/a/x.js, or lib/a/x/index.js, if it is in the package. */
function resolveShipped(from: string, specifier: string, ext: '.js' | '.d.ts'): string | undefined {
  const base = path.posix.join(path.posix.dirname(from), specifier.replace(/\.js$/, ''));
  return [`${base}${ext}`, `${base}/index${ext}`].find((candidate) => shipped.has(candidate));
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]);
}

/** `aws-cdk-lib/aws-ec2` is in aws-cdk-lib, `@scope/pkg/sub` in @scope/pkg. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
