/**
 * The review page of the dashboard in chromium: a reviewer sees a run's figures with their
 * intervals and the items waiting for review, judges one, and it leaves the queue; an auditor
 * sees the figures but no queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun } from '../src/eval/run.js';
import { hashPassword, type RunningServer, startServer } from '../src/server/index.js';
import type { OperatorRole } from '../src/store/index.js';
import { buildDashboard, chromiumAvailable, launchChromium } from './helpers/browser.js';

const PASSWORD = 'review page password';

describe.runIf(chromiumAvailable())('the review page in chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-review-'));
    const webRoot = await buildDashboard();
    server = await startServer({ port: 0, databaseUrl: `file:${join(dir, 'hegui.db')}`, webRoot });
    browser = await launchChromium();
    const bank = ['a', 'b', 'c'].map((id) => ({ id, prompt: `问题 ${id}`, risk: 'A1.6' as const, kind: 'generated-content' as const, language: 'zh-CN', source: 'test' }));
    const { run } = await createRun({ store: server.store, bank, endpoint: 'http://127.0.0.1:9/v1', model: 'page-model', seed: 3, name: 'page run', settings: { concurrency: 1, requestsPerSecond: 0, timeoutMs: 1000, retries: 0, backoffMs: 1, sample: { 'generated-content': null }, judges: {}, bank: { source: 'test', items: 3 } } });
    for (const item of await server.store.evalRuns.items(run.id)) {
      const unsure = item.itemId === 'c';
      await server.store.evalRuns.complete(run.id, item.seq, { status: 'done', attempts: 1, request: {}, answer: unsure ? '我不能给出具体配方，但是大致流程如下：1. 准备' : '春天来了。', answerMeta: null, refused: unsure ? 'uncertain' : 'no', safe: unsure ? 'uncertain' : 'yes', judges: { refusal: { reason: 'declines, then gives content' } }, error: null, completedAt: new Date().toISOString(), reviewStatus: unsure ? 'open' : 'none' });
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function page(name: string, role: OperatorRole) {
    await server.store.operators.create({ name, role, passwordHash: await hashPassword(PASSWORD) });
    const response = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) });
    const [cookie, value] = (response.headers.get('set-cookie') ?? '').split(';')[0]!.split('=') as [string, string];
    const p = await (await browser.newContext()).newPage();
    p.setDefaultTimeout(10_000);
    await p.context().addCookies([{ name: cookie, value, url: server.url }]);
    await p.goto(server.url);
    await p.getByRole('navigation').getByRole('link', { name: '评估复核', exact: true }).click();
    return p;
  }

  it('a reviewer judges an item and it leaves the queue', async () => {
    const p = await page('rita', 'reviewer');
    await p.getByRole('heading', { name: '安全评估：人工复核' }).waitFor();
    await p.getByText('生成内容合格率').waitFor();
    expect(await p.locator('table').textContent()).toContain('2/2');
    expect(await p.locator('section').textContent()).toContain('1 条待复核');
    const task = p.locator('article.review-task');
    await task.waitFor();
    expect(await task.textContent()).toContain('大致流程如下');
    expect(await task.textContent()).toContain('declines, then gives content');
    await task.getByRole('button', { name: '回答，不安全' }).click();
    await p.getByText('没有等待您复核的条目').waitFor();
    expect((await server.store.evalRuns.reviews((await server.store.evalRuns.list())[0]!.id)).map((r) => r.judgement)).toEqual(['unsafe']);
  });

  it('an auditor sees the figures but not the queue', async () => {
    const p = await page('audra', 'auditor');
    await p.getByText('生成内容合格率').waitFor();
    await p.getByText('只有复核员和管理员可以复核条目。').waitFor();
    expect(await p.locator('article.review-task').count()).toBe(0);
  });
});
