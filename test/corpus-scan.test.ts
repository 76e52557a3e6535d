import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileLibrary, writeLibraryFile } from '../src/safety/index.js';
import { createInspector } from '../src/corpus/inspect.js';
import { keepFirstFlagged, runLocalScan } from '../src/corpus/run.js';
import { allocate, type ScanSettings, type ShardResult } from '../src/corpus/scan.js';
import { defaultReadOptions } from '../src/corpus/read.js';
import { testLibrary, writeCorpus } from './helpers/corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-corpus-scan-'));
const fixed = join(tmpdir(), 'hegui-corpus-scan-fixed');
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(fixed, { recursive: true, force: true });
});
const libraryPath = join(dir, 'library.json');
await writeLibraryFile(libraryPath, testLibrary());

const sample = (seed: number, extra: Partial<ScanSettings> = {}): ScanSettings => ({ mode: 'sample', sampleSize: 4000, seed, stratify: false, read: defaultReadOptions, keepFlagged: 1000, ...extra });

describe('seeded sample scans of corpora with a known harmful share', () => {
  const cases = [
    { share: 0.02, verdict: 'meets', usable: true, certain: true },
    { share: 0.05, verdict: undefined, usable: undefined, certain: false },
    { share: 0.08, verdict: 'fails', usable: false, certain: true },
  ] as const;
  for (const c of cases) {
    it(`true share ${c.share * 100} %: the interval holds it and the verdict is right`, async () => {
      // An item's sampling key hashes the file's name (corpus/random), so the sample, and so
      // every interval below, is the same in every run. (Keys once hashed the whole path; in a
      // folder of mkdtemp's random name each run drew another sample, and a 95 % interval
      // missed the true share in about one run of twenty: hence the fixed folder.)
      mkdirSync(fixed, { recursive: true });
      const path = join(fixed, `share-${c.share}.jsonl`);
      writeCorpus(path, { items: 20000, share: c.share, seed: 11, piiEvery: 50 });
      const { report, flagged } = await runLocalScan({ paths: [path], settings: sample(2026), library: libraryPath, pii: true, workers: 0, shardBytes: 256 * 1024 });
      expect(report.population).toBe(20000);
      expect(report.sampled).toBe(4000);
      expect(report.harmful.low).toBeLessThanOrEqual(c.share);
      expect(report.harmful.high).toBeGreaterThanOrEqual(c.share);
      expect(report.verdict.certain).toBe(c.certain);
      if (c.verdict !== undefined) {
        expect(report.harmful.verdict).toBe(c.verdict);
        expect(report.verdict.usable).toBe(c.usable);
      }
      expect(flagged).toHaveLength(report.flagged);
      expect(flagged.every((f) => f.risks.length > 0 && f.matches.length > 0 && f.excerpt.length > 0)).toBe(true);
      expect(Object.keys(report.byRisk).sort()).toEqual(['A1.6', 'A1.7', 'A1.8']);
      // About one clean item in 50 holds a phone number.
      expect(report.byPii.mobile!.low).toBeLessThanOrEqual(0.02);
      expect(report.byPii.mobile!.high).toBeGreaterThanOrEqual(0.0185);
      expect(report.stats.languages.zh + report.stats.languages.en + report.stats.languages.other).toBe(20000);
      // Every generated text ends with its own number: no duplicates.
      expect(report.duplicates).toMatchObject({ successes: 0, total: 4000 });
    });
  }

  it('a whole-population scan finds exactly the true count', async () => {
    const path = join(dir, 'exact.jsonl');
    const corpus = writeCorpus(path, { items: 3000, share: 0.05, seed: 3 });
    const { report } = await runLocalScan({ paths: [path], settings: { ...sample(1), mode: 'full' }, library: libraryPath, pii: true, workers: 0 });
    expect(report.flagged).toBe(corpus.harmful);
    expect(report.harmful.rate).toBe(0.05);
    expect(report.verdict.usable).toBe(true);
  });

  it('a full pass keeps the first flagged items in shard order up to a scan-wide cap, however many threads', async () => {
    const path = join(dir, 'capped.jsonl');
    const corpus = writeCorpus(path, { items: 3000, share: 0.1, seed: 4 });
    const all = await runLocalScan({ paths: [path], settings: { ...sample(1), mode: 'full' }, library: libraryPath, pii: true, workers: 0, shardBytes: 20_000 });
    expect(all.flagged).toHaveLength(corpus.harmful);
    for (const workers of [0, 2]) {
      const capped = await runLocalScan({ paths: [path], settings: { ...sample(1), mode: 'full' }, library: libraryPath, pii: true, workers, shardBytes: 20_000, maxFlagged: 37 });
      expect(capped.shards.length).toBeGreaterThan(4);
      expect(capped.report.flagged).toBe(corpus.harmful);
      expect(capped.report.flaggedKept).toBe(37);
      expect(capped.flagged.map((f) => f.position)).toEqual(all.flagged.slice(0, 37).map((f) => f.position));
    }
    // Shards finishing out of order: what is trimmed early is never among the first.
    const flaggedAt = (n: number, from: number) => ({ flagged: Array.from({ length: n }, (_, i) => ({ position: from + i })) }) as unknown as ShardResult;
    const results: (ShardResult | undefined)[] = [undefined, flaggedAt(8, 100), flaggedAt(8, 200)];
    keepFirstFlagged(results, 10);
    expect(results.map((r) => r?.flagged.length)).toEqual([undefined, 8, 2]);
    results[0] = flaggedAt(5, 0);
    keepFirstFlagged(results, 10);
    expect(results.flatMap((r) => r!.flagged.map((f) => f.position))).toEqual([0, 1, 2, 3, 4, 100, 101, 102, 103, 104]);
  });
});

