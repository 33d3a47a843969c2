/**
 * Checks of the local paths a construct reads when the app is synthesized.
 *
 * Internal: never exported from the package.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SynthError } from './errors';

/**
 * Returns the absolute path of `value` when it exists and is a `kind`; otherwise throws the
 * library's synth error: `where` (the construct or factory), the prop and its value, what is wrong
 * and `fix` (what to pass).
 */
export function requirePath(where: string, prop: string, value: string, kind: 'file' | 'directory', fix: string): string {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(value);
  } catch {
    stat = undefined;
  }
  if (!stat) {
    throw new SynthError(where, { prop, value, problem: `does not exist (relative paths are resolved from '${process.cwd()}')`, fix });
  }
  if (kind === 'file' ? !stat.isFile() : !stat.isDirectory()) {
    throw new SynthError(where, { prop, value, problem: `is not a ${kind}`, fix });
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
