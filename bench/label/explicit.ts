/**
 * @module bench/label/explicit
 * Issue 5 benchmark: drawing the explicit notice (GB 45438 §5.2) on 1,000 one-megapixel JPEGs,
 * hegui (`labelImage`, then an atomic write) against ImageMagick `convert -annotate` with the
 * same text, font file, glyph size, corner and JPEG quality. Target: hegui >= 3x faster.
 *
 * Inputs are generated deterministically into `.bench-data/label-explicit/` (gitignored):
 * 1000x1000 JPEGs at quality 85, one smooth-plus-noise picture recoloured per file. Both sides
 * get the machine's cores: hegui keeps that many files in flight in one process (sharp's
 * threads do the pixel work), ImageMagick runs that many `convert` processes at once. One run
 * each, as the issue asks; the outputs' notices are then checked with hegui's checker. CPU
 * time (hegui's process, all threads; the reaped `convert` processes) is printed beside wall
 * time, since on a shared machine it does not depend on the load.
 *
 * Run: `npx tsx bench/label/explicit.ts [--files 1000] [--jobs N]`
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { checkExplicitLabel, labelImage } from '../../src/label/explicit/index.js';
import { writeFileAtomic } from '../../src/label/files.js';
import { magickNotice } from './lib/magick.js';
import { basePicture } from './lib/picture.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const run = promisify(execFile);
const rootDir = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = join(rootDir, '.bench-data', 'label-explicit');
const SIDE = 1000;
const NOTICE = 'AI生成';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

async function makeInputs(count: number): Promise<string[]> {
  const inDir = join(dataDir, 'in');
  const names = Array.from({ length: count }, (_, i) => `p${String(i).padStart(4, '0')}.jpg`);
  if (existsSync(inDir) && readdirSync(inDir).length === count) return names.map((name) => join(inDir, name));
  rmSync(inDir, { recursive: true, force: true });
  mkdirSync(inDir, { recursive: true });
  const base = basePicture(SIDE);
  for (const [i, name] of names.entries()) {
    await sharp(base, { raw: { width: SIDE, height: SIDE, channels: 3 } })
      .modulate({ hue: (i * 37) % 360, brightness: 0.7 + (i % 7) * 0.08 })
      .jpeg({ quality: 85 })
      .toFile(join(inDir, name));
  }
  return names.map((name) => join(inDir, name));
}

/** CPU seconds of reaped child processes (user + system), from /proc (Linux). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'latin1').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Runs `task` over `items` with `jobs` in flight; resolves to the wall and CPU time in ms. */
async function pool<T>(items: readonly T[], jobs: number, cpu: () => number, task: (item: T) => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const started = performance.now();
  const cpuStart = cpu();
  let next = 0;
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
  return { wall: performance.now() - started, cpu: cpu() - cpuStart };
}

const loadStart = loadavg()[0]?.toFixed(2);
const files = argument('--files', 1000);
const jobs = argument('--jobs', availableParallelism());
const inputs = await makeInputs(files);
const outHegui = join(dataDir, 'hegui');
const outMagick = join(dataDir, 'magick');
for (const dir of [outHegui, outMagick]) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

// The same glyph size for ImageMagick: hegui's planned font size, in pixels (72 dpi points).
const { plan, options } = magickNotice(NOTICE, SIDE);

const hegui = await pool(inputs, jobs, ownCpuMs, async (input) => {
  const result = await labelImage(await readFile(input));
  await writeFileAtomic(join(outHegui, input.slice(-9)), (sink) => sink.write(result.bytes));
});

const magick = await pool(inputs, jobs, childrenCpuMs, async (input) => {
  await run('convert', [input, ...options, join(outMagick, input.slice(-9))]);
});

const sample = [0, Math.floor(files / 2), files - 1].map((i) => join(outHegui, (inputs[i] as string).slice(-9)));
const checks = await Promise.all(sample.map(async (file) => (await checkExplicitLabel(readFileSync(file), { offline: true })).rules.find((r) => r.rule === 'image.height')?.measured.ratio));

console.log(`explicit notices on ${files} JPEGs of ${SIDE}x${SIDE}, ${jobs} jobs, load at start ${loadStart}`);
console.log(`  glyph height ${plan.inkHeight} px (${((plan.inkHeight / SIDE) * 100).toFixed(2)}% of ${SIDE}), font size ${plan.fontSize} px`);
const line = (name: string, t: { wall: number; cpu: number }): string =>
  `  ${name}  wall ${(t.wall / 1000).toFixed(2)} s (${(t.wall / files).toFixed(1)} ms/file), CPU ${(t.cpu / 1000).toFixed(2)} s`;
console.log(line('hegui labelImage ', hegui));
console.log(line('convert -annotate', magick));
console.log(`  wall ratio ${(magick.wall / hegui.wall).toFixed(2)}x, CPU ratio ${(magick.cpu / hegui.cpu).toFixed(2)}x (target >= 3x); load now ${loadavg()[0]?.toFixed(2)}`);
console.log(`  checker height ratio on 3 outputs: ${checks.join(', ')}`);
