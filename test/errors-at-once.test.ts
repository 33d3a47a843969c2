/**
 * Errors a user can act on, all at once (issue 26 item 5; first-use review, findings 20 and 21): the
 * prop problems of every construct of an app are reported by one synthesis, each with its construct
 * path and type, prop, value and fix; and each warning names the acknowledgement that silences it, in
 * the form the CDK CLI prints it.
 */
import * as path from 'path';
import { Annotations as CoreAnnotations, App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { importedVpc } from './deployments/ecs/fixtures';
import { synthErrors, VALIDATION_FAILED } from './synth-errors';
import { AmiBake, BakeStep, BaseImage, ContainerArtifact, ContainerImageBuild, ImmutableFargateService, ReplicationDestination } from '../src';
import { constructError, PropProblems, SynthError, warn } from '../src/internal/errors';

const CONTEXT = path.join(__dirname, 'artifacts', 'container', 'fixtures', 'app');
const ENV = { account: '111111111111', region: 'eu-west-1' };

/** An app with seven mistakes in four constructs of two stacks, none of which the others depend on. */
function appWithMistakes(): App {
  const app = new App();
  const build = new Stack(app, 'Build', { env: ENV });
  new ContainerImageBuild(build, 'Image', { directory: CONTEXT, retainImages: 0, computeType: codebuild.ComputeType.LAMBDA_4GB });
  new AmiBake(build, 'Bake', {
    baseImage: BaseImage.fromAmiId('ami-0123456789abcdef0'),
    steps: [BakeStep.shell(['true'])],
    amiName: 'web/server',
    distribution: { regions: ['Europe'] },
  });
  const run = new Stack(app, 'Run', { env: ENV });
  new ImmutableFargateService(run, 'Web', {
    vpc: importedVpc(run),
    artifact: ContainerArtifact.fromDigest(run, 'Artifact', { repository: ecr.Repository.fromRepositoryName(run, 'Repo', 'web'), imageDigest: `sha256:${'a'.repeat(64)}` }),
    cpu: 300,
    desiredCount: -1,
  });
  new ReplicationDestination(run, 'Replicas', { sourceAccounts: ['1111'] });
  return app;
}

describe('every prop problem of an app, in one synthesis', () => {
  test('one app with several mistakes in several constructs reports all of them in one synth, each with its path, prop, value and fix', () => {
    // GIVEN an app with seven independent mistakes in four constructs: constructing it does not throw
    const app = appWithMistakes();

    // WHEN it synthesizes
    let error: Error | undefined;
    try {
      app.synth();
    } catch (e) {
      error = e as Error;
    }

    // THEN it fails once, with aws-cdk-lib's list of every construct's problems, each after its path
    expect(error?.message.startsWith(VALIDATION_FAILED)).toBe(true);
    const errors = synthErrors(app);
    expect(errors).toEqual([
      expect.stringMatching(/^\[Build\/Image\] Build\/Image \[ContainerImageBuild\]: retainImages \(0\) must be a whole number of at least 1.*\. Pass 1 or more/),
      expect.stringMatching(/^\[Build\/Image\] Build\/Image \[ContainerImageBuild\]: computeType \(BUILD_LAMBDA_4GB\) cannot run Docker builds.*\. Pass a BUILD_GENERAL1 type/),
      expect.stringMatching(/^\[Build\/Bake\] Build\/Bake \[AmiBake\]: amiName \(web\/server\) is not a valid AMI name prefix.*\. Use 1 to 80 of those characters/),
      expect.stringMatching(/^\[Build\/Bake\] Build\/Bake \[AmiBake\]: distribution\.regions has 'Europe', which is not a region name\. Pass names such as 'eu-west-1'\./),
      expect.stringMatching(/^\[Run\/Web\] Run\/Web \[ImmutableFargateService\]: cpu \(300\) is not a Fargate size\. Use one of 256/),
      expect.stringMatching(/^\[Run\/Web\] Run\/Web \[ImmutableFargateService\]: desiredCount \(-1\) should be a whole number, 0 or more\. Pass how many tasks run\./),
      expect.stringMatching(/^\[Run\/Replicas\] Run\/Replicas \[ReplicationDestination\]: sourceAccounts \(\[1111\]\) has '1111', which is not an AWS account id\. Pass the 12-digit ids/),
    ]);
    // and the error points at no file of the library (the new user saw stack traces into src/internal/paths.ts)
    expect(error?.stack).not.toMatch(/src\/internal\/errors|SynthError/);
  });

  test('a construct runs every independent check: two mistakes of one prop list, and of two props, are both reported', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    new AmiBake(stack, 'Bake', {
      baseImage: BaseImage.fromAmiId('ami-0123456789abcdef0'),
      steps: [BakeStep.shell(['true'])],
      distribution: { regions: ['Europe', 'Asia'], accounts: ['12345'] },
      buildTimeout: Duration.hours(13),
    });
    const errors = synthErrors(stack);
    expect(errors.map((e) => e.replace(/ which .*| \(.*/, ''))).toEqual([
      '[S/Bake] S/Bake [AmiBake]: buildTimeout',
      '[S/Bake] S/Bake [AmiBake]: distribution.regions has \'Europe\',',
      '[S/Bake] S/Bake [AmiBake]: distribution.regions has \'Asia\',',
      '[S/Bake] S/Bake [AmiBake]: distribution.accounts has \'12345\',',
    ]);
  });

  test('a check the constructor builds on still fails at once, naming the prop', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    expect(() => new ImmutableFargateService(stack, 'Web', { artifact: undefined!, vpc: importedVpc(stack) })).toThrow(/^S\/Web \[ImmutableFargateService\]: artifact is missing/);
  });

  test('PropProblems: a problem reads as constructError\'s message; check() runs every check, records SynthErrors and lets any other error through', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    const scope = new Construct(stack, 'Web');
    const problems = PropProblems.of(scope, 'ImmutableFargateService');
    const problem = { prop: 'cpu', value: 300, problem: 'is not a Fargate size', fix: 'Use 256.' };

    // WHEN
    problems.add(problem);
    problems.check(
      () => { throw constructError(scope, 'ImmutableFargateService', { prop: 'desiredCount', value: -1, problem: 'should be 0 or more', fix: 'Pass 2.' }); },
      () => { throw new SynthError('S/Web [ImmutableFargateService]', { prop: 'cpu', value: 300, problem: 'is not a Fargate size', fix: 'Use 256.' }); },
      () => undefined,
    );

    // THEN each problem once, in order, as the node's validation reports them
    expect(PropProblems.of(scope, 'ImmutableFargateService')).toBe(problems);
    expect(scope.node.validate()).toEqual([
      constructError(scope, 'ImmutableFargateService', problem).message,
      'S/Web [ImmutableFargateService]: desiredCount (-1) should be 0 or more. Pass 2.',
    ]);
    expect(() => problems.check(() => { throw new TypeError('a bug'); })).toThrow(TypeError);
    expect(new Construct(stack, 'Clean').node.validate()).toEqual([]);
  });
});

