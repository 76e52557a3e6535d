/**
 * The new visible-notice readers (PDF page tree, DOCX package, subtitles, document checker,
 * APNG frames, HEIC through libheif) and the RFC 3161 token reader
 * on damaged input (issue 11): every mutation either labels or is refused with a typed
 * `HeguiError`, never an unexpected exception or a hang. Seeded, so a failure replays.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { HeguiError } from '../src/errors.js';
import { checkExplicitLabel, labelDocx, labelImage, labelPdf, labelSubtitles } from '../src/label/explicit/index.js';
import { requestTimestamp, verifyTimestamp } from '../src/label/index.js';
import { startTestTsa } from './label-tsa.js';
import { seededRandom } from './helpers/random.js';
import { systemTool } from './helpers/system.js';
import { pdfFromObjects } from './helpers/pdf.js';
import { parseProgressiveJpeg } from '../src/label/explicit/jpeg-progressive.js';
import { NotSpliceable } from '../src/label/explicit/jpeg-splice-parse.js';

/** `count` damaged copies of `bytes`: flipped bytes, truncations, and duplicated spans. */
function* mutations(bytes: Uint8Array, count: number, seed: number): Generator<{ bytes: Uint8Array; how: string }> {
  const random = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    const copy = Uint8Array.from(bytes);
    const kind = i % 3;
    if (kind === 0) {
      const flips = 1 + Math.floor(random() * 8);
      for (let f = 0; f < flips; f++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      yield { bytes: copy, how: `seed ${seed} #${i}: ${flips} flipped bytes` };
    } else if (kind === 1) {
      const end = Math.floor(random() * copy.length);
      yield { bytes: copy.subarray(0, end), how: `seed ${seed} #${i}: truncated at ${end}` };
    } else {
      const from = Math.floor(random() * copy.length);
      const length = Math.floor(random() * 64);
      yield { bytes: Buffer.concat([copy.subarray(0, from), copy.subarray(from, from + length), copy.subarray(from)]), how: `seed ${seed} #${i}: ${length} bytes repeated at ${from}` };
    }
  }
}

async function typedOrFine(run: () => Promise<unknown>, how: string): Promise<void> {
  try {
    await run();
  } catch (error) {
    expect(error, `${how}: ${(error as Error).stack ?? String(error)}`).toBeInstanceOf(HeguiError);
  }
}

const PDF = Buffer.from(
  pdfFromObjects(
    ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] /Resources << /XObject << >> >> /Contents 4 0 R >>', '<< /Length 8 >>\nstream\n0 0 m S\n\nendstream'],
    { eol: '\r\n' },
  ),
  'latin1',
);

