/**
 * The tracker's acceptance: each example profile gets the duties the law gives it, on the
 * right dates, through the CLI a user runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplicabilityReport, GapReport } from '../src/rules/index.js';
import { cli } from './helpers/cli.js';

const profile = (name: string): string => join('examples/profiles', `${name}.yaml`);

async function obligations(name: string, on: string): Promise<ApplicabilityReport> {
  const result = await cli(['obligations', '--profile', profile(name), '--on', on, '--format', 'json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ApplicabilityReport;
}

type Cite = [instrument: string, article: number];
const cites = (report: ApplicabilityReport): string[] => report.obligations.map((o) => `${o.instrument} ${o.article}`);
const has = (report: ApplicabilityReport, ...expected: Cite[]): void => {
  const got = new Set(cites(report));
  for (const [i, a] of expected) expect(got.has(`${i} ${a}`), `${i} Art. ${a}`).toBe(true);
};
const lacks = (report: ApplicabilityReport, ...unexpected: Cite[]): void => {
  const got = new Set(cites(report));
  for (const [i, a] of unexpected) expect(got.has(`${i} ${a}`), `${i} Art. ${a}`).toBe(false);
};
const instruments = (report: ApplicabilityReport): Set<string> => new Set(report.obligations.map((o) => o.instrument));

describe('example profiles on 2026-11-28', () => {
  const on = '2026-11-28';

  it('public chatbot: the AI Measures, labels, security assessment and filing, minors, PI', async () => {
    const r = await obligations('public-chatbot', on);
    has(r, ['genai-measures', 4], ['genai-measures', 9], ['genai-measures', 10], ['genai-measures', 11], ['genai-measures', 14], ['genai-measures', 15], ['genai-measures', 17]);
    has(r, ['labeling-measures', 4], ['labeling-measures', 5], ['labeling-measures', 9], ['gb-45438', 5], ['gb-45438', 6]);
    has(r, ['algo-recommendation', 24], ['algo-recommendation', 27], ['minors-online-protection', 43], ['pipl', 52]);
    lacks(r, ['genai-measures', 20], ['minors-online-protection', 46], ['labeling-measures', 6]);
    const filing = r.obligations.find((o) => o.instrument === 'algo-recommendation' && o.article === 24 && o.deadline?.unit === 'working-days');
    expect(filing?.deadline).toMatchObject({ kind: 'within', value: 10, unit: 'working-days' });
    const logs = r.obligations.find((o) => o.instrument === 'labeling-measures' && o.article === 9);
    expect(logs?.deadline).toMatchObject({ kind: 'at-least', value: 6, unit: 'months' });
  });

  it('image generator with face swap: separate consent and prominent labels for faces', async () => {
    const r = await obligations('image-face-swap', on);
    has(r, ['deep-synthesis', 14], ['deep-synthesis', 16], ['deep-synthesis', 17], ['pipl', 29], ['genai-measures', 17]);
    const prominent = r.obligations.filter((o) => o.instrument === 'deep-synthesis' && o.article === 17);
    expect(prominent.some((o) => o.item === 3)).toBe(true);
  });

  it('voice cloning: separate consent for voices, no public-opinion filing', async () => {
    const r = await obligations('voice-cloning', on);
    has(r, ['deep-synthesis', 14], ['deep-synthesis', 17], ['gb-45438', 5]);
    lacks(r, ['genai-measures', 17], ['algo-recommendation', 24]);
  });

  it('enterprise-internal assistant: outside the AI Measures and the labeling rules, inside the data laws', async () => {
    const r = await obligations('enterprise-internal', on);
    expect(instruments(r).has('genai-measures')).toBe(false);
    expect(instruments(r).has('labeling-measures')).toBe(false);
    has(r, ['pipl', 13], ['dsl', 27]);
    expect(r.excluded.find((e) => e.instrument === 'genai-measures')?.article).toBe(2);
  });

  it('foreign provider serving mainland users: covered, with Art. 20, and cross-border rules', async () => {
    const r = await obligations('foreign-provider', on);
    has(r, ['genai-measures', 4], ['genai-measures', 17], ['genai-measures', 20], ['pipl', 38], ['cross-border-data', 7]);
  });

  it('finance app on a third-party filed model: sector rules, no training-data duties', async () => {
    const r = await obligations('finance-app', on);
    has(r, ['finance-asset-management', 23], ['genai-measures', 4], ['genai-measures', 15], ['dsl', 30], ['pi-audit', 4], ['csl', 36]);
    lacks(r, ['genai-measures', 7], ['genai-measures', 8], ['genai-measures', 17]);
  });

  it('research-only lab: nothing from the AI Measures, with the Art. 2 reason', async () => {
    const r = await obligations('research-lab', on);
    expect(instruments(r).has('genai-measures')).toBe(false);
    const excluded = r.excluded.find((e) => e.instrument === 'genai-measures');
    expect(excluded).toMatchObject({ article: 2, status: 'in-force' });
    expect(excluded?.reason.en).toMatch(/Arts?\. 2/);
    expect(excluded?.reason.zh).toMatch(/第二条/);
  });

  it('drafts and superseded texts never produce obligations', async () => {
    const r = await obligations('public-chatbot', on);
    expect(instruments(r).has('tc260-003')).toBe(false);
    expect(r.excluded.find((e) => e.instrument === 'tc260-003')).toMatchObject({ status: 'superseded' });
  });
});

describe('dates', () => {
  it('labeling duties are upcoming on 2025-08-31 and apply from 2025-09-01', async () => {
    const before = await obligations('public-chatbot', '2025-08-31');
    for (const id of ['labeling-measures', 'gb-45438']) {
      expect(instruments(before).has(id), id).toBe(false);
      const upcoming = before.upcoming.filter((u) => u.instrument === id);
      expect(upcoming.length, id).toBeGreaterThan(0);
      for (const u of upcoming) expect(u.effective).toBe('2025-09-01');
    }
    const after = await obligations('public-chatbot', '2025-09-01');
    has(after, ['labeling-measures', 4], ['labeling-measures', 5], ['gb-45438', 5]);
    expect(after.upcoming.filter((u) => u.instrument === 'labeling-measures')).toEqual([]);
  });

  it('the 2017 Cybersecurity Law text applies on 2025-12-31 and the amended one from 2026-01-01', async () => {
    const old = await obligations('public-chatbot', '2025-12-31');
    const logsOld = old.obligations.find((o) => o.id.startsWith('csl.network-logs'));
    expect(logsOld?.article).toBe(21);
    const next = old.upcoming.find((o) => o.id.startsWith('csl.network-logs'));
    expect(next).toMatchObject({ article: 23, effective: '2026-01-01' });
    const amended = await obligations('public-chatbot', '2026-01-01');
    const logsNew = amended.obligations.filter((o) => o.id.startsWith('csl.network-logs'));
    expect(logsNew.map((o) => o.article)).toEqual([23]);
  });

  it('security standard: TC260-003 until 2025-10-31, GB/T 45654 from 2025-11-01', async () => {
    const before = await obligations('public-chatbot', '2025-10-31');
    expect(instruments(before).has('tc260-003')).toBe(true);
    expect(instruments(before).has('gb-t-45654')).toBe(false);
    const after = await obligations('public-chatbot', '2025-11-01');
    expect(instruments(after).has('tc260-003')).toBe(false);
    expect(instruments(after).has('gb-t-45654')).toBe(true);
  });

  it('before the AI Measures took effect, their duties are upcoming', async () => {
    const r = await obligations('public-chatbot', '2023-08-14');
    expect(instruments(r).has('genai-measures')).toBe(false);
    expect(r.upcoming.some((u) => u.instrument === 'genai-measures' && u.effective === '2023-08-15')).toBe(true);
  });
});

describe('output formats', () => {
  it('prints a table with citations by default, and Markdown grouped by instrument', async () => {
    const table = await cli(['obligations', '-p', profile('public-chatbot'), '--on', '2026-11-28']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/AI Measures Art\. 17/);
    const md = await cli(['obligations', '-p', profile('public-chatbot'), '--on', '2026-11-28', '--format', 'md', '--lang', 'zh']);
    expect(md.stdout).toMatch(/^# 适用义务（2026-11-28）/);
    expect(md.stdout).toMatch(/## 生成式人工智能服务管理暂行办法/);
    expect(md.stdout).toMatch(/第十七条/);
  });

  it('shows each duty\'s binding force and how its citation was checked, the instruments without itemised duties, unknown facts and penalties', async () => {
    const table = await cli(['obligations', '-p', profile('insurer-service-bot'), '--on', '2026-11-28']);
    expect(table.stdout).toMatch(/citation\s+force\s+citation check\s+role/);
    expect(table.stdout).toMatch(/GB\/T 45654-2025 §8\.1\s+recommended\s+unverified/);
    expect(table.stdout).toMatch(/Applicable, no itemised duties yet:\n {2}.*JR\/T 0221|Applicable, no itemised duties yet:[\s\S]*Financial/);
    expect(table.stdout).toMatch(/Penalties:[\s\S]*PIPL Art\. 66 \[unverified\]/);
    const file = join(tmpdir(), `hegui-partial-${process.pid}.yaml`);
    writeFileSync(file, 'provider: { name: X, domestic: true }\nservice: { audience: public, servesMainlandChina: true, modalities: [text] }\n');
    const md = await cli(['obligations', '-p', file, '--on', '2026-11-28', '--format', 'md', '--lang', 'zh']);
    rmSync(file);
    expect(md.stdout).toMatch(/\| 依据 \| 效力 \| 引证核对 \|/);
    expect(md.stdout).toMatch(/## 未知事实\n\n- provider\.foreignInvested/);
    expect(md.stdout).toMatch(/按安全侧适用：service\.publicOpinion 未知；回答 service\.publicOpinion: false 则不适用/);
    expect(md.stdout).toMatch(/（可选其一：GB 45438-2025 5\.6）/);
  });

  it('lists instruments by status on a date', async () => {
    const r = await cli(['rules', '--on', '2025-08-31', '--format', 'json']);
    const { instruments: list } = JSON.parse(r.stdout) as { instruments: { id: string; status: string; version: string | null; binding: string; citations: string }[] };
    expect(list.find((i) => i.id === 'labeling-measures')?.status).toBe('promulgated-not-yet-in-force');
    expect(list.find((i) => i.id === 'genai-measures')?.status).toBe('in-force');
    expect(list.find((i) => i.id === 'gb-t-45654')).toMatchObject({ binding: 'recommended', citations: 'unverified' });
    const drafts = await cli(['rules', '--on', '2026-01-15', '--status', 'draft']);
    expect(drafts.stdout).toMatch(/anthropomorphic-ai/);
    const csl = await cli(['rules', '--on', '2026-01-01', '--format', 'json']);
    expect((JSON.parse(csl.stdout) as { instruments: { id: string; version: string }[] }).instruments.find((i) => i.id === 'csl')?.version).toBe('2025-amendment');
    const bad = await cli(['rules', '--status', 'sleeping']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown status sleeping/);
  });
});

describe('gap report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-gap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('marks duties from the evidence file and enabled controls, with an overall conclusion', async () => {
    const evidence = join(dir, 'evidence.yaml');
    writeFileSync(
      evidence,
      [
        'controls: { label: true }',
        'obligations:',
        '  algo-recommendation.filing:',
        '    status: non-compliant',
        '    reason: not filed yet',
        '    plan: file through the algorithm filing system',
        '    due: 2026-12-15',
      ].join('\n'),
    );
    const json = await cli(['obligations', '-p', profile('public-chatbot'), '--on', '2026-11-28', '--evidence', evidence, '--format', 'json']);
    expect(json.code).toBe(0);
    const gap = JSON.parse(json.stdout) as GapReport;
    const labels = gap.entries.filter((e) => e.control === 'label');
    expect(labels.length).toBeGreaterThan(0);
    for (const e of labels) expect(e).toMatchObject({ state: 'compliant', basis: 'control' });
    expect(gap.entries.find((e) => e.id === 'algo-recommendation.filing')).toMatchObject({ state: 'non-compliant', basis: 'evidence', due: '2026-12-15' });
    expect(gap.entries.some((e) => e.state === 'not-applicable' && e.basis === 'profile')).toBe(true);
    expect(gap.conclusion).toBe('non-compliant');

    const out = join(dir, 'gap.md');
    const md = await cli(['obligations', '-p', profile('public-chatbot'), '--on', '2026-11-28', '-e', evidence, '-f', 'md', '--lang', 'zh', '-o', out]);
    expect(md.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/## 总体结论/);
    expect(text).toMatch(/整改计划: file through the algorithm filing system/);
  });

  it('counts an alternative as met (GB 45438 §5.6 for §5.1), and prints force and citation check in the gap report', async () => {
    const evidence = join(dir, 'alternative.yaml');
    writeFileSync(evidence, 'obligations:\n  gb-45438.explicit-interface:\n    status: compliant\n    evidence: [screenshots/interface-label.png]\n');
    const json = await cli(['obligations', '-p', profile('insurer-service-bot'), '--on', '2026-11-28', '-e', evidence, '--format', 'json']);
    const gap = JSON.parse(json.stdout) as GapReport;
    expect(gap.entries.find((e) => e.id === 'gb-45438.explicit-text')).toMatchObject({ state: 'compliant', basis: 'alternative', evidence: ['met by the alternative gb-45438.explicit-interface'] });
    expect(gap.entries.every((e) => e.binding !== undefined && e.citationCheck !== undefined)).toBe(true);
    expect(gap.withoutItemisedDuties.map((w) => w.instrument)).toContain('finance-ai-disclosure');
    const md = await cli(['obligations', '-p', profile('insurer-service-bot'), '--on', '2026-11-28', '-e', evidence, '--format', 'md']);
    expect(md.stdout).toMatch(/\| citation \| force \| citation check \| duty \| state \| detail \|/);
    expect(md.stdout).toMatch(/## Applicable, no itemised duties yet/);
  });

  it('refuses an evidence file that names an unknown duty or lacks the plan', async () => {
    const typo = join(dir, 'typo.yaml');
    writeFileSync(typo, 'obligations:\n  genai-measures.complaintz:\n    status: compliant\n    evidence: [x]\n');
    const r1 = await cli(['obligations', '-p', profile('public-chatbot'), '-e', typo]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/obligations\.genai-measures\.complaintz: no obligation has this id/);
    const noPlan = join(dir, 'noplan.yaml');
    writeFileSync(noPlan, 'obligations:\n  algo-recommendation.filing:\n    status: non-compliant\n    reason: late\n');
    const r2 = await cli(['obligations', '-p', profile('public-chatbot'), '-e', noPlan]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/plan: required field is missing/);
  });
});

describe('bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-bad-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const good = readFileSync(profile('public-chatbot'), 'utf8');

  it('names an unknown field and exits 2', async () => {
    const file = join(dir, 'unknown.yaml');
    writeFileSync(file, good.replace('  minors: true', '  minors: true\n  minorz: false'));
    const r = await cli(['obligations', '-p', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/service\.minorz: unknown field/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names a field of the wrong type and exits 2', async () => {
    const file = join(dir, 'type.yaml');
    writeFileSync(file, good.replace('publicOpinion: true', 'publicOpinion: "yes"'));
    const r = await cli(['obligations', '-p', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/service\.publicOpinion: expected boolean, got "yes"/);
  });

  it('names a value outside the allowed set', async () => {
    const file = join(dir, 'enum.yaml');
    writeFileSync(file, good.replace('audience: public', 'audience: everyone'));
    const r = await cli(['obligations', '-p', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/service\.audience: expected one of public, business-api, in-house, research, got "everyone"/);
  });

  it('reads a missing field as unknown, never as "no"', async () => {
    const file = join(dir, 'missing.yaml');
    writeFileSync(file, good.replace(/ {2}recommendation: false\n/, ''));
    const r = await cli(['obligations', '-p', file, '--on', '2026-11-28', '--format', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as ApplicabilityReport;
    expect(report.unknownFacts).toContain('service.recommendation');
    const optOut = report.obligations.find((o) => o.id === 'algo-recommendation.opt-out');
    expect(optOut?.assumed?.liftedBy.map((a) => a.text)).toEqual(['service.recommendation: false']);
  });

  it('explains broken YAML, a missing file, and a bad date without a stack trace', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'provider: {name: x\n');
    const broken = await cli(['obligations', '-p', file]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/YAML syntax/);
    const missing = await cli(['obligations', '-p', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read profile .*nope\.yaml: no such file\n$/);
    const date = await cli(['obligations', '-p', profile('public-chatbot'), '--on', '2026-02-30']);
    expect(date.code).toBe(2);
    expect(date.stderr).toMatch(/--on "2026-02-30" is not a calendar date/);
  });

  it('requires --profile', async () => {
    const r = await cli(['obligations']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/required option '-p, --profile <file>'/);
  });
});

describe('hegui workdays', () => {
  it('adds working days over National Day 2026 and its make-up Saturday', async () => {
    const r = await cli(['workdays', 'add', '2026-09-28', '15']);
    expect(r).toEqual({ code: 0, stdout: '2026-10-23\n', stderr: '' });
  });

  it('explains a day', async () => {
    expect((await cli(['workdays', 'is', '2026-10-10'])).stdout).toMatch(/is a working day \(make-up working day for 国庆节/);
    expect((await cli(['workdays', 'is', '2026-10-05'])).stdout).toMatch(/not a working day \(public holiday/);
  });

  it('refuses an unpublished year unless --estimate', async () => {
    const r = await cli(['workdays', 'add', '2026-12-20', '15']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/2027 holiday schedule is not published/);
    const e = await cli(['workdays', 'add', '2026-12-20', '15', '--estimate', '--json']);
    expect(JSON.parse(e.stdout)).toMatchObject({ estimated: true, estimatedYears: [2027] });
  });

  it('takes a published schedule from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-sched-'));
    const file = join(dir, '2027.json');
    writeFileSync(file, JSON.stringify({ year: 2027, source: 'test', holidays: { '2027-01-01': '元旦' }, makeupWorkdays: {} }));
    const r = await cli(['workdays', 'add', '2026-12-31', '1', '--schedule', file]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.stdout).toBe('2027-01-04\n');
  });
});

describe('--help', () => {
  it('every command has help', async () => {
    for (const args of [[], ['obligations'], ['rules'], ['profile'], ['profile', 'init'], ['profile', 'check'], ['serve'], ['operators'], ['operators', 'add'], ['workdays'], ['workdays', 'add']]) {
      const r = await cli([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/Usage: hegui/);
    }
  });
});
