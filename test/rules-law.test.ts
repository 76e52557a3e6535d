/**
 * Issue 10: the tracker decides as the texts do. One test per defect the review found; each
 * failed on the catalogue and engine before the fix.
 */
import { describe, expect, it } from 'vitest';
import {
  applicableObligations,
  type ApplicabilityReport,
  checkServiceProfile,
  InvalidProfileError,
  loadInstruments,
  type ServiceProfile,
} from '../src/rules/index.js';

const instruments = loadInstruments();
const ON = '2026-11-28';

/** A domestic public text service with every fact answered "no" or "none", overridden by `patch`. */
function profile(patch: { provider?: Record<string, unknown>; service?: Record<string, unknown> } = {}): ServiceProfile {
  const base = {
    provider: { name: 'Example', domestic: true, foreignInvested: false, ...patch.provider },
    service: {
      audience: 'public',
      servesMainlandChina: true,
      modalities: ['text'],
      model: 'own',
      publicOpinion: false,
      minors: false,
      ageVerification: true,
      biometricEditing: [],
      mayMislead: true,
      offersDownload: false,
      recommendation: false,
      contentPlatform: false,
      appStore: false,
      anthropomorphic: false,
      games: false,
      workDispatch: false,
      sellsToConsumers: false,
      sectors: [],
      personalInformation: { individuals: 1000, sensitive: false },
      facialRecognition: false,
      importantData: false,
      criticalInfrastructure: false,
      crossBorderTransfer: false,
      ...patch.service,
    },
  };
  // `undefined` in a patch means "leave the fact out" (unknown).
  for (const [k, v] of Object.entries(base.service)) if (v === undefined) delete (base.service as Record<string, unknown>)[k];
  for (const [k, v] of Object.entries(base.provider)) if (v === undefined) delete (base.provider as Record<string, unknown>)[k];
  return checkServiceProfile(base).profile;
}

const run = (p: ServiceProfile, on = ON): ApplicabilityReport => applicableObligations(instruments, p, on);
const ids = (r: ApplicabilityReport): Set<string> => new Set(r.obligations.map((o) => o.id));
const applying = (r: ApplicabilityReport): Set<string> => new Set([...r.obligations.map((o) => o.instrument), ...r.withoutItemisedDuties.map((w) => w.instrument)]);
const excluded = (r: ApplicabilityReport): Set<string> => new Set(r.excluded.map((e) => e.instrument));

describe('audience: in-house, research, business-facing API and public service follow each instrument', () => {
  it('a business-facing API is a provider under the AI Measures (Art. 22)', () => {
    const r = run(profile({ service: { audience: 'business-api' } }));
    expect(ids(r).has('genai-measures.complaints')).toBe(true);
    expect(ids(r).has('genai-measures.training-data')).toBe(true);
  });

  it('under the Deep Synthesis Provisions it is a technical supporter: Arts. 14, 15, 19, not the provider-only duties', () => {
    const r = run(profile({ service: { audience: 'business-api', biometricEditing: ['face'] } }));
    for (const id of ['deep-synthesis.training-data', 'deep-synthesis.biometric-consent', 'deep-synthesis.tool-assessment', 'deep-synthesis.algorithm-review', 'deep-synthesis.filing', 'deep-synthesis.filing-number-display']) {
      expect(ids(r).has(id), id).toBe(true);
    }
    for (const id of ['deep-synthesis.real-identity', 'deep-synthesis.content-review', 'deep-synthesis.prominent-label-face']) expect(ids(r).has(id), id).toBe(false);
  });

  it('the Algorithm Provisions have no "public" limit: a business-facing API is in', () => {
    const r = run(profile({ service: { audience: 'business-api' } }));
    expect(ids(r).has('algo-recommendation.management-systems')).toBe(true);
  });

  it('in-house use and research are outside the AI rules but inside the data laws', () => {
    for (const audience of ['in-house', 'research']) {
      const r = run(profile({ service: { audience } }));
      for (const id of ['genai-measures', 'deep-synthesis', 'algo-recommendation', 'labeling-measures']) expect(excluded(r).has(id), `${audience} ${id}`).toBe(true);
      for (const id of ['pipl', 'dsl']) expect(applying(r).has(id), `${audience} ${id}`).toBe(true);
    }
  });

  it('refuses the old "enterprise" audience with what to write instead, and upgrades "internal" with a note', () => {
    const old = structuredClone(profile()) as unknown as { service: Record<string, unknown> };
    old.service.audience = 'enterprise';
    expect(() => checkServiceProfile(old)).toThrow(InvalidProfileError);
    try {
      checkServiceProfile(old);
    } catch (error) {
      expect((error as InvalidProfileError).code).toBe('E_PROFILE_INVALID');
      expect((error as InvalidProfileError).message).toMatch(/write business-api .*or in-house/);
    }
    old.service.audience = 'internal';
    old.service.model = 'third-party-filed';
    const { profile: upgraded, notes } = checkServiceProfile(old);
    expect(upgraded.service.audience).toBe('in-house');
    expect(upgraded.service.model).toBe('third-party');
    expect(upgraded.service.modelFiled).toBe(true);
    expect(notes.join('\n')).toMatch(/"internal" is deprecated; write in-house/);
  });
});

