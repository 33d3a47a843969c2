/**
 * The benchmark, in one run: `npm --prefix bench ci && npm --prefix bench run bench` (after the library
 * is built with `npx projen compile` and `npx projen bundle`).
 *
 * Every synth runs in a fresh Node.js process (child.ts). Variants are interleaved (A B C A B C ...)
 * after a warm-up; times are medians over the rounds, counts come from the synthesized templates.
 * Writes out/results.json and out/results.md and prints the tables.
 *
 * Environment: BENCH_ROUNDS (default 5, at least 5 for a result worth writing down); BENCH_SIZES
 * (default "1,10,50"), smaller only to try the script; BENCH_SECTIONS (default all of
 * "synthesis,context,single,bundles,bounds"), to run some sections again.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as zlib from 'zlib';
import { analyze, AssemblyCounts, sizeOf } from './analyze';
import { BOUND_FAMILY_ENV, CONTEXT_ENV, CONTEXTS_ENV, HANDLER_ENV, REPLAY_ENV } from './common';
import { FrameLabel, summarize } from './cpuprofile';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SIZES = (process.env.BENCH_SIZES ?? '1,10,50').split(',').map(Number);
const RESOURCE_QUOTA = 500;
const BENCH_DIR = path.resolve(__dirname, '..');
const ROOT = path.resolve(BENCH_DIR, '..');
const OUT = path.join(BENCH_DIR, 'out');
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'synthesis,context,single,bundles,bounds').split(','));

interface Family {
  readonly name: string;
  /** The first variant is the floor. */
  readonly variants: string[];
}

const FAMILIES: Family[] = [
  { name: 'containers', variants: ['containers-floor', 'containers-deploy-time-build', 'containers-library'] },
  { name: 'fleets', variants: ['fleets-floor', 'fleets-imagebuilder-alpha', 'fleets-cdk-ami-builder', 'fleets-library'] },
];

const CONTEXT_VARIANTS = ['context-docker-image-asset', 'context-deploy-time-build', 'context-library'];

// ---------------------------------------------------------------------------------------------
// Processes

interface ChildResult {
  readonly wallMs: number;
  readonly exitCode: number;
  readonly metrics: { [name: string]: number };
  readonly outdir: string;
}

let tmpRoot = '';
let runs = 0;

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function parseResult(stdout: string): { [name: string]: number } | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  return line ? JSON.parse(line.slice('BENCH_RESULT '.length)) : undefined;
}

/** Runs one synth (or measurement) of `variant` in a fresh process; the caller removes `outdir`. */
function child(variant: string, n: number, options: { validation: boolean; env?: NodeJS.ProcessEnv; nodeArgs?: string[] }): ChildResult {
  const outdir = path.join(tmpRoot, `cdk.out.${++runs}`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.validation) delete env.CDK_VALIDATION;
  else env.CDK_VALIDATION = 'false';
  const start = performance.now();
  const proc = spawnSync(process.execPath, [...(options.nodeArgs ?? []), path.join(__dirname, 'child.js'), variant, String(n), outdir], {
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const wallMs = performance.now() - start;
  const metrics = parseResult(proc.stdout ?? '');
  if (!metrics) {
    throw new Error(`${variant} (N=${n}) failed with exit code ${proc.status}:\n${(proc.stderr ?? '').split('\n').slice(-30).join('\n')}`);
  }
  return { wallMs, exitCode: proc.status ?? -1, metrics, outdir };
}

function rm(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Inputs generated at run time (never committed)

function writeSmallContexts(root: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, `ctx-${i}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/nginx/nginx:1.27\nCOPY index.html /usr/share/nginx/html/\n');
    fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html><title>service ${i}</title><h1>service ${i}</h1>\n`);
  }
}

const MiB = 1024 * 1024;

/** A build context with `countedMiB` of sources and `ignoredMiB` under data/, which its .dockerignore excludes. Random bytes: nothing compresses. */
function writeLargeContext(dir: string, countedMiB: number, ignoredMiB: number): void {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/node:22-slim\nCOPY src/ /app/\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), '# test data, never part of the image\ndata\n*.log\n');
  for (let i = 0; i < countedMiB; i++) fs.writeFileSync(path.join(dir, 'src', `part-${i}.bin`), crypto.randomBytes(MiB));
  if (ignoredMiB > 0) {
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    for (let i = 0; i < ignoredMiB / 10; i++) fs.writeFileSync(path.join(dir, 'data', `blob-${i}.bin`), crypto.randomBytes(10 * MiB));
  }
}

// ---------------------------------------------------------------------------------------------
// Preflight: the library is built, and everything loads one aws-cdk-lib

interface Versions {
  readonly [pkg: string]: string;
}

