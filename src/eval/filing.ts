/**
 * @module eval/filing
 * The filing package: which filing duties bind the service (from the tracker and the service
 * profile), the checklist of materials the filing asks for with what hegui produced and what
 * the provider must still supply, and the fields of the algorithm filing form filled from the
 * profile. A field the profile does not answer says "unknown — provider to supply", never a
 * blank that reads as "no".
 *
 * The list of materials follows the filing practice of the CAC for generative-AI services
 * (application form, security self-assessment report, service agreement, annotation rules,
 * keyword blocking list, test question sets) and the Labeling Measures' labelling materials; it
 * is practice, not the text of the Measures, and marked `secondary`. The form's fields are those
 * the public descriptions of the algorithm filing system name; they too are `secondary`.
 */
import { applicableObligations, type Bilingual, type EvidenceFile, gapReport, type Instrument, loadInstruments, type ServiceProfile } from '../rules/index.js';
import type { CoverageReport as KeywordCoverage } from '../safety/index.js';
import type { CoverageReport } from './coverage.js';
import type { SelfAssessmentReport } from './report.js';

/** The duties whose materials make up the filing. */
export const FILING_DUTIES = [
  'genai-measures.assessment-and-filing',
  'genai-measures.registration-on-filed-model',
  'algo-recommendation.filing',
  'deep-synthesis.filing',
  'anthropomorphic-ai.filing',
  'labeling-measures.filing-materials',
] as const;

export type MaterialStatus = 'produced' | 'present' | 'provider' | 'not-required';

export interface Material {
  readonly id: string;
  readonly name: Bilingual;
  readonly status: MaterialStatus;
  /** what hegui produced or found, or what the provider must do */
  readonly detail: Bilingual;
  /** the duties that ask for it (applicable ones) */
  readonly duties: readonly string[];
  readonly citation: 'secondary' | 'unverified' | 'official-text';
}

export interface FormField {
  readonly key: string;
  readonly label: Bilingual;
  /** the value, or null when the profile does not say */
  readonly value: Bilingual | null;
  /** the profile field it came from */
  readonly from: string | null;
}

export interface FilingPackage {
  readonly date: string;
  readonly duties: readonly { readonly id: string; readonly summary: Bilingual; readonly state: string; readonly assumedUnknown?: readonly string[] }[];
  readonly materials: readonly Material[];
  readonly form: readonly FormField[];
  /** how many materials and form fields the provider must still supply */
  readonly toSupply: { readonly materials: number; readonly fields: number };
}

export interface FilingInput {
  readonly profile: ServiceProfile;
  readonly evidence?: EvidenceFile;
  readonly date: string;
  readonly report?: SelfAssessmentReport;
  /** where the report files were written, for the checklist */
  readonly reportFiles?: readonly string[];
  readonly coverage?: CoverageReport;
  readonly keywords?: KeywordCoverage;
  readonly labelSettings?: readonly (string | Bilingual)[];
  readonly instruments?: readonly Instrument[];
}

export const UNKNOWN: Bilingual = { zh: '未知——由提供者填写', en: 'unknown — provider to supply' };

const yes: Bilingual = { zh: '是', en: 'yes' };
const no: Bilingual = { zh: '否', en: 'no' };
const same = (t: string): Bilingual => ({ zh: t, en: t });

function bool(v: boolean | undefined): Bilingual | null {
  return v === undefined ? null : v ? yes : no;
}

const AUDIENCE: Record<string, Bilingual> = {
  public: { zh: '面向境内公众', en: 'the mainland public' },
  'business-api': { zh: '面向企业（接口/API）', en: 'businesses (API)' },
  'in-house': { zh: '仅内部使用', en: 'in-house only' },
  research: { zh: '研究开发', en: 'research' },
};
const MODALITY: Record<string, Bilingual> = {
  text: { zh: '文本', en: 'text' },
  image: { zh: '图片', en: 'image' },
  audio: { zh: '音频', en: 'audio' },
  video: { zh: '视频', en: 'video' },
  'virtual-scene': { zh: '虚拟场景', en: 'virtual scenes' },
};
const MODEL: Record<string, Bilingual> = {
  own: { zh: '自研模型', en: 'own model' },
  'fine-tuned': { zh: '基于基础模型微调', en: 'fine-tuned foundation model' },
  'third-party': { zh: '直接调用第三方模型', en: 'third-party model used as is' },
};

