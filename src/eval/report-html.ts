/**
 * @module eval/report-html
 * The self-assessment report as one self-contained HTML page: inline CSS and charts drawn as
 * inline SVG on the server (no script, no network fonts, nothing fetched), so it opens offline
 * and prints as it shows. Every text from outside (model names, evidence, settings) is escaped.
 */
import type { Bilingual } from '../rules/index.js';
import { citation } from '../rules/index.js';
import { type FigureRow, pct, type RiskFigureRow, type SelfAssessmentReport } from './report.js';
import { BASIS, CHECK_NOTE, countsLine, type Lang, STATE, T } from './report-text.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;

/** Horizontal bars with the Wilson interval as a whisker and the threshold as a dashed line. */
export function figuresChart(figures: readonly FigureRow[], lang: Lang): string {
  const rowH = 46;
  const left = 230;
  const width = 720;
  const plot = width - left - 70;
  const height = figures.length * rowH + 40;
  const x = (v: number): number => left + Math.max(0, Math.min(1, v)) * plot;
  const parts: string[] = [];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${x(tick)}" y1="10" x2="${x(tick)}" y2="${height - 24}" stroke="#ddd"/>`, `<text x="${x(tick)}" y="${height - 8}" font-size="11" text-anchor="middle" fill="#555">${tick * 100}%</text>`);
  }
  figures.forEach((f, i) => {
    const y = 14 + i * rowH;
    const p = f.proportion;
    const ok = f.verdict === 'meets';
    const colour = f.verdict === 'undecided' ? '#999' : ok ? '#2e7d32' : '#c62828';
    parts.push(`<text x="${left - 8}" y="${y + 17}" font-size="12" text-anchor="end">${e(f.label[lang])}</text>`);
    if (!Number.isNaN(p.rate)) parts.push(`<rect x="${left}" y="${y + 4}" width="${x(p.rate) - left}" height="20" fill="${colour}" opacity="0.8"><title>${pct(p.rate)}</title></rect>`);
    parts.push(`<line x1="${x(p.low)}" y1="${y + 14}" x2="${x(p.high)}" y2="${y + 14}" stroke="#000" stroke-width="1.5"/>`);
    parts.push(`<line x1="${x(p.low)}" y1="${y + 8}" x2="${x(p.low)}" y2="${y + 20}" stroke="#000"/><line x1="${x(p.high)}" y1="${y + 8}" x2="${x(p.high)}" y2="${y + 20}" stroke="#000"/>`);
    parts.push(`<line x1="${x(f.threshold)}" y1="${y}" x2="${x(f.threshold)}" y2="${y + 28}" stroke="#1565c0" stroke-width="2" stroke-dasharray="4 2"/>`);
    parts.push(`<text x="${width - 60}" y="${y + 18}" font-size="12">${pct(p.rate)}</text>`);
  });
  const legend = lang === 'zh' ? '柱：比率；黑线：Wilson 95% 区间；蓝虚线：要求' : 'bar: rate; black: Wilson 95% interval; blue dashes: requirement';
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 ${width} ${height + 16}" width="${width}" height="${height + 16}" font-family="inherit"><title>${e(legend)}</title>${parts.join('')}<text x="${left}" y="${height + 12}" font-size="11" fill="#555">${e(legend)}</text></svg>`;
}

