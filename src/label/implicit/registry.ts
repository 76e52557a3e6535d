/**
 * @module label/implicit/registry
 * Which codec handles a file, decided from its content, never its name. The built-in codecs
 * come from `codecs.ts` (one re-export line per codec); callers may pass extra codecs to any
 * API function instead of mutating shared state, so the library keeps no global registry.
 *
 * This module imports every codec (it offers them as a list). The file and library paths find
 * codecs through the light table of `codec-table.ts` instead, which imports a codec only when a
 * file may be of its format; both choose the same codec.
 */
import { UnsupportedFormatError } from '../errors.js';
import type { ByteSource, LabelCodec } from './codec.js';
import { DETECT_BYTES, extensionOf, isUtf8Text, rankOf, TEXT_FORMATS } from './codec-table.js';
import * as builtin from './codecs.js';

export { DETECT_BYTES } from './codec-table.js';

function rank(codec: LabelCodec): number {
  return rankOf(codec.format);
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

/** The text-format codec a file name's extension names, e.g. `notes.md` -> Markdown. */
function textCodecByName(name: string, codecs: readonly LabelCodec[]): LabelCodec | undefined {
  const extension = extensionOf(name);
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