function list(values: readonly string[] | undefined, names: Record<string, Bilingual>): Bilingual | null {
  if (values === undefined) return null;
  if (values.length === 0) return { zh: '无', en: 'none' };
  return { zh: values.map((v) => names[v]?.zh ?? v).join('、'), en: values.map((v) => names[v]?.en ?? v).join(', ') };
}

/** The algorithm filing form, as far as the profile answers it. */
export function filingForm(profile: ServiceProfile): FormField[] {
  const s = profile.service;
  const algorithmTypes: string[] = [];
  if (s.modalities !== undefined || s.model !== undefined) algorithmTypes.push('generative');
  if (s.recommendation === true) algorithmTypes.push('recommendation');
  const types: Bilingual | null =
    algorithmTypes.length === 0
      ? null
      : { zh: algorithmTypes.map((t) => (t === 'generative' ? '生成合成类' : '个性化推送类')).join('、'), en: algorithmTypes.map((t) => (t === 'generative' ? 'generation and synthesis' : 'personalised recommendation')).join(', ') };
  const f = (key: string, zh: string, en: string, value: Bilingual | null, from: string | null): FormField => ({ key, label: { zh, en }, value, from });
  return [
    f('entity.name', '主体名称', 'Entity name', same(profile.provider.name), 'provider.name'),
    f('entity.creditCode', '统一社会信用代码', 'Unified social credit code', profile.provider.creditCode ? same(profile.provider.creditCode) : null, 'provider.creditCode'),
    f('entity.domestic', '境内主体', 'Incorporated in mainland China', bool(profile.provider.domestic), 'provider.domestic'),
    f('entity.legalRepresentative', '法定代表人', 'Legal representative', null, null),
    f('entity.address', '注册地址', 'Registered address', null, null),
    f('entity.securityOfficer', '算法安全责任人及联系方式', 'Algorithm security officer and contact', null, null),
    f('algorithm.name', '算法名称', 'Algorithm name', null, null),
    f('algorithm.type', '算法类型', 'Algorithm type', types, types === null ? null : 'service.modalities, service.recommendation'),
    f('algorithm.model', '模型来源', 'Model source', s.model ? MODEL[s.model]! : null, 'service.model'),
    f('algorithm.modelFiled', '所用模型已备案', 'Model already filed', bool(s.modelFiled), 'service.modelFiled'),
    f('algorithm.mechanism', '算法基本原理与运行机制', 'Algorithm principles and mechanism', null, null),
    f('algorithm.selfAssessment', '算法安全自评估', 'Algorithm security self-assessment', null, null),
    f('product.name', '产品及功能名称', 'Product or feature name', s.name ? same(s.name) : null, 'service.name'),
    f('product.audience', '服务对象', 'Served to', s.audience ? AUDIENCE[s.audience]! : null, 'service.audience'),
    f('product.modalities', '生成内容类型', 'Kinds of generated content', list(s.modalities, MODALITY), 'service.modalities'),
    f('product.publicOpinion', '具有舆论属性或社会动员能力', 'Public-opinion attributes or social mobilisation', bool(s.publicOpinion), 'service.publicOpinion'),
    f('product.minors', '未成年人可使用', 'Minors may use it', bool(s.minors), 'service.minors'),
    f('product.biometric', '编辑人脸或人声', 'Edits faces or voices', list(s.biometricEditing, { face: { zh: '人脸', en: 'faces' }, voice: { zh: '人声', en: 'voices' } }), 'service.biometricEditing'),
    f('product.launchDate', '上线日期', 'Launch date', s.launchDate ? same(s.launchDate) : null, 'service.launchDate'),
    f('product.form', '服务形式（网站、应用、小程序、接口）', 'Form of service (website, app, mini-program, API)', null, null),
    f('product.url', '服务网址或应用名称', 'Service URL or app name', null, null),
  ];
}

