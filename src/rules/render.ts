/**
 * @module rules/render
 * Citations, figures and reports as people read them: a terminal table, Markdown for the
 * filing package, in Chinese or English.
 */
import type { AppliedObligation, ApplicabilityReport, UpcomingObligation } from './engine.js';
import type { GapEntry, GapReport } from './gap.js';
import type { Bilingual, Figure, Instrument } from './schema.js';

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
  zh: ['依据', '对象', '时限/指标', '控制', '义务'],
  en: ['citation', 'role', 'deadline', 'control', 'duty'],
};

function row(o: AppliedObligation, instruments: Map<string, Instrument>, lang: Lang): string[] {
  return [citation(o, instruments.get(o.instrument), lang), o.role, formatFigure(o.deadline, lang), o.control, o.summary[lang]];
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
    out.push('');
  }
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
    const head = zh ? ['依据', '义务', '结论', '说明'] : ['citation', 'duty', 'state', 'detail'];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const e of items) {
      out.push(`| ${[citation(e, map.get(e.instrument), lang), e.summary[lang], STATE[e.state][lang], gapDetail(e, lang)].map(mdCell).join(' | ')} |`);
    }
    out.push('');
  }
  if (gap.upcoming.length > 0) {
    out.push(zh ? '## 即将施行（未评估）' : '## Upcoming (not assessed)', '');
    for (const o of gap.upcoming as UpcomingObligation[]) out.push(`- ${o.effective}: ${citation(o, map.get(o.instrument), lang)} — ${o.summary[lang]}`);
    out.push('');
  }
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
