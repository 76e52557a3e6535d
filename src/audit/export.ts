/**
 * @module audit/export
 * The package an authority asks for (AI Measures Art. 19 inspections; Cybersecurity Law log
 * duties): `events.jsonl`, one event per line with its chain hashes, and `manifest.json` with
 * the range, counts, the chain hashes at both ends, the SHA-256 of each file, the checkpoint the
 * chain rests on and the tool version. The folder appears whole or not at all: it is written
 * under a temporary name beside the target, flushed to disk, then renamed.
 *
 * Content stays out unless the caller both asks for it and holds the content key.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { HeguiError } from '../errors.js';
import type { AuditCheckpointRecord, AuditEventRecord } from '../store/index.js';
import { CHAIN_RULE } from './chain.js';
import { requireContentKeys } from './config.js';
import type { AuditContentKeyring } from './content.js';
import type { AuditContext } from './context.js';
import { AuditExportError, AuditQueryError } from './errors.js';
import type { JsonObject, JsonValue } from './event.js';
import { isoTime } from './query.js';
import { AUDIT_TIME_ZONE, beijingTime } from './range.js';
import { type AuditTombstone, parseTombstone, TombstoneChecker } from './redact.js';
import { type AuditSubject, auditSubject, isAbout, SUBJECT_RULE } from './subjects.js';
import { describeFinding } from './verify.js';
import { ChainWalker } from './walk.js';

/** Which events to export: `from` inclusive, `to` exclusive, optionally one user's only. */
export interface AuditExportRange {
  from: Date;
  to: Date;
  /** A subject (`user:<pseudonym>`, `operator:<id>`; a bare pseudonym means a user): the events about it (audit/subjects). */
  user?: string;
}

export interface AuditExportOptions {
  /** Decrypt and include kept content (needs the content keys). */
  includeContent?: boolean;
  /** Who exports, for the `audit.export` event (default `system:audit`). */
  exportedBy?: string;
}

/** One line of `events.jsonl`: enough to recompute every hash (see `chain.rule` in the manifest). */
export interface ExportedAuditEvent {
  seq: number;
  at: string;
  type: string;
  actor: string;
  outcome: string | null;
  risks: string[];
  payload: JsonObject;
  contentSha256: string | null;
  contentKeyId: string | null;
  content?: JsonValue;
  /** Present when the content was redacted at a request: the tombstone in its place (not hashed). */
  redaction?: AuditTombstone;
  prevHash: string;
  hash: string;
}

export interface AuditExportManifest {
  format: 'hegui.audit.export/1';
  generator: { name: 'hegui'; version: string };
  createdAt: string;
  /** `from` inclusive, `to` exclusive (UTC); `beijing` the same bounds in Beijing time, the convention of days given as YYYY-MM-DD. */
  range: { from: string; to: string; beijing: { from: string; to: string; timeZone: string } };
  user: string | null;
  /** With `user`: which events count as about the user. */
  userRule: string | null;
  content: 'omitted' | 'decrypted';
  events: { count: number; withContent: number; byType: Record<string, number> };
  /** Exported events whose content was redacted at a request (vouched for by its redaction event), per request. */
  redactions: { events: number; byRequest: Record<string, number> };
  /** The chain over the whole range (every event, whatever the user filter). */
  chain: {
    rule: string;
    firstSeq: number | null;
    lastSeq: number | null;
    /** The hash the first event of the range links to. */
    prevHashAtStart: string | null;
    /** The hash of the last event of the range. */
    hashAtEnd: string | null;
    eventsChecked: number;
    /** What a walk of the range found; empty when it is intact. */
    findings: string[];
    head: { seq: number; hash: string };
  };
  /** The latest purge checkpoint: where the stored chain begins. */
  checkpoint: AuditCheckpointRecord | null;
  files: Record<string, { sha256: string; bytes: number }>;
}

export interface AuditExportResult {
  dir: string;
  manifest: AuditExportManifest;
}

const PAGE = 256;

/**
 * Writes the export package into `outDir`, which must not exist yet.
 *
 * @throws AuditExportError when `outDir` exists or cannot be written; AuditQueryError for a bad range;
 *   AuditKeyError when content is asked for without keys.
 * @example
 * await log.export({ from: new Date('2026-01-01'), to: new Date('2026-02-01'), user: 'u_5Yb2kQ' }, 'export-2026-01');
 */
