import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Token } from 'aws-cdk-lib';
import { Fingerprint } from '../../src';

/** Writes a tree of files (path -> content) into a new temporary directory. */
function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fingerprint-'));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

const APP = {
  'Dockerfile': 'FROM public.ecr.aws/docker/library/node:22-alpine\nCOPY . /app\n',
  'src/index.js': 'console.log("hello");\n',
  'src/lib/util.js': 'module.exports = 1;\n',
  'README.md': '# app\n',
};

describe('Fingerprint.ofDirectory', () => {
  test('is a 64-character SHA-256 with a stable 16-character short form', () => {
    const fp = Fingerprint.ofDirectory(tree(APP));
    expect(fp.hex).toMatch(/^[0-9a-f]{64}$/);
    expect(fp.short).toEqual(fp.hex.slice(0, 16));
    expect(`${fp}`).toEqual(fp.hex);
  });

  test('the same tree at another path gives the same value', () => {
    expect(Fingerprint.ofDirectory(tree(APP)).hex).toEqual(Fingerprint.ofDirectory(tree(APP)).hex);
  });

  test('modification times do not matter', () => {
    const dir = tree(APP);
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.utimesSync(path.join(dir, 'src/index.js'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(Fingerprint.ofDirectory(dir).hex).toEqual(before);
  });

  test('a content change gives a new value', () => {
    const dir = tree(APP);
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.writeFileSync(path.join(dir, 'src/lib/util.js'), 'module.exports = 2;\n');
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(before);
  });

  test('a same-size rewrite that keeps the modification time still gives a new value', () => {
    // GIVEN a file whose timestamps are restored after each write (as tar, rsync -t or a fast editor may leave them)
    const dir = tree(APP);
    const file = path.join(dir, 'src/lib/util.js');
    const stamp = new Date(2020, 0, 1);
    fs.utimesSync(file, stamp, stamp);
    const before = Fingerprint.ofDirectory(dir).hex;

    // WHEN the content changes but not its size or modification time
    fs.writeFileSync(file, 'module.exports = 9;\n');
    fs.utimesSync(file, stamp, stamp);

    // THEN no cached hash hides the change
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(before);
  });

  test('a rename gives a new value', () => {
    const dir = tree(APP);
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.renameSync(path.join(dir, 'src/index.js'), path.join(dir, 'src/main.js'));
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(before);
  });

  test('an added file gives a new value, and so does removing it', () => {
    const dir = tree(APP);
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.writeFileSync(path.join(dir, 'src/extra.js'), '');
    const added = Fingerprint.ofDirectory(dir).hex;
    expect(added).not.toEqual(before);
    fs.rmSync(path.join(dir, 'src/lib/util.js'));
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(added);
  });

  test('an executable-bit change gives a new value', () => {
    const dir = tree(APP);
    fs.chmodSync(path.join(dir, 'src/index.js'), 0o644);
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.chmodSync(path.join(dir, 'src/index.js'), 0o755);
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(before);
  });

  test('a change to a file .dockerignore ignores gives none', () => {
    const dir = tree({ ...APP, '.dockerignore': 'README.md\n**/*.log\n' });
    fs.writeFileSync(path.join(dir, 'debug.log'), 'a');
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.writeFileSync(path.join(dir, 'README.md'), '# changed\n');
    fs.writeFileSync(path.join(dir, 'src/lib/deep.log'), 'b');
    fs.writeFileSync(path.join(dir, 'debug.log'), 'c');
    expect(Fingerprint.ofDirectory(dir).hex).toEqual(before);
  });

  test('honours ! negations and ** like Docker', () => {
    const dir = tree({ ...APP, '.dockerignore': 'src/**\n!src/index.js\n', 'src/lib/keep.txt': 'x' });
    const before = Fingerprint.ofDirectory(dir).hex;
    // ignored by src/**
    fs.writeFileSync(path.join(dir, 'src/lib/util.js'), 'changed');
    expect(Fingerprint.ofDirectory(dir).hex).toEqual(before);
    // re-included by !src/index.js
    fs.writeFileSync(path.join(dir, 'src/index.js'), 'changed');
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(before);
  });

  test('extra exclude patterns apply on top of .dockerignore', () => {
    const dir = tree({ ...APP, '.dockerignore': 'README.md\n' });
    const before = Fingerprint.ofDirectory(dir, { exclude: ['src/lib'] }).hex;
    fs.writeFileSync(path.join(dir, 'src/lib/util.js'), 'changed');
    fs.writeFileSync(path.join(dir, 'README.md'), 'changed');
    expect(Fingerprint.ofDirectory(dir, { exclude: ['src/lib'] }).hex).toEqual(before);
    // without the exclude, the change counts
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(Fingerprint.ofDirectory(dir, { exclude: ['src/lib'] }).hex);
  });

  test('a change to .dockerignore itself counts, since it changes the context', () => {
    const dir = tree({ ...APP, '.dockerignore': 'README.md\n' });
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'README.md\n*.txt\n');
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(before);
  });

  test('a symbolic link inside the directory counts as a link', () => {
    const dir = tree(APP);
    fs.symlinkSync('src/index.js', path.join(dir, 'entry.js'));
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.rmSync(path.join(dir, 'entry.js'));
    fs.symlinkSync('src/lib/util.js', path.join(dir, 'entry.js'));
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(before);
  });

  test('a symbolic link that points outside the directory is an error that names it', () => {
    const dir = tree(APP);
    const outside = tree({ 'secret.txt': 'x' });
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'src/leak.txt'));
    expect(() => Fingerprint.ofDirectory(dir)).toThrow(/symbolic link '.*src\/leak\.txt' points outside/);
  });

  test('an ignored symbolic link that points outside is not an error', () => {
    const dir = tree({ ...APP, '.dockerignore': 'leak.txt\n' });
    fs.symlinkSync('/etc/hostname', path.join(dir, 'leak.txt'));
    expect(() => Fingerprint.ofDirectory(dir)).not.toThrow();
  });

  test('a missing directory is an error that names the path', () => {
    expect(() => Fingerprint.ofDirectory('/no/such/dir')).toThrow(/directory '\/no\/such\/dir' does not exist/);
  });

  test('a file passed as a directory is an error', () => {
    const dir = tree(APP);
    expect(() => Fingerprint.ofDirectory(path.join(dir, 'Dockerfile'))).toThrow(/is not a directory/);
  });
});

