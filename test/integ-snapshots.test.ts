import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { integApps, snapshotDir } from '../scripts/integ-snapshot';

/**
 * Every integration app synthesizes to exactly its committed snapshot (templates, asset
 * manifests and the integ manifest). To accept a change on purpose, write the snapshot again:
 * `npx ts-node -P tsconfig.dev.json scripts/integ-snapshot.ts test/integ.<name>.ts`.
 */
const apps = integApps();
const compared = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'tree.json').sort();

describe('integration snapshots', () => {
  test('every integration app has a committed snapshot', () => {
    for (const app of apps) {
      expect({ app, snapshot: fs.existsSync(snapshotDir(app)) }).toEqual({ app, snapshot: true });
    }
  });

  const eachApp = apps.length > 0 ? test.each(apps.map((a) => [a])) : () => undefined;
  eachApp('%s synthesizes to its snapshot', (app: string) => {
    // GIVEN
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-'));
    const previous = process.env.CDK_OUTDIR;
    process.env.CDK_OUTDIR = out;

    // WHEN
    try {
      // The integration app synthesizes itself when it is loaded: load a fresh copy each time.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => require(path.resolve(__dirname, '..', app)));
    } finally {
      if (previous === undefined) delete process.env.CDK_OUTDIR;
      else process.env.CDK_OUTDIR = previous;
    }

    // THEN
    const expected = snapshotDir(app);
    expect(compared(out)).toEqual(compared(expected));
    for (const file of compared(expected)) {
      const actual = JSON.parse(fs.readFileSync(path.join(out, file), 'utf8'));
      expect({ file, content: actual }).toEqual({ file, content: JSON.parse(fs.readFileSync(path.join(expected, file), 'utf8')) });
    }
  });
});
