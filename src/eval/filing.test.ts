import { describe, expect, it } from 'vitest';
import { summaryOf } from '../../test/helpers/eval-summary.js';
import { filingPackage, renderFilingMarkdown } from './filing.js';
import { buildReport } from './report.js';

const profile = { provider: { name: '示例科技有限公司' }, service: { name: '示例助手', audience: 'public' as const, servesMainlandChina: true, publicOpinion: true, model: 'fine-tuned' as const, modalities: ['text' as const] } };

describe('filing materials', () => {
  it('lists what the filing asks for, what hegui produced and what the provider must supply', () => {
    const report = buildReport({ summary: summaryOf({ pass: [950, 1000], refuse: [295, 300], overRefuse: [3, 300] }), profile });
    const p = filingPackage({ profile, date: '2026-12-04', report, reportFiles: ['report.docx'], labelSettings: ['implicit labels on every output'] });
    expect(p.duties.map((d) => d.id)).toEqual(expect.arrayContaining(['genai-measures.assessment-and-filing', 'algo-recommendation.filing', 'deep-synthesis.filing', 'labeling-measures.filing-materials']));
    const status = Object.fromEntries(p.materials.map((m) => [m.id, m.status]));
    expect(status).toMatchObject({
      'application-form': 'provider',
      'self-assessment-report': 'produced',
      'service-agreement': 'provider',
      'annotation-rules': 'provider',
      'keyword-list': 'provider',
      'test-banks': 'provider',
      'labelling-materials': 'produced',
      'model-filing-number': 'not-required',
    });
    expect(p.materials.find((m) => m.id === 'self-assessment-report')?.detail.en).toContain('report.docx');
  });

  it('fills the form from the profile and never reads an unknown as "no"', () => {
    const p = filingPackage({ profile, date: '2026-12-04' });
    const field = (key: string) => p.form.find((f) => f.key === key)!;
    expect(field('entity.name').value?.zh).toBe('示例科技有限公司');
    expect(field('algorithm.model').value?.en).toBe('fine-tuned foundation model');
    expect(field('product.publicOpinion').value?.zh).toBe('是');
    expect(field('product.minors').value).toBeNull();
    expect(field('entity.creditCode').value).toBeNull();
    const md = renderFilingMarkdown(p, 'en');
    expect(md).toMatch(/Minors may use it \| \*\*unknown — provider to supply\*\*/);
    expect(md).not.toMatch(/Minors may use it \| no/);
    expect(renderFilingMarkdown(p, 'zh')).toContain('未知——由提供者填写');
    expect(p.toSupply.fields).toBeGreaterThan(5);
  });

  it('an in-house service has no filing duty and needs none of the materials', () => {
    const p = filingPackage({ profile: { provider: { name: 'x' }, service: { audience: 'in-house', servesMainlandChina: true, publicOpinion: false } }, date: '2026-12-04' });
    expect(p.duties).toEqual([]);
    expect(p.materials.every((m) => m.status === 'not-required')).toBe(true);
  });
});
