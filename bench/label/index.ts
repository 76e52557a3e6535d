/**
 * @module bench/label
 * Runs every label benchmark case: each `bench/label/*.ts` file other than this one, in its own
 * process (so one case's memory and JIT state do not colour another's), with the arguments
 * given to this script. `npx tsx bench/label/index.ts [CASE...]` runs only the named cases,
 * e.g. `images` (issue 3 benchmark a) or `mp4` (b-d).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const here = import.meta.dirname;
const cases = readdirSync(here)
  .filter((name) => name.endsWith('.ts') && name !== 'index.ts' && !name.endsWith('.test.ts'))
  .map((name) => name.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-') && cases.includes(a));
const rest = process.argv.slice(2).filter((a) => !wanted.includes(a));
let failed = 0;
for (const name of wanted.length > 0 ? wanted : cases) {
  console.log(`\n--- bench/label/${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...rest], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.error(`bench/label/${name} failed with status ${result.status}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
