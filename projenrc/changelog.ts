import * as fs from 'fs';
import * as path from 'path';

/**
 * The package's `CHANGELOG.md`, written before each build (`npx projen changelog`, spawned by
 * `pre-compile`), shipped in the npm package and kept out of git.
 *
 * Releases keep their notes on GitHub Releases: the `release` workflow's `bump` writes the notes of
 * the version it releases, from the conventional commits since the last tag, to `dist/changelog.md`
 * (commit-and-tag-version), then builds, and publishes those notes as the GitHub release. Nothing
 * commits a cumulative changelog to the repository. So the package carries the notes of its own
 * version, when it is a release, and the link to every release's.
 */
export function changelog(releasesUrl: string, releaseNotes: string | undefined): string {
  const notes = releaseNotes?.trim()
    ? releaseNotes.trim()
    : 'This package was built from a commit that is not a release (version 0.0.0): its changes are in the notes of the next release.';
  return `# Changelog\n\nThe notes of every release: ${releasesUrl}\n\n${notes}\n`;
}

/**
 * Writes `CHANGELOG.md` in `root`: with the notes in `dist/changelog.md` when the package's version
 * is a release's (the bump sets it, and writes them; outside a release the version is 0.0.0).
 */
export function writeChangelog(root: string, releasesUrl: string): void {
  const bumped = path.join(root, 'dist', 'changelog.md');
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const notes = version !== '0.0.0' && fs.existsSync(bumped) ? fs.readFileSync(bumped, 'utf8') : undefined;
  fs.writeFileSync(path.join(root, 'CHANGELOG.md'), changelog(releasesUrl, notes));
}

if (require.main === module) {
  const [releasesUrl] = process.argv.slice(2);
  if (!releasesUrl) throw new Error('usage: changelog.ts <releases URL>');
  writeChangelog(process.cwd(), releasesUrl);
}