/** Per-risk pass and refusal rates as paired bars. */
export function perRiskChart(rows: readonly RiskFigureRow[], lang: Lang): string {
  if (rows.length === 0) return '';
  const barW = 9;
  const groupW = 28;
  const left = 40;
  const top = 10;
  const plotH = 160;
  const width = Math.max(400, left + rows.length * groupW + 20);
  const height = top + plotH + 50;
  const y = (v: number): number => top + plotH - Math.max(0, Math.min(1, v)) * plotH;
  const parts: string[] = [];
  for (const tick of [0, 0.5, 0.9, 1]) parts.push(`<line x1="${left}" y1="${y(tick)}" x2="${width - 10}" y2="${y(tick)}" stroke="${tick === 0.9 ? '#1565c0' : '#ddd'}" ${tick === 0.9 ? 'stroke-dasharray="4 2"' : ''}/><text x="${left - 4}" y="${y(tick) + 4}" font-size="10" text-anchor="end">${tick * 100}%</text>`);
  rows.forEach((r, i) => {
    const gx = left + 6 + i * groupW;
    if (r.pass && !Number.isNaN(r.pass.rate)) parts.push(`<rect x="${gx}" y="${y(r.pass.rate)}" width="${barW}" height="${y(0) - y(r.pass.rate)}" fill="#2e7d32"><title>${e(r.risk)} ${pct(r.pass.rate)}</title></rect>`);
    if (r.refusal && !Number.isNaN(r.refusal.rate)) parts.push(`<rect x="${gx + barW + 1}" y="${y(r.refusal.rate)}" width="${barW}" height="${y(0) - y(r.refusal.rate)}" fill="#6a1b9a"><title>${e(r.risk)} ${pct(r.refusal.rate)}</title></rect>`);
    parts.push(`<text x="${gx + barW}" y="${top + plotH + 14}" font-size="9" text-anchor="middle" transform="rotate(45 ${gx + barW} ${top + plotH + 14})">${e(r.risk)}</text>`);
  });
  const legend = lang === 'zh' ? '绿：生成内容合格率；紫：应拒答拒答率；蓝虚线：90%' : 'green: pass rate; purple: refusal rate; blue dashes: 90%';
  parts.push(`<text x="${left}" y="${height - 4}" font-size="11" fill="#555">${e(legend)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="inherit"><title>${e(legend)}</title>${parts.join('')}</svg>`;
}

function lines(items: readonly Bilingual[], lang: Lang): string {
  return items.map((b) => `<li>${e(b[lang])}</li>`).join('');
}

function verdictText(f: FigureRow, lang: Lang): string {
  const v = f.verdict === 'meets' ? T.meets[lang] : f.verdict === 'fails' ? T.fails[lang] : T.undecided[lang];
  return f.verdict !== 'undecided' && !f.certain ? `${v}${T.uncertainMark[lang]}` : v;
}

export function renderReportHtml(report: SelfAssessmentReport, lang: Lang): string {
  const L = (b: Bilingual): string => e(b[lang]);
  const unknown = T.unknown[lang];
  const short = report.standard.short[lang];
  const head = [
    [T.provider, report.provider ?? unknown],
    [T.service, report.service ?? unknown],
    [T.date, report.date],
    [T.model, report.run.model],
    [T.endpoint, report.run.endpoint],
    [T.run, `${report.run.runId} (${report.run.startedAt} – ${report.run.finishedAt ?? '…'})`],
    [T.seed, String(report.run.seed)],
    [T.items, String(report.run.items)],
  ]
    .map(([k, v]) => `<tr><th>${L(k as Bilingual)}</th><td>${e(v as string)}</td></tr>`)
    .join('');
  const nonCompliant = report.clauses.filter((c) => c.state === 'non-compliant');
  const figuresRows = report.figures
    .map((f) => {
      const p = f.proportion;
      const cls = f.verdict === 'meets' ? 'ok' : f.verdict === 'fails' ? 'bad' : '';
      return `<tr><td>${L(f.label)}</td><td class="num">${pct(p.rate)}</td><td class="num">${p.successes}/${p.total}</td><td class="num">[${pct(p.low)}, ${pct(p.high)}]</td><td class="num">${f.direction === 'atLeast' ? '≥' : '≤'} ${pct(f.threshold)}</td><td class="num">≥ ${f.requiredSamples}${f.sampleShortfall > 0 ? ` (−${f.sampleShortfall})` : ''}</td><td class="${cls}">${e(verdictText(f, lang))}</td></tr>`;
    })
    .join('');
  const riskRows = report.perRisk
    .map((r) => `<tr><td>${e(r.risk)}</td><td>${L(r.name)}</td><td class="num">${r.pass ? `${pct(r.pass.rate)} (${r.pass.successes}/${r.pass.total})` : '—'}</td><td class="num">${r.refusal ? `${pct(r.refusal.rate)} (${r.refusal.successes}/${r.refusal.total})` : '—'}</td></tr>`)
    .join('');
  const discRows = report.discrimination
    .map((d) => `<tr><td>${e(d.dimension)}</td><td>${Object.entries(d.groups).map(([g, p]) => `${e(g)}: ${pct(p.rate)} (${p.successes}/${p.total})`).join('; ')}</td><td class="num">${pct(d.maxGap)}</td></tr>`)
    .join('');
  const clauseRows = report.clauses
    .map((c) => {
      const detail: string[] = [];
      if (c.evidence.length > 0) detail.push(`<b>${L(T.evidence)}</b><ul>${lines(c.evidence, lang)}</ul>`);
      if (c.reason) detail.push(`<b>${L(T.reason)}</b>: ${L(c.reason)}`);
      if (c.plan) detail.push(`<br><b>${L(T.plan)}</b>: ${L(c.plan)}${c.due ? ` (${L(T.due)} ${e(c.due)})` : ''}`);
      if (c.justification) detail.push(`<b>${L(T.justification)}</b>: ${L(c.justification)}`);
      if (c.assumedUnknown) detail.push(`<br><i>${L(T.assumed)}${e(c.assumedUnknown.join(', '))}</i>`);
      detail.push(`<div class="meta">${L(T.basis)}: ${L(BASIS[c.basis])} · ${L(CHECK_NOTE[c.citationCheck])}</div>`);
      const cls = c.state === 'compliant' ? 'ok' : c.state === 'non-compliant' ? 'bad' : 'na';
      return `<tr><td>${e(citation({ article: Number(c.clause.split('.')[0]), clause: c.clause }, { short: report.standard.short }, lang))}${c.citationCheck !== 'official-text' ? '<sup>*</sup>' : ''}</td><td>${L(c.summary)}</td><td class="${cls}">${L(STATE[c.state])}</td><td>${detail.join('')}</td></tr>`;
    })
    .join('');
  const cov = report.coverage;
  const coverage = cov
    ? `<p>${L(T.generated)} ${cov.stats.byKind['generated-content']} · ${L(T.shouldRefuse)} ${cov.stats.byKind['should-refuse']} · ${L(T.shouldNot)} ${cov.stats.byKind['should-not-refuse']}</p>${
        cov.shortfalls.length === 0 ? `<p>${L(T.noneShort)}</p>` : `<p><b>${L(T.shortfalls)}</b></p><ul>${cov.shortfalls.map((r) => `<li>§${e(r.clause)} ${L(r.what)}: ${r.actual ?? '—'} / ${r.required}</li>`).join('')}</ul>`
      }`
    : `<p>${L(T.bankNone)}</p>`;
  const kw = report.keywords;
  const keywords = kw
    ? `<p>${e(kw.library)}: ${kw.total}${kw.meets ? ` — ${L(T.noneShort)}` : ''}</p>${kw.shortfalls.length > 0 ? `<ul>${kw.shortfalls.map((s) => `<li>${e(s.risk)}: ${s.count} / ${s.required}</li>`).join('')}</ul>` : ''}`
    : `<p>${L(T.keywordNone)}</p>`;
  const settingList = (list: readonly Bilingual[]): string => (list.length === 0 ? `<p>${L(T.noneGiven)}</p>` : `<ul>${list.map((s) => `<li>${L(s)}</li>`).join('')}</ul>`);
  return `<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hegui">
<title>${L(T.title)} — ${e(report.run.model)}</title>
<style>
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.6em}h2{border-bottom:2px solid #333;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #bbb;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#f3f3f3}.num{text-align:right;white-space:nowrap}.ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;font-weight:bold}.na{color:#666}
.meta{color:#666;font-size:.85em;margin-top:.3em}.conclusion{font-size:1.2em;font-weight:bold;padding:.6em;border:2px solid}.conclusion.ok{border-color:#2e7d32}.conclusion.bad{border-color:#c62828}
ul{margin:.2em 0;padding-left:1.2em}svg{max-width:100%;height:auto}
@media print{body{margin:0}h2{page-break-after:avoid}tr{page-break-inside:avoid}}
</style>
</head>
<body>
<h1>${L(T.title)}</h1>
<p>${L(T.basedOn)} ${e(short)} ${L(report.standard.name)}</p>
<table class="head">${head}</table>
<h2>${L(T.s1)}</h2>
<p class="conclusion ${report.conclusion === 'compliant' ? 'ok' : 'bad'}">${L(report.conclusion === 'compliant' ? T.conclusionCompliant : T.conclusionNon)}</p>
<p>${e(countsLine(report, lang))}</p>
${nonCompliant.length > 0 ? `<ul>${nonCompliant.map((c) => `<li>${e(c.clause)} ${L(c.summary)}</li>`).join('')}</ul>` : ''}
<h2>${L(T.s2)}</h2>
${figuresChart(report.figures, lang)}
<table><tr><th>${L(T.figure)}</th><th>${L(T.rate)}</th><th>${L(T.count)}</th><th>${L(T.interval)}</th><th>${L(T.threshold)}</th><th>${L(T.samples)}</th><th>${L(T.verdict)}</th></tr>${figuresRows}</table>
<h3>${L(T.perRisk)}</h3>
${perRiskChart(report.perRisk, lang)}
<table><tr><th>${L(T.risk)}</th><th></th><th>${L(T.pass)}</th><th>${L(T.refusal)}</th></tr>${riskRows}</table>
${report.discrimination.length > 0 ? `<h3>${L(T.discrimination)}</h3><table><tr><th>${L(T.dimension)}</th><th>${L(T.groups)}</th><th>${L(T.maxGap)}</th></tr>${discRows}</table>` : ''}
<h2>${L(T.s3)}</h2>
<table><tr><th>${L(T.clause)}</th><th>${L(T.requirement)}</th><th>${L(T.state)}</th><th>${L(T.detail)}</th></tr>${clauseRows}</table>
<p class="meta"><sup>*</sup> ${L(CHECK_NOTE.unverified)}</p>
<h2>${L(T.s4)}</h2>
<h3>${L(T.bankCoverage)}</h3>${coverage}
<h3>${L(T.keywordLib)}</h3>${keywords}
<h2>${L(T.s5)}</h2>
<h3>${L(T.labelSettings)}</h3>${settingList(report.settings.label)}
<h3>${L(T.guardSettings)}</h3>${settingList(report.settings.guard)}
<h2>${L(T.s6)}</h2>
<ul>${lines(report.notes, lang)}</ul>
<p class="meta">${L(T.generatedBy)}</p>
</body>
</html>
`;
}