describe('Fingerprint.ofFile', () => {
  test('counts content, not name or location', () => {
    const a = tree({ 'one.txt': 'same' });
    const b = tree({ 'nested/two.txt': 'same' });
    expect(Fingerprint.ofFile(path.join(a, 'one.txt')).hex).toEqual(Fingerprint.ofFile(path.join(b, 'nested/two.txt')).hex);
    fs.writeFileSync(path.join(b, 'nested/two.txt'), 'different');
    expect(Fingerprint.ofFile(path.join(a, 'one.txt')).hex).not.toEqual(Fingerprint.ofFile(path.join(b, 'nested/two.txt')).hex);
  });

  test('a missing file is an error that names the path', () => {
    expect(() => Fingerprint.ofFile('/no/such/file.txt')).toThrow(/file '\/no\/such\/file\.txt' does not exist/);
  });
});

describe('Fingerprint.ofString', () => {
  test('is the SHA-256 of the UTF-8 bytes', () => {
    // sha256("hello")
    expect(Fingerprint.ofString('hello').hex).toEqual('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  test('an unresolved token is an error, since its text changes from synth to synth', () => {
    expect(() => Fingerprint.ofString(Token.asString({ Ref: 'X' }))).toThrow(/unresolved token/);
  });
});

describe('Fingerprint.ofJson', () => {
  test('does not depend on key order', () => {
    expect(Fingerprint.ofJson({ a: 1, b: { c: [1, 2], d: 'x' } }).hex).toEqual(Fingerprint.ofJson({ b: { d: 'x', c: [1, 2] }, a: 1 }).hex);
  });

  test('depends on every value and on array order', () => {
    const base = Fingerprint.ofJson({ a: 1, b: [1, 2] }).hex;
    expect(Fingerprint.ofJson({ a: 2, b: [1, 2] }).hex).not.toEqual(base);
    expect(Fingerprint.ofJson({ a: 1, b: [2, 1] }).hex).not.toEqual(base);
    expect(Fingerprint.ofJson({ a: '1', b: [1, 2] }).hex).not.toEqual(base);
  });

  test('undefined members are left out, as JSON leaves them out', () => {
    expect(Fingerprint.ofJson({ a: 1, b: undefined }).hex).toEqual(Fingerprint.ofJson({ a: 1 }).hex);
  });

  test('a token or a non-JSON value is an error that says where it is', () => {
    expect(() => Fingerprint.ofJson({ a: { b: Token.asString({ Ref: 'X' }) } })).toThrow(/\$\.a\.b is an unresolved token/);
    expect(() => Fingerprint.ofJson({ a: [NaN] })).toThrow(/\$\.a\[0\] is NaN/);
    expect(() => Fingerprint.ofJson({ a: new Date(0) })).toThrow(/\$\.a is a Date, not a JSON value/);
  });
});

describe('Fingerprint.combine', () => {
  const a = Fingerprint.ofString('a');
  const b = Fingerprint.ofString('b');

  test('is deterministic and order-sensitive', () => {
    expect(Fingerprint.combine(a, b).hex).toEqual(Fingerprint.combine(a, b).hex);
    expect(Fingerprint.combine(a, b).hex).not.toEqual(Fingerprint.combine(b, a).hex);
    expect(Fingerprint.combine(a, b).sameAs(Fingerprint.combine(a, b))).toBe(true);
  });

  test('differs from each of its parts', () => {
    expect(Fingerprint.combine(a).hex).not.toEqual(a.hex);
  });

  test('needs at least one part', () => {
    expect(() => Fingerprint.combine()).toThrow(/at least one/);
  });
});
