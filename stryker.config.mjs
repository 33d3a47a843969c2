// StrykerJS mutation testing (issue 17; results in test/MUTATION.md): `npx projen mutation`.
// One file at a time, with only the tests that exercise it:
//   MUTATE=src/internal/failure.ts npx projen mutation
// Each mutated file lists the unit tests that own it, so that a run never starts the construct and
// integration-snapshot suites; the dry run and every mutant run use only those tests.

/** Mutated file -> the test files that assert its behaviour. */
const SCOPE = {
  'src/fingerprint/fingerprint.ts': ['test/fingerprint/fingerprint.test.ts'],
  'src/internal/paths.ts': ['test/fingerprint/fingerprint.test.ts', 'test/internal/paths.test.ts'],
  'src/internal/failure.ts': ['test/internal/failure.test.ts'],
  'src/internal/errors.ts': ['test/internal/errors.test.ts'],
  'src/internal/runtime/runtime.singleton-lambda.ts': ['test/internal/runtime/runtime.test.ts'],
  'src/internal/runtime/http.ts': ['test/internal/runtime/http.test.ts', 'test/internal/runtime/runtime.test.ts'],
  'src/internal/runtime/job.ts': ['test/internal/runtime/runtime.test.ts'],
  'src/internal/runtime/state.ts': ['test/internal/runtime/runtime.test.ts'],
  'src/internal/runtime/runtime.ts': ['test/internal/runtime/runtime-construct.test.ts'],
  'src/artifacts/container/build-job.ts': ['test/artifacts/container/build-job.test.ts'],
  'src/artifacts/ami/bake-job.ts': ['test/artifacts/ami/bake-job.test.ts'],
};

const mutate = process.env.MUTATE ? process.env.MUTATE.split(',').map((f) => f.trim()) : Object.keys(SCOPE);
for (const file of mutate) {
  if (!SCOPE[file]) {
    throw new Error(`stryker.config.mjs: MUTATE names '${file}', which is not in the mutation scope. Use one of: ${Object.keys(SCOPE).join(', ')}.`);
  }
}
const tests = [...new Set(mutate.flatMap((file) => SCOPE[file]))];

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
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
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
  timeoutMS: 20000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
