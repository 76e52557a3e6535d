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
import { systemPartMissing, systemTool } from './helpers/system.js';
import { pdfFromObjects } from './helpers/pdf.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures', 'label');

/**
 * True when `command` is installed. Goes through `systemTool`, so a missing tool warns loudly,
 * and fails the run when HEGUI_REQUIRE_ALL is set (CI).
 */
export function hasTool(command: string): boolean {
  return systemTool(command, DEBIAN_PACKAGE[command] ?? command);
}

export const DEBIAN_PACKAGE: Record<string, string> = {
  exiftool: 'libimage-exiftool-perl',
  ffmpeg: 'ffmpeg',
  convert: 'imagemagick',
  python3: 'python3',
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
    'still.avif': await gradient(20, 12, 3).avif({ quality: 60 }).toBuffer(),
  };
  const animatedPng = apng();
  if (animatedPng) samples['animated.png'] = animatedPng;
  const bigEndian = bigEndianTiff(samples['strip.tif']);
  if (bigEndian) samples['big-endian.tif'] = bigEndian;
  return samples;
}

/** Short media files in every audio/video container, made by ffmpeg (empty without ffmpeg). */
export function mediaSamples(): Record<string, Uint8Array> {
  if (!hasTool('ffmpeg')) return {};
  const dir = mkdtempSync(join(tmpdir(), 'hegui-media-'));
  const video = ['-f', 'lavfi', '-i', 'testsrc=size=32x24:rate=10:duration=0.3', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=0.3'];
  const audio = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=0.3'];
  const recipes: Record<string, string[]> = {
    'clip.mp4': [...video, '-c:v', 'libx264', '-c:a', 'aac', '-shortest'],
    'faststart.mp4': [...video, '-c:v', 'libx264', '-c:a', 'aac', '-shortest', '-movflags', '+faststart'],
    'clip.mov': [...video, '-c:v', 'mpeg4', '-c:a', 'aac', '-shortest'],
    'tone.m4a': [...audio, '-c:a', 'aac'],
    'tone.mp3': [...audio, '-c:a', 'libmp3lame', '-metadata', 'title=tone'],
    'tone.wav': [...audio, '-c:a', 'pcm_s16le'],
    'tone.flac': [...audio, '-c:a', 'flac'],
    'tone.ogg': [...audio, '-c:a', 'libvorbis'],
    'tone.opus': [...audio, '-c:a', 'libopus'],
    'clip.mkv': [...video, '-c:v', 'libx264', '-c:a', 'flac', '-shortest'],
    'clip.webm': [...video, '-c:v', 'libvpx', '-c:a', 'libopus', '-shortest'],
  };
  const out: Record<string, Uint8Array> = {};
  try {
    for (const [name, args] of Object.entries(recipes)) {
      const path = join(dir, name);
      try {
        execFileSync('ffmpeg', ['-v', 'error', ...args, path], { stdio: 'ignore' });
        out[name] = readFileSync(path);
      } catch {
        systemPartMissing(`this ffmpeg build cannot make the sample ${name} (${args.filter((a) => a.startsWith('lib') || a === 'aac' || a === 'flac').join(', ')}): install Debian's ffmpeg`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const PAGE_CONTENT = '0 0 1 rg 9 9 50 50 re f';

/** A one-page PDF with a correct cross-reference table (ISO 32000-1 §7.5) and stream lengths qpdf accepts. */
function minimalPdf(): Uint8Array {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] /Contents 4 0 R >>',
    `<< /Length ${PAGE_CONTENT.length} >>\nstream\n${PAGE_CONTENT}\nendstream`,
    '<< /Title (sample) /Producer (hegui tests) >>',
  ];
  return new TextEncoder().encode(pdfFromObjects(objects, { extraTrailer: '/Info 5 0 R' }));
}

/** A minimal DOCX made with Python's zipfile, or undefined without python3. */
function minimalDocx(): Uint8Array | undefined {
  if (!hasTool('python3')) return undefined;
  const script = `
import io, sys, zipfile
b = io.BytesIO()
with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    z.writestr('_rels/.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    z.writestr('word/document.xml', '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>sample</w:t></w:r></w:p></w:body></w:document>')
sys.stdout.buffer.write(b.getvalue())
`;
  return execFileSync('python3', ['-c', script]);
}

/** Small documents: PDF, DOCX, HTML and Markdown. */
export function documentSamples(): Record<string, Uint8Array> {
  const text = (t: string): Uint8Array => new TextEncoder().encode(t);
  const out: Record<string, Uint8Array> = {
    'page.pdf': minimalPdf(),
    'page.html': text('<!DOCTYPE html>\n<html lang="zh"><head><meta charset="utf-8"><title>t</title></head><body><p>生成内容</p></body></html>\n'),
    'note.md': text('---\ntitle: note\ntags: [a, b]\n---\n# Heading\n\nText generated by a model.\n'),
  };
  const docx = minimalDocx();
  if (docx) out['doc.docx'] = docx;
  return out;
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

/** Teaches exiftool the TC260 namespace, so it writes and prints `XMP-TC260:AIGC`. */
export const TC260_EXIFTOOL_CONFIG = `%Image::ExifTool::UserDefined = (
  'Image::ExifTool::XMP::Main' => { TC260 => { SubDirectory => { TagTable => 'Image::ExifTool::UserDefined::TC260' } } },
);
%Image::ExifTool::UserDefined::TC260 = (
  GROUPS => { 0 => 'XMP', 1 => 'XMP-TC260', 2 => 'Other' },
  NAMESPACE => { 'TC260' => 'http://www.tc260.org.cn/ns/AIGC/1.0/' },
  WRITABLE => 'string',
  AIGC => { },
);
1;
`;
