/**
 * @module label/implicit/codec-table
 * The light table of the built-in codecs: for each format its extensions, a cheap check of the
 * first bytes, and how to import its codec. Finding a file's codec through it imports only the
 * codecs whose first-bytes check passes, in detection order, so `hegui label embed photo.jpg`
 * loads the JPEG codec and none of the MP4, PDF, OOXML, Matroska... modules (issue 14: the
 * label commands load only what they use).
 *
 * Each `mayBe` is a necessary condition of its codec's `detect`, never stricter: it may say
 * yes to a file the codec then refuses (the codec's own `detect` decides), but never no to one
 * the codec would accept, so the codec chosen is the one the eager registry (`registry.ts`)
 * would choose. A test checks each entry against its codec (format, extensions) and `mayBe`
 * against `detect` on every fixture.
 */
import { UnsupportedFormatError } from '../errors.js';
import type { ByteSource, FormatId, LabelCodec } from './codec.js';

/** How many leading bytes `detect` sees. */
export const DETECT_BYTES = 4096;

/**
 * Detection order. Containers with exact magic numbers come first; MP3 (whose frame sync can
 * occur by chance) and the text formats come last, Markdown last of all because any UTF-8
 * text is acceptable Markdown. Formats not listed (codecs added by callers) sit before MP3.
 */
export const detectionOrder: readonly FormatId[] = [
  'jpeg',
  'png',
  'webp',
  'gif',
  'tiff',
  'heif',
  'mp4',
  'wav',
  'flac',
  'ogg',
  'matroska',
  'pdf',
  'ooxml',
  'mp3',
  'xmp',
  'html',
  'markdown',
];

/** Where `format` sits in detection order; formats not listed sit just before MP3. */
export function rankOf(format: string): number {
  const at = detectionOrder.indexOf(format as FormatId);
  return at === -1 ? detectionOrder.indexOf('mp3') - 0.5 : at;
}

/** A built-in codec that is imported only when a file may be of its format. */
export interface LazyCodec {
  format: FormatId;
  extensions: readonly string[];
  /** False only when `detect` of the codec would be false for `head` too. */
  mayBe: (head: Uint8Array) => boolean;
  load: () => Promise<LabelCodec>;
}

function at(head: Uint8Array, offset: number, text: string): boolean {
  if (head.length < offset + text.length) return false;
  for (let i = 0; i < text.length; i++) if (head[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

function bytesAt(head: Uint8Array, offset: number, bytes: readonly number[]): boolean {
  if (head.length < offset + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (head[offset + i] !== bytes[i]) return false;
  return true;
}

const ISO_FIRST_BOXES = ['ftyp', 'moov', 'mdat', 'wide', 'free', 'skip', 'pnot'];

/**
 * HEIF still-image brands (ISO/IEC 23008-12 Annex B; AVIF §9), the major brand the HEIF codec
 * requires; sequences (`msf1`, `avis`) are MP4-like. Here, so that an MP4 (brand `isom`,
 * `mp42`, ...) is not taken for a possible HEIF and does not load the HEIF codec to be refused.
 */
export const HEIF_STILL_BRANDS: ReadonlySet<string> = new Set(['heic', 'heix', 'heim', 'heis', 'mif1', 'mif2', 'avif', 'avio']);

function majorBrand(head: Uint8Array): string {
  return head.length < 12 ? '' : String.fromCharCode(head[8] as number, head[9] as number, head[10] as number, head[11] as number);
}
const PDF_LEADING_SPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);

/** The built-in codecs in detection order (a test keeps this equal to `codecs.ts`). */
export const lazyCodecs: readonly LazyCodec[] = [
  { format: 'jpeg', extensions: ['jpg', 'jpeg', 'jpe', 'jfif'], mayBe: (h) => bytesAt(h, 0, [0xff, 0xd8, 0xff]), load: async () => (await import('./jpeg.js')).jpegCodec },
  { format: 'png', extensions: ['png', 'apng'], mayBe: (h) => bytesAt(h, 0, [0x89, 0x50, 0x4e, 0x47]), load: async () => (await import('./png.js')).pngCodec },
  { format: 'webp', extensions: ['webp'], mayBe: (h) => at(h, 0, 'RIFF') && at(h, 8, 'WEBP'), load: async () => (await import('./webp.js')).webpCodec },
  { format: 'gif', extensions: ['gif'], mayBe: (h) => at(h, 0, 'GIF8'), load: async () => (await import('./gif.js')).gifCodec },
  { format: 'tiff', extensions: ['tif', 'tiff'], mayBe: (h) => at(h, 0, 'II') || at(h, 0, 'MM'), load: async () => (await import('./tiff.js')).tiffCodec },
  { format: 'heif', extensions: ['heif', 'heic', 'hif', 'avif'], mayBe: (h) => at(h, 4, 'ftyp') && HEIF_STILL_BRANDS.has(majorBrand(h)), load: async () => (await import('./heif.js')).heifCodec },
  {
    format: 'mp4',
    extensions: ['mp4', 'm4v', 'm4a', 'm4b', 'mov', '3gp'],
    mayBe: (h) => ISO_FIRST_BOXES.some((type) => at(h, 4, type)),
    load: async () => (await import('./mp4.js')).mp4Codec,
  },
  { format: 'wav', extensions: ['wav', 'rf64', 'bw64'], mayBe: (h) => at(h, 8, 'WAVE'), load: async () => (await import('./wav.js')).wavCodec },
  // FLAC may start with ID3v2 tags before `fLaC`.
  { format: 'flac', extensions: ['flac'], mayBe: (h) => at(h, 0, 'fLaC') || at(h, 0, 'ID3'), load: async () => (await import('./flac.js')).flacCodec },
  { format: 'ogg', extensions: ['ogg', 'oga', 'opus', 'ogv', 'spx'], mayBe: (h) => at(h, 0, 'OggS'), load: async () => (await import('./ogg.js')).oggCodec },
  { format: 'matroska', extensions: ['mkv', 'mka', 'mk3d', 'webm'], mayBe: (h) => bytesAt(h, 0, [0x1a, 0x45, 0xdf, 0xa3]), load: async () => (await import('./matroska.js')).matroskaCodec },
  {
    format: 'pdf',
    extensions: ['pdf'],
    mayBe: (h) => {
      let i = 0;
      while (i < h.length && PDF_LEADING_SPACE.has(h[i] as number)) i++;
      return h[i] === 0x25; // '%'
    },
    load: async () => (await import('./pdf.js')).pdfCodec,
  },
  {
    format: 'ooxml',
    extensions: ['docx', 'xlsx', 'pptx', 'docm', 'xlsm', 'pptm', 'dotx', 'xltx', 'potx', 'ppsx'],
    mayBe: (h) => bytesAt(h, 0, [0x50, 0x4b, 0x03, 0x04]),
    load: async () => (await import('./ooxml.js')).ooxmlCodec,
  },
  // An ID3v2 tag, or an MPEG frame sync (11 bits set).
  { format: 'mp3', extensions: ['mp3', 'mp2'], mayBe: (h) => at(h, 0, 'ID3') || (h[0] === 0xff && ((h[1] ?? 0) & 0xe0) === 0xe0), load: async () => (await import('./mp3.js')).mp3Codec },
  // The text formats: any text may be one, their codecs decide.
  { format: 'html', extensions: ['html', 'htm', 'xhtml'], mayBe: () => true, load: async () => (await import('./html.js')).htmlCodec },
  { format: 'markdown', extensions: ['md', 'markdown', 'mdown', 'mkd', 'mdx'], mayBe: () => true, load: async () => (await import('./markdown.js')).markdownCodec },
];

/**
 * Text formats whose content alone may not identify them (Markdown without front matter, an
 * HTML fragment): for these, and only when the content is text, a file name's extension decides.
 */
export const TEXT_FORMATS: ReadonlySet<FormatId> = new Set<FormatId>(['markdown', 'html']);

export function isUtf8Text(head: Uint8Array): boolean {
  if (head.includes(0)) return false;
  try {
    // A multi-byte character cut at the end of the window is not a reason to refuse.
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 3)));
    return true;
  } catch {
    return false;
  }
}

