/**
 * @module eval
 * The GB/T 45654 security assessment: question banks, their coverage, the self-assessment
 * report and the filing materials. (The runner, judges and metrics join this surface.)
 */
export * from './types.js';
export {
  type Bank,
  BANK_MAX_AGE_DAYS,
  bankFreshness,
  BankFormatError,
  BankNotFoundError,
  type BankProblem,
  BankProblemsError,
  bankStats,
  type BankStats,
  checkItem,
  deduplicate,
  detectLanguage,
  type Freshness,
  makeBank,
  normalisePrompt,
  promptDigest,
} from './bank.js';
export { bankColumns, type BankFormat, formatOfFile, readBank, writeBank } from './bank-io.js';
export { type CategoryTarget, defaultKinds, formatSources, importBank, type ImportFormat, importFormats, type ImportOptions, type ImportResult, parseCategoryMap } from './import.js';
export { coverageReport, type CoverageReport, minimums, renderCoverageText, type Requirement, type RiskRow } from './coverage.js';
export { buildReport, type ClauseAssessment, type ClauseState, type FigureRow, type ReportInput, type SelfAssessmentReport } from './report.js';
export { renderReportHtml } from './report-html.js';
export { renderReportDocx } from './report-docx.js';
export { parseEvalSummary } from './summary-file.js';
export { FILING_DUTIES, filingForm, filingPackage, type FilingInput, type FilingPackage, type FormField, type Material, type MaterialStatus, renderFilingMarkdown } from './filing.js';
export { settingsFromGatewayConfig } from './settings.js';