export async function exportAuditLog(context: AuditContext, range: AuditExportRange, outDir: string, options: AuditExportOptions = {}): Promise<AuditExportResult> {
  const from = isoTime(range.from, 'from');
  const to = isoTime(range.to, 'to');
  if (from >= to) throw new AuditQueryError(`the export range is empty: from ${from} is not before to ${to}`);
  const user = range.user === undefined ? null : auditSubject(range.user);
  const keys = options.includeContent ? requireContentKeys(context.contentKeys, 'exporting content') : undefined;
  const dir = resolve(outDir);
  if (existsSync(dir)) throw new AuditExportError(`${outDir} exists; export into a new folder so an earlier package is never mixed with this one`, { exitCode: 2 });
  await mkdir(dirname(dir), { recursive: true });
  const temp = await mkdtemp(join(dirname(dir), `.${basename(dir)}.partial-`));
  try {
    const manifest = await writePackage(context, temp, { from, to, user, keys });
    await rename(temp, dir);
    await syncPath(dirname(dir));
    await context.append({
      type: 'audit.export',
      actor: options.exportedBy ?? 'system:audit',
      payload: { from, to, user: user?.subject ?? null, events: manifest.events.count, content: manifest.content, manifestSha256: await fileSha256(join(dir, 'manifest.json')) },
    });
    return { dir, manifest };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    if (error instanceof HeguiError) throw error;
    throw new AuditExportError(`the export to ${outDir} failed, nothing was left behind: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
}

interface PackageSpec {
  from: string;
  to: string;
  user: AuditSubject | null;
  keys: AuditContentKeyring | undefined;
}

async function writePackage(context: AuditContext, temp: string, spec: PackageSpec): Promise<AuditExportManifest> {
  const head = await context.store.audit.head();
  const checkpoint = (await context.store.audit.checkpoints()).at(-1) ?? null;
  const bounds = await context.store.audit.seqBounds({ from: spec.from, to: spec.to });
  const events = { count: 0, withContent: 0, byType: {} as Record<string, number> };
  const digest = createHash('sha256');
  let bytes = 0;
  let walker: ChainWalker | undefined;
  const tombstones = new TombstoneChecker(context.store);
  const tombstoneFindings: string[] = [];
  const redactions = { events: 0, byRequest: {} as Record<string, number> };
  let first: AuditEventRecord | undefined;
  let last: AuditEventRecord | undefined;
  const file = await open(join(temp, 'events.jsonl'), 'wx', 0o600);
  try {
    let after = bounds ? bounds.firstSeq - 1 : 0;
    while (bounds) {
      const page = await context.store.audit.scan(after, PAGE, bounds.lastSeq);
      let text = '';
      for (const row of page) {
        first ??= row;
        last = row;
        walker ??= new ChainWalker({ seq: row.seq - 1, hash: row.prevHash, name: `the event before ${row.seq}` });
        walker.push(row);
        tombstoneFindings.push(...(await tombstones.check(row)).map(describeFinding));
        if (row.at < spec.from || row.at >= spec.to || (spec.user !== null && !isAbout({ actor: row.actor, payload: JSON.parse(row.payload) as JsonObject }, spec.user))) continue;
        const line = exported(row, spec.keys);
        if (line.redaction) {
          redactions.events += 1;
          redactions.byRequest[line.redaction.request] = (redactions.byRequest[line.redaction.request] ?? 0) + 1;
        }
        text += `${JSON.stringify(line)}\n`;
        events.count += 1;
        events.byType[row.type] = (events.byType[row.type] ?? 0) + 1;
        if (spec.keys && row.content !== null) events.withContent += 1;
      }
      if (text) {
        const chunk = Buffer.from(text);
        digest.update(chunk);
        bytes += chunk.length;
        await file.write(chunk);
      }
      const end = page.at(-1);
      if (!end || page.length < PAGE) break;
      after = end.seq;
    }
    await file.sync();
  } finally {
    await file.close();
  }
  const walked = walker?.finish();
  const manifest: AuditExportManifest = {
    format: 'hegui.audit.export/1',
    generator: { name: 'hegui', version: await toolVersion() },
    createdAt: context.clock().toISOString(),
    range: { from: spec.from, to: spec.to, beijing: { from: beijingTime(spec.from), to: beijingTime(spec.to), timeZone: AUDIT_TIME_ZONE.label } },
    user: spec.user?.subject ?? null,
    userRule: spec.user === null ? null : SUBJECT_RULE,
    content: spec.keys ? 'decrypted' : 'omitted',
    events,
    redactions,
    chain: {
      rule: CHAIN_RULE,
      firstSeq: first?.seq ?? null,
      lastSeq: last?.seq ?? null,
      prevHashAtStart: first?.prevHash ?? null,
      hashAtEnd: last?.hash ?? null,
      eventsChecked: walker?.rows ?? 0,
      findings: [...(walked?.findings ?? []).map(describeFinding), ...tombstoneFindings],
      head,
    },
    checkpoint,
    files: { 'events.jsonl': { sha256: digest.digest('hex'), bytes } },
  };
  await writeSynced(join(temp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function exported(row: AuditEventRecord, keys: PackageSpec['keys']): ExportedAuditEvent {
  const line: ExportedAuditEvent = {
    seq: row.seq,
    at: row.at,
    type: row.type,
    actor: row.actor,
    outcome: row.outcome,
    risks: JSON.parse(row.risks) as string[],
    payload: JSON.parse(row.payload) as JsonObject,
    contentSha256: row.contentSha256,
    contentKeyId: row.contentKeyId,
    prevHash: row.prevHash,
    hash: row.hash,
  };
  const tombstone = row.redaction === null ? undefined : parseTombstone(row.redaction);
  if (tombstone) line.redaction = tombstone;
  if (keys && row.content !== null && row.contentKeyId !== null) line.content = JSON.parse(keys.open(row.content, row.contentKeyId).toString('utf8')) as JsonValue;
  return line;
}

async function writeSynced(path: string, text: string): Promise<void> {
  const file = await open(path, 'wx', 0o600);
  try {
    await file.write(text);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fileSha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** hegui's version from its package.json (the same relative path from `src/audit/` and `dist/audit/`). */
async function toolVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
