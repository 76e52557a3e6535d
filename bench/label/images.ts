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
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultExiftoolArgs, ExifTool } from 'exiftool-vendored';
import sharp from 'sharp';
import { embedLabelFile, readLabelFile } from '../../src/label/files.js';
import { createLabel, formatLabel } from '../../src/label/model.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

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

interface Measure {
  wallMs: number;
  /** CPU time of this process and of the child processes it reaped (ExifTool), in ms. */
  cpuMs: number;
}

/**
 * CPU time (user + system) of this process and its reaped children, from /proc/self/stat
 * (fields utime, stime, cutime, cstime, in clock ticks of 10 ms). CPU time is what the work
 * costs whatever else the machine is running; wall time is what a user waits.
 */
function cpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) * 10;
}

async function measure(work: () => Promise<void>): Promise<Measure> {
  const cpu = cpuMs();
  const started = performance.now();
  await work();
  return { wallMs: performance.now() - started, cpuMs: cpuMs() - cpu };
}

function heguiRun(files: readonly string[], run: number): Promise<Measure> {
  const out = join(dataDir, `hegui-${run}`);
  mkdirSync(out, { recursive: true });
  return measure(async () => {
    for (const [i, file] of files.entries()) {
      await embedLabelFile(file, { producer: PRODUCER, produceId: `bench-${i}` }, { out: join(out, `${i}-${file.slice(-3)}`) });
    }
  });
}

/** One ExifTool per run, ended inside the measurement so that its CPU time is counted. */
async function exiftoolRun(configPath: string, files: readonly string[], run: number): Promise<Measure & { version: string; procs: number }> {
  const out = join(dataDir, `exiftool-${run}`);
  mkdirSync(out, { recursive: true });
  const targets = files.map((file, i) => {
    const target = join(out, `${i}-${file.slice(-3)}`);
    copyFileSync(file, target);
    return target;
  });
  const exiftool = new ExifTool({ exiftoolArgs: ['-config', configPath, ...DefaultExiftoolArgs] });
  const version = await exiftool.version();
  const result = await measure(async () => {
    await Promise.all(
      targets.map((target, i) =>
        exiftool.write(target, { 'XMP-TC260:AIGC': formatLabel(createLabel({ producer: PRODUCER, produceId: `bench-${i}` })) } as Record<string, string>, {
          writeArgs: ['-overwrite_original'],
        }),
      ),
    );
    await exiftool.end();
  });
  return { ...result, version, procs: exiftool.options.maxProcs };
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
const hegui: Measure[] = [];
const exif: (Measure & { version: string; procs: number })[] = [];
try {
  // Alternate the two so that load on the machine falls on both alike; report medians.
  for (let run = 0; run < runs; run++) {
    exif.push(await exiftoolRun(configPath, files, run));
    hegui.push(await heguiRun(files, run));
    await check(`hegui-${run}`, '1-png');
    await check(`exiftool-${run}`, '1-png');
  }
  const wall = { hegui: median(hegui.map((m) => m.wallMs)), exif: median(exif.map((m) => m.wallMs)) };
  const cpu = { hegui: median(hegui.map((m) => m.cpuMs)), exif: median(exif.map((m) => m.cpuMs)) };
  const list = (values: number[]): string => values.map((v) => v.toFixed(0)).join(', ');
  const [load] = loadavg();
  console.log(`(a) ${count} small JPEG+PNG files, TC260 XMP label, in ${dataDir}; median of ${runs} alternating runs; load average ${load?.toFixed(1)} on ${cpus().length} CPUs`);
  console.log(`    hegui embedLabelFile, sequential, one process: wall ${wall.hegui.toFixed(0)} ms (${(wall.hegui / count).toFixed(2)} ms/file; runs ${list(hegui.map((m) => m.wallMs))}), CPU ${cpu.hegui.toFixed(0)} ms`);
  console.log(
    `    exiftool-vendored (ExifTool ${exif[0]?.version}, ${exif[0]?.procs} process(es)): wall ${wall.exif.toFixed(0)} ms (${(wall.exif / count).toFixed(2)} ms/file; runs ${list(exif.map((m) => m.wallMs))}), CPU ${cpu.exif.toFixed(0)} ms`,
  );
  const ratio = wall.exif / wall.hegui;
  console.log(`    hegui is ${ratio.toFixed(1)}x faster in wall time (target >= 20x: ${ratio >= 20 ? 'met' : 'NOT met'}), ${(cpu.exif / cpu.hegui).toFixed(1)}x in CPU time`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