describe('filing', () => {
  it('defines the public-opinion attribute from the 2018 security-assessment provisions, in the catalogue', () => {
    const doc = instruments.find((i) => i.id === 'public-opinion-assessment');
    expect(doc).toMatchObject({ promulgated: '2018-11-15', effective: '2018-11-30' });
    expect(doc?.scope?.reason.zh).toMatch(/论坛、博客、微博客、聊天室、通讯群组、公众账号、短视频、网络直播、信息分享、小程序/);
    expect(ids(run(profile({ service: { publicOpinion: true } }))).has('public-opinion-assessment.self-assessment')).toBe(true);
  });

  it('an own model with public-opinion attributes files before launch and shows the filing number', () => {
    const r = run(profile({ service: { publicOpinion: true } }));
    for (const id of ['genai-measures.assessment-and-filing', 'algo-recommendation.filing', 'algo-recommendation.filing-number-display', 'deep-synthesis.filing-number-display', 'labeling-measures.filing-materials']) {
      expect(ids(r).has(id), id).toBe(true);
    }
    expect(ids(r).has('genai-measures.registration-on-filed-model')).toBe(false);
    expect(r.obligations.find((o) => o.id === 'genai-measures.assessment-and-filing')?.summary.en).toMatch(/^Before launch/);
  });

  it('an app on an already-filed model registers instead of filing the model (CAC practice, soft law)', () => {
    const r = run(profile({ service: { publicOpinion: true, model: 'third-party', modelFiled: true, modelForeign: false } }));
    expect(ids(r).has('genai-measures.assessment-and-filing')).toBe(false);
    const registration = r.obligations.find((o) => o.id === 'genai-measures.registration-on-filed-model');
    expect(registration).toMatchObject({ binding: 'soft-law', citationCheck: 'secondary' });
  });

  it('an unknown public-opinion attribute means filing applies, and the report says which answer lifts it', () => {
    const r = run(profile({ service: { publicOpinion: undefined } }));
    const filing = r.obligations.find((o) => o.id === 'genai-measures.assessment-and-filing');
    expect(filing?.assumed?.unknown).toEqual(['service.publicOpinion']);
    expect(filing?.assumed?.liftedBy.map((a) => a.text)).toEqual(['service.publicOpinion: false']);
    expect(r.unknownFacts).toContain('service.publicOpinion');
  });
});

