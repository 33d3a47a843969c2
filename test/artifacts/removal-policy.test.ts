/**
 * `removalPolicy` on `AmiBake` and `ContainerImageBuild`: what the template carries, what it grants,
 * and what it does not change (the fingerprint, the wait, the IAM of stacks that keep their artifacts).
 * The runtime's side is in test/internal/runtime/runtime.test.ts and the jobs' tests.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { AmiBake, AmiBakeProps, BakeStep, BaseImage, ContainerImageBuild, ContainerImageBuildProps } from '../../src';
import { arnText as arn, jobsOf, runtimeStatements } from '../internal/runtime/jobs';
import { atSynth } from '../synth-errors';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function context(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'removal-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/nginx:1.27-alpine\n');
  return dir;
}
const CONTEXT = context();

function bake(props: Partial<AmiBakeProps> = {}, id = 'Bake', stack = new Stack(new App(), 'S', { env: ENV })): { stack: Stack; bake: AmiBake } {
  const made = new AmiBake(stack, id, { baseImage: BaseImage.fromAmiId('ami-0a1b2c3d4e5f67890'), steps: [BakeStep.shell([`echo ${id}`])], ...props });
  return { stack, bake: made };
}

function image(props: Partial<ContainerImageBuildProps> = {}, id = 'Image', stack = new Stack(new App(), 'S', { env: ENV })): { stack: Stack; image: ContainerImageBuild } {
  return { stack, image: new ContainerImageBuild(stack, id, { directory: CONTEXT, ...props }) };
}

const flat = (stack: Stack) => JSON.stringify(stack.resolve(runtimeStatements(Template.fromStack(stack))));
/** The template without the removal setting: what RETAIN and DESTROY must share. */
const waitsOf = (stack: Stack) => Object.keys(Template.fromStack(stack).findResources('AWS::CloudFormation::WaitCondition')).sort();

describe('AmiBake removalPolicy', () => {
  test('RETAIN (the default) adds nothing: the job has no removal setting, and the runtime only what the retention after each bake needs (no component or log group deletion)', () => {
    const { stack } = bake();
    const explicit = bake({ removalPolicy: RemovalPolicy.RETAIN }).stack;
    expect(jobsOf(Template.fromStack(stack))[0].Spec.RemovalPolicy).toBeUndefined();
    expect(flat(stack)).not.toMatch(/imagebuilder:DeleteComponent|logs:DeleteLogGroup/);
    expect(JSON.stringify(Template.fromStack(explicit).toJSON())).toEqual(JSON.stringify(Template.fromStack(stack).toJSON()));
  });

  test('DESTROY is a job setting only: same fingerprint, same wait, so switching it bakes nothing', () => {
    const retain = bake();
    const destroy = bake({ removalPolicy: RemovalPolicy.DESTROY });
    expect(destroy.bake.fingerprint).toBe(retain.bake.fingerprint);
    expect(destroy.bake.recipeVersion).toBe(retain.bake.recipeVersion);
    expect(waitsOf(destroy.stack)).toEqual(waitsOf(retain.stack));
    expect(jobsOf(Template.fromStack(destroy.stack))[0].Spec.RemovalPolicy).toBe('destroy');
  });

  test('DESTROY grants exactly what the runtime sends, on the stack\'s prefix and tags, in every region of the distribution', () => {
    const { stack, bake: made } = bake({ removalPolicy: RemovalPolicy.DESTROY, distribution: { regions: ['us-east-1'] } });
    const statements = stack.resolve(runtimeStatements(Template.fromStack(stack)));
    const prefix = made.recipeName.split('-bake-')[0];
    const find = (action: string) => statements.filter((s: any) => [s.Action].flat().includes(action));
    expect(find('cloudformation:DescribeStacks')).toEqual([expect.objectContaining({ Resource: { Ref: 'AWS::StackId' } })]);
    expect(arn(find('imagebuilder:DeleteImage')[0].Resource)).toBe(`arn:aws:imagebuilder:eu-west-1:123456789012:image/${prefix}-*`);
    expect(arn(find('imagebuilder:DeleteImageRecipe')[0].Resource)).toBe(`arn:aws:imagebuilder:eu-west-1:123456789012:image-recipe/${prefix}-*`);
    expect(find('imagebuilder:DeleteComponent')[0].Action).toEqual(['imagebuilder:ListComponentBuildVersions', 'imagebuilder:DeleteComponent']);
    expect(arn(find('imagebuilder:DeleteComponent')[0].Resource)).toBe(`arn:aws:imagebuilder:eu-west-1:123456789012:component/${prefix}-*`);
    expect(find('imagebuilder:ListImageRecipes')[0]).toMatchObject({ Action: 'imagebuilder:ListImageRecipes', Resource: '*' });
    expect(find('ec2:DescribeImageAttribute').map((s: any) => arn(s.Resource))).toEqual(['arn:aws:ec2:*::image/*']);
    // Another stack's hold keeps an AMI: the register of every region is read
    expect(find('ssm:GetParametersByPath').flatMap((s: any) => [s.Resource].flat()).map(arn).filter((r: string) => r.includes('_holds'))).toEqual([
      'arn:aws:ssm:*:123456789012:parameter/cdk-immutable-deploys/_holds/*',
    ]);
    expect(find('ec2:DeregisterImage').map((s: any) => [arn(s.Resource), s.Condition])).toEqual([
      // every region, once: a region dropped from distribution.regions still holds copies to delete
      ['arn:aws:ec2:*::image/*', { StringLike: { 'aws:ResourceTag/cdk-immutable-deploys:bake': `${prefix}-*` } }],
    ]);
    expect(find('ec2:DeleteSnapshot').map((s: any) => [arn(s.Resource), s.Condition])).toEqual([
      ['arn:aws:ec2:*::snapshot/*', { StringEquals: { 'aws:ResourceTag/CreatedBy': 'EC2 Image Builder' } }],
    ]);
  });

  test('IAM does not grow with the number of DESTROY bakes', () => {
    const one = bake({ removalPolicy: RemovalPolicy.DESTROY }).stack;
    const three = new Stack(new App(), 'S', { env: ENV });
    for (const id of ['Bake', 'Two', 'Three']) bake({ removalPolicy: RemovalPolicy.DESTROY }, id, three);
    expect(flat(three)).toEqual(flat(one));
  });

  test('a policy with no meaning for an artifact is refused, naming the construct, the prop and the value', () => {
    expect(() => bake({ removalPolicy: RemovalPolicy.SNAPSHOT })).toThrow(/^S\/Bake \[AmiBake\]: removalPolicy \(snapshot\) has no meaning for an artifact.*Pass RemovalPolicy.RETAIN \(the default\) or RemovalPolicy.DESTROY\./);
  });
});

