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
    const { registry, bake, staging, production } = promotionApp(newTestApp());

    // THEN
    for (const stack of [registry.stack, bake.stack, staging.stack, production.stack]) {
      expect({ stack: stack.node.path, findings: describeFindings(validate(stack).findings) }).toEqual({ stack: stack.node.path, findings: [] });
    }
    const built = Template.fromStack(bake.stack);
    const fingerprints = jobsOf(built).map((j) => j.Fingerprint).sort();
    expect(fingerprints).toEqual([bake.bake.fingerprint, bake.image.fingerprint].sort());
    for (const stage of [staging.stack, production.stack]) {
      const template = Template.fromStack(stage);
      // The imports (the KMS grant for the AMI's key is a lookup resource too, of the key, not of an artifact).
      const looked = Object.values<any>(template.findResources('Custom::CdkImmutableDeploysLookup'))
        .filter((l) => l.Properties.Kind !== 'key-grant').map((l) => l.Properties.Fingerprint).sort();
      expect(looked).toEqual(fingerprints);
      // Nothing is built or baked outside the Bake stage.
      template.resourceCountIs('Custom::CdkImmutableDeploysJobs', 0);
      template.resourceCountIs('AWS::CodeBuild::Project', 0);
    }
    expect(production.stack.region).toBe('eu-west-1');
    expect(new Set([bake.stack.account, staging.stack.account, production.stack.account]).size).toBe(3);
  });

  test('the image is replicated to Production\'s registry, which keeps its tags immutable; Production pulls the replica, Staging the source; both grant their Auto Scaling role the AMI key', () => {
    const { registry, bake, staging, production } = promotionApp(newTestApp());
    // The stack's part of the registry's replication, which the runtime keeps beside others' rules.
    const [replication] = Object.values<any>(Template.fromStack(bake.stack).findResources('Custom::CdkImmutableDeploysLookup')).filter((l) => l.Properties.Kind === 'ecr-replication');
    const rules = bake.stack.resolve(replication.Properties.Spec.Rules);
    expect(JSON.stringify(rules)).toContain(`{\\"Region\\":\\"${production.stack.region}\\",\\"RegistryId\\":\\"${production.stack.account}\\"}`);
    Template.fromStack(bake.stack).resourceCountIs('AWS::ECR::ReplicationConfiguration', 0);
    Template.fromStack(registry.stack).hasResourceProperties('AWS::ECR::RepositoryCreationTemplate', { Prefix: 'immutable-deploys-example', AppliedFor: ['REPLICATION'], ImageTagMutability: 'IMMUTABLE' });
    const uriOf = (stack: typeof staging.stack) => JSON.stringify(Object.values<any>(Template.fromStack(stack).findResources('Custom::CdkImmutableDeploysLookup'))
      .find((l) => l.Properties.Kind === 'image-lookup').Properties.Spec.RepositoryUri);
    expect(uriOf(production.stack)).toContain(`${production.stack.account}.dkr.ecr.${production.stack.region}.`);
    expect(uriOf(production.stack)).toContain('/immutable-deploys-example/web');
    expect(uriOf(staging.stack)).toContain(`${bake.stack.account}.dkr.ecr.${bake.stack.region}.`);
    for (const stack of [staging.stack, production.stack]) {
      const grants = Object.values<any>(Template.fromStack(stack).findResources('Custom::CdkImmutableDeploysLookup')).filter((l) => l.Properties.Kind === 'key-grant');
      expect(grants.map((g) => g.Properties.Spec.KeyArn)).toEqual([expect.stringContaining(`:kms:${stack.region}:${bake.stack.account}:key/`)]);
    }
  });
});
