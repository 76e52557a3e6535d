/**
 * @module desk
 * The compliance desk (issue 15): complaints, reports and personal-information requests on
 * China's working-day clocks. Incidents and the `SubjectData` implementation live beside it.
 */
export { dueAtIntake, dueAtResume, remainingAtPause, workingDaysBetween, type Due } from './deadline.js';
export { DeskCodeError, DeskError, DeskInputError, DeskNotFoundError, DeskPreconditionError, DeskRateLimitError, DeskTransitionError, DeskUploadError } from './errors.js';
export { exportFiles, exportHtml, type ExportedCase } from './export.js';
export {
  CASE_KINDS,
  CASE_STATES,
  CATEGORY_NAMES,
  categoriesOf,
  COMPLAINT_CATEGORIES,
  isCaseKind,
  isCaseState,
  KIND_NAMES,
  PI_RIGHTS,
  STATE_NAMES,
  TRANSITIONS,
  type CaseKind,
  type CaseState,
  type PiRight,
} from './model.js';
export { Outbox, smtpTransport, type MailTransport, type OutboxOptions } from './outbox.js';
export { rulesPage, rulesText } from './rules-page.js';
export { checkChallenge, newChallenge, solveChallenge } from './secrets.js';
export { DEFAULT_DESK_SETTINGS, parseDeskSettings, readDeskSettings, updateDeskSettings, type DeskSettings } from './settings.js';
export { checkEvidence, EVIDENCE_TYPES, sniffType } from './sniff.js';
export { DeskService, MAX_SUBJECT, MAX_TEXT, type CaseSummary, type DeskServiceOptions, type IntakeInput, type IntakeResult, type Lang } from './service.js';
export type { ErasureReport, SubjectData, SubjectRecords, SubjectRef } from './subject-port.js';
export { fillTemplate, REPLY_TEMPLATES, type ReplyTemplate } from './templates.js';
export { zip, type ZipEntry } from './zip.js';
