import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { IgnoreStrategy, Token } from 'aws-cdk-lib';
import { dockerignorePatterns, requirePath } from '../internal/paths';

/**
 * Options for `Fingerprint.ofDirectory()`.
 */
export interface DirectoryFingerprintOptions {
  /**
   * Extra ignore patterns, applied after the directory's own `.dockerignore`
   * with the same rules (Docker's: `**` matches any number of directories and a
   * leading `!` re-includes what an earlier pattern excluded).
   *
   * @default - only the patterns of the directory's `.dockerignore`, if it has one
   */
  readonly exclude?: string[];

  /**
   * Whether to read a `.dockerignore` file at the top of the directory.
   *
   * @default true
   */
  readonly useDockerignore?: boolean;
}

/**
 * The number of hexadecimal characters in `Fingerprint.short`.
 */
const SHORT_LENGTH = 16;

/**
 * A SHA-256 content fingerprint.
 *
 * The same inputs give the same fingerprint on any machine and checkout path;
 * any change to a counted input gives a new one. Artifacts are named by their
 * fingerprint, so an artifact whose fingerprint already exists is reused and
 * never rebuilt.
 *
 * @example
 * const context = Fingerprint.ofDirectory('app', { exclude: ['*.md'] });
 * const settings = Fingerprint.ofJson({ platform: 'linux/arm64', target: 'runtime' });
 * const artifact = Fingerprint.combine(context, settings);
 * // artifact.hex is 64 hexadecimal characters; artifact.short names tags and resources
 */
export class Fingerprint {
  /**
   * Fingerprints a directory: the relative path, content and executable bit of
   * every file, the path of every directory (empty ones included, since `COPY`
   * creates them) and the target of every symbolic link, after the ignore rules
   * of the directory's `.dockerignore` and `exclude`.
   *
   * Modification times, ownership and the directory's own location do not count:
   * an absolute symbolic link counts by where it points inside the directory, not
   * by the checkout path its text holds.
   * A symbolic link that points outside the directory is an error, because what
   * it points at would not travel with the directory.
   *
   * @param directory the directory to fingerprint
   * @param options ignore rules
   */
  public static ofDirectory(directory: string, options: DirectoryFingerprintOptions = {}): Fingerprint {
    return Fingerprint._ofDirectoryEntries(directory, options).fingerprint;
  }

  /**
   * `ofDirectory()`, with the entries it counts: `[kind, relative path, detail]`, where a file's detail
   * is its executable bit and content hash. The plan's metadata records digests of them.
   *
   * @internal
   */
  public static _ofDirectoryEntries(directory: string, options: DirectoryFingerprintOptions = {}): { fingerprint: Fingerprint; entries: string[][] } {
    const root = statDirectory(directory);
    const ignore = IgnoreStrategy.docker(root, ignorePatterns(root, options));
    const entries = walk(root, ignore);
    return { fingerprint: Fingerprint.ofJson({ kind: 'directory', entries }), entries };
  }

  /**
   * Fingerprints the content of one file. Its name and location do not count.
   *
   * @param file the file to fingerprint
   */
  public static ofFile(file: string): Fingerprint {
    return new Fingerprint(hashFile(requirePath('Fingerprint.ofFile()', 'file', file, 'file', 'Pass the path of an existing file; use Fingerprint.ofDirectory() for a directory.')));
  }

  /**
   * Fingerprints a string: the SHA-256 of its UTF-8 bytes, as `sha256sum` gives it.
   *
   * @param value a resolved string (not a token)
   */
  public static ofString(value: string): Fingerprint {
    if (Token.isUnresolved(value)) {
      throw new Error(
        `Fingerprint.ofString: received an unresolved token (${value}). A fingerprint must be known at synth time; pass a literal value.`,
      );
    }
    return new Fingerprint(crypto.createHash('sha256').update(value, 'utf8').digest('hex'));
  }

  /**
   * Fingerprints a JSON value. Object keys are sorted first, so the order in
   * which they were written does not count; array order does.
   *
   * @param value a JSON value: objects, arrays, strings, finite numbers, booleans and null
   */
  public static ofJson(value: any): Fingerprint {
    return Fingerprint.ofString(canonicalJson(value, '$'));
  }

  /**
   * Combines fingerprints into one. Order counts: `combine(a, b)` differs from `combine(b, a)`.
   *
   * @param parts the fingerprints to combine
   */
  public static combine(...parts: Fingerprint[]): Fingerprint {
    if (parts.length === 0) {
      throw new Error('Fingerprint.combine: received no fingerprints. Pass at least one.');
    }
    return Fingerprint.ofString(`combine:${parts.map((p) => p.hex).join(',')}`);
  }

