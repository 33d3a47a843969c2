import * as fs from 'fs';
import * as path from 'path';
import { App, Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { cleanUp, tempDir } from './fixtures';
import { AmiBake, BakeStep, BaseImage, ContainerImageBuild, ContainerImageBuildProps, ContainerPlatform, Fingerprint } from '../../src';
import type { AssemblyStack } from '../../src/plan/assembly';
import { CONTEXT_BUDGET, groupEntries, PLAN_INPUTS_KEY } from '../../src/plan/inputs';
import { changedInputs } from '../../src/plan/model';
import { offline } from '../../src/plan/offline';
import { plan } from '../../src/plan/plan';

/**
 * For each artifact it builds, the plan names which input changed. The constructs record a short
 * digest of every input that counts in the fingerprint in the template's own Metadata section
 * (aws-behaviour.md #360), never a file's content or a build argument's value.
 */
afterAll(() => cleanUp());

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** A directory named `files` (a directory step's name counts in its fingerprint) holding `files`. */
function context(files: { [relative: string]: string }): string {
  const dir = path.join(tempDir('plan-inputs-'), 'files');
  for (const [relative, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
    fs.writeFileSync(path.join(dir, relative), text);
  }
  return dir;
}

const DOCKERFILE = 'FROM public.ecr.aws/docker/library/node:22-slim AS build\nCOPY . /app\nFROM public.ecr.aws/docker/library/node:22-slim\nCOPY --from=build /app /app\n';
const FILES = { 'Dockerfile': DOCKERFILE, 'src/app.js': 'console.log(1)\n', 'src/lib/util.js': 'exports.x = 1\n', 'package.json': '{}\n' };

function imageStack(files: { [relative: string]: string }, props: Partial<ContainerImageBuildProps> = {}): AssemblyStack {
  const stack = new Stack(new App(), 'Web', { env: ENV });
  new ContainerImageBuild(stack, 'Image', { directory: context(files), ...props });
  return { name: 'Web', stackName: 'Web', account: ENV.account, region: ENV.region, template: Template.fromStack(stack).toJSON() };
}

async function changedBetween(before: AssemblyStack, after: AssemblyStack): Promise<string[]> {
  const result = await plan([after], offline([before]));
  const [row] = result.stacks[0].artifacts;
  expect(row.change).toEqual('build');
  return row.changedInputs;
}

describe('a container build names the input that changed', () => {
  const base = imageStack(FILES, { buildArgs: { VERSION: '1.0' } });

  test.each([
    ['a file of the context', imageStack({ ...FILES, 'src/app.js': 'console.log(2)\n' }, { buildArgs: { VERSION: '1.0' } }), ['context: src/app.js']],
    ['a file added to the context', imageStack({ ...FILES, 'README.md': 'hi\n' }, { buildArgs: { VERSION: '1.0' } }), ['context: README.md']],
    ['a build argument', imageStack(FILES, { buildArgs: { VERSION: '1.1' } }), ['build arg VERSION']],
    ['a new build argument', imageStack(FILES, { buildArgs: { VERSION: '1.0', MODE: 'prod' } }), ['build arg MODE']],
    ['the target', imageStack(FILES, { buildArgs: { VERSION: '1.0' }, target: 'build' }), ['target']],
    ['the platform', imageStack(FILES, { buildArgs: { VERSION: '1.0' }, platform: ContainerPlatform.LINUX_ARM64 }), ['platform']],
    ['the base image', imageStack({ ...FILES, Dockerfile: DOCKERFILE.replace(/node:22-slim$/m, 'node:24-slim') }, { buildArgs: { VERSION: '1.0' } }),
      ['base image', 'Dockerfile', 'context: Dockerfile']],
  ])('%s', async (_what, after, expected) => {
    expect(await changedBetween(base, after)).toEqual(expected);
  });

  test('a build argument\'s value is never in the template\'s inputs, only a short digest of it', () => {
    const stack = imageStack(FILES, { buildArgs: { TOKEN: 'value-that-must-not-be-shown' } });

    const recorded = (stack.template.Metadata as any)[PLAN_INPUTS_KEY]['Web/Image'];
    expect(recorded.inputs['buildArg:TOKEN']).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.stringify(recorded)).not.toContain('value-that-must-not-be-shown');
    expect(JSON.stringify(recorded)).not.toContain('console.log');
    // They belong to this fingerprint: a later fingerprint with other inputs never borrows them.
    expect(recorded.fingerprint).toEqual((Object.values(stack.template.Resources!).find((r) => (r.Metadata as any)?.['cdk-immutable-deploys:plan']?.role === 'artifact')!.Metadata as any)['cdk-immutable-deploys:plan'].fingerprint);
  });

  test('a large context is summarized by directory within the budget; a changed file is named by the smallest group that holds it', async () => {
    const many: { [relative: string]: string } = { Dockerfile: DOCKERFILE };
    for (let d = 0; d < 6; d++) for (let f = 0; f < 40; f++) many[`src/module${d}/file${f}.js`] = `${d}/${f}\n`;
    for (let f = 0; f < 20; f++) many[`static/asset${f}.css`] = `${f}\n`;
    const before = imageStack(many);
    const after = imageStack({ ...many, 'src/module3/file7.js': 'changed\n' });

    const keys = Object.keys((before.template.Metadata as any)[PLAN_INPUTS_KEY]['Web/Image'].inputs).filter((k) => k.startsWith('context:'));
    expect(keys.length).toBeLessThanOrEqual(CONTEXT_BUDGET);
    expect(keys).toContain('context:src/module3/');
    expect(await changedBetween(before, after)).toEqual(['context: src/module3/']);
  });

  test('the template metadata of 60 builds stays small: under 1 KB each', () => {
    const stack = new Stack(new App(), 'Web', { env: ENV });
    const dir = context(FILES);
    for (let i = 0; i < 60; i++) new ContainerImageBuild(stack, `Image${i}`, { directory: dir, buildArgs: { I: String(i) } });
    const bytes = JSON.stringify((Template.fromStack(stack).toJSON().Metadata as any)[PLAN_INPUTS_KEY], undefined, 1).length;
    expect(bytes / 60).toBeLessThan(1024);
  });
});

describe('a bake names the input that changed', () => {
  interface BakeVariant {
    readonly step?: string;
    readonly file?: string;
    readonly base?: string;
    readonly size?: number;
  }

  function bakeStack(options: BakeVariant = {}): AssemblyStack {
    const files = context({ 'nginx.conf': options.file ?? 'server {}\n', 'site/index.html': '<h1>hi</h1>\n' });
    const stack = new Stack(new App(), 'Bake', { env: ENV });
    new AmiBake(stack, 'Ami', {
      baseImage: BaseImage.fromAmiId(options.base ?? 'ami-0c614dee691cbbf37'),
      steps: [BakeStep.shell([options.step ?? 'dnf install -y nginx']), BakeStep.directory(files, '/etc/nginx')],
      ...(options.size ? { rootVolumeSize: Size.gibibytes(options.size) } : {}),
    });
    return { name: 'Bake', stackName: 'Bake', account: ENV.account, region: ENV.region, template: Template.fromStack(stack).toJSON() };
  }
  const base = bakeStack();

  test.each([
    ['a shell step', bakeStack({ step: 'dnf install -y nginx httpd-tools' }), ['step 1']],
    ['a file a directory step ships', bakeStack({ file: 'server { listen 8080; }\n' }), ['step 2', 'step 2: nginx.conf']],
    ['the base image', bakeStack({ base: 'ami-0123456789abcdef0' }), ['base image']],
    ['the root volume', bakeStack({ size: 30 }), ['root volume']],
  ])('%s', async (_what, after, expected) => {
    expect(await changedBetween(base, after)).toEqual(expected);
  });
});

describe('comparing recorded inputs', () => {
  test('a template written before inputs were recorded: which input changed is not known, and the plan says so', async () => {
    const before = imageStack(FILES);
    const old = { ...before, template: { ...before.template, Metadata: undefined } };

    const result = await plan([imageStack({ ...FILES, 'package.json': '{"a":1}\n' })], offline([old]));

    expect(result.stacks[0].artifacts[0]).toMatchObject({ change: 'build', changedInputs: [] });
    expect(result.stacks[0].notes).toEqual(['Web/Image: BEFORE records no inputs of its previous fingerprint (an earlier version of this library wrote it), so which input changed is not known.']);
  });

  test('a file on one side and its directory summarized on the other are named by the directory', () => {
    expect(changedInputs({ 'context:src/': 'aaa', 'dockerfile': 'd' }, { 'context:src/a.js': 'b', 'context:src/b.js': 'c', 'dockerfile': 'd' })).toEqual(['context: src/']);
    expect(changedInputs({ 'buildArg:A': '1' }, { 'buildArg:A': '1' })).toEqual([]);
    expect(changedInputs(undefined, { 'buildArg:A': '1' })).toBeUndefined();
  });

  test('grouping is deterministic and within the budget; a directory opens when its entries fit', () => {
    const entries = [
      ['file', 'a.txt', 'x'], ['dir', 'big', ''], ['file', 'big/1', 'x'], ['file', 'big/2', 'x'], ['file', 'big/3', 'x'],
      ['dir', 'small', ''], ['file', 'small/1', 'x'], ['dir', 'deep', ''], ['dir', 'deep/er', ''], ['file', 'deep/er/z', 'x'],
    ];

    expect([...groupEntries(entries, 3).keys()]).toEqual(['*', 'a.txt', 'big/']);
    // A directory with one entry below opens for nothing; one with three does not fit 5.
    expect([...groupEntries(entries, 5).keys()]).toEqual(['a.txt', 'big/', 'deep/er/z', 'small/1']);
    expect([...groupEntries(entries, 6).keys()]).toEqual(['a.txt', 'big/1', 'big/2', 'big/3', 'deep/er/z', 'small/1']);
    expect([...groupEntries([...entries].reverse(), 5).keys()]).toEqual([...groupEntries(entries, 5).keys()]);
  });

  test('recording the inputs leaves every fingerprint as it was', () => {
    const dir = context(FILES);
    const stack = new Stack(new App(), 'Web', { env: ENV });
    const image = new ContainerImageBuild(stack, 'Image', { directory: dir });

    expect(Fingerprint._ofDirectoryEntries(dir).fingerprint.hex).toEqual(Fingerprint.ofDirectory(dir).hex);
    // The fingerprint of this context as the library computed it before inputs were recorded.
    expect(image.fingerprint).toEqual(IMAGE_FINGERPRINT);
  });
});

/** `ContainerImageBuild` of FILES at main (3ed92a8), before this change. */
const IMAGE_FINGERPRINT = 'fe35db344bca605866ce55b3e8ca530b9dce6e383f1b8e7f292290f22f34efeb';
