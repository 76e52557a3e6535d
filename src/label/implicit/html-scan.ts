/**
 * @module label/implicit/html-scan
 * A scanner for the start of an HTML document, up to where the body begins, following the
 * WHATWG HTML tokenizer closely enough to find tags and attributes with their byte positions:
 * comments, the doctype and processing instructions are skipped, and the content of raw-text
 * elements (`script`, `style`, `title`, ...) is never mistaken for markup. It works on bytes
 * read as Latin-1, so it serves every ASCII-compatible encoding (UTF-8, GBK, GB18030, ...)
 * without decoding the document.
 */

/** A start tag with its byte extent; names and attribute names in lower case. */
export interface HtmlTag {
  name: string;
  attributes: Map<string, string>;
  start: number;
  end: number;
}

export interface HeadScan {
  /** End of the doctype, if any. */
  doctypeEnd: number | undefined;
  html: HtmlTag | undefined;
  head: HtmlTag | undefined;
  /** The `</head>` end tag's extent. */
  headEnd: { start: number; end: number } | undefined;
  /** True when head elements appear without a `<head>` start tag (an implied head). */
  impliedHead: boolean;
  /** `<meta charset>` or `<meta http-equiv="content-type">`, which must stay in the first KiB. */
  charset: HtmlTag | undefined;
  /** Every `<meta name="AIGC">`, in order. */
  labels: HtmlTag[];
  /** True when the document is XHTML (an XML declaration, or an XHTML namespace on `<html>`). */
  xhtml: boolean;
}

/** Elements that belong in the head (WHATWG HTML §13.2.6.4.4, "in head" insertion mode). */
const HEAD_ELEMENTS = new Set(['base', 'basefont', 'bgsound', 'link', 'meta', 'noscript', 'script', 'style', 'template', 'title']);
/** Elements whose content is text up to their end tag (§13.1.2, raw text and escapable raw text). */
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext']);
const SPACE = /[\t\n\f\r ]/;

function skipPast(text: string, terminator: string, from: number): number {
  const at = text.indexOf(terminator, from);
  return at < 0 ? text.length : at + terminator.length;
}

/** Parses the start tag at `start` (`text[start] === '<'`); `undefined` when `text` ends inside it. */
function parseStartTag(text: string, start: number): HtmlTag | undefined {
  let at = start + 1;
  const nameStart = at;
  while (at < text.length && !SPACE.test(text[at] ?? '') && text[at] !== '/' && text[at] !== '>') at++;
  const name = text.slice(nameStart, at).toLowerCase();
  const attributes = new Map<string, string>();
  for (;;) {
    while (at < text.length && (SPACE.test(text[at] ?? '') || text[at] === '/')) at++;
    if (at >= text.length) return undefined;
    if (text[at] === '>') return { name, attributes, start, end: at + 1 };
    const attrStart = at;
    at++;
    while (at < text.length && !SPACE.test(text[at] ?? '') && text[at] !== '/' && text[at] !== '>' && text[at] !== '=') at++;
    const attrName = text.slice(attrStart, at).toLowerCase();
    while (at < text.length && SPACE.test(text[at] ?? '')) at++;
    let value = '';
    if (text[at] === '=') {
      at++;
      while (at < text.length && SPACE.test(text[at] ?? '')) at++;
      const quote = text[at];
      if (quote === '"' || quote === "'") {
        const close = text.indexOf(quote, at + 1);
        if (close < 0) return undefined;
        value = text.slice(at + 1, close);
        at = close + 1;
      } else {
        const valueStart = at;
        while (at < text.length && !SPACE.test(text[at] ?? '') && text[at] !== '>') at++;
        value = text.slice(valueStart, at);
      }
    }
    // §13.2.5.33: a repeated attribute is dropped; the first one counts.
    if (!attributes.has(attrName)) attributes.set(attrName, value);
  }
}

/**
 * Scans `text` (the document's first bytes as Latin-1) up to the start of the body: the first
 * body element or text, `</head>`, or the end of `text`.
 */
export function scanHead(text: string): HeadScan {
  const scan: HeadScan = { doctypeEnd: undefined, html: undefined, head: undefined, headEnd: undefined, impliedHead: false, charset: undefined, labels: [], xhtml: text.startsWith('<?xml') };
  let at = text.startsWith('\xef\xbb\xbf') ? 3 : 0;
  while (at < text.length) {
    const lt = text.indexOf('<', at);
    const gap = text.slice(at, lt < 0 ? text.length : lt);
    // Text other than whitespace starts the body (outside the head; inside it, it ends the head).
    if (gap.trim() !== '' || lt < 0) return scan;
    at = lt;
    if (text.startsWith('<!--', at)) {
      at = skipPast(text, '-->', at + 4);
    } else if (/^<!doctype/i.test(text.slice(at, at + 9))) {
      at = skipPast(text, '>', at);
      scan.doctypeEnd = at;
    } else if (text[at + 1] === '!' || text[at + 1] === '?') {
      at = skipPast(text, '>', at);
    } else if (text[at + 1] === '/') {
      const close = skipPast(text, '>', at);
      if (/^<\/head[\s>]/i.test(text.slice(at, at + 7))) {
        scan.headEnd = { start: at, end: close };
        return scan;
      }
      at = close;
    } else if (/^<[a-zA-Z]/.test(text.slice(at, at + 2))) {
      const tag = parseStartTag(text, at);
      if (!tag || !visit(scan, tag)) return scan;
      at = RAW_TEXT.has(tag.name) ? skipRawText(text, tag) : tag.end;
    } else {
      return scan;
    }
  }
  return scan;
}

/** Records `tag`; false when it starts the body. */
function visit(scan: HeadScan, tag: HtmlTag): boolean {
  if (tag.name === 'html') {
    scan.html ??= tag;
    if (tag.attributes.get('xmlns') === 'http://www.w3.org/1999/xhtml') scan.xhtml = true;
    return true;
  }
  if (tag.name === 'head') {
    scan.head ??= tag;
    return true;
  }
  if (!HEAD_ELEMENTS.has(tag.name)) return false;
  if (!scan.head) scan.impliedHead = true;
  if (tag.name === 'meta') {
    if (tag.attributes.get('name')?.toLowerCase() === 'aigc') scan.labels.push(tag);
    const isCharset = tag.attributes.has('charset') || tag.attributes.get('http-equiv')?.toLowerCase() === 'content-type';
    if (isCharset) scan.charset ??= tag;
  }
  return true;
}

/** The end of a raw-text element's content and end tag (the end of `text` when it is cut). */
function skipRawText(text: string, tag: HtmlTag): number {
  const close = new RegExp(`</${tag.name}[\\s/>]`, 'ig');
  close.lastIndex = tag.end;
  const match = close.exec(text);
  return match ? skipPast(text, '>', match.index) : text.length;
}
