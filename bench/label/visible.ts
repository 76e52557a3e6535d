/**
 * @module bench/label/visible
 * Issue 14, "Visible labels fast": the visible notice on a folder of one-megapixel JPEGs as a
 * whole process, as a user runs it: `node bin/hegui.js label visible DIR --in-place` (the
 * built package: run `npm run build` first) against one ImageMagick `mogrify -annotate` over
 * the same files, with the same font file, glyph size (hegui's planned font size), corner,
 * margin and JPEG quality. Target: hegui at least 3x faster.
 *
 * Inputs are generated once with sharp into `.bench-data/label-visible/in/` (gitignored):
 * 1000x1000 JPEGs at quality 85, one smooth-plus-noise picture recoloured per file (as
 * bench/label/explicit.ts). Every run labels a fresh copy (the copy is not timed). The two
 * commands alternate, `--runs` times each; the table shows the median wall time and the
 * median CPU time (user + system, all threads and children) from GNU time, with each run's
 * figures. A labelled copy of each side is checked with hegui's checker (notice height).
 * With `--baseline DIR` another checkout's build (for example the code before a change) runs
 * the same command in the same rotation. The default labels a baseline JPEG by the DCT-block
 * splice (only the blocks under the notice changed, every other block kept); the same build with
 * `--reencode` (the whole picture decoded and encoded again) runs in the rotation too. hegui's
 * runs keep their notice cache in the benchmark's folder, warmed once before the first run (as
 * any earlier run on a machine warms it); one more side empties its own before each run (a
 * machine's first run: the canvas loads and scans the system's font folders). Each copy of the
 * inputs is written back (`sync`) before its command starts.
 *
 * With `--threads`, each hegui command also runs `--runs` more times (untimed by GNU time) while
 * this process reads `/proc/PID/task/TID/stat` every few milliseconds, and a second table shows
 * the median CPU of its main thread, of its busiest other thread (the labelling thread, on the
 * splice path) and of all the others together (V8's compiler and collector threads, libuv's and
 * libvips's): where the work went,
 * which the whole-process figure does not say (the reading costs this process a little CPU,
 * which is why those runs are apart from the timed ones).
 *
 * A second table does the same on the same pictures written progressive (in
 * `.bench-data/label-visible/in-progressive/`): hegui decodes every scan and keeps them all,
 * coding again only the units around the notice. `--progressive` runs only that
 * table, `--no-progressive` only the first.
 *
 * Run: `npx tsx bench/label/visible.ts [--files 200] [--runs 3] [--dir /dev/shm] [--baseline /path/to/checkout] [--threads] [--progressive | --no-progressive]`
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { checkExplicitLabel } from '../../src/label/explicit/index.js';
import { magickNotice } from './lib/magick.js';
import { basePicture } from './lib/picture.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const rootDir = fileURLToPath(new URL('../..', import.meta.url));
const SIDE = 1000;
const NOTICE = 'AI生成';
const timeTool = '/usr/bin/time';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const files = Number(option('--files') ?? 200);
const runs = Number(option('--runs') ?? 3);
const dataDir = join(option('--dir') ?? join(rootDir, '.bench-data'), 'label-visible');
const baseline = option('--baseline');

/**
 * The picture sets: baseline JPEGs (the row), then the same pictures as progressive JPEGs
 * (libjpeg's default scan script, as sharp writes it). `--progressive` runs only the second,
 * `--no-progressive` only the first.
 */
const sets: boolean[] = process.argv.includes('--progressive') ? [true] : process.argv.includes('--no-progressive') ? [false] : [false, true];

async function makeInputs(progressive: boolean): Promise<string> {
  const inDir = join(dataDir, progressive ? 'in-progressive' : 'in');
  if (existsSync(inDir) && readdirSync(inDir).length === files) return inDir;
  rmSync(inDir, { recursive: true, force: true });
  mkdirSync(inDir, { recursive: true });
  const base = basePicture(SIDE);
  for (let i = 0; i < files; i++) {
    await sharp(base, { raw: { width: SIDE, height: SIDE, channels: 3 } })
      .modulate({ hue: (i * 37) % 360, brightness: 0.7 + (i % 7) * 0.08 })
      .jpeg({ quality: 85, progressive })
      .toFile(join(inDir, `p${String(i).padStart(4, '0')}.jpg`));
  }
  return inDir;
}

interface Sample {
  wall: number;
  cpu: number;
}

