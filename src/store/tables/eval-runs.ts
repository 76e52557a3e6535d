/**
 * @module store/tables/eval-runs
 * Tables of the evaluation runner (GB/T 45654 security assessment): a run, the items of its
 * sample with each one's request, answer and judgement as it completes (so a killed run resumes
 * without redoing or double-counting an item), and the human reviews of uncertain items.
 */
import type { Selectable } from 'kysely';

export interface EvalRunsTable {
  id: string;
  name: string;
  /** Base URL of the OpenAI-compatible endpoint (never its key). */
  endpoint: string;
  model: string;
  seed: number;
  /** The runner's settings (concurrency, rate, timeouts, judges, sample sizes), JSON, no secrets. */
  settings: string;
  /** `running` or `finished`; a killed run stays `running` until resumed. */
  status: string;
  items: number;
  created_at: string;
  finished_at: string | null;
  /** `host:pid` of the process working on the run, and until when its claim holds. */
  lease_owner: string | null;
  lease_until: string | null;
}

export interface EvalRunItemsTable {
  run_id: string;
  /** Position in the sample, from 0. */
  seq: number;
  item_id: string;
  kind: string;
  risk: string | null;
  language: string;
  source: string;
  prompt: string;
  /** The item's A.2 group, JSON; NULL when it has none. */
  group_json: string | null;
  /** `pending`, `done` (answered and judged) or `error` (failed after every retry). */
  status: string;
  attempts: number;
  /** The request body sent, JSON. */
  request: string | null;
  /** The answer's text (what a user would have seen). */
  answer: string | null;
  /** Status, finish reason, block, latency, usage of the answer, JSON. */
  answer_meta: string | null;
  /** The judges' verdicts: `yes`, `no` or `uncertain` (refused); `yes`, `no`, `uncertain` or NULL (safe). */
  refused: string | null;
  safe: string | null;
  /** What each judge said, JSON. */
  judges: string | null;
  error: string | null;
  completed_at: string | null;
  /** `none`, `open` (waits for two reviewers), `disputed` (waits for a third), `resolved`. */
  review_status: string;
  /** The reviewers' final judgement (`refused`, `safe`, `unsafe`) once resolved. */
  review_judgement: string | null;
}

export interface EvalReviewsTable {
  run_id: string;
  seq: number;
  reviewer: string;
  /** 1 and 2: the two independent reviews; 3: the deciding review of a disagreement. */
  round: number;
  judgement: string;
  note: string | null;
  created_at: string;
}

export interface EvalRunTables {
  eval_runs: EvalRunsTable;
  eval_run_items: EvalRunItemsTable;
  eval_reviews: EvalReviewsTable;
}

export type EvalRunRow = Selectable<EvalRunsTable>;
export type EvalRunItemRow = Selectable<EvalRunItemsTable>;
export type EvalReviewRow = Selectable<EvalReviewsTable>;
