/**
 * @module rules/render
 * Citations, figures and reports as people read them: a terminal table, Markdown for the
 * filing package, in Chinese or English.
 */
import type { Trace } from './condition.js';
import type { AppliedObligation, ApplicabilityReport, Assumption, Explanation, UpcomingObligation } from './engine.js';
import type { GapEntry, GapReport } from './gap.js';
import type { Bilingual, BindingForce, CitationCheck, Figure, Instrument } from './schema.js';

export type Lang = 'zh' | 'en';

const DIGITS = '零一二三四五六七八九';

/** 17 -> 十七, 105 -> 一百零五, as article numbers are written in Chinese legal texts. */
export function chineseNumeral(n: number): string {
  if (!Number.isInteger(n) || n <= 0 || n >= 1000) return String(n);
  const hundreds = Math.floor(n / 100);
  const tens = Math.floor((n % 100) / 10);
  const ones = n % 10;
  let out = hundreds > 0 ? `${DIGITS[hundreds]}百` : '';
  if (tens > 0) out += hundreds === 0 && tens === 1 ? '十' : `${DIGITS[tens]}十`;
  else if (hundreds > 0 && ones > 0) out += '零';
  if (ones > 0) out += DIGITS[ones];
  return out;
}

type Cited = Pick<AppliedObligation, 'article' | 'paragraph' | 'item' | 'clause'>;

/** "AI Measures Art. 17(1)" or "《暂行办法》第十七条第一款"; standards cite their clause. */
export function citation(o: Cited, instrument: Pick<Instrument, 'short'> | undefined, lang: Lang): string {
  const name = instrument?.short[lang] ?? '';
  if (o.clause !== undefined) return lang === 'zh' ? `${name} ${o.clause}` : `${name} §${o.clause}`;
  if (lang === 'zh') {
    let text = `${name}第${chineseNumeral(o.article)}条`;
    if (o.paragraph !== undefined) text += `第${chineseNumeral(o.paragraph)}款`;
    if (o.item !== undefined) text += `第（${chineseNumeral(o.item)}）项`;
    return text;
  }
  let text = `${name} Art. ${o.article}`;
  if (o.paragraph !== undefined) text += `(${o.paragraph})`;
  if (o.item !== undefined) text += `(${o.item})`;
  return text;
}

const UNITS: Record<Figure['unit'], Bilingual> = {
  'working-days': { zh: '个工作日', en: 'working days' },
  days: { zh: '日', en: 'days' },
  months: { zh: '个月', en: 'months' },
  years: { zh: '年', en: 'years' },
  hours: { zh: '小时', en: 'hours' },
  percent: { zh: '%', en: '%' },
  count: { zh: '', en: '' },
  items: { zh: '条', en: 'items' },
  'pixels-ratio': { zh: '（相对最短边）', en: 'of the shortest side' },
  seconds: { zh: '秒', en: 's' },
};

/** "within 10 working days", "不少于6个月", ">= 10000 items". */
export function formatFigure(figure: Figure | null, lang: Lang): string {
  if (figure === null) return '';
  const unit = UNITS[figure.unit][lang];
  const amount = lang === 'en' && unit !== '%' && unit !== '' ? `${figure.value} ${unit}` : `${figure.value}${unit}`;
  const of = figure.of ? (lang === 'zh' ? `（${figure.of.zh}）` : ` (${figure.of.en})`) : '';
  const phrase: Record<Figure['kind'], Bilingual> = {
    within: { zh: `${amount}内`, en: `within ${amount}` },
    'at-least': { zh: `不少于${amount}`, en: `at least ${amount}` },
    'at-most': { zh: `不超过${amount}`, en: `at most ${amount}` },
    exactly: { zh: `${amount}`, en: `${amount}` },
  };
  return `${phrase[figure.kind][lang]}${of}`;
}

function byId(instruments: readonly Instrument[]): Map<string, Instrument> {
  return new Map(instruments.map((i) => [i.id, i]));
}

/** Display width: CJK and full-width characters take two columns in a terminal. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

function pad(text: string, columns: number): string {
  return text + ' '.repeat(Math.max(0, columns - width(text)));
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => width(r[c] ?? ''))));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : pad(cell, widths[c]!))).join('  ').trimEnd()).join('\n');
}

const HEAD: Record<Lang, string[]> = {
  zh: ['依据', '效力', '引证核对', '对象', '时限/指标', '控制', '义务'],
  en: ['citation', 'force', 'citation check', 'role', 'deadline', 'control', 'duty'],
};

/** Binding force as reports print it. */
export const BINDING: Record<BindingForce, Bilingual> = {
  mandatory: { zh: '强制', en: 'mandatory' },
  recommended: { zh: '推荐', en: 'recommended' },
  'soft-law': { zh: '软法', en: 'soft law' },
};

