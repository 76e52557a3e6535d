/**
 * @module bench/label/images
 * Issue 3 benchmark (a): embedding the TC260 XMP label into 1,000 small JPEG and PNG files in
 * one process, hegui (`embedLabelFile`, each file written atomically to a new path) against
 * exiftool-vendored (ExifTool kept open in `-stay_open` mode, its default process pool)
 * writing the same XMP property with a TC260 namespace config. Target: hegui >= 20x faster.
 *
 * Files are generated at run time into `.bench-data/label-images/` (gitignored) with sharp:
 * half JPEG, half PNG, 64x64 to 160x160 pixels. exiftool writes to copies made before its clock
 * starts; both results are read back with hegui to check the same label landed. The two run
 * alternately (`--runs`, default 3) and the medians are compared.
 *
 * Run: `npx tsx bench/label/images.ts [--files 1000] [--dir /dev/shm]` (`--dir` puts the files on
 * another file system, e.g. tmpfs, to take the disk out of the comparison).
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultExiftoolArgs, ExifTool } from 'exiftool-vendored';
import sharp from 'sharp';
import { embedLabelFile, readLabelFile } from '../../src/label/files.js';
import { createLabel, formatLabel } from '../../src/label/model.js';

const PRODUCER = '001191350100M000100Y431A001';
const rootDir = fileURLToPath(new URL('../..', import.meta.url));
const dirAt = process.argv.indexOf('--dir');
const dataDir = join(dirAt >= 0 ? (process.argv[dirAt + 1] ?? '.') : join(rootDir, '.bench-data'), 'label-images');

const TC260_CONFIG = `%Image::ExifTool::UserDefined = ('Image::ExifTool::XMP::Main' => { TC260 => { SubDirectory => { TagTable => 'Image::ExifTool::UserDefined::TC260' } } });
%Image::ExifTool::UserDefined::TC260 = (GROUPS => { 0 => 'XMP', 1 => 'XMP-TC260', 2 => 'Image' }, NAMESPACE => { 'TC260' => 'http://www.tc260.org.cn/ns/AIGC/1.0/' }, WRITABLE => 'string', AIGC => { });
1;
`;

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

async function makeFiles(count: number): Promise<string[]> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(join(dataDir, 'src'), { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const size = 64 + (i % 7) * 16;
    const image = sharp({ create: { width: size, height: size, channels: 3, background: { r: (i * 13) & 255, g: (i * 29) & 255, b: (i * 47) & 255 } } })
      .composite([{ input: Buffer.from(`<svg width="${size}" height="${size}"><circle cx="${size / 2}" cy="${size / 2}" r="${size / 3}" fill="#${(i * 99991).toString(16).padStart(6, '0').slice(-6)}"/></svg>`) }]);
    const path = join(dataDir, 'src', `img-${String(i).padStart(4, '0')}.${i % 2 === 0 ? 'jpg' : 'png'}`);
    writeFileSync(path, i % 2 === 0 ? await image.jpeg({ quality: 85 }).toBuffer() : await image.png().toBuffer());
    files.push(path);
  }
  return files;
}

async function heguiRun(files: readonly string[], run: number): Promise<number> {
  const out = join(dataDir, `hegui-${run}`);
  mkdirSync(out, { recursive: true });
  const started = performance.now();
  for (const [i, file] of files.entries()) {
    await embedLabelFile(file, { producer: PRODUCER, produceId: `bench-${i}` }, { out: join(out, `${i}-${file.slice(-3)}`) });
  }
  return performance.now() - started;
}

async function exiftoolRun(exiftool: ExifTool, files: readonly string[], run: number): Promise<number> {
  const out = join(dataDir, `exiftool-${run}`);
  mkdirSync(out, { recursive: true });
  const targets = files.map((file, i) => {
    const target = join(out, `${i}-${file.slice(-3)}`);
    copyFileSync(file, target);
    return target;
  });
  const started = performance.now();
  await Promise.all(
    targets.map((target, i) =>
      exiftool.write(target, { 'XMP-TC260:AIGC': formatLabel(createLabel({ producer: PRODUCER, produceId: `bench-${i}` })) } as Record<string, string>, {
        writeArgs: ['-overwrite_original'],
      }),
    ),
  );
  return performance.now() - started;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function check(dir: string, name: string): Promise<void> {
  const report = await readLabelFile(join(dataDir, dir, name));
  if (report.label?.ProduceID !== 'bench-1') throw new Error(`${dir} did not write the label: ${JSON.stringify(report)}`);
}

const count = argument('--files', 1000);
const runs = argument('--runs', 3);
const files = await makeFiles(count);
const configPath = join(dataDir, 'tc260.config');
writeFileSync(configPath, TC260_CONFIG);
const exiftool = new ExifTool({ exiftoolArgs: ['-config', configPath, ...DefaultExiftoolArgs] });
const heguiTimes: number[] = [];
const exiftoolTimes: number[] = [];
try {
  const version = await exiftool.version();
  // Alternate the two so that load on the machine falls on both alike; report medians.
  for (let run = 0; run < runs; run++) {
    exiftoolTimes.push(await exiftoolRun(exiftool, files, run));
    heguiTimes.push(await heguiRun(files, run));
    await check(`hegui-${run}`, '1-png');
    await check(`exiftool-${run}`, '1-png');
  }
  const hegui = median(heguiTimes);
  const exif = median(exiftoolTimes);
  const ratio = exif / hegui;
  const list = (values: number[]): string => values.map((v) => v.toFixed(0)).join(', ');
  console.log(`(a) ${count} small JPEG+PNG files, TC260 XMP label, in ${dataDir}; median of ${runs} alternating runs`);
  console.log(`    hegui embedLabelFile, sequential, one process: ${hegui.toFixed(0)} ms (${(hegui / count).toFixed(2)} ms/file; runs ${list(heguiTimes)})`);
  console.log(`    exiftool-vendored (ExifTool ${version}, ${exiftool.options.maxProcs} processes): ${exif.toFixed(0)} ms (${(exif / count).toFixed(2)} ms/file; runs ${list(exiftoolTimes)})`);
  console.log(`    hegui is ${ratio.toFixed(1)}x faster (target >= 20x): ${ratio >= 20 ? 'met' : 'NOT met'}`);
} finally {
  await exiftool.end();
  rmSync(dataDir, { recursive: true, force: true });
}
