import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueuedScan, recordLocalScan } from '../src/corpus/queue.js';
import { defaultReadOptions } from '../src/corpus/read.js';
import { SourceRegistry } from '../src/corpus/registry.js';
import { runLocalScan } from '../src/corpus/run.js';
import { hashPassword, type RunningServer, startServer } from '../src/server/index.js';
import { writeLibraryFile } from '../src/safety/index.js';
import { buildDashboard, chromiumAvailable, launchChromium } from './helpers/browser.js';
import { testLibrary, writeCorpus } from './helpers/corpus.js';

describe.runIf(chromiumAvailable())('the corpus page in chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-corpus-dash-'));
    const webRoot = await buildDashboard();
    server = await startServer({ port: 0, databaseUrl: `file:${join(dir, 'hegui.db')}`, webRoot });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows sources with their verdicts, unknown licences as unknown, and a running scan', async () => {
    const registry = new SourceRegistry(server.store);
    await registry.add({ id: 'news', name: 'news', origin: 'vendor', collectionMethod: 'commercial', licence: 'LicenseRef-vendor', owner: 'x', foreign: false }, 'test');
    await registry.add({ id: 'forum', name: 'forum', origin: 'crawl', collectionMethod: 'crawled', owner: 'x', foreign: true }, 'test');
    const library = join(dir, 'lib.json');
    await writeLibraryFile(library, testLibrary());
    const path = join(dir, 'news.jsonl');
    writeCorpus(path, { items: 2000, share: 0.09, seed: 2 });
    const settings = { mode: 'sample' as const, sampleSize: 4000, seed: 1, stratify: false, read: defaultReadOptions, keepFlagged: 10 };
    const { report, flagged } = await runLocalScan({ paths: [path], settings, library, pii: true, workers: 0 });
    await recordLocalScan(server.store, { source: 'news', settings, library, pii: true, paths: [path], createdBy: 'test', startedAt: new Date() }, report, flagged);
    await createQueuedScan(server.store, { source: 'forum', paths: [path], settings, library, pii: true, shardBytes: 20_000, createdBy: 'test' });

    await server.store.operators.create({ name: 'cora', role: 'auditor', passwordHash: await hashPassword('corpus page password') });
    const response = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'cora', password: 'corpus page password' }) });
    const [cookie, value] = (response.headers.get('set-cookie') ?? '').split(';')[0]!.split('=') as [string, string];
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    await page.context().addCookies([{ name: cookie, value, url: server.url }]);
    await page.goto(server.url);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Training data', exact: true }).click();
    await page.locator('tr[data-source="news"]').waitFor();
    expect(await page.locator('tr[data-source="news"] [data-verdict]').getAttribute('data-verdict')).toBe('not-usable');
    expect(await page.locator('tr[data-source="news"]').textContent()).toContain('2000 / 2000');
    expect(await page.locator('tr[data-source="forum"]').textContent()).toContain('unknown');
    expect(await page.locator('tr[data-source="forum"] [data-verdict]').getAttribute('data-verdict')).toBe('none');
    expect(await page.locator('[data-stat="foreign"] strong').textContent()).toBe('50.00 %');
    expect(await page.locator('[data-scan] progress').count()).toBe(1);
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '训练语料' }).waitFor();
  });
});
