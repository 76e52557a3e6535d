/**
 * @module audit/walk
 * Walks stored events in sequence order and names what was done to them. A row is judged by
 * three facts: whether its hash matches its fields (altered if not), whether its previous hash
 * is the hash of the row before it (a break otherwise), and its sequence number. At a break
 * the walker tells the cases apart:
 *
 * - the next row links past this one to the row before it: this one was **inserted**;
 * - this row links to an earlier row than its predecessor: the rows in between were **inserted**;
 * - this row's hash matches a later sequence number: the rows in between were **deleted**;
 * - it matches its own number: the predecessor was **altered** and its hash recomputed;
 * - it matches none: this row was **altered** (its link or content changed).
 *
 * A row whose hash matches an original number other than its stored one was **renumbered**
 * (rows shifted to hide an insertion or deletion). Memory stays bounded: one row of lookahead
 * and a window of recent rows for the "links to an earlier row" case.
 */
import type { AuditChainHead, AuditEventRecord } from '../store/index.js';
import { contentDigest, eventHash } from './chain.js';

/** One thing wrong with the chain. Sequence numbers are as stored, except deleted ranges (as written). */
export type AuditFinding =
  | { kind: 'altered'; seq: number; reason: string }
  | { kind: 'inserted'; seq: number; reason: string }
  | { kind: 'deleted'; fromSeq: number; toSeq: number; reason: string }
  | { kind: 'renumbered'; fromSeq: number; toSeq: number; shift: number; reason: string }
  | { kind: 'checkpoint'; seq: number; reason: string };

/** Where a walk starts: the hash and number the first row must continue. */
export interface WalkAnchor {
  seq: number;
  hash: string;
  /** How to name the anchor in findings, e.g. "the checkpoint at 120". */
  name: string;
}

/** An accepted row of the chain: its stored and original numbers, its hash. */
interface Link {
  stored: number;
  orig: number;
  hash: string;
  /** Findings raised while accepting it; withdrawn if it later proves inserted. */
  findings: AuditFinding[];
  /** Set on the anchor only: how findings name it. */
  anchorName?: string;
}

/** Rows kept for the "links to an earlier row" case; a longer inserted run reads as a break. */
const RECENT_WINDOW = 1024;
/** How far ahead a row's original number is searched after a break (deletions hidden by renumbering). */
const RENUMBER_SEARCH = 256;

export class ChainWalker {
  /** The head committed when the walk began; rows it names must all be there. */
  readonly #startHead: AuditChainHead | undefined;
  #findings: AuditFinding[] = [];
  #prev: Link;
  #recent: Link[];
  #pending: AuditEventRecord | undefined;
  /** Accepted rows numbered beyond the start head: appended meanwhile, or inserted. */
  #beyond: Link[] = [];
  #lastWithinStart: Link;
  #run: Extract<AuditFinding, { kind: 'renumbered' }> | undefined;
  #rows = 0;

  constructor(anchor: WalkAnchor, startHead?: AuditChainHead) {
    this.#startHead = startHead;
    this.#prev = { stored: anchor.seq, orig: anchor.seq, hash: anchor.hash, findings: [], anchorName: anchor.name };
    this.#recent = [this.#prev];
    this.#lastWithinStart = this.#prev;
  }

  /** Rows examined so far. */
  get rows(): number {
    return this.#rows;
  }

