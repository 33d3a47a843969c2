/**
 * One cold start in a fresh Node.js process: `node import-child.js <from> <specifier>...` requires each
 * specifier as the file `from` would (so a handler bundle and the SDK clients it names resolve to the
 * same copies), and prints `BENCH_RESULT {"importMs": ...}`.
 */
import { createRequire } from 'module';
import { performance } from 'perf_hooks';

const [from, ...specifiers] = process.argv.slice(2);
const load = createRequire(from);
const start = performance.now();
const exported = specifiers.map((s) => load(s));
const importMs = performance.now() - start;
const handler = exported.length === 1 && typeof exported[0]?.handler === 'function';
process.stdout.write(`\nBENCH_RESULT ${JSON.stringify({ importMs, handler, maxRssKb: process.resourceUsage().maxRSS })}\n`);
