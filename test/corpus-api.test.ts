import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createQueuedScan } from '../src/corpus/queue.js';
import { defaultReadOptions } from '../src/corpus/read.js';
import { SourceRegistry } from '../src/corpus/registry.js';
import { hashPassword, type RunningServer, startServer } from '../src/server/index.js';
import { writeCorpus } from './helpers/corpus.js';
import { describeEachDatabase } from './helpers/stores.js';

describeEachDatabase('GET /api/corpus/report', (getDatabase) => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-corpus-api-'));
    mkdirSync(join(dir, 'web'));
    writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>dash</title>');
    server = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot: join(dir, 'web') });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the corpus section with running scans to signed-in operators only', async () => {
    expect((await fetch(`${server.url}/api/corpus/report`)).status).toBe(401);
    await server.store.operators.create({ name: 'ada', role: 'auditor', passwordHash: await hashPassword('a long enough password') });
    const session = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ada', password: 'a long enough password' }) });
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
    await new SourceRegistry(server.store).add({ id: 'web-zh', name: 'web', origin: 'crawl', collectionMethod: 'crawled', owner: 'x' }, 'test');
    const path = join(dir, 'c.jsonl');
    writeCorpus(path, { items: 500, share: 0.02, seed: 1 });
    const { scanId } = await createQueuedScan(server.store, { source: 'web-zh', paths: [path], settings: { mode: 'sample', sampleSize: 100, seed: 1, stratify: false, read: defaultReadOptions, keepFlagged: 10 }, library: undefined, pii: true, shardBytes: 10_000, createdBy: 'test' });
    const report = (await (await fetch(`${server.url}/api/corpus/report`, { headers: { cookie } })).json()) as { sources: { id: string; licence: string; scan: unknown }[]; running: { id: string; shards: number; done: number }[]; licences: { unknown: string[] }; foreign: { sources: { share: number | null } } };
    expect(report.sources).toEqual([expect.objectContaining({ id: 'web-zh', licence: 'unknown', scan: null })]);
    expect(report.licences.unknown).toEqual(['web-zh']);
    expect(report.foreign.sources.share).toBeNull();
    expect(report.running).toEqual([expect.objectContaining({ id: scanId, done: 0 })]);
    expect(report.running[0]!.shards).toBeGreaterThan(1);
  });
});
