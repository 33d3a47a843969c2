// @ts-check
/**
 * The environment every test file runs in (`testEnvironment` in `.projenrc.ts`): Node's, with two
 * changes that keep `npx projen test` fast and its log about failures. Plain JavaScript (type-checked
 * by `tsc -p tsconfig.dev.json`): the mutation test runner loads it with Node's own `require`.
 *
 * 1. One CloudFormation validator engine per jest worker. aws-cdk-lib's strict schema validator
 *    (`@aws-cdk/core:strictCfnValidateErrors`, which the test kit turns on) builds a WebAssembly
 *    engine of `@aws/cloudformation-validate` once per module registry: about 5 s of CPU, paid by
 *    every test file, since jest gives each file its own registry (more than the tests themselves
 *    in most files). This environment loads the validator once per worker, outside the registries,
 *    and `test/cloudformation-validate.ts` (mapped in place of the package) hands every file the
 *    same engine for the same configuration. The engine keeps no state between validations: each
 *    `validateTemplate` reads its template and returns a new report.
 *
 * 2. The AWS SDK's warning about an old Node.js once per worker, not once per test file that loads
 *    a client (the SDK warns once per module registry): each next file runs with the SDK's own switch
 *    for it, `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED`, once the worker has printed it.
 *
 * 3. Console output only for what failed. The library's expected warnings, aws-cdk-lib's
 *    validation notices and the integ-tests handler's logs are expected output of passing tests;
 *    printed, they bury the failures. Each call is kept with the test it belongs to and reaches
 *    jest's console (and the log) only when that test, or a hook of its file, fails.
 */
const path = require('path');
const { TestEnvironment } = require('jest-environment-node');

/** Where test files find the shared validator: `test/cloudformation-validate.ts` reads the same symbol. */
const SHARED_VALIDATOR = Symbol.for('cdk-immutable-deploys.test.cloudformation-validate');

/** The console methods whose calls are kept. */
const KEPT = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'];

/**
 * What this environment reads of jest-circus's events (`@jest/types` Circus.Event).
 * @typedef {{ readonly name: string; readonly parent?: DescribeBlock }} DescribeBlock
 * @typedef {{ readonly name: string; readonly errors: unknown[]; readonly parent?: DescribeBlock }} TestEntry
 * @typedef {{ readonly name: string; readonly test?: TestEntry }} CircusEvent
 *
 * A kept console call: `test` is the test that was running (undefined: a hook or the file's own
 * code), `origin` the first stack frame outside jest and this file.
 * @typedef {{ readonly method: string; readonly args: unknown[]; readonly test?: string; readonly origin?: string }} Kept
 */

/** @type {Record<string, unknown> | undefined} The validator package for this worker. */
let shared;

/** Whether this worker has printed the AWS SDK's warning about an old Node.js. */
let sdkWarned = false;
process.on('warning', (warning) => {
  if (warning.message.includes('NodeVersionSupportWarning')) sdkWarned = true;
});

/**
 * The `@aws/cloudformation-validate` of the aws-cdk-lib the tests load (`testEnvironmentOptions.awsCdkLib`,
 * a directory, when the run maps aws-cdk-lib to another install: `.ci/newest`), with a
 * `CompositeEngine` that builds one engine per configuration and keeps it for the worker's life.
 * @param {string | undefined} awsCdkLib
 * @param {string} rootDir
 * @returns {Record<string, unknown>}
 */
function sharedValidator(awsCdkLib, rootDir) {
  if (!shared) {
    const lib = awsCdkLib ?? path.dirname(require.resolve('aws-cdk-lib/package.json', { paths: [rootDir] }));
    const real = require(require.resolve('@aws/cloudformation-validate', { paths: [lib] }));
    /** @type {Map<string, { free(): void }>} */
    const engines = new Map();
    /**
     * Called with `new`: returning an object makes it the result.
     * @param {unknown} [config]
     */
    function SharedCompositeEngine(config) {
      const key = JSON.stringify(config ?? {});
      let engine = engines.get(key);
      if (!engine) {
        engine = /** @type {{ free(): void }} */ (new real.CompositeEngine(config));
        // Shared by every file of the worker: a file's plugin disposing of it must not free it.
        engine.free = () => undefined;
        engines.set(key, engine);
      }
      return engine;
    }
    shared = { ...real, CompositeEngine: SharedCompositeEngine };
  }
  return /** @type {Record<string, unknown>} */ (shared);
}

