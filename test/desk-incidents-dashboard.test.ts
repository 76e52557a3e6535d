/**
 * The incidents page in chromium, on both stores: a reviewer opens an incident whose title is
 * hostile HTML (shown as text, never run), stops generation from the page; an auditor sees the
 * incident and no forms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, type RunningServer, startServer } from '../src/server/index.js';
import type { OperatorRole } from '../src/store/index.js';
import { buildDashboard, chromiumAvailable, launchChromium } from './helpers/browser.js';
import { describeEachDatabase } from './helpers/stores.js';

const PASSWORD = 'dashboard password';
const HOSTILE = '<img src=x onerror="window.__xss=1">爆炸物';

describe.runIf(chromiumAvailable())('incidents page in chromium', () => {
  let webRoot: string;
  let browser: Browser;
  beforeAll(async () => {
    webRoot = await buildDashboard();
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    if (webRoot) rmSync(webRoot, { recursive: true, force: true });
  });

  describeEachDatabase('incidents page', (getDatabase) => {
    let server: RunningServer;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'hegui-inc-dash-'));
      server = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot });
    });
    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function signedIn(name: string, role: OperatorRole): Promise<Page> {
      await server.store.operators.create({ name, role, passwordHash: await hashPassword(PASSWORD) });
      const response = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) });
      const [cookie, value] = (response.headers.get('set-cookie') ?? '').split(';')[0]!.split('=') as [string, string];
      const page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(10_000);
      await page.context().addCookies([{ name: cookie, value, url: server.url }]);
      await page.goto(server.url);
      await page.getByRole('navigation').getByRole('link', { name: '违法内容事件', exact: true }).click();
      return page;
    }

    it('lets a reviewer open and act, shows hostile text as text, and gives an auditor no forms', async () => {
      const page = await signedIn('rita', 'reviewer');
      const open = page.locator('form[data-action="open"]');
      await open.locator('input[name="title"]').fill(HOSTILE);
      await open.locator('input[name="description"]').fill('<script>window.__xss=2</script>');
      await open.locator('select[name="grade"]').selectOption('major');
      await open.locator('button[type="submit"]').click();
      const article = page.locator('article.incident');
      await article.waitFor();
      expect(await article.locator('h2').textContent()).toContain(HOSTILE);
      expect(await page.locator('tr[data-ref] td').nth(4).textContent()).toBe(HOSTILE);
      const stop = page.locator('form[data-action="stop-generation"]');
      await stop.locator('input[name="terms"]').fill('违禁词甲, 违禁词乙');
      await stop.locator('input[name="risk"]').fill('A1.4');
      await stop.locator('button[type="submit"]').click();
      await article.locator('li', { hasText: '停止生成' }).waitFor();
      // Who acted shows by name, the operator id on hover.
      await expect.poll(() => article.locator('li', { hasText: '停止生成' }).locator('[data-actor^="operator:"]').textContent()).toBe('rita');
      expect(await page.evaluate('typeof globalThis.__xss')).toBe('undefined');
      expect(await page.getByRole('alert').count()).toBe(0);

      const auditor = await signedIn('audrey', 'auditor');
      await auditor.locator('tr[data-ref] button').first().click();
      await auditor.locator('article.incident li', { hasText: '停止生成' }).waitFor();
      expect(await auditor.locator('form').count()).toBe(0);
    });
  });
});
