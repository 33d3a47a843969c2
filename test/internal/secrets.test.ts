/**
 * One secrets detector for every user string that lands in a template: the same rules and the same
 * acknowledgement on every surface (environment, build arguments, shell steps and documents, user
 * data, health-check commands, tags, names).
 */
import * as path from 'path';
import { Annotations, App, SecretValue, Stack } from 'aws-cdk-lib';
import { Annotations as AssertAnnotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import {
  AmiArtifact, AmiBake, BakeStep, BaseImage, ContainerArtifact, ContainerImageBuild, ImmutableAutoScalingGroup,
  ImmutableFargateService, InstanceHealthCheck, ReplicationDestination,
} from '../../src';
import { isDynamicSecretReference, looksLikeSecretName, secretAssignments, secretValueKind } from '../../src/internal/secrets';
import { atSynth } from '../synth-errors';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const CONTEXT = path.join(__dirname, '..', 'artifacts', 'container', 'fixtures', 'app');
const AMI = 'ami-0123456789abcdef0';

function newStack(): Stack {
  const stack = new Stack(new App(), 'S', { env: ENV });
  ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-01234567', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-01234567'] });
  return stack;
}
const vpcOf = (stack: Stack) => stack.node.findChild('Vpc') as ec2.IVpc;

/** Every surface: a construct built with one user string placed there. The prop its error names. */
const SURFACES: Array<{ surface: string; prop: RegExp; build: (stack: Stack, text: string) => void }> = [
  {
    surface: 'ImmutableFargateService environment',
    prop: /environment variable APP_SETTING/,
    build: (stack, text) => new ImmutableFargateService(stack, 'Web', { vpc: vpcOf(stack), artifact: digestArtifact(stack), environment: { APP_SETTING: text } }),
  },
  {
    surface: 'ImmutableFargateService serviceName',
    prop: /serviceName/,
    build: (stack, text) => new ImmutableFargateService(stack, 'Web', { vpc: vpcOf(stack), artifact: digestArtifact(stack), serviceName: text }),
  },
  {
    surface: 'ContainerImageBuild buildArgs',
    prop: /buildArgs APP_SETTING/,
    build: (stack, text) => new ContainerImageBuild(stack, 'Image', { directory: CONTEXT, buildArgs: { APP_SETTING: text } }),
  },
  {
    surface: 'AmiBake steps (BakeStep.shell)',
    prop: /steps\[0\]/,
    build: (stack, text) => bake(stack, { steps: [BakeStep.shell([`echo ${text} > /etc/app.conf`])] }),
  },
  {
    surface: 'AmiBake testSteps (BakeStep.document)',
    prop: /testSteps\[0\]/,
    build: (stack, text) => bake(stack, {
      testSteps: [BakeStep.document(`name: T\nschemaVersion: 1.0\nphases:\n  - name: test\n    steps:\n      - name: Check\n        action: ExecuteBash\n        inputs:\n          commands:\n            - echo '${text}'\n`)],
    }),
  },
  {
    surface: 'AmiBake userData',
    prop: /userData/,
    build: (stack, text) => {
      const userData = ec2.UserData.forLinux();
      userData.addCommands(`echo '${text}' > /etc/app.conf`);
      bake(stack, { userData });
    },
  },
  { surface: 'AmiBake tags', prop: /tags Team/, build: (stack, text) => bake(stack, { tags: { Team: text } }) },
  {
    surface: 'ImmutableAutoScalingGroup userData',
    prop: /userData/,
    build: (stack, text) => {
      const userData = ec2.UserData.forLinux();
      userData.addCommands(`echo '${text}' > /etc/app.conf`);
      new ImmutableAutoScalingGroup(stack, 'Fleet', { vpc: vpcOf(stack), artifact: AmiArtifact.fromAmiId(AMI), instanceType: new ec2.InstanceType('t3.small'), userData });
    },
  },
  {
    surface: 'ImmutableAutoScalingGroup healthCheck (InstanceHealthCheck.command)',
    prop: /healthCheck/,
    build: (stack, text) => new ImmutableAutoScalingGroup(stack, 'Fleet', {
      vpc: vpcOf(stack),
      artifact: AmiArtifact.fromAmiId(AMI),
      instanceType: new ec2.InstanceType('t3.small'),
      healthCheck: InstanceHealthCheck.command(`curl -sf '${text}'`),
    }),
  },
];

function digestArtifact(stack: Stack) {
  return ContainerArtifact.fromDigest(stack, 'Artifact', { repository: ecr.Repository.fromRepositoryName(stack, 'Repo', 'web'), imageDigest: `sha256:${'a'.repeat(64)}` });
}

function bake(stack: Stack, props: Partial<ConstructorParameters<typeof AmiBake>[2]>) {
  return new AmiBake(stack, 'Bake', { baseImage: BaseImage.fromAmiId(AMI), steps: [BakeStep.shell(['true'])], ...props });
}

