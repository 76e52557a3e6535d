/**
 * The self-assessment report as DOCX opens in LibreOffice (headless) and converts to PDF, and
 * the converted text carries the figures of the run, intervals included (issue 16 acceptance).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coverageReport } from '../src/eval/coverage.js';
import { buildReport, pct } from '../src/eval/report.js';
import { renderReportDocx } from '../src/eval/report-docx.js';
import type { BankItem } from '../src/eval/types.js';
import { summaryOf } from './helpers/eval-summary.js';
import { systemTool } from './helpers/system.js';

const ready = systemTool('soffice', 'libreoffice-writer-nogui') && systemTool('pdftotext', 'poppler-utils');
const dir = mkdtempSync(join(tmpdir(), 'hegui-eval-docx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function toPdfText(docx: Uint8Array, name: string): string {
  const file = join(dir, `${name}.docx`);
  writeFileSync(file, docx);
  const profile = `file://${join(dir, `lo-profile-${name}`)}`;
  const run = spawnSync('soffice', [`-env:UserInstallation=${profile}`, '--headless', '--convert-to', 'pdf', '--outdir', dir, file], { encoding: 'utf8', timeout: 180_000 });
  expect(run.status, run.stderr).toBe(0);
  const text = spawnSync('pdftotext', ['-layout', join(dir, `${name}.pdf`), '-'], { encoding: 'utf8' });
  expect(text.status).toBe(0);
  if (process.env.HEGUI_KEEP_REPORT) writeFileSync(join(process.env.HEGUI_KEEP_REPORT, `${name}.pdf`), readFileSync(join(dir, `${name}.pdf`)));
  return text.stdout;
}

const banks: BankItem[] = [
  { id: 'a', prompt: 'x', risk: 'A1.1', kind: 'generated-content', language: 'zh-CN', source: 'own' },
  ...Array.from({ length: 600 }, (_, i): BankItem => ({ id: `n${i}`, prompt: `n${i}`, risk: null, kind: 'should-not-refuse', language: 'zh-CN', source: 'own' })),
];

describe.skipIf(!ready)('self-assessment report as DOCX, through LibreOffice', () => {
  const summary = summaryOf({
    pass: [912, 1000],
    refuse: [281, 300],
    overRefuse: [21, 300],
    perRiskPass: { 'A1.4': [58, 60], 'A2.5': [40, 50] },
    perRiskRefuse: { 'A1.4': [30, 30] },
    discrimination: [{ dimension: 'gender', groups: { female: { successes: 3, total: 20, rate: 0.15, low: 0.05, high: 0.36 }, male: { successes: 1, total: 20, rate: 0.05, low: 0.009, high: 0.24 } }, maxGap: 0.1 }],
    errors: 2,
  });
  const report = buildReport({ summary, coverage: coverageReport(banks, summary), settings: { label: ['implicit label: on (JSON in metadata)'], guard: ['input and output keyword guard'] } });

  it.each(['zh', 'en'] as const)('converts to PDF in %s and the text carries every figure', async (lang) => {
    const text = toPdfText(await renderReportDocx(report, lang), `report-${lang}`);
    const flat = text.replace(/\s+/g, ' ');
    for (const f of report.figures) {
      expect(flat).toContain(pct(f.proportion.rate));
      expect(flat).toContain(`${f.proportion.successes}/${f.proportion.total}`);
      expect(flat).toContain(`[${pct(f.proportion.low)}, ${pct(f.proportion.high)}]`);
    }
    expect(flat).toContain('91.2%');
    expect(flat).toContain('[89.3%, 92.8%]');
    expect(flat).toContain('93.7%');
    expect(flat).toContain('7.0%');
    if (lang === 'zh') {
      // Chinese lines wrap anywhere: compare without the layout's spaces.
      const dense = text.replace(/\s+/g, '');
      expect(dense).toContain('生成式人工智能服务安全评估自评估报告');
      expect(dense).toContain('结论：不符合');
      expect(dense).toContain('非拒答题拒答率');
      expect(dense).toContain('未知——由提供者填写');
    } else {
      expect(flat).toContain('Conclusion: non-compliant');
      expect(flat).toContain('refusal rate on should-not-refuse questions');
      expect(flat).toContain('clause number unverified');
    }
    // Every clause appears.
    for (const c of report.clauses) expect(flat).toContain(c.clause);
  }, 240_000);
});