describe('unknown is never "does not apply"', () => {
  it('a public service without effective age verification cannot assume it has no minors', () => {
    const r = run(profile({ service: { minors: false, ageVerification: undefined } }));
    const mode = r.obligations.find((o) => o.id === 'minors-online-protection.minors-mode');
    expect(mode?.assumed?.liftedBy.map((a) => a.text)).toEqual(['service.ageVerification: true']);
    expect(ids(run(profile({ service: { minors: false, ageVerification: false } }))).has('minors-online-protection.minors-mode')).toBe(true);
    expect(ids(run(profile({ service: { minors: false, ageVerification: true } }))).has('minors-online-protection.minors-mode')).toBe(false);
  });

  it('a profile that says nothing but its name gets every duty that could apply, each marked assumed', () => {
    const r = run(checkServiceProfile({ provider: { name: 'Bare' }, service: {} }).profile);
    expect(excluded(r).has('genai-measures')).toBe(false);
    const platform = r.obligations.find((o) => o.id === 'labeling-measures.platform-verify');
    expect(platform?.assumed?.liftedBy.map((a) => a.text)).toContain('service.contentPlatform: false');
    for (const o of r.obligations.filter((x) => x.instrument === 'genai-measures')) expect(o.assumed, o.id).toBeDefined();
    expect(r.unknownFacts).toEqual(expect.arrayContaining(['service.audience', 'service.servesMainlandChina', 'service.minors']));
  });

  it('accepts "unknown" written in the file as the same as leaving the fact out', () => {
    const p = checkServiceProfile({ provider: { name: 'x', domestic: 'unknown' }, service: { minors: 'unknown' } }).profile;
    expect(p.provider.domestic).toBeUndefined();
    expect(p.service.minors).toBeUndefined();
  });
});

describe('foreign providers and foreign models', () => {
  it('AI Measures Art. 23: licences, and foreign-investment rules for a foreign-invested provider', () => {
    const r = run(profile({ provider: { foreignInvested: true } }));
    expect(ids(r).has('genai-measures.licences')).toBe(true);
    expect(ids(r).has('genai-measures.foreign-investment')).toBe(true);
    expect(ids(run(profile())).has('genai-measures.foreign-investment')).toBe(false);
  });

  it('a foreign model that is not filed cannot be offered to the public', () => {
    const r = run(profile({ service: { model: 'third-party', modelForeign: true, modelFiled: false } }));
    const duty = r.obligations.find((o) => o.id === 'genai-measures.no-unfiled-foreign-model');
    expect(duty?.summary.en).toMatch(/cannot lawfully be offered to the mainland public/);
    expect(ids(run(profile({ service: { model: 'third-party', modelForeign: true, modelFiled: true } }))).has('genai-measures.no-unfiled-foreign-model')).toBe(false);
  });

  it('Art. 20 says the CAC shall act, not may', () => {
    const art20 = instruments.find((i) => i.id === 'genai-measures')?.obligations.find((o) => o.id === 'genai-measures.foreign-provider');
    expect(art20?.summary.en).toMatch(/shall/);
    expect(art20?.summary.en).not.toMatch(/\bmay\b/);
    expect(art20?.summary.zh).toMatch(/应当/);
  });
});

describe('scopes as wide as the law, no wider', () => {
  it('robo-advice rules reach only AI investment advice, not an insurer\'s service bot', () => {
    expect(excluded(run(profile({ service: { sectors: ['finance'], roboAdvice: false } }))).has('finance-asset-management')).toBe(true);
    expect(applying(run(profile({ service: { sectors: ['finance'], roboAdvice: true } }))).has('finance-asset-management')).toBe(true);
  });

  it('PIPL Art. 3: an offshore provider that neither serves nor targets the mainland is outside PIPL and the DSL, with no representative duty', () => {
    const r = run(profile({ provider: { domestic: false }, service: { servesMainlandChina: false } }));
    for (const id of ['pipl', 'dsl', 'csl', 'ndsmr', 'pi-audit']) expect(excluded(r).has(id), id).toBe(true);
    expect(ids(r).has('pipl.foreign-representative')).toBe(false);
    const serving = run(profile({ provider: { domestic: false } }));
    expect(ids(serving).has('pipl.foreign-representative')).toBe(true);
  });

  it('no personal-information duties for a service that processes no one\'s data', () => {
    const r = run(profile({ service: { personalInformation: { individuals: 0 } } }));
    for (const id of ['genai-measures.pi-requests', 'csl.pi-collection-rules.v2026', 'ndsmr.rights-requests']) expect(ids(r).has(id), id).toBe(false);
    expect(excluded(r).has('pipl')).toBe(true);
  });
});