describe('a warning names its acknowledgement in the form that works', () => {
  /** A stack whose construct Web has the plaintext-secret warning. */
  function warned(): { stack: Stack; web: Construct } {
    const stack = new Stack(new App(), 'S');
    const web = new Construct(stack, 'Web');
    warn(web, 'plaintext-secret', 'DB_PASSWORD looks like it holds a secret.');
    return { stack, web };
  }
  const remaining = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('DB_PASSWORD'));

  test('the warning ends with Validations.of(construct).acknowledge, with the id', () => {
    const { stack } = warned();
    const [warning] = remaining(stack);
    expect(warning.entry.data).toBe(
      'DB_PASSWORD looks like it holds a secret. Acknowledge with Validations.of(construct).acknowledge({ id: \'cdk-immutable-deploys:plaintext-secret\', reason }).'
      + ' [ack: cdk-immutable-deploys:plaintext-secret]');
  });

  test.each([
    ['the id as the warning prints it', 'cdk-immutable-deploys:plaintext-secret'],
    ['the id as the CDK CLI prints it ("Acknowledge with \'Annotation::...\'")', 'Annotation::cdk-immutable-deploys:plaintext-secret'],
  ])('Validations.acknowledge silences it, with %s, on the construct or a construct above it', (_form, id) => {
    for (const on of ['construct', 'stack'] as const) {
      const { stack, web } = warned();
      Validations.of(on === 'construct' ? web : stack).acknowledge({ id, reason: 'DB_PASSWORD holds the name of a secret' });
      expect(remaining(stack)).toEqual([]);
    }
  });

  test('Annotations.acknowledgeWarning takes the id without the CLI\'s Annotation:: prefix only (what the new user met)', () => {
    const plain = warned();
    CoreAnnotations.of(plain.web).acknowledgeWarning('cdk-immutable-deploys:plaintext-secret', 'a secret\'s name');
    expect(remaining(plain.stack)).toEqual([]);
    const prefixed = warned();
    CoreAnnotations.of(prefixed.web).acknowledgeWarning('Annotation::cdk-immutable-deploys:plaintext-secret', 'a secret\'s name');
    expect(remaining(prefixed.stack)).toHaveLength(1);
  });

  test('a library construct\'s warning is silenced by the call it names (ImmutableFargateService environment)', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    const web = new ImmutableFargateService(stack, 'Web', {
      vpc: importedVpc(stack),
      artifact: ContainerArtifact.fromDigest(stack, 'Artifact', { repository: ecr.Repository.fromRepositoryName(stack, 'Repo', 'web'), imageDigest: `sha256:${'a'.repeat(64)}` }),
      environment: { DB_PASSWORD_NAME_X: 'x', API_TOKEN: 'name-of-a-secret' },
    });
    const [warning] = Annotations.fromStack(stack).findWarning('/S/Web', Match.stringLikeRegexp('plain text'));
    const named = /Validations\.of\(construct\)\.acknowledge\(\{ id: '([^']+)', reason \}\)/.exec(String(warning.entry.data));
    expect(named?.[1]).toBe('cdk-immutable-deploys:plaintext-secret');
    Validations.of(web).acknowledge({ id: `Annotation::${named![1]}`, reason: 'API_TOKEN holds the name of a secret' });
    expect(Annotations.fromStack(stack).findWarning('/S/Web', Match.stringLikeRegexp('plain text'))).toEqual([]);
  });
});
