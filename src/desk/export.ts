/**
 * @module desk/export
 * The file a copy or access request produces: a ZIP with `records.json` (everything, as
 * data) and `index.html` (the same, readable in any browser, no script, every value escaped).
 */
import type { SubjectRecords } from './subject-port.js';
import { zip } from './zip.js';

export interface ExportedCase {
  reference: string;
  kind: string;
  category: string;
  state: string;
  receivedAt: string;
  dueDate: string;
  subject: string | null;
  text: string;
  resolution: string | null;
  messages: { at: string; direction: string; text: string }[];
  history: { at: string; action: string; toState: string | null }[];
}

const escape = (value: unknown): string =>
  (typeof value === 'string' ? value : JSON.stringify(value) ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function table(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): string {
  if (rows.length === 0) return '<p>—</p>';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const head = columns.map((c) => `<th>${escape(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${columns.map((c) => `<td>${escape(r[c] ?? '')}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function exportHtml(records: SubjectRecords, cases: readonly ExportedCase[], reference: string, generatedAt: string): string {
  const sections = records.sections.map((s) => `<section id="${escape(s.id)}"><h2>${escape(s.title.zh)} · ${escape(s.title.en)}</h2>${table(s.rows)}</section>`).join('\n');
  const desk = cases
    .map(
      (c) => `<article><h3>${escape(c.reference)} (${escape(c.kind)} / ${escape(c.category)}): ${escape(c.state)}</h3>
<p>${escape(c.receivedAt)} → ${escape(c.dueDate)}</p>
<p><strong>内容 Text:</strong> ${escape(c.text)}</p>
${c.subject ? `<p><strong>对象 Subject:</strong> ${escape(c.subject)}</p>` : ''}
${c.resolution ? `<p><strong>结果 Outcome:</strong> ${escape(c.resolution)}</p>` : ''}
${table(c.messages)}</article>`,
    )
    .join('\n');
  return `<!doctype html><html lang="zh"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escape(reference)} · 个人信息副本 Copy of personal information</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .4rem;vertical-align:top;font-size:.9rem}</style></head>
<body><h1>个人信息副本 · Copy of personal information</h1>
<p>请求编号 Request: ${escape(reference)} · 生成时间 Generated: ${escape(generatedAt)} · 收集时间 Collected: ${escape(records.collectedAt)}</p>
<p>主体 Subject: ${escape(records.subject.gatewayUser ?? '')} ${escape(records.subject.contact ?? '')}</p>
${sections}
<section id="desk-cases"><h2>工单 · Desk cases</h2>${desk || '<p>—</p>'}</section>
</body></html>`;
}

export function exportFiles(records: SubjectRecords, cases: readonly ExportedCase[], reference: string, generatedAt: string): Uint8Array {
  const json = JSON.stringify({ request: reference, generatedAt, ...records, deskCases: cases }, null, 2);
  const modified = new Date(generatedAt);
  return zip([
    { name: 'records.json', data: new TextEncoder().encode(json), modified },
    { name: 'index.html', data: new TextEncoder().encode(exportHtml(records, cases, reference, generatedAt)), modified },
  ]);
}
