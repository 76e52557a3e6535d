/**
 * @module bench/label/mp4
 * Issue 3 benchmarks (b), (c) and (d): labelling a ~1 GB MP4 through the public file API
 * (`embedLabelFile`, unsigned) against `cp` of the same file, with `moov` after `mdat` (b) and
 * before it (c, every chunk offset shifts), and in place when the label fits in existing
 * padding (d). Targets: (b), (c) at most 1.5x cp's time with peak RSS under 100 MB; (d) under
 * 5 ms for any size.
 *
 * Media is generated at run time into `.bench-data/` (gitignored) with ffmpeg: a 10-second
 * 720p clip, looped with `-c copy` to about 1 GB. Each timed run starts after `sync`, with the
 * source in the page cache (a warm-up run reads it first); runs alternate cp and hegui and the
 * median is reported. hegui runs in a child process so its peak RSS is its own.
 *
 * Run: `npx tsx bench/label/mp4.ts [--runs 5] [--size-mb 1000] [--dir /dev/shm/hegui-bench]` (`--dir`
 * puts the media and outputs elsewhere, e.g. on tmpfs to take the disk out of the comparison).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const PRODUCER = '001191350100M000100Y431A001';
const rootDir = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = join(rootDir, '.bench-data');
const distDir = join(dataDir, 'dist');
const childScript = join(dataDir, 'label-child.mjs');

interface ChildResult {
  ms: number;
  /** User plus system CPU time of the call. */
  cpuMs: number;
  maxRssMb: number;
  method: string;
  /** In-place mode: the times of further relabels in the same (now warm) process. */
  warm: number[];
}

/**
 * The child process, as plain JavaScript over the compiled sources: under tsx a process starts
 * at ~85 MB RSS (its loader runs a second V8 isolate), which would hide what labelling costs.
 * Modes: `api` and `inplace`, both through the public file API (`embedLabelFile`).
 */
const CHILD = `
const [mode, dist, src, dst, id] = process.argv.slice(2);
const producer = '${PRODUCER}';
const { embedLabelFile } = await import(dist + '/label/files.js');
const started = process.hrtime.bigint();
const cpu = process.cpuUsage();
let method = 'rewritten';
const warm = [];
if (mode === 'inplace') {
  method = (await embedLabelFile(src, { producer, produceId: id }, { inPlace: true })).method;
  const first = Number(process.hrtime.bigint() - started) / 1e6;
  for (let i = 0; i < 20; i++) {
    const t = process.hrtime.bigint();
    if ((await embedLabelFile(src, { producer, produceId: id.slice(0, -2) + String(i).padStart(2, '0') }, { inPlace: true })).method !== method) throw new Error('not patched');
    warm.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  process.stdout.write(JSON.stringify({ ms: first, cpuMs: 0, maxRssMb: process.resourceUsage().maxRSS / 1024, method, warm }));
  process.exit(0);
} else {
  await embedLabelFile(src, { producer, produceId: id }, { out: dst });
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
const used = process.cpuUsage(cpu);
const cpuMs = (used.user + used.system) / 1000;
process.stdout.write(JSON.stringify({ ms, cpuMs, maxRssMb: process.resourceUsage().maxRSS / 1024, method, warm }));
`;

/** Compiles `src/` with the project's TypeScript into `.bench-data/dist` and writes the child script. */
function prepareChild(): void {
  const tsc = join(rootDir, 'node_modules', '.bin', 'tsc');
  spawnSync(tsc, ['-p', join(rootDir, 'tsconfig.json'), '--outDir', distDir, '--declaration', 'false', '--sourceMap', 'false'], { stdio: 'ignore' });
  if (!existsSync(join(distDir, 'label', 'files.js'))) throw new Error('compiling src/ with tsc produced no label/files.js');
  writeFileSync(childScript, CHILD);
}

function runChild(mode: 'api' | 'inplace', src: string, dst: string, id: string): ChildResult {
  const out = execFileSync(process.execPath, [childScript, mode, distDir, src, dst, id], { encoding: 'utf8' });
  return JSON.parse(out) as ChildResult;
}

