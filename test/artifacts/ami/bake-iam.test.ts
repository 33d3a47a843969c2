/**
 * What a bake's roles may do, as synthesized: the runtime's Image Builder statements grant each action
 * on the resource types the Service Authorization Reference gives it (a resource of another type in a
 * statement grants nothing), and the build instances read only the files of the stack's bakes, never the
 * whole CDK assets bucket, with statements that do not grow with files or changes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AmiBake, BakeStep, BaseImage } from '../../../src';
import { arnText, jobOf, runtimeStatements } from '../../internal/runtime/jobs';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function bakeStack(files: Record<string, string> = {}): { stack: Stack; bake: AmiBake; template: Template } {
  const stack = new Stack(new App(), 'Web', { env: ENV });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bake-iam-'));
  const steps = [BakeStep.shell(['dnf install -y nginx'])];
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), content);
    steps.push(BakeStep.file(path.join(dir, name), `/etc/app/${name}`));
  }
  const bake = new AmiBake(stack, 'Bake', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps });
  return { stack, bake, template: Template.fromStack(stack) };
}

/** The resources of the runtime's statements that allow `action`, as text. */
function resourcesOf(template: Template, action: string): string[] {
  return runtimeStatements(template)
    .filter((s) => [s.Action].flat().includes(action))
    .flatMap((s) => [s.Resource].flat().map(arnText));
}

describe('the runtime\'s Image Builder permissions, by resource type', () => {
  test('CreateImage on the stack\'s images only (its one resource type); what it reads of the recipe, configurations and AWS-managed workflows through its dependent actions', () => {
    // GIVEN
    const { bake, template } = bakeStack();
    const prefix = bake.recipeName.split('-bake-')[0];
    const own = (type: string) => `arn:aws:imagebuilder:eu-west-1:123456789012:${type}/${prefix}-*`;
    // THEN: Service Authorization Reference, Amazon EC2 Image Builder: CreateImage authorizes on `image`;
    // dependent actions GetImageRecipe, GetInfrastructureConfiguration, GetDistributionConfiguration,
    // GetWorkflow, TagResource and iam:CreateServiceLinkedRole (GetContainerRecipe and iam:PassRole only
    // for container recipes and a workflow execution role, which a bake does not send).
    expect(resourcesOf(template, 'imagebuilder:CreateImage')).toEqual([own('image')]);
    expect(resourcesOf(template, 'imagebuilder:TagResource')).toEqual([own('image')]);
    expect(resourcesOf(template, 'imagebuilder:GetImageRecipe')).toEqual([own('image-recipe')]);
    expect(resourcesOf(template, 'imagebuilder:GetInfrastructureConfiguration')).toEqual([own('infrastructure-configuration')]);
    expect(resourcesOf(template, 'imagebuilder:GetDistributionConfiguration')).toEqual([own('distribution-configuration')]);
    expect(resourcesOf(template, 'imagebuilder:GetWorkflow')).toEqual(['arn:aws:imagebuilder:eu-west-1:aws:workflow/*']);
    // No statement names a resource of a type its actions do not take (a recipe on CreateImage grants nothing).
    const types: Record<string, string[]> = {
      'imagebuilder:CreateImage': ['image'],
      'imagebuilder:GetImageRecipe': ['image-recipe'],
      'imagebuilder:CreateImageRecipe': ['image-recipe'],
      'imagebuilder:GetInfrastructureConfiguration': ['infrastructure-configuration'],
      'imagebuilder:GetDistributionConfiguration': ['distribution-configuration'],
    };
    for (const statement of runtimeStatements(template)) {
      for (const action of [statement.Action].flat().filter((a: string) => types[a])) {
        for (const resource of [statement.Resource].flat().map(arnText)) {
          expect([action, types[action].includes(resource.split(':')[5].split('/')[0])]).toEqual([action, true]);
        }
      }
    }
  });

  test('the build logs: the runtime creates or adopts the group with its retention, on the stack\'s prefix of /aws/imagebuilder/ only', () => {
    const { bake, template } = bakeStack();
    const prefix = bake.recipeName.split('-bake-')[0];
    const logGroups = `arn:aws:logs:eu-west-1:123456789012:log-group:/aws/imagebuilder/${prefix}-*`;
    for (const action of ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy', 'logs:GetLogEvents']) {
      expect([action, resourcesOf(template, action)]).toEqual([action, [logGroups]]);
    }
    // Only with removal policy DESTROY may the runtime delete the group, with the rest of the bake.
    expect(resourcesOf(template, 'logs:DeleteLogGroup')).toEqual([]);
    const destroy = new Stack(new App(), 'Web', { env: ENV });
    new AmiBake(destroy, 'Bake', { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell(['true'])], removalPolicy: RemovalPolicy.DESTROY });
    expect(resourcesOf(Template.fromStack(destroy), 'logs:DeleteLogGroup')).toEqual([logGroups]);
  });
});