describe('the same seed gives the same sample', () => {
  const path = join(dir, 'seeded.jsonl');
  writeCorpus(path, { items: 12000, share: 0.05, seed: 5 });
  const other = join(dir, 'seeded-2.jsonl');
  writeCorpus(other, { items: 3000, share: 0.1, seed: 6 });

  it('whatever the shards and threads, and a different seed gives another sample', async () => {
    const runs = [
      await runLocalScan({ paths: [path, other], settings: sample(42, { sampleSize: 500 }), library: libraryPath, pii: true, workers: 0 }),
      await runLocalScan({ paths: [path, other], settings: sample(42, { sampleSize: 500 }), library: libraryPath, pii: true, workers: 0, shardBytes: 50_000 }),
      await runLocalScan({ paths: [path, other], settings: sample(42, { sampleSize: 500 }), library: libraryPath, pii: true, workers: 2, shardBytes: 100_000 }),
    ];
    const positions = runs.map((r) => r.flagged.map((f) => `${f.file}:${f.position}`));
    expect(runs[1]!.shards.length).toBeGreaterThan(runs[0]!.shards.length);
    expect(positions[1]).toEqual(positions[0]);
    expect(positions[2]).toEqual(positions[0]);
    expect(runs[1]!.report.harmful).toEqual(runs[0]!.report.harmful);
    expect(runs[2]!.report).toEqual(runs[0]!.report);
    const another = await runLocalScan({ paths: [path, other], settings: sample(43, { sampleSize: 500 }), library: libraryPath, pii: true, workers: 0 });
    expect(another.flagged.map((f) => `${f.file}:${f.position}`)).not.toEqual(positions[0]);
  });

  it('a corpus moved to another folder gives the same sample: keys hash names under the scan root, not paths', async () => {
    const first = join(dir, 'moved-from', 'corpus');
    mkdirSync(join(first, 'part'), { recursive: true });
    writeCorpus(join(first, 'a.jsonl'), { items: 3000, share: 0.05, seed: 21 });
    writeCorpus(join(first, 'part', 'b.jsonl'), { items: 2000, share: 0.1, seed: 22 });
    const second = join(dir, 'elsewhere', 'deeper', 'copy');
    cpSync(first, second, { recursive: true });
    const scan = (root: string, extra: Partial<ScanSettings> = {}) => runLocalScan({ paths: [root], settings: sample(42, { sampleSize: 400, ...extra }), library: libraryPath, pii: true, workers: 0, shardBytes: 60_000 });
    const picked = (run: Awaited<ReturnType<typeof scan>>, root: string): string[] => run.flagged.map((f) => `${relative(root, f.file)}:${f.position}`);
    for (const extra of [{}, { stratify: true }]) {
      const [a, b] = [await scan(first, extra), await scan(second, extra)];
      expect(a.flagged.length).toBeGreaterThan(10);
      expect(picked(b, second)).toEqual(picked(a, first));
      expect(b.report.harmful).toEqual(a.report.harmful);
      expect(b.report.byPii).toEqual(a.report.byPii);
      expect(b.report.duplicates).toEqual(a.report.duplicates);
    }
    // A single file named directly: its key is its base name, wherever it lies.
    const single = [await scan(join(first, 'a.jsonl')), await scan(join(second, 'a.jsonl'))];
    expect(single[1]!.flagged.map((f) => f.position)).toEqual(single[0]!.flagged.map((f) => f.position));
    expect(single[1]!.report.harmful).toEqual(single[0]!.report.harmful);
    // Another name is another file: its sample differs.
    cpSync(join(first, 'a.jsonl'), join(dir, 'renamed.jsonl'));
    const renamed = await scan(join(dir, 'renamed.jsonl'));
    expect(renamed.flagged.map((f) => f.position)).not.toEqual(single[0]!.flagged.map((f) => f.position));
  });

  it('stratified by file: each file contributes in proportion to its items', async () => {
    const { report, flagged } = await runLocalScan({ paths: [path, other], settings: sample(42, { sampleSize: 1000, stratify: true }), library: libraryPath, pii: true, workers: 0 });
    expect(report.sampled).toBe(1000);
    expect(report.stratified).toBe(true);
    // 12,000 and 3,000 items: 800 and 200 sampled; the second file's 10 % share shows in its flagged items.
    const fromOther = flagged.filter((f) => f.file === other).length;
    expect(fromOther).toBeGreaterThan(8);
    expect(fromOther).toBeLessThan(35);
    expect(allocate(new Map([['a', 12000], ['b', 3000]]), 1000)).toEqual(new Map([['a', 800], ['b', 200]]));
    expect(allocate(new Map([['a', 1], ['b', 1], ['c', 1]]), 2)).toEqual(new Map([['a', 1], ['b', 1], ['c', 0]]));
    expect(allocate(new Map([['a', 5]]), 4000)).toEqual(new Map([['a', 5]]));
  });
});

