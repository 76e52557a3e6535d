/**
 * @module audit/log
 * `AuditLog`: the only writer of the event log (DESIGN: every part that must leave a trace
 * appends through it). An append resolves only after its transaction has committed, so a
 * response the gateway sends after awaiting it always has its event, even if the process is
 * killed the next instant. (Through a power loss too on PostgreSQL, and on SQLite with
 * `HEGUI_SQLITE_SYNCHRONOUS=full`; SQLite's default fsyncs the WAL only at checkpoints.)
 *
 * Appends are group-committed: the first append starts a transaction after the current turn
 * of the event loop; appends that arrive meanwhile, or while it is in flight, go together in
 * the next one, each resolving when its own batch commits. Under load a batch holds about as
 * many events as there are concurrent requests, so the cost of a commit (its writes, and an
 * fsync where the database makes one) is shared.
 *
 * With `commitWindowMs` the first append of a batch waits that long for others to join it
 * (one commit for every event of the window, even from one client at a time). Each append
 * still resolves only after its commit; what a window changes is for callers that go on
 * without awaiting it (the gateway with `audit.commitWindowMs`): their events are durable
 * within the window, and a crash loses those of the last window at most.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { NewAuditEvent, Store } from '../store/index.js';
import { chainAfter, contentDigest, type SealedEvent } from './chain.js';
import type { AuditContentKeyring } from './content.js';
import type { AppendedAuditEvent, AuditContext } from './context.js';
import { AuditConfigError, AuditKeyError, AuditWriteError } from './errors.js';
import { checkEvent, type AuditEventInput, type JsonValue } from './event.js';
import { type AuditExportOptions, type AuditExportRange, type AuditExportResult, exportAuditLog } from './export.js';
import { type AuditRedactOptions, type AuditRedactResult, redactAuditContent } from './redact.js';
import { type AuditPurgeOptions, type AuditPurgeResult, purgeAuditLog } from './purge.js';
import { type AuditCounts, type AuditCountWindow, type AuditPage, type AuditQuery, countAuditEvents, listAuditEvents, readAuditContent } from './query.js';
import { checkRetentionMonths, LEGAL_MIN_RETENTION_MONTHS } from './retention.js';
import type { AuditSigningKey } from './signing.js';
import { type AuditVerifyOptions, type AuditVerifyReport, verifyAuditChain } from './verify.js';

/**
 * Which content is kept (AI Measures Art. 11: keep metadata, minimise content):
 * `none` keeps none, `flagged` keeps it for events with risks (or `flagged: true`), `all` always.
 */
export type AuditContentPolicy = 'none' | 'flagged' | 'all';

export interface AuditLogOptions {
  /** Default `none`. Any other policy needs `contentKeys`. */
  contentPolicy?: AuditContentPolicy;
  /** Seal kept content, and open it for exports and `readContent`. */
  contentKeys?: AuditContentKeyring;
  /** Signs purge checkpoints. */
  signingKey?: AuditSigningKey;
  /** Months events are kept at least; default and minimum 6 (Cybersecurity Law Art. 21(3)). */
  retentionMonths?: number;
  /** Time source for event times and retention (tests). */
  clock?: () => Date;
  /** Most events per transaction (default 256); a full batch is written at once, window or not. */
  maxBatch?: number;
  /**
   * Milliseconds the first append of a batch waits for others before the batch is written
   * (default 0: the next turn of the event loop; at most 1000). `flush()` writes at once.
   */
  commitWindowMs?: number;
}

/** The longest commit window: what a crash may lose is bounded by it. */
export const MAX_COMMIT_WINDOW_MS = 1000;

interface Waiting {
  event: SealedEvent;
  resolve(appended: AppendedAuditEvent): void;
  reject(error: unknown): void;
}

const POLICIES: readonly AuditContentPolicy[] = ['none', 'flagged', 'all'];

/**
 * The audit log over a store. One per process and store: it is the group-commit point, so
 * every part of the process should share it. Several processes (gateway replicas) may each
 * have their own on one database: the chain-head lock keeps the chain linear.
 *
 * @example
 * const log = new AuditLog(store, { ...auditEnvironment(process.env), contentPolicy: 'flagged' });
 * const { seq } = await log.append({ type: 'operator.login', actor: `operator:${operator.id}` });
 * const report = await log.verify();
 * if (!report.ok) for (const f of report.findings) console.log(describeFinding(f));
 */
export class AuditLog {
  readonly #store: Store;
  readonly #policy: AuditContentPolicy;
  readonly #keys: AuditContentKeyring | undefined;
  readonly #context: AuditContext;
  readonly #clock: () => Date;
  readonly #maxBatch: number;
  readonly #windowMs: number;
  readonly #queue: Waiting[] = [];
  #writing = false;
  /** The window's timer, while the first batch waits for it. */
  #window: NodeJS.Timeout | undefined;
  readonly #idle: (() => void)[] = [];

