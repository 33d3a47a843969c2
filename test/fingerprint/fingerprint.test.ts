import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Token } from 'aws-cdk-lib';
import { Fingerprint } from '../../src/fingerprint';

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
    expect(() => Fingerprint.ofDirectory('/no/such/dir')).toThrow(/^Fingerprint\.ofDirectory\(\): directory \(\/no\/such\/dir\) does not exist/);
  });

  test('a file passed as a directory is an error', () => {
    const dir = tree(APP);
    expect(() => Fingerprint.ofDirectory(path.join(dir, 'Dockerfile'))).toThrow(/is not a directory/);
  });
});

describe('Fingerprint.ofDirectory: what reaches the image', () => {
  test('a file re-included under an excluded directory counts, its excluded siblings do not', () => {
    // GIVEN `lib` excluded and `lib/keep.js` re-included: Docker sends lib/keep.js, and only it
    const dir = tree({ ...APP, '.dockerignore': 'lib\n!lib/keep.js\n', 'lib/keep.js': 'kept', 'lib/other.js': 'left out' });
    const before = Fingerprint.ofDirectory(dir).hex;

    // WHEN a sibling the rules exclude changes THEN nothing changes
    fs.writeFileSync(path.join(dir, 'lib/other.js'), 'changed');
    fs.writeFileSync(path.join(dir, 'lib/new.js'), 'added');
    expect(Fingerprint.ofDirectory(dir).hex).toEqual(before);

    // WHEN the re-included file changes THEN the fingerprint changes
    fs.writeFileSync(path.join(dir, 'lib/keep.js'), 'changed');
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(before);
  });

  test('a file re-included by an exclude option under an excluded directory counts too', () => {
    const dir = tree({ ...APP, 'lib/keep.js': 'kept', 'lib/other.js': 'left out' });
    const options = { exclude: ['lib', '!lib/keep.js'] };
    const before = Fingerprint.ofDirectory(dir, options).hex;
    fs.writeFileSync(path.join(dir, 'lib/other.js'), 'changed');
    expect(Fingerprint.ofDirectory(dir, options).hex).toEqual(before);
    fs.writeFileSync(path.join(dir, 'lib/keep.js'), 'changed');
    expect(Fingerprint.ofDirectory(dir, options).hex).not.toEqual(before);
  });

  test.each([
    ['the owner', 0o700],
    ['the group only', 0o650],
    ['other only', 0o641],
  ])('an executable bit for %s counts', (_who, mode) => {
    // GIVEN the same file, not executable at one path and executable (by someone) at another
    const plain = tree(APP);
    const executable = tree(APP);
    fs.chmodSync(path.join(plain, 'src/index.js'), 0o640);
    fs.chmodSync(path.join(executable, 'src/index.js'), mode);

    // THEN they differ: `COPY` keeps the mode, so the images differ
    expect(Fingerprint.ofDirectory(executable).hex).not.toEqual(Fingerprint.ofDirectory(plain).hex);
  });

  test('which execute bits are set does not count beyond whether any is', () => {
    // The fingerprint records "executable or not", so umask differences between machines
    // (0755 on one, 0775 on another) give the same value.
    const a = tree(APP);
    const b = tree(APP);
    fs.chmodSync(path.join(a, 'src/index.js'), 0o755);
    fs.chmodSync(path.join(b, 'src/index.js'), 0o775);
    expect(Fingerprint.ofDirectory(a).hex).toEqual(Fingerprint.ofDirectory(b).hex);
  });

  test('an empty directory counts: COPY creates it in the image', () => {
    const dir = tree(APP);
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.mkdirSync(path.join(dir, 'var/cache'), { recursive: true });
    const withEmpty = Fingerprint.ofDirectory(dir).hex;
    expect(withEmpty).not.toEqual(before);

    // a rename of the empty directory counts as well
    fs.renameSync(path.join(dir, 'var/cache'), path.join(dir, 'var/tmp'));
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(withEmpty);

    // and removing it gives back the first value
    fs.rmSync(path.join(dir, 'var'), { recursive: true });
    expect(Fingerprint.ofDirectory(dir).hex).toEqual(before);
  });

  test('an ignored empty directory does not count', () => {
    const dir = tree({ ...APP, '.dockerignore': 'var\n' });
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.mkdirSync(path.join(dir, 'var/cache'), { recursive: true });
    expect(Fingerprint.ofDirectory(dir).hex).toEqual(before);
  });

  test('a directory excluded by itself but holding a re-included file counts only through that file', () => {
    // `lib` is excluded, `!lib/keep.js` brings back the file (and so the directory that holds it)
    const dir = tree({ ...APP, '.dockerignore': 'lib\n!lib/keep.js\n', 'lib/keep.js': 'kept' });
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.mkdirSync(path.join(dir, 'lib/empty'));
    expect(Fingerprint.ofDirectory(dir).hex).toEqual(before);
  });

  test('the same tree with symbolic links gives the same value at two checkout paths', () => {
    // GIVEN two checkouts of one tree, at different paths, each with a relative link and an
    // absolute link that both point at a file inside the tree
    const checkout = () => {
      const dir = tree(APP);
      fs.symlinkSync('src/index.js', path.join(dir, 'relative.js'));
      fs.symlinkSync(path.join(fs.realpathSync(dir), 'src/index.js'), path.join(dir, 'absolute.js'));
      fs.symlinkSync('../index.js', path.join(dir, 'src/lib/up.js'));
      return dir;
    };
    const one = checkout();
    const two = checkout();
    expect(one).not.toEqual(two);

    // THEN the fingerprints are equal: the checkout path is not an input
    expect(Fingerprint.ofDirectory(one).hex).toEqual(Fingerprint.ofDirectory(two).hex);
  });

  test('an absolute link and a relative link to the same file are told apart', () => {
    // They are different files in the image: `COPY` keeps the link text
    const absolute = tree(APP);
    const relative = tree(APP);
    fs.symlinkSync(path.join(fs.realpathSync(absolute), 'src/index.js'), path.join(absolute, 'entry.js'));
    fs.symlinkSync('src/index.js', path.join(relative, 'entry.js'));
    expect(Fingerprint.ofDirectory(absolute).hex).not.toEqual(Fingerprint.ofDirectory(relative).hex);
  });

  test('an absolute link that moves to another file inside the tree gives a new value', () => {
    const dir = tree(APP);
    const root = fs.realpathSync(dir);
    fs.symlinkSync(path.join(root, 'src/index.js'), path.join(dir, 'entry.js'));
    const before = Fingerprint.ofDirectory(dir).hex;
    fs.rmSync(path.join(dir, 'entry.js'));
    fs.symlinkSync(path.join(root, 'src/lib/util.js'), path.join(dir, 'entry.js'));
    expect(Fingerprint.ofDirectory(dir).hex).not.toEqual(before);
  });

  test('a link and a file of the same name and content are told apart', () => {
    const link = tree(APP);
    const file = tree({ ...APP, 'entry.js': 'src/index.js' });
    fs.symlinkSync('src/index.js', path.join(link, 'entry.js'));
    expect(Fingerprint.ofDirectory(link).hex).not.toEqual(Fingerprint.ofDirectory(file).hex);
  });

  test('a symbolic link that climbs out through .. is an error', () => {
    const dir = tree(APP);
    fs.symlinkSync('../../etc/hostname', path.join(dir, 'src/leak.txt'));
    expect(() => Fingerprint.ofDirectory(dir)).toThrow(/symbolic link '.*src\/leak\.txt' points outside/);
  });

  test('a link to a name that merely starts with two dots stays inside', () => {
    const dir = tree({ ...APP, '..hidden/data.txt': 'x' });
    fs.symlinkSync('..hidden/data.txt', path.join(dir, 'data.txt'));
    expect(() => Fingerprint.ofDirectory(dir)).not.toThrow();
  });

  test('useDockerignore: false counts what .dockerignore would leave out', () => {
    const dir = tree({ ...APP, '.dockerignore': 'README.md\n' });
    const before = Fingerprint.ofDirectory(dir, { useDockerignore: false }).hex;
    fs.writeFileSync(path.join(dir, 'README.md'), 'changed');
    expect(Fingerprint.ofDirectory(dir, { useDockerignore: false }).hex).not.toEqual(before);
    // and with the default, the same change does not count
    const ignored = Fingerprint.ofDirectory(dir).hex;
    fs.writeFileSync(path.join(dir, 'README.md'), 'changed again');
    expect(Fingerprint.ofDirectory(dir).hex).toEqual(ignored);
  });

  test('a file larger than one read buffer is hashed whole', () => {
    // GIVEN two files of 1 MiB + 1 byte that differ only in their last byte
    const big = Buffer.alloc(1024 * 1024 + 1, 0x61);
    const a = tree({});
    const b = tree({});
    fs.writeFileSync(path.join(a, 'blob'), big);
    big[big.length - 1] = 0x62;
    fs.writeFileSync(path.join(b, 'blob'), big);

    // THEN the fingerprints differ, and the file's hash is its sha256sum
    expect(Fingerprint.ofFile(path.join(a, 'blob')).hex).not.toEqual(Fingerprint.ofFile(path.join(b, 'blob')).hex);
    expect(Fingerprint.ofFile(path.join(b, 'blob')).hex).toEqual(crypto.createHash('sha256').update(big).digest('hex'));
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
    expect(() => Fingerprint.ofFile('/no/such/file.txt')).toThrow(/^Fingerprint\.ofFile\(\): file \(\/no\/such\/file\.txt\) does not exist/);
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

describe('Fingerprint: values that must not change between releases (issue 17)', () => {
  // A fingerprint names artifacts: if the same inputs gave another value after an upgrade of
  // this library, every user's images and AMIs would be rebuilt (DESIGN.md: the builder revision,
  // not the package version, is what changes them). These values were computed once, and checked
  // against an independent computation of the encoding (sha256 of the canonical JSON, with Python);
  // a change to the encoding must be deliberate, and bump the builder revisions with it.

  /** A tree with every kind of entry, written in an order other than the sorted one. */
  function everyKind(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fingerprint-golden-'));
    for (const name of ['zeta.txt', 'Alpha.txt', 'beta.txt', 'src/run.sh', 'src/data.json']) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), `${name}\n`);
      fs.chmodSync(path.join(dir, name), 0o644);
    }
    fs.chmodSync(path.join(dir, 'src/run.sh'), 0o755);
    fs.mkdirSync(path.join(dir, 'empty'));
    fs.symlinkSync('src/run.sh', path.join(dir, 'relative-link'));
    fs.symlinkSync(path.join(fs.realpathSync(dir), 'src/data.json'), path.join(dir, 'absolute-link'));
    return dir;
  }

  test('a directory with files, an executable, an empty directory and links', () => {
    expect(Fingerprint.ofDirectory(everyKind()).hex).toEqual('ad5d23eede38a166257cade04a0682209786893ef0ee924b1565af8d0ecc50f1');
  });

  test('the order in which entries were created does not count', () => {
    // GIVEN the same names created in two orders (directory listings follow creation order on
    // some file systems and name hashes on others)
    const names = Array.from({ length: 24 }, (_, i) => `f${(i * 7) % 24}`);
    const forward = tree(Object.fromEntries(names.map((n) => [n, n])));
    const backward = tree(Object.fromEntries([...names].reverse().map((n) => [n, n])));
    // THEN the same value, the one of the names in order
    expect(Fingerprint.ofDirectory(forward).hex).toEqual(Fingerprint.ofDirectory(backward).hex);
    expect(Fingerprint.ofDirectory(forward).hex).toEqual('70c996811863ab17ada5a90adb93d4a703184cc4a3809386d684c024548b9a0f');
  });

  test('names are put in one order on every OS, whatever order the listing comes in', () => {
    // Node lists a directory by byte order on Linux and macOS and in NTFS's own order on Windows;
    // the walk sorts by UTF-16 code units, where an emoji (a surrogate pair) comes before U+E000,
    // though its UTF-8 bytes come after.
    const dir = tree({ '\ue000.txt': '\ue000.txt', '😀.txt': '😀.txt', 'a.txt': 'a.txt', 'Z.txt': 'Z.txt' });
    expect(Fingerprint.ofDirectory(dir).hex).toEqual('17a0139bcd3906adb0764769cc3963907788db951c37f5cc38acf1d18c6f854e');
  });

  test('files, strings, JSON values and combinations', () => {
    const dir = tree({ 'a.txt': 'a\n' });
    expect(Fingerprint.ofFile(path.join(dir, 'a.txt')).hex).toEqual('87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7');
    expect(Fingerprint.ofJson({ s: 'x', n: 1.5, t: true, f: false, z: null, a: [1, 'b', [], {}], o: { k: 'v' } }).hex).toEqual('5aa2a910c6a13a1dfb295d0449e69db8f3997f782aa4277cbabfee3a464acfc8');
    expect(Fingerprint.combine(Fingerprint.ofString('a'), Fingerprint.ofString('b')).hex).toEqual('93a4f7ff60ed84e5a1db7da473e0791f271ad2d98aad8ebf885dd5749466b61b');
  });
});

describe('Fingerprint: edges of the walk and of JSON (issue 17)', () => {
  test('sameAs() is false for another fingerprint', () => {
    expect(Fingerprint.ofString('a').sameAs(Fingerprint.ofString('b'))).toBe(false);
    expect(Fingerprint.ofString('a').sameAs(Fingerprint.ofString('a'))).toBe(true);
  });

  test('errors for a wrong path say what to pass instead', () => {
    const dir = tree(APP);
    expect(() => Fingerprint.ofFile(dir)).toThrow(/use Fingerprint\.ofDirectory\(\) for a directory/);
    expect(() => Fingerprint.ofDirectory(path.join(dir, 'Dockerfile'))).toThrow(/use Fingerprint\.ofFile\(\) for a file/);
  });

  test('a link to the parent directory is outside; a link to the directory itself is inside', () => {
    const up = tree(APP);
    fs.symlinkSync('..', path.join(up, 'parent'));
    expect(() => Fingerprint.ofDirectory(up)).toThrow(/symbolic link '.*parent' points outside/);
    const self = tree(APP);
    fs.symlinkSync('.', path.join(self, 'self'));
    expect(() => Fingerprint.ofDirectory(self)).not.toThrow();
  });

  test('an excluded directory is not read at all, so a large node_modules costs nothing', () => {
    const dir = tree({ ...APP, '.dockerignore': 'node_modules\n', 'node_modules/dep/index.js': 'x' });
    const readdir = jest.spyOn(jest.requireActual<typeof fs>('fs'), 'readdirSync');
    try {
      Fingerprint.ofDirectory(dir);
      const read = readdir.mock.calls.map(([d]) => path.relative(fs.realpathSync(dir), String(d)));
      expect(read).toContain('src');
      expect(read.filter((d) => d.startsWith('node_modules'))).toEqual([]);
    } finally {
      readdir.mockRestore();
    }
  });

  test('every file read is closed again, so a large context does not run out of descriptors', () => {
    const dir = tree(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}.txt`, `${i}`])));
    const real = jest.requireActual<typeof fs>('fs');
    const open = jest.spyOn(real, 'openSync');
    const close = jest.spyOn(real, 'closeSync');
    try {
      Fingerprint.ofDirectory(dir);
      expect(open.mock.calls.length).toBeGreaterThanOrEqual(50);
      expect(close.mock.calls.length).toEqual(open.mock.calls.length);
    } finally {
      open.mockRestore();
      close.mockRestore();
    }
  });

  test('a socket file in the tree is left out, not read', async () => {
    // GIVEN a Unix socket (a dev server's, say) inside the directory
    const dir = tree(APP);
    const before = Fingerprint.ofDirectory(dir).hex;
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'dev.sock'), resolve));
    try {
      // THEN the fingerprint is that of the tree without it: it is no file `COPY` could send
      expect(Fingerprint.ofDirectory(dir).hex).toEqual(before);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('array elements are kept apart: [1, 23] is not [12, 3]', () => {
    expect(Fingerprint.ofJson([1, 23]).hex).not.toEqual(Fingerprint.ofJson([12, 3]).hex);
    expect(Fingerprint.ofJson({ a: [1, 23] }).hex).not.toEqual(Fingerprint.ofJson({ a: [12, 3] }).hex);
  });

  test('null and booleans are JSON values, each its own', () => {
    const values = [null, true, false, 'null', 'true', 0].map((v) => Fingerprint.ofJson({ v }).hex);
    expect(new Set(values).size).toEqual(values.length);
    expect(Fingerprint.ofJson(null).hex).toEqual(Fingerprint.ofString('null').hex);
    expect(Fingerprint.ofJson(true).hex).toEqual(Fingerprint.ofString('true').hex);
  });

  test('undefined inside an array, and objects without a constructor, are errors that say where', () => {
    expect(() => Fingerprint.ofJson([1, undefined])).toThrow(/\$\[1\] is a undefined, not a JSON value/);
    expect(() => Fingerprint.ofJson({ a: Object.create(Object.create(null)) })).toThrow(/\$\.a is a object, not a JSON value/);
    // an object without a prototype is a plain object
    const bare = Object.assign(Object.create(null), { k: 1 });
    expect(Fingerprint.ofJson({ a: bare }).hex).toEqual(Fingerprint.ofJson({ a: { k: 1 } }).hex);
  });
});
