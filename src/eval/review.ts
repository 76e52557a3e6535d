/**
 * @module eval/review
 * The human review of uncertain items. Two reviewers judge each item independently (neither
 * sees the other's judgement); when they agree, that is the item's judgement; when they
 * disagree, a third reviewer decides. Cohen's kappa between the first two reviewers says how
 * far their agreement exceeds chance; it goes into the report beside the figures.
 */
import { HeguiError, InvalidInputError, NotFoundError } from '../errors.js';
import { type Agreement, cohensKappa } from '../stats/index.js';
import type { StoredEvalItem, Store } from '../store/index.js';

/** What a reviewer says of an answer: it refused, or it answered safely, or unsafely. */
export const reviewJudgements = ['refused', 'safe', 'unsafe'] as const;
export type ReviewJudgement = (typeof reviewJudgements)[number];

export class ReviewConflictError extends HeguiError {
  constructor(message: string) {
    super('E_EVAL_REVIEW_CONFLICT', message);
  }
}

export interface ReviewTask {
  runId: string;
  seq: number;
  itemId: string;
  kind: string;
  risk: string | null;
  language: string;
  prompt: string;
  answer: string | null;
  /** What the judges said and why (not what other reviewers said). */
  judges: Record<string, unknown> | null;
  /** `first` (one of two independent reviews) or `decide` (the two disagreed). */
  stage: 'first' | 'decide';
}

function task(item: StoredEvalItem): ReviewTask {
  return { runId: item.runId, seq: item.seq, itemId: item.itemId, kind: item.kind, risk: item.risk, language: item.language, prompt: item.prompt, answer: item.answer, judges: item.judges, stage: item.reviewStatus === 'disputed' ? 'decide' : 'first' };
}

/** The items `reviewer` may review now: open ones they have not reviewed, disputed ones they were not part of. */
export async function reviewQueue(store: Store, reviewer: string, options: { runId?: string; limit?: number } = {}): Promise<ReviewTask[]> {
  const items = await store.evalRuns.reviewQueue(options.runId, 2000);
  const out: ReviewTask[] = [];
  const reviewsByRun = new Map<string, Map<number, string[]>>();
  for (const item of items) {
    let byRun = reviewsByRun.get(item.runId);
    if (!byRun) {
      byRun = new Map();
      for (const r of await store.evalRuns.reviews(item.runId)) byRun.set(r.seq, [...(byRun.get(r.seq) ?? []), r.reviewer]);
      reviewsByRun.set(item.runId, byRun);
    }
    if ((byRun.get(item.seq) ?? []).includes(reviewer)) continue;
    out.push(task(item));
    if (out.length >= (options.limit ?? 100)) break;
  }
  return out;
}

export interface ReviewResult {
  status: StoredEvalItem['reviewStatus'];
  judgement: ReviewJudgement | null;
  round: number;
}

/**
 * Records `reviewer`'s judgement of one item. Rounds 1 and 2 are the two independent reviews;
 * agreement resolves the item, disagreement disputes it; round 3, by someone else, decides.
 */
export async function submitReview(store: Store, input: { runId: string; seq: number; reviewer: string; judgement: string; note?: string; now?: Date }): Promise<ReviewResult> {
  if (!(reviewJudgements as readonly string[]).includes(input.judgement)) throw new InvalidInputError('E_EVAL_REVIEW_INPUT', `judgement is one of ${reviewJudgements.join(', ')}`);
  const judgement = input.judgement as ReviewJudgement;
  const note = input.note === undefined || input.note === '' ? null : input.note.slice(0, 2000);
  try {
    return await store.transaction(async (tx) => {
      const item = await tx.evalRuns.item(input.runId, input.seq);
      if (!item) throw new NotFoundError('E_EVAL_REVIEW_UNKNOWN', `run ${input.runId} has no item ${input.seq}`);
      if (item.reviewStatus === 'none') throw new ReviewConflictError(`item ${input.seq} of run ${input.runId} is not in the review queue`);
      if (item.reviewStatus === 'resolved') throw new ReviewConflictError(`item ${input.seq} of run ${input.runId} is already resolved`);
      const reviews = await tx.evalRuns.reviews(input.runId, input.seq);
      if (reviews.some((r) => r.reviewer === input.reviewer)) throw new ReviewConflictError(`you have already reviewed item ${input.seq}; a second opinion must come from someone else`);
      const round = reviews.length + 1;
      await tx.evalRuns.addReview({ runId: input.runId, seq: input.seq, reviewer: input.reviewer, round, judgement, note, createdAt: (input.now ?? new Date()).toISOString() });
      if (round === 1) return { status: 'open', judgement: null, round };
      if (round === 2) {
        const first = reviews[0]?.judgement;
        if (first === judgement) {
          await tx.evalRuns.setReview(input.runId, input.seq, 'resolved', judgement);
          return { status: 'resolved', judgement, round };
        }
        await tx.evalRuns.setReview(input.runId, input.seq, 'disputed', null);
        return { status: 'disputed', judgement: null, round };
      }
      await tx.evalRuns.setReview(input.runId, input.seq, 'resolved', judgement);
      return { status: 'resolved', judgement, round };
    });
  } catch (error) {
    if (error instanceof HeguiError) throw error;
    // Two reviewers saving the same round at once: the store's uniqueness stopped one of them.
    const message = (error as Error)?.message ?? '';
    if (/unique|duplicate|constraint/i.test(message)) throw new ReviewConflictError(`someone else reviewed item ${input.seq} at the same moment; reload the queue and try again`);
    throw error;
  }
}

export interface RunAgreement extends Agreement {
  /** Items with two independent reviews. */
  reviewed: number;
  disputed: number;
  resolved: number;
  open: number;
}

/** Cohen's kappa between the first and second reviewer over a run's doubly reviewed items. */
export async function runAgreement(store: Store, runId: string): Promise<RunAgreement> {
  const reviews = await store.evalRuns.reviews(runId);
  const bySeq = new Map<number, (typeof reviews)[number][]>();
  for (const r of reviews) bySeq.set(r.seq, [...(bySeq.get(r.seq) ?? []), r]);
  const pairs: [string, string][] = [];
  for (const list of bySeq.values()) {
    const first = list.find((r) => r.round === 1);
    const second = list.find((r) => r.round === 2);
    if (first && second) pairs.push([first.judgement, second.judgement]);
  }
  const counts = await store.evalRuns.counts(runId);
  return { ...cohensKappa(pairs), reviewed: pairs.length, disputed: counts.reviewDisputed, resolved: counts.reviewResolved, open: counts.reviewOpen };
}
