/**
 * The desk end to end in Debian's chromium, on every store (issue 15's acceptance): a requester
 * files a complaint and a personal-information copy request on the public pages, confirms the
 * code the local SMTP server received, a reviewer works both cases in the dashboard, the
 * requester downloads the ZIP and sees the feedback; then a delete request, after which
 * `hegui audit verify` passes and the person's content is gone from every table (read directly
 * from the database). And hostile HTML in every field runs no script anywhere.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditContentKeyring } from '../src/audit/index.js';
import { createApiUser } from '../src/gateway/index.js';
import { hashPassword } from '../src/server/index.js';
import { type GatewayHarness, startGateway } from './gateway-harness.js';
import { buildDashboard, chromiumAvailable, launchChromium } from './helpers/browser.js';
import { cli } from './helpers/cli.js';
import { unzip } from './helpers/desk.js';
import { rawDatabase } from './helpers/raw-database.js';
import { codeIn, type LocalSmtp, startSmtp } from './helpers/smtp.js';
import { describeEachDatabase } from './helpers/stores.js';

const CONTENT_KEY = AuditContentKeyring.generateKey();
const PASSWORD = 'reviewer password 1';
const HOSTILE = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script><svg onload="window.__pwned=1">`;

let webRoot: Promise<string> | undefined;

if (chromiumAvailable()) {
  describeEachDatabase('desk in chromium', (getDatabase) => {
    let h: GatewayHarness;
    let smtp: LocalSmtp;
    let browser: Browser;
    let env: Record<string, string>;

    beforeAll(async () => {
      webRoot ??= buildDashboard();
      smtp = await startSmtp();
      env = { HEGUI_AUDIT_CONTENT_KEY: CONTENT_KEY, HEGUI_SMTP_URL: smtp.url, HEGUI_DESK_FROM: 'desk@hegui.test' };
      h = await startGateway({ databaseUrl: getDatabase().url, env, config: { audit: { content: 'all' }, users: { cacheSeconds: 0 } }, webRoot: await webRoot });
      h.double.behaviour = () => ({ text: 'an answer' });
      browser = await launchChromium();
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await h?.close();
      await smtp?.close();
    });

    async function newPage(): Promise<Page> {
      const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
      page.setDefaultTimeout(15_000);
      page.on('dialog', (dialog) => {
        throw new Error(`a dialog opened: ${dialog.message()}`);
      });
      return page;
    }

    async function reviewerPage(): Promise<Page> {
      const name = `rev${Math.random().toString(36).slice(2, 8)}`;
      await h.server.store.operators.create({ name, role: 'reviewer', passwordHash: await hashPassword(PASSWORD) });
      const response = await fetch(`${h.server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) });
      const [cookie, value] = (response.headers.get('set-cookie') ?? '').split(';')[0]!.split('=') as [string, string];
      const page = await newPage();
      await page.context().addCookies([{ name: cookie, value, url: h.server.url }]);
      await page.goto(h.server.url);
      await page.locator('[data-nav="desk"]').click();
      await page.locator('[data-desk-queue]').waitFor();
      return page;
    }

    /** Files on the public page; returns the status page (verified with the mailed code) and its reference. */
    async function fileOnPage(fields: { kind: string; category: string; text: string; contact: string; subject?: string; apiKey?: string; evidence?: { name: string; mimeType: string; buffer: Buffer } }): Promise<{ page: Page; reference: string }> {
      const page = await newPage();
      await page.goto(`${h.server.url}/desk/new`);
      await page.locator('select[name="kind"]').selectOption(fields.kind);
      await page.locator('select[name="category"]').selectOption(fields.category);
      if (fields.subject) await page.locator('input[name="subject"]').fill(fields.subject);
      await page.locator('textarea[name="text"]').fill(fields.text);
      await page.locator('input[name="contact"]').fill(fields.contact);
      if (fields.apiKey) await page.locator('input[name="apiKey"]').fill(fields.apiKey);
      if (fields.evidence) await page.locator('input[name="evidence"]').setInputFiles(fields.evidence);
      await page.locator('[data-intake] button[type="submit"]').click();
      const reference = (await page.locator('[data-reference]').textContent())!;
      const mail = await smtp.waitFor(fields.contact, reference, 15_000);
      await page.locator('[data-verify] input[name="code"]').fill(codeIn(mail));
      await page.locator('[data-verify] button[type="submit"]').click();
      await page.locator('[data-verified]').waitFor();
      return { page, reference };
    }

    async function openCase(page: Page, reference: string): Promise<void> {
      if ((await page.locator('[data-desk-case]').count()) > 0) await page.locator('[data-desk-case] p button').first().click();
      await page.locator(`[data-case="${reference}"] a`).click();
      await page.locator(`[data-desk-case="${reference}"]`).waitFor();
    }

    async function move(page: Page, to: string, stateName: string, resolution?: string): Promise<void> {
      await page.locator('[data-transition] select[name="to"]').selectOption(to);
      if (resolution) await page.locator('[data-transition] textarea[name="resolution"]').fill(resolution);
      await page.locator('[data-transition] button[type="submit"]').click();
      await expect.poll(() => page.locator('[data-desk-case] [data-state]').textContent()).toBe(stateName);
    }

    it('runs the whole path: complaint and copy request, codes by SMTP, reviewer, ZIP and feedback; then deletion leaves nothing of the person', async () => {
      const mark = Math.random().toString(36).slice(2, 10);
      const contact = `mei.${mark}@example.cn`;
      const secret = `my passport is E${mark}`;
      const { user, key } = await createApiUser(h.server.store, { name: `mei-${mark}`, verified: true });
      await new OpenAI({ apiKey: key, baseURL: `${h.server.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: secret }] });

      const complaint = await fileOnPage({
        kind: 'complaint',
        category: 'harmful-content',
        text: `complaint words ${mark}`,
        contact,
        subject: `req_${mark}`,
        evidence: { name: `proof-${mark}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`the answer said ${mark}`) },
      });
      expect(complaint.reference).toMatch(/^C-\d{4}-\d{6}$/);
      await complaint.page.locator('text=evidence file (text/plain)').waitFor();
      const copy = await fileOnPage({ kind: 'pi', category: 'copy', text: `copy please ${mark}`, contact, apiKey: key });
      expect(copy.reference).toMatch(/^PI-\d{4}-\d{6}$/);

      const reviewer = await reviewerPage();
      await reviewer.locator(`[data-case="${complaint.reference}"]`).waitFor();
      await openCase(reviewer, complaint.reference);
      await move(reviewer, 'in-progress', '处理中');
      await reviewer.locator('[data-reply] select[name="template"]').selectOption('acknowledge');
      await reviewer.locator('[data-reply] button[type="submit"]').click();
      await expect.poll(() => reviewer.locator('[data-desk-case] .messages li').count()).toBe(1);
      await move(reviewer, 'resolved', '已办结', 'We removed the answer and retrained the filter.');

      await openCase(reviewer, copy.reference);
      await move(reviewer, 'in-progress', '处理中');
      await reviewer.locator('[data-carry-out] button').click();
      await reviewer.locator('[data-notice]').waitFor();
      await move(reviewer, 'resolved', '已办结', 'Your copy is ready to download.');

      // The requester sees the feedback on both status pages and receives it by mail.
      await complaint.page.reload();
      expect(await complaint.page.locator('[data-outcome]').textContent()).toContain('We removed the answer');
      await smtp.waitFor(contact, `[${complaint.reference}] 已办结`, 15_000).catch(() => smtp.waitFor(contact, `[${complaint.reference}] resolved`, 15_000));
      await copy.page.reload();
      const [download] = await Promise.all([copy.page.waitForEvent('download'), copy.page.locator('[data-download="export"]').click()]);
      const zipped = unzip(readFileSync((await download.path())!));
      const records = JSON.parse(zipped.get('records.json')!) as { sections: { id: string; rows: Record<string, unknown>[] }[]; deskCases: { reference: string }[] };
      expect(JSON.stringify(records.sections)).toContain(secret);
      expect(records.deskCases.map((c) => c.reference).sort()).toEqual([complaint.reference, copy.reference].sort());
      expect(zipped.get('index.html')).toContain('个人信息副本');

      // Deletion.
      const del = await fileOnPage({ kind: 'pi', category: 'delete', text: `delete me ${mark}`, contact, apiKey: key });
      await reviewer.reload();
      await reviewer.locator('[data-nav="desk"]').click();
      await openCase(reviewer, del.reference);
      await move(reviewer, 'in-progress', '处理中');
      await reviewer.locator('[data-carry-out] button').click();
      const summary = await reviewer.locator('[data-notice]').textContent();
      expect(summary).toContain('六个月');
      await move(reviewer, 'resolved', '已办结', summary!);
      await h.server.desk!.outbox.flush();
      const last = await smtp.waitFor(contact, `[${del.reference}]`, 15_000);
      expect(last.text).toContain('六个月');
      await h.server.audit.flush();

      const verify = await cli(['audit', 'verify'], { env: { ...env, HEGUI_DATABASE_URL: h.databaseUrl } });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain(`redacted by request ${del.reference}`);

      // Every table, every row, read directly: nothing of the person's words, address or account remains.
      const raw = rawDatabase(getDatabase());
      try {
        const tables =
          getDatabase().dialect === 'sqlite'
            ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(raw)).rows.map((r) => r.name)
            : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(raw)).rows.map((r) => r.name);
        expect(tables).toEqual(expect.arrayContaining(['desk_cases', 'desk_messages', 'desk_outbox', 'audit_events', 'gateway_users']));
        for (const table of tables) {
          const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(raw)).rows;
          const text = JSON.stringify(rows, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
          for (const needle of [contact, mark, secret, `mei-${mark}`]) expect(text.includes(needle), `${needle} in ${table}`).toBe(false);
        }
        const erased = await raw.selectFrom('desk_cases').select(['reference', 'erased_at', 'text', 'contact']).where('reference', 'in', [complaint.reference, copy.reference, del.reference]).execute();
        expect(erased).toHaveLength(3);
        for (const row of erased) expect(row).toMatchObject({ text: '', contact: null, erased_at: expect.any(String) });
        // Only these cases' attachments: the suite's other tests share the database and may leave their own.
        const theirs = raw.selectFrom('desk_cases').select('id').where('reference', 'in', [complaint.reference, copy.reference, del.reference]);
        expect(await raw.selectFrom('desk_attachments').select('id').where('case_id', 'in', theirs).execute()).toHaveLength(0);
        expect(user.id).toBeTruthy();
      } finally {
        await raw.destroy();
      }
      // The requester still sees how the request ended.
      await del.page.reload();
      expect(await del.page.locator('[data-outcome]').textContent()).toContain('六个月');
    }, 240_000);

    it('runs no script from hostile HTML in any field, on the reviewer\'s pages or the requester\'s', async () => {
      const contact = `h${Math.random().toString(36).slice(2, 8)}@example.cn`;
      const filed = await fileOnPage({ kind: 'report', category: 'illegal-content', text: HOSTILE, subject: HOSTILE, contact });
      const token = new URL(filed.page.url()).hash.slice(1);
      const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
      const upload = await fetch(`${h.server.url}/api/desk/public/status/evidence`, { method: 'POST', body: png, headers: { 'x-desk-token': token, 'content-type': 'image/png', 'x-filename': encodeURIComponent('<img src=x onerror=alert(1)>.png') } });
      expect(upload.status).toBe(201);
      await fetch(`${h.server.url}/api/desk/public/status/messages`, { method: 'POST', body: JSON.stringify({ text: HOSTILE }), headers: { 'x-desk-token': token, 'content-type': 'application/json' } });
      const reviewer = await reviewerPage();
      await openCase(reviewer, filed.reference);
      await reviewer.locator('[data-note] textarea').fill(HOSTILE);
      await reviewer.locator('[data-note] button').click();
      await expect.poll(() => reviewer.locator('[data-notes] li').count()).toBe(1);
      await reviewer.locator('[data-reply] textarea[name="reply"]').fill(HOSTILE);
      await reviewer.locator('[data-reply] button[type="submit"]').click();
      await expect.poll(() => reviewer.locator('[data-desk-case] .messages li').count()).toBe(2);
      await reviewer.locator('[data-transition] select[name="to"]').selectOption('refused');
      await reviewer.locator('[data-transition] input[name="reason"]').fill(HOSTILE);
      await reviewer.locator('[data-transition] button[type="submit"]').click();
      await expect.poll(() => reviewer.locator('[data-desk-case] [data-state]').textContent()).toBe('不予办理');
      expect(await reviewer.locator('[data-desk-case] [data-text]').textContent()).toBe(HOSTILE);
      expect(await reviewer.locator('[data-desk-case] [data-subject]').textContent()).toBe(HOSTILE);
      expect(await reviewer.locator('[data-desk-case] img, [data-desk-case] svg, [data-desk-case] script').count()).toBe(0);
      expect(await reviewer.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
      await filed.page.reload();
      await filed.page.locator('[data-outcome]').waitFor();
      expect(await filed.page.locator('[data-outcome]').textContent()).toContain(HOSTILE);
      expect(await filed.page.locator('main img, main svg, main script').count()).toBe(0);
      expect(await filed.page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    }, 120_000);
  });
} else {
  it.skip('desk in chromium: chromium is not installed', () => undefined);
}
