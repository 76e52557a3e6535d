/**
 * A visible notice on the first page of a PDF, as an incremental update (issue 11): the
 * original bytes stay a prefix of the file, qpdf finds nothing wrong, the text is still there,
 * and the first page rendered by poppler passes the image checker. Classic cross-reference
 * tables and cross-reference streams; encrypted and rotated documents refused. Every PDF is
 * made in the test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExplicitLabel, labelPdf } from '../src/label/explicit/index.js';
import { readLabelFile } from '../src/label/files.js';
import { cli } from './helpers/cli.js';
import { systemTool } from './helpers/system.js';
import { PRODUCER } from './label-samples.js';

const hasTools = systemTool('qpdf', 'qpdf') && systemTool('pdftoppm', 'poppler-utils') && systemTool('pdftotext', 'poppler-utils');

/** A one-page A4 PDF with a line of Helvetica text and a classic cross-reference table. */
function textPdf(extraPage = ''): Buffer {
  const content = 'BT /F1 18 Tf 72 500 Td (Quarterly report body text) Tj ET';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>',
    `<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R${extraPage} >>`,
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    '<< /Title (Report) /Producer (test) >>',
  ];
  let body = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 6 0 R /ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>] >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

function run(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(command, args, { encoding: 'utf8' });
}

async function verify(dir: string, name: string, source: Buffer): Promise<void> {
  const result = await labelPdf(source);
  const out = Buffer.from(result.bytes);
  const path = join(dir, name);
  writeFileSync(path, out);
  expect(out.subarray(0, source.length).equals(source), 'the original is a prefix').toBe(true);
  const check = run('qpdf', ['--check', path]);
  expect(check.status, check.stdout + check.stderr).toBe(0);
  expect(check.stdout + check.stderr).not.toMatch(/WARNING/);
  expect(run('pdftotext', [path, '-']).stdout).toContain('Quarterly report body text');
  expect(result.textHeightPt).toBeGreaterThanOrEqual(result.requiredPt);
  const png = join(dir, `${name}-page`);
  expect(run('pdftoppm', ['-r', '144', '-f', '1', '-l', '1', '-png', '-singlefile', path, png]).status).toBe(0);
  const report = await checkExplicitLabel(readFileSync(`${png}.png`));
  expect(report.rules.find((r) => r.rule === 'image.position')?.measured.position, JSON.stringify(report.rules)).toMatch(/^top/);
  expect(report.rules.find((r) => r.rule === 'image.height')?.status).toBe('pass');
  expect(report.status, JSON.stringify(report.rules)).not.toBe('failed');
}

describe.runIf(hasTools)('visible notice on a PDF', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-pdf-visible-'));

  it('classic cross-reference table: appended revision, valid, text kept, notice rendered', async () => {
    await verify(dir, 'classic.pdf', textPdf());
  });

  it('cross-reference stream (object streams): the same', async () => {
    writeFileSync(join(dir, 'plain.pdf'), textPdf());
    const made = run('qpdf', ['--object-streams=generate', join(dir, 'plain.pdf'), join(dir, 'streams-in.pdf')]);
    expect(made.status, made.stderr).toBe(0);
    await verify(dir, 'streams.pdf', readFileSync(join(dir, 'streams-in.pdf')));
  });

  it('the checker renders the first page: a labelled PDF passes, an unlabelled one fails, no OCR is unverified', async () => {
    const labelled = (await labelPdf(textPdf())).bytes;
    const passed = await checkExplicitLabel(labelled);
    expect(passed, JSON.stringify(passed.rules)).toMatchObject({ kind: 'document', format: 'pdf', status: 'passed' });
    expect(passed.rules[0]).toMatchObject({ rule: 'document.render', status: 'pass' });
    expect((await checkExplicitLabel(labelled, { ocr: false })).status).toBe('unverified');
    expect((await checkExplicitLabel(textPdf())).status).toBe('failed');
  });

  it('refuses an encrypted document and a rotated first page', async () => {
    writeFileSync(join(dir, 'open.pdf'), textPdf());
    expect(run('qpdf', ['--encrypt', 'u', 'o', '256', '--', join(dir, 'open.pdf'), join(dir, 'locked.pdf')]).status).toBe(0);
    await expect(labelPdf(readFileSync(join(dir, 'locked.pdf')))).rejects.toMatchObject({ code: 'E_LABEL_FORMAT', message: expect.stringMatching(/encrypted/) });
    await expect(labelPdf(textPdf(' /Rotate 90'))).rejects.toMatchObject({ code: 'E_LABEL_PDF_ROTATED' });
    await expect(labelPdf(textPdf().subarray(0, 300))).rejects.toMatchObject({ code: 'E_LABEL_FORMAT' });
  });

  it('hegui label all: the notice and the implicit label, in that order', async () => {
    writeFileSync(join(dir, 'report.pdf'), textPdf());
    const result = await cli(['label', 'all', 'report.pdf', '--producer', PRODUCER, '--id', 'pdf-1', '-o', 'out.pdf'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ok +report\.pdf -> out\.pdf +pdf +"AI生成" on page 1 at top-left, text [\d.]+ pt/);
    expect((await readLabelFile(join(dir, 'out.pdf'))).label?.ProduceID).toBe('pdf-1');
    expect(run('qpdf', ['--check', join(dir, 'out.pdf')]).status).toBe(0);
  });
});
