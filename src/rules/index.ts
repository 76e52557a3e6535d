/**
 * @module rules
 * The regulatory knowledge base and the applicability engine.
 */
export { type DecidingAnswer, decidingAnswers, describeCondition, evaluate, fieldsOf, holds, trace, type Trace, type Truth } from './condition.js';
export {
  applicableObligations,
  type AppliedObligation,
  type ApplicabilityReport,
  type Assumption,
  bindingOf,
  explainObligation,
  type Explanation,
  roleCondition,
  type WithoutItemisedDuties,
  type Exclusion,
  type NotApplicable,
  type UpcomingObligation,
} from './engine.js';
export { evidenceFile, InvalidEvidenceError, parseEvidence, type EvidenceEntry, type EvidenceFile } from './evidence.js';
export { gapReport, type ComplianceState, type GapEntry, type GapReport } from './gap.js';
export { defaultDataDir, loadInstruments, parseInstrument, RulesDataError } from './load.js';
export { type Audience, audiences, modalities, sectors, serviceProfile, type ServiceProfile, type ServiceProfileInput } from './profile.js';
export { type FieldKind, type ProfileField, profileFields, profileFieldsByPath, relevant, unknownFields, valueAt } from './profile-fields.js';
export { checkServiceProfile, InvalidProfileError, type ParsedProfile, parseServiceProfile, readServiceProfile, validateServiceProfile } from './profile-file.js';
export {
  chineseNumeral,
  citation,
  formatFigure,
  renderGapMarkdown,
  renderObligationsMarkdown,
  renderObligationsTable,
  renderExplanation,
  BINDING,
  CHECK,
  describeAssumption,
  type Lang,
} from './render.js';
export {
  bilingual,
  bindingForces,
  citationChecks,
  condition,
  defaultBinding,
  controls,
  hierarchies,
  instrument,
  obligation,
  roles,
  type Bilingual,
  type BindingForce,
  type CitationCheck,
  type Condition,
  type Control,
  type Figure,
  type Hierarchy,
  type Instrument,
  type Obligation,
  type Role,
} from './schema.js';
export { instrumentStatuses, statusOn, versionOn, type InstrumentStatus, type StatusOnDate } from './status.js';