/** Runs `argv` once under GNU time in `cwd` (with `env` added to this process's); fails loudly if the command does. */
function timed(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Sample {
  const result = spawnSync(timeTool, ['-f', '%e %U %S', ...argv], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr.slice(-2000)}`);
  const [wall, user, sys] = (result.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { wall: wall ?? NaN, cpu: (user ?? NaN) + (sys ?? NaN) };
}

/** CPU seconds of a run's threads: the main one, the busiest other one, and the rest. */
interface ThreadSample {
  main: number;
  busiest: number;
  others: number;
}

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** Runs `argv` in `cwd` reading its threads' CPU from /proc until it ends (the last reading of each thread counts). */
async function threadCpu(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<ThreadSample> {
  const child = spawn(argv[0] as string, argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ticks = new Map<number, number>();
  let done = false;
  void ended.then(() => (done = true));
  while (!done) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${child.pid}/task`);
    } catch {
      // Gone between the exit and our reading: the last readings stand.
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks.set(Number(tid), Number(fields[11]) + Number(fields[12]));
      } catch {
        // The thread ended between the listing and the reading.
      }
    }
    await sleep(3);
  }
  const code = await ended;
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  const main = (ticks.get(child.pid as number) ?? 0) / TICKS;
  const rest = [...ticks].filter(([tid]) => tid !== child.pid).map(([, t]) => t / TICKS).sort((a, b) => b - a);
  return { main, busiest: rest[0] ?? 0, others: rest.slice(1).reduce((a, b) => a + b, 0) };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

