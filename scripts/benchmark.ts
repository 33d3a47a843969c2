/**
 * Benchmarks of what runs on every synth: fingerprinting build contexts and synthesizing the
 * example app. Prints medians; run with `npx projen benchmark`. Not a test: timings vary by machine.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { App } from 'aws-cdk-lib';
import { ExampleStack } from '../examples/stack';
import { Fingerprint } from '../src';

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(label: string, runs: number, fn: () => void): void {
  fn(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  process.stdout.write(`${label.padEnd(58)} median ${median(samples).toFixed(1).padStart(8)} ms  (${runs} runs)\n`);
}

/** A build context of `files` small files in nested folders plus `largeMb` MiB of large files. */
function context(files: number, largeMb: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `pkg${i % 50}`, `mod${i % 7}`);
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `file${i}.js`), `module.exports = ${i};\n`.repeat(100));
  }
  for (let i = 0; i < largeMb; i += 16) {
    fs.writeFileSync(path.join(dir, `blob${i}.bin`), Buffer.alloc(16 * 1024 * 1024, i));
  }
  return dir;
}

const small = context(2_000, 0);
measure('Fingerprint.ofDirectory: 2,000 files of 2.4 KB', 9, () => Fingerprint.ofDirectory(small));
fs.writeFileSync(path.join(small, '.dockerignore'), 'pkg1*/**\n!pkg1/mod1/**\n**/*.map\n');
measure('Fingerprint.ofDirectory: same, with a 3-pattern .dockerignore', 9, () => Fingerprint.ofDirectory(small));
const large = context(200, 256);
measure('Fingerprint.ofDirectory: 200 files + 256 MiB of binaries', 5, () => Fingerprint.ofDirectory(large));
measure('Fingerprint.ofJson: 1,000-key object', 50, () =>
  Fingerprint.ofJson(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, { v: i, s: 'x'.repeat(20) }]))),
);
measure('Synthesize the example app (plain App, as cdk synth does)', 5, () => {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-app-')) });
  new ExampleStack(app, 'ImmutableDeploysExample');
  app.synth();
});

fs.rmSync(small, { recursive: true, force: true });
fs.rmSync(large, { recursive: true, force: true });
