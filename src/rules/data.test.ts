import { describe, expect, it } from 'vitest';
import { fieldsOf } from './condition.js';
import { loadInstruments } from './load.js';
import { profileFields } from './profile-fields.js';
import { serviceProfile } from './profile.js';
import type { ServiceProfileInput } from './profile.js';
import type { Condition, Instrument, Obligation } from './schema.js';

const instruments = loadInstruments();
const byId = new Map(instruments.map((i) => [i.id, i]));

function get(id: string): Instrument {
  const doc = byId.get(id);
  if (doc === undefined) throw new Error(`no instrument ${id}`);
  return doc;
}

/** The obligations of `instrument` at `article` (and `clause`, for standards). */
function at(instrument: string, article: number, clause?: string): Obligation[] {
  return get(instrument).obligations.filter((o) => o.article === article && (clause === undefined || o.clause === clause));
}

function one(instrument: string, article: number, match: (o: Obligation) => boolean = () => true): Obligation {
  const found = at(instrument, article).filter(match);
  expect(found, `${instrument} Art. ${article}`).toHaveLength(1);
  return found[0] as Obligation;
}

const expectedIds = [
  'genai-measures',
  'deep-synthesis',
  'algo-recommendation',
  'labeling-measures',
  'gb-45438',
  'gb-t-45654',
  'tc260-003',
  'pipl',
  'dsl',
  'csl',
  'ndsmr',
  'ethics-review',
  'cross-border-data',
  'pi-audit',
  'incident-reporting',
  'minors-online-protection',
  'finance-asset-management',
  'finance-ai-algorithm-evaluation',
  'finance-ai-disclosure',
  'healthcare-ai-medical-software',
  'automotive-icv-access',
  'anthropomorphic-ai',
  'ai-ethics-review',
  'public-opinion-assessment',
  'pi-export-certification',
  'minors-harmful-info-classification',
  'gb-t-45652',
  'gb-t-45674',
  'facial-recognition',
  'content-ecosystem',
  'cii-regulations',
  'cybersecurity-review',
  'tc260-labelling-guideline',
];

/** A profile with every field set, to check that conditions name real profile fields. */
const fullProfile: ServiceProfileInput = {
  provider: { name: 'Example', domestic: true, foreignInvested: false, creditCode: '91110000MA01234567' },
  service: {
    name: 'Example service',
    audience: 'public',
    servesMainlandChina: true,
    modalities: ['text'],
    publicOpinion: false,
    biometricEditing: [],
    model: 'own',
    modelFiled: true,
    modelForeign: false,
    minors: false,
    ageVerification: false,
    mayMislead: true,
    sectors: [],
    roboAdvice: false,
    personalInformation: { individuals: 0, sensitive: false },
    facialRecognition: false,
    crossBorderTransfer: false,
    export: { individuals: 0, sensitiveIndividuals: 0, importantData: false },
    workDispatch: false,
    sellsToConsumers: false,
    criticalInfrastructure: false,
    recommendation: false,
    offersDownload: false,
    contentPlatform: false,
    appStore: false,
    anthropomorphic: false,
    importantData: false,
    games: false,
    launchDate: '2025-01-01',
  },
};

function withField(path: string, value: unknown): unknown {
  const copy = structuredClone(fullProfile) as Record<string, unknown>;
  const keys = path.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys[keys.length - 1] as string] = value;
  return copy;
}

