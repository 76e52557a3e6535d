/**
 * @module bench/label/batch
 * Issue 14, "batch file work": the whole `hegui label embed DIR --in-place` process against one
 * `exiftool` batch command writing the same XMP property (the TC260 namespace, from a config
 * file) into the same files. Both are timed as whole processes, start-up included, the way a
 * user runs them. Target: hegui at least 10x faster in wall time.
 *
 * The files (half JPEG, half PNG, 64x64 to 160x160 pixels, made with sharp) are generated once
 * into `<dir>/label-batch/src` and copied afresh into `<dir>/label-batch/work` before every run,
 * outside the clock. The two commands run alternately (`--runs`, default 3), each under
 * `/usr/bin/time` (wall, user and system CPU, peak memory), and the medians are compared. After
 * each run one file is read back with hegui to check the label landed.
 *
 * hegui runs from the build: run `npm run build` first (bin/hegui.js loads dist/).
 *
 * Two more rows, alternating with those: `hegui ... --threads 2` (worker threads prepare the
 * files, the main thread writes them), and the floor, `node bench/label/batch-floor.mjs DIR`:
 * only the system calls an atomic rewrite of each file needs (read it, write a temporary file
 * 1 KiB longer, rename it over), no format work; no tool that writes atomically can be faster
 * on the same disk, so it shows how far the 10x target is from what the disk allows.
 *
 * Run: `npx tsx bench/label/batch.ts [--files 2000] [--runs 3] [--dir /dev/shm]` (`--dir` puts
 * the files on another file system, e.g. tmpfs, to take the disk out of the comparison; the
 * default is `.bench-data/` in the repository).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readLabelFile } from '../../src/label/files.js';
import { createLabel, formatLabel } from '../../src/label/model.js';
import { usageIfAsked } from '../usage.js';

usageIfAsked(import.meta.url);

const PRODUCER = '001191350100M000100Y431A001';
const PRODUCE_ID = 'bench-batch';
const rootDir = fileURLToPath(new URL('../..', import.meta.url));

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const count = Number(argument('--files', '2000'));
const runs = Number(argument('--runs', '3'));
const dataDir = join(argument('--dir', join(rootDir, '.bench-data')), 'label-batch');
const sourceDir = join(dataDir, 'src');
const workDir = join(dataDir, 'work');
const configPath = join(dataDir, 'tc260.config');
const timePath = join(dataDir, 'time.txt');

/** ExifTool's user-defined tag table for the TC260 namespace (the same as bench/label/images.ts). */
const TC260_CONFIG = `%Image::ExifTool::UserDefined = ('Image::ExifTool::XMP::Main' => { TC260 => { SubDirectory => { TagTable => 'Image::ExifTool::UserDefined::TC260' } } });
%Image::ExifTool::UserDefined::TC260 = (GROUPS => { 0 => 'XMP', 1 => 'XMP-TC260', 2 => 'Image' }, NAMESPACE => { 'TC260' => 'http://www.tc260.org.cn/ns/AIGC/1.0/' }, WRITABLE => 'string', AIGC => { });
1;
`;

/** The source files, made once and kept (a marker file says how many). */
async function makeFiles(): Promise<void> {
  const marker = join(sourceDir, `.complete-${count}`);
  if (existsSync(marker)) return;
  rmSync(sourceDir, { recursive: true, force: true });
  mkdirSync(sourceDir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const size = 64 + (i % 7) * 16;
    const image = sharp({ create: { width: size, height: size, channels: 3, background: { r: (i * 13) & 255, g: (i * 29) & 255, b: (i * 47) & 255 } } }).composite([
      { input: Buffer.from(`<svg width="${size}" height="${size}"><circle cx="${size / 2}" cy="${size / 2}" r="${size / 3}" fill="#${(i * 99991).toString(16).padStart(6, '0').slice(-6)}"/></svg>`) },
    ]);
    const path = join(sourceDir, `img-${String(i).padStart(4, '0')}.${i % 2 === 0 ? 'jpg' : 'png'}`);
    writeFileSync(path, i % 2 === 0 ? await image.jpeg({ quality: 85 }).toBuffer() : await image.png().toBuffer());
  }
  writeFileSync(marker, '');
}

interface Measure {
  wallMs: number;
  /** User + system CPU time of the process and its children. */
  cpuMs: number;
  maxRssMb: number;
}