describe('cross-border routes', () => {
  const exporting = (exp: Record<string, unknown>, extra: Record<string, unknown> = {}): ApplicabilityReport =>
    run(profile({ service: { crossBorderTransfer: true, export: exp, ...extra } }));

  it('important data goes to the security assessment only (2024 Provisions Art. 7), never the contract', () => {
    const r = exporting({ importantData: true, individuals: 50_000, sensitiveIndividuals: 0 });
    expect(ids(r).has('cross-border-data.security-assessment')).toBe(true);
    expect(ids(r).has('cross-border-data.standard-contract')).toBe(false);
    expect(ids(r).has('pi-export-certification.certification')).toBe(false);
  });

  it('in the contract band: the standard contract or certification, as alternatives, and no assessment', () => {
    const r = exporting({ importantData: false, individuals: 200_000, sensitiveIndividuals: 0 });
    expect(ids(r).has('cross-border-data.security-assessment')).toBe(false);
    const contract = r.obligations.find((o) => o.id === 'cross-border-data.standard-contract');
    const certification = r.obligations.find((o) => o.id === 'pi-export-certification.certification');
    expect(contract?.alternatives).toEqual(['pi-export-certification.certification']);
    expect(certification?.alternatives).toEqual(['cross-border-data.standard-contract']);
  });

  it('below the thresholds: no route is needed', () => {
    const r = exporting({ importantData: false, individuals: 50_000, sensitiveIndividuals: 0 });
    for (const id of ['cross-border-data.security-assessment', 'cross-border-data.standard-contract', 'pi-export-certification.certification']) expect(ids(r).has(id), id).toBe(false);
  });

  it('the certification measures are in force from 2026-01-01', () => {
    const before = exporting({ importantData: false, individuals: 200_000, sensitiveIndividuals: 0 });
    expect(ids(before).has('pi-export-certification.certification')).toBe(true);
    const earlier = run(profile({ service: { crossBorderTransfer: true, export: { importantData: false, individuals: 200_000, sensitiveIndividuals: 0 } } }), '2025-12-31');
    expect(earlier.upcoming.find((u) => u.id === 'pi-export-certification.certification')?.effective).toBe('2026-01-01');
  });
});

describe('instruments with no itemised duties, and duties on anyone', () => {
  it('shows applicable instruments that list no duties instead of dropping them', () => {
    const r = run(profile({ service: { sectors: ['finance'], roboAdvice: false } }));
    const shown = r.withoutItemisedDuties.map((w) => w.instrument);
    expect(shown).toEqual(expect.arrayContaining(['finance-ai-algorithm-evaluation', 'finance-ai-disclosure', 'ai-ethics-review']));
    expect(r.withoutItemisedDuties[0]?.reason.en).toMatch(/no itemised duties yet/);
    const before = run(profile(), '2025-06-01').withoutItemisedDuties.find((w) => w.instrument === 'gb-t-45652');
    expect(before).toMatchObject({ binding: 'recommended', effective: '2025-11-01' });
  });

  it('"any organisation or person" duties reach providers and platforms; Algo Art. 9 binds every provider', () => {
    const r = run(profile());
    expect(ids(r).has('deep-synthesis.no-label-removal')).toBe(true);
    expect(ids(r).has('labeling-measures.no-tampering')).toBe(true);
    expect(ids(r).has('labeling-measures.user-declare')).toBe(false);
    expect(ids(r).has('algo-recommendation.synthetic-info-marking')).toBe(true);
  });
});