class Environment extends TestEnvironment {
  /**
   * @param {ConstructorParameters<typeof TestEnvironment>[0]} config
   * @param {ConstructorParameters<typeof TestEnvironment>[1]} context
   */
  constructor(config, context) {
    super(config, context);
    /** @type {Record<string, (...args: unknown[]) => void>} */
    this.testConsole = /** @type {any} */ (context.console);
    this.rootDir = config.projectConfig.rootDir;
    /** @type {Kept[]} */
    this.kept = [];
    /** @type {Set<string>} */
    this.failed = new Set();
    this.hookFailed = false;
    /** @type {string | undefined} */
    this.current = undefined;
    const options = /** @type {{ awsCdkLib?: string }} */ (config.projectConfig.testEnvironmentOptions);
    // Set before setup completes: jest keeps (and never clears) what the environment itself puts on the global.
    /** @type {Record<symbol, unknown>} */ (/** @type {unknown} */ (this.global))[SHARED_VALIDATOR] = sharedValidator(options.awsCdkLib, this.rootDir);
    // Each file has its own copy of process.env.
    if (sdkWarned) this.global.process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  }

  async setup() {
    await super.setup();
    // jest has set the file's console on the global by now: keep its calls instead. An object of its
    // own (on top of jest's), whose methods tests can still spy on and mock.
    /** @type {Record<string, unknown>} */
    const kept = Object.create(this.testConsole);
    for (const method of KEPT) {
      kept[method] = (/** @type {unknown[]} */ ...args) => {
        this.kept.push({ method, args, test: this.current, origin: origin(new Error().stack, this.rootDir) });
      };
    }
    this.global.console = /** @type {Console} */ (/** @type {unknown} */ (kept));
  }

  /** @param {CircusEvent} event */
  handleTestEvent(event) {
    switch (event.name) {
      case 'test_start':
        this.current = event.test && testName(event.test);
        break;
      case 'test_done':
        if (event.test && event.test.errors.length > 0) this.failed.add(testName(event.test));
        this.current = undefined;
        break;
      case 'hook_failure':
        this.hookFailed = true;
        break;
      case 'run_finish':
        this.flush();
        break;
      default:
        break;
    }
  }

  /** Hands jest's console the output of what failed, each call with a line that says whose it is. */
  flush() {
    for (const entry of this.kept) {
      const failed = entry.test === undefined ? this.hookFailed || this.failed.size > 0 : this.failed.has(entry.test);
      if (!failed) continue;
      const whose = entry.test === undefined ? 'the file\'s hooks and code outside tests' : `the failed test "${entry.test}"`;
      this.testConsole[entry.method](...entry.args, `\n(console.${entry.method} of ${whose}${entry.origin ? `, at ${entry.origin}` : ''})`);
    }
    this.kept.length = 0;
  }
}

/**
 * The test's name with its describe blocks, as jest prints it.
 * @param {TestEntry} test
 * @returns {string}
 */
function testName(test) {
  const names = [];
  for (let block = test.parent; block && block.parent; block = block.parent) names.unshift(block.name);
  return [...names, test.name].join(' › ');
}

/**
 * The first stack frame outside node_modules and this file: the console call's origin.
 * @param {string | undefined} stack
 * @param {string} rootDir
 * @returns {string | undefined}
 */
function origin(stack, rootDir) {
  return stack?.split('\n').slice(1).map((line) => line.trim())
    .find((line) => line.startsWith('at ') && !line.includes('node_modules') && !line.includes(__filename))
    ?.replace(/^at /, '').split(`${rootDir}${path.sep}`).join('');
}

module.exports = Environment;
