import { describeFindings, newTestApp, validate } from './kit';
import { ExampleStack } from '../examples/stack';

describe('the example app', () => {
  test('synthesizes valid and clean, with no AWS account', () => {
    // GIVEN
    const app = newTestApp();

    // WHEN
    const stack = new ExampleStack(app, 'ImmutableDeploysExample');

    // THEN
    const { findings } = validate(stack);
    expect(describeFindings(findings)).toEqual([]);
  });

  test('synthesizes byte-identical templates twice', () => {
    const once = validate(new ExampleStack(newTestApp(), 'Example')).template.toJSON();
    const twice = validate(new ExampleStack(newTestApp(), 'Example')).template.toJSON();
    expect(JSON.stringify(twice)).toEqual(JSON.stringify(once));
  });
});