function ffmpeg(args: string[]): void {
  const result = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed`);
}

/** The ~sizeMb MP4s (moov at the end and at the front), made once and reused. */
function prepareMedia(sizeMb: number, dir: string): { end: string; front: string; clip: string } {
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const clip = join(dataDir, 'clip-720p-10s.mp4');
  if (!existsSync(clip)) {
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '10'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '60M', '-maxrate', '60M', '-bufsize', '120M', '-c:a', 'aac', clip],
    ]);
  }
  const loops = Math.max(0, Math.round((sizeMb * 1e6) / statSync(clip).size) - 1);
  const end = join(dataDir, `moov-end-${sizeMb}mb.mp4`);
  const front = join(dataDir, `moov-front-${sizeMb}mb.mp4`);
  if (!existsSync(end)) ffmpeg(['-stream_loop', String(loops), '-i', clip, '-map', '0', '-c', 'copy', end]);
  if (!existsSync(front)) ffmpeg(['-stream_loop', String(loops), '-i', clip, '-map', '0', '-c', 'copy', '-movflags', '+faststart', front]);
  if (dir === dataDir) return { end, front, clip };
  const placed = { end: join(dir, basename(end)), front: join(dir, basename(front)), clip: join(dir, basename(clip)) };
  for (const [from, to] of [[end, placed.end], [front, placed.front], [clip, placed.clip]] as const) if (!existsSync(to)) copyFileSync(from, to);
  return placed;
}

function sync(): void {
  spawnSync('sync');
}

/** GNU time reports a child's CPU time; without it, cp's CPU time is not shown. */
const gnuTime = existsSync('/usr/bin/time');

/** Wall time of `cp`, and its user + system CPU time when GNU time is installed. */
function timeCp(src: string, dst: string): { ms: number; cpuMs: number | undefined } {
  rmSync(dst, { force: true });
  sync();
  const started = process.hrtime.bigint();
  const result = gnuTime ? spawnSync('/usr/bin/time', ['-f', '%U %S', 'cp', src, dst]) : spawnSync('cp', [src, dst]);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`cp failed: ${result.stderr.toString()}`);
  const times = gnuTime ? result.stderr.toString().trim().split('\n').at(-1)?.split(' ').map(Number) : undefined;
  return { ms, cpuMs: times ? ((times[0] ?? 0) + (times[1] ?? 0)) * 1000 : undefined };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Runs cp and the public API alternately, `runs` times after a warm-up, and reports medians. */
function compareWithCp(name: string, src: string, runs: number): string[] {
  const dst = join(dirname(src), 'out.mp4');
  const cpDst = join(dirname(src), 'out-cp.mp4');
  const modes = ['api'] as const;
  timeCp(src, cpDst);
  for (const mode of modes) runChild(mode, src, dst, 'warm-up');
  const cp: { ms: number; cpuMs: number | undefined }[] = [];
  const results: Record<(typeof modes)[number], ChildResult[]> = { api: [] };
  for (let i = 0; i < runs; i++) {
    cp.push(timeCp(src, cpDst));
    for (const mode of modes) {
      rmSync(dst, { force: true });
      sync();
      results[mode].push(runChild(mode, src, dst, `bench-${i}`));
    }
  }
  rmSync(dst, { force: true });
  rmSync(cpDst, { force: true });
  const cpMs = median(cp.map((c) => c.ms));
  const cpCpu = cp.every((c) => c.cpuMs !== undefined) ? median(cp.map((c) => c.cpuMs ?? 0)) : undefined;
  const sizeMb = (statSync(src).size / 1e6).toFixed(0);
  return modes.map((mode) => {
    const ms = median(results[mode].map((r) => r.ms));
    const cpuMs = median(results[mode].map((r) => r.cpuMs));
    const rss = Math.max(...results[mode].map((r) => r.maxRssMb));
    const how = '`embedLabelFile`';
    const cpText = `${cpMs.toFixed(0)} ms${cpCpu === undefined ? '' : ` (CPU ${cpCpu.toFixed(0)} ms)`}`;
    const cpuRatio = cpCpu ? ` (CPU ${(cpuMs / cpCpu).toFixed(2)}x)` : '';
    return `| ${name} | ${how} | ${sizeMb} MB | ${cpText} | ${ms.toFixed(0)} ms (CPU ${cpuMs.toFixed(0)} ms) | ${(ms / cpMs).toFixed(2)}x${cpuRatio} | ${rss.toFixed(0)} MB |`;
  });
}

/** (d): label a file in place when the new label fits the padding left by an earlier label. */
function inPlace(name: string, src: string, runs: number): string {
  const file = join(dirname(src), 'in-place.mp4');
  rmSync(file, { force: true });
  runChild('api', src, file, 'first-label-0000');
  const cold: number[] = [];
  const warm: number[] = [];
  let method = '';
  for (let i = 0; i < runs; i++) {
    const result = runChild('inplace', file, '', `relabel-${String(i).padStart(6, '0')}`);
    cold.push(result.ms);
    warm.push(...result.warm);
    method = result.method;
  }
  const sizeMb = statSync(file).size / 1e6;
  rmSync(file, { force: true });
  const size = sizeMb < 10 ? sizeMb.toFixed(1) : sizeMb.toFixed(0);
  return `| ${name} | ${size} MB | ${method} | ${median(cold).toFixed(2)} ms (max ${Math.max(...cold).toFixed(2)}) | ${median(warm).toFixed(2)} ms (max ${Math.max(...warm).toFixed(2)}) |`;
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
}

async function main(args: string[]): Promise<void> {
  const runs = option(args, '--runs', 5);
  const sizeMb = option(args, '--size-mb', 1000);
  const dirAt = args.indexOf('--dir');
  const media = prepareMedia(sizeMb, dirAt === -1 ? dataDir : (args[dirAt + 1] ?? dataDir));
  prepareChild();
  const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`MP4 labelling, median of ${runs} runs (peak RSS: the largest), Node ${process.version}, ${cpus().length} CPUs, load ${load()}\n`);
  console.log('| case | hegui path | size | cp | hegui | ratio | hegui peak RSS |');
  console.log('|---|---|---|---|---|---|---|');
  for (const line of compareWithCp('(b) moov after mdat', media.end, runs)) console.log(line);
  for (const line of compareWithCp('(c) moov before mdat (offsets shift)', media.front, runs)) console.log(line);
  console.log('\n| case | size | method | first call in a new process | later calls in the same process |');
  console.log('|---|---|---|---|---|');
  console.log(inPlace('(d) in place, label fits the padding', media.front, runs));
  console.log(inPlace('(d) in place, small file', media.clip, runs));
  console.log(`\nload average at the end: ${load()}`);
}

await main(process.argv.slice(2));
