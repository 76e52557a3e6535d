/**
 * @module audit/chain
 * The hash chain. Each event's hash is SHA-256 over a canonical serialisation of the row,
 * previous hash included, so changing, inserting or deleting an event breaks the chain at that
 * point. The rule is simple enough to recompute from an export without hegui:
 *
 *   hash = hex(SHA-256(UTF-8(JSON.stringify([
 *     "hegui.audit/1", seq, at, type, actor, outcome, risks, payload, contentSha256, contentKeyId, prevHash,
 *   ]))))
 *
 * where `risks` and `payload` are the canonical JSON texts (keys sorted, no spaces), `outcome`,
 * `contentSha256` and `contentKeyId` are null when absent.
 */
import { hash as oneShotHash } from 'node:crypto';
import type { AuditChainHead, AuditEventRecord, NewAuditEvent } from '../store/index.js';
import type { CheckedEvent } from './event.js';

export const CHAIN_RULE =
  'hash = hex(SHA-256(UTF-8(JSON.stringify(["hegui.audit/1", seq, at, type, actor, outcome, risks, payload, contentSha256, contentKeyId, prevHash])))), ' +
  'risks and payload being the canonical JSON texts (object keys sorted by UTF-16 code units, no whitespace), absent values null';

/** The fields of a row that its hash covers, besides its sequence number. */
export type HashedFields = Pick<AuditEventRecord, 'at' | 'type' | 'actor' | 'outcome' | 'risks' | 'payload' | 'contentSha256' | 'contentKeyId' | 'prevHash'>;

/** The hash of `row` written with sequence number `seq`. */
export function eventHash(row: HashedFields, seq: number): string {
  const canonical = JSON.stringify([
    'hegui.audit/1',
    seq,
    row.at,
    row.type,
    row.actor,
    row.outcome,
    row.risks,
    row.payload,
    row.contentSha256,
    row.contentKeyId,
    row.prevHash,
  ]);
  // One-shot: no Hash object per event (the gateway appends one or two events per request).
  return oneShotHash('sha256', canonical, 'hex');
}

/** An event ready to be chained: checked, timed, its content (if kept) encrypted. */
export interface SealedEvent {
  at: string;
  checked: CheckedEvent;
  content: Buffer | null;
  contentSha256: string | null;
  contentKeyId: string | null;
}

/** Numbers and links `events` after `head`. */
export function chainAfter(head: AuditChainHead, events: readonly SealedEvent[]): NewAuditEvent[] {
  const rows: NewAuditEvent[] = [];
  let prevHash = head.hash;
  let seq = head.seq;
  for (const event of events) {
    seq += 1;
    const fields: HashedFields = {
      at: event.at,
      type: event.checked.type,
      actor: event.checked.actor,
      outcome: event.checked.outcome,
      risks: event.checked.risks,
      payload: event.checked.payload,
      contentSha256: event.contentSha256,
      contentKeyId: event.contentKeyId,
      prevHash,
    };
    const hash = eventHash(fields, seq);
    rows.push({ ...fields, seq, hash, content: event.content, riskCodes: event.checked.riskCodes });
    prevHash = hash;
  }
  return rows;
}

/** SHA-256 (hex) of stored content bytes. */
export function contentDigest(content: Uint8Array): string {
  return oneShotHash('sha256', content, 'hex');
}
