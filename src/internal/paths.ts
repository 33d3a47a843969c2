/**
 * Checks of the local paths a construct reads when the app is synthesized.
 *
 * Internal: never exported from the package.
 */
import * as fs from 'fs';
import * as path from 'path';

/**
 * Returns the absolute path of `value` when it exists and is a `kind`; otherwise throws an error
 * that names `what` (the method or prop), shows the value and ends with `hint` (what to pass).
 */
export function requirePath(what: string, value: string, kind: 'file' | 'directory', hint: string): string {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(value);
  } catch {
    stat = undefined;
  }
  if (!stat) {
    throw new Error(`${what} '${value}' does not exist (relative paths are resolved from '${process.cwd()}'). ${hint}`);
  }
  if (kind === 'file' ? !stat.isFile() : !stat.isDirectory()) {
    throw new Error(`${what} '${value}' is not a ${kind}. ${hint}`);
  }
  return path.resolve(value);
}

/**
 * The ignore patterns of a `.dockerignore` file (comments and blank lines left out), or none when
 * the file does not exist.
 */
export function dockerignorePatterns(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}
