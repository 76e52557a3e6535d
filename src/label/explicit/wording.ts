/**
 * @module label/explicit/wording
 * The words of an explicit notice. GB 45438 §5 (and Labeling Measures Art. 4) require a
 * notice to carry an AI element ("人工智能" or "AI") and a generation element ("生成" or
 * "合成"). The defaults meet that in Chinese and English; a configured wording is validated
 * and refused with `NoticeWordingError` when an element is missing. The same element finder
 * serves the checker, which looks for notices in files from any source.
 */
import { InvalidInputError } from '../../errors.js';

/** Languages the built-in notices come in (DESIGN.md: Chinese by default for what end users read). */
export type NoticeLanguage = 'zh' | 'en';

/** Every user-facing text of this module. */
const TEXT = {
  notice: { zh: '本内容由人工智能生成', en: 'AI-generated' },
  /** For images and video frames, where every character costs width. */
  compact: { zh: 'AI生成', en: 'AI-generated' },
  missing: (what: string, wording: string) =>
    `notice wording ${JSON.stringify(wording)} lacks ${what} (GB 45438 §5: an AI element "人工智能" or "AI" and a generation element "生成" or "合成"; e.g. "本内容由人工智能生成" or "AI-generated")`,
  empty: 'notice wording is empty; give a text such as "本内容由人工智能生成" or "AI-generated"',
  aiElement: 'an AI element ("人工智能", "AI" or "artificial intelligence")',
  generationElement: 'a generation element ("生成", "合成", "generated" or "synthesized")',
} as const;

/** The default notice in each language, for text and audio. */
export const DEFAULT_NOTICE: Readonly<Record<NoticeLanguage, string>> = TEXT.notice;

/** The default short notice in each language, for images and video where width is scarce. */
export const COMPACT_NOTICE: Readonly<Record<NoticeLanguage, string>> = TEXT.compact;

/**
 * The AI element. "AI" counts as a word of its own: not inside a Latin word ("MAIL", "said"),
 * but before CJK text ("AI生成") or an upper-case run ("AIGC"). English equivalents count for
 * English content.
 */
const AI_ELEMENT = /人工智能|(?<![A-Za-z])AI(?![a-z])|\b[Aa]rtificial[\s-]+[Ii]ntelligence\b/gu;

/** The generation element; English equivalents count for English content. */
const GENERATION_ELEMENT = /生成|合成|\bgenerat(?:ed|es|e|ing|ion)\b|\bsynthe(?:sized|sised|sizes|sises|size|sise|tic|sis)\b/giu;

/** One element found in a text, with its place (offsets in the NFKC-normalised text). */
export interface ElementMatch {
  text: string;
  index: number;
}

/** The AI and generation elements found in a text. */
export interface NoticeElements {
  ai: ElementMatch[];
  generation: ElementMatch[];
}

function matches(pattern: RegExp, text: string): ElementMatch[] {
  return [...text.matchAll(pattern)].map((match) => ({ text: match[0], index: match.index }));
}

/**
 * Finds both kinds of element in `text` (normalised with NFKC first, so full-width "ＡＩ" counts).
 *
 * @example
 * noticeElements('AI生成').ai[0]?.text; // 'AI'
 */
export function noticeElements(text: string): NoticeElements {
  const normalised = text.normalize('NFKC');
  return { ai: matches(AI_ELEMENT, normalised), generation: matches(GENERATION_ELEMENT, normalised) };
}

/** True when `text` holds both an AI element and a generation element. */
export function hasNoticeElements(text: string): boolean {
  const found = noticeElements(text);
  return found.ai.length > 0 && found.generation.length > 0;
}

/** A notice wording lacks an element GB 45438 §5 requires, or is empty. */
export class NoticeWordingError extends InvalidInputError {
  /** The element(s) missing: `ai`, `generation`, or both. */
  readonly missing: readonly ('ai' | 'generation')[];

  constructor(wording: string, missing: readonly ('ai' | 'generation')[]) {
    const what = missing.map((element) => (element === 'ai' ? TEXT.aiElement : TEXT.generationElement)).join(' and ');
    super('E_LABEL_NOTICE_WORDING', wording.trim() === '' ? TEXT.empty : TEXT.missing(what, wording));
    this.missing = missing;
  }
}

/**
 * Returns `wording` on one line (white space runs become one space) when it carries both elements.
 *
 * @throws NoticeWordingError naming the missing element(s).
 */
export function validateNotice(wording: string): string {
  const trimmed = wording.trim().replace(/\s+/gu, ' ');
  const found = noticeElements(trimmed);
  const missing: ('ai' | 'generation')[] = [];
  if (found.ai.length === 0) missing.push('ai');
  if (found.generation.length === 0) missing.push('generation');
  if (missing.length > 0) throw new NoticeWordingError(trimmed, missing);
  return trimmed;
}

/** How a caller chooses a notice: its own wording, or a built-in one by language. */
export interface NoticeChoice {
  /** The notice's wording; validated. Wins over `language`. */
  text?: string;
  /** The built-in wording's language (default `zh`). */
  language?: NoticeLanguage;
}

/**
 * The notice to use: the caller's wording (validated) or the default for the language.
 *
 * @example
 * resolveNotice({});                  // '本内容由人工智能生成'
 * resolveNotice({ language: 'en' });  // 'AI-generated'
 * resolveNotice({ text: 'Made by a human' }); // throws NoticeWordingError
 */
export function resolveNotice(choice: NoticeChoice = {}, defaults: Readonly<Record<NoticeLanguage, string>> = DEFAULT_NOTICE): string {
  return choice.text === undefined ? defaults[choice.language ?? 'zh'] : validateNotice(choice.text);
}
