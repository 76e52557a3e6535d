/**
 * The dashboard in chromium over live gateway traffic (the server runs the gateway in front of
 * the upstream double): the on-call engineer's task (errors by status, a block, through to the
 * audit log filtered), the 401 round trip, signing out while the server is unreachable, the page
 * and filters in the URL with back and forward, the label drop zone by keyboard, and axe-core on
 * every page; at 1440 px and 390 px, in Chinese and English. Screenshots go to
 * test-output/dashboard/ (gitignored) for a person to look at.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedLabel } from '../src/label/index.js';
import { hashPassword } from '../src/server/index.js';
import { type GatewayHarness, KEYWORDS, startGateway } from './gateway-harness.js';
import { buildDashboard, chromiumAvailable, launchChromium } from './helpers/browser.js';

const PASSWORD = 'operations password';
const SHOTS = join(import.meta.dirname, '../test-output/dashboard');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const chat = (content: string, model = 'double-chat'): Record<string, unknown> => ({ model, messages: [{ role: 'user', content }] });

type Lang = 'zh' | 'en';
const SCREENS = [
  { lang: 'zh', width: 1440 },
  { lang: 'zh', width: 390 },
  { lang: 'en', width: 1440 },
  { lang: 'en', width: 390 },
] as const;
const TEXT = {
  zh: { operations: '运行监控', audit: '审计日志', signIn: '登录', signOut: '退出', menu: '菜单', expired: '登录已失效', labels: '标识检测', labelsTitle: '检测文件中的隐式标识', risk: '宣扬恐怖主义、极端主义' },
  en: { operations: 'Operations', audit: 'Audit log', signIn: 'Sign in', signOut: 'Sign out', menu: 'Menu', expired: 'Your session has ended', labels: 'Labels', labelsTitle: 'Inspect the implicit labels of files', risk: 'Promoting terrorism or extremism' },
} as const;

describe.runIf(chromiumAvailable())('operations dashboard in chromium, over gateway traffic', () => {
  let h: GatewayHarness;
  let browser: Browser;
  let operators = 0;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const built = await buildDashboard();
    h = await startGateway({ upstream: { retries: 0 }, config: { abuse: { steps: [{ blocks: 2, withinMinutes: 60, action: 'warn' }] } } });
    // The server reads its web root on every request: the built dashboard goes where it looks.
    cpSync(built, join(h.dir, 'web'), { recursive: true });
    h.double.behaviour = () => ({});
    for (const text of ['hello', 'hello again', 'and once more']) await (await h.post('/v1/chat/completions', chat(text))).text();
    await (await h.post('/v1/chat/completions', chat('hi', 'other-model'))).text();
    for (const text of [`how to ${KEYWORDS.en}`, `怎样${KEYWORDS.zh}`]) await (await h.post('/v1/chat/completions', chat(text))).text();
    await (await h.post('/v1/chat/completions', chat('call me at 13800138000'))).text();
    h.double.behaviour = () => ({ status: 502 });
    await (await h.post('/v1/chat/completions', chat('upstream down'))).text();
    h.double.behaviour = () => ({ status: 429, headers: { 'retry-after': '3' }, error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } });
    await (await h.post('/v1/chat/completions', chat('upstream busy'))).text();
    h.double.behaviour = () => ({});
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /** A new operator's session cookie. */
  async function session(role: 'admin' | 'reviewer' | 'auditor' = 'admin'): Promise<{ name: string; cookie: { name: string; value: string } }> {
    const name = `op${++operators}`;
    await h.server.store.operators.create({ name, role, passwordHash: await hashPassword(PASSWORD) });
    const response = await fetch(`${h.server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) });
    const [cookie, value] = (response.headers.get('set-cookie') ?? '').split(';')[0]!.split('=') as [string, string];
    return { name, cookie: { name: cookie, value } };
  }

  /** A page at `width` px in `lang`, signed in as a new operator (or not, with `signedIn: false`). */
  async function open(lang: Lang, width: number, options: { signedIn?: boolean; bypassCSP?: boolean } = {}): Promise<{ page: Page; name: string; cookie: { name: string; value: string } | null }> {
    // axe-core is injected as an inline script, which the dashboard's CSP refuses: its runs bypass the CSP.
    const context = await browser.newContext({ viewport: { width, height: width < 720 ? 844 : 900 }, bypassCSP: options.bypassCSP ?? false });
    await context.addInitScript(`if (!localStorage.getItem('hegui.lang')) localStorage.setItem('hegui.lang', '${lang}');`);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    if (options.signedIn === false) return { page, name: '', cookie: null };
    const { name, cookie } = await session();
    await context.addCookies([{ ...cookie, url: h.server.url }]);
    return { page, name, cookie };
  }

  const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  /** Serious and critical axe-core findings on the page as it is now. */
  async function axe(page: Page): Promise<string[]> {
    await page.addScriptTag({ content: AXE });
    const results = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as { violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] };
    return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  /** The page fits its width: nothing scrolls sideways but the tables made to. */
  async function fitsWidth(page: Page): Promise<void> {
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    const wide = overflow > 0 ? await page.evaluate<string[]>(`[...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map((e) => e.tagName + '.' + e.className)`) : [];
    expect({ overflow, wide }).toEqual({ overflow: 0, wide: [] });
  }

  /** axe-core findings on the sign-in page (with `signIn`) and on `paths`, signed in as an admin. */
  async function axePages(lang: Lang, width: number, paths: string[], signIn: boolean): Promise<Record<string, string[]>> {
    const { page } = await open(lang, width, { signedIn: false, bypassCSP: true });
    const findings: Record<string, string[]> = {};
    if (signIn) {
      await page.goto(h.server.url);
      await page.getByRole('heading', { name: TEXT[lang].signIn }).waitFor();
      findings.signin = await axe(page);
    }
    const { cookie } = await session();
    await page.context().addCookies([{ ...cookie, url: h.server.url }]);
    for (const path of paths) {
      await page.goto(`${h.server.url}${path}`);
      await page.locator('main h1').first().waitFor();
      if (path === '/activity') await page.locator('[data-chart="latency"] canvas').first().waitFor();
      if (path === '/') await page.locator('article[data-instrument]').first().waitFor();
      if (path === '/audit') await page.locator('tr[data-seq]').first().waitFor();
      findings[path] = await axe(page);
      await shot(page, `page-${path.slice(1) || 'obligations'}-${lang}-${width}`);
      if (signIn) await fitsWidth(page);
    }
    return findings;
  }

  it('axe-core: no serious or critical finding on the obligations and audit-log pages, every screen', async () => {
    for (const { lang, width } of SCREENS) expect(await axePages(lang, width, ['/', '/audit'], false)).toEqual({ '/': [], '/audit': [] });
  }, 300_000);

  for (const { lang, width } of SCREENS) {
    const x = TEXT[lang];
    const tag = `${lang}-${width}`;

    it(`on call (${tag}): sees errors by status, a block with its risk name, and opens it in the audit log`, async () => {
      const { page } = await open(lang, width);
      await page.goto(`${h.server.url}/activity`);
      await page.getByRole('heading', { name: x.operations, level: 1 }).waitFor();
      await expect.poll(() => page.locator('[data-stat="requests"] strong').textContent()).toBe('9');
      expect(await page.title()).toContain(x.operations);
      expect(await page.locator('[data-stat="blocked"] strong').textContent()).toBe('2');
      expect(await page.locator('[data-stat="errors"] strong').textContent()).toBe('2');
      // A sanction is counted on its own, not as a risk hit.
      expect(await page.locator('[data-stat="sanctions"] strong').textContent()).toBe('1');
      expect(await page.locator('[data-sanction="warn"]').count()).toBe(1);
      await page.locator('[data-panel="errors"] [data-status="502"]').waitFor();
      await page.locator('[data-panel="errors"] [data-status="429"]').waitFor();
      for (const chart of ['traffic', 'errors', 'latency']) await page.locator(`[data-chart="${chart}"] canvas`).first().waitFor();
      expect(await page.locator('[data-breakdown="model"] [data-key="other-model"]').count()).toBe(1);
      expect(await page.locator('[data-breakdown="upstream"] [data-key="double"]').count()).toBe(1);
      expect(await page.locator('[data-panel="risks"] [data-risk="A4.6"]').count()).toBe(1);
      const blocks = page.locator('[data-panel="recent-blocks"] tr[data-block]');
      expect(await blocks.count()).toBe(2);
      expect(await page.locator('[data-panel="recent-blocks"]').textContent()).toContain(x.risk);
      expect(await page.locator('[data-updated]').count()).toBe(1);
      await shot(page, `operations-${tag}`);
      await fitsWidth(page);
      const requestId = await blocks.first().getAttribute('data-block');
      await blocks.first().getByRole('link').click();
      await page.waitForURL((url) => url.pathname === '/audit' && url.searchParams.get('requestId') === requestId);
      await page.getByRole('heading', { name: x.audit }).first().waitFor();
      if (width < 720) await page.getByRole('button', { name: x.menu }).click();
      expect(await page.locator('nav a[aria-current="page"]').getAttribute('href')).toBe('/audit');
      await shot(page, `operations-to-audit-${tag}`);
      await page.goBack();
      await page.locator('[data-panel="recent-blocks"]').waitFor();
    });

    it(`shell (${tag}): the navigation collapses on a narrow screen, labels on one line, sign-out in reach`, async () => {
      const { page, name } = await open(lang, width);
      await page.goto(`${h.server.url}/labels`);
      await page.getByRole('heading', { name: x.labelsTitle }).waitFor();
      const signOut = page.getByRole('button', { name: x.signOut });
      const box = (await signOut.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(width);
      const nav = page.getByRole('navigation');
      if (width < 720) {
        expect(await nav.isVisible()).toBe(false);
        await page.getByRole('button', { name: x.menu }).click();
        expect(await page.getByRole('button', { name: x.menu }).getAttribute('aria-expanded')).toBe('true');
        await nav.waitFor();
      }
      // No label breaks over lines (the header once set Chinese one character per line).
      const heights = await page.evaluate<number[]>(`[...document.querySelectorAll('header nav a')].map((a) => a.getBoundingClientRect().height / parseFloat(getComputedStyle(a).lineHeight))`);
      expect(heights.length).toBe(12); // every page of the dashboard
      for (const lines of heights) expect(lines).toBeLessThan(2.6);
      expect(await nav.getByRole('link', { name: new RegExp(name) }).textContent()).toContain(lang === 'zh' ? '（管理员）' : '(Administrator)');
      await fitsWidth(page);
      await shot(page, `shell-${tag}`);
      if (width < 720) {
        await nav.getByRole('link', { name: x.operations }).click();
        await page.waitForURL((url) => url.pathname === '/activity');
        expect(await nav.isVisible()).toBe(false);
      }
    });

    it(`axe-core (${tag}): no serious or critical finding on sign-in, operations, labels, profile and account`, async () => {
      expect(await axePages(lang, width, ['/profile', '/activity', '/labels', '/account'], true)).toEqual({ signin: [], '/profile': [], '/activity': [], '/labels': [], '/account': [] });
    }, 120_000);
  }

  it('an ended session returns to sign-in with a message, then to the same page and range', async () => {
    const { page, cookie } = await open('zh', 1440);
    await page.goto(`${h.server.url}/activity?range=6h`);
    await page.locator('[data-stat="requests"] strong').waitFor();
    // The session ends on the server (as when it expires or an admin ends it).
    await fetch(`${h.server.url}/api/session`, { method: 'DELETE', headers: { cookie: `${cookie!.name}=${cookie!.value}` } });
    await page.getByRole('button', { name: '刷新' }).click();
    await page.getByRole('heading', { name: '登录' }).waitFor();
    expect(await page.locator('[data-notice="expired"]').textContent()).toContain('登录已失效');
    expect(new URL(page.url()).search).toBe('?range=6h');
    await shot(page, 'session-expired-zh-1440');
    const { name } = await session();
    await page.locator('input[name="name"]').fill(name);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await page.locator('form button[type="submit"]').click();
    await page.locator('[data-stat="requests"] strong').waitFor();
    expect(await page.locator('select[name="range"]').inputValue()).toBe('6h');
    expect(new URL(page.url()).pathname).toBe('/activity');
  });

  it('a wrong password at sign-in or when changing it is an answer to the form, in the page language', async () => {
    const { page } = await open('en', 1440);
    await page.goto(`${h.server.url}/account`);
    await page.locator('input[name="current-password"]').fill('not the password');
    await page.locator('input[name="new-password"]').fill('a new password here');
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('The current password is wrong.');
    // Still signed in: a 401 for a wrong password does not end the session.
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
  });

  it('signs out locally when the server cannot be reached, and ends the session once it can', async () => {
    const { page, cookie } = await open('en', 390);
    await page.goto(`${h.server.url}/activity`);
    await page.locator('[data-stat="requests"] strong').waitFor();
    await page.route('**/api/session', (route) => (route.request().method() === 'DELETE' ? route.abort('connectionrefused') : route.continue()));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.locator('[data-stat]').count()).toBe(0);
    const stillValid = await fetch(`${h.server.url}/api/session`, { headers: { cookie: `${cookie!.name}=${cookie!.value}` } });
    expect(stillValid.status).toBe(200);
    await page.unroute('**/api/session');
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expect.poll(async () => (await fetch(`${h.server.url}/api/session`, { headers: { cookie: `${cookie!.name}=${cookie!.value}` } })).status).toBe(401);
  });

  it('keeps the page and the range in the URL; back and forward restore them', async () => {
    const { page } = await open('en', 1440);
    await page.goto(`${h.server.url}/activity`);
    await page.locator('[data-stat="requests"] strong').waitFor();
    await page.selectOption('select[name="range"]', '24h');
    await page.waitForURL((url) => url.searchParams.get('range') === '24h');
    await page.selectOption('select[name="range"]', 'custom');
    await page.waitForURL((url) => url.searchParams.get('range') === 'custom' && url.searchParams.has('from'));
    const from = new URL(page.url()).searchParams.get('from')!;
    await page.locator('input[name="from"]').fill(`${from.slice(0, 10)}T00:00`);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((url) => url.searchParams.get('from') === `${from.slice(0, 10)}T00:00`);
    await page.locator('[data-stat="requests"] strong').waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Labels' }).click();
    await page.waitForURL((url) => url.pathname === '/labels');
    expect(await page.title()).toContain('Labels');
    await page.goBack();
    await page.waitForURL((url) => url.pathname === '/activity' && url.searchParams.get('range') === 'custom');
    expect(await page.locator('input[name="from"]').inputValue()).toBe(`${from.slice(0, 10)}T00:00`);
    await page.goBack();
    await page.waitForURL((url) => url.searchParams.get('range') === 'custom' && url.searchParams.get('from') === from);
    await page.goBack();
    await page.waitForURL((url) => url.searchParams.get('range') === '24h');
    expect(await page.locator('select[name="range"]').inputValue()).toBe('24h');
    await page.goBack();
    await page.waitForURL((url) => url.pathname === '/activity' && url.search === '');
    expect(await page.locator('select[name="range"]').inputValue()).toBe('1h');
    await page.goForward();
    await page.waitForURL((url) => url.searchParams.get('range') === '24h');
    expect(await page.locator('select[name="range"]').inputValue()).toBe('24h');
  });

  it('speaks Chinese in the profile form: answer errors translated, none before a field is touched', async () => {
    const { page } = await open('zh', 390);
    await page.goto(`${h.server.url}/profile`);
    await page.locator('li[data-field="service.modalities"]').waitFor();
    expect(await page.locator('li[data-field="provider.name"] .error').count()).toBe(0);
    await page.locator('input[name="service.modalities"]').fill('text, sound');
    expect(await page.locator('li[data-field="service.modalities"] .error').textContent()).toMatch(/^sound 不在可选范围内（text、image/);
    await fitsWidth(page);
  });

  it('opens the label drop zone from the keyboard and shows translated results', async () => {
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#336699' } }).png().toBuffer();
    const labeled = await embedLabel(png, { producer: '001191350100M000100Y431A001', produceId: 'ops-1' });
    writeFileSync(join(h.dir, 'labeled.png'), labeled.bytes!);
    const { page } = await open('zh', 390);
    await page.goto(`${h.server.url}/labels`);
    const zone = page.getByRole('button', { name: /拖放/ });
    await zone.waitFor();
    // Listening first makes chromium hand the chooser to the test (the switch takes a round trip).
    const chooser = page.waitForEvent('filechooser', { timeout: 30_000 });
    await page.evaluate('1');
    // Tab from the top of the page reaches the zone.
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 20 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await zone.evaluate((el) => el.matches(':focus'));
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await (await chooser).setFiles([join(h.dir, 'labeled.png')]);
    const row = page.locator('tr[data-file="labeled.png"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('1（人工智能生成）');
    expect(await row.textContent()).toContain('ops-1');
    expect(await page.locator('table.labels thead').textContent()).toContain('内容制作编号');
    await fitsWidth(page);
    await shot(page, 'labels-keyboard-zh-390');
    const again = page.waitForEvent('filechooser', { timeout: 30_000 });
    await page.evaluate('1');
    await zone.focus();
    await page.keyboard.press('Space');
    await (await again).setFiles([]);
  });
});
