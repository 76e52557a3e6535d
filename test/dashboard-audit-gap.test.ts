/**
 * The compliance officer's and the auditor's jobs done end to end in chromium, at 1440 px and
 * 390 px, in Chinese and English: record duty states, see progress, export the gap report;
 * find a user, see the full history with sanctions, pick today's events only, verify the
 * chain, export for an authority, open an event. Screenshots go to test-output/dashboard/
 * (gitignored); axe-core checks every state shown for serious or critical findings.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/index.js';
import { hashPassword, type RunningServer, startServer } from '../src/server/index.js';
import type { GatewayUser } from '../src/store/index.js';
import { buildDashboard, chromiumAvailable, launchChromium } from './helpers/browser.js';

const PASSWORD = 'dashboard password';
const SHOTS = join(import.meta.dirname, '..', 'test-output', 'dashboard');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TEXT = {
  zh: { gap: '差距评估', audit: '审计日志', edit: '编辑', save: '保存', nonCompliant: '不符合', history: '用户历史', verify: '校验哈希链', export: '导出（供主管部门）', detail: '事件详情', ok: '哈希链完好' },
  en: { gap: 'Gap assessment', audit: 'Audit log', edit: 'Edit', save: 'Save', nonCompliant: 'Non-compliant', history: 'History', verify: 'Verify the hash chain', export: 'Export for an authority', detail: 'Event detail', ok: 'Chain intact' },
} as const;
const WIDTHS = [1440, 390] as const;

function beijingDay(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

/** Serious and critical axe findings inside <main> (the pages this suite owns). */
async function axeFindings(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run({ include: [['main']] }, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

describe.runIf(chromiumAvailable())('gap view and auditor workflow in chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let webRoot: string;
  let dir: string;
  let user: GatewayUser;
  const missing: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'hegui-dash-audit-'));
    webRoot = await buildDashboard();
    server = await startServer({ port: 0, databaseUrl: `file:${join(dir, 'hegui.db')}`, webRoot });
    browser = await launchChromium();
    user = await server.store.gatewayUsers.create({ name: '王小明 wang' });
    await server.store.gatewayUsers.create({ name: 'other-user' });
    // Yesterday (Beijing): outside a from = to = today range.
    const yesterday = new AuditLog(server.store, { clock: () => new Date(Date.now() - 86_400_000) });
    await yesterday.append({ type: 'gateway.request', actor: `user:${user.id}`, outcome: 'pass', payload: { endpoint: 'chat.completions', model: 'm', status: 200, requestId: 'req-yesterday' } });
    await yesterday.flush();
    await server.audit.append({ type: 'gateway.request', actor: `user:${user.id}`, outcome: 'block', risks: ['A.1.1'], payload: { endpoint: 'chat.completions', model: 'm', status: 200, requestId: 'req-today' } });
    await server.audit.append({ type: 'user.sanction', actor: 'system:gateway', outcome: 'warn', payload: { user: user.id, action: 'warn', blocks: 3, requestId: 'req-today' } });
    for (const [name, role] of [['officer', 'reviewer'], ['auditor', 'auditor']] as const) {
      await server.store.operators.create({ name, role, passwordHash: await hashPassword(PASSWORD) });
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function pageFor(name: string, lang: 'zh' | 'en', width: number): Promise<Page> {
    const response = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) });
    const [cookie, value] = (response.headers.get('set-cookie') ?? '').split(';')[0]!.split('=') as [string, string];
    // bypassCSP lets the test inject axe-core's source; the app itself runs under its CSP otherwise unchanged.
    const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true, bypassCSP: true });
    await context.addCookies([{ name: cookie, value, url: server.url }]);
    await context.addInitScript((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('hegui.lang', l), lang);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  for (const [lang, width] of [['zh', 1440], ['en', 390]] as const) {
    it(`shows the obligations with a jump list and no serious accessibility finding (${lang}, ${width} px)`, async () => {
      const page = await pageFor('officer', lang, width);
      await page.goto(`${server.url}/?on=2026-11-28`);
      await page.locator('nav.jump a').first().waitFor();
      expect(await page.locator('.profile code').textContent()).not.toContain('/');
      await page.screenshot({ path: join(SHOTS, `obligations-${lang}-${width}.png`) });
      expect(await axeFindings(page), 'axe on the obligations').toEqual([]);
      await page.context().close();
    }, 60_000);
  }

  for (const lang of ['zh', 'en'] as const) {
    for (const width of WIDTHS) {
      it(`lets the compliance officer record states, see progress and export (${lang}, ${width} px)`, async () => {
        const t = TEXT[lang];
        const page = await pageFor('officer', lang, width);
        // Every page has its own address (the navigation itself is tested in dashboard-ops).
        await page.goto(`${server.url}/gap`);
        await page.getByTestId('gap-summary').waitFor();
        const before = Number(await page.getByTestId('count-non-compliant').textContent());
        await page.screenshot({ path: join(SHOTS, `gap-summary-${lang}-${width}.png`) });
        expect(await axeFindings(page), 'axe on the gap summary').toEqual([]);

        // The next duty nobody recorded yet, in its instrument's section.
        const gap = (await (await page.request.get(`${server.url}/api/gap`)).json()) as { entries: { id: string; instrument: string; basis: string; state: string }[] };
        const duty = gap.entries.find((e) => e.basis === 'missing' && !missing.includes(e.id))!;
        missing.push(duty.id);
        const section = page.locator(`details[data-instrument="${duty.instrument}"]`);
        await section.locator('summary').click();
        const item = page.locator(`li[data-duty="${duty.id}"]`);
        await item.getByRole('button', { name: `${t.edit} ${duty.id}` }).click();
        await item.locator('select[name="status"]').selectOption('non-compliant');
        await item.locator('input[name="reason"]').fill(lang === 'zh' ? '尚未建立流程' : 'no process yet');
        await item.locator('input[name="plan"]').fill(lang === 'zh' ? '制定并发布流程' : 'write and publish the process');
        await item.locator('input[name="due"]').fill('2027-03-31');
        await item.getByRole('button', { name: t.save, exact: true }).click();
        await expect.poll(() => page.locator(`li[data-duty="${duty.id}"]`).getAttribute('data-basis')).toBe('evidence');
        // A duty that was counted non-compliant for lack of evidence stays so; the record now says why.
        expect(Number(await page.getByTestId('count-non-compliant').textContent())).toBe(before);
        expect(await page.locator(`li[data-duty="${duty.id}"]`).textContent()).toContain('2027-03-31');
        await page.locator(`li[data-duty="${duty.id}"]`).getByRole('button', { name: new RegExp(duty.id.replace(/\./g, '\\.')) }).last().click();
        await page.locator(`li[data-duty="${duty.id}"] .changes li`).first().waitFor();
        await page.locator(`li[data-duty="${duty.id}"]`).scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, `gap-recorded-${lang}-${width}.png`), fullPage: width === 390 });
        expect(await axeFindings(page), 'axe with a section open and a history shown').toEqual([]);

        for (const format of ['md', 'docx'] as const) {
          const href = await page.locator(`a[data-format="${format}"]`).getAttribute('href');
          const response = await page.request.get(`${server.url}${href}`);
          expect(response.status(), format).toBe(200);
          if (format === 'md') expect(await response.text()).toContain(lang === 'zh' ? '合规差距报告' : 'Compliance gap report');
        }
        await page.context().close();
      }, 60_000);

      it(`lets the auditor find a user, read the full history, verify, export and open an event (${lang}, ${width} px)`, async () => {
        const t = TEXT[lang];
        const page = await pageFor('auditor', lang, width);
        await page.goto(`${server.url}/audit`);
        await page.locator('tr[data-seq]').first().waitFor();
        const searches: string[] = [];
        page.on('request', (r) => r.url().includes('/api/audit/subjects?') && searches.push(r.url()));
        await page.locator('input[name="user"]').pressSequentially('wang', { delay: 30 });
        await page.locator('ul.found').getByRole('button', { name: '王小明 wang' }).click();
        // Debounced: four letters typed quickly ask fewer than four times, the last for the whole word.
        expect(searches.length).toBeLessThan(4);
        expect(searches.at(-1)).toContain('q=wang');
        await page.getByRole('heading', { name: new RegExp(`${t.history}.*王小明 wang`) }).waitFor();
        // Sanctions written by system:gateway belong to the user's history.
        await page.locator('tr[data-type="user.sanction"]').waitFor();
        // The user's own requests show the user by name, the id on hover.
        expect(await page.locator(`tr[data-type="gateway.request"] button[data-actor="user:${user.id}"]`).first().textContent()).toBe('王小明 wang');
        // Earlier runs' exports of this user's events are about the user too; count the rest.
        const rows = 'tr[data-seq]:not([data-type="audit.export"])';
        await expect.poll(() => page.locator(rows).count()).toBe(3);
        const today = beijingDay(new Date());
        await page.locator('input[name="from"]').fill(today);
        await page.locator('input[name="to"]').fill(today);
        await expect.poll(() => page.locator(rows).count()).toBe(2);
        expect(page.url()).toContain(`from=${today}`);
        await page.screenshot({ path: join(SHOTS, `audit-history-${lang}-${width}.png`), fullPage: width === 390 });
        expect(await axeFindings(page), 'axe on the history').toEqual([]);

        await page.getByRole('button', { name: t.verify }).click();
        await expect.poll(() => page.getByTestId('verify').textContent()).toContain(t.ok);
        const download = page.waitForEvent('download');
        await page.getByRole('button', { name: t.export }).click();
        expect((await download).suggestedFilename()).toMatch(/^hegui-audit-.*\.tar$/);
        await expect.poll(() => page.getByTestId('export').textContent()).toMatch(/\d/);

        await page.locator('tr[data-type="user.sanction"] td').last().getByRole('button').click();
        const drawer = page.getByRole('dialog');
        await drawer.waitFor();
        expect(await drawer.textContent()).toContain('system:gateway');
        await page.screenshot({ path: join(SHOTS, `audit-detail-${lang}-${width}.png`) });
        expect(await axeFindings(page), 'axe with the drawer open').toEqual([]);
        await page.keyboard.press('Escape');
        await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

        // Request-id search finds the request and the sanction it caused.
        await page.getByRole('button', { name: lang === 'zh' ? '显示全部事件' : 'Show all events' }).click();
        await page.locator('input[name="requestId"]').fill('req-today');
        await expect.poll(() => page.locator(rows).count()).toBe(2);
        await page.context().close();
      }, 60_000);
    }
  }
});
