/**
 * @module label/explicit/font
 * The font notices are drawn in. Never a system font (a server may have none, or one without
 * Chinese): the default is Noto Sans Hans Bold (OpenType, SIL Open Font License 1.1, licence
 * text in the `@embedpdf/fonts-sc` package), which npm installs with hegui. A caller may name
 * another font file. Before drawing, the wording is checked against the font's character map,
 * so a character the font lacks fails with `NoticeFontError` instead of rendering as a box.
 * The video half (ffmpeg drawtext) uses the same file through `noticeFontPath()`.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../../errors.js';
import { canvasLib } from './canvas-lib.js';
import { sha256 } from './notice-cache.js';

/** The default notice font: a full CJK font with Latin, digits and punctuation. */
const DEFAULT_FONT_FILE = 'NotoSansHans-Bold.otf';

/**
 * Absolute path of the default notice font file (`fontfile=` for ffmpeg drawtext).
 *
 * @example
 * `drawtext=fontfile='${noticeFontPath()}':text='AI生成'`
 */
export function noticeFontPath(): string {
  const entry = fileURLToPath(import.meta.resolve('@embedpdf/fonts-sc'));
  return join(dirname(entry), '..', 'fonts', DEFAULT_FONT_FILE);
}

/** The font cannot be read, or lacks a character of the notice. */
export class NoticeFontError extends InvalidInputError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('E_LABEL_NOTICE_FONT', detail, options);
  }
}

/** The code points a font maps to glyphs: sorted, inclusive ranges. */
type CodeRanges = [number, number][];

function u16(data: Buffer, offset: number): number {
  if (offset + 2 > data.length) throw new RangeError('font table runs past the end of the file');
  return data.readUInt16BE(offset);
}

function u32(data: Buffer, offset: number): number {
  if (offset + 4 > data.length) throw new RangeError('font table runs past the end of the file');
  return data.readUInt32BE(offset);
}

/** Ranges of a `cmap` subtable in format 4 (BMP) or 12 (full Unicode). */
function subtableRanges(data: Buffer, at: number): CodeRanges | undefined {
  const format = u16(data, at);
  const ranges: CodeRanges = [];
  if (format === 12) {
    const groups = u32(data, at + 12);
    for (let i = 0; i < groups; i++) ranges.push([u32(data, at + 16 + i * 12), u32(data, at + 20 + i * 12)]);
    return ranges;
  }
  if (format === 4) {
    const segments = u16(data, at + 6) / 2;
    const ends = at + 14;
    const starts = ends + segments * 2 + 2;
    for (let i = 0; i < segments; i++) {
      const end = u16(data, ends + i * 2);
      const start = u16(data, starts + i * 2);
      if (start !== 0xffff) ranges.push([start, end]);
    }
    return ranges;
  }
  return undefined;
}

/**
 * Reads which characters an OpenType/TrueType font maps, from its `cmap` table (`data`, the
 * table alone: offsets are from its start), the Unicode subtable with the widest coverage:
 * format 12 when present, else format 4.
 */
function characterMap(data: Buffer): CodeRanges {
  const count = u16(data, 2);
  let best: CodeRanges | undefined;
  for (let j = 0; j < count; j++) {
    const platform = u16(data, 4 + j * 8);
    const encoding = u16(data, 6 + j * 8);
    if (!(platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10)))) continue;
    const ranges = subtableRanges(data, u32(data, 8 + j * 8));
    if (ranges && (!best || ranges.length > best.length || (ranges.at(-1)?.[1] ?? 0) > (best.at(-1)?.[1] ?? 0))) best = ranges;
  }
  if (best) return best.sort((a, b) => a[0] - b[0]);
  throw new RangeError('the font has no Unicode character map (cmap)');
}

/** Reads `length` bytes at `position`, all of them. @throws RangeError when the file ends first */
function readAt(fd: number, length: number, position: number): Buffer {
  const data = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, data, done, length - done, position + done);
    if (n === 0) throw new RangeError('font table runs past the end of the file');
    done += n;
  }
  return data;
}

