/**
 * @module audit/verify
 * Proves the stored log is the one that was written, or names what changed: every altered,
 * inserted and deleted event by sequence number, and every checkpoint whose signature fails.
 * The walk reads events in pages, so memory stays flat for any size of log, and it runs
 * alongside writers: events appended while it runs are neither checked nor reported.
 */
import { AUDIT_GENESIS_HASH, type AuditChainHead, type AuditCheckpointRecord, type Store } from '../store/index.js';
import { TombstoneChecker } from './redact.js';
import { checkCheckpointSignature, auditPublicKeyId } from './signing.js';
import { type AuditFinding, ChainWalker, type WalkAnchor } from './walk.js';

export interface AuditVerifyOptions {
  /**
   * Ed25519 public keys (PEM) whose checkpoints are trusted. When given, a checkpoint signed
   * by any other key is a finding: without it, whoever could rewrite the database could also
   * sign a checkpoint of their own.
   */
  trustedKeys?: readonly string[];
}

/** A stored checkpoint and what its signature proves. */
export interface AuditCheckpointReport {
  /** Last event the purge removed. */
  seq: number;
  /** First event the purge removed. */
  firstSeq: number;
  hash: string;
  purgedBefore: string;
  createdAt: string;
  /** Id of the public key stored with it (recomputed from the key). */
  keyId: string | null;
  signatureValid: boolean;
  /** Whether `keyId` is among `trustedKeys`; null when no trusted keys were given. */
  trusted: boolean | null;
}

export interface AuditVerifyReport {
  /** True when nothing was found. */
  ok: boolean;
  /** Events read and checked. */
  events: number;
  /** Stored sequence numbers of the first and last event read (null for an empty log). */
  firstSeq: number | null;
  lastSeq: number | null;
  /** The chain head when the walk began. */
  head: AuditChainHead;
  /** Where the chain starts: the latest checkpoint, or the genesis hash when nothing was purged. */
  anchor: { seq: number; hash: string; from: 'genesis' | 'checkpoint' };
  checkpoints: AuditCheckpointReport[];
  /** Events whose content was redacted at a request, each vouched for by its `audit.redact` event: not findings. */
  redactions: { events: number; byRequest: Record<string, number> };
  findings: AuditFinding[];
}

const PAGE = 256;

/** Walks the whole chain. */
export async function verifyAuditChain(store: Store, options: AuditVerifyOptions = {}): Promise<AuditVerifyReport> {
  const trusted = options.trustedKeys && new Set(options.trustedKeys.map((pem, i) => auditPublicKeyId(pem, `trusted key ${i + 1}`)));
  const startHead = await store.audit.head();
  const stored = await store.audit.checkpoints();
  const findings: AuditFinding[] = [];
  const checkpoints = stored.map((checkpoint, i) => checkCheckpoint(checkpoint, stored[i - 1], trusted, findings));

  const latest = stored.at(-1);
  const anchor: WalkAnchor = latest
    ? { seq: latest.seq, hash: latest.hash, name: `the checkpoint at event ${latest.seq}` }
    : { seq: 0, hash: AUDIT_GENESIS_HASH, name: 'the start of the chain' };
  if (latest) {
    for (const row of await store.audit.scan(0, PAGE, latest.seq)) {
      findings.push({ kind: 'inserted', seq: row.seq, reason: `events up to ${latest.seq} were purged under a signed checkpoint; this one came back` });
    }
  }

  const walker = new ChainWalker(anchor, startHead);
  const tombstones = new TombstoneChecker(store);
  let firstSeq: number | null = null;
  let after = anchor.seq;
  for (;;) {
    const page = await store.audit.scan(after, PAGE);
    for (const row of page) {
      walker.push(row);
      if (row.seq <= startHead.seq) findings.push(...(await tombstones.check(row)));
    }
    const last = page.at(-1);
    if (!last) break;
    firstSeq ??= page[0]?.seq ?? null;
    after = last.seq;
    if (page.length < PAGE) break;
  }
  const walked = walker.finish(await store.audit.head());
  findings.push(...walked.findings);
  findings.sort((a, b) => position(a) - position(b));
  return {
    ok: findings.length === 0,
    events: walker.rows,
    firstSeq,
    lastSeq: firstSeq === null ? null : after,
    head: startHead,
    anchor: { seq: anchor.seq, hash: anchor.hash, from: latest ? 'checkpoint' : 'genesis' },
    checkpoints,
    redactions: { events: tombstones.redacted, byRequest: tombstones.byRequest },
    findings,
  };
}

function checkCheckpoint(
  checkpoint: AuditCheckpointRecord,
  previous: AuditCheckpointRecord | undefined,
  trusted: ReadonlySet<string> | undefined,
  findings: AuditFinding[],
): AuditCheckpointReport {
  const signature = checkCheckpointSignature(checkpoint);
  if (!signature.valid) findings.push({ kind: 'checkpoint', seq: checkpoint.seq, reason: signature.problem ?? 'its signature does not verify' });
  const isTrusted = trusted === undefined ? null : signature.keyId !== null && trusted.has(signature.keyId);
  if (isTrusted === false) findings.push({ kind: 'checkpoint', seq: checkpoint.seq, reason: `it is signed by key ${signature.keyId ?? 'unknown'}, which is not among the trusted keys` });
  const expectedFirst = previous ? previous.seq + 1 : 1;
  if (checkpoint.firstSeq !== expectedFirst) {
    findings.push({ kind: 'checkpoint', seq: checkpoint.seq, reason: `it says its purge began at event ${checkpoint.firstSeq}, but the chain before it ends at ${expectedFirst - 1}` });
  }
  return {
    seq: checkpoint.seq,
    firstSeq: checkpoint.firstSeq,
    hash: checkpoint.hash,
    purgedBefore: checkpoint.purgedBefore,
    createdAt: checkpoint.createdAt,
    keyId: signature.keyId,
    signatureValid: signature.valid,
    trusted: isTrusted,
  };
}

function position(finding: AuditFinding): number {
  return 'seq' in finding ? finding.seq : finding.fromSeq;
}

/** A one-line description of a finding, e.g. `event 42 altered: its fields no longer match its hash`. */
export function describeFinding(finding: AuditFinding): string {
  switch (finding.kind) {
    case 'deleted':
      return `${finding.fromSeq === finding.toSeq ? `event ${finding.fromSeq}` : `events ${finding.fromSeq}-${finding.toSeq}`} deleted: ${finding.reason}`;
    case 'renumbered':
      return `${finding.fromSeq === finding.toSeq ? `event ${finding.fromSeq}` : `events ${finding.fromSeq}-${finding.toSeq}`} renumbered: ${finding.reason}`;
    case 'checkpoint':
      return `checkpoint at event ${finding.seq} invalid: ${finding.reason}`;
    default:
      return `event ${finding.seq} ${finding.kind}: ${finding.reason}`;
  }
}
