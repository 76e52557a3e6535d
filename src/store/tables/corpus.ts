/**
 * @module store/tables/corpus
 * Tables of the training-data governance (issue 17): the source registry and its state
 * history, scans with their shards (the lease table several `hegui corpus worker` processes
 * share) and the flagged items kept for review, and the annotation QA records (rules documents,
 * annotator training, labels, gold labels). JSON columns are text in both dialects.
 */

export interface CorpusSourcesTable {
  id: string;
  name: string;
  origin: string;
  collection_method: string;
  /** SPDX identifier, `LicenseRef-...`, or `unknown`. */
  licence: string;
  /** The legal basis for personal information in it (PIPL Art. 13), or `unknown` / `none-contained`. */
  pi_legal_basis: string;
  language: string;
  /** 1 foreign, 0 domestic, NULL unknown. */
  foreign: number | null;
  /** 1 open-source, 0 not, NULL unknown. */
  open_source: number | null;
  size_bytes: number | null;
  items: number | null;
  collected_from: string | null;
  collected_to: string | null;
  owner: string;
  notes: string | null;
  /** candidate, approved or blocked. */
  state: string;
  state_reason: string;
  state_changed_at: string;
  state_changed_by: string;
  created_at: string;
  updated_at: string;
}

export interface CorpusSourceEventsTable {
  id: string;
  source: string;
  at: string;
  actor: string;
  from_state: string | null;
  to_state: string;
  reason: string;
  /** The scan an approval rests on. */
  scan_id: string | null;
}

export interface CorpusScansTable {
  id: string;
  source: string;
  /** sample or full. */
  mode: string;
  /** The scan's options (seed, sample size, field, library...), JSON. */
  options: string;
  /** queued, running, done, failed. */
  state: string;
  created_at: string;
  created_by: string;
  finished_at: string | null;
  shards: number;
  /** The merged report (JSON), once done. */
  report: string | null;
  /** Whether the merged report says the source meets the 5 % rule: 1, 0, NULL before it is done. */
  usable: number | null;
}

export interface CorpusShardsTable {
  scan_id: string;
  seq: number;
  /** The shard (file, format, range), JSON. */
  shard: string;
  /** pending, leased, done. */
  state: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  attempts: number;
  /** The shard's result (JSON), written in the transaction that marks it done. */
  result: string | null;
  items: number;
  bytes: number;
  completed_by: string | null;
  completed_at: string | null;
}

export interface CorpusFlaggedTable {
  scan_id: string;
  file: string;
  position: number;
  line: number | null;
  /** Risk codes, JSON. */
  risks: string;
  /** Keyword matches and personal-data hits (types and offsets), JSON. */
  matches: string;
  /** The text, cut to a bounded excerpt. */
  excerpt: string;
  /** open, confirmed, dismissed. */
  review: string;
}

export interface CorpusAnnotationRulesTable {
  id: string;
  version: number;
  title: string;
  body: string;
  created_at: string;
  created_by: string;
}

export interface CorpusAnnotatorTrainingTable {
  id: string;
  annotator: string;
  rules_id: string;
  rules_version: number;
  completed_at: string;
  score: number | null;
  passed: number;
  notes: string | null;
}

export interface CorpusAnnotationsTable {
  batch: string;
  item: string;
  annotator: string;
  label: string;
  rules_id: string | null;
  rules_version: number | null;
  created_at: string;
}

export interface CorpusGoldTable {
  batch: string;
  item: string;
  label: string;
}

export interface CorpusTables {
  corpus_sources: CorpusSourcesTable;
  corpus_source_events: CorpusSourceEventsTable;
  corpus_scans: CorpusScansTable;
  corpus_shards: CorpusShardsTable;
  corpus_flagged: CorpusFlaggedTable;
  corpus_annotation_rules: CorpusAnnotationRulesTable;
  corpus_annotator_training: CorpusAnnotatorTrainingTable;
  corpus_annotations: CorpusAnnotationsTable;
  corpus_gold: CorpusGoldTable;
}
