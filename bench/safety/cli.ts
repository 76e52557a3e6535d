/**
 * @module bench/safety/cli
 * Issue 14, "Scans": `hegui scan --file` of a ~20 M-character text with a 20,000-word library
 * as a whole process, as a user runs it, against the npm peers (fastscan, mint-filter) run as
 * whole processes by `bench/safety/peer-scan.mjs`.
 *
 * Files (generated from fixed seeds by bench/safety/data.ts into `.bench-data/`, the same as
 * `bench/safety/index.ts` uses):
 * - `safety-text-50mb.txt`: 50 MB of mixed Chinese and English, 21.2 M UTF-16 units;
 * - `safety-keywords-20000.txt`: the 20,000 keywords, one a line (what the peers read);
 * - `scan-lib-literal-20000.json` and `scan-lib-every-20000.json`: the same keywords as hegui
 *   keyword libraries, every transform off, and every transform on (Chinese entries in pinyin
 *   mode, as in `index.ts`). Their compiled-library caches sit beside them; a first untimed
 *   run writes them, as a user's first scan does.
 *
 * Commands, each run as its own process under GNU time (`/usr/bin/time -f '%e %U %S %M'`), in
 * turn, `--runs` rounds (default 5), stdout to a file in a temporary directory:
 * - `node bin/hegui.js scan --keywords LIB --file TEXT --jsonl` (the built package:
 *   `npm run build` first): one JSON line per hit, then the verdict;
 * - `node bench/safety/peer-scan.mjs fastscan|mint-filter WORDS TEXT`: one JSON line per hit,
 *   then the count.
 * hegui scans the whole file as one text (offsets into the file, as `hegui scan` reports them),
 * splitting it across worker threads when it is large; the peers scan it in one call.
 * Prints the medians of wall time, CPU time (user + system) and peak RSS, and each
 * command's hit count (the number of JSON lines it printed, less its last).
 *
 * With `--baseline DIR` (another checkout with its own `npm run build`, e.g. the code before
 * this work) its `hegui scan --json` runs too, in the same rounds.
 *
 * Run: `npm run build && npx tsx bench/safety/cli.ts [--runs 5] [--mb 50] [--baseline DIR]`
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { literalNormaliserOptions, serialiseLibrary } from '../../src/safety/index.js';
import { cached, numberOption, syntheticKeywords, syntheticText } from './data.js';
import { benchLibrary } from './peers.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const root = join(import.meta.dirname, '..', '..');
const timeTool = '/usr/bin/time';
const runs = numberOption('runs', 5);
const megabytes = numberOption('mb', 50);
const keywordCount = 20_000;

if (!existsSync(timeTool)) {
  console.error(`${timeTool} is missing: apt-get install time`);
  process.exit(2);
}
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.error('no build: run npm run build first');
  process.exit(2);
}

const data = join(root, '.bench-data');
const keywords = (await cached(root, `safety-keywords-${keywordCount}.txt`, () => syntheticKeywords(keywordCount).join('\n'))).split('\n');
const text = await cached(root, `safety-text-${megabytes}mb.txt`, () => syntheticText(megabytes * 1_000_000, keywords));
const textFile = join(data, `safety-text-${megabytes}mb.txt`);
const wordsFile = join(data, `safety-keywords-${keywordCount}.txt`);
const libraries = {
  literal: join(data, `scan-lib-literal-${keywordCount}.json`),
  every: join(data, `scan-lib-every-${keywordCount}.json`),
};
writeFileSync(libraries.literal, serialiseLibrary({ ...benchLibrary(keywords, false), transforms: { ...literalNormaliserOptions } }));
writeFileSync(libraries.every, serialiseLibrary(benchLibrary(keywords, true)));
console.log(`text ${textFile}: ${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB, ${text.length.toLocaleString('en-US')} UTF-16 units; ${keywords.length.toLocaleString('en-US')} keywords`);

const hegui = join(root, 'bin', 'hegui.js');
const peer = join(import.meta.dirname, 'peer-scan.mjs');
const baselineAt = process.argv.indexOf('--baseline');
const baseline = baselineAt >= 0 ? process.argv[baselineAt + 1] : undefined;
if (baseline !== undefined && !existsSync(join(baseline, 'dist', 'cli', 'main.js'))) {
  console.error(`${baseline} has no build: run npm run build there first`);
  process.exit(2);
}
const peerCommands: { name: string; argv: string[] }[] = [
  { name: 'fastscan 1.0.6 (peer-scan.mjs)', argv: [process.execPath, peer, 'fastscan', wordsFile, textFile] },
  { name: 'mint-filter 4.0.3 (peer-scan.mjs)', argv: [process.execPath, peer, 'mint-filter', wordsFile, textFile] },
];
// The baseline (an older checkout, e.g. before this work) has no --jsonl: it prints its --json report.
const commands: { name: string; argv: string[] }[] = [
  { name: 'hegui scan, literal library', argv: [process.execPath, hegui, 'scan', '--keywords', libraries.literal, '--file', textFile, '--jsonl'] },
  { name: 'hegui scan, every normalisation', argv: [process.execPath, hegui, 'scan', '--keywords', libraries.every, '--file', textFile, '--jsonl'] },
  ...(baseline === undefined
    ? []
    : [
        { name: 'baseline hegui scan --json, literal library', argv: [process.execPath, join(baseline, 'bin', 'hegui.js'), 'scan', '--keywords', `${libraries.literal.replace(/\.json$/, '')}.base.json`, '--file', textFile, '--json'] },
        { name: 'baseline hegui scan --json, every normalisation', argv: [process.execPath, join(baseline, 'bin', 'hegui.js'), 'scan', '--keywords', `${libraries.every.replace(/\.json$/, '')}.base.json`, '--file', textFile, '--json'] },
      ]),
  ...peerCommands,
];
// The baseline's libraries are copies, so its caches (another format) sit beside them, not beside ours.
if (baseline !== undefined) for (const path of Object.values(libraries)) copyFileSync(path, `${path.replace(/\.json$/, '')}.base.json`);

interface Sample {
  wall: number;
  cpu: number;
  rssMb: number;
}

const work = mkdtempSync(join(tmpdir(), 'hegui-bench-scan-'));
const outFile = join(work, 'out.jsonl');

/** Runs `argv` once under GNU time with stdout to `outFile`; `hegui scan` exits 1 on a block verdict. */
function measure(argv: string[]): Sample {
  const result = spawnSync('sh', ['-c', `exec ${timeTool} -f '%e %U %S %M' "$@" > ${outFile}`, 'sh', ...argv], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0 && result.status !== 1) throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  const last = result.stderr.trim().split('\n').at(-1) ?? '';
  const [wall, user, sys, kb] = last.split(' ').map(Number) as [number, number, number, number];
  return { wall, cpu: user + sys, rssMb: kb / 1024 };
}