/**
 * The `cmap` table of the font file at `path`, read by itself (the table directory, then the
 * table): a CJK font is megabytes, its character map a few hundred kilobytes at most, and
 * reading the whole file cost a labelling thread about 25 ms before its first image (issue 14).
 */
function readCmap(path: string): { cmap: Buffer; fingerprint: string } {
  const fd = openSync(path, 'r');
  try {
    const { size, mtimeMs } = fstatSync(fd);
    const tables = u16(readAt(fd, 12, 0), 4);
    const directory = readAt(fd, tables * 16, 12);
    // The file as the notice cache knows it: a table's checksum in the directory changes with the table.
    const fingerprint = sha256(JSON.stringify([path, size, mtimeMs, directory.toString('hex')]));
    for (let i = 0; i < tables; i++) {
      if (directory.toString('latin1', i * 16, i * 16 + 4) !== 'cmap') continue;
      const offset = u32(directory, i * 16 + 8);
      const length = u32(directory, i * 16 + 12);
      if (offset + length > size) throw new RangeError('the cmap table runs past the end of the file');
      return { cmap: readAt(fd, length, offset), fingerprint };
    }
    throw new RangeError('the font has no Unicode character map (cmap)');
  } finally {
    closeSync(fd);
  }
}

function covers(ranges: CodeRanges, code: number): boolean {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [start, end] = ranges[middle] as [number, number];
    if (code < start) high = middle - 1;
    else if (code > end) low = middle + 1;
    else return true;
  }
  return false;
}

/** A font ready to draw with: its file, its coverage, and what the notice cache knows the file by. */
export interface NoticeFont {
  path: string;
  ranges: CodeRanges;
  /** A digest of the file's path, size, modification time and table directory (`notice-cache.ts`). */
  fingerprint: string;
}

const loaded = new Map<string, NoticeFont>();
/** The private family name each font was registered with the canvas under, once it was first drawn with. */
const families = new Map<string, string>();

/**
 * Loads a font file (default: the bundled Noto Sans Hans Bold) for drawing notices: reads its
 * character map, once per path. The canvas gets the font only when a notice is first measured
 * or drawn with it and the notice cache does not have it (`fontFamily`): the canvas's first use
 * of a font scans the system's font folders (issue 14).
 *
 * @throws NoticeFontError when the file cannot be read or is not an OpenType/TrueType font.
 */
export function loadNoticeFont(path: string = noticeFontPath()): NoticeFont {
  const cached = loaded.get(path);
  if (cached) return cached;
  let font: NoticeFont;
  try {
    const { cmap, fingerprint } = readCmap(path);
    font = { path, ranges: characterMap(cmap), fingerprint };
  } catch (error) {
    throw new NoticeFontError(`cannot use ${path} as the notice font: ${(error as Error).message}`, { cause: error });
  }
  loaded.set(path, font);
  return font;
}

/**
 * The family name `font` is registered with the canvas under, registering it at the first call:
 * a private name, so a system font of the same name can never stand in for it.
 *
 * @throws NoticeFontError when the canvas rejects the file.
 */
export function fontFamily(font: NoticeFont): string {
  const known = families.get(font.path);
  if (known) return known;
  // Named by the file's fingerprint, not by a count: the canvas's fonts are one table for the
  // whole process, and threads counting on their own would give two fonts the same name.
  const family = `hegui-notice-${font.fingerprint.slice(0, 24)}`;
  if (!canvasLib().GlobalFonts.registerFromPath(font.path, family)) throw new NoticeFontError(`cannot use ${font.path} as the notice font: the renderer rejected it`);
  families.set(font.path, family);
  return family;
}

/**
 * Checks that `font` has a glyph for every character of `text` (white space aside).
 *
 * @throws NoticeFontError listing the characters it lacks.
 */
export function assertFontCovers(font: NoticeFont, text: string): void {
  const lacking = [...new Set([...text].filter((char) => !/\s/u.test(char) && !covers(font.ranges, char.codePointAt(0) ?? 0)))];
  if (lacking.length > 0) {
    throw new NoticeFontError(`the notice font ${font.path} has no glyph for ${lacking.map((char) => JSON.stringify(char)).join(', ')}; change the wording or give a font that covers it`);
  }
}
