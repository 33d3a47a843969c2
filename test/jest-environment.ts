/**
 * The environment every test file runs in (`testEnvironment` in `.projenrc.ts`): Node's, with two
 * changes that keep `npx projen test` fast and its log about failures.
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
 * 2. Console output only for what failed. The library's expected warnings, aws-cdk-lib's
 *    validation notices and the integ-tests handler's logs are expected output of passing tests;
 *    printed, they bury the failures. Each call is kept with the test it belongs to and reaches
 *    jest's console (and the log) only when that test, or a hook of its file, fails.
 */
import * as path from 'path';
import { TestEnvironment } from 'jest-environment-node';

/** Where test files find the shared validator: `test/cloudformation-validate.ts` reads the same symbol. */
const SHARED_VALIDATOR = Symbol.for('cdk-immutable-deploys.test.cloudformation-validate');

type EnvironmentArgs = ConstructorParameters<typeof TestEnvironment>;

/** What this environment reads of jest-circus's events (`@jest/types` Circus.Event). */
interface TestEntry {
  readonly name: string;
  readonly errors: unknown[];
  readonly parent?: DescribeBlock;
}
interface DescribeBlock {
  readonly name: string;
  readonly parent?: DescribeBlock;
}
type CircusEvent = { readonly name: 'test_start' | 'test_done'; readonly test: TestEntry } | { readonly name: string; readonly test?: TestEntry };

/** The validator package and its engines, per configuration, for this worker. */
let shared: { module: Record<string, unknown>; engines: Map<string, unknown> } | undefined;

/**
 * The `@aws/cloudformation-validate` of the aws-cdk-lib the tests load (`testEnvironmentOptions.awsCdkLib`,
 * a directory, when the run maps aws-cdk-lib to another install: `.ci/newest`), with a
 * `CompositeEngine` that builds one engine per configuration and keeps it for the worker's life.
 */
function sharedValidator(awsCdkLib: string | undefined, rootDir: string): Record<string, unknown> {
  if (!shared) {
    const lib = awsCdkLib ?? path.dirname(require.resolve('aws-cdk-lib/package.json', { paths: [rootDir] }));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const real = require(require.resolve('@aws/cloudformation-validate', { paths: [lib] }));
    const engines = new Map<string, unknown>();
    const Engine = real.CompositeEngine as new (config?: unknown) => { free(): void };
    // Called with `new`: returning an object makes it the result.
    function SharedCompositeEngine(config?: unknown) {
      const key = JSON.stringify(config ?? {});
      let engine = engines.get(key) as { free(): void } | undefined;
      if (!engine) {
        engine = new Engine(config);
        // Shared by every file of the worker: a file's plugin disposing of it must not free it.
        engine.free = () => undefined;
        engines.set(key, engine);
      }
      return engine;
    }
    shared = { module: { ...real, CompositeEngine: SharedCompositeEngine }, engines };
  }
  return shared.module;
}

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'dir' | 'table';
const KEPT: ReadonlySet<string> = new Set<ConsoleMethod>(['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table']);

interface Kept {
  readonly method: ConsoleMethod;
  readonly args: unknown[];
  /** The test that was running (undefined: a hook or the file's own code). */
  readonly test?: string;
  /** Where the call was made: the first frame outside jest and this file. */
  readonly origin?: string;
}

export default class Environment extends TestEnvironment {
  private readonly testConsole: Console;
  private readonly rootDir: string;
  private readonly kept: Kept[] = [];
  private readonly failed = new Set<string>();
  private hookFailed = false;
  private current?: string;

  constructor(config: EnvironmentArgs[0], context: EnvironmentArgs[1]) {
    super(config, context);
    this.testConsole = context.console;
    this.rootDir = config.projectConfig.rootDir;
    const options = config.projectConfig.testEnvironmentOptions as { awsCdkLib?: string };
    // Set before setup completes: jest keeps (and never clears) what the environment itself puts on the global.
    (this.global as Record<symbol, unknown>)[SHARED_VALIDATOR] = sharedValidator(options.awsCdkLib, config.projectConfig.rootDir);
  }

  public async setup(): Promise<void> {
    await super.setup();
    // jest has set the file's console on the global by now: keep its calls instead. An object of its
    // own (on top of jest's), whose methods tests can still spy on and mock.
    const kept = Object.create(this.testConsole) as Record<string, unknown>;
    for (const method of KEPT) {
      kept[method] = (...args: unknown[]) => {
        this.kept.push({ method: method as ConsoleMethod, args, test: this.current, origin: origin(new Error().stack, this.rootDir) });
      };
    }
    this.global.console = kept as unknown as Console;
  }

  public handleTestEvent(event: CircusEvent): void {
    switch (event.name) {
      case 'test_start':
        this.current = testName(event.test!);
        break;
      case 'test_done':
        if (event.test!.errors.length > 0) this.failed.add(testName(event.test!));
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

  /** Hands jest's console the output of what failed, each call after a line that says whose it is. */
  private flush(): void {
    for (const entry of this.kept) {
      const failed = entry.test === undefined ? this.hookFailed || this.failed.size > 0 : this.failed.has(entry.test);
      if (!failed) continue;
      const whose = entry.test === undefined ? 'the file\'s hooks and code outside tests' : `the failed test "${entry.test}"`;
      (this.testConsole[entry.method] as (...args: unknown[]) => void)(...entry.args, `\n(console.${entry.method} of ${whose}${entry.origin ? `, at ${entry.origin}` : ''})`);
    }
    this.kept.length = 0;
  }
}

function testName(test: TestEntry): string {
  const names: string[] = [];
  for (let block: DescribeBlock | undefined = test.parent; block && block.parent; block = block.parent) names.unshift(block.name);
  return [...names, test.name].join(' › ');
}

/** The first stack frame outside node_modules and this file: the console call's origin. */
function origin(stack: string | undefined, rootDir: string): string | undefined {
  return stack?.split('\n').slice(1).map((line) => line.trim())
    .find((line) => line.startsWith('at ') && !line.includes('node_modules') && !line.includes(__filename))
    ?.replace(/^at /, '').split(`${rootDir}${path.sep}`).join('');
}
