/**
 * @module corpus/annotation
 * Annotation quality (AI Measures Art. 8; GB/T 45654 §5.3): labels checked by sampling, with
 * double annotation and a gold set. Per batch: agreement between each pair of annotators on
 * the items both labelled (Cohen's kappa, the statistic the evaluation uses too), and accuracy
 * against the gold labels with a Wilson 95 % interval. Per annotator: accuracy against gold,
 * items labelled, and whether they are trained on the rules version their labels cite.
 */
import type { AnnotationRecord, AnnotationRulesRecord, AnnotatorTrainingRecord, GoldRecord } from '../store/index.js';
import type { Agreement, Proportion } from '../stats/index.js';
import { cohensKappa, wilson } from '../stats/index.js';
import { CorpusInputError } from './errors.js';
import { parseCsvText } from './read-csv.js';

export interface PairAgreement extends Agreement {
  annotators: [string, string];
}

export interface BatchQa {
  batch: string;
  items: number;
  labels: number;
  annotators: string[];
  /** Items labelled by two annotators or more. */
  doubleAnnotated: number;
  pairs: PairAgreement[];
  /** Labels on gold items that match the gold label. */
  accuracy: Proportion;
}

export interface AnnotatorQa {
  annotator: string;
  labels: number;
  batches: number;
  accuracy: Proportion;
  /** Rules versions the annotator's labels cite that the annotator has no passed training for. */
  untrainedFor: string[];
  trainings: number;
}

export interface AnnotationQa {
  batches: BatchQa[];
  annotators: AnnotatorQa[];
  rules: Omit<AnnotationRulesRecord, 'body'>[];
}

export function annotationQa(annotations: readonly AnnotationRecord[], gold: readonly GoldRecord[], training: readonly AnnotatorTrainingRecord[], rules: readonly Omit<AnnotationRulesRecord, 'body'>[]): AnnotationQa {
  const goldOf = new Map(gold.map((g) => [`${g.batch}\0${g.item}`, g.label]));
  const byBatch = new Map<string, AnnotationRecord[]>();
  for (const a of annotations) byBatch.set(a.batch, [...(byBatch.get(a.batch) ?? []), a]);
  const batches: BatchQa[] = [];
  for (const [batch, list] of [...byBatch].sort(([a], [b]) => a.localeCompare(b))) {
    const byItem = new Map<string, Map<string, string>>();
    for (const a of list) {
      const labels = byItem.get(a.item) ?? new Map<string, string>();
      labels.set(a.annotator, a.label);
      byItem.set(a.item, labels);
    }
    const annotators = [...new Set(list.map((a) => a.annotator))].sort();
    const pairs: PairAgreement[] = [];
    for (let i = 0; i < annotators.length; i += 1) {
      for (let j = i + 1; j < annotators.length; j += 1) {
        const x = annotators[i]!;
        const y = annotators[j]!;
        const both: [string, string][] = [];
        for (const labels of byItem.values()) if (labels.has(x) && labels.has(y)) both.push([labels.get(x)!, labels.get(y)!]);
        if (both.length > 0) pairs.push({ annotators: [x, y], ...cohensKappa(both) });
      }
    }
    let onGold = 0;
    let correct = 0;
    for (const a of list) {
      const truth = goldOf.get(`${batch}\0${a.item}`);
      if (truth === undefined) continue;
      onGold += 1;
      if (truth === a.label) correct += 1;
    }
    batches.push({ batch, items: byItem.size, labels: list.length, annotators, doubleAnnotated: [...byItem.values()].filter((m) => m.size >= 2).length, pairs, accuracy: wilson(correct, onGold) });
  }
  const people = [...new Set(annotations.map((a) => a.annotator))].sort();
  const annotatorsQa = people.map((annotator): AnnotatorQa => {
    const mine = annotations.filter((a) => a.annotator === annotator);
    let onGold = 0;
    let correct = 0;
    for (const a of mine) {
      const truth = goldOf.get(`${a.batch}\0${a.item}`);
      if (truth === undefined) continue;
      onGold += 1;
      if (truth === a.label) correct += 1;
    }
    const passed = new Set(training.filter((t) => t.annotator === annotator && t.passed).map((t) => `${t.rulesId}@${t.rulesVersion}`));
    const cited = new Set(mine.filter((a) => a.rulesId !== null).map((a) => `${a.rulesId}@${a.rulesVersion ?? '?'}`));
    return { annotator, labels: mine.length, batches: new Set(mine.map((a) => a.batch)).size, accuracy: wilson(correct, onGold), untrainedFor: [...cited].filter((c) => !passed.has(c)).sort(), trainings: training.filter((t) => t.annotator === annotator).length };
  });
  return { batches, annotators: annotatorsQa, rules: [...rules] };
}

/** Labels from CSV (`batch,item,annotator,label[,rules,rulesVersion]`) or JSONL objects with those fields; gold labels need no annotator. */
export function parseLabels(text: string, format: 'csv' | 'jsonl', now: string, options: { gold?: boolean } = {}): AnnotationRecord[] {
  const rows: Record<string, unknown>[] = [];
  if (format === 'csv') {
    const { records, errors } = parseCsvText(text);
    if (errors.length > 0) throw new CorpusInputError('E_CORPUS_LABELS', `CSV: ${errors.join('; ')}`);
    const [header, ...rest] = records;
    for (const r of rest) rows.push(Object.fromEntries((header ?? []).map((h, i) => [h, r[i]])));
  } else {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        rows.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        throw new CorpusInputError('E_CORPUS_LABELS', `line ${i + 1}: not JSON`);
      }
    });
  }
  return rows.map((row, i) => {
    for (const field of options.gold ? ['batch', 'item', 'label'] : ['batch', 'item', 'annotator', 'label']) {
      if (typeof row[field] !== 'string' && typeof row[field] !== 'number') throw new CorpusInputError('E_CORPUS_LABELS', `record ${i + 1}: "${field}" is missing`);
    }
    const version = row.rulesVersion === undefined || row.rulesVersion === '' ? null : Number(row.rulesVersion);
    if (version !== null && !Number.isInteger(version)) throw new CorpusInputError('E_CORPUS_LABELS', `record ${i + 1}: rulesVersion must be a whole number`);
    return { batch: String(row.batch), item: String(row.item), annotator: options.gold ? 'gold' : String(row.annotator), label: String(row.label), rulesId: row.rules === undefined || row.rules === '' ? null : String(row.rules), rulesVersion: version, createdAt: now };
  });
}
