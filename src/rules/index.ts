/**
 * @module rules
 * The regulatory knowledge base and the applicability engine.
 */
export { describeCondition, fieldsOf, holds } from './condition.js';
export {
  applicableObligations,
  type AppliedObligation,
  type ApplicabilityReport,
  type Exclusion,
  type NotApplicable,
  type UpcomingObligation,
} from './engine.js';
export { evidenceFile, InvalidEvidenceError, parseEvidence, type EvidenceEntry, type EvidenceFile } from './evidence.js';
export { gapReport, type ComplianceState, type GapEntry, type GapReport } from './gap.js';
export { defaultDataDir, loadInstruments, parseInstrument, RulesDataError } from './load.js';
export { modalities, sectors, serviceProfile, type ServiceProfile, type ServiceProfileInput } from './profile.js';
export { InvalidProfileError, parseServiceProfile, validateServiceProfile } from './profile-file.js';
export {
  chineseNumeral,
  citation,
  formatFigure,
  renderGapMarkdown,
  renderObligationsMarkdown,
  renderObligationsTable,
  type Lang,
} from './render.js';
export {
  bilingual,
  condition,
  controls,
  hierarchies,
  instrument,
  obligation,
  roles,
  type Bilingual,
  type Condition,
  type Control,
  type Figure,
  type Hierarchy,
  type Instrument,
  type Obligation,
  type Role,
} from './schema.js';
export { instrumentStatuses, statusOn, versionOn, type InstrumentStatus, type StatusOnDate } from './status.js';
