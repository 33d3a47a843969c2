// StrykerJS mutation testing (issue 17; results in test/MUTATION.md): `npx projen mutation`.
// One file at a time, with only the tests that exercise it:
//   MUTATE=src/internal/failure.ts npx projen mutation
// Each mutated file lists the unit tests that own it, so that a run never starts the construct and
// integration-snapshot suites; the dry run and every mutant run use only those tests.

import { writeFileSync } from 'fs';

/** Mutated file -> the test files that assert its behaviour. */
const SCOPE = {
  'src/fingerprint/fingerprint.ts': ['test/fingerprint/fingerprint.test.ts'],
  'src/internal/paths.ts': ['test/fingerprint/fingerprint.test.ts', 'test/internal/paths.test.ts'],
  'src/internal/failure.ts': ['test/internal/failure.test.ts'],
  'src/internal/errors.ts': ['test/internal/errors.test.ts'],
  // key-grant-job.test.ts drives the lookup path (Create, Update, the cleanup Delete) through the handler.
  'src/internal/runtime/runtime.singleton-lambda.ts': [
    'test/internal/runtime/runtime.test.ts', 'test/internal/runtime/runtime.mutation.test.ts', 'test/artifacts/ami/key-grant-job.test.ts',
  ],
  // The runtime's harness replaces the transport and its delays: its tests add time, not kills.
  'src/internal/runtime/http.ts': ['test/internal/runtime/http.test.ts'],
  // lookupFailure() and clientsByRegion() are the lookups' and the key grant's: their tests own them.
  'src/internal/runtime/job.ts': [
    'test/internal/runtime/runtime.test.ts', 'test/internal/runtime/runtime.mutation.test.ts',
    'test/artifacts/ami/lookup-job.test.ts', 'test/artifacts/container/lookup-job.test.ts', 'test/artifacts/ami/key-grant-job.test.ts',
  ],
  'src/internal/runtime/state.ts': ['test/internal/runtime/state.test.ts'],
  // The runtime construct in a bare stack; runtime-construct.test.ts (with real jobs) synthesizes 50 builds
  // and bakes and takes minutes a mutant, so it is left out of the run.
  'src/internal/runtime/runtime.ts': ['test/internal/runtime/runtime-unit.test.ts'],
  'src/artifacts/container/build-job.ts': ['test/artifacts/container/build-job.test.ts'],
  'src/artifacts/ami/bake-job.ts': ['test/artifacts/ami/bake-job.test.ts'],
  'src/artifacts/ami/lookup-job.ts': ['test/artifacts/ami/lookup-job.test.ts'],
  'src/artifacts/container/lookup-job.ts': ['test/artifacts/container/lookup-job.test.ts'],
  'src/artifacts/ami/key-grant-job.ts': ['test/artifacts/ami/key-grant-job.test.ts'],
};

const mutate = process.env.MUTATE ? process.env.MUTATE.split(',').map((f) => f.trim()) : Object.keys(SCOPE);
for (const file of mutate) {
  if (!SCOPE[file]) {
    throw new Error(`stryker.config.mjs: MUTATE names '${file}', which is not in the mutation scope. Use one of: ${Object.keys(SCOPE).join(', ')}.`);
  }
}
const tests = [...new Set(mutate.flatMap((file) => SCOPE[file]))];

// The TypeScript checker (MUTATION_TYPECHECK=1) rejects mutants that do not compile before any test
// runs. It is off by default: here it rebuilds the whole program for every mutant, and a file that
// imports aws-cdk-lib or an AWS SDK client pulls in about 3,000 declaration files (30 s for one
// `tsc`), so it took about 40 s a mutant against 3 s for the tests (test/MUTATION.md). Without it a
// mutant that does not compile runs anyway (the mutated file is not type-checked) and is killed or
// survives on what it does. When on, it compiles only the mutated files and what they import, not
// all of src/; a mutant that breaks a caller's types still fails that caller's tests under ts-jest.
// The tsconfig is written on every run (git ignores it), so that it names the files of this run.
const typecheck = process.env.MUTATION_TYPECHECK === '1';
const CHECKER_TSCONFIG = 'test/mutation/tsconfig.checker.json';
writeFileSync(CHECKER_TSCONFIG, `${JSON.stringify({
  extends: '../../tsconfig.json',
  include: [],
  files: mutate.map((file) => `../../${file}`),
}, null, 2)}\n`);

export default {
  $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    enableFindRelatedTests: false,
    config: {
      testMatch: tests.map((t) => `<rootDir>/${t}`),
      collectCoverage: false,
      reporters: ['default'],
    },
  },
  checkers: typecheck ? ['typescript'] : [],
  tsconfigFile: CHECKER_TSCONFIG,
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  // The machines have 2 cores, shared: one test runner at a time.
  concurrency: 1,
  mutate,
  ignorePatterns: ['lib', 'dist', 'coverage', 'cdk.out', 'test-reports', 'reports', '.jsii', 'tsconfig.tsbuildinfo'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false },
  // A mutant that loops is declared a timeout after its tests' own time (x1.5) plus this margin; the
  // unit tests in scope take well under a second each, so 20 s only made each timeout cost 20 s.
  timeoutMS: 4000,
  // Incremental mode: the results of the last runs are committed, so a later run re-tests only the
  // mutants in code (or tests) that changed since. Runs of one file keep the other files' results.
  // `npx projen mutation --force` re-tests everything.
  incremental: true,
  incrementalFile: 'test/mutation/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
