/**
 * What Image Builder, EC2 or CloudFormation would refuse at deploy time (after minutes of building)
 * fails the synth with the library's message; what a layered bake in another stack imports; how a
 * shipped directory keeps its files' modes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AmiBake, AmiBakeProps, BakeStep, BaseImage, ImmutableAutoScalingGroup } from '../../../src';
import { jobOf } from '../../internal/runtime/jobs';
import { atSynth } from '../../synth-errors';

const AL2023 = 'ami-0a1b2c3d4e5f67890';
const base = (overrides: Partial<AmiBakeProps> = {}): AmiBakeProps => ({ baseImage: BaseImage.fromAmiId(AL2023), steps: [BakeStep.shell(['true'])], ...overrides });
/** Builds a bake and synthesizes its app: what the props checks record is reported then. */
const make = (overrides: Partial<AmiBakeProps>) => atSynth(() => new AmiBake(new Stack(undefined, 'S'), 'Bake', base(overrides)));

describe('refused at synth, with the prop, the value and what to do', () => {
  test.each([
    ['aws:', { 'aws:cloudformation:stack-name': 'x' }, /S\/Bake \[AmiBake\]: tags \(aws:cloudformation:stack-name\) starts with 'aws:', which AWS reserves\. Use another key\./],
    ['CreatedBy', { CreatedBy: 'me' }, /tags \(CreatedBy\) is a tag Image Builder sets on every AMI and build instance it makes/],
    ['Ec2ImageBuilderArn', { Ec2ImageBuilderArn: 'arn' }, /tags \(Ec2ImageBuilderArn\) is a tag Image Builder sets/],
    ['cdk-immutable-deploys:', { 'cdk-immutable-deploys:keep': 'true' }, /tags \(cdk-immutable-deploys:keep\) starts with 'cdk-immutable-deploys:', which this library reserves.*tag that AMI cdk-immutable-deploys:keep=true yourself/],
  ])('a reserved tag key (%s)', (_name, tags, message) => {
    expect(make({ tags })).toThrow(message);
  });

  test('Name and Tags, which Image Builder refuses on build instances, go to the AMIs only', () => {
    const stack = new Stack();
    new AmiBake(stack, 'Bake', base({ tags: { Name: 'web', Tags: 'x', team: 'web' } }));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', { ResourceTags: { team: 'web' } });
    template.hasResourceProperties('AWS::ImageBuilder::DistributionConfiguration', {
      Distributions: [Match.objectLike({ AmiDistributionConfiguration: Match.objectLike({ AmiTags: Match.objectLike({ Name: 'web', Tags: 'x', team: 'web' }) }) })],
    });
  });

  test.each([
    ['docker format', ["docker ps --format '{{.ID}}'"]],
    ['a Helm template', ['echo "{{ .Values.image }}" > values.tpl']],
  ])('{{ in a shell step (%s): AWSTOE would read it as a variable; ship the script as a file', (_name, commands) => {
    expect(() => BakeStep.shell(commands)).toThrow(/^BakeStep\.shell\(\): commands has '.*\{\{.*', with '\{\{': AWSTOE reads \{\{ \.\.\. \}\} in a component document as a variable.*BakeStep\.file\('script\.sh', '\/tmp\/script\.sh'\)/);
  });

  test('{{ }} in a component document: a declared parameter, constant, loop value or step output passes; anything else fails, naming it', () => {
    const doc = (commands: string, extra = '') => `name: D\nschemaVersion: 1.0\n${extra}phases:\n  - name: build\n    steps:\n      - name: Run\n        action: ExecuteBash\n        loop:\n          name: hosts\n          forEach: [a, b]\n        inputs:\n          commands:\n            - ${commands}\n`;
    expect(() => BakeStep.document(doc("echo '{{ Source }} {{ Count }}'", 'parameters:\n  - Count:\n      type: string\n      default: "1"\nconstants:\n  - Source:\n      type: string\n      value: x\n'))).not.toThrow();
    expect(() => BakeStep.document(doc("echo '{{ build.Run.outputs.stdout }} {{ loop.index }} {{ hosts.value }}'"))).not.toThrow();
    expect(() => BakeStep.document(doc("docker ps --format '{{.ID}}'"))).toThrow(/^BakeStep\.document\(\): yaml is a malformed component document:\n {2}- '\{\{\.ID\}\}' is not a parameter, constant, loop value or step output of this document.*BakeStep\.file/s);
    expect(() => BakeStep.document(doc("echo '{{ item }}'"))).toThrow(/'\{\{ item \}\}' is not a parameter/);
  });

  test.each([
    ['(', 'web(1)'],
    ['/', 'team/web'],
    ['a leading dot', '.web'],
    ['81 characters', 'a'.repeat(81)],
    ['a placeholder', 'web-{{ imagebuilder:buildDate }}'],
  ])('an amiName Image Builder or EC2 refuses (%s)', (_name, amiName) => {
    expect(make({ amiName })).toThrow(/amiName \(.*\) is not a valid AMI name prefix: Image Builder and EC2 both accept only letters, digits, spaces and \. - _/);
  });

  test('an amiName both accept passes, and names the AMIs', () => {
    const stack = new Stack();
    const bake = new AmiBake(stack, 'Bake', base({ amiName: 'web server_2.0-x' }));
    Template.fromStack(stack).hasResourceProperties('AWS::ImageBuilder::DistributionConfiguration', {
      Distributions: [Match.objectLike({ AmiDistributionConfiguration: Match.objectLike({ Name: `web server_2.0-x-${bake.fingerprint.slice(0, 16)}-{{ imagebuilder:buildDate }}` }) })],
    });
  });

  test('keepLaunchedWithin over 365 days, the most a lifecycle policy takes', () => {
    expect(make({ keepLaunchedWithin: Duration.days(366) })).toThrow(/keepLaunchedWithin \(366 days\) is longer than 365 days, the most an Image Builder lifecycle policy's last-launched rule takes\. Pass at most Duration\.days\(365\)/);
    expect(make({ keepLaunchedWithin: Duration.days(365) })).not.toThrow();
  });

  test('more than 20 steps and test steps together, the most components an Image Builder recipe takes', () => {
    const steps = (n: number) => Array.from({ length: n }, (_, i) => BakeStep.shell([`echo ${i}`]));
    expect(make({ steps: steps(15), testSteps: steps(6) })).toThrow(/steps and testSteps \(15 steps and 6 test steps\) make 21 components, and an Image Builder recipe takes at most 20 build and test components together\. Merge shell steps/);
    expect(make({ steps: steps(14), testSteps: steps(6) })).not.toThrow();
  });
});

describe('a directory step keeps its files\' modes', () => {
  test('without unzip, the files are extracted with Python and their Unix modes restored (zipfile -e writes every file 0644)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bake-dir-'));
    fs.writeFileSync(path.join(dir, 'start.sh'), '#!/bin/sh\n', { mode: 0o755 });
    const stack = new Stack();
    new AmiBake(stack, 'Bake', base({ steps: [BakeStep.directory(dir, '/opt/app')] }));
    // The document holds the asset's bucket (a token): its literal parts are enough here.
    const data = jobOf(Template.fromStack(stack), 'Default/Bake').Spec.Components[0].Data;
    const document = JSON.parse(data['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'BUCKET')).join(''));
    const extract: string = document.phases[0].steps[1].inputs.commands.find((c: string) => c.includes('unzip'));
    expect(extract).toMatch(/^if command -v unzip >\/dev\/null 2>&1; then unzip -oq '.*' -d '\/opt\/app'; else python3 -c '[^']*os\.chmod\(p,\(i\.external_attr>>16\)&0o7777\)[^']*' '.*\.zip' '\/opt\/app'; fi$/);
    expect(extract).not.toMatch(/-m zipfile/);
    expect(extract).not.toContain('{{');
  });
});

