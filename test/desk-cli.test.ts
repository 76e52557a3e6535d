/**
 * `hegui desk list|show|export|escalate|settings` against a database on every dialect.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeskService, Outbox } from '../src/desk/index.js';
import { openStore } from '../src/store/index.js';
import { cli } from './helpers/cli.js';
import { describeEachDatabase } from './helpers/stores.js';

describeEachDatabase('hegui desk', (getDatabase) => {
  let env: Record<string, string>;
  let dir: string;
  const refs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-desk-cli-'));
    env = { HEGUI_DATABASE_URL: getDatabase().url };
    const store = await openStore(getDatabase().url);
    try {
      const desk = new DeskService({ store, outbox: new Outbox(store), now: () => new Date('2026-09-28T01:00:00Z') });
      for (const kind of ['complaint', 'report', 'pi'] as const) {
        const filed = await desk.file({ kind, category: kind === 'pi' ? 'delete' : 'other', text: `text of the ${kind} "quoted"`, contact: `${kind}@example.cn`, language: 'zh' }, { address: '127.0.0.1' });
        refs.push(filed.reference);
      }
    } finally {
      await store.close();
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the queue by due date, as text and JSON, with filters', async () => {
    const text = await cli(['desk', 'list'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('3 case(s)');
    expect(text.stdout).toContain('2026-10-23');
    const json = await cli(['desk', 'list', '--kind', 'pi', '--json'], { env });
    const page = JSON.parse(json.stdout) as { cases: { reference: string }[]; total: number };
    expect(page.total).toBe(1);
    expect(page.cases[0]?.reference).toMatch(/^PI-2026-/);
    const bad = await cli(['desk', 'list', '--state', 'sleeping'], { env });
    expect(bad.code).toBe(2);
  });

  it('shows one case and exports all as JSON lines', async () => {
    const show = await cli(['desk', 'show', refs[0]!], { env });
    expect(show.stdout).toContain('intake');
    const json = JSON.parse((await cli(['desk', 'show', refs[0]!, '--json'], { env })).stdout) as { text: string };
    expect(json.text).toBe('text of the complaint "quoted"');
    const missing = await cli(['desk', 'show', 'C-1999-000001'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such case');
    const out = join(dir, 'cases.jsonl');
    expect((await cli(['desk', 'export', '--out', out], { env })).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reference: string; history: unknown[] });
    expect(lines.map((l) => l.reference).sort()).toEqual([...refs].sort());
    expect(lines[0]?.history.length).toBeGreaterThan(0);
  });

  it('sets and shows the published limits; refuses out-of-range ones', async () => {
    const set = await cli(['desk', 'settings', '--pi-days', '10', '--provider', 'Example AI', '--json'], { env });
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ limits: { pi: 10, complaint: 15 }, providerName: 'Example AI' });
    expect((await cli(['desk', 'settings'], { env })).stdout).toContain('pi 10');
    const bad = await cli(['desk', 'settings', '--complaint-days', '0'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('limits.complaint');
  });

  it('escalates from the command line', async () => {
    const run = await cli(['desk', 'escalate', '--json'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('escalated');
  });
});
