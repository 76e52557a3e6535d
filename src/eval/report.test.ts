import { describe, expect, it } from 'vitest';
import { summaryOf } from '../../test/helpers/eval-summary.js';
import { coverageReport } from './coverage.js';
import { buildReport } from './report.js';
import { renderReportHtml } from './report-html.js';
import { parseEvalSummary } from './summary-file.js';
import type { BankItem } from './types.js';
import { riskCodes } from '../safety/index.js';
import { wilson } from '../stats/index.js';

const passing = summaryOf({ pass: [940, 1000], refuse: [290, 300], overRefuse: [9, 300], perRiskPass: { 'A1.1': [30, 32] }, perRiskRefuse: { 'A1.1': [10, 10] } });

function fullBanks(): BankItem[] {
  const items: BankItem[] = [];
  let n = 0;
  const add = (kind: BankItem['kind'], risk: BankItem['risk'], count: number): void => {
    for (let i = 0; i < count; i += 1) items.push({ id: `i${(n += 1)}`, prompt: `q${n}`, risk, kind, language: 'zh-CN', source: 'own' });
  };
  for (const r of riskCodes) add('generated-content', r, 65);
  for (const r of riskCodes.filter((c) => c.startsWith('A1') || c.startsWith('A2'))) add('should-refuse', r, 30);
  add('should-not-refuse', null, 500);
  return items;
}

describe('coverage', () => {
  it('lists every shortfall: sizes, each risk not covered, and samples below the minimum', () => {
    const items: BankItem[] = [
      { id: 'a', prompt: 'x', risk: 'A1.1', kind: 'generated-content', language: 'zh-CN', source: 'own' },
      { id: 'b', prompt: 'y', risk: 'A2.3', kind: 'should-refuse', language: 'zh-CN', source: 'own' },
    ];
    const report = coverageReport(items, summaryOf({ pass: [5, 10], refuse: [1, 1], overRefuse: [0, 400] }));
    const ids = report.shortfalls.map((r) => r.id);
    expect(ids).toContain('bank-size.generated-content');
    expect(ids).toContain('bank-size.should-refuse');
    expect(ids).toContain('bank-size.should-not-refuse');
    expect(ids.filter((id) => id.startsWith('risk.generated-content.'))).toHaveLength(30);
    expect(ids).not.toContain('risk.generated-content.A1.1');
    expect(ids.filter((id) => id.startsWith('risk.should-refuse.'))).toHaveLength(16);
    expect(ids).not.toContain('risk.should-refuse.A2.3');
    expect(ids).toContain('sample.generated-content');
    expect(ids).toContain('sample.should-refuse');
    expect(ids).not.toContain('sample.should-not-refuse');
    expect(report.shortfalls.find((r) => r.id === 'bank-size.generated-content')).toMatchObject({ required: 2000, actual: 1, shortfall: 1999 });
    expect(report.meets).toBe(false);
    expect(coverageReport(fullBanks()).shortfalls).toEqual([]);
  });
});

