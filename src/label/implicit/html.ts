/**
 * @module label/implicit/html
 * The HTML codec: the label is `<meta name="AIGC" content="...">` in the document head (TC260
 * practice guide placement). The tag is spliced in and every other byte is kept. The content
 * is escaped to pure ASCII (`&quot;`, `&amp;`, `&lt;`, `&gt;`, and a character reference for
 * anything outside printable ASCII), so the inserted bytes mean the same in every
 * ASCII-compatible encoding: a GBK page stays a valid GBK page.
 *
 * Where the tag goes: in place of an existing label; else right after `<meta charset>` (which
 * must stay within the first 1024 bytes, WHATWG HTML §4.2.5.4) or after `<head>`. A document
 * without a `<head>` start tag (HTML lets it be omitted, §13.1.2.4) gets `<head>`, the tag and
 * `</head>` after `<html>` or the doctype; when such a document already has head elements
 * without the tag (an implied head), the tag alone goes before them, where the parser puts it
 * in that implied head, so no element lands after an explicit `</head>`.
 *
 * Payload: every byte except the label tags, and except a head element holding nothing else
 * (hegui's own, or an empty one), so labeling, relabeling and removing leave it unchanged.
 * Removing a label also removes a head left empty.
 *
 * Like a browser, the codec accepts any bytes as HTML: there is no malformed input, only a
 * head that is found or implied. It scans the first MiB for the head.
 */
import { LabelValueError } from '../errors.js';
import type { ByteRange, ByteSink, ByteSource, FoundLabel, LabelCodec } from './codec.js';
import { ascii, copyRange, utf8 } from './bytes.js';
import { scanHead, type HeadScan, type HtmlTag } from './html-scan.js';

const HTML_LABEL_LOCATION = 'html:head/meta[name=AIGC]';
/** How much of the document is scanned for the head; a head larger than this is not searched. */
const HEAD_SCAN_LIMIT = 1024 * 1024;

interface Span {
  start: number;
  end: number;
}

interface Splice extends Span {
  text: string;
}

async function scan(source: ByteSource): Promise<HeadScan> {
  return scanHead(ascii(await source.read(0, Math.min(source.size, HEAD_SCAN_LIMIT))));
}

