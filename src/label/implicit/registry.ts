/**
 * @module label/implicit/registry
 * Which codec handles a file, decided from its content, never its name. The built-in codecs
 * come from `codecs.ts` (one re-export line per codec); callers may pass extra codecs to any
 * API function instead of mutating shared state, so the library keeps no global registry.
 */
import { UnsupportedFormatError } from '../errors.js';
import type { ByteSource, FormatId, LabelCodec } from './codec.js';
import * as builtin from './codecs.js';

/** How many leading bytes `detect` sees. */
export const DETECT_BYTES = 4096;

/**
 * Detection order. Containers with exact magic numbers come first; MP3 (whose frame sync can
 * occur by chance) and the text formats come last, Markdown last of all because any UTF-8
 * text is acceptable Markdown. Formats not listed (codecs added by callers) sit before MP3.
 */
const detectionOrder: readonly FormatId[] = [
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

function rank(codec: LabelCodec): number {
  const at = detectionOrder.indexOf(codec.format);
  return at === -1 ? detectionOrder.indexOf('mp3') - 0.5 : at;
}

function isCodec(value: unknown): value is LabelCodec {
  const codec = value as Partial<LabelCodec> | null;
  return (
    typeof codec === 'object' &&
    codec !== null &&
    typeof codec.format === 'string' &&
    typeof codec.detect === 'function' &&
    typeof codec.read === 'function' &&
    typeof codec.write === 'function' &&
    typeof codec.remove === 'function' &&
    typeof codec.payloadRanges === 'function'
  );
}

/** Orders codecs for detection; a later codec with the same format replaces an earlier one. */
export function orderCodecs(codecs: Iterable<LabelCodec>): LabelCodec[] {
  const byFormat = new Map<string, LabelCodec>();
  for (const codec of codecs) byFormat.set(codec.format, codec);
  return [...byFormat.values()].sort((a, b) => rank(a) - rank(b));
}

/** Every codec that ships with hegui, in detection order. */
export const builtinCodecs: readonly LabelCodec[] = Object.freeze(orderCodecs(Object.values(builtin).filter(isCodec)));

/** The built-in codecs plus `extra` (which override built-ins of the same format). */
export function codecList(extra: readonly LabelCodec[] = []): readonly LabelCodec[] {
  return extra.length === 0 ? builtinCodecs : orderCodecs([...builtinCodecs, ...extra]);
}

/** The codec whose `detect` accepts `head`, or `undefined`. */
export function detectCodec(head: Uint8Array, codecs: readonly LabelCodec[] = builtinCodecs): LabelCodec | undefined {
  const window = head.subarray(0, DETECT_BYTES);
  return codecs.find((codec) => codec.detect(window));
}

/**
 * Text formats whose content alone may not identify them (Markdown without front matter, an
 * HTML fragment): for these, and only when the content is text, a file name's extension decides.
 */
const TEXT_FORMATS: ReadonlySet<FormatId> = new Set<FormatId>(['markdown', 'html']);

function isUtf8Text(head: Uint8Array): boolean {
  if (head.includes(0)) return false;
  try {
    // A multi-byte character cut at the end of the window is not a reason to refuse.
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 3)));
    return true;
  } catch {
    return false;
  }
}

/** The text-format codec a file name's extension names, e.g. `notes.md` -> Markdown. */
function textCodecByName(name: string, codecs: readonly LabelCodec[]): LabelCodec | undefined {
  const extension = /\.([^./\\]+)$/.exec(name)?.[1]?.toLowerCase();
  if (!extension) return undefined;
  return codecs.find((codec) => TEXT_FORMATS.has(codec.format) && codec.extensions.includes(extension));
}

/**
 * The codec for `source`, from its first bytes; when the content names no format and it is
 * text, from `name`'s extension for the text formats (Markdown, HTML).
 *
 * @throws UnsupportedFormatError when no codec recognises the content.
 */
export async function codecFor(source: ByteSource, codecs: readonly LabelCodec[] = builtinCodecs, name?: string): Promise<LabelCodec> {
  const head = await source.read(0, Math.min(DETECT_BYTES, source.size));
  const codec = detectCodec(head, codecs) ?? (name !== undefined && isUtf8Text(head) ? textCodecByName(name, codecs) : undefined);
  if (!codec) throw new UnsupportedFormatError();
  return codec;
}

/** The codec registered for `format`, or `undefined`. */
export function codecByFormat(format: string, codecs: readonly LabelCodec[] = builtinCodecs): LabelCodec | undefined {
  return codecs.find((codec) => codec.format === format);
}
