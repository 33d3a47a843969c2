import { awscdk, javascript } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-immutable-deploys',
  description:
    'Immutable deploys on AWS as CDK constructs: content-addressed AMI and container builds at deploy time, replacement rollouts pinned to exact artifacts, and guardrails.',
  author: 'cdk-immutable-deploys maintainers',
  authorAddress: 'maintainers@cdk-immutable-deploys.dev',
  authorOrganization: true,
  repositoryUrl: 'https://github.com/cdk-immutable-deploys/cdk-immutable-deploys.git',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  tsconfigDevFile: 'tsconfig.dev.json',
  github: false,

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

  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_24_X,
    bundlingOptions: {
      // The Node.js Lambda runtime ships AWS SDK v3: keep it out of the bundles.
      externals: ['@aws-sdk/*'],
      sourcemap: false,
    },
  },

  // Parses Image Builder component documents at synth time, so that a malformed one fails `cdk synth`
  // with its line. Bundled in the package: jsii libraries ship their non-jsii dependencies inside.
  bundledDeps: ['yaml@^2'],

  devDeps: [
    'aws-cdk@^2',
    'cdk-nag@^3',
    '@aws-cdk/cloudformation-diff',
    '@aws-cdk/integ-tests-alpha',
    '@aws-cdk/integ-runner',
    '@aws-sdk/client-codebuild',
    '@aws-sdk/client-ecr',
    '@aws-sdk/client-cloudwatch-logs',
    '@aws-sdk/client-imagebuilder',
    '@aws-sdk/client-ec2',
    '@types/aws-lambda',
    'aws-sdk-client-mock',
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
    jestConfig: {
      testTimeout: 60_000,
    },
  },

  gitignore: ['cdk.out', '*.tsbuildinfo', '.jsii.tabl.json', '/.ci/clean-clone'],
  npmignoreEnabled: true,
});


// Benchmarks of what runs on every synth (fingerprinting, synthesis): `npx projen benchmark`.
project.addTask('benchmark', {
  description: 'Measure fingerprinting and synthesis times (medians)',
  exec: 'ts-node -P tsconfig.dev.json scripts/benchmark.ts',
});

// Handlers are `*.singleton-lambda.ts`: projen generates a `lambda.SingletonFunction` for each, so a
// stack has one function per handler however many artifacts it builds. The generated files are
// projen's, not ours to lint.
project.eslint?.addIgnorePattern('src/**/*-function.ts');

// The published package holds the library (lib/, assets/, .jsii, API.md), not the repository's tooling.
project.npmignore?.exclude('/.ci/', '/examples/', '/scripts/', '/rosetta/', '/cdk.json', '/cdk.out/', '/bench/');

// bench/ is its own package (bench/package.json, its own tsconfig and dependencies): not part of the
// library's type-checking, lint or tests.
project.tsconfigDev.addExclude('bench');
project.eslint?.addIgnorePattern('bench/');

// Lint .projenrc.ts with the same type-aware project.
project.tsconfigDev.addInclude('.projenrc.ts');

// Every code sample in the README and in doc comments compiles: Construct Hub translates them
// into Python, Java, C# and Go.
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile every README and doc-comment example with jsii-rosetta in strict mode',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosetta);

project.synth();
