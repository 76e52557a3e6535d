/**
 * @module label/explicit/check-text
 * The text checker (GB 45438 §5.1). It reads what a reader sees (HTML without tags, Markdown
 * without front matter, the cue text of subtitles), looks for a notice (an AI element and a generation element within a
 * short span on one line), and reports:
 * - `text.wording`: a notice with both elements was found;
 * - `text.position`: it sits at the start (first paragraph), the end (last paragraph), or in
 *   the middle as a paragraph of its own (a notice buried inside a long paragraph fails).
 */
import type { CheckSubject, ExplicitCheckReport, MediaChecker, RuleResult } from './check-types.js';
import { reportPassed } from './check-types.js';
import { cueText } from './subtitle.js';
import { visibleText, type TextFormat } from './text-format.js';
import { noticeElements } from './wording.js';

const CLAUSE = 'GB 45438 §5.1';
/** Most characters between an AI element and a generation element of one notice. */
const ELEMENT_SPAN = 40;
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

/** The notice in a paragraph: the line span from an AI element to the nearest generation element. */
function noticeIn(paragraph: string): { text: string; offset: number } | undefined {
  for (const line of paragraph.matchAll(/[^\n]+/g)) {
    const { ai, generation } = noticeElements(line[0]);
    for (const a of ai) {
      for (const g of generation) {
        const start = Math.min(a.index, g.index);
        const end = Math.max(a.index + a.text.length, g.index + g.text.length);
        if (end - start - a.text.length - g.text.length <= ELEMENT_SPAN) return { text: line[0].trim(), offset: line.index };
      }
    }
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
      rule('wording', 'fail', 'no notice found: no line has an AI element ("人工智能", "AI") and a generation element ("生成", "合成") together', { paragraphs: blocks.length }, required),
      rule('position', 'not-applicable', 'no notice to place', {}, { position: 'start, end or a middle paragraph boundary' }),
    ];
    return { kind: 'text', format, passed: false, rules, notices: [] };
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
    passed: reportPassed(rules),
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
      return { kind: 'text', format: subject.format, passed: false, rules: [big], notices: [] };
    }
    const content = new TextDecoder().decode(await subject.source.read(0, subject.source.size));
    return checkText(content, subject.format as TextFormat | 'srt' | 'vtt');
  },
};