function lookup(path: string): unknown {
  let node: unknown = fullProfile;
  for (const key of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

/** Problems with a condition: unknown fields, or values the profile schema would never hold. */
function conditionProblems(condition: Condition | undefined, where: string): string[] {
  if (condition === undefined) return [];
  if ('all' in condition) return condition.all.flatMap((c) => conditionProblems(c, where));
  if ('any' in condition) return condition.any.flatMap((c) => conditionProblems(c, where));
  if ('not' in condition) return conditionProblems(condition.not, where);
  const current = lookup(condition.field);
  if (current === undefined) return [`${where}: unknown profile field ${condition.field}`];
  const accepts = (value: unknown): boolean => serviceProfile.safeParse(withField(condition.field, value)).success;
  const bad = (what: string): string[] => [`${where}: ${condition.field} can never be ${what}`];
  if ('is' in condition) return accepts(condition.is) ? [] : bad(JSON.stringify(condition.is));
  if ('in' in condition) return condition.in.filter((v) => !accepts(v)).flatMap((v) => bad(JSON.stringify(v)));
  if ('includes' in condition) return Array.isArray(current) && accepts([condition.includes]) ? [] : bad(`a list with ${condition.includes}`);
  if ('includesAny' in condition) return condition.includesAny.filter((v) => !Array.isArray(current) || !accepts([v])).flatMap((v) => bad(`a list with ${v}`));
  if ('nonEmpty' in condition) return Array.isArray(current) ? [] : bad('a list');
  return typeof current === 'number' ? [] : bad('a number');
}

describe('the regulatory data', () => {
  it('holds exactly the agreed instruments, each in its own <id>.yaml file', () => {
    expect([...byId.keys()].sort()).toEqual([...expectedIds].sort());
  });

  it('gives every obligation an article, a bilingual summary and bilingual evidence', () => {
    for (const doc of instruments) {
      for (const o of doc.obligations) {
        expect(Number.isInteger(o.article) && o.article > 0, o.id).toBe(true);
        expect(o.summary.zh.trim(), o.id).not.toBe('');
        expect(o.summary.en.trim(), o.id).not.toBe('');
        expect(o.evidence.zh.trim(), o.id).not.toBe('');
        expect(o.evidence.en.trim(), o.id).not.toBe('');
      }
    }
  });

  it('writes the Chinese summary in Chinese and the English one in English', () => {
    for (const doc of instruments) {
      for (const o of doc.obligations) {
        expect(o.summary.zh, o.id).toMatch(/[\u4e00-\u9fff]/);
        // Quoted label words ("人工智能") may appear in English; the sentence itself must not be Chinese.
        expect(o.summary.en.replace(/"[^"]*"/g, ''), o.id).not.toMatch(/[\u4e00-\u9fff]/);
      }
    }
  });

  it('cites standards by clause, with the top-level clause number as the article', () => {
    const standards = instruments.filter((d) => ['mandatory-national-standard', 'recommended-national-standard'].includes(d.hierarchy) || d.id === 'tc260-003');
    expect(standards.map((d) => d.id).sort()).toEqual(['gb-45438', 'gb-t-45652', 'gb-t-45654', 'gb-t-45674', 'tc260-003']);
    for (const doc of standards) {
      for (const o of doc.obligations) {
        expect(o.clause, o.id).toBeDefined();
        expect(Number(o.clause?.split('.')[0]), o.id).toBe(o.article);
      }
    }
  });

  it('writes conditions only over fields and values the service profile has', () => {
    const problems = instruments.flatMap((doc) => [
      ...conditionProblems(doc.scope?.when, `${doc.id} scope`),
      ...doc.obligations.flatMap((o) => conditionProblems(o.when, o.id)),
    ]);
    expect(problems).toEqual([]);
  });

  it('asks a question for every fact a condition reads, so no fact can be left out of the interview', () => {
    const asked = new Set(profileFields.map((f) => f.path));
    const read = instruments.flatMap((doc) => [...fieldsOf(doc.scope?.when), ...doc.obligations.flatMap((o) => fieldsOf(o.when))]);
    expect([...new Set(read)].filter((f) => !asked.has(f))).toEqual([]);
  });

  it('records for every instrument what was verified and how', () => {
    for (const doc of instruments) expect(doc.source.checked.length, doc.id).toBeGreaterThan(80);
  });

  it('keeps every final instrument in force no earlier than promulgated', () => {
    for (const doc of instruments.filter((d) => !d.draft)) {
      expect(doc.effective, doc.id).toBeDefined();
      expect((doc.effective ?? '') >= doc.promulgated, doc.id).toBe(true);
    }
  });

  it('marks drafts as drafts and keeps their anticipated duties few', () => {
    for (const doc of instruments) {
      if (doc.hierarchy === 'draft') expect(doc.draft, doc.id).toBe(true);
      if (doc.draft) expect(doc.obligations.length, doc.id).toBeLessThanOrEqual(5);
    }
  });
});

describe('dates and status', () => {
  const dates: [string, string, string][] = [
    ['genai-measures', '2023-07-10', '2023-08-15'],
    ['deep-synthesis', '2022-11-25', '2023-01-10'],
    ['algo-recommendation', '2021-12-31', '2022-03-01'],
    ['labeling-measures', '2025-03-07', '2025-09-01'],
    ['pipl', '2021-08-20', '2021-11-01'],
    ['dsl', '2021-06-10', '2021-09-01'],
    ['csl', '2016-11-07', '2017-06-01'],
    ['ndsmr', '2024-09-24', '2025-01-01'],
    ['ethics-review', '2023-09-07', '2023-12-01'],
    ['cross-border-data', '2024-03-22', '2024-03-22'],
    ['pi-audit', '2025-02-12', '2025-05-01'],
    ['incident-reporting', '2025-09-11', '2025-11-01'],
    ['minors-online-protection', '2023-10-16', '2024-01-01'],
    ['tc260-003', '2024-02-29', '2024-02-29'],
    ['anthropomorphic-ai', '2026-04-10', '2026-07-15'],
  ];
  it.each(dates)('%s: promulgated %s, in force %s', (id, promulgated, effective) => {
    expect(get(id).promulgated).toBe(promulgated);
    expect(get(id).effective).toBe(effective);
  });

  it('keeps the Labeling Measures and GB 45438 apart, both in force 2025-09-01', () => {
    expect(get('labeling-measures').hierarchy).toBe('normative-document');
    expect(get('gb-45438').hierarchy).toBe('mandatory-national-standard');
    expect(get('gb-45438').effective).toBe('2025-09-01');
  });

  it('has TC260-003 superseded by GB/T 45654-2025 on 2025-11-01', () => {
    expect(get('tc260-003').superseded).toEqual({ on: '2025-11-01', by: 'gb-t-45654' });
    expect(get('gb-t-45654').effective).toBe('2025-11-01');
    expect(get('gb-t-45654').hierarchy).toBe('recommended-national-standard');
  });

  it('models the anthropomorphic AI measures as a draft of 2025-12-27 made final on 2026-04-10', () => {
    const doc = get('anthropomorphic-ai');
    expect(doc.draft).toBe(false);
    expect(doc.draftPublished).toBe('2025-12-27');
    expect(doc.scope?.when).toEqual({
      all: [
        { field: 'service.anthropomorphic', is: true },
        { field: 'service.audience', is: 'public' },
        { field: 'service.servesMainlandChina', is: true },
      ],
    });
  });

  it('models the 2026 AI ethics review measures as final, with no unverified article-level duties', () => {
    const doc = get('ai-ethics-review');
    expect(doc.draft).toBe(false);
    expect(doc.source.docNumber).toBe('工信部联科〔2026〕75号');
    expect(doc.obligations).toEqual([]);
  });
});

describe('the Cybersecurity Law in its two versions', () => {
  const csl = get('csl');

  it('has the 2017 text and the amendment adopted 2025-10-28, in force 2026-01-01', () => {
    expect(csl.amendments).toHaveLength(1);
    expect(csl.amendments[0]).toMatchObject({ id: '2025-amendment', promulgated: '2025-10-28', effective: '2026-01-01' });
  });

  it('files every duty under exactly one version', () => {
    for (const o of csl.obligations) expect(o.versions?.length, o.id).toBe(1);
  });

  const renumbered: [string, number, number][] = [
    ['graded-protection', 21, 23],
    ['network-logs', 21, 23],
    ['real-identity', 24, 26],
    ['incident-plan', 25, 27],
    ['cii-duties', 34, 36],
    ['cii-localisation', 37, 39],
    ['cii-annual-assessment', 38, 40],
    ['pi-collection-rules', 41, 43],
    ['pi-security-breach', 42, 44],
    ['illegal-information', 47, 49],
    ['complaints-and-inspections', 49, 51],
  ];
  it.each(renumbered)('%s: Art. %i in the 2017 text, Art. %i from 2026', (key, before, after) => {
    const old = csl.obligations.find((o) => o.id === `csl.${key}.v2017`);
    const amended = csl.obligations.find((o) => o.id === `csl.${key}.v2026`);
    expect(old).toMatchObject({ article: before, versions: ['original'] });
    expect(amended).toMatchObject({ article: after, versions: ['2025-amendment'] });
    expect(amended?.summary).toEqual(old?.summary);
    expect(amended?.when).toEqual(old?.when);
  });

  it('keeps network logs for at least six months in both versions', () => {
    for (const suffix of ['v2017', 'v2026']) {
      const logs = csl.obligations.find((o) => o.id === `csl.network-logs.${suffix}`);
      expect(logs?.item).toBe(3);
      expect(logs?.figure).toMatchObject({ kind: 'at-least', value: 6, unit: 'months' });
    }
  });

  it('binds critical information infrastructure duties only to CII operators', () => {
    for (const o of csl.obligations.filter((x) => x.id.includes('.cii-'))) {
      expect(o.when, o.id).toEqual({ field: 'service.criticalInfrastructure', is: true });
    }
  });
});

describe('key duties by instrument and article', () => {
  it('Interim AI Measures', () => {
    const doc = get('genai-measures');
    expect(doc.scope?.article).toBe(2);
    // Art. 22: providing the service through an API is providing it, so business-facing services are in scope.
    expect(doc.scope?.when).toEqual({
      all: [
        { field: 'service.audience', in: ['public', 'business-api'] },
        { field: 'service.servesMainlandChina', is: true },
      ],
    });
    expect(doc.scope?.reason.en).toMatch(/Arts\. 2 and 22/);
    expect(doc.scope?.reason.en).toMatch(/research/);
    for (const article of [4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 19, 20, 21, 23]) expect(at('genai-measures', article).length, `Art. ${article}`).toBeGreaterThan(0);
    expect(at('genai-measures', 4).map((o) => o.item)).toEqual([1, 2, 3, 4, 5]);
    expect(one('genai-measures', 17, (o) => o.id === 'genai-measures.assessment-and-filing').when).toMatchObject({ all: [{ field: 'service.publicOpinion', is: true }, expect.anything()] });
    expect(one('genai-measures', 20, (o) => o.id === 'genai-measures.foreign-provider').when).toEqual({ field: 'provider.domestic', is: false });
    expect(one('genai-measures', 12).control).toBe('label');
  });

  it('Deep Synthesis Provisions', () => {
    for (const article of [9, 10, 12, 14, 16, 17, 18, 19]) expect(at('deep-synthesis', article).length, `Art. ${article}`).toBeGreaterThan(0);
    expect(one('deep-synthesis', 14, (o) => o.paragraph === 2).when).toEqual({ field: 'service.biometricEditing', nonEmpty: true });
    // Art. 17(1): prominent labels where the content "may mislead or confuse the public", for service providers only.
    expect(one('deep-synthesis', 17, (o) => o.item === 3).when).toEqual({
      all: [{ field: 'service.audience', is: 'public' }, { field: 'service.mayMislead', is: true }, { field: 'service.biometricEditing', includes: 'face' }],
    });
    expect(at('deep-synthesis', 17).filter((o) => o.paragraph === 1).map((o) => o.item)).toEqual([1, 2, 3, 4, 5]);
    expect(one('deep-synthesis', 19, (o) => o.id === 'deep-synthesis.filing').figure).toMatchObject({ kind: 'within', value: 10, unit: 'working-days' });
  });

  it('Algorithm Recommendation Provisions', () => {
    expect(one('algo-recommendation', 17).when).toEqual({ field: 'service.recommendation', is: true });
    expect(one('algo-recommendation', 18).when).toMatchObject({ any: [{ field: 'service.minors', is: true }, expect.anything()] });
    expect(at('algo-recommendation', 22)).toHaveLength(1);
    const filing = at('algo-recommendation', 24);
    expect(filing.map((o) => [o.paragraph, o.figure?.value, o.figure?.unit])).toEqual([
      [1, 10, 'working-days'],
      [2, 10, 'working-days'],
      [3, 20, 'working-days'],
    ]);
    for (const o of [...filing, one('algo-recommendation', 27)]) expect(o.when, o.id).toEqual({ field: 'service.publicOpinion', is: true });
  });

  it('Labeling Measures', () => {
    for (const article of [4, 5, 8]) expect(at('labeling-measures', article).every((o) => o.role === 'provider'), `Art. ${article}`).toBe(true);
    expect(one('labeling-measures', 6).role).toBe('platform');
    expect(one('labeling-measures', 6).when).toEqual({ field: 'service.contentPlatform', is: true });
    expect(one('labeling-measures', 7).role).toBe('app-store');
    expect(one('labeling-measures', 9).figure).toMatchObject({ kind: 'at-least', value: 6, unit: 'months' });
    expect(one('labeling-measures', 10, (o) => o.paragraph === 1).role).toBe('user');
    expect(one('labeling-measures', 10, (o) => o.paragraph === 2).role).toBe('anyone');
    expect(one('labeling-measures', 4, (o) => o.paragraph === 2).when).toEqual({
      all: [{ field: 'service.mayMislead', is: true }, { field: 'service.offersDownload', is: true }],
    });
  });

  it('GB 45438-2025', () => {
    for (const clause of ['5.1', '5.2', '5.3', '5.4', '6.1']) expect(get('gb-45438').obligations.some((o) => o.clause === clause), clause).toBe(true);
    expect(at('gb-45438', 5, '5.2')[0]?.figure).toMatchObject({ kind: 'at-least', value: 5, unit: 'percent' });
    const video = at('gb-45438', 5, '5.4').map((o) => [o.figure?.value, o.figure?.unit]);
    expect(video).toEqual(expect.arrayContaining([[2, 'seconds'], [5, 'percent']]));
  });

  it.each(['gb-t-45654', 'tc260-003'])('%s figures', (id) => {
    const figures = get(id).obligations.map((o) => [o.clause, o.figure?.kind, o.figure?.value, o.figure?.unit]);
    expect(figures).toEqual(
      expect.arrayContaining([
        ['5.1', 'at-most', 5, 'percent'],
        ['8.1', 'at-least', 10000, 'count'],
        ['8.3', 'at-least', 2000, 'items'],
        ['8.4', 'at-least', 500, 'items'],
        ['9.3', 'at-least', 90, 'percent'],
        ['9.4', 'at-least', 95, 'percent'],
        ['9.4', 'at-most', 5, 'percent'],
      ]),
    );
  });

  it('GB/T 45654 ties the 5% corpus test to a sample of at least 4,000 items', () => {
    expect(at('gb-t-45654', 5, '5.1')[0]?.summary.en).toMatch(/4,000/);
  });

  it('PIPL', () => {
    for (const article of [13, 17, 29, 38, 39, 44, 45, 46, 47, 51, 52, 54, 55, 56, 57]) expect(at('pipl', article).length, `Art. ${article}`).toBeGreaterThan(0);
    expect(one('pipl', 52).when).toEqual({ field: 'service.personalInformation.individuals', gte: 1_000_000 });
    expect(one('pipl', 38).when).toEqual({ field: 'service.crossBorderTransfer', is: true });
    expect(one('pipl', 56).figure).toMatchObject({ kind: 'at-least', value: 3, unit: 'years' });
  });

  it('Data Security Law', () => {
    for (const article of [27, 29, 30]) expect(at('dsl', article), `Art. ${article}`).toHaveLength(1);
  });

  it('Network Data Regulations', () => {
    expect(one('ndsmr', 19).summary.en).toMatch(/training data/);
    expect(one('ndsmr', 28).when).toEqual({ field: 'service.personalInformation.individuals', gte: 10_000_000 });
  });

  it('S&T Ethics Review Measures', () => {
    expect(get('ethics-review').scope?.article).toBe(2);
    expect(at('ethics-review', 4)).toHaveLength(1);
    expect(one('ethics-review', 25).when).toEqual({ field: 'service.publicOpinion', is: true });
  });

  it('Cross-border data provisions', () => {
    expect(get('cross-border-data').scope?.when).toEqual({ field: 'service.crossBorderTransfer', is: true });
    expect(at('cross-border-data', 7)).toHaveLength(1);
    expect(at('cross-border-data', 8)).toHaveLength(1);
  });

  it('PI audit measures: every two years above 10 million people', () => {
    const biennial = one('pi-audit', 4);
    expect(biennial.figure).toMatchObject({ kind: 'within', value: 2, unit: 'years' });
    expect(biennial.when).toEqual({ field: 'service.personalInformation.individuals', gte: 10_000_001 });
  });

  it('Incident reporting: 4 hours, 1 hour for critical information infrastructure', () => {
    const reports = at('incident-reporting', 4);
    expect(reports.find((o) => o.when === undefined)?.figure).toMatchObject({ kind: 'within', value: 4, unit: 'hours' });
    const cii = reports.find((o) => o.when !== undefined);
    expect(cii?.when).toEqual({ field: 'service.criticalInfrastructure', is: true });
    expect(cii?.figure).toMatchObject({ kind: 'within', value: 1, unit: 'hours' });
  });

  it('Minors online: only when minors use the service', () => {
    expect(JSON.stringify(get('minors-online-protection').scope?.when)).toContain('"service.ageVerification"');
    for (const article of [43, 44, 46, 47]) expect(at('minors-online-protection', article), `Art. ${article}`).toHaveLength(1);
    for (const article of [46, 47]) expect(at('minors-online-protection', article)[0]?.when, `Art. ${article}`).toEqual({ field: 'service.games', is: true });
  });

  it('sector rules apply only to their sector', () => {
    const sectors: [string, string][] = [
      ['finance-asset-management', 'finance'],
      ['finance-ai-algorithm-evaluation', 'finance'],
      ['finance-ai-disclosure', 'finance'],
      ['healthcare-ai-medical-software', 'healthcare'],
      ['automotive-icv-access', 'automotive'],
    ];
    for (const [id, sector] of sectors.filter(([i]) => i !== 'finance-asset-management')) expect(get(id).scope?.when, id).toEqual({ field: 'service.sectors', includes: sector });
    // Art. 23 of the asset-management opinions governs robo-advice only.
    expect(get('finance-asset-management').scope?.when).toEqual({ all: [{ field: 'service.sectors', includes: 'finance' }, { field: 'service.roboAdvice', is: true }] });
    expect(at('finance-asset-management', 23).length).toBeGreaterThan(0);
  });
});
