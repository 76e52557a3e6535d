import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedLabel } from '../src/label/index.js';
import { hashPassword, type RunningServer, startServer } from '../src/server/index.js';
import { buildDashboard, chromiumAvailable, launchChromium } from './helpers/browser.js';

const PASSWORD = 'dashboard password';

/** Each test has a page of its own (its own cookies), signed in as its own operator or not at all. */
describe.runIf(chromiumAvailable())('dashboard in chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let webRoot: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-dash-'));
    webRoot = await buildDashboard();
    server = await startServer({ port: 0, databaseUrl: `file:${join(dir, 'hegui.db')}`, webRoot });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    return page;
  }

  /** A page signed in as a new operator `name` (an admin, so every view is open to it). */
  async function signedIn(name: string): Promise<Page> {
    await server.store.operators.create({ name, role: 'admin', passwordHash: await hashPassword(PASSWORD) });
    const response = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) });
    const [cookie, value] = (response.headers.get('set-cookie') ?? '').split(';')[0]!.split('=') as [string, string];
    const page = await newPage();
    await page.context().addCookies([{ name: cookie, value, url: server.url }]);
    return page;
  }

  it('asks for sign-in before showing anything', async () => {
    const page = await newPage();
    await page.goto(server.url);
    await page.getByRole('heading', { name: '登录' }).waitFor();
    expect(await page.locator('[data-obligation]').count()).toBe(0);
  });

  it('lets the first admin choose a name and a password through the one-time link, once', async () => {
    // A server of its own: no admin may exist for the link to work.
    const fresh = await startServer({ port: 0, databaseUrl: `file:${join(dir, 'first.db')}`, webRoot });
    try {
      expect(fresh.signinUrl).toBeDefined();
      const page = await newPage();
      await page.goto(fresh.signinUrl!);
      await page.locator('input[name="name"]').fill('lead');
      await page.locator('input[name="password"]').fill('first admin password');
      await page.locator('button[type="submit"]').click();
      await page.locator('[data-instrument="genai-measures"]').first().waitFor();
      expect(await page.getByRole('alert').count()).toBe(0);
      const again = await fetch(fresh.signinUrl!, { redirect: 'manual' });
      expect(again.status).toBe(403);
    } finally {
      await fresh.close();
    }
  });

  it('shows the profile obligations grouped by instrument, with citations', async () => {
    const page = await signedIn('olive');
    await page.goto(`${server.url}/?on=2026-11-28`);
    const genai = page.locator('article[data-instrument="genai-measures"]');
    await genai.waitFor();
    expect(await genai.locator('h2').textContent()).toContain('生成式人工智能服务管理暂行办法');
    expect(await genai.locator('[data-obligation]').count()).toBeGreaterThan(5);
    expect(await genai.textContent()).toContain('第十七条');
    // Each duty shows its binding force and how its citation was checked (issue 10).
    expect(await genai.locator('td.binding').first().textContent()).toBe('强制');
    expect(await genai.locator('td.check').first().textContent()).toBe('二手来源');
    expect(await page.locator('[data-section="without-itemised"]').textContent()).toContain('尚未逐条列出');
  });

  it('switches the date: labeling duties are upcoming on 2025-08-31 and apply on 2025-09-01', async () => {
    const page = await signedIn('dora');
    await page.goto(`${server.url}/?on=2026-11-28`);
    await page.locator('input[name="on"]').fill('2025-08-31');
    const upcoming = page.locator('[data-section="upcoming"]');
    await upcoming.waitFor();
    expect(await upcoming.textContent()).toContain('2025-09-01');
    expect(await page.locator('article[data-instrument="labeling-measures"]').count()).toBe(0);
    await page.locator('input[name="on"]').fill('2025-09-01');
    await page.locator('article[data-instrument="labeling-measures"]').waitFor();
  });

  it('filters by instrument, role and text, and speaks English on request', async () => {
    const page = await signedIn('fern');
    await page.goto(`${server.url}/?on=2026-11-28`);
    await page.locator('article[data-instrument]').first().waitFor();
    await page.selectOption('select[name="instrument"]', 'genai-measures');
    expect(await page.locator('article.instrument').count()).toBe(1);
    await page.locator('input[name="q"]').fill('no obligation says this 不存在');
    await page.getByText('没有符合条件的义务').waitFor();
    await page.locator('input[name="q"]').fill('');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: /Obligations/ }).waitFor();
    expect(await page.locator('article.instrument h2').first().textContent()).toMatch(/Interim Measures/);
    await page.screenshot({ path: join(dir, 'obligations.png'), fullPage: false });
  });

  it('builds a profile in the interview form, in the lawyer\'s order, with unknown kept as unknown', async () => {
    const page = await signedIn('iris');
    await page.goto(server.url);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Service profile interview', exact: true }).click();
    const yaml = page.getByTestId('profile-yaml');
    await yaml.waitFor();
    const order = await page.locator('li[data-field]').evaluateAll((items) => items.map((i) => i.getAttribute('data-field')));
    expect(order.indexOf('provider.domestic')).toBeLessThan(order.indexOf('service.audience'));
    expect(order.indexOf('service.audience')).toBeLessThan(order.indexOf('service.publicOpinion'));
    // Export volumes are asked while transfers abroad are unknown or yes, not once the answer is no.
    expect(order).toContain('service.export.individuals');
    await page.selectOption('select[name="service.crossBorderTransfer"]', 'no');
    await page.locator('li[data-field="service.export.individuals"]').waitFor({ state: 'detached' });
    await page.locator('input[name="provider.name"]').fill('Form Co.');
    await page.selectOption('select[name="service.audience"]', 'business-api');
    await page.locator('input[name="service.modalities"]').fill('text, sound');
    expect(await page.locator('li[data-field="service.modalities"] .error').textContent()).toContain('sound not in');
    const text = (await yaml.textContent()) ?? '';
    expect(text).toContain('name: Form Co.');
    expect(text).toContain('audience: business-api');
    expect(text).toContain('minors: unknown');
    expect(text).toContain('crossBorderTransfer: false');
    expect(text).not.toContain('export:');
    expect(text).toContain('# AI Measures Arts. 2 and 22');
  });

  it('inspects dropped files for implicit labels', async () => {
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#336699' } }).png().toBuffer();
    const labeled = await embedLabel(png, { producer: '001191350100M000100Y431A001', produceId: 'dash-1' });
    writeFileSync(join(dir, 'labeled.png'), labeled.bytes!);
    writeFileSync(join(dir, 'plain.png'), png);
    const page = await signedIn('ivan');
    await page.goto(server.url);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Labels', exact: true }).click();
    await page.locator('input[name="files"]').setInputFiles([join(dir, 'labeled.png'), join(dir, 'plain.png')]);
    const row = page.locator('tr[data-file="labeled.png"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('001191350100M000100Y431A001');
    expect(await row.textContent()).toContain('dash-1');
    expect(await page.locator('tr[data-file="plain.png"]').textContent()).toContain('No implicit label found');
  });

  it("shows live activity and the audit log, and a user's history", async () => {
    await server.audit.append({ type: 'gateway.request', actor: 'user:alice', outcome: 'pass', payload: { endpoint: 'chat.completions', model: 'm', status: 200, latencyMs: 3 } });
    await server.audit.append({ type: 'gateway.request', actor: 'user:bob', outcome: 'block', risks: ['A1.4'], payload: { endpoint: 'chat.completions', model: 'm', status: 200, latencyMs: 5 } });
    const page = await signedIn('amy');
    await page.goto(server.url);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Operations', exact: true }).click();
    await page.locator('[data-risk="A1.4"]').waitFor();
    expect(await page.locator('[data-stat="blocked"] strong').textContent()).toBe('1');
    expect(await page.locator('[data-stat="requests"] strong').textContent()).toBe('2');
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.locator('tr[data-seq]').nth(1).waitFor();
    await page.getByRole('button', { name: 'user:bob' }).click();
    await page.getByRole('heading', { name: 'History: user:bob' }).waitFor();
    await expect.poll(() => page.locator('tr[data-seq]').count()).toBe(1);
    expect(await page.locator('tr[data-seq]').textContent()).toContain('A1.4');
  });

  it('changes the password with the current one, signs out and signs back in with it', async () => {
    const page = await signedIn('pat');
    await page.goto(server.url);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('link', { name: /pat/ }).click();
    await page.locator('input[name="current-password"]').fill(PASSWORD);
    await page.locator('input[name="new-password"]').fill('correct horse battery');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name="name"]').fill('pat');
    await page.locator('input[name="password"]').fill('wrong password!');
    await page.locator('form button[type="submit"]').click();
    await page.getByRole('alert').waitFor();
    await page.locator('input[name="password"]').fill('correct horse battery');
    await page.locator('form button[type="submit"]').click();
    await page.locator('article[data-instrument]').first().waitFor();
  });
});
