/**
 * @module label/explicit/check-format
 * Which explicit-label rules a file falls under (GB 45438 §5.1 text, §5.2 image, §5.3 audio,
 * §5.4 video), decided from its content, never its name: images and audio/video containers by
 * their magic numbers (through the implicit codecs' detectors), and text as valid UTF-8 without
 * control bytes, then told apart as plain, Markdown or HTML.
 */
import { UnsupportedFormatError } from '../errors.js';
import { detectCodec, DETECT_BYTES } from '../implicit/registry.js';
import type { ExplicitFormat, MediaKind } from './check-types.js';
import { detectTextFormat } from './text-format.js';

/** How many leading bytes detection reads. */
export const FORMAT_HEAD_BYTES = DETECT_BYTES;

/** The kind of content of each format (an MP4, Matroska or Ogg file may still turn out to be video). */
export const FORMAT_KIND: Readonly<Record<ExplicitFormat, MediaKind>> = {
  plain: 'text',
  markdown: 'text',
  html: 'text',
  jpeg: 'image',
  png: 'image',
  webp: 'image',
  gif: 'image',
  wav: 'audio',
  mp3: 'audio',
  flac: 'audio',
  ogg: 'audio',
  mp4: 'video',
  matroska: 'video',
};

/**
 * The content is none of the formats explicit labels are applied to or checked on. A kind of
 * `UnsupportedFormatError` (code `E_LABEL_UNSUPPORTED_FORMAT`), so batch commands skip such
 * files found in folders as they do for implicit labels.
 */
export class ExplicitFormatError extends UnsupportedFormatError {
  constructor(detail = 'the content is not a supported text, image, audio or video format') {
    super(detail);
    this.message = `${detail}; explicit labels cover plain text, Markdown and HTML (UTF-8), JPEG, PNG, WebP and GIF images, WAV, MP3, FLAC, OGG and M4A audio, MP4/MOV and MKV/WebM video`;
  }
}

const CONTAINERS = new Set<string>(['jpeg', 'png', 'webp', 'gif', 'wav', 'mp3', 'flac', 'ogg', 'mp4', 'matroska']);

/** True when `head` decodes as UTF-8 text without NUL or other binary control bytes. */
function looksLikeText(head: Uint8Array, complete: boolean): boolean {
  if (head.some((byte) => byte === 0 || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c))) return false;
  // A multi-byte character may be cut at the end of the window.
  const body = complete ? head : head.subarray(0, Math.max(0, head.length - 4));
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/**
 * The format of a file from its first bytes (`complete` when `head` is the whole file), or
 * undefined when it is none that explicit labels cover.
 *
 * @example
 * detectExplicitFormat(await source.read(0, FORMAT_HEAD_BYTES), source.size <= FORMAT_HEAD_BYTES); // 'png'
 */
export function detectExplicitFormat(head: Uint8Array, complete = false): ExplicitFormat | undefined {
  const codec = detectCodec(head);
  if (codec && CONTAINERS.has(codec.format)) return codec.format as ExplicitFormat;
  if (head.length === 0 || !looksLikeText(head, complete)) return undefined;
  return detectTextFormat(new TextDecoder().decode(head));
}

/** Like `detectExplicitFormat`, but throws `ExplicitFormatError` for an unsupported file. */
export function requireExplicitFormat(head: Uint8Array, complete = false): ExplicitFormat {
  const format = detectExplicitFormat(head, complete);
  if (!format) throw new ExplicitFormatError();
  return format;
}
