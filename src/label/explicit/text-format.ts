/**
 * @module label/explicit/text-format
 * What the text notice and the text checker need to know about plain text, Markdown and HTML:
 * which flavour a text is, where its paragraphs begin and end (the "suitable middle position"
 * of GB 45438 §5.1 is a paragraph boundary), where its content starts and ends (after YAML
 * front matter, inside `<body>`), and what a reader sees of it.
 */

/** The text flavours GB 45438 §5.1 notices are inserted into. */
export type TextFormat = 'plain' | 'markdown' | 'html';

const HTML_START = /^\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<!--)/i;
const HTML_ELEMENT = /<(p|div|span|h[1-6]|ul|ol|li|table|a|br|img|section|article|strong|em)(?:\s[^>]*)?\/?>/i;
const FRONT_MATTER = /^(?:\uFEFF)?---\r?\n[\s\S]*?\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/;
const MARKDOWN_SIGNS = /^(?:#{1,6}\s|```|~~~|>\s|[-*+]\s|\d+[.)]\s)|\[[^\]\n]+\]\([^)\n]+\)|\*\*[^*\n]+\*\*|^\|.*\|\s*$/m;

/**
 * The flavour of a text, from its content: HTML when it opens as a document or holds HTML
 * elements, Markdown when it has front matter or Markdown syntax, plain otherwise.
 */
export function detectTextFormat(content: string): TextFormat {
  if (HTML_START.test(content) || (HTML_ELEMENT.test(content) && /<\/[a-z][a-z0-9]*>/i.test(content))) return 'html';
  if (FRONT_MATTER.test(content) || MARKDOWN_SIGNS.test(content)) return 'markdown';
  return 'plain';
}

/** Ranges `[start, end)` of a text where nothing may be inserted (code blocks, scripts). */
type Ranges = [number, number][];

function inside(ranges: Ranges, offset: number): boolean {
  return ranges.some(([start, end]) => offset > start && offset < end);
}

/** Fenced code blocks of Markdown: a blank line inside one is not a paragraph boundary. */
function fencedBlocks(content: string): Ranges {
  const ranges: Ranges = [];
  const fence = /^(```+|~~~+)[^\n]*\n[\s\S]*?(?:^\1[ \t]*$|(?![\s\S]))/gm;
  for (const match of content.matchAll(fence)) ranges.push([match.index, match.index + match[0].length]);
  return ranges;
}

/** HTML elements whose content is not flowing text. */
function rawHtmlBlocks(content: string): Ranges {
  const ranges: Ranges = [];
  const raw = /<(pre|script|style|textarea|template)\b[\s\S]*?<\/\1\s*>|<!--[\s\S]*?-->/gi;
  for (const match of content.matchAll(raw)) ranges.push([match.index, match.index + match[0].length]);
  return ranges;
}

/** Where the content proper starts and ends: after front matter, or inside `<body>`. */
export function contentSpan(content: string, format: TextFormat): { start: number; end: number } {
  if (format === 'html') {
    const body = /<body(?:\s[^>]*)?>/i.exec(content);
    const close = /<\/body\s*>/i.exec(content) ?? /<\/html\s*>/i.exec(content);
    const head = /<\/head\s*>/i.exec(content);
    const start = body ? body.index + body[0].length : head ? head.index + head[0].length : 0;
    return { start, end: close && close.index >= start ? close.index : content.length };
  }
  const bom = content.startsWith('\uFEFF') ? 1 : 0;
  const front = format === 'markdown' ? FRONT_MATTER.exec(content) : null;
  return { start: front ? front[0].length : bom, end: content.length };
}

const HTML_BLOCK_END = /<\/(?:p|div|section|article|h[1-6]|ul|ol|dl|table|pre|blockquote|figure|header|footer|main|aside|nav|details)\s*>/gi;

/**
 * Offsets between two paragraphs where a notice paragraph may go, strictly inside the content
 * span: after a blank line (plain, Markdown outside code fences and before a non-indented
 * line), or after the end tag of a block element (HTML, outside `pre`, `script` and the like).
 */
export function paragraphBoundaries(content: string, format: TextFormat): number[] {
  const span = contentSpan(content, format);
  const found: number[] = [];
  if (format === 'html') {
    const excluded = rawHtmlBlocks(content);
    for (const match of content.matchAll(HTML_BLOCK_END)) {
      const offset = match.index + match[0].length;
      if (offset > span.start && offset < span.end && !inside(excluded, match.index)) found.push(offset);
    }
    return found.filter((offset) => content.slice(offset, span.end).trim() !== '');
  }
  const excluded = format === 'markdown' ? fencedBlocks(content) : [];
  for (const match of content.matchAll(/\n[ \t]*\r?\n\s*/g)) {
    const offset = match.index + match[0].length;
    if (offset <= span.start || offset >= span.end || inside(excluded, match.index)) continue;
    if (format === 'markdown' && /^[ \t]/.test(content.slice(match.index + 1, offset).split('\n').pop() ?? '')) continue;
    found.push(offset);
  }
  return found;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/**
 * What a reader sees: the content span, with Markdown front matter dropped and, for HTML,
 * scripts, styles and tags removed and block elements turned into paragraph breaks.
 */
export function visibleText(content: string, format: TextFormat): string {
  const span = contentSpan(content, format);
  const body = content.slice(span.start, span.end);
  if (format !== 'html') return body;
  const text = body
    .replace(/<(script|style|template|head)\b[\s\S]*?<\/\1\s*>|<!--[\s\S]*?-->/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/?(?:p|div|section|article|h[1-6]|ul|ol|li|dl|dt|dd|table|tr|pre|blockquote|figure|header|footer|main|aside|nav|details|summary|title)(?:\s[^>]*)?>/gi, '\n\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(text).replace(/[ \t]+/g, ' ').replace(/\n\s*\n\s*/g, '\n\n').trim();
}