/** The filing package for a service on `date`. */
export function filingPackage(input: FilingInput): FilingPackage {
  const instruments = input.instruments ?? loadInstruments();
  const applicability = applicableObligations(instruments, input.profile, input.date);
  const gap = gapReport(applicability, input.evidence ?? { controls: {}, obligations: {} });
  const filingIds = new Set<string>(FILING_DUTIES);
  const duties = gap.entries.filter((e) => filingIds.has(e.id) && e.basis !== 'profile').map((e) => ({ id: e.id, summary: e.summary, state: e.state, ...(e.assumed ? { assumedUnknown: e.assumed.unknown } : {}) }));
  const applies = (id: string): boolean => duties.some((d) => d.id === id);
  const anyFiling = duties.length > 0;
  const genai = applies('genai-measures.assessment-and-filing');
  const askedBy = (ids: string[]): string[] => ids.filter(applies);
  const annotation = input.evidence?.obligations['genai-measures.annotation'] ?? input.evidence?.obligations['gb-t-45654.annotation'];

  const m = (id: string, zh: string, en: string, required: boolean, duties: string[], produced: { status: MaterialStatus; detail: Bilingual }): Material => ({
    id,
    name: { zh, en },
    duties,
    citation: 'secondary',
    ...(required ? produced : { status: 'not-required' as const, detail: { zh: '适用的义务中没有要求此项材料', en: 'no applicable duty asks for it' } }),
  });
  const report = input.report;
  const materials: Material[] = [
    m('application-form', '备案申请表', 'Filing application form', anyFiling, askedBy([...FILING_DUTIES]), {
      status: 'provider',
      detail: { zh: '由提供者在备案系统填写；下列表单字段已按服务画像预填', en: 'the provider fills it in the filing system; the form fields below are pre-filled from the profile' },
    }),
    m('self-assessment-report', '安全自评估报告', 'Security self-assessment report', genai, askedBy(['genai-measures.assessment-and-filing']), report
      ? { status: 'produced', detail: { zh: `hegui 已生成（GB/T 45654，运行 ${report.run.runId}，结论：${report.conclusion === 'compliant' ? '符合' : '不符合'}）${input.reportFiles?.length ? `：${input.reportFiles.join('、')}` : ''}`, en: `produced by hegui (GB/T 45654, run ${report.run.runId}, conclusion: ${report.conclusion})${input.reportFiles?.length ? `: ${input.reportFiles.join(', ')}` : ''}` } }
      : { status: 'provider', detail: { zh: '尚未生成：运行评估后用 `hegui eval report` 生成', en: 'not produced yet: run the assessment, then `hegui eval report`' } }),
    m('service-agreement', '模型服务协议', 'Service agreement', genai, askedBy(['genai-measures.assessment-and-filing']), { status: 'provider', detail: { zh: '由提供者提供（用户协议与服务协议）', en: 'the provider supplies it (user and service agreements)' } }),
    m('annotation-rules', '语料标注规则', 'Corpus annotation rules', genai, askedBy(['genai-measures.assessment-and-filing']), annotation?.status === 'compliant'
      ? { status: 'present', detail: { zh: `证据文件列出：${annotation.evidence.join('、')}`, en: `listed in the evidence file: ${annotation.evidence.join(', ')}` } }
      : { status: 'provider', detail: { zh: '由提供者提供（功能性与安全性标注规则）', en: 'the provider supplies them (functional and safety annotation rules)' } }),
    m('keyword-list', '关键词拦截列表', 'Keyword blocking list', genai, askedBy(['genai-measures.assessment-and-filing']), input.keywords
      ? { status: 'produced', detail: { zh: `hegui 关键词库统计：${input.keywords.library.name} v${input.keywords.library.version}，共 ${input.keywords.total} 条，${input.keywords.meetsMinimums ? '满足' : '未满足'} GB/T 45654 最低要求`, en: `hegui keyword library statistics: ${input.keywords.library.name} v${input.keywords.library.version}, ${input.keywords.total} entries, ${input.keywords.meetsMinimums ? 'meets' : 'does NOT meet'} the GB/T 45654 minimums` } }
      : { status: 'provider', detail: { zh: '未提供关键词库：用 `hegui keywords coverage` 统计', en: 'no keyword library given: count it with `hegui keywords coverage`' } }),
    m('test-banks', '评估测试题集', 'Test question sets', genai, askedBy(['genai-measures.assessment-and-filing']), input.coverage
      ? { status: 'produced', detail: { zh: `hegui 题库统计：生成内容 ${input.coverage.stats.byKind['generated-content']}，应拒答 ${input.coverage.stats.byKind['should-refuse']}，非拒答 ${input.coverage.stats.byKind['should-not-refuse']}；${input.coverage.meets ? '满足全部最低要求' : `${input.coverage.shortfalls.length} 项最低要求未满足`}`, en: `hegui bank statistics: generated-content ${input.coverage.stats.byKind['generated-content']}, should-refuse ${input.coverage.stats.byKind['should-refuse']}, should-not-refuse ${input.coverage.stats.byKind['should-not-refuse']}; ${input.coverage.meets ? 'every minimum met' : `${input.coverage.shortfalls.length} minimum(s) not met`}` } }
      : { status: 'provider', detail: { zh: '未提供题库：用 `hegui eval coverage` 统计', en: 'no banks given: count them with `hegui eval coverage`' } }),
    m('labelling-materials', '生成合成内容标识材料', 'Labelling materials for generated content', applies('labeling-measures.filing-materials'), askedBy(['labeling-measures.filing-materials']), input.labelSettings && input.labelSettings.length > 0
      ? { status: 'produced', detail: { zh: `hegui 标识设置：${input.labelSettings.map((x) => (typeof x === 'string' ? x : x.zh)).join('；')}`, en: `hegui label settings: ${input.labelSettings.map((x) => (typeof x === 'string' ? x : x.en)).join('; ')}` } }
      : { status: 'provider', detail: { zh: '由提供者说明显式与隐式标识方案（GB 45438）', en: 'the provider describes its explicit and implicit labels (GB 45438)' } }),
    m('model-filing-number', '所用模型备案号', 'Filing number of the model used', applies('genai-measures.registration-on-filed-model'), askedBy(['genai-measures.registration-on-filed-model']), { status: 'provider', detail: { zh: '由提供者提供所调用模型的备案号与登记回执', en: 'the provider gives the model filing number and the registration receipt' } }),
  ];
  const form = filingForm(input.profile);
  return {
    date: input.date,
    duties,
    materials,
    form,
    toSupply: { materials: materials.filter((x) => x.status === 'provider').length, fields: form.filter((x) => x.value === null).length },
  };
}

