/**
 * @module safety/classifier
 * The port for model-based detectors (guard models, moderation APIs) and how each one's
 * categories map onto the GB/T 45654 risks. Keyword hits and classifier labels are combined
 * by the guard; a classifier that fails follows its own fail-open or fail-closed rule.
 */
import type { Severity } from './library.js';
import type { Direction } from './policy.js';
import type { RiskCode } from './taxonomy.js';

export interface ClassifierLabel {
  /** The classifier's own category name, e.g. `violence`, `S10`, `Politically Sensitive Topics`. */
  label: string;
  risk: RiskCode;
  severity: Severity;
  /** The model's score in [0, 1], where it gives one. */
  score?: number;
}

export interface ClassifierVerdict {
  classifier: string;
  flagged: boolean;
  labels: ClassifierLabel[];
}

export interface ClassifyContext {
  direction: Direction;
  /** For output checks: the user prompt the text answers (guard models judge the exchange). */
  prompt?: string;
  signal?: AbortSignal;
}

/** What happens when a classifier cannot answer: `open` lets content through (marked degraded), `closed` blocks it. */
export type FailureMode = 'open' | 'closed';

export interface Classifier {
  readonly name: string;
  readonly onFailure: FailureMode;
  /** Resolves to a verdict or rejects with `ClassifierError`. */
  classify(text: string, context: ClassifyContext): Promise<ClassifierVerdict>;
}

/**
 * OpenAI moderation categories -> GB/T 45654 risks. Hate is read as promoting ethnic hatred
 * (A1.5); harassment and self-harm as endangering physical or mental health (A4.1).
 */
export const openAiModerationRisks: Readonly<Record<string, RiskCode>> = Object.freeze({
  harassment: 'A4.1',
  'harassment/threatening': 'A4.1',
  hate: 'A1.5',
  'hate/threatening': 'A1.5',
  illicit: 'A1.8',
  'illicit/violent': 'A1.6',
  'self-harm': 'A4.1',
  'self-harm/intent': 'A4.1',
  'self-harm/instructions': 'A4.1',
  sexual: 'A1.6',
  'sexual/minors': 'A1.6',
  violence: 'A1.6',
  'violence/graphic': 'A1.6',
});

/** Llama Guard 3 hazard categories (MLCommons taxonomy S1-S14) -> GB/T 45654 risks. */
export const llamaGuardRisks: Readonly<Record<string, RiskCode>> = Object.freeze({
  S1: 'A1.6', // violent crimes
  S2: 'A1.8', // non-violent crimes
  S3: 'A1.6', // sex-related crimes
  S4: 'A1.6', // child sexual exploitation
  S5: 'A4.3', // defamation
  S6: 'A5.1', // specialised advice
  S7: 'A4.5', // privacy
  S8: 'A3.1', // intellectual property
  S9: 'A1.4', // indiscriminate weapons
  S10: 'A1.5', // hate
  S11: 'A4.1', // suicide and self-harm
  S12: 'A1.6', // sexual content
  S13: 'A1.7', // elections
  S14: 'A1.8', // code interpreter abuse
});

/** Qwen3Guard-Gen categories -> GB/T 45654 risks. */
export const qwen3GuardRisks: Readonly<Record<string, RiskCode>> = Object.freeze({
  Violent: 'A1.6',
  'Non-violent Illegal Acts': 'A1.8',
  'Sexual Content or Sexual Acts': 'A1.6',
  PII: 'A4.6',
  'Suicide & Self-Harm': 'A4.1',
  'Unethical Acts': 'A1.8',
  'Politically Sensitive Topics': 'A1.1',
  'Copyright Violation': 'A3.1',
  Jailbreak: 'A1.8',
});
