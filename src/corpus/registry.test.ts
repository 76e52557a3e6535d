import { expect, it } from 'vitest';
import { describeEachStore } from '../../test/helpers/stores.js';
import { AuditLog } from '../audit/index.js';
import type { Store } from '../store/index.js';
import { checkLicence, exportSourcesCsv, exportSourcesYaml, parseSourcesDocument, SourceRegistry } from './registry.js';

const base = { id: 'wiki-zh', name: '中文维基百科', origin: 'https://dumps.wikimedia.org/zhwiki/', collectionMethod: 'open-source', licence: 'CC-BY-SA-4.0', piLegalBasis: 'already-public', language: 'zh', foreign: true, openSource: true, owner: 'data-team', collectedFrom: '2026-01-01', collectedTo: '2026-06-30' };

async function finishedScan(store: Store, source: string, report: { sampled: number; population: number; usable: boolean }, at: string): Promise<string> {
  const id = `scan-${source}-${at}`;
  await store.corpus.createScan({ id, source, mode: 'sample', options: {}, state: 'running', createdAt: at, createdBy: 'test', shards: 0 }, []);
  await store.corpus.finishScan(id, { sampled: report.sampled, population: report.population, verdict: { usable: report.usable } }, report.usable, at);
  return id;
}

it('licences: SPDX expressions, LicenseRef, unknown; anything else is refused', () => {
  expect(checkLicence('MIT')).toEqual({ ok: true, licence: 'MIT' });
  expect(checkLicence('Apache-2.0 OR MIT')).toMatchObject({ ok: true });
  expect(checkLicence('LicenseRef-vendor-contract-2026')).toMatchObject({ ok: true });
  expect(checkLicence('')).toEqual({ ok: true, licence: 'unknown' });
  expect(checkLicence('Unknown')).toEqual({ ok: true, licence: 'unknown' });
  expect(checkLicence('ok')).toMatchObject({ ok: false });
  expect(checkLicence('CC-BY-4')).toMatchObject({ ok: false });
  expect(checkLicence('free to use')).toMatchObject({ ok: false });
});