const SECRETS: Array<[string, string]> = [
  ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE'],
  ['a URL with a password in it', 'postgres://app:hunter2@db.internal:5432/app'],
  ['a GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
  ['an npm token', 'npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'],
];

describe('one secrets detector on every surface', () => {
  describe.each(SURFACES)('$surface', ({ prop, build }) => {
    test.each(SECRETS)('a value that is %s fails synthesis, naming the prop and the kind', (kind, secret) => {
      // GIVEN a construct with a secret in one of the strings it writes to its template
      // WHEN it is created
      // THEN synthesis stops with the prop, the kind of secret, and how to acknowledge a false positive
      const stack = newStack();
      expect(atSynth(() => { build(stack, secret); return stack; })).toThrow(new RegExp(`${prop.source}.* holds what looks like ${kind}.*plaintext-secret-value`, 's'));
    });

    test('a plain value passes, and the same value acknowledged as no secret passes too', () => {
      // GIVEN an ordinary value, and a documentation example acknowledged on the stack beforehand
      const stack = newStack();
      expect(atSynth(() => { build(stack, 'hello-world'); return stack; })).not.toThrow();
      const acknowledged = newStack();
      Annotations.of(acknowledged).acknowledgeWarning('cdk-immutable-deploys:plaintext-secret-value', 'the AWS documentation\'s example key');
      // WHEN the construct is created THEN nothing fails
      expect(atSynth(() => { build(acknowledged, 'AKIAIOSFODNN7EXAMPLE'); return acknowledged; })).not.toThrow();
    });
  });

  test('first-use finding 5: secrets in buildArgs fail (an npm token, an AWS key pair), and secret names warn', () => {
    // GIVEN the new user's two cases, and a build argument named like a secret with an unrecognisable value
    const stack = newStack();
    expect(atSynth(() => new ContainerImageBuild(newStack(), 'Npm', { directory: CONTEXT, buildArgs: { NPM_TOKEN: 'npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' } })))
      .toThrow(/buildArgs NPM_TOKEN holds what looks like an npm token, which would be stored in plain text in the template .*Never build secrets into an image/s);
    expect(atSynth(() => new ContainerImageBuild(newStack(), 'Aws', {
      directory: CONTEXT, buildArgs: { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    }))).toThrow(/buildArgs AWS_ACCESS_KEY_ID holds what looks like an AWS access key id/);
    // WHEN the name alone says secret
    new ContainerImageBuild(stack, 'Named', { directory: CONTEXT, buildArgs: { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', GREETING: 'hi' } });
    // THEN a warning names it, and not the ordinary argument
    const warnings = AssertAnnotations.fromStack(stack).findWarning('/S/Named', Match.stringLikeRegexp('cdk-immutable-deploys:plaintext-secret'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/AWS_SECRET_ACCESS_KEY looks like it holds a secret/);
    expect(JSON.stringify(warnings[0].entry.data)).not.toContain('GREETING');
  });

  test('a secret assigned in a shell step or user data warns; the warning is acknowledged like every other', () => {
    // GIVEN a step that exports a password, and a group whose user data does
    const stack = newStack();
    bake(stack, { steps: [BakeStep.shell(['export DB_PASSWORD=hunter2', 'API_URL=https://example.com ./configure'])] });
    const userData = ec2.UserData.forLinux();
    userData.addCommands('echo "API_TOKEN=abc123" >> /etc/app.env');
    const fleet = new ImmutableAutoScalingGroup(stack, 'Fleet', { vpc: vpcOf(stack), artifact: AmiArtifact.fromAmiId(AMI), instanceType: new ec2.InstanceType('t3.small'), userData });
    // WHEN the app is synthesized, then the group's warning is acknowledged
    const bakeWarnings = AssertAnnotations.fromStack(stack).findWarning('/S/Bake', Match.stringLikeRegexp('plaintext-secret'));
    expect(JSON.stringify(bakeWarnings.map((w) => w.entry.data))).toMatch(/DB_PASSWORD \(in steps\[0\]\) looks like it holds a secret/);
    expect(JSON.stringify(bakeWarnings.map((w) => w.entry.data))).not.toContain('API_URL');
    Annotations.of(fleet).acknowledgeWarning('cdk-immutable-deploys:plaintext-secret', 'API_TOKEN is a placeholder the instance replaces');
    // THEN the group's warning is gone, the bake's stays
    expect(AssertAnnotations.fromStack(stack).findWarning('/S/Fleet', Match.stringLikeRegexp('plaintext-secret'))).toEqual([]);
    expect(AssertAnnotations.fromStack(stack).findWarning('/S/Bake', Match.stringLikeRegexp('plaintext-secret'))).toHaveLength(1);
  });

  test('a secret resolved into a tag or build argument (SecretValue.unsafeUnwrap) fails, as in environment', () => {
    // GIVEN a dynamic reference to a secret in a tag value
    const stack = newStack();
    const password = SecretValue.secretsManager('db-password').unsafeUnwrap();
    // WHEN the bake is created THEN it fails naming the tag
    expect(atSynth(() => bake(stack, { tags: { Db: password } }))).toThrow(/tags Db is a secret's value \(a dynamic reference/);
  });

  test('a secret in a name (ReplicationDestination repositoryPrefix) fails like any other string', () => {
    const stack = newStack();
    expect(atSynth(() => new ReplicationDestination(stack, 'R', { repositoryPrefix: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }))).toThrow(/repositoryPrefix/);
  });

  test('the rules: values, names, references and assignments', () => {
    expect(secretValueKind('-----BEGIN OPENSSH PRIVATE KEY-----')).toBe('a private key');
    expect(secretValueKind('https://example.com/path?x=1')).toBeUndefined();
    expect(secretValueKind('https://user@example.com')).toBeUndefined();
    expect(looksLikeSecretName('dbPassword')).toBe(true);
    expect(looksLikeSecretName('DB_SECRET_ARN')).toBe(false);
    expect(looksLikeSecretName('AUTHOR')).toBe(false);
    expect(secretAssignments('export NPM_TOKEN=abc && FOO=bar ./x; PASSWORD="$FROM_ENV"')).toEqual(['NPM_TOKEN']);
    expect(isDynamicSecretReference({ 'Fn::Join': ['', ['{{resolve:secretsmanager:db:SecretString:::}}']] })).toBe(true);
  });
});
