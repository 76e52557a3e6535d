/**
 * @module label/explicit/check-ocr
 * Reads the words of an image notice with Debian's tesseract-ocr (Simplified Chinese and
 * English data), run as a child process, so the checker can verify the wording rule (GB 45438
 * §5: an AI element and a generation element) on images from any source. When tesseract or
 * its Chinese data is absent, the result says so and the rule is reported `unverified`.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { onInterrupt } from '../file-io.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckOptions } from './check-types.js';

/**
 * What OCR read from each crop, in order, with tesseract's confidence in its most certain word
 * (0-100; 0 when nothing was read), or why it could not run.
 */
export type OcrOutcome = { available: true; texts: string[]; confidences: number[] } | { available: false; reason: string };

/**
 * A reading without a notice fails the wording rule only when OCR was sure of a word of it
 * ("real" in "real photo"); below this, what OCR could not read is not a text that says
 * something else, and the rule is `unverified` (tesseract scores outlined CJK glyphs over a
 * busy picture, which it misreads, at 25-70).
 */
export const OCR_MIN_CONFIDENCE = 85;

/** Texts and confidences per page from tesseract's TSV output (level 5 rows are words). */
function parseTsv(tsv: string, pages: number): { texts: string[]; confidences: number[] } {
  const words: { text: string; conf: number }[][] = Array.from({ length: pages }, () => []);
  for (const row of tsv.split('\n')) {
    const cells = row.split('\t');
    if (cells[0] !== '5' || cells.length < 12) continue;
    const page = Number(cells[1]) - 1;
    const text = cells.slice(11).join('\t').trim();
    if (text !== '' && words[page]) words[page].push({ text, conf: Number(cells[10]) });
  }
  const texts = words.map((list) => tidyOcrText(list.map((w) => w.text).join(' ')));
  const confidences = words.map((list) => Math.max(0, ...list.map((w) => w.conf)));
  return { texts, confidences };
}

const TEXT = {
  missing: 'tesseract is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-chi-sim)',
  noChinese: 'tesseract has no Simplified Chinese data (Debian: apt-get install tesseract-ocr-chi-sim)',
  offline: 'OCR was switched off',
  failed: (detail: string) => `tesseract failed: ${detail}`,
} as const;

function run(command: string, args: string[], signal: AbortSignal | undefined): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 120_000, maxBuffer: 16 << 20, ...(signal ? { signal } : {}) }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** The notice words OCR misreads by a letter or two ("senerated", "generatec"). */
const NOTICE_WORDS = ['generated', 'synthesized', 'synthesised'];

/** Edit distance, stopping early past `limit`. */
function distance(a: string, b: string, limit: number): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    if (Math.min(...row) > limit) return limit + 1;
    previous = row;
  }
  return previous[b.length] ?? limit + 1;
}

/**
 * A word within two letters of a notice word becomes that word, keeping what OCR misread of a
 * notice readable; the wording must still be a whole statement (`noticeStatement`), so a
 * corrected word alone passes nothing.
 */
function nearWord(word: string): string {
  const lower = word.toLowerCase();
  const near = NOTICE_WORDS.find((target) => target !== lower && distance(lower, target, 2) <= 2);
  return near ?? word;
}

/**
 * Joins what tesseract spaces apart inside CJK runs ("AI 生 成" reads "AI生成"), and undoes
 * its usual confusion of a sans-serif capital I with l, 1 or | after a capital A ("Al生成").
 */
export function tidyOcrText(text: string): string {
  return text
    .replace(/(?<![A-Za-z])A[l1|](?![a-z])/g, 'AI')
    .replace(/[A-Za-z]{7,12}/g, (word) => nearWord(word))
    .replace(/(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])/gu, '')
    .replace(/(?<=[A-Za-z])\s+(?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff])\s+(?=[A-Za-z])/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Reads one line of text from each PNG crop (one tesseract run for all of them, page
 * segmentation mode 7: a single text line).
 *
 * @example
 * const outcome = await readCrops([png], {});
 * if (outcome.available) outcome.texts[0]; // 'AI生成'
 */
export async function readCrops(crops: readonly Uint8Array[], options: CheckOptions): Promise<OcrOutcome> {
  if (options.offline || options.ocr === false) return { available: false, reason: TEXT.offline };
  if (crops.length === 0) return { available: true, texts: [], confidences: [] };
  const dir = await mkdtemp(join(tmpdir(), 'hegui-ocr-'));
  const forget = onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const files = await Promise.all(
      crops.map(async (crop, i) => {
        const file = join(dir, `crop-${i}.png`);
        await writeFile(file, crop);
        return file;
      }),
    );
    const list = join(dir, 'crops.txt');
    await writeFile(list, `${files.join('\n')}\n`);
    const { stdout } = await run(options.tools?.tesseract ?? 'tesseract', [list, 'stdout', '-l', 'chi_sim+eng', '--psm', '7', 'tsv'], options.signal);
    return { available: true, ...parseTsv(stdout, crops.length) };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') return { available: false, reason: TEXT.missing };
    if (/chi_sim/.test(failure.stderr ?? '')) return { available: false, reason: TEXT.noChinese };
    return { available: false, reason: TEXT.failed((failure.stderr || failure.message).trim().split('\n')[0] ?? '') };
  } finally {
    await rm(dir, { recursive: true, force: true });
    forget();
  }
}
