import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Fingerprint } from '../../src/fingerprint';
import { dockerignorePatterns, requirePath } from '../../src/internal/paths';

function dir(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'paths-'));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
  return root;
}

describe('dockerignorePatterns', () => {
  test('comments, blank and white-space lines are left out; patterns are trimmed; CRLF and LF alike', () => {
    const root = dir({ '.dockerignore': '# build output\r\n  dist  \r\n\r\n   \n#node_modules\nlogs#\n*.md\t\n' });
    expect(dockerignorePatterns(path.join(root, '.dockerignore'))).toEqual(['dist', 'logs#', '*.md']);
  });

  test('no file gives no patterns', () => {
    expect(dockerignorePatterns(path.join(os.tmpdir(), 'no-such-dir', '.dockerignore'))).toEqual([]);
  });

  test('what the patterns mean for a fingerprint: a commented-out line ignores nothing, a padded one still ignores', () => {
    const files = { 'app.js': 'x', 'README.md': 'a', '#notes.md': 'n' };
    const withComment = dir({ ...files, '.dockerignore': '#notes.md\n   README.md   \n' });
    const before = Fingerprint.ofDirectory(withComment).hex;
    // README.md is ignored although its line is padded with spaces.
    fs.writeFileSync(path.join(withComment, 'README.md'), 'changed');
    expect(Fingerprint.ofDirectory(withComment).hex).toBe(before);
    // '#notes.md' is a comment, not a pattern: the file named '#notes.md' counts.
    fs.writeFileSync(path.join(withComment, '#notes.md'), 'changed');
    expect(Fingerprint.ofDirectory(withComment).hex).not.toBe(before);
  });
});

describe('requirePath', () => {
  test('returns the absolute path of what exists and is of the kind asked', () => {
    const root = dir({ 'a/b.txt': 'x' });
    const cwd = process.cwd();
    try {
      process.chdir(root);
      expect(requirePath('W', 'p', 'a/b.txt', 'file', 'fix')).toBe(path.join(fs.realpathSync(root), 'a', 'b.txt'));
      expect(requirePath('W', 'p', 'a', 'directory', 'fix')).toBe(path.join(fs.realpathSync(root), 'a'));
    } finally {
      process.chdir(cwd);
    }
  });

  test('a missing path or one of the other kind is a synth error naming where, the prop, the value and the fix', () => {
    const root = dir({ 'f.txt': 'x' });
    const missing = path.join(root, 'nope');
    expect(() => requirePath('Thing.of()', 'localPath', missing, 'file', 'Pass a file.'))
      .toThrow(`Thing.of(): localPath (${missing}) does not exist (relative paths are resolved from '${process.cwd()}'). Pass a file.`);
    expect(() => requirePath('Thing.of()', 'localPath', root, 'file', 'Pass a file.'))
      .toThrow(`Thing.of(): localPath (${root}) is not a file. Pass a file.`);
    expect(() => requirePath('Thing.of()', 'directory', path.join(root, 'f.txt'), 'directory', 'Pass a directory.'))
      .toThrow(`Thing.of(): directory (${path.join(root, 'f.txt')}) is not a directory. Pass a directory.`);
  });
});
