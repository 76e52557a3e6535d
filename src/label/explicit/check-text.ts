/**
 * @module label/explicit/check-text
 * The text checker (GB 45438 §5.1). It reads what a reader sees (HTML without tags, Markdown
 * without front matter, the cue text of subtitles), looks for a notice (an AI element and a generation element within a
 * statement of their own: `noticeStatement`, so "not AI-generated" or a sentence about
 * AI-generated images is no notice), and reports:
 * - `text.wording`: a notice with both elements, stated as a notice, was found;
 * - `text.position`: it sits at the start (first paragraph), the end (last paragraph), or in
 *   the middle as a paragraph of its own (a notice buried inside a long paragraph fails).
 */
import type { CheckSubject, ExplicitCheckReport, MediaChecker, RuleResult } from './check-types.js';
import { verdict } from './check-types.js';
import { cueText } from './subtitle.js';
import { visibleText, type TextFormat } from './text-format.js';
import { noticeStatement } from './wording.js';

const CLAUSE = 'GB 45438 §5.1';
/** A paragraph this short or shorter, holding a notice, is a notice paragraph. */
const NOTICE_PARAGRAPH = 120;
/** Largest text file checked (the whole text is read). */
const MAX_TEXT_BYTES = 64 << 20;

interface Paragraph {
  text: string;
  start: number;
}

function paragraphs(text: string): Paragraph[] {
  const found: Paragraph[] = [];
  for (const match of text.matchAll(/[^\n]+(?:\n(?![ \t]*\n)[^\n]*)*/g)) {
    if (match[0].trim() !== '') found.push({ text: match[0], start: match.index });
  }
  return found;
}

/** The notice in a paragraph: the first line that states it (`noticeStatement`); negated lines are not notices. */
function noticeIn(paragraph: string): { text: string; offset: number } | undefined {
  for (const line of paragraph.matchAll(/[^\n]+/g)) {
    if (noticeStatement(line[0]).kind === 'statement') return { text: line[0].trim(), offset: line.index };
  }
  return undefined;
}

function rule(name: string, status: RuleResult['status'], message: string, measured: RuleResult['measured'], required: RuleResult['required']): RuleResult {
  return { rule: `text.${name}`, clause: CLAUSE, status, message, measured, required };
}

/**
 * Checks a text's explicit notice. Prefers a notice at the start or end when there are several.
 *
 * @example
 * const report = checkText('本内容由人工智能生成\n\n正文', 'plain');
 * report.notices[0]?.position; // 'start'
 */
export function checkText(content: string, format: TextFormat | 'srt' | 'vtt'): ExplicitCheckReport {
  // Subtitles: what a viewer reads is the cue text, one paragraph per cue (timings and numbers are not read).
  const seen = format === 'srt' || format === 'vtt' ? cueText(content) : visibleText(content, format);
  const blocks = paragraphs(seen);
  const found = blocks.flatMap((block, index) => {
    const notice = noticeIn(block.text);
    return notice ? [{ index, block, notice }] : [];
  });
  const best = found.find((f) => f.index === 0 || f.index === blocks.length - 1) ?? found[0];
  const required = { aiElement: true, generationElement: true };
  if (!best) {
    const rules = [
      rule('wording', 'fail', 'no notice found: no line states that the content is AI-generated (an AI element "人工智能"/"AI" and a generation element "生成"/"合成", not negated)', { paragraphs: blocks.length }, required),
      rule('position', 'not-applicable', 'no notice to place', {}, { position: 'start, end or a middle paragraph boundary' }),
    ];
    return { kind: 'text', format, ...verdict(rules), rules, notices: [] };
  }
  const own = best.block.text.trim().length <= NOTICE_PARAGRAPH;
  const position = best.index === 0 ? 'start' : best.index === blocks.length - 1 ? 'end' : own ? 'middle' : 'inside a paragraph';
  const offset = best.block.start + best.notice.offset;
  const rules = [
    rule('wording', 'pass', `notice ${JSON.stringify(best.notice.text)} has an AI element and a generation element`, { text: best.notice.text }, required),
    rule(
      'position',
      position === 'inside a paragraph' ? 'fail' : 'pass',
      position === 'inside a paragraph'
        ? `the notice is inside paragraph ${best.index + 1} of ${blocks.length}, not at the start, the end or a paragraph boundary`
        : `the notice is at the ${position} (paragraph ${best.index + 1} of ${blocks.length})`,
      { position, paragraph: best.index + 1, paragraphs: blocks.length, offset },
      { position: 'start, end or a middle paragraph boundary' },
    ),
  ];
  return {
    kind: 'text',
    format,
    ...verdict(rules),
    rules,
    notices: [{ position, range: { start: offset, end: offset + best.notice.text.length }, text: best.notice.text }],
  };
}

/** The text checker, for the checker framework: reads the whole file as UTF-8. */
export const textChecker: MediaChecker = {
  kind: 'text',
  formats: ['plain', 'markdown', 'html', 'srt', 'vtt'],
  check: async (subject: CheckSubject) => {
    if (subject.source.size > MAX_TEXT_BYTES) {
      const big = rule('wording', 'unverified', `the text is larger than ${MAX_TEXT_BYTES >> 20} MiB and was not read`, { bytes: subject.source.size }, {});
      return { kind: 'text', format: subject.format, ...verdict([big]), rules: [big], notices: [] };
    }
    const content = new TextDecoder().decode(await subject.source.read(0, subject.source.size));
    return checkText(content, subject.format as TextFormat | 'srt' | 'vtt');
  },
};
