/**
 * @module corpus
 * Training-data governance (issue 17): the source register, streaming readers, seeded sample
 * and full-pass safety scans with the 5 % verdict, scans shared by workers through the store,
 * duplicates, annotation QA and the self-assessment's corpus section.
 */
export { CorpusInputError, CorpusJobError, CorpusStateError } from './errors.js';
export type { CorpusFile, CorpusFormat, CorpusItem, Compression, FileTally, ProblemKind, ReadOptions, ReadProblem, Shard } from './read.js';
export { corpusFormats, defaultReadOptions, emptyTally, expandPaths, planShards, problemKinds, readFile, readShard } from './read.js';
export type { Inspection, Inspector, Language, TextStats } from './inspect.js';
export { createInspector, languageOf } from './inspect.js';
export type { Candidate, FlaggedItem, RateReport, ScanReport, ScanSettings, ShardResult } from './scan.js';
export { allocate, DEFAULT_SAMPLE_SIZE, HARMFUL_SHARE_LIMIT, mergeResults, scanShard } from './scan.js';
export type { LocalScanOptions, LocalScanResult, Progress } from './run.js';
export { runLocalScan } from './run.js';
export type { CreateScanSpec, QueuedScanOptions, WorkerEvent, WorkerOptions } from './queue.js';
export { createQueuedScan, mergeQueuedScan, recordLocalScan, runWorker } from './queue.js';
export type { AuditSink, SourceInput } from './registry.js';
export { checkLicence, collectionMethods, exportSourcesCsv, exportSourcesYaml, MIN_APPROVAL_SAMPLE, parseSourceInput, parseSourcesDocument, piLegalBases, SourceRegistry, sourceStates } from './registry.js';
export type { DuplicateReport } from './quality.js';
export { findDuplicates, minhash, similarity } from './quality.js';
export type { AnnotationQa, AnnotatorQa, BatchQa, PairAgreement } from './annotation.js';
export { annotationQa, parseLabels } from './annotation.js';
export type { CorpusReport, CorpusReportSource } from './report.js';
export { corpusReport } from './report.js';