const STATUS: Record<MaterialStatus, Bilingual> = {
  produced: { zh: 'hegui 已生成', en: 'produced by hegui' },
  present: { zh: '已具备', en: 'present' },
  provider: { zh: '待提供者提供', en: 'provider to supply' },
  'not-required': { zh: '不需要', en: 'not required' },
};

/** The package as Markdown. */
export function renderFilingMarkdown(p: FilingPackage, lang: 'zh' | 'en'): string {
  const L = (b: Bilingual): string => b[lang].replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out: string[] = [];
  out.push(lang === 'zh' ? `# 备案材料清单（${p.date}）` : `# Filing materials (${p.date})`, '');
  out.push(lang === 'zh' ? '## 适用的备案义务' : '## Filing duties that apply', '');
  if (p.duties.length === 0) out.push(lang === 'zh' ? '按服务画像，没有适用的备案义务。' : 'By the profile, no filing duty applies.');
  for (const d of p.duties) out.push(`- \`${d.id}\`: ${L(d.summary)}${d.assumedUnknown ? (lang === 'zh' ? `（因 ${d.assumedUnknown.join(', ')} 未知按安全侧适用）` : ` (applies on the safe side: ${d.assumedUnknown.join(', ')} unknown)`) : ''}`);
  out.push('', lang === 'zh' ? '## 材料' : '## Materials', '');
  out.push(lang === 'zh' ? '| 材料 | 状态 | 说明 |' : '| Material | Status | Detail |', '|---|---|---|');
  for (const m of p.materials) out.push(`| ${L(m.name)} | ${L(STATUS[m.status])} | ${L(m.detail)} |`);
  out.push('', lang === 'zh' ? '## 算法备案表单字段（按服务画像预填）' : '## Algorithm filing form (pre-filled from the profile)', '');
  out.push(lang === 'zh' ? '| 字段 | 值 | 来源 |' : '| Field | Value | From |', '|---|---|---|');
  for (const f of p.form) out.push(`| ${L(f.label)} | ${f.value === null ? `**${L(UNKNOWN)}**` : L(f.value)} | ${f.value === null ? '—' : `\`${f.from}\``} |`);
  out.push(
    '',
    lang === 'zh'
      ? `待提供者补充：材料 ${p.toSupply.materials} 项，表单字段 ${p.toSupply.fields} 项。材料清单据网信部门备案实践整理（非办法明文），提交前请以备案系统的当期要求为准。`
      : `Left for the provider: ${p.toSupply.materials} material(s) and ${p.toSupply.fields} form field(s). The list of materials follows the CAC's filing practice (not the text of the Measures): check the filing system's current requirements before submitting.`,
    '',
  );
  return out.join('\n');
}
