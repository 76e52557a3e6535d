import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { rawDatabase, resetAuditLog } from '../../test/helpers/raw-database.js';
import { describeEachStore } from '../../test/helpers/stores.js';
import type { Database } from '../store/index.js';
import {
  AuditContentError,
  AuditContentKeyring,
  AuditExportError,
  AuditKeyError,
  AuditLog,
  canonicalJson,
  eventHash,
  type AuditExportManifest,
  type ExportedAuditEvent,
} from './index.js';

const keys = AuditContentKeyring.parse(AuditContentKeyring.generateKey());
const root = mkdtempSync(join(tmpdir(), 'hegui-audit-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const january = { from: new Date('2026-01-01T00:00:00.000Z'), to: new Date('2026-02-01T00:00:00.000Z') };

function readPackage(dir: string): { manifest: AuditExportManifest; lines: ExportedAuditEvent[]; raw: Buffer } {
  const raw = readFileSync(join(dir, 'events.jsonl'));
  const text = raw.toString('utf8');
  return {
    manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as AuditExportManifest,
    lines: text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as ExportedAuditEvent),
    raw,
  };
}

describeEachStore('audit export', (getStore, getDatabase) => {
  let db: Kysely<Database>;
  let log: AuditLog;
  let now: Date;
  let n = 0;
  const out = (): string => join(root, `${getDatabase().dialect}-${++n}`);

  /** 30 December to 3 February, one event a day (day d is event d + 1), users u1 and u2 in turn; content on every third day. */
  beforeEach(async () => {
    db = rawDatabase(getDatabase());
    await resetAuditLog(db);
    log = new AuditLog(getStore(), { contentPolicy: 'all', contentKeys: keys, clock: () => now });
    for (let day = 0; day < 36; day++) {
      now = new Date(Date.UTC(2025, 11, 30 + day, 12));
      await log.append({ type: 'gateway.request', actor: `user:u${(day % 2) + 1}`, risks: day % 5 ? [] : ['A.1.1'], payload: { day }, content: day % 3 ? undefined : { input: `问题 ${day}` } });
    }
    now = new Date('2026-03-01T00:00:00.000Z');
  });
  afterEach(async () => db.destroy());

  it('writes events.jsonl and a manifest with counts, chain ends and file hashes, content left out', async () => {
    const dir = out();
    const result = await log.export(january, dir);
    const { manifest, lines, raw } = readPackage(dir);
    expect(result.manifest).toEqual(manifest);
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 3));
    expect(lines.every((l) => !('content' in l))).toBe(true);
    expect(lines.filter((l) => l.contentSha256 !== null)).toHaveLength(10);
    expect(manifest).toMatchObject({
      format: 'hegui.audit.export/1',
      generator: { name: 'hegui', version: expect.stringMatching(/^\d+\.\d+\.\d+/) },
      range: { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' },
      user: null,
      content: 'omitted',
      events: { count: 31, withContent: 0, byType: { 'gateway.request': 31 } },
      chain: { firstSeq: 3, lastSeq: 33, prevHashAtStart: lines[0]?.prevHash, hashAtEnd: lines.at(-1)?.hash, eventsChecked: 31, findings: [], head: { seq: 36 } },
      checkpoint: null,
      files: { 'events.jsonl': { sha256: createHash('sha256').update(raw).digest('hex'), bytes: raw.length } },
    });
    const recorded = (await log.list({ type: 'audit.export' })).events[0];
    expect(recorded).toMatchObject({ actor: 'system:audit', payload: { events: 31, content: 'omitted', manifestSha256: createHash('sha256').update(readFileSync(join(dir, 'manifest.json'))).digest('hex') } });
  });

  it('lets anyone recompute every hash and link from the lines, by the rule in the manifest', async () => {
    const dir = out();
    await log.export(january, dir);
    const { lines, manifest } = readPackage(dir);
    expect(manifest.chain.rule).toMatch(/JSON\.stringify/);
    let prev = manifest.chain.prevHashAtStart;
    for (const line of lines) {
      const recomputed = eventHash({ ...line, risks: JSON.stringify(line.risks), payload: canonicalJson(line.payload) }, line.seq);
      expect(recomputed).toBe(line.hash);
      expect(line.prevHash).toBe(prev);
      prev = line.hash;
    }
    expect(prev).toBe(manifest.chain.hashAtEnd);
  });

  it("exports one user's events, the chain ends still those of the whole range", async () => {
    const dir = out();
    await log.export({ ...january, user: 'u2' }, dir);
    const { manifest, lines } = readPackage(dir);
    expect(new Set(lines.map((l) => l.actor))).toEqual(new Set(['user:u2']));
    expect(manifest).toMatchObject({ user: 'user:u2', events: { count: 15 }, chain: { firstSeq: 3, lastSeq: 33, eventsChecked: 31 } });
  });

  it('decrypts content only when asked and the key is there', async () => {
    const withoutKeys = new AuditLog(getStore(), { clock: () => now });
    await expect(withoutKeys.export(january, out(), { includeContent: true })).rejects.toThrow(AuditKeyError);
    const dir = out();
    await log.export(january, dir, { includeContent: true, exportedBy: 'operator:o1' });
    const { manifest, lines } = readPackage(dir);
    expect(manifest).toMatchObject({ content: 'decrypted', events: { withContent: 10 } });
    expect(lines.find((l) => l.seq === 4)?.content).toEqual({ input: '问题 3' });
    expect((await log.list({ type: 'audit.export', actor: 'operator:o1' })).events).toHaveLength(1);
  });

  it('never writes into an existing folder, and leaves nothing behind when it fails', async () => {
    const dir = out();
    mkdirSync(dir);
    await expect(log.export(january, dir)).rejects.toThrow(AuditExportError);
    await db.updateTable('audit_events').set({ content: Buffer.alloc(40) }).where('seq', '=', 7).execute();
    const failing = out();
    await expect(log.export(january, failing, { includeContent: true })).rejects.toThrow(AuditContentError);
    expect(existsSync(failing)).toBe(false);
    expect(readdirSync(root).filter((name) => name.includes('.partial-'))).toEqual([]);
  });

  it('reports damage inside the range in the manifest', async () => {
    await db.updateTable('audit_events').set({ payload: '{"day":99}' }).where('seq', '=', 10).execute();
    const dir = out();
    const { manifest } = await log.export(january, dir);
    expect(manifest.chain.findings).toEqual([expect.stringMatching(/^event 10 altered/)]);
  });

  it('writes an empty package for a range without events', async () => {
    const dir = out();
    const { manifest } = await log.export({ from: new Date('2024-01-01T00:00:00.000Z'), to: new Date('2024-02-01T00:00:00.000Z') }, dir);
    expect(manifest).toMatchObject({ events: { count: 0 }, chain: { firstSeq: null, hashAtEnd: null, eventsChecked: 0 }, files: { 'events.jsonl': { bytes: 0 } } });
    await expect(log.export({ from: january.to, to: january.from }, out())).rejects.toThrow(/range is empty/);
  });
});
