/**
 * @module label/explicit/image-heic
 * HEIC (HEVC-coded HEIF) for visible notices. The libvips npm ships decodes and encodes AV1
 * (AVIF) only, so a HEIC goes through Debian's libheif tools (`libheif-examples`, libde265 to
 * decode, x265 to encode): `heif-convert` decodes the primary image to PNG (16-bit when the
 * HEIC has more than 8 bits, with its ICC profile and EXIF), the notice is drawn on that PNG as
 * on any other, and `heif-enc` encodes it back to HEVC at the source's bit depth and chroma
 * format, with the ICC profile, the EXIF and the `nclx` colour description of the source.
 *
 * What this round trip would lose is refused instead (`HeicStructureError`): more than one
 * top-level image, an image sequence (animation, which libheif 1.15 cannot write), a depth map
 * or other auxiliary image, and any metadata item besides EXIF and XMP. A thumbnail is made
 * again at its size. The implicit label (XMP) is written back by the caller.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeguiError, InvalidInputError } from '../../errors.js';
import { onInterrupt } from '../file-io.js';
import { crc32 } from '../implicit/bytes.js';
import { startTool } from './audio-video-tools.js';
import { MediaToolError } from './audio-video-errors.js';

/** Where libheif's tools are; defaults to `heif-convert`, `heif-enc` and `heif-info` on PATH. */
export interface HeifTools {
  convert?: string;
  enc?: string;
  info?: string;
}

/** `heif-convert`, `heif-enc` or `heif-info` is needed for a HEIC and is not installed. */
export class HeifToolMissingError extends HeguiError {
  readonly tool: string;
  constructor(tool: string) {
    super(
      'E_LABEL_TOOL_MISSING',
      `${tool} is not installed; a visible notice on a HEIC (HEVC) image needs libheif's tools: install the Debian package libheif-examples (apt-get install libheif-examples), or convert the image to AVIF, JPEG or PNG`,
    );
    this.tool = tool;
  }
}

/** A HEIC holds something the decode and re-encode would lose. */
export class HeicStructureError extends InvalidInputError {
  constructor(detail: string) {
    super('E_LABEL_HEIC_STRUCTURE', `the HEIC ${detail}: drawing a notice would lose it, so it is refused; label a single still image (AVIF, JPEG or PNG, or a HEIC without it)`);
  }
}

/** What the round trip must keep, read from the file's boxes and `heif-info`. */
export interface HeicLayout {
  /** Bits per luma sample of the primary image (8, 10 or 12). */
  depth: number;
  /** 4:2:0, 4:2:2 or 4:4:4 (`chroma` for x265). */
  chroma: '420' | '422' | '444';
  /** The `nclx` colour description, when the file has one. */
  nclx?: { primaries: number; transfer: number; matrix: number; fullRange: boolean };
  /** Largest side of the thumbnail, when there is one. */
  thumbnail?: number;
}

function indexOfType(bytes: Uint8Array, type: string, from = 0): number {
  const [a, b, c, d] = [...type].map((ch) => ch.charCodeAt(0));
  for (let i = Math.max(from, 4); i + 4 <= bytes.length; i++) {
    if (bytes[i] === a && bytes[i + 1] === b && bytes[i + 2] === c && bytes[i + 3] === d) return i;
  }
  return -1;
}

/** The top-level box types of an ISO BMFF file (size, type), stopping at anything malformed. */
function topLevelTypes(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const types: string[] = [];
  for (let at = 0; at + 8 <= bytes.length && types.length < 1024; ) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (size === 1 && at + 16 <= bytes.length) size = Number(view.getBigUint64(at + 8));
    if (size === 0) size = bytes.length - at;
    types.push(type);
    if (size < 8) break;
    at += size;
  }
  return types;
}