  /**
   * The SHA-256 as 64 lowercase hexadecimal characters.
   */
  public readonly hex: string;

  /**
   * The first 16 characters of `hex`: stable, and fit for names and tags.
   */
  public readonly short: string;

  private constructor(hex: string) {
    this.hex = hex;
    this.short = hex.slice(0, SHORT_LENGTH);
  }

  /**
   * Whether this fingerprint is the same as another.
   *
   * @param other the fingerprint to compare with
   */
  public sameAs(other: Fingerprint): boolean {
    return this.hex === other.hex;
  }

  /**
   * Returns `hex`.
   */
  public toString(): string {
    return this.hex;
  }
}

function statDirectory(directory: string): string {
  requirePath('Fingerprint.ofDirectory()', 'directory', directory, 'directory', 'Pass the path of an existing directory; use Fingerprint.ofFile() for a file.');
  return fs.realpathSync(directory);
}

function ignorePatterns(root: string, options: DirectoryFingerprintOptions): string[] {
  const own = (options.useDockerignore ?? true) ? dockerignorePatterns(path.join(root, '.dockerignore')) : [];
  return [...own, ...(options.exclude ?? [])];
}

/**
 * Lists every entry of the directory that the ignore rules keep, in a stable order:
 * `[kind, relative path, detail]` with the content hash and executable bit of a file,
 * or the target of a link. Links that leave the directory are refused.
 *
 * aws-cdk-lib's `IgnoreStrategy.docker()` decides what is ignored. Its `FileSystem.fingerprint()`
 * is not used because it caches file hashes by inode, modification time and size in the
 * user's home directory, so a same-size rewrite within one timestamp tick keeps the old
 * hash (a stale content address reuses the wrong artifact), and it leaves out the executable bit.
 */
function walk(root: string, ignore: IgnoreStrategy): string[][] {
  const entries: string[][] = [];
  const visit = (dir: string) => {
    const children = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const child of children) {
      const full = path.join(dir, child.name);
      const relative = posix(path.relative(root, full));
      if (child.isDirectory()) {
        if (ignore.completelyIgnores(full)) continue;
        if (!ignore.ignores(full)) entries.push(['dir', relative]);
        visit(full);
        continue;
      }
      if (ignore.ignores(full)) continue;
      if (child.isSymbolicLink()) {
        const link = fs.readlinkSync(full);
        const target = path.resolve(dir, link);
        const inside = path.relative(root, target);
        if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
          throw new Error(
            `Fingerprint.ofDirectory: symbolic link '${full}' points outside '${root}' (to '${target}'). Copy the target into the directory, or exclude the link.`,
          );
        }
        // A relative link counts by its text. An absolute link counts by where it points inside the
        // directory, marked with a leading '/': its text holds the checkout path, which must not count.
        entries.push(['link', relative, path.isAbsolute(link) ? `/${posix(inside)}` : posix(link)]);
      } else if (child.isFile()) {
        // Any of the owner, group or other execute bits.
        // eslint-disable-next-line no-bitwise
        const executable = (fs.statSync(full).mode & 0o111) !== 0;
        entries.push(['file', relative, `${executable ? 'x' : '-'}${hashFile(full)}`]);
      }
    }
  };
  visit(root);
  return entries;
}

/** A relative path with '/' separators, as on Linux, whatever the OS. */
function posix(relative: string): string {
  return relative.split(path.sep).join('/');
}

/** The read buffer of `hashFile()`, allocated once. */
let readBuffer: Buffer | undefined;

/** SHA-256 of a file's bytes, read in 1 MiB chunks so that large files need little memory. */
function hashFile(file: string): string {
  const hash = crypto.createHash('sha256');
  const buffer = (readBuffer ??= Buffer.allocUnsafe(1024 * 1024));
  const fd = fs.openSync(file, 'r');
  try {
    let read: number;
    while ((read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) {
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function canonicalJson(value: any, where: string): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'string') {
    if (Token.isUnresolved(value)) {
      throw new Error(
        `Fingerprint.ofJson: ${where} is an unresolved token (${value}). A fingerprint must be known at synth time; pass a literal value.`,
      );
    }
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || Token.isUnresolved(value)) {
      throw new Error(`Fingerprint.ofJson: ${where} is ${value}, which JSON cannot hold. Pass a finite literal number.`);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => canonicalJson(v, `${where}[${i}]`)).join(',')}]`;
  }
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k], `${where}.${k}`)}`).join(',')}}`;
  }
  throw new Error(
    `Fingerprint.ofJson: ${where} is a ${value?.constructor?.name ?? typeof value}, not a JSON value. Pass plain objects, arrays, strings, numbers, booleans and null.`,
  );
}
