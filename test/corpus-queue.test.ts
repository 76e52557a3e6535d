import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createQueuedScan, runWorker } from '../src/corpus/queue.js';
import { defaultReadOptions } from '../src/corpus/read.js';
import { runLocalScan } from '../src/corpus/run.js';
import type { ScanReport, ScanSettings } from '../src/corpus/scan.js';
import { SourceRegistry } from '../src/corpus/registry.js';
import { writeLibraryFile } from '../src/safety/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { testLibrary, writeCorpus } from './helpers/corpus.js';
import { describeEachDatabase, describeEachStore } from './helpers/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-corpus-queue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const libraryPath = join(dir, 'library.json');
await writeLibraryFile(libraryPath, testLibrary());
const corpusPath = join(dir, 'corpus.jsonl');
const corpus = writeCorpus(corpusPath, { items: 20000, share: 0.05, seed: 21, piiEvery: 40 });

const settings = (mode: 'sample' | 'full'): ScanSettings => ({ mode, sampleSize: 4000, seed: 99, stratify: false, read: defaultReadOptions, keepFlagged: 100000 });

async function register(store: Store): Promise<void> {
  await new SourceRegistry(store).add({ id: 'gen', name: 'generated', origin: 'test', collectionMethod: 'synthetic', owner: 'test' }, 'test');
}

describeEachStore(
  'corpus queue in one process',
  (getStore) => {
    it('two workers share a queued sample scan and merge the same report as a scan on one machine', async () => {
      const store = getStore();
      await register(store);
      const { scanId, shards } = await createQueuedScan(store, { source: 'gen', paths: [corpusPath], settings: settings('sample'), library: libraryPath, pii: true, shardBytes: 150_000, createdBy: 'test' });
      expect(shards).toBeGreaterThan(5);
      const [a, b] = await Promise.all([runWorker(store, { scanId, owner: 'a', pollMs: 20 }), runWorker(store, { scanId, owner: 'b', pollMs: 20 })]);
      expect(a.completed + b.completed).toBe(shards);
      expect([...a.merged, ...b.merged]).toEqual([scanId]);
      const scan = await store.corpus.getScan(scanId);
      const local = await runLocalScan({ paths: [corpusPath], settings: settings('sample'), library: libraryPath, pii: true, workers: 0 });
      const report = scan!.report as unknown as ScanReport;
      expect(report.harmful).toEqual(local.report.harmful);
      expect(report.population).toBe(20000);
      const flagged = await store.corpus.flagged(scanId, 10000);
      expect(flagged.map((f) => f.position).sort((x, y) => x - y)).toEqual(local.flagged.map((f) => f.position).sort((x, y) => x - y));
    });

    it('a shard whose lease expired is taken over, and its first holder can no longer complete it', async () => {
      const store = getStore();
      await register(store);
      const { scanId } = await createQueuedScan(store, { source: 'gen', paths: [corpusPath], settings: settings('full'), library: libraryPath, pii: true, shardBytes: Math.ceil(statSync(corpusPath).size / 2), createdBy: 'test' });
      const t0 = Date.parse('2026-12-04T12:00:00Z');
      const at = (ms: number): string => new Date(t0 + ms).toISOString();
      const dead = await store.corpus.claimShard('dead', at(0), at(1000), scanId);
      expect(dead).toMatchObject({ seq: 0, attempts: 1 });
      const other = await store.corpus.claimShard('alive', at(500), at(1500), scanId);
      expect(other?.seq).toBe(1);
      expect(await store.corpus.claimShard('alive', at(600), at(1600), scanId)).toBeUndefined();
      const takeover = await store.corpus.claimShard('alive', at(1001), at(2001), scanId);
      expect(takeover).toMatchObject({ seq: 0, attempts: 2, leaseOwner: 'alive' });
      const late = { result: {}, items: 1, bytes: 1, flagged: [], at: at(1100) };
      expect(await store.corpus.completeShard(scanId, 0, 'dead', late)).toBe(false);
      expect(await store.corpus.renewLease(scanId, 0, 'dead', at(5000))).toBe(false);
      expect(await store.corpus.completeShard(scanId, 0, 'alive', late)).toBe(true);
      expect(await store.corpus.completeShard(scanId, 0, 'alive', late)).toBe(false);
    });
  },
  { perTest: true },
);

function startWorker(url: string, scanId: string, env: Record<string, string> = {}): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'corpus', 'worker', '--scan', scanId, '--lease-sec', '2', '--poll-sec', '1', '--json'], {
    env: { ...process.env, HEGUI_DATABASE_URL: url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.stdout!.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exited };
}

async function until(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeEachDatabase('corpus workers as processes', (getDatabase) => {
  it('a worker killed with SIGKILL mid-shard: its shard is taken over and every item is counted exactly once', { timeout: 180_000 }, async () => {
    const { url } = getDatabase();
    const store = await openStore(url);
    try {
      await register(store);
      const { scanId, shards } = await createQueuedScan(store, { source: 'gen', paths: [corpusPath], settings: settings('full'), library: libraryPath, pii: true, shardBytes: 200_000, createdBy: 'test' });
      const doomed = startWorker(url, scanId, { HEGUI_CORPUS_FAULT_STALL_AFTER: '300' });
      await until(() => doomed.stderr().includes('"kind":"stalled"'), 'the first worker to stall mid-shard');
      const survivor = startWorker(url, scanId);
      await until(() => survivor.stderr().includes('"kind":"completed"'), 'the second worker to complete a shard');
      doomed.child.kill('SIGKILL');
      expect(await doomed.exited).toBe(null);
      expect(await survivor.exited).toBe(0);
      const scan = await store.corpus.getScan(scanId);
      expect(scan?.state).toBe('done');
      const report = scan!.report as unknown as ScanReport;
      expect(report.population).toBe(corpus.items);
      expect(report.sampled).toBe(corpus.items);
      expect(report.flagged).toBe(corpus.harmful);
      const rows = await store.corpus.shards(scanId);
      expect(rows).toHaveLength(shards);
      expect(rows.every((r) => r.state === 'done')).toBe(true);
      expect(rows.reduce((a, r) => a + r.items, 0)).toBe(corpus.items);
      const taken = rows.filter((r) => r.attempts > 1);
      expect(taken).toHaveLength(1);
      expect(taken[0]!.completedBy).not.toContain(String(doomed.child.pid));
      expect(await store.corpus.countFlagged(scanId)).toBe(corpus.harmful);
    } finally {
      await store.close();
    }
  });
});