/** Lines in the output file less the last (the verdict or the count); for a --json report, its keyword matches. */
async function hitsOf(json: boolean): Promise<number> {
  if (json) return (JSON.parse(readFileSync(outFile, 'utf8')) as { matches: unknown[] }).matches.length;
  let lines = 0;
  for await (const _ of createInterface({ input: createReadStream(outFile) })) lines++;
  return lines - 1;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

try {
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  // Untimed first runs: hegui writes its compiled-library caches (as a user's first scan does), and each output is counted.
  const hits: number[] = [];
  for (const command of commands) {
    const first = measure(command.argv);
    hits.push(await hitsOf(command.argv.includes('--json')));
    console.log(`first run of ${command.name}: ${first.wall.toFixed(2)} s wall, ${first.cpu.toFixed(2)} s CPU, ${hits.at(-1)} hits`);
  }
  const samples = commands.map(() => [] as Sample[]);
  for (let round = 0; round < runs; round++) {
    commands.forEach((command, i) => samples[i]?.push(measure(command.argv)));
  }
  const rows = commands.map((command, i) => {
    const s = samples[i] as Sample[];
    return { name: command.name, wall: median(s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)), rss: median(s.map((x) => x.rssMb)), hits: hits[i] as number };
  });
  const peers = rows.slice(rows.length - peerCommands.length);
  const fastestWall = Math.min(...peers.map((r) => r.wall));
  const fastestCpu = Math.min(...peers.map((r) => r.cpu));
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('');
  console.log(`| command (median of ${runs}) | wall | CPU (user + sys) | peak RSS | fastest peer's wall / this | fastest peer's CPU / this | hits |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.wall.toFixed(2)} s | ${r.cpu.toFixed(2)} s | ${Math.round(r.rss)} MB | **${(fastestWall / r.wall).toFixed(2)}x** | ${(fastestCpu / r.cpu).toFixed(2)}x | ${r.hits.toLocaleString('en-US')} |`);
  }
  console.log('');
  console.log('Command lines (from the repository root; stdout to a file):');
  for (const c of commands) console.log(`- \`${c.argv.map((a) => a.replace(process.execPath, 'node').replace(root, '.')).join(' ')}\``);
} finally {
  rmSync(work, { recursive: true, force: true });
}