if (!existsSync(timeTool)) {
  console.error(`${timeTool} is missing: apt-get install time`);
  process.exit(2);
}
for (const checkout of [rootDir, baseline].filter((dir): dir is string => dir !== undefined)) {
  if (!existsSync(join(checkout, 'dist', 'cli', 'main.js'))) {
    console.error(`${checkout} has no build: run npm run build there first`);
    process.exit(2);
  }
}
async function runSet(progressive: boolean): Promise<void> {
  const inDir = await makeInputs(progressive);
  const names = readdirSync(inDir).sort();

  // The same glyph size and corner for ImageMagick: hegui's planned font size, in pixels (72 dpi points).
  const { plan, margin, options } = magickNotice(NOTICE, SIDE);
  const heguiArgv = (checkout: string, ...extra: string[]) => (dir: string): string[] => [process.execPath, join(checkout, 'bin', 'hegui.js'), 'label', 'visible', dir, '--in-place', '--text', NOTICE, ...extra];
  const mogrifyArgv = (dir: string): string[] => ['mogrify', ...options, ...names.map((name) => join(dir, name))];

  // The notice cache (docs/labels.md): the runs of hegui use one of the benchmark's own, warmed
  // before the first run as any earlier run on a machine warms it; one more side empties its own
  // before each run (a machine's first run, the canvas loaded and its fonts scanned).
  const warmCache = { HEGUI_CACHE_DIR: join(dataDir, 'cache-warm') };
  const coldDir = join(dataDir, 'cache-cold');
  const coldCache = { HEGUI_CACHE_DIR: coldDir };
  const warmUp = join(dataDir, 'warm-up');
  rmSync(warmUp, { recursive: true, force: true });
  mkdirSync(warmUp, { recursive: true });
  cpSync(join(inDir, names[0] as string), join(warmUp, names[0] as string));
  timed(heguiArgv(rootDir)(warmUp), dataDir, warmCache);
  rmSync(warmUp, { recursive: true, force: true });
  const sides = [
    { name: 'hegui label visible DIR --in-place', argv: heguiArgv(rootDir), env: warmCache, samples: [] as Sample[] },
    { name: 'hegui, the same with the notice cache empty (a first run)', argv: heguiArgv(rootDir), env: coldCache, samples: [] as Sample[] },
    { name: 'hegui --reencode: the same command, whole re-encode', argv: heguiArgv(rootDir, '--reencode'), env: warmCache, samples: [] as Sample[] },
    ...(baseline ? [{ name: `baseline (${baseline}): the same command`, argv: heguiArgv(baseline), env: warmCache, samples: [] as Sample[] }] : []),
    { name: `mogrify -annotate (${names.length} files, one process)`, argv: mogrifyArgv, env: {}, samples: [] as Sample[] },
  ];
  /** A fresh copy of the inputs for one run, written back before the command starts, and the empty notice cache emptied again. */
  const freshRun = (): string => {
    const dir = join(dataDir, 'run');
    rmSync(dir, { recursive: true, force: true });
    cpSync(inDir, dir, { recursive: true });
    rmSync(coldDir, { recursive: true, force: true });
    spawnSync('sync');
    return dir;
  };
  const loadStart = loadavg().map((l) => l.toFixed(2)).join(' ');
  const checked: string[] = [];
  const total = (dir: string): number => names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  const inputBytes = total(inDir);
  const sizes: string[] = [];
  for (let run = 0; run < runs; run++) {
    for (const side of sides) {
      const dir = freshRun();
      side.samples.push(timed(side.argv(dir), dataDir, side.env));
      if (run === 0) {
        const report = await checkExplicitLabel(readFileSync(join(dir, names[0] as string)), { offline: true });
        const height = report.rules.find((r) => r.rule === 'image.height');
        checked.push(`${side.name.split(' ')[0] as string}: ${height?.status} (${JSON.stringify(height?.measured)})`);
        const written = total(dir);
        sizes.push(`${side.name.split(':')[0] as string} ${(written / 1e6).toFixed(1)} MB (${written >= inputBytes ? '+' : ''}${((100 * (written - inputBytes)) / inputBytes).toFixed(1)}%)`);
      }
    }
  }
  rmSync(join(dataDir, 'run'), { recursive: true, force: true });

  console.log(`${names.length} ${progressive ? 'progressive ' : ''}JPEGs of ${SIDE}x${SIDE} (quality 85) in ${inDir}; ${runs} alternating runs; ${cpus().length} CPUs; load average at start ${loadStart}, at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`notice ${JSON.stringify(NOTICE)}, font size ${plan.fontSize} px, glyph ${plan.inkHeight} px, bottom-right, margin ${margin} px`);
  console.log('| command | wall (median) | CPU user+sys (median) | runs (wall s / CPU s) |');
  console.log('|---|---|---|---|');
  for (const side of sides) {
    const list = side.samples.map((s) => `${s.wall.toFixed(2)}/${s.cpu.toFixed(2)}`).join(', ');
    console.log(`| ${side.name} | ${median(side.samples.map((s) => s.wall)).toFixed(2)} s | ${median(side.samples.map((s) => s.cpu)).toFixed(2)} s | ${list} |`);
  }
  const medians = sides.map((side) => ({ wall: median(side.samples.map((s) => s.wall)), cpu: median(side.samples.map((s) => s.cpu)) }));
  const hegui = medians[0] as Sample;
  const magick = medians.at(-1) as Sample;
  console.log(`mogrify / hegui: wall ${(magick.wall / hegui.wall).toFixed(2)}x, CPU ${(magick.cpu / hegui.cpu).toFixed(2)}x (target >= 3x wall)`);
  console.log(`mogrify / hegui with the notice cache empty: wall ${(magick.wall / (medians[1] as Sample).wall).toFixed(2)}x, CPU ${(magick.cpu / (medians[1] as Sample).cpu).toFixed(2)}x`);
  console.log(`mogrify / hegui --reencode: wall ${(magick.wall / (medians[2] as Sample).wall).toFixed(2)}x, CPU ${(magick.cpu / (medians[2] as Sample).cpu).toFixed(2)}x`);
  if (baseline) console.log(`mogrify / baseline: wall ${(magick.wall / (medians[3] as Sample).wall).toFixed(2)}x, CPU ${(magick.cpu / (medians[3] as Sample).cpu).toFixed(2)}x`);
  console.log(`checker on the first file: ${checked.join('; ')}`);
  console.log(`output, the ${names.length} files (input ${(inputBytes / 1e6).toFixed(1)} MB): ${sizes.join('; ')}`);

  if (process.argv.includes('--threads')) {
    const heguiSides = sides.filter((side) => side.name !== sides.at(-1)?.name);
    const threadSamples = new Map<string, ThreadSample[]>(heguiSides.map((side) => [side.name, []]));
    for (let run = 0; run < runs; run++) {
      for (const side of heguiSides) {
        threadSamples.get(side.name)?.push(await threadCpu(side.argv(freshRun()), dataDir, side.env));
      }
    }
    rmSync(join(dataDir, 'run'), { recursive: true, force: true });
    console.log('');
    console.log(`CPU by thread (/proc, ${runs} more runs each, medians; on the splice path the busiest other thread is the labelling thread, with --reencode one of libvips's):`);
    console.log('| command | main thread | busiest other thread | the other threads (V8 compiler and collector, libuv, libvips) |');
    console.log('|---|---|---|---|');
    for (const [name, list] of threadSamples) {
      const cell = (pick: (t: ThreadSample) => number): string => `${median(list.map(pick)).toFixed(2)} s (${list.map((t) => pick(t).toFixed(2)).join(', ')})`;
      console.log(`| ${name} | ${cell((t) => t.main)} | ${cell((t) => t.busiest)} | ${cell((t) => t.others)} |`);
    }
  }
}

for (const progressive of sets) {
  if (progressive !== sets[0]) console.log('');
  await runSet(progressive);
}