function preflight(): Versions {
  if (!fs.existsSync(path.join(ROOT, 'lib', 'index.js'))) {
    throw new Error(`${ROOT}/lib/index.js is missing: build the library first (npx projen compile && npx projen bundle).`);
  }
  if (bundles().length === 0) {
    throw new Error(`no handler bundles under ${ROOT}/assets: run npx projen bundle first.`);
  }
  const fromBench = createRequire(path.join(__dirname, 'run.js'));
  const cdkLib = fromBench.resolve('aws-cdk-lib');
  const fromLibrary = createRequire(path.join(ROOT, 'lib', 'index.js')).resolve('aws-cdk-lib');
  const versions: { [pkg: string]: string } = {
    'node': process.version,
    'aws-cdk-lib': fromBench('aws-cdk-lib/package.json').version,
    'constructs': fromBench('constructs/package.json').version,
    'cdk-immutable-deploys': JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
  };
  const checks: { [who: string]: string } = { 'cdk-immutable-deploys (lib/)': fromLibrary };
  for (const pkg of ['@cdklabs/deploy-time-build', '@aws-cdk/aws-imagebuilder-alpha', '@jjrawlins/cdk-ami-builder']) {
    const main = fromBench.resolve(pkg);
    versions[pkg] = fromBench(`${pkg}/package.json`).version;
    checks[pkg] = createRequire(main).resolve('aws-cdk-lib');
  }
  const other = Object.entries(checks).filter(([, p]) => p !== cdkLib);
  if (other.length > 0) {
    throw new Error(`every variant must load the same aws-cdk-lib (${cdkLib}); these load another: ${other.map(([w, p]) => `${w}: ${p}`).join(', ')}. Keep bench/.npmrc (legacy-peer-deps) and run npm ci in bench/.`);
  }
  const rootWanted = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).devDependencies?.['aws-cdk-lib'];
  versions['aws-cdk-lib (library devDependency)'] = rootWanted;
  return versions;
}

// ---------------------------------------------------------------------------------------------
// 1. Synthesis: containers and fleets, N = 1, 10, 50, validation on and off

interface Samples {
  wallMs: number[];
  inProcessMs: number[];
  loadMs: number[];
  maxRssKb: number[];
  exitCodes: number[];
}

type SynthKey = `${string}|${number}|${'on' | 'off'}`;