describe('binding force, citation checks and labels', () => {
  it('marks recommended standards and soft law apart from mandatory duties, and says how each citation was checked', () => {
    const r = run(profile());
    for (const o of r.obligations) {
      expect(['mandatory', 'recommended', 'soft-law'], o.id).toContain(o.binding);
      expect(['official-text', 'secondary', 'unverified'], o.id).toContain(o.citationCheck);
    }
    expect(r.obligations.filter((o) => o.instrument === 'gb-t-45654').every((o) => o.binding === 'recommended')).toBe(true);
    expect(r.obligations.filter((o) => o.instrument === 'gb-45438').every((o) => o.binding === 'mandatory')).toBe(true);
    // Clause numbers carried over from TC260-003 and articles written from memory say so.
    expect(r.obligations.filter((o) => o.instrument === 'gb-t-45654').every((o) => o.citationCheck === 'unverified')).toBe(true);
    expect(r.penalties.find((p) => p.id === 'pipl.penalties')?.citationCheck).toBe('unverified');
    const early = run(profile(), '2025-06-01');
    expect(early.obligations.filter((o) => o.instrument === 'tc260-003').every((o) => o.binding === 'soft-law')).toBe(true);
  });

  it('GB 45438 §5.6 (interface label) is an alternative for text and audio, not an extra duty', () => {
    const r = run(profile({ service: { modalities: ['text'] } }));
    expect(r.obligations.find((o) => o.id === 'gb-45438.explicit-text')?.alternatives).toEqual(['gb-45438.explicit-interface']);
    expect(r.obligations.find((o) => o.id === 'gb-45438.explicit-interface')?.alternatives).toEqual(['gb-45438.explicit-text', 'gb-45438.explicit-audio']);
    expect(ids(run(profile({ service: { modalities: ['image'] } }))).has('gb-45438.explicit-interface')).toBe(false);
  });

  it('explicit labels bind only content that may mislead or confuse the public (Labeling Measures Art. 4, DS Art. 17(1))', () => {
    expect(ids(run(profile({ service: { mayMislead: true } }))).has('labeling-measures.explicit-text')).toBe(true);
    const r = run(profile({ service: { mayMislead: false } }));
    expect(ids(r).has('labeling-measures.explicit-text')).toBe(false);
    expect(ids(r).has('labeling-measures.implicit')).toBe(true);
  });
});

describe('missing instruments and articles', () => {
  it('holds the instruments the review found missing, with their dates', () => {
    const dates: [string, string][] = [
      ['minors-harmful-info-classification', '2026-03-01'],
      ['gb-t-45652', '2025-11-01'],
      ['gb-t-45674', '2025-11-01'],
      ['facial-recognition', '2025-06-01'],
      ['content-ecosystem', '2020-03-01'],
      ['cii-regulations', '2021-09-01'],
      ['cybersecurity-review', '2022-02-15'],
      ['pi-export-certification', '2026-01-01'],
    ];
    for (const [id, effective] of dates) expect(instruments.find((i) => i.id === id)?.effective, id).toBe(effective);
    expect(instruments.find((i) => i.id === 'tc260-labelling-guideline')?.superseded).toEqual({ on: '2025-09-01', by: 'gb-45438' });
    for (const id of ['labeling-measures', 'gb-45438', 'ai-ethics-review']) expect(instruments.find((i) => i.id === id)?.draftPublished, id).toBeDefined();
  });

  it('lists penalties apart: AI Measures Art. 21, PIPL Art. 66 with its 50 million / 5% ceiling, the amended Cybersecurity Law', () => {
    const r = run(profile());
    const penalties = r.penalties.map((p) => `${p.instrument} ${p.article}`);
    expect(penalties).toEqual(expect.arrayContaining(['genai-measures 21', 'pipl 66', 'csl 61']));
    expect(r.penalties.find((p) => p.instrument === 'pipl')?.summary.en).toMatch(/50 million or 5%/);
    expect(r.obligations.some((o) => o.id.endsWith('.penalties') || o.id.includes('.penalties.'))).toBe(false);
  });

  it('has Deep Synthesis Arts. 8 and 11, Algorithm Provisions Arts. 19-21, and the minors classification Art. 9', () => {
    const all = new Set(instruments.flatMap((i) => i.obligations.map((o) => `${i.id} ${o.article}`)));
    for (const c of ['deep-synthesis 8', 'deep-synthesis 11', 'algo-recommendation 19', 'algo-recommendation 20', 'algo-recommendation 21', 'minors-harmful-info-classification 9', 'content-ecosystem 6']) {
      expect(all.has(c), c).toBe(true);
    }
  });

  it('every rules file says how its citations were checked, and none claims the official text', () => {
    for (const doc of instruments) expect(doc.source.citations, doc.id).not.toBe('official-text');
  });
});
