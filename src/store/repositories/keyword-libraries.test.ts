import { expect, it } from 'vitest';
import { describeEachStore } from '../../../test/helpers/stores.js';
import { compileLibrary, coverageReport, exampleLibrary, parseLibrary, scanText } from '../../safety/index.js';
import { StoreConflictError } from '../index.js';

// Each test states what is stored before it: each gets a fresh store.
describeEachStore('keyword library repository', (getStore) => {
  it('stores a library and loads it back entry for entry, usable by the safety engine', async () => {
    const { keywordLibraries } = getStore();
    expect(await keywordLibraries.load(exampleLibrary.name)).toBeUndefined();
    expect(await keywordLibraries.save(exampleLibrary, { expectedRevision: 0, now: new Date('2026-01-01T00:00:00Z') })).toBe(1);
    const loaded = await keywordLibraries.load(exampleLibrary.name);
    expect(loaded?.revision).toBe(1);
    const { revision: _revision, ...stored } = loaded ?? { revision: 0 };
    const library = parseLibrary(stored);
    expect(library).toEqual(exampleLibrary);
    expect(scanText(compileLibrary(library), '推荐du bo wang zhan').map((m) => m.keyword)).toEqual(['赌博网站']);
  });

  it('keeps the precision fields, so a stored library matches as its file does', async () => {
    const { keywordLibraries } = getStore();
    const precise = parseLibrary({
      name: 'precise',
      noise: ['space', 'invisible'],
      entries: [
        { keyword: '台独', risk: 'A1.3', allow: ['平台独家'], words: true },
        { keyword: '枪支', risk: 'A1.6', noise: ['invisible'] },
        { keyword: '赌博', risk: 'A1.8' },
      ],
    });
    await keywordLibraries.save(precise);
    const loaded = await keywordLibraries.load('precise');
    expect(loaded?.entries[2]).toEqual({ keyword: '赌博', risk: 'A1.8', mode: 'literal', severity: 'medium' });
    const { revision: _revision, ...stored } = loaded ?? { revision: 0 };
    const library = parseLibrary(stored);
    expect(library).toEqual(precise);
    const hits = (text: string) => scanText(compileLibrary(library), text).map((m) => m.keyword);
    expect(hits('平台独家首发')).toEqual([]);
    expect(hits('开枪！支援')).toEqual([]);
    expect(hits('枪 支')).toEqual([]);
    expect(hits('枪\u200b支')).toEqual(['枪支']);
  });

  it('replaces the whole library on save and counts entries per risk in the database', async () => {
    const { keywordLibraries } = getStore();
    const entries = Array.from({ length: 2500 }, (_, i) => ({ keyword: `词${i}`, risk: i % 2 === 0 ? 'A1.1' : 'A2.3', mode: 'literal', severity: 'low' }));
    const big = { ...exampleLibrary, name: 'big', entries, allow: ['词一'] };
    await keywordLibraries.save(big);
    expect(await keywordLibraries.countByRisk('big')).toEqual({ 'A1.1': 1250, 'A2.3': 1250 });
    const loaded = await keywordLibraries.load('big');
    expect(loaded?.entries).toHaveLength(2500);
    expect(loaded?.entries[2499]).toEqual({ keyword: '词2499', risk: 'A2.3', mode: 'literal', severity: 'low' });
    expect(coverageReport(parseLibrary({ ...big, entries: loaded?.entries })).risks.find((r) => r.risk === 'A1.1')).toMatchObject({ count: 1250, shortfall: 0 });
    expect(await keywordLibraries.save({ ...big, entries: entries.slice(0, 3), allow: [] })).toBe(2);
    expect((await keywordLibraries.load('big'))?.entries).toHaveLength(3);
    expect((await keywordLibraries.load('big'))?.allow).toEqual([]);
  });

  it('refuses a save based on a stale revision and leaves the stored library alone', async () => {
    const { keywordLibraries } = getStore();
    expect(await keywordLibraries.save(exampleLibrary, { expectedRevision: 0 })).toBe(1);
    await expect(keywordLibraries.save({ ...exampleLibrary, entries: [] }, { expectedRevision: 0 })).rejects.toBeInstanceOf(StoreConflictError);
    await expect(keywordLibraries.save({ ...exampleLibrary, entries: [] }, { expectedRevision: 7 })).rejects.toThrow(/no longer at revision 7/);
    expect((await keywordLibraries.load(exampleLibrary.name))?.entries).toHaveLength(exampleLibrary.entries.length);
    expect(await keywordLibraries.save({ ...exampleLibrary, version: '2' }, { expectedRevision: 1 })).toBe(2);
  });

  it('rolls back with a store transaction', async () => {
    const store = getStore();
    await expect(
      store.transaction(async (tx) => {
        await tx.keywordLibraries.save({ ...exampleLibrary, name: 'doomed' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await store.keywordLibraries.load('doomed')).toBeUndefined();
  });

  it('lists and deletes libraries', async () => {
    const { keywordLibraries } = getStore();
    await keywordLibraries.save({ ...exampleLibrary, name: 'big', entries: exampleLibrary.entries.slice(0, 3) });
    await keywordLibraries.save(exampleLibrary);
    await keywordLibraries.save(exampleLibrary);
    const list = await keywordLibraries.list();
    expect(list.map((l) => [l.name, l.entries, l.revision])).toEqual([
      ['big', 3, 1],
      [exampleLibrary.name, exampleLibrary.entries.length, 2],
    ]);
    expect(await keywordLibraries.delete('big')).toBe(true);
    expect(await keywordLibraries.delete('big')).toBe(false);
    expect(await keywordLibraries.load('big')).toBeUndefined();
  });
}, { perTest: true });
