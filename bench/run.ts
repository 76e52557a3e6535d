/**
 * `npm run bench [-- NAME...]`: runs every benchmark folder's `index.ts` (or only the named
 * ones), each in its own process so one's memory and JIT state do not colour another's.
 * Results go to stdout; bench/RESULTS.md records the command and the numbers of a run.
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
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n=== bench/${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, name, 'index.ts')], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    console.error(`bench/${name} failed with status ${result.status}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
