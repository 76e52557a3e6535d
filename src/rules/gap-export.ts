/**
 * @module rules/gap-export
 * The gap report as a document: Markdown (exactly `hegui obligations --evidence ... --format
 * md`), and the same text laid out as DOCX (the `docx` package) and PDF. The DOCX and PDF are
 * built from the Markdown's blocks (headings, tables, lists, paragraphs), so the three carry
 * the same report.
 *
 * PDF: the HTML of the report printed by Chromium (playwright-core's `page.pdf()`), which
 * shapes and breaks Chinese text and embeds the system's CJK fonts; a PDF library would need
 * its own CJK layout. The server needs a Chromium (`HEGUI_CHROMIUM`, default
 * /usr/bin/chromium); without one a PDF export fails with `E_GAP_PDF_UNAVAILABLE`, and
 * Markdown and DOCX still work.
 */
import { existsSync } from 'node:fs';
import type * as Playwright from 'playwright-core';
import { HeguiError } from '../errors.js';
import type { GapReport } from './gap.js';
import { renderGapMarkdown } from './render.js';
import type { Lang } from './render.js';
import type { Instrument } from './schema.js';

export type GapExportFormat = 'md' | 'docx' | 'pdf';

type PlaywrightModule = typeof Playwright;

export class GapExportError extends HeguiError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

type Block = { kind: 'h1'; text: string } | { kind: 'h2'; text: string } | { kind: 'p'; text: string } | { kind: 'list'; items: string[] } | { kind: 'table'; head: string[]; rows: string[][] };

function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** The blocks of a Markdown text of the kind `render.ts` writes. */
export function markdownBlocks(md: string): Block[] {
  const blocks: Block[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (line.startsWith('# ')) blocks.push({ kind: 'h1', text: line.slice(2) });
    else if (line.startsWith('## ')) blocks.push({ kind: 'h2', text: line.slice(3) });
    else if (line.startsWith('|')) {
      const head = cells(line);
      const rows: string[][] = [];
      i += 1; // the |---| line
      while (i + 1 < lines.length && lines[i + 1]!.startsWith('|')) rows.push(cells(lines[(i += 1)]!));
      blocks.push({ kind: 'table', head, rows });
    } else if (line.startsWith('- ')) {
      const items = [line.slice(2)];
      while (i + 1 < lines.length && lines[i + 1]!.startsWith('- ')) items.push(lines[(i += 1)]!.slice(2));
      blocks.push({ kind: 'list', items });
    } else blocks.push({ kind: 'p', text: line });
  }
  return blocks;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The report as one HTML page (for printing to PDF). */
export function gapHtml(md: string, lang: Lang): string {
  const body = markdownBlocks(md)
    .map((b) => {
      if (b.kind === 'h1') return `<h1>${escapeHtml(b.text)}</h1>`;
      if (b.kind === 'h2') return `<h2>${escapeHtml(b.text)}</h2>`;
      if (b.kind === 'p') return `<p>${escapeHtml(b.text)}</p>`;
      if (b.kind === 'list') return `<ul>${b.items.map((t) => `<li>${escapeHtml(t)}</li>`).join('')}</ul>`;
      return `<table><thead><tr>${b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
    })
    .join('\n');
  const fonts = lang === 'zh' ? '"Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", sans-serif' : '"Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", sans-serif';
  return `<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><meta charset="utf-8"><title>${escapeHtml(markdownBlocks(md)[0]?.kind === 'h1' ? (markdownBlocks(md)[0] as { text: string }).text : 'gap report')}</title>
<style>body{font-family:${fonts};font-size:9pt;line-height:1.4}h1{font-size:16pt}h2{font-size:12pt;margin-top:14pt;break-after:avoid}table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:2pt 4pt;vertical-align:top;text-align:left}th{background:#eee}tr{break-inside:avoid}</style>
<body>${body}</body></html>`;
}

/** The report as a DOCX file. */
export async function gapDocx(md: string): Promise<Buffer> {
  const docx = await import('docx');
  const { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow, TextRun, WidthType } = docx;
  const children: (InstanceType<typeof Paragraph> | InstanceType<typeof Table>)[] = [];
  for (const b of markdownBlocks(md)) {
    if (b.kind === 'h1') children.push(new Paragraph({ text: b.text, heading: HeadingLevel.HEADING_1 }));
    else if (b.kind === 'h2') children.push(new Paragraph({ text: b.text, heading: HeadingLevel.HEADING_2 }));
    else if (b.kind === 'p') children.push(new Paragraph({ text: b.text }));
    else if (b.kind === 'list') for (const item of b.items) children.push(new Paragraph({ text: item, bullet: { level: 0 } }));
    else if (b.kind === 'table') {
      const row = (texts: string[], bold: boolean) =>
        new TableRow({ tableHeader: bold, children: texts.map((t) => new TableCell({ children: [new Paragraph({ children: [new TextRun({ text: t, bold, size: 16 })] })] })) });
      children.push(new Table({ width: { size: 100, type: WidthType.PERCENTAGE }, rows: [row(b.head, true), ...b.rows.map((r) => row(r, false))] }));
      children.push(new Paragraph({ text: '' }));
    }
  }
  const document = new Document({ creator: 'hegui', title: markdownBlocks(md)[0]?.kind === 'h1' ? (markdownBlocks(md)[0] as { text: string }).text : 'gap report', sections: [{ children }] });
  return Packer.toBuffer(document);
}

/** Where the PDF renderer looks for Chromium. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.HEGUI_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => Boolean(p));
  return candidates.find((p) => existsSync(p));
}

/** The report printed to PDF by Chromium. @throws GapExportError E_GAP_PDF_UNAVAILABLE without Chromium. */
export async function gapPdf(md: string, lang: Lang, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const executablePath = chromiumPath(env);
  if (executablePath === undefined) {
    throw new GapExportError('E_GAP_PDF_UNAVAILABLE', 'PDF export needs Chromium on the server (apt-get install chromium, or set HEGUI_CHROMIUM to its path); Markdown and DOCX exports work without it');
  }
  let playwright: PlaywrightModule;
  try {
    playwright = await import('playwright-core');
  } catch (cause) {
    throw new GapExportError('E_GAP_PDF_UNAVAILABLE', 'PDF export needs the playwright-core package (npm install)', { cause });
  }
  const browser = await playwright.chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] }).catch((cause: unknown) => {
    throw new GapExportError('E_GAP_PDF_UNAVAILABLE', `Chromium at ${executablePath} did not start: ${(cause as Error).message?.split('\n')[0] ?? String(cause)}`, { cause });
  });
  try {
    const page = await browser.newPage({ javaScriptEnabled: false });
    // Nothing in the page loads from anywhere: the report is self-contained text.
    await page.route('**/*', (route) => route.abort());
    await page.setContent(gapHtml(md, lang), { waitUntil: 'load' });
    return await page.pdf({ format: 'A4', landscape: true, printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
  } finally {
    await browser.close();
  }
}

/** The gap report in `format`, with its content type and file extension. */
export async function exportGapReport(gap: GapReport, instruments: readonly Instrument[], lang: Lang, format: GapExportFormat, env?: NodeJS.ProcessEnv): Promise<{ body: Buffer; contentType: string; extension: string }> {
  const md = renderGapMarkdown(gap, instruments, lang);
  if (format === 'md') return { body: Buffer.from(md), contentType: 'text/markdown; charset=utf-8', extension: 'md' };
  if (format === 'docx') return { body: await gapDocx(md), contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', extension: 'docx' };
  return { body: await gapPdf(md, lang, env), contentType: 'application/pdf', extension: 'pdf' };
}
