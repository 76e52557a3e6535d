/**
 * @module label/explicit/check-document
 * The document checker: a PDF's first page is rendered by poppler's `pdftoppm` (Debian
 * poppler-utils) at 144 dpi and measured as an image (GB 45438 §5.2 position, height,
 * contrast and OCR wording: the notice is what a reader sees); a Word document's paragraphs
 * are read as text (§5.1: a notice paragraph at the start or the end). Without pdftoppm a PDF
 * is `unverified`, never passed.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabelFormatError } from '../errors.js';
import { bufferSource } from '../implicit/bytes.js';
import { readEntry, readZip } from '../implicit/ooxml-zip.js';
import { withTempDir, writeInput } from './audio-video-files.js';
import { checkImage } from './check-image.js';
import { checkText } from './check-text.js';
import { verdict, type CheckOptions, type CheckSubject, type ExplicitCheckReport, type MediaChecker, type RuleResult } from './check-types.js';

/** Dots per inch the first page is rendered at: 2 pixels per point, as `labelPdf` lays it out. */
const RENDER_DPI = 144;

function rule(name: string, status: RuleResult['status'], message: string, measured: RuleResult['measured']): RuleResult {
  return { rule: `document.${name}`, clause: 'GB 45438 §5', status, message, measured, required: {} };
}

function render(pdftoppm: string, input: string, prefix: string, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(pdftoppm, ['-r', String(RENDER_DPI), '-f', '1', '-l', '1', '-png', '-singlefile', input, prefix], { timeout: 120_000, ...(signal ? { signal } : {}) }, (error, _stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr }));
      else resolve();
    });
  });
}

async function checkPdf(subject: CheckSubject, options: CheckOptions): Promise<ExplicitCheckReport> {
  const unverified = (reason: string): ExplicitCheckReport => {
    const rules = [rule('render', 'unverified', reason, {})];
    return { kind: 'document', format: 'pdf', ...verdict(rules), rules, notices: [] };
  };
  if (options.offline) return unverified('rendering the first page needs pdftoppm, and system tools were switched off');
  return withTempDir(async (dir) => {
    const input = subject.path ?? join(dir, 'input.pdf');
    if (!subject.path) await writeInput(subject.source, input);
    try {
      await render(options.tools?.pdftoppm ?? 'pdftoppm', input, join(dir, 'page'), options.signal);
    } catch (error) {
      const failure = error as NodeJS.ErrnoException & { stderr?: string };
      if (failure.code === 'ENOENT') return unverified('pdftoppm is not installed (Debian: apt-get install poppler-utils)');
      throw new LabelFormatError('pdf', `pdftoppm cannot render the first page: ${(failure.stderr || failure.message).trim().split('\n')[0] ?? ''}`, { cause: error });
    }
    const page = await checkImage({ format: 'png', source: bufferSource(await readFile(join(dir, 'page.png'))) }, options);
    const rules = [rule('render', 'pass', `page 1 rendered at ${RENDER_DPI} dpi and measured as an image`, { page: 1, dpi: RENDER_DPI }), ...page.rules];
    return { kind: 'document', format: 'pdf', ...verdict(rules), rules, notices: page.notices };
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The text of each paragraph of a WordprocessingML part, in order. */
function wordParagraphs(xml: string): string[] {
  const found: string[] = [];
  for (const paragraph of xml.matchAll(/<(\w+):p[\s>][\s\S]*?<\/\1:p>/g)) {
    const text = [...paragraph[0].matchAll(/<\w+:t(?:\s[^>]*)?>([^<]*)<\/\w+:t>/g)].map((t) => t[1] ?? '').join('');
    if (text.trim() !== '') found.push(text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITIES[name] ?? ''));
  }
  return found;
}

async function checkDocx(subject: CheckSubject): Promise<ExplicitCheckReport> {
  const archive = await readZip(subject.source);
  const main = archive.entries.find((entry) => entry.name === 'word/document.xml');
  if (!main) {
    const rules = [rule('text', 'unverified', 'the package has no word/document.xml (a spreadsheet or presentation): its notice is not checked here', {})];
    return { kind: 'document', format: 'docx', ...verdict(rules), rules, notices: [] };
  }
  const report = checkText(wordParagraphs(new TextDecoder().decode(await readEntry(subject.source, main))).join('\n\n'), 'plain');
  return { ...report, kind: 'document', format: 'docx' };
}

/** The document checker, for the checker framework. */
export const documentChecker: MediaChecker = {
  kind: 'document',
  formats: ['pdf', 'docx'],
  check: (subject, options) => (subject.format === 'pdf' ? checkPdf(subject, options) : checkDocx(subject)),
};