describe('a layered bake in another stack', () => {
  test('imports its foundation by fingerprint through its own stack: no export the foundation\'s next bake could not change', () => {
    // GIVEN a foundation in one stack and the application bake on it in another, same account and region
    const app = new App();
    const env = { account: '123456789012', region: 'eu-west-1' };
    const foundationStack = new Stack(app, 'Foundation', { env });
    const foundation = new AmiBake(foundationStack, 'Base', base({ steps: [BakeStep.shell(['dnf install -y nginx'])] }));
    const appStack = new Stack(app, 'AppStack', { env });
    const web = new AmiBake(appStack, 'Web', base({ baseImage: BaseImage.fromAmiArtifact(foundation), steps: [BakeStep.shell(['echo app'])] }));
    // WHEN
    const assembly = app.synth();
    // THEN no output of the foundation is imported, and the parent AMI is the app stack's own lookup of the foundation's fingerprint
    expect(JSON.stringify(assembly.getStackByName('Foundation').template.Outputs ?? {})).not.toMatch(/Export/);
    expect(JSON.stringify(assembly.getStackByName('AppStack').template)).not.toMatch(/Fn::ImportValue/);
    const template = Template.fromStack(appStack);
    const parent = jobOf(template, 'AppStack/Web').Spec.ParentImage;
    const [lookupId] = Object.entries<any>(template.findResources('Custom::CdkImmutableDeploysLookup')).find(([, r]) => r.Properties.Fingerprint === foundation.fingerprint)!;
    expect(parent).toEqual({ 'Fn::GetAtt': [lookupId, 'Id'] });
    // The foundation's fingerprint still counts in the layer's.
    expect(web.fingerprint).not.toEqual(new AmiBake(new Stack(new App(), 'X', { env }), 'Web', base({ steps: [BakeStep.shell(['echo app'])] })).fingerprint);
  });
});