describe('the files a bake ships', () => {
  test('the build instances read the copies under the stack\'s bake prefix only, never the rest of the CDK assets bucket; the runtime copies each file there before the bake', () => {
    // GIVEN
    const { bake, template } = bakeStack({ 'app.conf': 'listen 80;' });
    const prefix = bake.recipeName.split('-bake-')[0];
    // THEN: the instance role's own statements
    const policies = Object.entries<any>(template.findResources('AWS::IAM::Policy')).filter(([id]) => /InstanceRoleDefaultPolicy/.test(id));
    expect(policies).toHaveLength(1);
    const statements = policies[0][1].Properties.PolicyDocument.Statement;
    const bucket = 'cdk-hnb659fds-assets-123456789012-eu-west-1';
    expect(statements.map((s: any) => ({ ...s, Resource: arnText(s.Resource) }))).toEqual([{
      Action: 's3:GetObject',
      Effect: 'Allow',
      Resource: `arn:aws:s3:::${bucket}/cdk-immutable-deploys/bake-assets/${prefix}/*`,
    }]);
    // The component downloads the copy, and the job says what to copy where.
    const spec = jobOf(template, 'Web/Bake').Spec;
    const [asset] = spec.Assets;
    expect(asset).toEqual({
      Bucket: bucket,
      Key: expect.stringMatching(/^[0-9a-f]{64}\.conf$/),
      CopyKey: expect.stringMatching(new RegExp(`^cdk-immutable-deploys/bake-assets/${prefix}/[0-9a-f]{64}\\.conf$`)),
    });
    const document = JSON.stringify(spec.Components.find((c: any) => c.Description.startsWith('file:')).Data);
    expect(document).toContain(asset.CopyKey);
    expect(document).not.toContain(`/${asset.Key}"`);
    // The runtime reads the assets (keys are content hashes) and writes the copies only.
    expect(resourcesOf(template, 's3:PutObject')).toEqual([expect.stringMatching(new RegExp(`/cdk-immutable-deploys/bake-assets/${prefix}/\\*$`))]);
    expect(resourcesOf(template, 's3:GetObject')).toEqual([`arn:aws:s3:::${bucket}/*`]);
  });

  test('the statements are the same for one file and for three, and for a changed file: a change never broadens IAM', () => {
    const statements = (files: Record<string, string>) => {
      const { template } = bakeStack(files);
      const policies = Object.entries<any>(template.findResources('AWS::IAM::Policy'));
      return JSON.stringify(policies.map(([id, p]) => [id, p.Properties.PolicyDocument.Statement]));
    };
    const one = statements({ 'a.conf': 'v1' });
    expect(statements({ 'a.conf': 'v2' })).toEqual(one);
    expect(statements({ 'a.conf': 'v1', 'b.conf': 'x', 'c.sh': 'echo' })).toEqual(one);
  });
});