describeEachStore(
  'corpus source registry',
  (getStore) => {
    it('adds, lists and refuses bad or duplicate sources', async () => {
      const registry = new SourceRegistry(getStore());
      const added = await registry.add(base, 'operator:a');
      expect(added).toMatchObject({ id: 'wiki-zh', state: 'candidate', licence: 'CC-BY-SA-4.0', foreign: true });
      await expect(registry.add(base, 'operator:a')).rejects.toMatchObject({ code: 'E_CORPUS_SOURCE_EXISTS' });
      await expect(registry.add({ ...base, id: 'x', licence: 'whatever' }, 'operator:a')).rejects.toMatchObject({ code: 'E_CORPUS_LICENCE' });
      await expect(registry.add({ ...base, id: 'y', collectionMethod: 'found' }, 'operator:a')).rejects.toThrow(/collectionMethod: expected one of/);
      await expect(registry.add({ ...base, id: 'z', collectedFrom: '2026-07-01' }, 'operator:a')).rejects.toThrow(/after collectedTo/);
      const minimal = await registry.add({ id: 'forum', name: 'forum dump', origin: 'vendor', collectionMethod: 'commercial', owner: 'x' }, 'operator:a');
      expect(minimal).toMatchObject({ licence: 'unknown', piLegalBasis: 'unknown', foreign: null, openSource: null });
      expect((await registry.list()).map((s) => s.id)).toEqual(['forum', 'wiki-zh']);
    });

    it('changes state only with a reason, and approves only on a passing scan of enough items', async () => {
      const store = getStore();
      const appended: unknown[] = [];
      let now = Date.parse('2026-12-04T10:00:00Z');
      const registry = new SourceRegistry(store, { audit: { append: async (e) => appended.push(e) }, clock: () => new Date((now += 1000)) });
      await registry.add(base, 'operator:a');
      await expect(registry.changeState('wiki-zh', 'blocked', ' ', 'operator:a')).rejects.toMatchObject({ code: 'E_CORPUS_REASON' });
      await expect(registry.changeState('wiki-zh', 'approved', 'looks fine', 'operator:a')).rejects.toThrow(/no finished scan/);
      await finishedScan(store, 'wiki-zh', { sampled: 1200, population: 90000, usable: true }, '2026-12-04T10:01:00Z');
      await expect(registry.changeState('wiki-zh', 'approved', 'looks fine', 'operator:a')).rejects.toThrow(/checked 1200 items, fewer than 4000/);
      await finishedScan(store, 'wiki-zh', { sampled: 4000, population: 90000, usable: false }, '2026-12-04T10:02:00Z');
      await expect(registry.changeState('wiki-zh', 'approved', 'looks fine', 'operator:a')).rejects.toThrow(/did not find it usable/);
      const passing = await finishedScan(store, 'wiki-zh', { sampled: 4000, population: 90000, usable: true }, '2026-12-04T10:03:00Z');
      const { source, scan } = await registry.changeState('wiki-zh', 'approved', 'scan passed', 'operator:b');
      expect(source.state).toBe('approved');
      expect(scan?.id).toBe(passing);
      await registry.changeState('wiki-zh', 'blocked', 'licence withdrawn by the publisher', 'operator:c');
      const history = await store.corpus.sourceEvents('wiki-zh');
      expect(history.map((e) => [e.fromState, e.toState, e.reason, e.scanId])).toEqual([
        [null, 'candidate', 'registered', null],
        ['candidate', 'approved', 'scan passed', passing],
        ['approved', 'blocked', 'licence withdrawn by the publisher', null],
      ]);
      expect(appended).toHaveLength(3);
      expect(appended[1]).toMatchObject({ type: 'corpus.source', outcome: 'approved', payload: { scan: passing } });
    });

    it('a small source is approved on a scan of all of it, but never with an unknown licence', async () => {
      const store = getStore();
      const registry = new SourceRegistry(store);
      await registry.add({ ...base, id: 'small' }, 'a');
      await finishedScan(store, 'small', { sampled: 900, population: 900, usable: true }, '2026-12-04T11:00:00Z');
      expect((await registry.changeState('small', 'approved', 'whole source scanned', 'a')).source.state).toBe('approved');
      await registry.add({ ...base, id: 'nolicence', licence: 'unknown' }, 'a');
      await finishedScan(store, 'nolicence', { sampled: 4000, population: 9000, usable: true }, '2026-12-04T11:00:00Z');
      await expect(registry.changeState('nolicence', 'approved', 'scan passed', 'a')).rejects.toThrow(/licence is unknown/);
    });

    it('writes state changes to the audit log', async () => {
      const store = getStore();
      const registry = new SourceRegistry(store, { audit: new AuditLog(store) });
      await registry.add({ ...base, id: 'audited' }, 'operator:a');
      await registry.changeState('audited', 'blocked', 'contains scraped personal data', 'operator:a');
      const events = await store.audit.list({ types: ['corpus.source'], limit: 10 });
      expect(events.map((e) => e.outcome)).toEqual(['blocked', 'candidate']);
      const verify = await new AuditLog(store).verify();
      expect(verify.ok).toBe(true);
      expect(verify.events).toBeGreaterThanOrEqual(2);
    });

    it('exports and imports YAML and CSV; import never changes a state', async () => {
      const store = getStore();
      const registry = new SourceRegistry(store);
      await registry.add({ ...base, notes: 'line one\nline "two", with comma' }, 'a');
      await registry.add({ id: 'forum', name: '=cmd()', origin: 'vendor', collectionMethod: 'commercial', owner: 'x', sizeBytes: 123 }, 'a');
      await registry.changeState('forum', 'blocked', 'vendor refused a licence', 'a');
      const sources = await registry.list();
      for (const format of ['yaml', 'csv'] as const) {
        const text = format === 'yaml' ? exportSourcesYaml(sources) : exportSourcesCsv(sources);
        const parsed = parseSourcesDocument(text, format);
        const other = new SourceRegistry(store);
        const result = await other.import(parsed, 'b');
        expect(result).toEqual({ added: [], updated: ['forum', 'wiki-zh'] });
        const after = await registry.list();
        expect(after.map((s) => [s.id, s.state, s.notes, s.name, s.sizeBytes, s.foreign])).toEqual(sources.map((s) => [s.id, s.state, s.notes, s.name, s.sizeBytes, s.foreign]));
      }
      expect(exportSourcesCsv(sources)).toContain(`"'=cmd()"`);
      await expect(registry.import(parseSourcesDocument('sources:\n  - id: new\n    name: n\n', 'yaml'), 'a')).rejects.toThrow(/source 1: origin: required/);
      expect(() => parseSourcesDocument('id,colour\nx,red\n', 'csv')).toThrow(/unknown columns colour/);
    });
  },
  { perTest: true },
);
