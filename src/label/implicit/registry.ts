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
 * The codec for `source`, from its first bytes.
 *
 * @throws UnsupportedFormatError when no codec recognises the content.
 */
export async function codecFor(source: ByteSource, codecs: readonly LabelCodec[] = builtinCodecs): Promise<LabelCodec> {
  const head = await source.read(0, Math.min(DETECT_BYTES, source.size));
  const codec = detectCodec(head, codecs);
  if (!codec) throw new UnsupportedFormatError();
  return codec;
}

/** The codec registered for `format`, or `undefined`. */
export function codecByFormat(format: string, codecs: readonly LabelCodec[] = builtinCodecs): LabelCodec | undefined {
  return codecs.find((codec) => codec.format === format);
}
