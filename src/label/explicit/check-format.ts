/**
 * @module label/explicit/check-format
 * Which explicit-label rules a file falls under (GB 45438 §5.1 text, §5.2 image, §5.3 audio,
 * §5.4 video), decided from its content, never its name: images and audio/video containers by
 * their magic numbers (through the implicit codecs' detectors), and text as valid UTF-8 without
 * control bytes, then told apart as plain, Markdown, HTML, SubRip or WebVTT; text a notice would
 * break (JSON, XML, SVG, PDF, scripts, or a file whose extension names none of those types) is
 * refused with the reason.
 */
import { UnsupportedFormatError } from '../errors.js';
import { detectCodec, DETECT_BYTES } from '../implicit/registry.js';
import type { ExplicitFormat, MediaKind } from './check-types.js';
import { isSubRip, isWebVtt } from './subtitle.js';
import { detectTextFormat, type TextFormat } from './text-format.js';

/** A text type a visible notice goes into: a text flavour or a subtitle format. */
type TextType = TextFormat | 'srt' | 'vtt';

/** How many leading bytes detection reads. */
export const FORMAT_HEAD_BYTES = DETECT_BYTES;

/** The kind of content of each format (an MP4, Matroska or Ogg file may still turn out to be video). */
export const FORMAT_KIND: Readonly<Record<ExplicitFormat, MediaKind>> = {
  plain: 'text',
  markdown: 'text',
  html: 'text',
  srt: 'text',
  vtt: 'text',
  jpeg: 'image',
  png: 'image',
  webp: 'image',
  gif: 'image',
  tiff: 'image',
  heif: 'image',
  pdf: 'document',
  docx: 'document',
  wav: 'audio',
  mp3: 'audio',
  flac: 'audio',
  ogg: 'audio',
  mp4: 'video',
  matroska: 'video',
};

/** The text types a visible notice can be written into without breaking the file, by file-name extension. */
const TEXT_EXTENSIONS: Readonly<Record<string, TextType>> = {
  txt: 'plain',
  text: 'plain',
  md: 'markdown',
  markdown: 'markdown',
  mdown: 'markdown',
  mkd: 'markdown',
  html: 'html',
  htm: 'html',
  srt: 'srt',
  vtt: 'vtt',
};

/** What every refusal of a text type says is accepted. */
const TEXT_TYPES = 'visible notices go into plain text (.txt), Markdown (.md), HTML (.html, .htm) and subtitles (.srt, .vtt)';

/**
 * The content is none of the formats explicit labels are applied to or checked on. A kind of
 * `UnsupportedFormatError` (code `E_LABEL_UNSUPPORTED_FORMAT`), so batch commands skip such
 * files found in folders as they do for implicit labels.
 */
export class ExplicitFormatError extends UnsupportedFormatError {
  constructor(detail = 'the content is not a supported text, image, audio or video format') {
    super(detail);
    this.message = `${detail}; ${TEXT_TYPES}; images: JPEG, PNG, WebP, GIF, TIFF and AVIF; documents: PDF and DOCX; audio: WAV, MP3, FLAC, OGG and M4A; video: MP4/MOV and MKV/WebM`;
  }
}

const CONTAINERS = new Set<string>(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'wav', 'mp3', 'flac', 'ogg', 'mp4', 'matroska']);
/** Containers the implicit label knows but no visible notice is written into (yet). */
const NO_VISIBLE_NOTICE: Readonly<Record<string, string>> = { xmp: 'an XMP packet' };

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
 * Why a text that decodes as UTF-8 is not one a notice may be written into, or undefined:
 * a notice line prepended to JSON, XML (SVG included), a PDF or a script breaks it.
 */
