/**
 * @module bench/label/splice
 * Issue 14, "Visible labels fast and lossless": CPU per file of `labelImage` on one-megapixel
 * baseline JPEGs (quality 85, made with sharp as in `visible.ts`), in one warm process, with
 * the DCT-block splice (`jpegMethod: 'splice'`, the default) against the whole re-encode
 * (`'reencode'`), for sharp's default optimised Huffman tables (the splice then makes room for
 * the notice's symbols by moving one rare code, and copies the coded data around the notice bit
 * for bit with only the long codes rewritten) and libjpeg's standard tables (the data around the
 * notice copied as it is). Also the splice's own parts: parsing and entropy-decoding a file.
 * CPU is user + system of the whole process (libvips threads included), median of `--rounds`
 * rounds over `--files` files, the methods alternating.
 *
 * Run: `npx tsx bench/label/splice.ts [--files 20] [--rounds 5]`
 */
import { loadavg } from 'node:os';
import sharp from 'sharp';
import { labelImage } from '../../src/label/explicit/image.js';
import { parseBaselineJpeg } from '../../src/label/explicit/jpeg-splice-parse.js';
import { basePicture } from './lib/picture.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const SIDE = 1000;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const files = Number(option('--files') ?? 20);
const rounds = Number(option('--rounds') ?? 5);

sharp.concurrency(1);
sharp.cache(false);

const base = basePicture(SIDE);
async function inputs(optimiseCoding: boolean): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < files; i++) {
    out.push(
      await sharp(base, { raw: { width: SIDE, height: SIDE, channels: 3 } })
        .modulate({ hue: (i * 37) % 360, brightness: 0.7 + (i % 7) * 0.08 })
        .jpeg({ quality: 85, optimiseCoding })
        .toBuffer(),
    );
  }
  return out;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function cpuPerFile(work: (bytes: Buffer) => unknown, set: Buffer[]): Promise<number> {
  const start = process.cpuUsage();
  for (const bytes of set) await work(bytes);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / set.length;
}

const loadStart = loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`labelImage on ${files} JPEGs of ${SIDE}x${SIDE} (quality 85), ${rounds} rounds, CPU ms per file (median), load average at start ${loadStart}`);
console.log('| tables | splice (auto) | re-encode | splice: parse + entropy decode only | method |');
console.log('|---|---|---|---|---|');
for (const optimised of [true, false]) {
  const set = await inputs(optimised);
  const auto = (bytes: Buffer) => labelImage(bytes, { text: 'AI生成', jpegMethod: 'splice' });
  const whole = (bytes: Buffer) => labelImage(bytes, { text: 'AI生成', jpegMethod: 'reencode' });
  const parse = (bytes: Buffer) => parseBaselineJpeg(bytes);
  for (const work of [auto, whole, parse]) await cpuPerFile(work, set.slice(0, 3)); // warm up
  const samples = { auto: [] as number[], whole: [] as number[], parse: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    samples.auto.push(await cpuPerFile(auto, set));
    samples.whole.push(await cpuPerFile(whole, set));
    samples.parse.push(await cpuPerFile(parse, set));
  }
  const method = (await labelImage(set[0] as Buffer, { text: 'AI生成', jpegMethod: 'splice' })).method;
  console.log(`| ${optimised ? 'optimised (sharp default)' : 'standard (libjpeg)'} | ${median(samples.auto).toFixed(1)} ms | ${median(samples.whole).toFixed(1)} ms | ${median(samples.parse).toFixed(1)} ms | ${method} |`);
}
console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
