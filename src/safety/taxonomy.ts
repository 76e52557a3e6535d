/**
 * @module safety/taxonomy
 * The GB/T 45654-2025 (formerly TC260-003) content-safety risk taxonomy: 5 categories and
 * 31 risks (Appendix A), each with a stable code, names in Chinese and English, and the duties
 * in the Interim Measures for Generative AI Services (`genai-measures`) that it serves,
 * by the obligation ids of the rules knowledge base (`src/rules/data/genai-measures.yaml`)
 * together with instrument and article.
 */
import { CATEGORY_NAMES, RISK_NAMES } from './taxonomy-text.js';
import type { Bilingual } from './taxonomy-text.js';

export type { Bilingual } from './taxonomy-text.js';

/** The five categories of GB/T 45654 Appendix A. */
export const riskCategoryCodes = ['A1', 'A2', 'A3', 'A4', 'A5'] as const;
export type RiskCategoryCode = (typeof riskCategoryCodes)[number];

/** The 31 risks of GB/T 45654 Appendix A, in the standard's order. */
export const riskCodes = [
  'A1.1', 'A1.2', 'A1.3', 'A1.4', 'A1.5', 'A1.6', 'A1.7', 'A1.8',
  'A2.1', 'A2.2', 'A2.3', 'A2.4', 'A2.5', 'A2.6', 'A2.7', 'A2.8', 'A2.9',
  'A3.1', 'A3.2', 'A3.3', 'A3.4', 'A3.5',
  'A4.1', 'A4.2', 'A4.3', 'A4.4', 'A4.5', 'A4.6', 'A4.7',
  'A5.1', 'A5.2',
] as const;
export type RiskCode = (typeof riskCodes)[number];

/** A duty in the rules knowledge base: its obligation id, instrument and article (and item). */
export interface ObligationRef {
  id: string;
  instrument: string;
  article: number;
  item?: number;
}

export interface RiskCategory {
  code: RiskCategoryCode;
  name: Bilingual;
  risks: readonly RiskCode[];
  /** The duties a provider meets by controlling this category. */
  obligations: readonly ObligationRef[];
}

export interface Risk {
  code: RiskCode;
  category: RiskCategoryCode;
  name: Bilingual;
  obligations: readonly ObligationRef[];
}

/**
 * AI Measures Art. 4 lists the general duties item by item, in the same order as the
 * taxonomy's categories: (1) core values, (2) non-discrimination, (3) IP and fair
 * competition, (4) others' rights, (5) accuracy and reliability. Art. 14 adds the duty to stop
 * and remove illegal content, which is what A.1 is; Art. 11 covers personal information.
 */
const categoryObligations: Record<RiskCategoryCode, readonly ObligationRef[]> = {
  A1: [
    { id: 'genai-measures.core-values', instrument: 'genai-measures', article: 4, item: 1 },
    { id: 'genai-measures.illegal-content', instrument: 'genai-measures', article: 14 },
  ],
  A2: [{ id: 'genai-measures.non-discrimination', instrument: 'genai-measures', article: 4, item: 2 }],
  A3: [{ id: 'genai-measures.ip-fair-competition', instrument: 'genai-measures', article: 4, item: 3 }],
  A4: [{ id: 'genai-measures.others-rights', instrument: 'genai-measures', article: 4, item: 4 }],
  A5: [{ id: 'genai-measures.transparency-accuracy', instrument: 'genai-measures', article: 4, item: 5 }],
};

const extraRiskObligations: Partial<Record<RiskCode, readonly ObligationRef[]>> = {
  'A4.6': [{ id: 'genai-measures.input-records', instrument: 'genai-measures', article: 11 }],
};

/** The GB/T 45654 duty the keyword library and its coverage report serve (clause 8.1). */
export const keywordLibraryObligation: ObligationRef = Object.freeze({ id: 'gb-t-45654.keyword-library', instrument: 'gb-t-45654', article: 8 });

export const riskCategories: readonly RiskCategory[] = riskCategoryCodes.map((code) => ({
  code,
  name: CATEGORY_NAMES[code],
  risks: riskCodes.filter((risk) => risk.startsWith(`${code}.`)),
  obligations: categoryObligations[code],
}));

export const risks: readonly Risk[] = riskCodes.map((code) => {
  const category = code.slice(0, 2) as RiskCategoryCode;
  return {
    code,
    category,
    name: RISK_NAMES[code],
    obligations: [...categoryObligations[category], ...(extraRiskObligations[code] ?? [])],
  };
});

const riskByCode = new Map<string, Risk>(risks.map((r) => [r.code, r]));

export function isRiskCode(value: string): value is RiskCode {
  return riskByCode.has(value);
}

/** The risk with `code`, or undefined for a code outside the taxonomy. */
export function getRisk(code: string): Risk | undefined {
  return riskByCode.get(code);
}

/** The category a risk belongs to. */
export function categoryOf(code: RiskCode): RiskCategoryCode {
  return code.slice(0, 2) as RiskCategoryCode;
}
