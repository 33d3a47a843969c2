/**
 * The library's own apps keep every rule: the example app, the composed app of the security baseline,
 * and every integration app (test/integ.*.ts), with no finding and no unreadable-token warning.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, cx_api as cxapi } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { check, findingsOf, findingsOfAssembly } from './fixtures';
import { ExampleStack } from '../../examples/stack';
import { composedStack } from '../composed-app';

const INTEG_APPS = fs.readdirSync(path.join(__dirname, '..')).filter((f) => /^integ\..*\.ts$/.test(f)).sort();

/** The cloud assemblies of every app that `load` synthesizes, with ImmutabilityChecks added to each. */
function assembliesOf(load: () => void): cxapi.CloudAssembly[] {
  const assemblies: cxapi.CloudAssembly[] = [];
  const checked = new Set<App>();
  const synth = App.prototype.synth;
  const spy = jest.spyOn(App.prototype, 'synth').mockImplementation(function (this: App, options) {
    if (!checked.has(this)) {
      checked.add(this);
      check(this);
    }
    const assembly = synth.call(this, options);
    assemblies.push(assembly);
    return assembly;
  });
  try {
    load();
  } finally {
    spy.mockRestore();
  }
  return assemblies;
}

describe('the library\'s own apps trip no ImmutabilityChecks rule', () => {
  test('the example app', () => {
    const app = new App();
    check(app);
    const stack = new ExampleStack(app, 'ImmutableDeploysExample');
    expect(findingsOf(stack)).toEqual([]);
  });

  test('the composed app of the security baseline', () => {
    const app = new App();
    check(app);
    expect(findingsOf(composedStack(app))).toEqual([]);
  });

  test('there are integration apps to check, and the harness sees what an app trips', () => {
    expect(INTEG_APPS.length).toBeGreaterThanOrEqual(4);
    const assemblies = assembliesOf(() => {
      const app = new App();
      new ssm.CfnAssociation(new Stack(app, 'Patching'), 'Patch', { name: 'AWS-RunPatchBaseline' });
      app.synth();
    });
    expect(assemblies.flatMap(findingsOfAssembly).map((f) => `${f.rule} ${f.level} ${f.path}`)).toEqual(['in-place-patching error /Patching/Patch']);
  });

  test.each(INTEG_APPS)('%s', (file) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an integ app runs when it is loaded
    const assemblies = assembliesOf(() => require(path.join(__dirname, '..', file)));
    expect(assemblies.flatMap((a) => a.stacksRecursively).length).toBeGreaterThan(0);
    expect(assemblies.flatMap(findingsOfAssembly)).toEqual([]);
  });
});