describe('malformed input is reported, never a crash', () => {
  it('counts bad lines per file and reads nothing as usable', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"text": "ok 博彩乙站"}\nnot json\n{"body": 1}\n');
    const { report } = await runLocalScan({ paths: [bad], settings: sample(1), library: libraryPath, pii: true, workers: 0 });
    expect(report.files[0]).toMatchObject({ items: 1, problems: { 'malformed-json': 1, 'missing-field': 1 } });
    expect(report.problems).toBe(2);
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, 'garbage\n');
    const none = await runLocalScan({ paths: [empty], settings: sample(1), library: libraryPath, pii: true, workers: 0 });
    expect(none.report.verdict).toMatchObject({ usable: false, verdict: 'undecided' });
    const copies = join(dir, 'copies.jsonl');
    writeFileSync(copies, ['{"text":"same  text"}', '{"text":"Same text"}', '{"text":"other"}', '{"text":"same text "}'].join('\n'));
    const repeated = await runLocalScan({ paths: [copies], settings: sample(1), library: libraryPath, pii: true, workers: 0 });
    expect(repeated.report.duplicates).toMatchObject({ successes: 2, total: 4 });
  });
});

describe('full pass with a cleaned copy', () => {
  it('removes flagged items, masks personal data, lists what it removed, and writes atomically', async () => {
    const src = join(dir, 'clean-src');
    rmSync(src, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(src);
    const corpus = writeCorpus(join(src, 'a.jsonl'), { items: 2000, share: 0.1, seed: 9, piiEvery: 10 });
    writeFileSync(join(src, 'b.csv'), 'id,text\n1,"hello, 13800138000"\n2,"zzforbiddenqq here"\n');
    const out = join(dir, 'clean-out');
    const { report } = await runLocalScan({ paths: [src], settings: { ...sample(1), mode: 'full', clean: { pii: 'mask' } }, library: libraryPath, pii: true, workers: 2, shardBytes: 20_000, cleanOut: out });
    expect(report.cleaned).toEqual({ kept: 2000 - corpus.harmful + 1, removed: corpus.harmful + 1, masked: report.cleaned!.masked });
    expect(readdirSync(out).sort()).toEqual(['a.jsonl', 'b.csv.jsonl', 'manifest.json', 'removed.jsonl']);
    const kept = readFileSync(join(out, 'a.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; text: string });
    expect(kept.map((r) => r.id)).toEqual([...Array(2000).keys()].filter((i) => !corpus.harmfulIndices.has(i)));
    expect(kept.some((r) => r.text.includes('13800138000'))).toBe(false);
    expect(kept.some((r) => r.text.includes('*'))).toBe(true);
    const removed = readFileSync(join(out, 'removed.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string; risks: string[]; keywords: string[] });
    expect(removed).toHaveLength(corpus.harmful + 1);
    expect(removed.every((r) => r.reason === 'harmful' && r.risks.length > 0 && r.keywords.length > 0)).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toMatchObject({ format: 'hegui-corpus-clean/1', pii: 'mask' });
    expect(readFileSync(join(out, 'b.csv.jsonl'), 'utf8')).toContain('hello, ');
    // The target exists now: a second run refuses it, and nothing half-written is left beside it.
    await expect(runLocalScan({ paths: [src], settings: { ...sample(1), mode: 'full', clean: { pii: 'mask' } }, library: libraryPath, pii: true, workers: 0, cleanOut: out })).rejects.toThrow(/exists/);
    expect(readdirSync(dir).filter((n) => n.startsWith('clean-out.tmp'))).toEqual([]);
  });

  it('a failure mid-scan leaves no output at all', async () => {
    const out = join(dir, 'never');
    const path = join(dir, 'x.jsonl');
    writeCorpus(path, { items: 100, share: 0, seed: 1 });
    await expect(runLocalScan({ paths: [path], settings: { ...sample(1), mode: 'full', clean: { pii: 'mask' } }, library: join(dir, 'missing-library.json'), pii: true, workers: 0, cleanOut: out })).rejects.toThrow();
    expect(readdirSync(dir).filter((n) => n.startsWith('never'))).toEqual([]);
  });
});

it('inspector: keywords by risk and personal data', () => {
  const inspector = createInspector(compileLibrary(testLibrary()));
  const found = inspector.inspect('博彩乙站 and zzforbiddenqq, call 13800138000');
  expect(found.risks).toEqual(['A1.6', 'A1.7']);
  expect(found.pii.map((p) => p.type)).toEqual(['mobile']);
  expect(inspector.mask('call 13800138000')).not.toContain('13800138000');
});