/** Runs `argv` under /usr/bin/time with stdout discarded; fails loudly on a non-zero exit. */
function timed(argv: readonly string[]): Measure {
  const result = spawnSync('/usr/bin/time', ['-o', timePath, '-f', '%e %U %S %M', ...argv], { cwd: rootDir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited with ${result.status}: ${result.stderr.slice(-2000)}`);
  const [wall, user, sys, rss] = readFileSync(timePath, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wallMs: wall! * 1000, cpuMs: (user! + sys!) * 1000, maxRssMb: rss! / 1024 };
}

function freshCopy(): void {
  rmSync(workDir, { recursive: true, force: true });
  cpSync(sourceDir, workDir, { recursive: true, filter: (path) => !path.includes('.complete-') });
}

const heguiArgv = [process.execPath, join(rootDir, 'bin/hegui.js'), 'label', 'embed', workDir, '--in-place', '--producer', PRODUCER, '--id', PRODUCE_ID];
const value = formatLabel(createLabel({ producer: PRODUCER, produceId: PRODUCE_ID }));
const exiftoolArgv = ['exiftool', '-config', configPath, '-overwrite_original', `-XMP-TC260:AIGC=${value}`, workDir];
const threadsArgv = [...heguiArgv, '--threads', '2'];
const floorArgv = [process.execPath, join(rootDir, 'bench/label/batch-floor.mjs'), workDir];

async function check(tool: string): Promise<void> {
  const names = readdirSync(workDir).sort();
  for (const name of [names[0]!, names[1]!]) {
    const report = await readLabelFile(join(workDir, name));
    if (report.label?.ProduceID !== PRODUCE_ID) throw new Error(`${tool} did not write the label into ${name}: ${JSON.stringify(report.label)}`);
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

if (!existsSync(join(rootDir, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: bin/hegui.js runs dist/');
const version = spawnSync('exiftool', ['-ver'], { encoding: 'utf8' });
if (version.status !== 0) throw new Error('exiftool is not installed (apt-get install libimage-exiftool-perl)');
mkdirSync(dataDir, { recursive: true });
writeFileSync(configPath, TC260_CONFIG);
await makeFiles();
const bytes = readdirSync(sourceDir).reduce((sum, name) => sum + (name.startsWith('.') ? 0 : readFileSync(join(sourceDir, name)).length), 0);
const hegui: Measure[] = [];
const exif: Measure[] = [];
const threaded: Measure[] = [];
const floor: Measure[] = [];
const loadBefore = loadavg()[0]!;
try {
  // Alternate the two so that load on the machine falls on both alike; report medians.
  for (let run = 0; run < runs; run++) {
    freshCopy();
    exif.push(timed(exiftoolArgv));
    await check('exiftool');
    freshCopy();
    hegui.push(timed(heguiArgv));
    await check('hegui');
    freshCopy();
    threaded.push(timed(threadsArgv));
    await check('hegui --threads 2');
    freshCopy();
    floor.push(timed(floorArgv));
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
const loadAfter = loadavg()[0]!;
const list = (values: number[]): string => values.map((v) => v.toFixed(0)).join(', ');
const row = (name: string, m: Measure[]): string =>
  `| ${name} | ${median(m.map((x) => x.wallMs)).toFixed(0)} (${list(m.map((x) => x.wallMs))}) | ${median(m.map((x) => x.cpuMs)).toFixed(0)} | ${(median(m.map((x) => x.wallMs)) / count).toFixed(3)} | ${median(m.map((x) => x.maxRssMb)).toFixed(0)} |`;
console.log(`whole process, ${count} small JPEG+PNG files (${(bytes / count / 1024).toFixed(1)} KiB average) in ${workDir}, TC260 XMP label in place;`);
console.log(`median of ${runs} alternating runs; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${cpus().length} CPUs`);
console.log(`  hegui:    ${heguiArgv.map((a) => a.replace(rootDir, '')).join(' ')}`);
console.log(`  exiftool: exiftool -config tc260.config -overwrite_original '-XMP-TC260:AIGC={...}' DIR  (ExifTool ${version.stdout.trim()})`);
console.log('| command | wall ms (runs) | CPU ms (user+sys) | wall ms/file | peak RSS MB |');
console.log('|---|---|---|---|---|');
console.log(row('hegui label embed DIR --in-place', hegui));
console.log(row('hegui label embed DIR --in-place --threads 2', threaded));
console.log(row('exiftool -overwrite_original DIR', exif));
console.log(row('floor: node bench/label/batch-floor.mjs DIR (read, write temp, rename; no format work)', floor));
const ratio = median(exif.map((m) => m.wallMs)) / median(hegui.map((m) => m.wallMs));
const cpuRatio = median(exif.map((m) => m.cpuMs)) / median(hegui.map((m) => m.cpuMs));
console.log(`hegui is ${ratio.toFixed(1)}x faster in wall time (target >= 10x: ${ratio >= 10 ? 'met' : 'NOT met'}), ${cpuRatio.toFixed(1)}x in CPU time`);
const floorRatio = median(exif.map((m) => m.wallMs)) / median(floor.map((m) => m.wallMs));
const threadRatio = median(exif.map((m) => m.wallMs)) / median(threaded.map((m) => m.wallMs));
console.log(`with --threads 2: ${threadRatio.toFixed(1)}x; the floor is ${floorRatio.toFixed(1)}x faster than exiftool, hegui takes ${(median(hegui.map((m) => m.wallMs)) / median(floor.map((m) => m.wallMs))).toFixed(1)}x the floor's time`);