/** Bit depth and chroma of every `hvcC` (ISO/IEC 14496-15 §8.3.3.1.2), and the `nclx` colour box. */
function codingOf(bytes: Uint8Array): { depths: number[]; chromas: number[]; nclx?: HeicLayout['nclx'] } {
  const depths: number[] = [];
  const chromas: number[] = [];
  const meta = indexOfType(bytes, 'meta');
  const end = meta < 0 ? 0 : Math.min(bytes.length, meta - 4 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(meta - 4));
  for (let at = indexOfType(bytes, 'hvcC', meta); at > 0 && at < end; at = indexOfType(bytes, 'hvcC', at + 4)) {
    const data = at + 4;
    if (data + 19 > bytes.length) break;
    chromas.push((bytes[data + 16] ?? 0) & 3);
    depths.push(((bytes[data + 17] ?? 0) & 7) + 8);
  }
  let nclx: HeicLayout['nclx'];
  for (let at = indexOfType(bytes, 'colr', meta); at > 0 && at < end; at = indexOfType(bytes, 'colr', at + 4)) {
    if (String.fromCharCode(...bytes.subarray(at + 4, at + 8)) !== 'nclx' || at + 15 > bytes.length) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset + at + 8, 7);
    nclx = { primaries: view.getUint16(0), transfer: view.getUint16(2), matrix: view.getUint16(4), fullRange: (view.getUint8(6) & 0x80) !== 0 };
    break;
  }
  return { depths, chromas, ...(nclx ? { nclx } : {}) };
}

async function runTool(command: string, args: readonly string[]): Promise<void> {
  const run = startTool(command, args, { stdin: false, stdout: false }, (stderr) => new MediaToolError(command, stderr.trim().split('\n').slice(-2).join(' / ') || 'no message'));
  try {
    await run.exited;
  } catch (error) {
    if (error instanceof HeguiError && error.code === 'E_LABEL_TOOL_MISSING') throw new HeifToolMissingError(command);
    throw error;
  }
}

async function toolOutput(command: string, args: readonly string[]): Promise<string> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err = (err + text).slice(-4096)));
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new HeifToolMissingError(command) : new MediaToolError(command, error.message, { cause: error })));
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new MediaToolError(command, err.trim() || `exit ${code}`))));
  });
}

/**
 * Reads what the round trip must keep, and refuses what it cannot.
 *
 * @throws HeicStructureError, HeifToolMissingError
 */
export async function heicLayout(path: string, bytes: Uint8Array, tools: HeifTools = {}): Promise<HeicLayout> {
  const top = topLevelTypes(bytes);
  if (top.includes('moov')) throw new HeicStructureError('holds an image sequence (an animation)');
  const info = await toolOutput(tools.info ?? 'heif-info', [path]);
  const images = info.match(/^image: /gm)?.length ?? 0;
  if (images !== 1) throw new HeicStructureError(`holds ${images} top-level images`);
  if (/depth channel: yes/.test(info)) throw new HeicStructureError('holds a depth map');
  const metadata = [...info.matchAll(/^\s+(\S[^:]*): \d+ bytes/gm)].map((m) => m[1] ?? '');
  const other = metadata.filter((type) => type !== 'Exif' && type !== 'XMP' && !type.startsWith('application/rdf+xml'));
  if (other.length > 0) throw new HeicStructureError(`holds metadata besides EXIF and XMP (${other.join(', ')})`);
  const { depths, chromas, nclx } = codingOf(bytes);
  const depth = Math.max(8, ...depths);
  if (depth > 12) throw new HeicStructureError(`is coded at ${depth} bits, more than the 12 the encoder writes`);
  const chroma = ({ 1: '420', 2: '422', 3: '444' } as const)[chromas[0] ?? 1] ?? '420';
  if (chromas[0] === 0) throw new HeicStructureError('is monochrome (4:0:0), which the encoder does not write from PNG');
  const thumb = /thumbnail: (\d+)x(\d+)/.exec(info);
  return { depth, chroma, ...(nclx ? { nclx } : {}), ...(thumb ? { thumbnail: Math.max(Number(thumb[1]), Number(thumb[2])) } : {}) };
}

/**
 * Runs `work` with a temporary folder that is removed afterwards, and on SIGINT or SIGTERM.
 */
