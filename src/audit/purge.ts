/**
 * @module audit/purge
 * Retention: deleting the oldest events once the law no longer requires them, without losing
 * the proof that what remains is intact. A purge refuses to touch anything younger than the
 * retention period (>= 6 months, Cybersecurity Law Art. 21(3)), checks the part it is about to
 * delete, signs a checkpoint naming its last event and hash, and deletes, all under the
 * chain-head lock; then it records itself as an `audit.purge` event.
 */
import { AUDIT_GENESIS_HASH, type AuditCheckpointRecord, type AuditPurgePlan } from '../store/index.js';
import { requireSigningKey } from './config.js';
import type { AuditContext } from './context.js';
import { AuditRetentionError, AuditTamperedError } from './errors.js';
import { isoTime } from './query.js';
import { retentionCutoff } from './retention.js';
import { signCheckpoint } from './signing.js';
import { describeFinding } from './verify.js';
import { ChainWalker } from './walk.js';

export interface AuditPurgeOptions {
  /** Delete events recorded before this instant. */
  before: Date;
  /** Report what would be deleted, delete nothing (no signing key needed). */
  dryRun?: boolean;
  /** Who purges, for the `audit.purge` event (default `system:audit`). */
  actor?: string;
}

export interface AuditPurgeResult {
  dryRun: boolean;
  before: string;
  /** The latest `before` the retention period allows now. */
  cutoff: string;
  /** The events deleted (or that would be); null when none is old enough. */
  plan: AuditPurgePlan | null;
  deleted: number;
  checkpoint: AuditCheckpointRecord | null;
}

const PAGE = 256;

/**
 * Purges events older than `options.before`.
 *
 * @throws AuditRetentionError when `before` is later than the retention period allows;
 *   AuditKeyError without a signing key; AuditTamperedError when the part to delete is damaged.
 */
export async function purgeAuditLog(context: AuditContext, options: AuditPurgeOptions): Promise<AuditPurgeResult> {
  const now = context.clock();
  const before = isoTime(options.before, 'before');
  const cutoff = retentionCutoff(now, context.retentionMonths).toISOString();
  if (before > cutoff) {
    throw new AuditRetentionError(
      `refusing to purge events recorded after ${cutoff}: audit logs are kept at least ${context.retentionMonths} months ` +
        `(Cybersecurity Law Art. 21(3); Labeling Measures Art. 9); choose a date on or before ${cutoff.slice(0, 10)}`,
    );
  }
  const plan = (await context.store.audit.purgePlan(before)) ?? null;
  const result: AuditPurgeResult = { dryRun: options.dryRun ?? false, before, cutoff, plan, deleted: 0, checkpoint: null };
  if (!plan || options.dryRun) return result;

  const key = requireSigningKey(context.signingKey, 'purging the audit log');
  const hash = await checkedPrefixEnd(context, plan);
  const checkpoint = signCheckpoint({ seq: plan.lastSeq, hash, firstSeq: plan.firstSeq, purgedBefore: before, createdAt: now.toISOString() }, key);
  const deleted = await context.store.audit.purge(checkpoint);
  await context.append({
    type: 'audit.purge',
    actor: options.actor ?? 'system:audit',
    payload: { firstSeq: plan.firstSeq, lastSeq: plan.lastSeq, deleted, before, checkpointKeyId: checkpoint.keyId },
  });
  return { ...result, deleted, checkpoint };
}

/** Walks the events about to be purged; resolves to the last one's hash, or refuses when they are damaged. */
async function checkedPrefixEnd(context: AuditContext, plan: AuditPurgePlan): Promise<string> {
  const latest = (await context.store.audit.checkpoints()).at(-1);
  const walker = new ChainWalker(
    latest ? { seq: latest.seq, hash: latest.hash, name: `the checkpoint at event ${latest.seq}` } : { seq: 0, hash: AUDIT_GENESIS_HASH, name: 'the start of the chain' },
  );
  let after = latest?.seq ?? 0;
  for (;;) {
    const page = await context.store.audit.scan(after, PAGE, plan.lastSeq);
    for (const row of page) walker.push(row);
    const last = page.at(-1);
    if (!last || page.length < PAGE) break;
    after = last.seq;
  }
  const { findings, last } = walker.finish();
  if (findings.length > 0 || last.seq !== plan.lastSeq) {
    const shown = findings.slice(0, 5).map(describeFinding);
    if (last.seq !== plan.lastSeq) shown.push(`the part to purge ends at event ${last.seq}, not ${plan.lastSeq}`);
    throw new AuditTamperedError(`refusing to purge: the events to delete are damaged, and a checkpoint would vouch for them (${shown.join('; ')}); run \`hegui audit verify\``);
  }
  return last.hash;
}
