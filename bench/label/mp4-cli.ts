/**
 * @module bench/label/mp4-cli
 * Issue 14, "Big files by kernel copy and patch": `hegui label embed` of a ~400 MB MP4 as a
 * whole process, as a user runs it, against `cp` of the same file; each command followed by
 * `sync`, so both pay for getting the data to disk. Targets: moov at the end at most 1.1x
 * `cp` + `sync` with peak RSS under 80 MB; moov at the front (`-movflags +faststart`, where
 * the grown moov moves the payload) at most 1.5x.
 *
 * Cases, each timed under GNU time (`/usr/bin/time -f '%e %U %S %M'` around `sh -c 'CMD &&
 * sync'`, so the peak RSS is the largest of the processes it waited for, here hegui's):
 *  - `-o OUT`: `node bin/hegui.js label embed IN --producer P --id ID -o OUT && sync`
 *    against `cp IN OUT && sync`;
 *  - `--in-place`: the same with `--in-place` on a fresh copy of the input (made and synced
 *    before the clock starts), against `cp IN OUT && sync`.
 * Runs alternate cp and hegui; the table shows medians of `--runs` (default 3), wall and CPU
 * (user + system) time, and the largest peak RSS. With `--baseline DIR` (another checkout,
 * built) its `bin/hegui.js` runs too, alternating with this one.
 *
 * Media are made with Debian's ffmpeg into `.bench-data/label-mp4-cli/` (gitignored): a 10 s
 * 720p clip looped with `-c copy` to `--size-mb`; the large files are deleted at the end
 * unless `--keep`. The build is brought up to date first (`scripts/build.mjs --if-stale`).
 *
 * Run: `npx tsx bench/label/mp4-cli.ts [--runs 3] [--size-mb 400] [--dir DIR] [--keep] [--baseline DIR]`
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const PRODUCER = '001191350100M000100Y431A001';
const root = fileURLToPath(new URL('../..', import.meta.url));
const timeTool = '/usr/bin/time';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const runs = Number(option('--runs') ?? 3);
const sizeMb = Number(option('--size-mb') ?? 400);
const dir = option('--dir') ?? join(root, '.bench-data', 'label-mp4-cli');
const keep = process.argv.includes('--keep');
const baseline = option('--baseline');

interface Sample {
  wall: number;
  cpu: number;
  rssMb: number;
}

/** Runs `sh -c script` once under GNU time. */
function measure(script: string): Sample {
  const result = spawnSync(timeTool, ['-f', '%e %U %S %M', 'sh', '-c', script], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${script} exited ${result.status}: ${result.stderr}`);
  const [wall, user, system, kb] = (result.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { wall: wall ?? NaN, cpu: (user ?? NaN) + (system ?? NaN), rssMb: (kb ?? NaN) / 1024 };
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
}

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** The two ~sizeMb files (moov at the end and at the front), made once and reused. */
function prepareMedia(): { end: string; front: string } {
  mkdirSync(dir, { recursive: true });
  const clip = join(dir, 'clip-720p-10s.mp4');
  const ffmpeg = (args: string[]): void => run('ffmpeg', ['-v', 'error', '-y', ...args]);
  if (!existsSync(clip)) {
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '10'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '20M', '-c:a', 'aac', clip],
    ]);
  }
  const loops = Math.max(0, Math.round((sizeMb * 1e6) / statSync(clip).size) - 1);
  const end = join(dir, `moov-end-${sizeMb}mb.mp4`);
  const front = join(dir, `moov-front-${sizeMb}mb.mp4`);
  if (!existsSync(end)) ffmpeg(['-stream_loop', String(loops), '-i', clip, '-map', '0', '-c', 'copy', end]);
  if (!existsSync(front)) ffmpeg(['-stream_loop', String(loops), '-i', clip, '-map', '0', '-c', 'copy', '-movflags', '+faststart', front]);
  return { end, front };
}

interface Row {
  name: string;
  size: number;
  samples: Map<string, Sample[]>;
}

const builds = [{ label: 'hegui', checkout: root }, ...(baseline ? [{ label: 'baseline', checkout: baseline }] : [])];

/** One case: `cp IN OUT && sync` against each build's `label embed`, alternating. */
function compare(name: string, input: string, inPlace: boolean): Row {
  const out = join(dir, 'out.mp4');
  const samples = new Map<string, Sample[]>([['cp', []], ...builds.map((b) => [b.label, []] as [string, Sample[]])]);
  const hegui = (checkout: string, target: string): string =>
    `node ${quote(join(checkout, 'bin', 'hegui.js'))} label embed ${quote(inPlace ? target : input)} --producer ${PRODUCER} --id bench-1 ${inPlace ? '--in-place' : `-o ${quote(target)}`} >/dev/null && sync`;
  for (let i = 0; i < runs; i++) {
    rmSync(out, { force: true });
    run('sync', []);
    samples.get('cp')?.push(measure(`cp ${quote(input)} ${quote(out)} && sync`));
    for (const build of builds) {
      rmSync(out, { force: true });
      // In place: a fresh unlabelled copy, on disk before the clock starts.
      if (inPlace) run('cp', [input, out]);
      run('sync', []);
      samples.get(build.label)?.push(measure(hegui(build.checkout, out)));
    }
  }
  rmSync(out, { force: true });
  return { name, size: statSync(input).size, samples };
}

function format(row: Row): string[] {
  const cp = row.samples.get('cp') ?? [];
  const cpWall = median(cp.map((s) => s.wall));
  const cpCpu = median(cp.map((s) => s.cpu));
  return builds.map((build) => {
    const mine = row.samples.get(build.label) ?? [];
    const wall = median(mine.map((s) => s.wall));
    const cpu = median(mine.map((s) => s.cpu));
    const rss = Math.max(...mine.map((s) => s.rssMb));
    const cpRss = Math.max(...cp.map((s) => s.rssMb));
    return `| ${row.name} | ${build.label} | ${(row.size / 1e6).toFixed(0)} MB | ${cpWall.toFixed(2)} s (CPU ${cpCpu.toFixed(2)} s, ${cpRss.toFixed(0)} MB) | ${wall.toFixed(2)} s (CPU ${cpu.toFixed(2)} s) | **${(wall / cpWall).toFixed(2)}x** | ${rss.toFixed(0)} MB |`;
  });
}

if (!existsSync(timeTool)) {
  console.error(`${timeTool} is missing: apt-get install time`);
  process.exit(2);
}
run(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale', '--quiet']);
for (const build of builds) {
  if (!existsSync(join(build.checkout, 'dist', 'cli', 'main.js'))) throw new Error(`${build.checkout} has no build: run npm run build there`);
}
const media = prepareMedia();
// Both inputs in the page cache, as after any earlier read.
run('cat', [media.end, media.front]);
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`hegui label embed vs cp, each followed by sync, whole process; median of ${runs} alternating runs; peak RSS the largest; Node ${process.version}, ${cpus().length} CPUs, load ${load()}\n`);
console.log('| case | build | size | cp + sync (CPU, peak RSS) | label embed + sync (CPU) | ratio | peak RSS |');
console.log('|---|---|---|---|---|---|---|');
for (const [name, input, inPlace] of [
  ['moov at the end, -o OUT', media.end, false],
  ['moov at the end, --in-place', media.end, true],
  ['moov at the front (faststart), -o OUT', media.front, false],
  ['moov at the front (faststart), --in-place', media.front, true],
] as const) {
  for (const line of format(compare(name, input, inPlace))) console.log(line);
}
// What no whole-process run can go under: Node's start, and hegui's start for this command.
const startup = (script: string): number => median(Array.from({ length: Math.max(3, runs) }, () => measure(script).wall));
console.log(`\nstart-up alone (median of ${Math.max(3, runs)}): node -e 0 ${startup('node -e 0').toFixed(2)} s; node bin/hegui.js label embed --help ${startup(`node ${quote(join(root, 'bin', 'hegui.js'))} label embed --help >/dev/null`).toFixed(2)} s`);
console.log(`load average at the end: ${load()}`);
if (!keep) {
  rmSync(media.end, { force: true });
  rmSync(media.front, { force: true });
}