describe('damaged input to the visible-notice readers', () => {
  it('PDF: labelPdf and the document checker (offline)', async () => {
    for (const { bytes, how } of mutations(PDF, 150, 11)) {
      await typedOrFine(() => labelPdf(bytes), how);
      await typedOrFine(() => checkExplicitLabel(bytes, { offline: true }), how);
    }
  });

  it('subtitles: labelSubtitles and the text checker', async () => {
    const srt = Buffer.from('1\n00:00:01,000 --> 00:00:02,500\n你好\n\n2\n00:00:03,000 --> 00:00:04,000\n再见\n');
    const vtt = Buffer.from('WEBVTT\n\nNOTE x\n\n00:01.000 --> 00:02.000 line:0\n<b>hi</b>\n');
    for (const [format, source] of [['srt', srt], ['vtt', vtt]] as const) {
      for (const { bytes, how } of mutations(source, 150, 12)) {
        const text = new TextDecoder().decode(bytes);
        await typedOrFine(() => Promise.resolve(labelSubtitles(text, { format })), how);
        await typedOrFine(() => checkExplicitLabel(bytes, { offline: true }), how);
      }
    }
  });

  it.runIf(systemTool('python3', 'python3'))('DOCX: labelDocx and the document checker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-docx-fuzz-'));
    const path = join(dir, 'a.docx');
    const script =
      'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\n' +
      'z.writestr("[Content_Types].xml","<Types xmlns=\\"http://schemas.openxmlformats.org/package/2006/content-types\\"/>")\n' +
      'z.writestr("_rels/.rels","<Relationships><Relationship Type=\\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\\" Target=\\"word/document.xml\\"/></Relationships>")\n' +
      'z.writestr("word/document.xml","<w:document xmlns:w=\\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\\"><w:body><w:p><w:r><w:t>x</w:t></w:r></w:p></w:body></w:document>")\nz.close()';
    expect(spawnSync('python3', ['-c', script, path]).status).toBe(0);
    const docx = readFileSync(path);
    expect((await labelDocx(docx)).notice).toBe('本内容由人工智能生成');
    for (const { bytes, how } of mutations(docx, 150, 13)) {
      await typedOrFine(() => labelDocx(bytes), how);
      await typedOrFine(() => checkExplicitLabel(bytes, { offline: true }), how);
    }
  });

  it.runIf(systemTool('ffmpeg', 'ffmpeg'))('APNG: labelImage on damaged animated PNGs (the frame decoder)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-apng-fuzz-'));
    const path = join(dir, 'a.png');
    expect(spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=48x32:rate=5', '-frames:v', '4', '-plays', '0', '-f', 'apng', '-y', path]).status).toBe(0);
    const apng = readFileSync(path);
    expect((await labelImage(apng)).frames).toBe(4);
    for (const { bytes, how } of mutations(apng, 200, 14)) await typedOrFine(() => labelImage(bytes), how);
  }, 120_000);

  it('progressive JPEG: the scan decoder refuses damage with NotSpliceable, and labelImage then labels by re-encoding or fails typed', async () => {
    const rgb = sharp({ create: { width: 96, height: 72, channels: 3, background: '#3a6' } }).composite([{ input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="96" height="72"><circle cx="40" cy="30" r="25" fill="#c42"/><rect x="50" y="40" width="40" height="25" fill="#24c"/></svg>') }]);
    const sources = [await rgb.clone().jpeg({ quality: 85, progressive: true }).toBuffer(), await rgb.clone().jpeg({ quality: 70, progressive: true, chromaSubsampling: '4:4:4' }).toBuffer()];
    for (const [n, source] of sources.entries()) {
      expect((await labelImage(source)).method).toBe('dct-splice');
      for (const { bytes, how } of mutations(source, 150, 17 + n)) {
        try {
          parseProgressiveJpeg(bytes);
        } catch (error) {
          expect(error, `${how}: ${(error as Error).stack ?? String(error)}`).toBeInstanceOf(NotSpliceable);
        }
        await typedOrFine(() => labelImage(bytes), how);
      }
    }
  }, 120_000);

  it.runIf(systemTool('heif-enc', 'libheif-examples'))('HEIC: labelImage on damaged HEICs (libheif tools, structure checks)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-heic-fuzz-'));
    writeFileSync(join(dir, 'a.png'), await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a6' } }).png().toBuffer());
    expect(spawnSync('heif-enc', ['-q', '60', '-o', join(dir, 'a.heic'), join(dir, 'a.png')]).status).toBe(0);
    const heic = readFileSync(join(dir, 'a.heic'));
    expect((await labelImage(heic)).format).toBe('heif');
    for (const { bytes, how } of mutations(heic, 30, 15)) await typedOrFine(() => labelImage(bytes), how);
  }, 120_000);

  it.runIf(systemTool('openssl', 'openssl'))('RFC 3161 tokens: verifyTimestamp on damaged tokens says invalid or untrusted, never throws', async () => {
    const tsa = await startTestTsa();
    try {
      const signature = new Uint8Array(64).fill(7);
      const token = await requestTimestamp(tsa.url, signature);
      expect((await verifyTimestamp(token, signature, [tsa.rootPem])).status).toBe('valid');
      for (const { bytes, how } of mutations(token, 300, 16)) {
        const report = await verifyTimestamp(bytes, signature, [tsa.rootPem]);
        if (Buffer.from(bytes).equals(Buffer.from(token))) continue;
        expect(['invalid', 'untrusted', 'valid', 'none'], how).toContain(report.status);
        // A valid report on a changed token must still stamp this signature at the TSA's time.
        if (report.status === 'valid') expect(report.time, how).toBeDefined();
      }
    } finally {
      await tsa.close();
    }
  }, 120_000);
});
