/**
 * @module bench/cli
 * Issue 14: how long a `hegui` command takes as a whole process, as a user runs it, and how
 * much memory it peaks at. Each command runs `bin/hegui.js` on the built `dist/` (run
 * `npm run build` first); `node -e 0` is the floor no Node command can go under. With
 * `--baseline DIR` the same commands also run from another checkout's build (for example the
 * code before a change), alternating with this one, so both see the same machine.
 *
 * Wall time, CPU time (user + system: steadier than wall time on a shared machine) and peak
 * resident memory come from GNU time (`/usr/bin/time`, Debian's `time` package); the table
 * shows the median of `--runs` (default 11) runs.
 *
 * `hegui users list` runs on a SQLite file of its own per checkout, made by its first run.
 * `hegui label visible photo.jpg` (one one-megapixel JPEG, the picture of bench/label/visible.ts)
 * runs twice: with the notice cache (docs/labels.md) in a folder of the benchmark's, warmed by a
 * run before the first, and with a cache emptied before each run (a machine's first run).
 *
 * Run: `npx tsx bench/cli/index.ts [--runs 11] [--baseline /path/to/other/checkout]`
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { basePicture } from '../label/lib/picture.js';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const root = fileURLToPath(new URL('../..', import.meta.url));
const timeTool = '/usr/bin/time';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const runs = Number(option('--runs') ?? 11);
const baseline = option('--baseline');

interface Sample {
  seconds: number;
  cpuSeconds: number;
  kilobytes: number;
}

/** Runs `argv` once under GNU time; fails loudly if the command does. */
function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Sample {
  const result = spawnSync(timeTool, ['-f', '%e %U %S %M', ...argv], { cwd, encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  const last = result.stderr.trim().split('\n').at(-1) ?? '';
  const [seconds, user, system, kilobytes] = last.split(' ').map(Number);
  return { seconds: seconds ?? NaN, cpuSeconds: (user ?? NaN) + (system ?? NaN), kilobytes: kilobytes ?? NaN };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

if (!existsSync(timeTool)) {
  console.error(`${timeTool} is missing: apt-get install time`);
  process.exit(2);
}
for (const checkout of [root, baseline].filter((dir): dir is string => dir !== undefined)) {
  if (!existsSync(join(checkout, 'dist', 'cli', 'main.js'))) {
    console.error(`${checkout} has no build: run npm run build there first`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'hegui-bench-cli-'));
const textFile = join(work, 'short.txt');
writeFileSync(textFile, '请帮我写一份关于城市公园绿化的介绍，联系电话 13812345678。\n');

const photo = join(work, 'photo.jpg');
await sharp(basePicture(1000), { raw: { width: 1000, height: 1000, channels: 3 } }).jpeg({ quality: 85 }).toFile(photo);
const warmCache = join(work, 'cache-warm');
const emptyCache = join(work, 'cache-empty');

/** A command line; `cache` names the notice cache folder it runs with, `empty` has that folder removed before each run. */
const commands: { name: string; args: string[]; cache?: string; empty?: boolean }[] = [
  { name: 'hegui --version', args: ['--version'] },
  { name: 'hegui --help', args: ['--help'] },
  { name: 'hegui workdays add 2026-09-30 5', args: ['workdays', 'add', '2026-09-30', '5'] },
  { name: 'hegui scan --keywords example --file short.txt', args: ['scan', '--keywords', 'example', '--file', textFile] },
  { name: 'hegui label embed --help', args: ['label', 'embed', '--help'] },
  { name: 'hegui rules', args: ['rules'] },
  { name: 'hegui serve --help', args: ['serve', '--help'] },
  // A command on the store (SQLite, migrated by the first run): the driver and kysely, nothing of the gateway.
  { name: 'hegui users list', args: ['users', 'list'] },
  // The assessment's commands: their help (no store, no safety engine), and one on the store.
  { name: 'hegui eval --help', args: ['eval', '--help'] },
  { name: 'hegui eval status', args: ['eval', 'status'] },
  { name: 'hegui corpus --help', args: ['corpus', '--help'] },
  // The visible notice on one text answer, written to a file of its own (overwritten each run).
  { name: 'hegui label visible short.txt -o out.txt', args: ['label', 'visible', textFile, '-o', join(work, 'out.txt')] },
  // The visible notice on one JPEG, with the notice cache warm, then empty.
  { name: 'hegui label visible photo.jpg -o out.jpg', args: ['label', 'visible', photo, '-o', join(work, 'out.jpg')], cache: warmCache },
  { name: 'the same, the notice cache empty', args: ['label', 'visible', photo, '-o', join(work, 'out.jpg')], cache: emptyCache, empty: true },
];

const sides = [{ label: 'hegui', dir: root }, ...(baseline ? [{ label: 'baseline', dir: baseline }] : [])];
// The warm cache is warmed once, by each checkout (a checkout without the cache ignores it).
for (const side of sides) measure([process.execPath, join(side.dir, 'bin', 'hegui.js'), 'label', 'visible', photo, '-o', join(work, 'out.jpg')], work, { ...process.env, HEGUI_CACHE_DIR: warmCache });
console.log(`runs ${runs}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const floor: Sample[] = [];
const rows = commands.map((command) => ({ command, samples: sides.map(() => [] as Sample[]) }));
for (let run = 0; run < runs; run++) {
  floor.push(measure([process.execPath, '-e', '0'], work));
  for (const row of rows) {
    sides.forEach((side, i) => {
      // Each checkout its own database, so neither meets the other's schema.
      const env = { ...process.env, HEGUI_DATABASE_URL: `file:${join(work, `store-${i}.db`)}`, ...(row.command.cache ? { HEGUI_CACHE_DIR: row.command.cache } : {}) };
      if (row.command.empty && row.command.cache) rmSync(row.command.cache, { recursive: true, force: true });
      row.samples[i]!.push(measure([process.execPath, join(side.dir, 'bin', 'hegui.js'), ...row.command.args], work, env));
    });
  }
}

const cell = (samples: Sample[]) =>
  `${(median(samples.map((s) => s.seconds)) * 1000).toFixed(0)} ms (CPU ${(median(samples.map((s) => s.cpuSeconds)) * 1000).toFixed(0)} ms), ${(median(samples.map((s) => s.kilobytes)) / 1024).toFixed(0)} MB`;
const header = ['command', ...sides.map((side) => side.label), ...(baseline ? ['baseline / hegui'] : [])];
console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
console.log(`| node -e 0 (floor) | ${cell(floor)} |${baseline ? ' | |' : ''}`);
for (const row of rows) {
  const cells = row.samples.map(cell);
  const ratio = baseline ? [`${(median(row.samples[1]!.map((s) => s.seconds)) / median(row.samples[0]!.map((s) => s.seconds))).toFixed(1)}x`] : [];
  console.log(`| ${row.command.name} | ${[...cells, ...ratio].join(' | ')} |`);
}
rmSync(work, { recursive: true, force: true });
