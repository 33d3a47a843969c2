import { Template } from 'aws-cdk-lib/assertions';
import { jobsOf } from './internal/runtime/jobs';
import { describeFindings, newTestApp, validate } from './kit';
import { promotionApp } from '../examples/promotion';
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

describe('the reference promotion app (examples/app.ts)', () => {
  test('Bake, Staging and Production synthesize valid and clean, with no AWS account; the fingerprints reach every stage unchanged', () => {
    // GIVEN / WHEN
    const { bake, staging, production } = promotionApp(newTestApp());

    // THEN
    for (const stack of [bake.stack, staging.stack, production.stack]) {
      expect({ stack: stack.node.path, findings: describeFindings(validate(stack).findings) }).toEqual({ stack: stack.node.path, findings: [] });
    }
    const built = Template.fromStack(bake.stack);
    const fingerprints = jobsOf(built).map((j) => j.Fingerprint).sort();
    expect(fingerprints).toEqual([bake.bake.fingerprint, bake.image.fingerprint].sort());
    for (const stage of [staging.stack, production.stack]) {
      const template = Template.fromStack(stage);
      const looked = Object.values<any>(template.findResources('Custom::CdkImmutableDeploysLookup')).map((l) => l.Properties.Fingerprint).sort();
      expect(looked).toEqual(fingerprints);
      // Nothing is built or baked outside the Bake stage.
      template.resourceCountIs('Custom::CdkImmutableDeploysJobs', 0);
      template.resourceCountIs('AWS::CodeBuild::Project', 0);
    }
    expect(production.stack.region).toBe('eu-west-1');
    expect(new Set([bake.stack.account, staging.stack.account, production.stack.account]).size).toBe(3);
  });
});
