/**
 * @module label/explicit/text
 * Explicit notices on text (GB 45438 §5.1: at the start, the end or a suitable middle
 * position). Plain text, Markdown and HTML get the notice as a paragraph of their own:
 * after Markdown front matter (where the implicit label lives), inside HTML `<body>`, and in
 * the middle only at a paragraph boundary. The streaming form puts a prefix before the first
 * token or a suffix after the last, which is what a gateway relaying a model's tokens needs.
 */
import { contentSpan, detectTextFormat, paragraphBoundaries, type TextFormat } from './text-format.js';
import { resolveNotice, type NoticeChoice } from './wording.js';


/** Where a text notice goes (GB 45438 §5.1). */
export type TextPosition = 'start' | 'end' | 'middle';

export interface TextNoticeOptions extends NoticeChoice {
  /** Default `start`. */
  position?: TextPosition;
  /** Default: detected from the content. */
  format?: TextFormat;
}

export interface TextLabelResult {
  /** The labelled text. */
  text: string;
  format: TextFormat;
  /** Where the notice went: `middle` falls back to `end` when the text has no paragraph boundary. */
  position: TextPosition;
  /** The notice's wording. */
  notice: string;
  /** Offset of the notice block in `text`. */
  offset: number;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The notice as a block of the given flavour: the wording itself, an emphasised Markdown
 * paragraph, or an HTML paragraph marked `data-aigc-notice` (so pages can style it).
 */
export function noticeBlock(notice: string, format: TextFormat): string {
  if (format === 'html') return `<p data-aigc-notice role="note">${escapeHtml(notice)}</p>`;
  if (format === 'markdown') return `*${notice.replace(/([\\`*_[\]<>#|])/g, '\\$1')}*`;
  return notice;
}

/** What separates the notice block from the content around it. */
function separator(format: TextFormat): string {
  return format === 'html' ? '\n' : '\n\n';
}

function insertAt(content: string, offset: number, block: string, format: TextFormat): { text: string; offset: number } {
  const gap = separator(format);
  const before = content.slice(0, offset);
  const after = content.slice(offset);
  if (format === 'html') return { text: `${before}${gap}${block}${gap}${after}`, offset: offset + gap.length };
  if (after.trim() === '') {
    const body = before.trimEnd();
    const lead = body === '' ? '' : gap;
    const tail = content.slice(body.length).includes('\n') ? '\n' : '';
    return { text: `${body}${lead}${block}${tail}`, offset: body.length + lead.length };
  }
  return { text: `${before}${block}${gap}${after}`, offset };
}

function middleOffset(content: string, format: TextFormat): number | undefined {
  const half = content.length / 2;
  let best: number | undefined;
  for (const offset of paragraphBoundaries(content, format)) {
    if (best === undefined || Math.abs(offset - half) < Math.abs(best - half)) best = offset;
  }
  return best;
}

/**
 * Inserts the notice into a text as a paragraph of its own.
 *
 * @example
 * labelText('第一段。\n\n第二段。').text;                    // '本内容由人工智能生成\n\n第一段。\n\n第二段。'
 * labelText(md, { position: 'middle', language: 'en' });   // '*AI-generated*' at the paragraph boundary nearest the middle
 * labelText(html, { position: 'end' });                    // '<p data-aigc-notice ...>' just before </body>
 */
export function labelText(content: string, options: TextNoticeOptions = {}): TextLabelResult {
  const notice = resolveNotice(options);
  const format = options.format ?? detectTextFormat(content);
  const block = noticeBlock(notice, format);
  const span = contentSpan(content, format);
  const wanted = options.position ?? 'start';
  const middle = wanted === 'middle' ? middleOffset(content, format) : undefined;
  const position: TextPosition = wanted === 'middle' && middle === undefined ? 'end' : wanted;
  const at = position === 'start' ? span.start : position === 'end' ? span.end : (middle ?? span.end);
  const placed = insertAt(content, at, block, format);
  return { text: placed.text, format, position, notice, offset: placed.offset };
}

/** A streamed text's notice: a prefix sent before the first token, or a suffix after the last. */
export interface StreamNotice {
  prefix: string;
  suffix: string;
}

/**
 * The strings a gateway adds to a token stream for a notice at the start (`prefix`) or at the
 * end (`suffix`); the other one is empty.
 *
 * @example
 * const { prefix } = streamNotice({ position: 'start' }); // '本内容由人工智能生成\n\n'
 */
export function streamNotice(options: NoticeChoice & { position?: 'start' | 'end'; format?: TextFormat } = {}): StreamNotice {
  const format = options.format ?? 'plain';
  const block = noticeBlock(resolveNotice(options), format);
  const gap = separator(format);
  return options.position === 'end' ? { prefix: '', suffix: `${gap}${block}` } : { prefix: `${block}${gap}`, suffix: '' };
}

/**
 * Labels a stream of text tokens: the prefix goes out just before the first non-empty token,
 * the suffix after the last. An empty stream stays empty (there is no content to label).
 *
 * @example
 * for await (const piece of labelTextStream(model.tokens(), { position: 'end', language: 'en' })) res.write(piece);
 */
export async function* labelTextStream(
  tokens: AsyncIterable<string>,
  options: NoticeChoice & { position?: 'start' | 'end'; format?: TextFormat } = {},
): AsyncGenerator<string> {
  const { prefix, suffix } = streamNotice(options);
  let started = false;
  for await (const token of tokens) {
    if (token === '') continue;
    if (!started && prefix !== '') yield prefix;
    started = true;
    yield token;
  }
  if (started && suffix !== '') yield suffix;
}

/** The same as `labelTextStream`, as a web `TransformStream` of strings. */
export function textNoticeTransform(options: NoticeChoice & { position?: 'start' | 'end'; format?: TextFormat } = {}): TransformStream<string, string> {
  const { prefix, suffix } = streamNotice(options);
  let started = false;
  return new TransformStream<string, string>({
    transform(token, controller) {
      if (token === '') return;
      if (!started && prefix !== '') controller.enqueue(prefix);
      started = true;
      controller.enqueue(token);
    },
    flush(controller) {
      if (started && suffix !== '') controller.enqueue(suffix);
    },
  });
}
