/**
 * `npm run bench [-- NAME... [OPTION...]]`: runs every benchmark folder's `index.ts` (or only the
 * named ones), each in its own process so one's memory and JIT state do not colour another's.
 * Everything from the first option on is passed to each of them, e.g.
 * `npm run bench -- gateway --one-client --spaced 1 --tls --bare` (a benchmark's own options:
 * `npx tsx bench/NAME/index.ts --help`). Results go to stdout; bench/RESULTS.md records the
 * command and the numbers of a run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { usageIfAsked } from './usage.js';

usageIfAsked(import.meta.url);

const here = import.meta.dirname;
const all = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'index.ts')))
  .map((d) => d.name)
  .sort();
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('-'));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
/** The options for the benchmarks themselves. */
const options = firstOption < 0 ? [] : args.slice(firstOption);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n=== bench/${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, name, 'index.ts'), ...options], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    console.error(`bench/${name} failed with status ${result.status}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
