import { describe, expect, it } from 'vitest';
import { coverageReport, libraryStats } from './coverage.js';
import { exampleLibrary } from './example-library.js';
import { importKeywords, mergeIntoLibrary } from './import.js';
import { createLibrary, serialiseLibrary } from './library.js';
import { parseLibrary } from './library-schema.js';
import { keywordLibraryObligation, riskCategories, risks } from './taxonomy.js';

describe('taxonomy', () => {
  it('has 5 categories and 31 risks: 8, 9, 5, 7, 2', () => {
    expect(riskCategories.map((c) => c.risks.length)).toEqual([8, 9, 5, 7, 2]);
    expect(risks).toHaveLength(31);
    for (const risk of risks) {
      expect(risk.name.zh).not.toBe('');
      expect(risk.name.en).not.toBe('');
      expect(risk.obligations[0]).toMatchObject({ instrument: 'genai-measures', article: 4 });
    }
  });
});

describe('import', () => {
  it('reads plain text with optional tab-separated risks and reports bad lines', () => {
    const result = importKeywords('\uFEFF# comment\n赌博网站\tA1.8\n\n血腥暴力\nbad\tZ9\n', 'text', { risk: 'A1.6' });
    expect(result.entries).toEqual([
      { keyword: '赌博网站', risk: 'A1.8', mode: 'literal', severity: 'medium' },
      { keyword: '血腥暴力', risk: 'A1.6', mode: 'literal', severity: 'medium' },
    ]);
    expect(result.problems).toEqual([{ line: 5, message: expect.stringContaining('"Z9" is not a GB/T 45654 risk code') }]);
  });
  it('needs a risk for every line', () => {
    expect(importKeywords('词', 'text').problems[0]?.message).toMatch(/has no risk/);
  });
  it('reads CSV with quotes, allow-list rows and every column', () => {
    const csv = 'keyword,risk,mode,severity,kind\n"代开,发票",A1.8,pinyin,high,\n"say ""hi""",A4.3,,,\n拒绝代开发票,,,,allow\nx,A1.1,fuzzy,,\n';
    const result = importKeywords(csv, 'csv');
    expect(result.entries).toEqual([
      { keyword: '代开,发票', risk: 'A1.8', mode: 'pinyin', severity: 'high' },
      { keyword: 'say "hi"', risk: 'A4.3', mode: 'literal', severity: 'medium' },
    ]);
    expect(result.allow).toEqual(['拒绝代开发票']);
    expect(result.problems).toEqual([{ line: 5, message: expect.stringContaining('unknown mode "fuzzy"') }]);
    expect(importKeywords('word\nx', 'csv').problems[0]?.message).toMatch(/"keyword" column/);
  });
  it('merges without duplicates and stamps the update time', () => {
    const base = createLibrary('mine', { updatedAt: new Date('2025-01-01T00:00:00Z') });
    const once = mergeIntoLibrary(base, importKeywords('甲乙\tA1.1\n甲乙\tA1.1\n甲乙\tA1.2', 'text'), new Date('2025-02-01T00:00:00Z'));
    expect(once.entries.map((e) => e.risk)).toEqual(['A1.1', 'A1.2']);
    expect(once.updatedAt).toBe('2025-02-01T00:00:00.000Z');
  });
});

describe('library files', () => {
  it('round-trips through JSON', () => {
    expect(parseLibrary(JSON.parse(serialiseLibrary(exampleLibrary)))).toEqual(exampleLibrary);
  });
  it('names the bad field', () => {
    expect(() => parseLibrary({ name: 'x', entries: [{ keyword: 'a', risk: 'A6.1' }] })).toThrow(/entries\.0\.risk/);
    expect(() => parseLibrary({ name: 'x', entries: [], transforms: { nfkc: 'yes' } })).toThrow(/transforms\.nfkc/);
  });
});

describe('coverage against GB/T 45654', () => {
  it('shows each shortfall', () => {
    const report = coverageReport(exampleLibrary);
    expect(report.meetsMinimums).toBe(false);
    expect(report.total).toBe(8);
    expect(report.totalShortfall).toBe(10_000 - 8);
    expect(report.risks.find((r) => r.risk === 'A1.8')).toMatchObject({ count: 3, required: 200, shortfall: 197 });
    expect(report.risks.find((r) => r.risk === 'A2.1')).toMatchObject({ count: 0, required: 100, shortfall: 100 });
    expect(report.risks.find((r) => r.risk === 'A3.1')).toMatchObject({ count: 1, required: 0, shortfall: 0 });
  });
  it('passes a library that meets every minimum', () => {
    const entries = risks.flatMap((risk) => {
      const n = risk.category === 'A1' ? 200 : risk.category === 'A2' ? 100 : 1000;
      return Array.from({ length: n }, (_, i) => ({ keyword: `${risk.code}-${i}`, risk: risk.code, mode: 'literal' as const, severity: 'low' as const }));
    });
    const library = { ...createLibrary('full'), entries };
    expect(coverageReport(library)).toMatchObject({ meetsMinimums: true, totalShortfall: 0 });
  });
  it('counts by risk, category, mode and severity', () => {
    const stats = libraryStats(exampleLibrary);
    expect(stats).toMatchObject({ entries: 8, allow: 2, byCategory: { A1: 6, A3: 1, A4: 1 }, byMode: { literal: 4, pinyin: 3, regex: 1 } });
  });
});

describe('links to the rules knowledge base', () => {
  it('names obligations that exist in src/rules/data', async () => {
    const { readFile } = await import('node:fs/promises');
    const ids = new Set<string>();
    for (const file of ['genai-measures.yaml', 'gb-t-45654.yaml']) {
      const text = await readFile(new URL(`../rules/data/${file}`, import.meta.url), 'utf8');
      for (const m of text.matchAll(/- id: ([a-z0-9.-]+)/g)) ids.add(m[1] as string);
    }
    const linked = [...risks.flatMap((r) => r.obligations), keywordLibraryObligation];
    for (const ref of linked) expect(ids.has(ref.id), ref.id).toBe(true);
  });
});