/** How a citation was checked, as reports print it. */
export const CHECK: Record<CitationCheck, Bilingual> = {
  'official-text': { zh: '已核原文', en: 'official text' },
  secondary: { zh: '二手来源', en: 'secondary source' },
  unverified: { zh: '未核实', en: 'unverified' },
};

/** "applies because service.minors is unknown; service.minors: false would lift it". */
export function describeAssumption(assumed: Pick<Assumption, 'unknown'> & { liftedBy: readonly { text: string }[] }, lang: Lang): string {
  const unknown = assumed.unknown.join(', ');
  const lift = assumed.liftedBy.map((a) => a.text).join(lang === 'zh' ? '；或' : '; or ');
  if (lang === 'zh') return `按安全侧适用：${unknown} 未知${lift ? `；回答 ${lift} 则不适用` : '；需一并回答这些事实才能排除'}`;
  return `applies on the safe side: ${unknown} unknown${lift ? `; answering ${lift} would lift it` : '; only answering these together can lift it'}`;
}

function dutyText(o: AppliedObligation, instruments: Map<string, Instrument>, lang: Lang): string {
  let out = o.summary[lang];
  if (o.alternatives) {
    const alts = o.alternatives.map((id) => alternativeCitation(id, instruments, lang)).join(lang === 'zh' ? '、' : ', ');
    out += lang === 'zh' ? `（可选其一：${alts}）` : ` (or instead: ${alts})`;
  }
  if (o.assumed) out += ` [${describeAssumption(o.assumed, lang)}]`;
  return out;
}

function alternativeCitation(id: string, instruments: Map<string, Instrument>, lang: Lang): string {
  const instrument = instruments.get(id.split('.')[0]!);
  const o = instrument?.obligations.find((x) => x.id === id);
  return o ? citation(o, instrument, lang) : id;
}

function row(o: AppliedObligation, instruments: Map<string, Instrument>, lang: Lang): string[] {
  return [
    citation(o, instruments.get(o.instrument), lang),
    BINDING[o.binding][lang],
    CHECK[o.citationCheck][lang],
    o.role,
    formatFigure(o.deadline, lang),
    o.control,
    dutyText(o, instruments, lang),
  ];
}

/** The sections every report ends with: unknown facts, instruments without itemised duties, penalties. */
function trailer(report: Pick<ApplicabilityReport, 'unknownFacts' | 'withoutItemisedDuties'> & { penalties?: AppliedObligation[] }, map: Map<string, Instrument>, lang: Lang, md: boolean): string[] {
  const zh = lang === 'zh';
  const item = (text: string): string => (md ? `- ${text}` : `  ${text}`);
  const out: string[] = [];
  if (report.withoutItemisedDuties.length > 0) {
    out.push('', md ? (zh ? '## 适用但尚未逐条列出义务的文件' : '## Applicable, no itemised duties yet') : zh ? '适用但尚未逐条列出义务的文件：' : 'Applicable, no itemised duties yet:', ...(md ? [''] : []));
    for (const w of report.withoutItemisedDuties) {
      const assumed = w.assumed ? ` [${describeAssumption(w.assumed, lang)}]` : '';
      const from = w.effective ? (zh ? `，${w.effective}起施行` : `, in force from ${w.effective}`) : '';
      out.push(item(`${map.get(w.instrument)?.name[lang] ?? w.instrument} (${BINDING[w.binding][lang]}${from}): ${w.reason[lang]}${assumed}`));
    }
  }
  if (report.unknownFacts.length > 0) {
    out.push('', md ? (zh ? '## 未知事实' : '## Unknown facts') : zh ? '未知事实（相关义务按安全侧适用；用 hegui profile check 查看问题）：' : 'Unknown facts (the duties they decide apply on the safe side; see hegui profile check):', ...(md ? [''] : []));
    for (const f of report.unknownFacts) out.push(item(f));
  }
  if (report.penalties !== undefined && report.penalties.length > 0) {
    out.push('', md ? (zh ? '## 罚则' : '## Penalties') : zh ? '罚则：' : 'Penalties:', ...(md ? [''] : []));
    for (const p of report.penalties) out.push(item(`${citation(p, map.get(p.instrument), lang)} [${CHECK[p.citationCheck][lang]}]: ${p.summary[lang]}`));
  }
  return out;
}