/** The extension of `name`, lower case, or undefined. */
export function extensionOf(name: string): string | undefined {
  return /\.([^./\\]+)$/.exec(name)?.[1]?.toLowerCase();
}

/**
 * Codecs already imported, by table entry: a batch finds the codec of every file, and an
 * `import()` per file (even of a module already loaded) costs more than the detection itself.
 */
const loadedCodecs = new WeakMap<LazyCodec, LabelCodec>();

function loadEntry(entry: LazyCodec): LabelCodec | Promise<LabelCodec> {
  const known = loadedCodecs.get(entry);
  if (known) return known;
  return entry.load().then((codec) => {
    loadedCodecs.set(entry, codec);
    return codec;
  });
}

/** A codec already loaded (one a caller passed), as a table entry. */
function loaded(codec: LabelCodec): LazyCodec {
  return { format: codec.format, extensions: codec.extensions, mayBe: () => true, load: () => Promise.resolve(codec) };
}

/** The built-in entries with `extra` codecs put in (a later codec with the same format replaces an earlier one), in detection order. */
function entriesWith(extra: readonly LabelCodec[]): readonly LazyCodec[] {
  if (extra.length === 0) return lazyCodecs;
  const byFormat = new Map<string, LazyCodec>();
  for (const entry of lazyCodecs) byFormat.set(entry.format, entry);
  for (const codec of extra) byFormat.set(codec.format, loaded(codec));
  return [...byFormat.values()].sort((a, b) => rankOf(a.format) - rankOf(b.format));
}

/**
 * The codec for `head` (a file's first `DETECT_BYTES` bytes, or all of a shorter one): the
 * first in detection order whose `detect` accepts it, importing only the codecs that may; when
 * none does and the content is text, the text codec that `name`'s extension names.
 * `extra`: codecs a caller adds (they replace built-ins of the same format).
 *
 * @throws UnsupportedFormatError when no codec recognises the content.
 */
export async function findCodec(head: Uint8Array, extra: readonly LabelCodec[] = [], name?: string): Promise<LabelCodec> {
  const window = head.subarray(0, DETECT_BYTES);
  const entries = entriesWith(extra);
  for (const entry of entries) {
    if (!entry.mayBe(window)) continue;
    const codec = await loadEntry(entry);
    if (codec.detect(window)) return codec;
  }
  if (name !== undefined && isUtf8Text(window)) {
    const extension = extensionOf(name);
    const entry = extension === undefined ? undefined : entries.find((e) => TEXT_FORMATS.has(e.format) && e.extensions.includes(extension));
    if (entry) return loadEntry(entry);
  }
  throw new UnsupportedFormatError();
}

/** `findCodec` for a source: reads its first bytes. */
export async function findSourceCodec(source: ByteSource, extra: readonly LabelCodec[] = [], name?: string): Promise<LabelCodec> {
  return findCodec(await source.read(0, Math.min(DETECT_BYTES, source.size)), extra, name);
}