async function inTemporaryFolder<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-heic-'));
  const forget = onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  try {
    return await work(dir);
  } finally {
    forget();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The PNG with its EXIF Orientation (tag 0x112 in IFD0 of the `eXIf` chunk) set to 1, in place.
 * heif-convert has already applied the HEIF transforms (irot, imir), which are what HEIF
 * readers show (MIAF: the EXIF orientation is informative only); the tag left at another
 * value would have the drawing step turn the picture a second time.
 */
export function uprightExif(png: Uint8Array): Uint8Array {
  const out = new Uint8Array(png);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let at = 8; at + 12 <= out.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...out.subarray(at + 4, at + 8));
    const data = at + 8;
    if (type === 'eXIf' && data + length <= out.length && length >= 8) {
      const little = out[data] === 0x49;
      const ifd = data + view.getUint32(data + 4, little);
      const count = ifd + 2 <= data + length ? view.getUint16(ifd, little) : 0;
      for (let i = 0; i < count && ifd + 2 + i * 12 + 12 <= data + length; i++) {
        const entry = ifd + 2 + i * 12;
        if (view.getUint16(entry, little) === 0x112 && view.getUint16(entry + 2, little) === 3 && view.getUint16(entry + 8, little) !== 1) {
          view.setUint16(entry + 8, 1, little);
          view.setUint32(data + length, crc32(out.subarray(data, data + length), crc32(out.subarray(at + 4, at + 8))));
        }
      }
      return out;
    }
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return out;
}

/** The PNG's chunks as [type, whole chunk]. */
function pngChunks(png: Uint8Array): [string, Uint8Array][] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: [string, Uint8Array][] = [];
  for (let at = 8; at + 12 <= png.length; ) {
    const end = Math.min(png.length, at + 12 + view.getUint32(at));
    chunks.push([String.fromCharCode(...png.subarray(at + 4, at + 8)), png.subarray(at, end)]);
    at = end;
  }
  return chunks;
}

/**
 * `drawn` with the `eXIf` chunk of `decoded` (the source's EXIF as libheif gave it) in place
 * of its own, or with none when the source had none: the drawing step writes EXIF through
 * libexif, which may drop or add tags; the source's bytes go back as they were.
 */
function withExifOf(drawn: Uint8Array, decoded: Uint8Array): Uint8Array {
  const exif = pngChunks(decoded).find(([type]) => type === 'eXIf')?.[1];
  const out: Uint8Array[] = [drawn.subarray(0, 8)];
  for (const [type, bytes] of pngChunks(drawn)) {
    if (type === 'eXIf') continue;
    out.push(bytes);
    if (type === 'IHDR' && exif) out.push(exif);
  }
  return new Uint8Array(Buffer.concat(out));
}

/** A decoded HEIC, and how to encode a drawn copy of it back. */
export interface HeicRoundTrip {
  /** The primary image as PNG: 16-bit above 8 bits, with ICC profile and EXIF. */
  png: Uint8Array;
  layout: HeicLayout;
  /** Encodes `png` (drawn on) back to a HEIC like the source. */
  encode(png: Uint8Array, quality: number): Promise<Uint8Array>;
}

/**
 * Decodes a HEIC for drawing.
 *
 * @throws HeicStructureError when the file holds what a re-encode would lose;
 *   HeifToolMissingError without libheif's tools; MediaToolError when a tool fails.
 */
export async function openHeic(bytes: Uint8Array, tools: HeifTools = {}): Promise<HeicRoundTrip> {
  return inTemporaryFolder(async (dir) => {
    const source = join(dir, 'source.heic');
    writeFileSync(source, bytes);
    const layout = await heicLayout(source, bytes, tools);
    await runTool(tools.convert ?? 'heif-convert', [source, join(dir, 'decoded.png')]);
    const png = uprightExif(new Uint8Array(readFileSync(join(dir, 'decoded.png'))));
    return {
      png,
      layout,
      encode: (drawn, quality) =>
        inTemporaryFolder(async (out) => {
          const input = join(out, 'drawn.png');
          const output = join(out, 'labelled.heic');
          writeFileSync(input, withExifOf(drawn, png));
          const args = ['-q', String(quality), '-p', `chroma=${layout.chroma}`];
          if (layout.depth > 8) args.push('-b', String(layout.depth));
          if (layout.thumbnail) args.push('-t', String(layout.thumbnail));
          if (layout.nclx) {
            const { primaries, transfer, matrix, fullRange } = layout.nclx;
            args.push('--colour_primaries', String(primaries), '--transfer_characteristic', String(transfer), '--matrix_coefficients', String(matrix), '--full_range_flag', fullRange ? '1' : '0', '--enable-two-colr-boxes');
          }
          await runTool(tools.enc ?? 'heif-enc', [...args, '-o', output, input]);
          return new Uint8Array(readFileSync(output));
        }),
    };
  });
}
