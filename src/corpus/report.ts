/**
 * @module corpus/report
 * The corpus section of the self-assessment (filing): the registered sources with their
 * licences, legal bases and states; each source's newest finished scan (sample size, harmful
 * rate with its interval, verdict, personal-data rate); the licence and foreign-corpus shares
 * across the register; running scans' progress; and the annotation QA. Plain JSON data, so the
 * filing report can include it as it is. Unknowns are listed as unknown, never as fine.
 */
import type { CorpusScanRecord, CorpusSourceRecord, Store } from '../store/index.js';
import type { AnnotationQa } from './annotation.js';
import { annotationQa } from './annotation.js';
import type { ScanReport } from './scan.js';

/** A registered source as the report shows it: the register's own fields, and its newest scan. */
export type CorpusReportSource = Pick<
  CorpusSourceRecord,
  'id' | 'name' | 'origin' | 'collectionMethod' | 'licence' | 'piLegalBasis' | 'language' | 'foreign' | 'openSource' | 'sizeBytes' | 'owner' | 'state' | 'stateReason' | 'stateChangedAt'
> & {
  scan: null | {
    id: string;
    mode: 'sample' | 'full';
    finishedAt: string | null;
    population: number;
    sampled: number;
    flagged: number;
    harmful: { rate: number; low: number; high: number };
    usable: boolean;
    certain: boolean;
    reason: string;
    piiRate: { rate: number; low: number; high: number };
    problems: number;
  };
};

export interface CorpusReport {
  generatedAt: string;
  rule: { minSample: number; maxHarmfulShare: number; interval: string };
  sources: CorpusReportSource[];
  states: Record<'candidate' | 'approved' | 'blocked', number>;
  licences: { byLicence: Record<string, number>; unknown: string[] };
  /** Foreign sources, by count and by registered size; sources whose origin is not recorded are counted apart. */
  foreign: { sources: { foreign: number; domestic: number; unknown: number; share: number | null }; bytes: { foreign: number; domestic: number; unknownSize: number; share: number | null } };
  personalInformation: { byLegalBasis: Record<string, number>; unknown: string[]; withPersonalDataFound: string[] };
  /** Approved sources whose newest scan does not support the approval any more (re-scanned since and failed). */
  attention: { source: string; problem: string }[];
  running: { id: string; source: string; mode: string; shards: number; done: number; leased: number; items: number; bytes: number; createdAt: string }[];
  annotation: AnnotationQa;
}

function scanSummary(scan: CorpusScanRecord | undefined): CorpusReportSource['scan'] {
  if (scan === undefined || scan.report === null) return null;
  const r = scan.report as unknown as ScanReport;
  return {
    id: scan.id,
    mode: scan.mode,
    finishedAt: scan.finishedAt,
    population: r.population,
    sampled: r.sampled,
    flagged: r.flagged,
    harmful: { rate: r.harmful.rate, low: r.harmful.low, high: r.harmful.high },
    usable: r.verdict.usable,
    certain: r.verdict.certain,
    reason: r.verdict.reason,
    piiRate: { rate: r.pii.rate, low: r.pii.low, high: r.pii.high },
    problems: r.problems,
  };
}

export async function corpusReport(store: Store, now: Date = new Date()): Promise<CorpusReport> {
  const sources = await store.corpus.listSources();
  const out: CorpusReportSource[] = [];
  for (const s of sources) {
    const scan = scanSummary(await store.corpus.latestFinishedScan(s.id));
    out.push({ id: s.id, name: s.name, origin: s.origin, collectionMethod: s.collectionMethod, licence: s.licence, piLegalBasis: s.piLegalBasis, language: s.language, foreign: s.foreign, openSource: s.openSource, sizeBytes: s.sizeBytes, owner: s.owner, state: s.state, stateReason: s.stateReason, stateChangedAt: s.stateChangedAt, scan });
  }
  const states = { candidate: 0, approved: 0, blocked: 0 };
  const byLicence: Record<string, number> = {};
  const byLegalBasis: Record<string, number> = {};
  const foreign = { sources: { foreign: 0, domestic: 0, unknown: 0, share: null as number | null }, bytes: { foreign: 0, domestic: 0, unknownSize: 0, share: null as number | null } };
  for (const s of out) {
    states[s.state as keyof typeof states] += 1;
    byLicence[s.licence] = (byLicence[s.licence] ?? 0) + 1;
    byLegalBasis[s.piLegalBasis] = (byLegalBasis[s.piLegalBasis] ?? 0) + 1;
    if (s.foreign === null) foreign.sources.unknown += 1;
    else {
      foreign.sources[s.foreign ? 'foreign' : 'domestic'] += 1;
      if (s.sizeBytes === null) foreign.bytes.unknownSize += 1;
      else foreign.bytes[s.foreign ? 'foreign' : 'domestic'] += s.sizeBytes;
    }
  }
  const known = foreign.sources.foreign + foreign.sources.domestic;
  // A share is given only when every source's origin (and, for bytes, size) is known: a partial figure would understate it.
  foreign.sources.share = foreign.sources.unknown === 0 && known > 0 ? foreign.sources.foreign / known : null;
  const knownBytes = foreign.bytes.foreign + foreign.bytes.domestic;
  foreign.bytes.share = foreign.sources.unknown === 0 && foreign.bytes.unknownSize === 0 && knownBytes > 0 ? foreign.bytes.foreign / knownBytes : null;
  const attention: CorpusReport['attention'] = [];
  for (const s of out) {
    if (s.state !== 'approved') continue;
    if (s.scan === null) attention.push({ source: s.id, problem: 'approved without a finished scan on record' });
    else if (!s.scan.usable) attention.push({ source: s.id, problem: `newest scan ${s.scan.id} finds it not usable: ${s.scan.reason}` });
    if (s.licence === 'unknown') attention.push({ source: s.id, problem: 'approved with an unknown licence' });
  }
  const running: CorpusReport['running'] = [];
  for (const scan of await store.corpus.listScans(undefined, 50)) {
    if (scan.state !== 'running') continue;
    const p = await store.corpus.shardProgress(scan.id);
    running.push({ id: scan.id, source: scan.source, mode: scan.mode, shards: p.total, done: p.done, leased: p.leased, items: p.items, bytes: p.bytes, createdAt: scan.createdAt });
  }
  const annotation = annotationQa(await store.corpusAnnotation.annotations(), await store.corpusAnnotation.gold(), await store.corpusAnnotation.training(), await store.corpusAnnotation.listRules());
  return {
    generatedAt: now.toISOString(),
    rule: { minSample: 4000, maxHarmfulShare: 0.05, interval: 'Wilson score, 95 %' },
    sources: out,
    states,
    licences: { byLicence, unknown: out.filter((s) => s.licence === 'unknown').map((s) => s.id) },
    foreign,
    personalInformation: { byLegalBasis, unknown: out.filter((s) => s.piLegalBasis === 'unknown').map((s) => s.id), withPersonalDataFound: out.filter((s) => (s.scan?.piiRate.rate ?? 0) > 0).map((s) => s.id) },
    attention,
    running,
    annotation,
  };
}