function structuredText(text: string, complete: boolean): string | undefined {
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (/^%PDF-/.test(body)) return 'a PDF';
  if (/^%!/.test(body)) return 'PostScript';
  if (/^#!/.test(body)) return 'a script (it starts with #!)';
  if (/^<\?xml[\s?]/i.test(body) || /^(?:<!--[\s\S]*?-->\s*)*<(?:svg|!DOCTYPE\s+svg)[\s>]/i.test(body)) return /<svg[\s>]/i.test(body) ? 'SVG' : 'XML';
  if (/^[{[]/.test(body)) {
    // A head cut short cannot be parsed: judge by how JSON opens (a Markdown link or reference `[text]` does not).
    if (!complete) return /^\{\s*["}]|^\[\s*(?:[[{"\]-]|\d(?![^\]\n]*\]:)|true|false|null)/.test(body) ? 'JSON' : undefined;
    try {
      JSON.parse(body);
      return 'JSON';
    } catch {
      return undefined;
    }
  }
  if (/^\{\\rtf/.test(body)) return 'RTF';
  return undefined;
}

/** The extension of a file name, lower-cased, or '' when it has none. */
function extensionOf(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** Text flavour of decoded text, or why it is refused. */
function textType(text: string, complete: boolean, name: string | undefined): TextType | { refused: string } {
  const structured = structuredText(text, complete);
  if (structured) return { refused: `the content is ${structured}, which a visible notice would break` };
  const extension = name === undefined ? '' : extensionOf(name);
  if (extension !== '') {
    const named = TEXT_EXTENSIONS[extension];
    if (!named) return { refused: `a .${extension} file is not a text type hegui can add a visible notice to without breaking it` };
    if (named === 'vtt' && !isWebVtt(text)) return { refused: 'a .vtt file must start with the WEBVTT header' };
    if (named === 'srt' && !isSubRip(text)) return { refused: 'a .srt file must start with a numbered cue and its timing line' };
    return named;
  }
  if (isWebVtt(text)) return 'vtt';
  if (isSubRip(text)) return 'srt';
  return detectTextFormat(text);
}

function detect(head: Uint8Array, complete: boolean, name: string | undefined): ExplicitFormat | { refused: string } {
  const codec = detectCodec(head);
  if (codec && CONTAINERS.has(codec.format)) return codec.format as ExplicitFormat;
  if (codec?.format === 'pdf') return 'pdf';
  if (codec?.format === 'ooxml') return 'docx';
  const known = codec ? NO_VISIBLE_NOTICE[codec.format] : undefined;
  if (known) return { refused: `the content is ${known}, which takes no visible notice here` };
  if (head.length === 0) return { refused: 'the file is empty' };
  if (!looksLikeText(head, complete)) return { refused: 'the content is not a supported text, image, audio or video format' };
  return textType(new TextDecoder().decode(head), complete, name);
}

/**
 * Documents that take a visible notice through their own writers (`labelPdf`, `labelDocx`),
 * not the text and media labellers: `pdf`, `ooxml`, or undefined.
 */
export function documentFormat(head: Uint8Array): 'pdf' | 'ooxml' | undefined {
  const format = detectCodec(head)?.format;
  return format === 'pdf' || format === 'ooxml' ? format : undefined;
}

/**
 * The format of a file from its first bytes (`complete` when `head` is the whole file), or
 * undefined when it is none that explicit labels cover. Binary formats are told by their
 * content; text must also be one of the text types a notice can go into: the file `name`'s
 * extension, when it has one, must name such a type (`.js`, `.json`, `.css`, `.svg` are
 * refused), and JSON, XML, SVG, PDF and scripts are refused by content whatever the name.
 *
 * @example
 * detectExplicitFormat(await source.read(0, FORMAT_HEAD_BYTES), source.size <= FORMAT_HEAD_BYTES); // 'png'
 * detectExplicitFormat(utf8('{"a": 1}'), true); // undefined
 */
export function detectExplicitFormat(head: Uint8Array, complete = false, name?: string): ExplicitFormat | undefined {
  const found = detect(head, complete, name);
  return typeof found === 'string' ? found : undefined;
}

/**
 * Like `detectExplicitFormat`, but throws `ExplicitFormatError` saying why a file is refused.
 *
 * @example
 * requireExplicitFormat(utf8(script), true, 'app.js'); // throws: a .js file is not a text type …
 */
export function requireExplicitFormat(head: Uint8Array, complete = false, name?: string): ExplicitFormat {
  const found = detect(head, complete, name);
  if (typeof found !== 'string') throw new ExplicitFormatError(found.refused);
  return found;
}