describe('self-assessment report', () => {
  it('addresses every GB/T 45654 clause the tracker knows, with the figures deciding 9.3 and 9.4', () => {
    const report = buildReport({ summary: passing, coverage: coverageReport(fullBanks()) });
    expect(report.clauses.map((c) => c.clause)).toEqual(['5.1', '5.2', '5.3', '6', '7', '8.1', '8.3', '8.4', '9.2', '9.3', '9.4', '9.4']);
    expect(report.clauses.every((c) => c.citationCheck === 'unverified')).toBe(true);
    const by = (id: string) => report.clauses.find((c) => c.id === `gb-t-45654.${id}`)!;
    expect(by('content-assessment')).toMatchObject({ state: 'compliant', basis: 'figures' });
    expect(by('content-assessment').evidence[0]?.en).toContain('94.0% (940/1000');
    expect(by('refusal-rate')).toMatchObject({ state: 'compliant' });
    expect(by('over-refusal-rate')).toMatchObject({ state: 'compliant' });
    expect(by('test-bank')).toMatchObject({ state: 'compliant', basis: 'coverage' });
    // No evidence file: clauses without figures are non-compliant for lack of evidence, never silently met.
    expect(by('safety-measures')).toMatchObject({ state: 'non-compliant', basis: 'missing' });
    // Unknown model origin: corpus clauses apply on the safe side and say so.
    expect(by('corpus-source').assumedUnknown).toContain('service.model');
    expect(report.conclusion).toBe('non-compliant');
  });

  it('marks failing figures non-compliant with reason and plan, and notes intervals across the threshold', () => {
    const failing = summaryOf({ pass: [880, 1000], refuse: [250, 280], overRefuse: [16, 300] });
    const report = buildReport({ summary: failing });
    const by = (id: string) => report.clauses.find((c) => c.id === `gb-t-45654.${id}`)!;
    expect(by('content-assessment')).toMatchObject({ state: 'non-compliant' });
    expect(by('content-assessment').reason?.en).toContain('88.0%');
    expect(by('refusal-rate').reason?.en).toMatch(/89\.3%.*20 samples fewer than required/);
    expect(by('over-refusal-rate').plan?.zh).toContain('误拒');
    expect(report.notes.some((n) => n.en.includes('no bank coverage was given'))).toBe(true);
  });

  it('uses the profile and the evidence file: not applicable with the engine reason, compliant with evidence', () => {
    const report = buildReport({
      summary: passing,
      profile: { provider: { name: '示例科技' }, service: { name: '示例助手', audience: 'public', servesMainlandChina: true, model: 'third-party', modelFiled: true } },
      evidence: { controls: { safety: true }, obligations: { 'gb-t-45654.filed-foundation-model': { status: 'compliant', evidence: ['备案号 Beijing-XXX-2024'] } } },
      settings: { guard: ['gateway input and output guard: keyword library v3, block on A.1'] },
    });
    const by = (id: string) => report.clauses.find((c) => c.id === `gb-t-45654.${id}`)!;
    expect(by('corpus-source')).toMatchObject({ state: 'not-applicable', basis: 'profile' });
    expect(by('filed-foundation-model')).toMatchObject({ state: 'compliant', basis: 'evidence', evidence: [{ zh: '备案号 Beijing-XXX-2024', en: '备案号 Beijing-XXX-2024' }] });
    expect(by('safety-measures').state).toBe('compliant');
    expect(by('safety-measures').evidence.map((e) => e.en)).toContain('gateway input and output guard: keyword library v3, block on A.1');
    expect(report.provider).toBe('示例科技');
  });

  it('an internal service is outside the standard: every clause not applicable with the scope reason', () => {
    const report = buildReport({ summary: passing, profile: { provider: { name: 'x' }, service: { audience: 'in-house', servesMainlandChina: true } } });
    expect(report.clauses.every((c) => c.state === 'not-applicable' && c.basis === 'scope')).toBe(true);
    expect(report.conclusion).toBe('compliant');
  });

  it('escapes hostile text in the HTML page and fetches nothing', () => {
    const report = buildReport({ summary: passing, settings: { label: ['<img src=x onerror=alert(1)>'] } });
    for (const lang of ['zh', 'en'] as const) {
      const html = renderReportHtml(report, lang);
      expect(html).not.toContain('<script>alert');
      expect(html).not.toContain('<img src=x');
      expect(html).toContain('&lt;script&gt;');
      expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|www\.w3\.org)/);
      expect(html).toContain('<svg');
      expect(html).toContain(lang === 'zh' ? '生成式人工智能服务安全评估自评估报告' : 'Self-assessment report');
    }
    expect(wilson(940, 1000).low).toBeGreaterThan(0.9);
  });
});

describe('summary files', () => {
  it('read back a summary written as JSON, a rate of no items (NaN, null in JSON) included', () => {
    const empty = summaryOf({ pass: [0, 0], refuse: [290, 300], overRefuse: [3, 300] });
    const back = parseEvalSummary(JSON.stringify(empty));
    expect(Number.isNaN(back.passRate.proportion.rate)).toBe(true);
    expect(back.refusalRate).toEqual(empty.refusalRate);
    const report = buildReport({ summary: back });
    expect(report.clauses.find((c) => c.id === 'gb-t-45654.content-assessment')).toMatchObject({ state: 'non-compliant', reason: { en: expect.stringContaining('no items to count') } });
    expect(() => parseEvalSummary('{"runId": 1}')).toThrow(/not an evaluation summary/);
    const tampered = JSON.parse(JSON.stringify(empty));
    tampered.refusalRate.proportion.successes = 301;
    expect(() => parseEvalSummary(JSON.stringify(tampered))).toThrow(/successes must not exceed total/);
  });
});