  push(row: AuditEventRecord): void {
    if (this.#pending) this.#process(this.#pending, row);
    this.#pending = row;
  }

  /**
   * Ends the walk. With `endHead` (the head read after the last row), rows beyond it are
   * named inserted, rows the start head promised but that are missing are named deleted, and
   * the last row's hash is compared with the head's. Returns the findings and the last link.
   */
  finish(endHead?: AuditChainHead): { findings: AuditFinding[]; last: { seq: number; hash: string } } {
    if (this.#pending) this.#process(this.#pending, undefined);
    this.#pending = undefined;
    let last: Link = this.#prev;
    if (this.#startHead && endHead) {
      for (const link of this.#beyond) {
        if (link.orig <= endHead.seq) continue;
        this.#withdraw(link);
        this.#findings.push({ kind: 'inserted', seq: link.stored, reason: `it lies beyond the chain head (event ${endHead.seq}): the log never wrote it` });
      }
      last = this.#beyond.filter((l) => l.orig <= endHead.seq).at(-1) ?? this.#lastWithinStart;
      if (last.orig < this.#startHead.seq) {
        this.#findings.push({ kind: 'deleted', fromSeq: last.orig + 1, toSeq: this.#startHead.seq, reason: `the chain head records event ${this.#startHead.seq}, but the log ends at ${last.orig}` });
      } else if (last.orig === endHead.seq && last.hash !== endHead.hash && last.anchorName === undefined) {
        this.#findings.push({ kind: 'altered', seq: last.stored, reason: 'the chain head records a different hash for it (its hash was recomputed)' });
      }
    }
    return { findings: dedupe(this.#findings), last: { seq: last.orig, hash: last.hash } };
  }

  #process(row: AuditEventRecord, next: AuditEventRecord | undefined): void {
    this.#rows += 1;
    const findings = contentFindings(row);
    const prev = this.#prev;
    if (row.prevHash === prev.hash) {
      const orig = prev.orig + 1;
      if (eventHash(row, orig) === row.hash) return this.#accept(row, orig, findings);
      if (orig !== row.seq && eventHash(row, row.seq) === row.hash) {
        this.#findings.push({ kind: 'inserted', seq: row.seq, reason: `its number does not follow ${describe(prev)}, which it links to: the log never writes that` });
        return;
      }
      findings.push({ kind: 'altered', seq: row.seq, reason: 'its fields no longer match its hash' });
      return this.#accept(row, orig, findings);
    }
    if (next && next.prevHash === prev.hash) {
      this.#findings.push({ kind: 'inserted', seq: row.seq, reason: `the next event links past it, to ${describe(prev)}` });
      return;
    }
    const earlier = this.#earlierLink(row, next);
    if (earlier) {
      this.#withdrawAfter(earlier, row);
      this.#rows -= 1;
      return this.#process(row, next);
    }
    const orig = this.#originalNumber(row);
    if (orig === undefined) {
      const estimate = row.seq - (prev.stored - prev.orig);
      if (estimate > prev.orig + 1) findings.push(deletedBetween(prev, estimate, row));
      findings.push({ kind: 'altered', seq: row.seq, reason: `its link to ${describe(prev)} or its fields were changed` });
      return this.#accept(row, estimate, findings);
    }
    if (orig > prev.orig + 1) findings.push(deletedBetween(prev, orig, row));
    else if (orig === prev.orig + 1) {
      findings.push(
        prev.anchorName !== undefined
          ? { kind: 'altered', seq: row.seq, reason: `it does not continue ${prev.anchorName}` }
          : { kind: 'altered', seq: prev.stored, reason: `its hash was recomputed: event ${row.seq} links to a different hash` },
      );
    } else {
      this.#findings.push({ kind: 'inserted', seq: row.seq, reason: `it repeats event ${orig}, which the chain has already passed` });
      return;
    }
    this.#accept(row, orig, findings);
  }

  /** A recent row (before the predecessor) this row links to, when this row is the genuine continuation. */
  #earlierLink(row: AuditEventRecord, next: AuditEventRecord | undefined): Link | undefined {
    const genuine = next ? next.prevHash === row.hash : this.#startHead?.hash === row.hash;
    if (!genuine) return undefined;
    for (let i = this.#recent.length - 2; i >= 0; i--) {
      const link = this.#recent[i] as Link;
      if (link.hash === row.prevHash) return link;
    }
    return undefined;
  }

  /** Names every row accepted after `earlier` inserted (`row` links past them) and resumes from `earlier`. */
  #withdrawAfter(earlier: Link, row: AuditEventRecord): void {
    const withdrawn = this.#recent.splice(this.#recent.indexOf(earlier) + 1);
    for (const link of withdrawn) {
      this.#withdraw(link);
      this.#findings.push({ kind: 'inserted', seq: link.stored, reason: `event ${row.seq} links past it, to ${describe(earlier)}` });
    }
    const gone = new Set(withdrawn);
    this.#beyond = this.#beyond.filter((l) => !gone.has(l));
    if (gone.has(this.#lastWithinStart)) this.#lastWithinStart = earlier;
    this.#prev = earlier;
    this.#run = undefined;
  }

  /** The number `row` was written with: found by recomputing its hash, or undefined. */
  #originalNumber(row: AuditEventRecord): number | undefined {
    const shift = this.#prev.stored - this.#prev.orig;
    const candidates = [row.seq - shift, row.seq];
    for (let d = 1; d <= RENUMBER_SEARCH; d++) candidates.push(row.seq + d);
    return candidates.find((seq) => seq > 0 && eventHash(row, seq) === row.hash);
  }

  #accept(row: AuditEventRecord, orig: number, findings: AuditFinding[]): void {
    if (orig !== row.seq) {
      const shift = row.seq - orig;
      if (this.#run && this.#run.shift === shift && this.#run.toSeq === row.seq - 1) this.#run.toSeq = row.seq;
      else {
        const by = Math.abs(shift);
        this.#run = { kind: 'renumbered', fromSeq: row.seq, toSeq: row.seq, shift, reason: `stored ${by} ${shift > 0 ? 'above' : 'below'} the number${by === 1 ? '' : 's'} they were written with` };
        findings.push(this.#run);
      }
    } else this.#run = undefined;
    const link: Link = { stored: row.seq, orig, hash: row.hash, findings };
    this.#findings.push(...findings);
    this.#prev = link;
    this.#recent.push(link);
    if (this.#recent.length > 2 * RECENT_WINDOW) this.#recent.splice(0, RECENT_WINDOW);
    if (this.#startHead && orig > this.#startHead.seq) this.#beyond.push(link);
    else this.#lastWithinStart = link;
  }

  #withdraw(link: Link): void {
    if (link.findings.length === 0) return;
    const withdrawn = new Set(link.findings);
    this.#findings = this.#findings.filter((f) => !withdrawn.has(f));
  }
}

function describe(link: Link): string {
  return link.anchorName ?? `event ${link.stored}`;
}

function deletedBetween(prev: Link, orig: number, row: AuditEventRecord): AuditFinding {
  return { kind: 'deleted', fromSeq: prev.orig + 1, toSeq: orig - 1, reason: `event ${row.seq} links to a hash no stored event has` };
}

/** One finding per kind and event (an event can show the same damage twice, e.g. its hash and its successor's link). */
function dedupe(findings: AuditFinding[]): AuditFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = 'seq' in f ? `${f.kind}:${f.seq}` : `${f.kind}:${f.fromSeq}-${f.toSeq}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function contentFindings(row: AuditEventRecord): AuditFinding[] {
  // A tombstone is judged against its redaction event by the caller (./redact, TombstoneChecker).
  if (row.redaction !== null) return [];
  if (row.content === null) {
    return row.contentSha256 === null ? [] : [{ kind: 'altered', seq: row.seq, reason: 'its encrypted content was removed' }];
  }
  if (row.contentSha256 === null) return [{ kind: 'altered', seq: row.seq, reason: 'it carries content its hash does not cover' }];
  return contentDigest(row.content) === row.contentSha256 ? [] : [{ kind: 'altered', seq: row.seq, reason: 'its encrypted content was changed' }];
}