/** The terminal view of `hegui obligations`. */
export function renderObligationsTable(report: ApplicabilityReport, instruments: readonly Instrument[], lang: Lang): string {
  const map = byId(instruments);
  const zh = lang === 'zh';
  const parts = [zh ? `适用义务（${report.date}）：${report.obligations.length} 项` : `Obligations on ${report.date}: ${report.obligations.length}`];
  if (report.obligations.length > 0) parts.push(table([HEAD[lang], ...report.obligations.map((o) => row(o, map, lang))]));
  if (report.upcoming.length > 0) {
    parts.push('', zh ? `即将施行：${report.upcoming.length} 项` : `Upcoming: ${report.upcoming.length}`);
    parts.push(table([[zh ? '施行日期' : 'from', ...HEAD[lang]], ...report.upcoming.map((o) => [o.effective, ...row(o, map, lang)])]));
  }
  if (report.excluded.length > 0) {
    parts.push('', zh ? '不适用的文件：' : 'Instruments that do not apply:');
    parts.push(table(report.excluded.map((e) => [`  ${map.get(e.instrument)?.short[lang] ?? e.instrument}`, e.reason[lang]])));
  }
  parts.push(...trailer(report, map, lang, false));
  return `${parts.join('\n')}\n`;
}

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function grouped<T extends { instrument: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.instrument, [...(groups.get(item.instrument) ?? []), item]);
  return groups;
}

/** `hegui obligations --format md`: obligations grouped by instrument. */
export function renderObligationsMarkdown(report: ApplicabilityReport, instruments: readonly Instrument[], lang: Lang): string {
  const map = byId(instruments);
  const zh = lang === 'zh';
  const out = [zh ? `# 适用义务（${report.date}）` : `# Obligations on ${report.date}`, ''];
  for (const [id, items] of grouped(report.obligations)) {
    out.push(`## ${map.get(id)?.name[lang] ?? id}`, '', `| ${HEAD[lang].join(' | ')} |`, `|${HEAD[lang].map(() => '---').join('|')}|`);
    for (const o of items) out.push(`| ${row(o, map, lang).map(mdCell).join(' | ')} |`);
    out.push('');
  }
  if (report.upcoming.length > 0) {
    out.push(zh ? '## 即将施行' : '## Upcoming', '');
    for (const o of report.upcoming) out.push(`- ${o.effective}: ${citation(o, map.get(o.instrument), lang)} — ${o.summary[lang]}`);
    out.push('');
  }
  if (report.excluded.length > 0) {
    out.push(zh ? '## 不适用的文件' : '## Instruments that do not apply', '');
    for (const e of report.excluded) out.push(`- ${map.get(e.instrument)?.name[lang] ?? e.instrument}: ${e.reason[lang]}`);
  }
  out.push(...trailer(report, map, lang, true), '');
  return out.join('\n');
}

const STATE: Record<GapEntry['state'], Bilingual> = {
  compliant: { zh: '符合', en: 'compliant' },
  'non-compliant': { zh: '不符合', en: 'non-compliant' },
  'not-applicable': { zh: '不适用', en: 'not applicable' },
};

function text(value: string | Bilingual | undefined, lang: Lang): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : value[lang];
}

function gapDetail(e: GapEntry, lang: Lang): string {
  const zh = lang === 'zh';
  if (e.state === 'compliant') return `${zh ? '证据' : 'Evidence'}: ${e.evidence.join('; ')}`;
  if (e.state === 'not-applicable') return `${zh ? '理由' : 'Justification'}: ${text(e.justification, lang)}`;
  const due = e.due ? ` (${zh ? '完成期限' : 'due'} ${e.due})` : '';
  return `${zh ? '原因' : 'Reason'}: ${e.reason ?? ''}; ${zh ? '整改计划' : 'Plan'}: ${e.plan ?? ''}${due}`;
}