describe('a bake passed to a stack of another account', () => {
  test('a key of the app (ARN known only at deploy time) cannot be named there: a warning says to import with encryptionKeyArn; a key ARN known at synth is passed on, and the group gets its grant', () => {
    const app = new App();
    const bakeStack = new Stack(app, 'Bake', { env: { account: '111111111111', region: 'eu-west-1' } });
    const prod = new Stack(app, 'Prod', { env: { account: '333333333333', region: 'eu-west-1' } });
    const vpc = ec2.Vpc.fromVpcAttributes(prod, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['a'], privateSubnetIds: ['subnet-00000000000000001'] });
    const appKey = new AmiBake(bakeStack, 'AppKey', base({ rootVolumeKey: new kms.Key(bakeStack, 'Key'), distribution: { accounts: ['333333333333'] } }));
    new ImmutableAutoScalingGroup(prod, 'A', { vpc, artifact: appKey, instanceType: new ec2.InstanceType('t3.small') });
    const keyArn = 'arn:aws:kms:eu-west-1:111111111111:key/1a2b3c4d-0000-0000-0000-000000000001';
    const literal = new AmiBake(bakeStack, 'Literal', base({ rootVolumeKey: kms.Key.fromKeyArn(bakeStack, 'Imported', keyArn), distribution: { accounts: ['333333333333'] } }));
    new ImmutableAutoScalingGroup(prod, 'B', { vpc, artifact: literal, instanceType: new ec2.InstanceType('t3.small') });
    Annotations.fromStack(prod).hasWarning('/Prod/A', Match.stringLikeRegexp('Bake/AppKey is encrypted with a customer managed key .*AmiArtifact\\.fromFingerprint\\(.*encryptionKeyArn'));
    Annotations.fromStack(prod).hasNoWarning('/Prod/B', Match.anyValue());
    const grants = Object.values<any>(Template.fromStack(prod).findResources('Custom::CdkImmutableDeploysLookup')).filter((r) => r.Properties.Kind === 'key-grant');
    expect(grants.map((g) => g.Properties.Spec.KeyArn)).toEqual([keyArn]);
  });
});