function synthesis(): { samples: { [key: SynthKey]: Samples }; counts: { [variantAndN: string]: AssemblyCounts } } {
  const samples: { [key: SynthKey]: Samples } = {};
  const counts: { [variantAndN: string]: AssemblyCounts } = {};
  const variants = FAMILIES.flatMap((f) => f.variants);
  const env = { [CONTEXTS_ENV]: path.join(tmpRoot, 'contexts') };

  log(`warm-up: every variant once at N=1, validation on and off (discarded)`);
  for (const validation of [true, false]) {
    for (const v of variants) rm(child(v, 1, { validation, env }).outdir);
  }

  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (const n of SIZES) {
      for (const mode of ['on', 'off'] as const) {
        for (const v of variants) {
          const r = child(v, n, { validation: mode === 'on', env });
          const key: SynthKey = `${v}|${n}|${mode}`;
          const s = (samples[key] ??= { wallMs: [], inProcessMs: [], loadMs: [], maxRssKb: [], exitCodes: [] });
          s.wallMs.push(r.wallMs);
          s.inProcessMs.push(r.metrics.constructMs + r.metrics.synthMs);
          s.loadMs.push(r.metrics.loadMs);
          s.maxRssKb.push(r.metrics.maxRssKb);
          s.exitCodes.push(r.exitCode);
          if (round === 0 && mode === 'off') counts[`${v}|${n}`] = analyze(r.outdir);
          rm(r.outdir);
        }
      }
    }
    log(`synthesis round ${round + 1}/${ROUNDS} took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return { samples, counts };
}

// ---------------------------------------------------------------------------------------------
// 2. The largest N under the resource quota: a bracketing search, every probe a real synth

interface Bisection {
  readonly largestN: number;
  readonly probes: { n: number; resources: number }[];
}

function largestUnderQuota(variant: string, known: { [n: number]: number }): Bisection {
  const env = { [CONTEXTS_ENV]: path.join(tmpRoot, 'contexts') };
  const probes: { n: number; resources: number }[] = [];
  const resourcesAt = (n: number): number => {
    if (known[n] !== undefined) return known[n];
    if (n > contextsWritten) {
      writeSmallContexts(path.join(tmpRoot, 'contexts'), n);
      contextsWritten = n;
    }
    const r = child(variant, n, { validation: false, env });
    const resources = analyze(r.outdir).resources;
    rm(r.outdir);
    known[n] = resources;
    probes.push({ n, resources });
    return resources;
  };
  // lo fits, hi does not.
  let lo = 0;
  let hi = Infinity;
  for (const [n, r] of Object.entries(known).map(([n, r]) => [Number(n), r] as const)) {
    if (r <= RESOURCE_QUOTA) lo = Math.max(lo, n);
    else hi = Math.min(hi, n);
  }
  // Resources grow about linearly with N: the stack's fixed part plus a slope per artifact.
  const slope = Math.max(slopeOf(known), 1e-9);
  const smallest = Math.min(...Object.keys(known).map(Number));
  const fixed = known[smallest] - slope * smallest;
  while (hi === Infinity) {
    // Extrapolate from what was measured, then check.
    const guess = Math.max(lo + 1, Math.floor((RESOURCE_QUOTA - fixed) / slope));
    const n = Math.min(guess, lo * 4 + 10);
    if (resourcesAt(n) <= RESOURCE_QUOTA) lo = n;
    else hi = n;
  }
  while (hi - lo > 1) {
    // Interpolate between the bracket's ends (exact when resources grow linearly with N), then halve if that does not shrink it.
    const rLo = lo === 0 ? fixed : resourcesAt(lo);
    const rHi = resourcesAt(hi);
    let n = lo + Math.floor(((RESOURCE_QUOTA - rLo) * (hi - lo)) / Math.max(rHi - rLo, 1));
    if (n <= lo || n >= hi) n = Math.floor((lo + hi) / 2);
    if (resourcesAt(n) <= RESOURCE_QUOTA) {
      lo = n;
      if (n + 1 < hi && resourcesAt(n + 1) > RESOURCE_QUOTA) hi = n + 1;
    } else {
      hi = n;
    }
  }
  return { largestN: lo, probes };
}

function slopeOf(known: { [n: number]: number }): number {
  const ns = Object.keys(known).map(Number).sort((a, b) => a - b);
  const a = ns[0];
  const b = ns[ns.length - 1];
  return b > a ? (known[b] - known[a]) / (b - a) : 1;
}

let contextsWritten = 0;

// ---------------------------------------------------------------------------------------------
// 3. Large build context

interface ContextRow {
  fingerprintMs: number[];
  wallMs: { [variant: string]: number[] };
  inProcessMs: { [variant: string]: number[] };
  stagedBytes: { [variant: string]: number };
  /** Staged bytes when the .dockerignore names the directory Docker's other way, `data/` (one synth each). */
  stagedBytesSlash: { [variant: string]: number };
}

function largeContext(): { big: ContextRow; small: ContextRow; sizes: { [name: string]: number } } {
  const big = path.join(tmpRoot, 'context-300');
  const small = path.join(tmpRoot, 'context-10');
  log('writing a 300 MiB build context (290 MiB excluded by its .dockerignore) and a 10 MiB one');
  writeLargeContext(big, 10, 290);
  writeLargeContext(small, 10, 0);
  const rows = { big: emptyContextRow(), small: emptyContextRow() };
  const dirs = { big, small };
  for (let round = -1; round < ROUNDS; round++) {
    for (const which of ['big', 'small'] as const) {
      const env = { [CONTEXT_ENV]: dirs[which] };
      const fp = child('context-fingerprint', 1, { validation: false, env });
      rm(fp.outdir);
      if (round >= 0) rows[which].fingerprintMs.push(fp.metrics.fingerprintMs);
      for (const v of CONTEXT_VARIANTS) {
        const r = child(v, 1, { validation: false, env });
        if (round >= 0) {
          (rows[which].wallMs[v] ??= []).push(r.wallMs);
          (rows[which].inProcessMs[v] ??= []).push(r.metrics.constructMs + r.metrics.synthMs);
          if (round === 0) rows[which].stagedBytes[v] = contextBytes(r.outdir);
        }
        rm(r.outdir);
      }
    }
  }
  // The same ignore rule written with a trailing slash, which Docker reads the same way.
  fs.writeFileSync(path.join(big, '.dockerignore'), '# test data, never part of the image\ndata/\n*.log\n');
  for (const v of CONTEXT_VARIANTS) {
    const r = child(v, 1, { validation: false, env: { [CONTEXT_ENV]: big } });
    rows.big.stagedBytesSlash[v] = contextBytes(r.outdir);
    rm(r.outdir);
  }
  const sizes = { big: sizeOf(big), small: sizeOf(small) };
  rm(big);
  rm(small);
  return { ...rows, sizes };
}

/** Bytes staged in the assembly that are not Lambda code: the build context. */
function contextBytes(outdir: string): number {
  const counts = analyze(outdir);
  return counts.stagedAssetBytes - counts.lambdaCodeBytes;
}

function emptyContextRow(): ContextRow {
  return { fingerprintMs: [], wallMs: {}, inProcessMs: {}, stagedBytes: {}, stagedBytesSlash: {} };
}

// ---------------------------------------------------------------------------------------------
// 4. One ContainerImageBuild against one DockerImageAsset on a 2-file context, and where the time goes

/** Modules whose first require (in a fresh process, with what they require in turn) the single-artifact section times. */
// (aws-cdk-lib's own modules are left out: their exports load lazily, on first use of a class, so
// their cost shows in the construct column, not here.)
const MODULES = [
  'yaml',
  './artifacts/container/index.js',
  './index.js',
];

interface SingleResult {
  readonly modulesMs: { [specifier: string]: number[] };
  readonly samples: { [variant: string]: { loadMs: number[]; constructMs: number[]; synthMs: number[]; wallMs: number[] } };
  readonly profile: { [variant: string]: { inclusiveMs: { [label: string]: number }; selfByModuleMs: { [module: string]: number }; totalMs: number } };
}

const PROFILE_LABELS: { [label: string]: FrameLabel } = {
  'whole process (profiled)': () => true,
  'import of the library (lib/index.js and what it requires)': (fn, url) => fn === 'library' && url.endsWith('/bench/dist/common.js'),
  'construct (variant build)': (fn, url) => fn === 'build' && url.includes('/bench/dist/variants/'),
  'ContainerImageBuild constructor': (fn, url) => fn === 'ContainerImageBuild' && url.includes('/lib/artifacts/container/'),
  '  s3-assets.Asset of the context': (fn, url) => fn === 'Asset' && url.includes('aws-s3-assets'),
  '    Bucket.fromBucketAttributes (first load of aws-cdk-lib/region-info)': (fn, url) => fn === 'fromBucketAttributes' && url.includes('aws-s3'),
  '    AssetStaging (copy into cdk.out)': (fn, url) => fn === 'AssetStaging' && url.includes('asset-staging'),
  '  Fingerprint.ofDirectory': (fn, url) => fn === 'ofDirectory' && url.includes('/lib/fingerprint/'),
  '  per-stack runtime (ContainerBuildRuntime)': (fn, url) => fn === 'ContainerBuildRuntime' && url.includes('/lib/artifacts/container/'),
  '    handler functions (2 SingletonFunctions)': (fn, url) => /^Build(Status)?Function$/.test(fn) && url.includes('/lib/artifacts/container/'),
  '    custom-resources Provider (framework functions, state machine)': (fn, url) => /^Provider2?$/.test(fn) && url.includes('provider-framework'),
  '  CodeBuild project (projectFor)': (fn, url) => fn === 'projectFor' && url.includes('/lib/artifacts/container/'),
  'DockerImageAsset constructor': (fn, url) => /^DockerImageAsset2?$/.test(fn) && url.includes('aws-ecr-assets'),
  'app.synth()': (fn, url) => fn === 'synth' && url.endsWith('/core/lib/app.js'),
  'module loading inside the measured code (a require below main)': { within: (fn, url) => fn === 'main' && url.endsWith('/bench/dist/child.js'), test: (fn) => fn === 'require' },
};

/** The single-artifact variants: the two the issue compares first, then the experiments that split the difference. */
const SINGLE_VARIANTS = [
  'context-docker-image-asset',
  'context-library',
  'context-library-container-module',
  'context-s3-asset',
  'context-function-only',
  'context-function-then-docker-image-asset',
  'context-function-then-library',
  'runtime-provider',
  'runtime-one-function',
];

function single(): SingleResult {
  const handler = path.join(tmpRoot, 'handler');
  fs.mkdirSync(handler, { recursive: true });
  fs.writeFileSync(path.join(handler, 'index.js'), 'exports.handler = async () => ({ ok: true });\n');
  const env = { [CONTEXT_ENV]: path.join(tmpRoot, 'contexts', 'ctx-0'), [HANDLER_ENV]: handler };
  const variants = SINGLE_VARIANTS;
  const samples: SingleResult['samples'] = {};
  const rounds = Math.max(ROUNDS, 9);
  // The split rows reach into the library's layout (lib/artifacts/container): when it changes, they
  // are left out rather than failing the run.
  const skipped = new Set<string>();
  for (let round = -1; round < rounds; round++) {
    for (const v of variants) {
      if (skipped.has(v)) continue;
      let r: ChildResult;
      try {
        r = child(v, 1, { validation: false, env });
      } catch (e) {
        if (v === variants[0] || v === variants[1]) throw e;
        log(`leaving out ${v}: ${(e as Error).message.split('\n')[0]}`);
        skipped.add(v);
        continue;
      }
      rm(r.outdir);
      if (round < 0) continue;
      const s = (samples[v] ??= { loadMs: [], constructMs: [], synthMs: [], wallMs: [] });
      s.loadMs.push(r.metrics.loadMs);
      s.constructMs.push(r.metrics.constructMs);
      s.synthMs.push(r.metrics.synthMs);
      s.wallMs.push(r.wallMs);
    }
  }
  // First require of each module, resolved as the library resolves it.
  const modulesMs: { [specifier: string]: number[] } = {};
  const from = path.join(ROOT, 'lib', 'index.js');
  for (let round = -1; round < ROUNDS; round++) {
    for (const m of MODULES) {
      const proc = spawnSync(process.execPath, [path.join(__dirname, 'import-child.js'), from, m], { encoding: 'utf8' });
      const result = parseResult(proc.stdout ?? '');
      if (!result) {
        if (round < 0) log(`leaving out the import of ${m}: ${(proc.stderr ?? '').split('\n').find((l) => l.includes('Error')) ?? 'failed'}`);
        continue;
      }
      if (round >= 0) (modulesMs[m] ??= []).push(result.importMs);
    }
  }
  const profile: SingleResult['profile'] = {};
  for (const v of variants.slice(0, 2)) {
    const dir = path.join(tmpRoot, `profile-${v}`);
    const r = child(v, 1, { validation: false, env, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'] });
    rm(r.outdir);
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
    fs.mkdirSync(OUT, { recursive: true });
    fs.copyFileSync(path.join(dir, file), path.join(OUT, `${v}.cpuprofile`));
    profile[v] = summarize(path.join(dir, file), PROFILE_LABELS);
  }
  return { modulesMs, samples, profile };
}

// ---------------------------------------------------------------------------------------------
// 5. Handler bundles: bytes, and cold-start import time against the SDK clients they import

function bundles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name === 'index.js') found.push(p);
    }
  };
  walk(path.join(ROOT, 'assets'));
  return found.sort();
}

interface BundleRow {
  readonly bundle: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sdkClients: string[];
  readonly importMs: number[];
  readonly sdkOnlyMs: number[];
  readonly exportsHandler: boolean;
}

function handlerBundles(): BundleRow[] {
  const rows: BundleRow[] = bundles().map((file) => {
    const code = fs.readFileSync(file);
    const sdkClients = [...new Set([...code.toString('utf8').matchAll(/require\(["'](@aws-sdk\/[^"']+)["']\)/g)].map((m) => m[1]))].sort();
    return {
      bundle: path.relative(ROOT, file),
      bytes: code.length,
      gzipBytes: zlib.gzipSync(code, { level: 9 }).length,
      sdkClients,
      importMs: [],
      sdkOnlyMs: [],
      exportsHandler: false,
    };
  });
  // The SDK clients must resolve as they do on Lambda (where the runtime provides them): from the
  // repository's node_modules, or else from bench/node_modules.
  const env = { ...process.env, NODE_PATH: path.join(BENCH_DIR, 'node_modules') };
  const run = (from: string, specifiers: string[]) => {
    const proc = spawnSync(process.execPath, [path.join(__dirname, 'import-child.js'), from, ...specifiers], { env, encoding: 'utf8' });
    const result = parseResult(proc.stdout ?? '');
    if (!result) throw new Error(`importing ${specifiers.join(' ')} failed: ${(proc.stderr ?? '').split('\n').slice(-10).join('\n')}`);
    return result;
  };
  for (let round = -1; round < ROUNDS; round++) {
    for (const row of rows) {
      const file = path.join(ROOT, row.bundle);
      const bundle = run(file, [file]);
      const sdk = row.sdkClients.length ? run(file, row.sdkClients) : { importMs: 0 };
      if (round < 0) continue;
      row.importMs.push(bundle.importMs);
      row.sdkOnlyMs.push(sdk.importMs);
      (row as { exportsHandler: boolean }).exportsHandler = Boolean(bundle.handler);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 6. Bounds: how close to the floor any implementation of the same template can come

/** One row of the bounds: a label, the variant and, for a replay, the template it replays. */
interface BoundRow {
  readonly label: string;
  readonly wallMs: number;
  readonly inProcessMs: number;
  /** The fastest round: on a shared machine, the least disturbed by other work. */
  readonly minWallMs: number;
  readonly minInProcessMs: number;
}

/**
 * At the largest N, validation off, ROUNDS rounds interleaved: each family's floor and this library,
 * against (a) the library's own template replayed as literal L1 resources (bound-replay: the cost of
 * the template's content alone, with no construct logic and no tokens), (b) the floor's template
 * replayed the same way, and for containers (c) the floor plus each service's build context as a
 * plain S3 asset (bound-containers-context: what any build at deploy time must upload), and (d) the
 * floor (with those contexts, for containers) plus one Lambda function and one custom resource
 * (bound-one-function: the fixed part of any design with one deploy-time function per stack).
 */
function bounds(): { [family: string]: BoundRow[] } {
  const n = Math.max(...SIZES);
  const env = { [CONTEXTS_ENV]: path.join(tmpRoot, 'contexts') };
  const templates = path.join(tmpRoot, 'bound-templates');
  fs.mkdirSync(templates, { recursive: true });
  const templateOf = (variant: string): string => {
    const r = child(variant, n, { validation: false, env });
    const file = path.join(templates, `${variant}.template.json`);
    fs.copyFileSync(path.join(r.outdir, 'Bench.template.json'), file);
    rm(r.outdir);
    return file;
  };
  const plans: { [family: string]: Array<{ label: string; variant: string; env: NodeJS.ProcessEnv }> } = {
    containers: [
      { label: 'plain containers (floor)', variant: 'containers-floor', env },
      { label: 'floor + each build context as an S3 asset', variant: 'bound-containers-context', env },
      { label: 'floor + build contexts + one function and custom resource', variant: 'bound-one-function', env: { ...env, [BOUND_FAMILY_ENV]: 'containers' } },
      { label: 'the floor\'s template replayed as literal L1s', variant: 'bound-replay', env: { [REPLAY_ENV]: templateOf('containers-floor') } },
      { label: 'this library\'s template replayed as literal L1s', variant: 'bound-replay', env: { [REPLAY_ENV]: templateOf('containers-library') } },
      { label: 'this library, containers', variant: 'containers-library', env },
    ],
    fleets: [
      { label: 'plain fleets (floor)', variant: 'fleets-floor', env },
      { label: 'floor + one function and custom resource', variant: 'bound-one-function', env: { ...env, [BOUND_FAMILY_ENV]: 'fleets' } },
      { label: 'the floor\'s template replayed as literal L1s', variant: 'bound-replay', env: { [REPLAY_ENV]: templateOf('fleets-floor') } },
      { label: 'this library\'s template replayed as literal L1s', variant: 'bound-replay', env: { [REPLAY_ENV]: templateOf('fleets-library') } },
      { label: 'this library, fleets', variant: 'fleets-library', env },
    ],
  };
  const samples: { [key: string]: { wallMs: number[]; inProcessMs: number[] } } = {};
  for (const plan of Object.values(plans)) for (const p of plan) rm(child(p.variant, 1, { validation: false, env: p.env }).outdir); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [family, plan] of Object.entries(plans)) {
      for (const p of plan) {
        const r = child(p.variant, n, { validation: false, env: p.env });
        const s = (samples[`${family}|${p.label}`] ??= { wallMs: [], inProcessMs: [] });
        s.wallMs.push(r.wallMs);
        s.inProcessMs.push(r.metrics.constructMs + r.metrics.synthMs);
        rm(r.outdir);
      }
    }
    log(`bounds round ${round + 1}/${ROUNDS}`);
  }
  return Object.fromEntries(Object.entries(plans).map(([family, plan]) => [family, plan.map((p) => ({
    label: p.label,
    wallMs: median(samples[`${family}|${p.label}`].wallMs),
    inProcessMs: median(samples[`${family}|${p.label}`].inProcessMs),
    minWallMs: Math.min(...samples[`${family}|${p.label}`].wallMs),
    minInProcessMs: Math.min(...samples[`${family}|${p.label}`].inProcessMs),
  }))]));
}

function reportBounds(md: string[], rows: { [family: string]: BoundRow[] }): void {
  md.push('');
  md.push(`### Bounds (N = ${Math.max(...SIZES)}, validation off, ${ROUNDS} rounds: median, and the fastest round)`);
  md.push('');
  for (const [family, list] of Object.entries(rows)) {
    const floor = list[0];
    md.push(table([`${family}`, 'synth wall time, median (ms)', 'fastest (ms)', 'construct + app.synth() in the process, median (ms)', 'fastest (ms)'],
      list.map((r) => [
        r.label,
        `${num(r.wallMs)}${ratio(r.wallMs, floor.wallMs)}`,
        `${num(r.minWallMs)}${ratio(r.minWallMs, floor.minWallMs)}`,
        `${num(r.inProcessMs)}${ratio(r.inProcessMs, floor.inProcessMs)}`,
        `${num(r.minInProcessMs)}${ratio(r.minInProcessMs, floor.minInProcessMs)}`,
      ])));
    md.push('');
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const LABELS: { [variant: string]: string } = {
  'containers-floor': 'plain aws-cdk-lib (floor)',
  'containers-deploy-time-build': '@cdklabs/deploy-time-build',
  'containers-library': 'this library',
  'fleets-floor': 'plain aws-cdk-lib (floor)',
  'fleets-imagebuilder-alpha': 'imagebuilder-alpha `Image`',
  'fleets-cdk-ami-builder': '@jjrawlins/cdk-ami-builder',
  'fleets-library': 'this library',
  'context-docker-image-asset': 'aws-cdk-lib DockerImageAsset (floor)',
  'context-deploy-time-build': '@cdklabs/deploy-time-build',
  'context-library': 'this library',
};

function ratio(value: number, floor: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(floor)) return '';
  if (floor === 0) return value === 0 ? ' (=)' : ' (floor 0)';
  if (floor < 0) return '';
  return ` (${(value / floor).toFixed(2)}×)`;
}

function num(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function report(
  versions: Versions,
  synth: ReturnType<typeof synthesis> | undefined,
  quota: { [variant: string]: Bisection } | undefined,
  context: ReturnType<typeof largeContext> | undefined,
  one: SingleResult | undefined,
  handlers: BundleRow[] | undefined,
  bound: { [family: string]: BoundRow[] } | undefined,
  timing: { startedAt: string; minutes: number; loadBefore: number[]; loadAfter: number[] },
): string {
  const md: string[] = [];
  md.push(`Run ${timing.startedAt} in ${timing.minutes.toFixed(1)} min; ${ROUNDS} rounds; ` +
    `${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${num(os.totalmem() / 1024 ** 3, 1)} GiB memory, ` +
    `load average ${timing.loadBefore.map((l) => l.toFixed(2)).join(' ')} before and ${timing.loadAfter.map((l) => l.toFixed(2)).join(' ')} after.`);
  md.push('');
  md.push(`Versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`);

  for (const family of synth && quota ? FAMILIES : []) {
    const floor = family.variants[0];
    const rows: string[][] = [];
    const metricRows = (metric: string, value: (v: string, n: number) => number, format: (x: number) => string, perN = true) => {
      for (const n of perN ? SIZES : [SIZES[SIZES.length - 1]]) {
        const f = value(floor, n);
        rows.push([metric, perN ? String(n) : '', ...family.variants.map((v) => `${format(value(v, n))}${ratio(value(v, n), f)}`)]);
      }
    };
    const s = (v: string, n: number, mode: 'on' | 'off') => synth!.samples[`${v}|${n}|${mode}`];
    const c = (v: string, n: number) => synth!.counts[`${v}|${n}`];
    metricRows('synth wall time, validation on (ms)', (v, n) => median(s(v, n, 'on').wallMs), (x) => num(x));
    metricRows('synth wall time, validation off (ms)', (v, n) => median(s(v, n, 'off').wallMs), (x) => num(x));
    metricRows('of which importing what the app uses, validation off (ms)', (v, n) => median(s(v, n, 'off').loadMs), (x) => num(x));
    metricRows('of which construct + app.synth() in the process, validation off (ms)', (v, n) => median(s(v, n, 'off').inProcessMs), (x) => num(x));
    metricRows('peak RSS, validation on (MiB)', (v, n) => median(s(v, n, 'on').maxRssKb) / 1024, (x) => num(x));
    metricRows('peak RSS, validation off (MiB)', (v, n) => median(s(v, n, 'off').maxRssKb) / 1024, (x) => num(x));
    metricRows('resources in the stack', (v, n) => c(v, n).resources, (x) => num(x));
    // The floor's own cost per artifact is its slope: what one more artifact adds.
    const first = SIZES[0];
    const last = SIZES[SIZES.length - 1];
    const slope = (v: string) => (c(v, last).resources - c(v, first).resources) / (last - first);
    for (const n of SIZES) {
      const f = c(floor, n).resources;
      rows.push(['resources per artifact beyond the floor, (variant − floor) / N', String(n),
        ...family.variants.map((v) => (v === floor ? `0 (the floor: ${num(slope(floor), 1)} per artifact)` : num((c(v, n).resources - f) / n, 1)))]);
    }
    rows.push([`resources each further artifact adds (slope N=${first}→${last})`, '', ...family.variants.map((v) => `${num(slope(v), 1)}${ratio(slope(v), slope(floor))}`)]);
    metricRows('Lambda functions', (v, n) => c(v, n).lambdaFunctions, (x) => num(x));
    metricRows('Step Functions state machines', (v, n) => c(v, n).stateMachines, (x) => num(x));
    metricRows('custom resources', (v, n) => c(v, n).customResources, (x) => num(x));
    metricRows('template bytes', (v, n) => c(v, n).templateBytes, (x) => num(x));
    metricRows('IAM roles', (v, n) => c(v, n).roles, (x) => num(x));
    metricRows('managed policies on the busiest role', (v, n) => c(v, n).maxManagedPoliciesPerRole, (x) => num(x));
    metricRows('inline policies (AWS::IAM::Policy) on the busiest role', (v, n) => c(v, n).maxInlinePoliciesPerRole, (x) => num(x));
    metricRows('Lambda code bytes (distinct assets)', (v, n) => c(v, n).lambdaCodeBytes, (x) => num(x));
    const q = quota!;
    const f = q[floor].largestN;
    rows.push([`largest N under ${RESOURCE_QUOTA} resources`, '', ...family.variants.map((v) => `${q[v].largestN}${ratio(q[v].largestN, f)}`)]);
    const nonZero = family.variants.filter((v) => s(v, SIZES[0], 'on').exitCodes.some((e) => e !== 0));
    md.push('');
    md.push(`### ${family.name[0].toUpperCase()}${family.name.slice(1)}`);
    md.push('');
    md.push(table(['metric', 'N', ...family.variants.map((v) => LABELS[v])], rows));
    if (nonZero.length) md.push(`\nValidation on exited non-zero (the validator reported errors) for: ${nonZero.map((v) => LABELS[v]).join(', ')}.`);
    md.push('');
    md.push(`Bisection probes (validation off, one synth each): ${family.variants.map((v) => `${LABELS[v]}: ${q[v].probes.map((p) => `N=${p.n} → ${p.resources}`).join(', ') || 'none needed'}`).join('; ')}.`);
  }

  if (context) reportContext(md, context);
  if (one) reportSingle(md, one);
  if (handlers) reportHandlers(md, handlers);
  if (bound) reportBounds(md, bound);
  return md.join('\n') + '\n';
}

function reportContext(md: string[], context: ReturnType<typeof largeContext>): void {
  md.push('');
  md.push('### Large build context');
  md.push('');
  const ctxRows: string[][] = [];
  ctxRows.push(['Fingerprint.ofDirectory (ms), library only', `${num(median(context.big.fingerprintMs), 1)}`, `${num(median(context.small.fingerprintMs), 1)}`, '']);
  const floorV = CONTEXT_VARIANTS[0];
  for (const [metric, get, fmt] of [
    ['synth wall time, validation off (ms)', (r: ContextRow, v: string) => median(r.wallMs[v]), (x: number) => num(x)],
    ['construct + app.synth() in the process (ms)', (r: ContextRow, v: string) => median(r.inProcessMs[v]), (x: number) => num(x)],
    ['staged context asset in cdk.out (bytes)', (r: ContextRow, v: string) => r.stagedBytes[v], (x: number) => num(x)],
    ['staged, with `data/` instead of `data` in .dockerignore (bytes)', (r: ContextRow, v: string) => r.stagedBytesSlash[v] ?? NaN, (x: number) => (Number.isFinite(x) ? num(x) : '')],
  ] as const) {
    for (const v of CONTEXT_VARIANTS) {
      ctxRows.push([`${metric}: ${LABELS[v]}`, `${fmt(get(context.big, v))}${ratio(get(context.big, v), get(context.big, floorV))}`,
        `${fmt(get(context.small, v))}${ratio(get(context.small, v), get(context.small, floorV))}`,
        Number.isFinite(get(context.small, v)) ? `${(get(context.big, v) / get(context.small, v)).toFixed(2)}×` : '']);
    }
  }
  md.push(table(['metric (ratio to the DockerImageAsset floor)', `${num(context.sizes.big / MiB)} MiB, 290 MiB ignored`, `${num(context.sizes.small / MiB)} MiB`, 'large / small'], ctxRows));

}

function reportSingle(md: string[], one: SingleResult): void {
  md.push('');
  md.push('### One ContainerImageBuild against one DockerImageAsset (2-file context, validation off)');
  md.push('');
  const dia = one.samples['context-docker-image-asset'];
  const sum = (x: typeof dia) => median(x.loadMs.map((l, i) => l + x.constructMs[i] + x.synthMs[i]));
  const SINGLE_LABELS: { [v: string]: string } = {
    'context-docker-image-asset': 'aws-cdk-lib DockerImageAsset (floor)',
    'context-library': 'ContainerImageBuild (import of the library index)',
    'context-library-container-module': 'ContainerImageBuild, importing lib/artifacts/container only',
    'context-s3-asset': 'aws-cdk-lib s3-assets.Asset of the context (IgnoreMode.DOCKER)',
    'context-function-only': 'an app with one asset-backed lambda.Function',
    'context-function-then-docker-image-asset': 'that app + DockerImageAsset',
    'context-function-then-library': 'that app + ContainerImageBuild',
    'runtime-provider': "plain aws-cdk-lib: today's runtime shape (2 SingletonFunctions + Provider with isComplete + 1 custom resource)",
    'runtime-one-function': 'plain aws-cdk-lib: the planned runtime shape (1 SingletonFunction as service token + 1 custom resource)',
  };
  const rowsOne = SINGLE_VARIANTS.filter((v) => one.samples[v]).map((v) => {
    const x = one.samples[v];
    return [SINGLE_LABELS[v] ?? v, ...(['loadMs', 'constructMs', 'synthMs'] as const).map((k) => num(median(x[k]))),
      `${num(sum(x))}${ratio(sum(x), sum(dia))}`, `${num(median(x.wallMs))}${ratio(median(x.wallMs), median(dia.wallMs))}`];
  });
  md.push(table([`variant (ms, median of ${dia.loadMs.length})`, 'import', 'construct (App, Stack, constructs)', 'app.synth()', 'import + construct + synth', 'process wall time'], rowsOne));
  const base = one.samples['context-function-only'];
  const withDia = one.samples['context-function-then-docker-image-asset'];
  const withCib = one.samples['context-function-then-library'];
  if (base && withDia && withCib) {
    const marginalDia = sum(withDia) - sum(base);
    const marginalCib = sum(withCib) - sum(base);
    md.push('');
    md.push(`Marginal cost in an app that already has an asset-backed Lambda function (import + construct + synth, difference of medians): ` +
      `DockerImageAsset ${num(marginalDia)} ms, ContainerImageBuild ${num(marginalCib)} ms${ratio(marginalCib, marginalDia)}.`);
  }
  md.push('');
  if (one.modulesMs) {
    md.push(`First require of a module in a fresh process, with everything it requires in turn (ms, median of ${ROUNDS}; ./ is the library's lib/):`);
    md.push('');
    md.push(table(['module', 'ms'], Object.entries(one.modulesMs).map(([m, xs]) => [m, num(median(xs), 1)])));
    md.push('');
  }
  md.push('CPU profile (`node --cpu-prof`, 0.1 ms sampling, one run each; inclusive ms, so nested rows are part of the row above):');
  md.push('');
  const labels = Object.keys(PROFILE_LABELS).filter((l) => Object.values(one.profile).some((p) => p.inclusiveMs[l] > 0));
  md.push(table(['frame', 'DockerImageAsset', 'ContainerImageBuild'], labels.map((l) => [l.replace(/^( +)/, (m) => '&nbsp;'.repeat(m.length * 2)),
    num(one.profile['context-docker-image-asset'].inclusiveMs[l], 1), num(one.profile['context-library'].inclusiveMs[l], 1)])));
  md.push('');
  const selfRows = (v: string) => Object.entries(one.profile[v].selfByModuleMs).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([m, ms]) => `${m} ${num(ms, 1)}`).join('; ');
  md.push(`Self time by module, ContainerImageBuild: ${selfRows('context-library')}.`);
  md.push('');
  md.push(`Self time by module, DockerImageAsset: ${selfRows('context-docker-image-asset')}.`);

}

function reportHandlers(md: string[], handlers: BundleRow[]): void {
  md.push('');
  md.push('### Handler bundles');
  md.push('');
  md.push(table(['bundle', 'bytes', 'gzip bytes', 'SDK clients it requires', 'cold import (ms)', 'SDK clients alone (ms, the floor)', 'ratio'],
    handlers.map((h) => [h.bundle, num(h.bytes), num(h.gzipBytes), h.sdkClients.join(', ') || 'none', num(median(h.importMs), 1), num(median(h.sdkOnlyMs), 1),
      h.sdkClients.length ? `${(median(h.importMs) / median(h.sdkOnlyMs)).toFixed(2)}×` : '(no SDK client)']),
  ));
  md.push('');
  md.push(`Total: ${handlers.length} bundles, ${num(handlers.reduce((s, h) => s + h.bytes, 0))} bytes.`);
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  if (ROUNDS < 5) log(`BENCH_ROUNDS=${ROUNDS}: fewer than 5 rounds, fine for trying the script, not for RESULTS.md`);
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();
  const t0 = performance.now();
  const versions = preflight();
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-immutable-deploys-bench-'));
  try {
    writeSmallContexts(path.join(tmpRoot, 'contexts'), Math.max(...SIZES));
    contextsWritten = Math.max(...SIZES);
    log(`versions: ${JSON.stringify(versions)}`);

    const synth = SECTIONS.has('synthesis') ? synthesis() : undefined;
    let quota: { [variant: string]: Bisection } | undefined;
    if (synth) {
      quota = {};
      for (const v of FAMILIES.flatMap((f) => f.variants)) {
        const known = Object.fromEntries(SIZES.map((n) => [n, synth.counts[`${v}|${n}`].resources]));
        quota[v] = largestUnderQuota(v, known);
        log(`largest N under ${RESOURCE_QUOTA} resources, ${v}: ${quota[v].largestN} (${quota[v].probes.length} probes)`);
      }
    }
    const context = SECTIONS.has('context') ? largeContext() : undefined;
    if (context) log('large context done');
    const one = SECTIONS.has('single') ? single() : undefined;
    if (one) log('single ContainerImageBuild done');
    const handlers = SECTIONS.has('bundles') ? handlerBundles() : undefined;
    if (handlers) log('handler bundles done');
    const bound = SECTIONS.has('bounds') ? bounds() : undefined;
    if (bound) log('bounds done');

    const minutes = (performance.now() - t0) / 60_000;
    const loadAfter = os.loadavg();
    fs.mkdirSync(OUT, { recursive: true });
    fs.writeFileSync(path.join(OUT, 'results.json'),
      JSON.stringify({ startedAt, minutes, loadBefore, loadAfter, versions, rounds: ROUNDS, synth, quota, context, one, handlers, bound }, null, 1));
    const md = report(versions, synth, quota, context, one, handlers, bound, { startedAt, minutes, loadBefore, loadAfter });
    fs.writeFileSync(path.join(OUT, 'results.md'), md);
    process.stdout.write(md);
    log(`done in ${minutes.toFixed(1)} min: ${path.relative(process.cwd(), path.join(OUT, 'results.md'))}`);
  } finally {
    rm(tmpRoot);
  }
}

main();