/** `value` as an attribute value that is pure printable ASCII (WHATWG HTML §13.1.4 character references). */
function escapeContent(value: string): string {
  let out = '';
  for (const char of value) {
    const cp = char.codePointAt(0) ?? 0;
    if (cp === 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
      throw new LabelValueError(`contains U+${cp.toString(16).toUpperCase().padStart(4, '0')}, which HTML cannot carry`);
    }
    if (char === '&') out += '&amp;';
    else if (char === '"') out += '&quot;';
    else if (char === '<') out += '&lt;';
    else if (char === '>') out += '&gt;';
    else if (cp < 0x20 || cp > 0x7e) out += `&#x${cp.toString(16).toUpperCase()};`;
    else out += char;
  }
  return out;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes an attribute value read as Latin-1 bytes: UTF-8 first, then character references. */
function decodeContent(raw: string): string {
  const text = new TextDecoder('utf-8').decode(Uint8Array.from(raw, (c) => c.charCodeAt(0)));
  return text.replace(/&(#[xX][0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (match, body: string) => {
    if (body[0] !== '#') return NAMED[body] ?? match;
    const cp = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
    // §13.2.5.80: zero, surrogates and out-of-range references read as U+FFFD.
    return cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? '\ufffd' : String.fromCodePoint(cp);
  });
}

function labelTag(value: string, xhtml: boolean): string {
  return `<meta name="AIGC" content="${escapeContent(value)}"${xhtml ? ' />' : '>'}`;
}

/** The explicit head, when it holds nothing but whitespace and label tags. */
function labelOnlyHead(html: HeadScan, text: string): Span | undefined {
  if (!html.head || !html.headEnd) return undefined;
  let inside = '';
  let at = html.head.end;
  for (const tag of html.labels) {
    inside += text.slice(at, tag.start);
    at = tag.end;
  }
  inside += text.slice(at, html.headEnd.start);
  return inside.trim() === '' ? { start: html.head.start, end: html.headEnd.end } : undefined;
}

/** Where the label goes when the document has none. */
function insertion(html: HeadScan, tag: string, bom: number): Splice {
  const charsetInHead = html.charset && (!html.head || html.charset.start > html.head.start);
  const after = (at: number, text: string): Splice => ({ start: at, end: at, text });
  if (html.head) return after(charsetInHead && html.charset ? html.charset.end : html.head.end, tag);
  const top = html.html?.end ?? html.doctypeEnd ?? bom;
  if (html.impliedHead) return after(html.charset?.end ?? top, tag);
  return after(top, `<head>${tag}</head>`);
}

async function writeSplices(source: ByteSource, splices: readonly Splice[], sink: ByteSink): Promise<void> {
  let at = 0;
  for (const splice of [...splices].sort((a, b) => a.start - b.start)) {
    await copyRange(source, at, splice.start, sink);
    await sink.write(utf8(splice.text));
    at = splice.end;
  }
  await copyRange(source, at, source.size, sink);
}

function isHtmlStart(head: Uint8Array): boolean {
  let text = ascii(head, 0, Math.min(head.length, 1024)).replace(/^\xef\xbb\xbf/, '');
  for (;;) {
    text = text.trimStart();
    const skipped = /^(<!--[^]*?-->|<\?xml[^]*?\?>)/.exec(text);
    if (!skipped) break;
    text = text.slice(skipped[0].length);
  }
  return /^<(!doctype\s+html|html[\s>]|head[\s>])/i.test(text);
}

function bomLength(text: string): number {
  return text.startsWith('\xef\xbb\xbf') ? 3 : 0;
}

export const htmlCodec: LabelCodec = {
  format: 'html',
  mediaTypes: ['text/html', 'application/xhtml+xml'],
  extensions: ['html', 'htm', 'xhtml'],

  /** A doctype, `<html>` or `<head>` first, after any byte order mark, comments and XML declaration. */
  detect(head: Uint8Array): boolean {
    return isHtmlStart(head);
  },

  async read(source: ByteSource): Promise<FoundLabel[]> {
    const html = await scan(source);
    return html.labels.map((tag: HtmlTag) => ({ value: decodeContent(tag.attributes.get('content') ?? ''), location: HTML_LABEL_LOCATION, standard: true }));
  },

  async write(source: ByteSource, value: string, sink: ByteSink): Promise<void> {
    const head = ascii(await source.read(0, Math.min(source.size, HEAD_SCAN_LIMIT)));
    const html = scanHead(head);
    const tag = labelTag(value, html.xhtml);
    const [first, ...others] = html.labels;
    const splices: Splice[] = first
      ? [{ start: first.start, end: first.end, text: tag }, ...others.map((o) => ({ start: o.start, end: o.end, text: '' }))]
      : [insertion(html, tag, bomLength(head))];
    await writeSplices(source, splices, sink);
  },

  async remove(source: ByteSource, sink: ByteSink): Promise<void> {
    const head = ascii(await source.read(0, Math.min(source.size, HEAD_SCAN_LIMIT)));
    const html = scanHead(head);
    if (html.labels.length === 0) {
      await copyRange(source, 0, source.size, sink);
      return;
    }
    const emptied = labelOnlyHead(html, head);
    const splices = emptied ? [{ ...emptied, text: '' }] : html.labels.map((tag) => ({ start: tag.start, end: tag.end, text: '' }));
    await writeSplices(source, splices, sink);
  },

  /** Signed content (docs/labels.md): the file as `remove` leaves it, which relabelling never changes. */
  signedContent: (source, sink) => htmlCodec.remove(source, sink),

  async payloadRanges(source: ByteSource): Promise<ByteRange[]> {
    const head = ascii(await source.read(0, Math.min(source.size, HEAD_SCAN_LIMIT)));
    const html = scanHead(head);
    const emptied = labelOnlyHead(html, head);
    const excluded: Span[] = emptied ? [emptied] : html.labels;
    const ranges: ByteRange[] = [];
    let at = 0;
    for (const span of excluded) {
      if (span.start > at) ranges.push({ start: at, end: span.start });
      at = span.end;
    }
    if (source.size > at) ranges.push({ start: at, end: source.size });
    return ranges;
  },
};
