/**
 * @module test/label-samples
 * Real image files for the label tests, the fuzz corpus and the benchmarks, made at run time
 * with sharp (and ffmpeg for APNG), plus every file under `test/fixtures/label/`, where any
 * codec's author can drop a sample so that the fuzz test covers it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export const FIXTURES = join(import.meta.dirname, 'fixtures', 'label');

/** True when `command` runs; tests that need it skip loudly when not. */
export function hasTool(command: string, args: readonly string[] = ['-version']): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const DEBIAN_PACKAGE: Record<string, string> = {
  exiftool: 'libimage-exiftool-perl',
  ffmpeg: 'ffmpeg',
  convert: 'imagemagick',
};

/** The message a skipped test prints, naming the Debian package to install. */
export function missing(command: string): string {
  return `SKIPPED: ${command} not found; install the Debian package ${DEBIAN_PACKAGE[command] ?? command} to run this test`;
}

function gradient(width: number, height: number, channels: 3 | 4): sharp.Sharp {
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + Math.floor(i / channels) * 11) & 0xff;
  return sharp(data, { raw: { width, height, channels } });
}

/** An APNG made by ffmpeg, or undefined when ffmpeg is missing. */
function apng(): Uint8Array | undefined {
  if (!hasTool('ffmpeg')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hegui-apng-'));
  try {
    const out = join(dir, 'a.png');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=16x16:rate=5:duration=0.6', '-plays', '0', '-f', 'apng', out]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same TIFF in Motorola byte order (ImageMagick), or undefined without ImageMagick. */
function bigEndianTiff(tiff: Uint8Array | undefined): Uint8Array | undefined {
  if (!tiff || !hasTool('convert')) return undefined;
  return execFileSync('convert', ['tiff:-', '-endian', 'MSB', 'tiff:-'], { input: tiff });
}

async function animated(format: 'gif' | 'webp'): Promise<Uint8Array> {
  const frames = await Promise.all([0, 1, 2].map((i) => gradient(12, 10, 4).modulate({ hue: i * 90 }).raw().toBuffer()));
  const stacked = Buffer.concat(frames);
  const base = sharp(stacked, { raw: { width: 12, height: 30, channels: 4, pageHeight: 10 } as sharp.CreateRaw });
  return format === 'gif' ? base.gif({ loop: 0, delay: [100, 100, 100] }).toBuffer() : base.webp({ loop: 0, delay: [100, 100, 100] }).toBuffer();
}

/** Named image samples covering each image container's variants. */
export async function imageSamples(): Promise<Record<string, Uint8Array>> {
  const samples: Record<string, Uint8Array> = {
    'plain.jpg': await gradient(24, 16, 3).jpeg().toBuffer(),
    'exif.jpg': await gradient(24, 16, 3).withExif({ IFD0: { Make: 'hegui-test', Software: 'sharp' } }).jpeg({ progressive: true }).toBuffer(),
    'rgb.png': await gradient(20, 12, 3).png().toBuffer(),
    'rgba.png': await gradient(20, 12, 4).png({ palette: false }).toBuffer(),
    'lossy.webp': await gradient(20, 12, 3).webp({ quality: 80 }).toBuffer(),
    'lossy-alpha.webp': await gradient(20, 12, 4).webp({ quality: 80 }).toBuffer(),
    'lossless.webp': await gradient(20, 12, 4).webp({ lossless: true }).toBuffer(),
    'animated.webp': await animated('webp'),
    'still.gif': await gradient(20, 12, 3).gif().toBuffer(),
    'animated.gif': await animated('gif'),
    'strip.tif': await gradient(20, 12, 3).tiff().toBuffer(),
    'lzw.tif': await gradient(20, 12, 3).tiff({ compression: 'lzw' }).toBuffer(),
  };
  const animatedPng = apng();
  if (animatedPng) samples['animated.png'] = animatedPng;
  const bigEndian = bigEndianTiff(samples['strip.tif']);
  if (bigEndian) samples['big-endian.tif'] = bigEndian;
  return samples;
}

/** Every file under `test/fixtures/label/`, by path relative to it. */
export function fixtureSamples(): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  if (!existsSync(FIXTURES)) return out;
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
      else out[`${prefix}${name}`] = readFileSync(path);
    }
  };
  walk(FIXTURES, '');
  return out;
}

/** A valid producer code (the check character of the credit code is correct). */
export const PRODUCER = '001191350100M000100Y431A001';
export const PROPAGATOR = '001191110108MA01KP2T5U2P001';