describe('ContainerImageBuild removalPolicy', () => {
  test('RETAIN (the default) adds nothing: no setting, no tag on the repository, no delete permission', () => {
    const { stack } = image();
    const template = Template.fromStack(stack);
    expect(jobsOf(template)[0].Spec.RemovalPolicy).toBeUndefined();
    expect(JSON.stringify(template.findResources('AWS::ECR::Repository'))).not.toContain('destroy-with');
    expect(flat(stack)).not.toMatch(/ecr:DeleteRepository|kms:RetireGrant/);
  });

  test('DESTROY: same fingerprint and wait; the repository keeps CloudFormation\'s Retain (the runtime deletes it) and is tagged for this stack', () => {
    const retain = image();
    const destroy = image({ removalPolicy: RemovalPolicy.DESTROY });
    expect(destroy.image.fingerprint).toBe(retain.image.fingerprint);
    expect(waitsOf(destroy.stack)).toEqual(waitsOf(retain.stack));
    const template = Template.fromStack(destroy.stack);
    expect(jobsOf(template)[0].Spec.RemovalPolicy).toBe('destroy');
    const [repository] = Object.values(template.findResources('AWS::ECR::Repository')) as any[];
    expect(repository.DeletionPolicy).toBe('Retain');
    expect(repository.Properties.Tags).toEqual([{ Key: 'cdk-immutable-deploys:destroy-with', Value: 'S' }]);
  });

  test('DESTROY grants ecr:DeleteRepository once, on repositories tagged with this stack\'s name, whatever the number of images', () => {
    const one = image({ removalPolicy: RemovalPolicy.DESTROY }).stack;
    const three = new Stack(new App(), 'S', { env: ENV });
    for (const id of ['Image', 'Two', 'Three']) image({ removalPolicy: RemovalPolicy.DESTROY }, id, three);
    expect(flat(three)).toEqual(flat(one));
    const statements = one.resolve(runtimeStatements(Template.fromStack(one)));
    const deletes = statements.filter((s: any) => [s.Action].flat().includes('ecr:DeleteRepository'));
    expect(deletes.map((s: any) => [s.Action, arn(s.Resource), s.Condition])).toEqual([[
      'ecr:DeleteRepository',
      'arn:aws:ecr:eu-west-1:123456789012:repository/*',
      { StringEquals: { 'ecr:ResourceTag/cdk-immutable-deploys:destroy-with': 'S' } },
    ]]);
    // ECR retires its grants on the repository's aws/ecr key with the deleter's kms:RetireGrant: only through ECR (review #7),
    // so that the runtime itself may retire no grant of any key of the account.
    const retires = statements.filter((s: any) => [s.Action].flat().includes('kms:RetireGrant'));
    expect(retires.map((s: any) => [s.Action, arn(s.Resource), s.Condition])).toEqual([
      ['kms:RetireGrant', 'arn:aws:kms:eu-west-1:123456789012:key/*', { StringEquals: { 'kms:ViaService': 'ecr.eu-west-1.amazonaws.com' } }],
    ]);
  });

  test('DESTROY with shareWith is refused at synth: deleting the stack would delete images other accounts run, which ECR cannot tell apart', () => {
    // GIVEN / WHEN / THEN
    expect(atSynth(() => image({ shareWith: ['222222222222'], removalPolicy: RemovalPolicy.DESTROY }).image)).toThrow(
      /^S\/Image \[ContainerImageBuild\]: removalPolicy \(destroy\) would delete, with this stack, the images that accounts 222222222222 may run \(shareWith\).*CannotPullContainerError.*Keep RemovalPolicy.RETAIN \(the default\) for a build whose images other accounts run/);
    expect(atSynth(() => image({ shareWith: ['222222222222'] }).image)).not.toThrow();
  });

  test('DESTROY with a repository you pass is refused: it is yours, and stays', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    const repository = new ecr.Repository(stack, 'Mine', { imageTagMutability: ecr.TagMutability.IMMUTABLE });
    expect(atSynth(() => image({ repository, removalPolicy: RemovalPolicy.DESTROY }, 'Image', stack).image)).toThrow(
      /^S\/Image \[ContainerImageBuild\]: removalPolicy \(destroy\) would delete the repository you passed \(S\/Mine\).*Leave out removalPolicy/);
  });
});
