import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { comparable, comparedFiles, integApps, snapshotDir, synthEnv } from '../scripts/integ-snapshot';

/**
 * Every integration app synthesizes to exactly its committed snapshot (each stack's template and
 * the integ manifest). To accept a change on purpose, write the snapshot again:
 * `npx ts-node -P tsconfig.dev.json scripts/integ-snapshot.ts test/integ.<name>.ts`.
 */
const apps = integApps();

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
    const env = synthEnv(out);
    const previous = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);

    // WHEN
    try {
      // The integration app synthesizes itself when it is loaded: load a fresh copy each time.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => require(path.resolve(__dirname, '..', app)));
    } finally {
      for (const [k, v] of Object.entries(previous)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }

    // THEN
    const expected = snapshotDir(app);
    expect(comparedFiles(out)).toEqual(comparedFiles(expected));
    for (const file of comparedFiles(expected)) {
      expect({ file, content: comparable(path.join(out, file)) }).toEqual({ file, content: comparable(path.join(expected, file)) });
    }
  });
});