  /** @throws AuditConfigError or AuditKeyError for options that cannot work. */
  constructor(store: Store, options: AuditLogOptions = {}) {
    const policy = options.contentPolicy ?? 'none';
    if (!POLICIES.includes(policy)) throw new AuditConfigError(`content policy must be one of ${POLICIES.join(', ')}, not ${String(policy)}`);
    if (policy !== 'none' && !options.contentKeys) {
      throw new AuditKeyError('E_AUDIT_CONTENT_KEY', `content policy "${policy}" keeps content encrypted and needs a key: set HEGUI_AUDIT_CONTENT_KEY (\`hegui audit keygen\` creates one)`);
    }
    const maxBatch = options.maxBatch ?? 256;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 1000) throw new AuditConfigError(`maxBatch must be from 1 to 1000, not ${maxBatch}`);
    const windowMs = options.commitWindowMs ?? 0;
    if (!Number.isInteger(windowMs) || windowMs < 0 || windowMs > MAX_COMMIT_WINDOW_MS) throw new AuditConfigError(`commitWindowMs must be a whole number of milliseconds from 0 to ${MAX_COMMIT_WINDOW_MS}, not ${windowMs}`);
    this.#windowMs = windowMs;
    this.#store = store;
    this.#policy = policy;
    this.#keys = options.contentKeys;
    this.#clock = options.clock ?? (() => new Date());
    this.#maxBatch = maxBatch;
    this.#context = {
      store,
      contentKeys: options.contentKeys,
      signingKey: options.signingKey,
      retentionMonths: checkRetentionMonths(options.retentionMonths ?? LEGAL_MIN_RETENTION_MONTHS),
      clock: this.#clock,
      append: (event) => this.append(event),
    };
  }

  /** The content policy in force. */
  get contentPolicy(): AuditContentPolicy {
    return this.#policy;
  }

  /**
   * Appends one event; resolves once it is committed (durable), with its sequence number and hash.
   *
   * @throws AuditEventError (rejected at once) for a malformed event; AuditWriteError when the
   *   database refused the batch (no event of that batch was stored).
   */
  append(event: AuditEventInput): Promise<AppendedAuditEvent> {
    let sealed: SealedEvent;
    try {
      sealed = this.#seal(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ event: sealed, resolve, reject });
      if (!this.#writing) {
        this.#writing = true;
        if (this.#windowMs > 0) this.#window = setTimeout(() => this.#startNow(), this.#windowMs);
        // Start after the current turn of the event loop: appends made meanwhile (a burst of
        // responses finishing in one poll phase) join the first transaction.
        else setImmediate(() => void this.#drain());
      } else if (this.#window && this.#queue.length >= this.#maxBatch) this.#startNow();
    });
  }

  /**
   * Resolves when every append made so far has settled (before closing the store); a batch
   * waiting for its commit window is written at once.
   */
  flush(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#window) this.#startNow();
    return idle;
  }

  /** Ends the commit window early (or on time) and writes the batch. */
  #startNow(): void {
    if (!this.#window) return;
    clearTimeout(this.#window);
    this.#window = undefined;
    void this.#drain();
  }

  /** Walks the whole chain and names every altered, inserted and deleted event. */
  verify(options?: AuditVerifyOptions): Promise<AuditVerifyReport> {
    return verifyAuditChain(this.#store, options);
  }

  /** Deletes events older than `before` (never younger than the retention period), leaving a signed checkpoint. */
  purge(options: AuditPurgeOptions): Promise<AuditPurgeResult> {
    return purgeAuditLog(this.#context, options);
  }

  /**
   * Replaces the content of events with tombstones naming `request`, and records that as an
   * `audit.redact` event; the chain still verifies, and `verify` reports "redacted by request".
   * Events already redacted, or without content, are left as they are (and reported so).
   */
  redact(options: AuditRedactOptions): Promise<AuditRedactResult> {
    return redactAuditContent(this.#context, options);
  }

  /** Writes the package for an authority into `outDir` (a new folder). */
  export(range: AuditExportRange, outDir: string, options?: AuditExportOptions): Promise<AuditExportResult> {
    return exportAuditLog(this.#context, range, outDir, options);
  }

  /** One page of events, newest first, for the dashboard. */
  list(query?: AuditQuery): Promise<AuditPage> {
    return listAuditEvents(this.#store, query);
  }

  /** Counts per type, risk and outcome over a window, for the dashboard. */
  counts(window: AuditCountWindow): Promise<AuditCounts> {
    return countAuditEvents(this.#store, window);
  }

  /** The decrypted content of one event, or undefined when it kept none. */
  readContent(seq: number): Promise<JsonValue | undefined> {
    return readAuditContent(this.#context, seq);
  }

  #seal(event: AuditEventInput): SealedEvent {
    const checked = checkEvent(event);
    const at = this.#clock().toISOString();
    const keep = checked.content !== undefined && (this.#policy === 'all' || (this.#policy === 'flagged' && checked.flagged));
    if (!keep || !this.#keys || checked.content === undefined) return { at, checked, content: null, contentSha256: null, contentKeyId: null };
    const { sealed, keyId } = this.#keys.seal(Buffer.from(checked.content));
    return { at, checked, content: sealed, contentSha256: contentDigest(sealed), contentKeyId: keyId };
  }

  async #drain(): Promise<void> {
    for (let first = true; this.#queue.length > 0; first = false) {
      // Between batches too, let the event loop run: with a synchronous driver (SQLite) a stream
      // of appends would otherwise settle entirely in microtasks and starve timers and sockets.
      if (!first) await yieldToEventLoop();
      let batch: Waiting[] | undefined;
      let written: NewAuditEvent[] = [];
      try {
        await this.#store.audit.append((head) => {
          // Taken only once the head is locked: appends that arrived while this writer waited
          // for another replica's transaction join this one.
          batch = this.#queue.splice(0, this.#maxBatch);
          return (written = chainAfter(head, batch.map((w) => w.event)));
        });
      } catch (cause) {
        // Not even the lock was taken: fail the waiting events rather than retry a dead database forever.
        const failed = batch ?? this.#queue.splice(0, this.#maxBatch);
        const error = new AuditWriteError(`the audit log could not store ${failed.length} event(s); none of them was written: ${(cause as Error).message ?? String(cause)}`, { cause });
        for (const waiting of failed) waiting.reject(error);
        continue;
      }
      (batch ?? []).forEach((waiting, i) => {
        const row = written[i];
        if (row) waiting.resolve({ seq: row.seq, hash: row.hash, at: row.at, contentKept: row.content !== null });
      });
    }
    this.#writing = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