/** The gap report as Markdown: every duty with its state, then the overall conclusion. */
export function renderGapMarkdown(gap: GapReport, instruments: readonly Instrument[], lang: Lang, title?: string): string {
  const map = byId(instruments);
  const zh = lang === 'zh';
  const out = [`# ${title ?? (zh ? '合规差距报告' : 'Compliance gap report')}`, '', zh ? `评估日期：${gap.date}` : `Assessed on: ${gap.date}`, ''];
  for (const [id, items] of grouped(gap.entries)) {
    out.push(`## ${map.get(id)?.name[lang] ?? id}`, '');
    const head = zh ? ['依据', '效力', '引证核对', '义务', '结论', '说明'] : ['citation', 'force', 'citation check', 'duty', 'state', 'detail'];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const e of items) {
      const duty = e.assumed ? `${e.summary[lang]} [${describeAssumption(e.assumed, lang)}]` : e.summary[lang];
      out.push(
        `| ${[citation(e, map.get(e.instrument), lang), BINDING[e.binding][lang], CHECK[e.citationCheck][lang], duty, STATE[e.state][lang], gapDetail(e, lang)].map(mdCell).join(' | ')} |`,
      );
    }
    out.push('');
  }
  if (gap.upcoming.length > 0) {
    out.push(zh ? '## 即将施行（未评估）' : '## Upcoming (not assessed)', '');
    for (const o of gap.upcoming as UpcomingObligation[]) out.push(`- ${o.effective}: ${citation(o, map.get(o.instrument), lang)} — ${o.summary[lang]}`);
    out.push('');
  }
  out.push(...trailer(gap, map, lang, true));
  if (gap.withoutItemisedDuties.length > 0 || gap.unknownFacts.length > 0) out.push('');
  const { compliant, 'non-compliant': non, 'not-applicable': na } = gap.counts;
  out.push(zh ? '## 总体结论' : '## Overall conclusion', '');
  out.push(
    zh
      ? `符合 ${compliant} 项，不符合 ${non} 项，不适用 ${na} 项。总体结论：${STATE[gap.conclusion].zh}。`
      : `${compliant} compliant, ${non} non-compliant, ${na} not applicable. Overall: ${STATE[gap.conclusion].en}.`,
    '',
  );
  return out.join('\n');
}

const OUTCOME: Record<Explanation['outcome'], Bilingual> = {
  applies: { zh: '适用', en: 'applies' },
  'applies-assumed': { zh: '按安全侧适用（有未知事实）', en: 'applies on the safe side (facts unknown)' },
  upcoming: { zh: '将要适用', en: 'will apply' },
  'not-applicable': { zh: '不适用', en: 'does not apply' },
  excluded: { zh: '所属文件不适用', en: 'its instrument does not apply' },
};

const TRUTH: Record<Trace['result'], Bilingual> = {
  yes: { zh: '是', en: 'yes' },
  no: { zh: '否', en: 'no' },
  unknown: { zh: '未知', en: 'unknown' },
};

function traceLines(t: Trace, lang: Lang, depth: number): string[] {
  const pad = '  '.repeat(depth);
  const answer = t.field !== undefined ? `  (${lang === 'zh' ? '回答' : 'answer'}: ${Array.isArray(t.answer) ? `[${t.answer.join(', ')}]` : String(t.answer)})` : '';
  return [`${pad}${t.test} -> ${TRUTH[t.result][lang]}${answer}`, ...(t.parts ?? []).flatMap((p) => traceLines(p, lang, depth + 1))];
}

/** `hegui obligations --explain ID`: why one duty applies or not, every condition with its answer. */
export function renderExplanation(e: Explanation, instruments: readonly Instrument[], lang: Lang): string {
  const zh = lang === 'zh';
  const instrument = instruments.find((i) => i.id === e.instrument);
  const o = instrument?.obligations.find((x) => x.id === e.id);
  const cite = o ? citation(o, instrument, lang) : e.id;
  const out = [
    `${e.id} — ${cite} (${BINDING[e.binding][lang]}; ${zh ? '引证' : 'citation'}: ${CHECK[e.citationCheck][lang]})`,
    o ? o.summary[lang] : '',
    '',
    `${zh ? '结论' : 'Outcome'} (${e.date}): ${OUTCOME[e.outcome][lang]}${e.reason ? ` — ${e.reason[lang]}` : ''}`,
  ];
  if (e.liftedBy !== undefined) {
    out.push(e.liftedBy.length > 0 ? `${zh ? '以下回答会使其不适用' : 'Answers that would lift it'}: ${e.liftedBy.map((a) => a.text).join('; ')}` : zh ? '需一并回答多项未知事实才能排除' : 'Only answering several unknown facts together could lift it');
  }
  out.push('', `${zh ? '文件状态' : 'Instrument status'}: ${instrument?.short[lang] ?? e.instrument} ${e.status}`);
  if (e.scope) out.push(`${zh ? '适用范围' : 'Scope'} (${zh ? `第${chineseNumeral(e.scope.article)}条` : `Art. ${e.scope.article}`}):`, ...traceLines(e.scope, lang, 1));
  out.push(`${zh ? '义务对象' : 'Role'}: ${e.role.role}`, ...(e.role.trace ? traceLines(e.role.trace, lang, 1) : []));
  out.push(`${zh ? '适用条件' : 'Condition'}:`, ...(e.condition ? traceLines(e.condition, lang, 1) : [`  ${zh ? '无（总是适用）' : 'none (always)'}`]));
  return `${out.join('\n')}\n`;
}
