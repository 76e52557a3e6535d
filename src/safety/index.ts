/**
 * @module safety
 * The content-safety engine: the GB/T 45654 risk taxonomy, a normaliser that sees through
 * evasions, a keyword matcher for whole texts and streams, personal-data detectors, policies,
 * and a port for model-based classifiers. A pure library: no I/O except the HTTP classifier
 * adapters, which use `fetch`.
 */
export type { ObligationRef, Risk, RiskCategory, RiskCategoryCode, RiskCode, Bilingual } from './taxonomy.js';
export { categoryOf, getRisk, isRiskCode, keywordLibraryObligation, riskCategories, riskCategoryCodes, riskCodes, risks } from './taxonomy.js';
export type { NoiseKind, NormaliserOptions } from './options.js';
export { defaultNoise, defaultNormaliserOptions, literalNormaliserOptions, noiseKinds, resolveOptions } from './options.js';
export { FoldTable } from './fold.js';
export type { NormalisedText } from './normalise.js';
export { normalise } from './normalise.js';
export type { KeywordEntry, KeywordLibrary, MatchMode, Severity } from './library.js';
export { createLibrary, LIBRARY_FORMAT, matchModes, serialiseLibrary, severities } from './library.js';
export { parseLibrary } from './library-schema.js';
export type { ImportDefaults, ImportFormat, ImportProblem, ImportResult } from './import.js';
export { importKeywords, mergeIntoLibrary } from './import.js';
export type { CoverageReport, LibraryStats, RiskCoverage } from './coverage.js';
export { coverageReport, keywordLibraryMinimums, libraryStats } from './coverage.js';
export type { CompiledLibrary, CompileOptions, IgnoredEntry } from './compile.js';
export { compileLibrary } from './compile.js';
export type { WordSegmenter } from './segmenter.js';
export { defaultSegmenter, jiebaWordFrequencies } from './segmenter.js';
export type { LintKind, LintOptions, LintWarning } from './lint.js';
export { lintKinds, lintLibrary } from './lint.js';
export type { Confidence, MatchTransform } from './confidence.js';
export { confidenceOf, confidences, matchTransforms } from './confidence.js';
export type { KeywordMatch, ScanStep } from './scanner.js';
export { IncrementalScanner, KeywordScanner, scanRisks, scanText } from './scanner.js';
export { MAX_NOISE_RUN } from './scan-core.js';
export { REGEX_LINE_LIMIT } from './regex-entries.js';
export type { PiiMatch, PiiOptions, PiiType, RedactionStyle } from './pii.js';
export { detectPii, maskPii, piiTypes, redactPii } from './pii.js';
export { isBankCardNumber, isIpv4, isIpv6, isResidentIdNumber, isUnifiedSocialCreditCode, passesLuhn } from './pii-checks.js';
export type { Action, Direction, PolicyOutcome, PolicyRule, PolicySubject, SafetyPolicy } from './policy.js';
export { actions, decideAction, defaultPolicy, stricter, validatePolicy } from './policy.js';
export type { Classifier, ClassifierLabel, ClassifierVerdict, ClassifyContext, FailureMode } from './classifier.js';
export { llamaGuardRisks, openAiModerationRisks, qwen3GuardRisks } from './classifier.js';
export type { CircuitState, ReliabilityOptions } from './classifier-reliable.js';
export { ReliableClassifier } from './classifier-reliable.js';
export type { HttpClassifierOptions } from './classifier-http.js';
export { llamaGuardClassifier, openAiModerationClassifier, qwen3GuardClassifier } from './classifier-http.js';
export type { CheckOptions, ClassifierFailure, DecidedKeyword, DecidedLabel, DecidedPii, GuardOptions, LocalFindings, SafetyDecision } from './guard.js';
export { SafetyGuard } from './guard.js';
export type { GuardStreamStep } from './guard-stream.js';
export { GuardStream } from './guard-stream.js';
export type { PiiStep } from './pii-stream.js';
export { IncrementalPiiDetector, PII_HOLD_LIMIT } from './pii-stream.js';
export { DEFAULT_SAFE_REPLY } from './messages.js';
export { exampleLibrary } from './example-library.js';
export { readLibraryFile, writeLibraryFile } from './library-file.js';
export { ClassifierError, KeywordLibraryError, SafetyPolicyError, ScannerStateError } from './errors.js';
