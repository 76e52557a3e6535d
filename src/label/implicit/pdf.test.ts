import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferSink, bufferSource } from './bytes.js';
import type { LabelCodec } from './codec.js';
import { appendRevision, buildPdf, latin1, pageObjects, type FixtureOptions } from './pdf-fixtures.js';
import { pdfCodec } from './pdf.js';
import { systemTool } from '../../../test/helpers/system.js';

const LABEL = JSON.stringify({
  Label: '1',
  ContentProducer: '001191100000000000000000X10001',
  ProduceID: 'doc-2025-0001',
  ReservedCode1: 'sig(a)b\\c',
  ContentPropagator: '001191100000000000000000X10001',
  PropagateID: 'doc-2025-0001',
  ReservedCode2: '',
});
const RELABEL = LABEL.replace('"ContentPropagator":"001191100000000000000000X10001"', '"ContentPropagator":"001191100000000000000000X20002"');
const CHINESE_LABEL = JSON.stringify({ Label: '2', ContentProducer: '生成服务', ProduceID: '标识-1' });

const exiftool = systemTool('exiftool', 'libimage-exiftool-perl');
const pdftoppm = systemTool('pdftoppm', 'poppler-utils');
const ghostscript = systemTool('gs', 'ghostscript');
const qpdf = systemTool('qpdf', 'qpdf');

const workDir = mkdtempSync(join(tmpdir(), 'hegui-pdf-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
let fileCount = 0;
function toFile(bytes: Uint8Array): string {
  const path = join(workDir, `f${fileCount++}.pdf`);
  writeFileSync(path, bytes);
  return path;
}

async function run(codec: LabelCodec, bytes: Uint8Array, value?: string): Promise<Uint8Array> {
  const sink = new BufferSink();
  if (value === undefined) await codec.remove(bufferSource(bytes), sink);
  else await codec.write(bufferSource(bytes), value, sink);
  return sink.bytes();
}

async function readLabel(bytes: Uint8Array): Promise<string | undefined> {
  return (await pdfCodec.read(bufferSource(bytes)))[0]?.value;
}

async function payloadHash(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (const range of await pdfCodec.payloadRanges(bufferSource(bytes))) hash.update(bytes.subarray(range.start, range.end));
  return hash.digest('hex');
}

function exifInfo(bytes: Uint8Array): Record<string, unknown> {
  const result = spawnSync('exiftool', ['-j', '-PDF:all', '-ExifTool:Warning', toFile(bytes)], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  const tags = (JSON.parse(result.stdout) as Record<string, unknown>[])[0] ?? {};
  expect(tags.Warning).toBeUndefined();
  return tags;
}

/** Renders every page with pdftoppm; fails on any syntax warning it prints. */
function render(bytes: Uint8Array): Buffer[] {
  const dir = mkdtempSync(join(workDir, 'r'));
  const result = spawnSync('pdftoppm', ['-r', '40', toFile(bytes), join(dir, 'p')], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  return readdirSync(dir)
    .sort()
    .map((name) => readFileSync(join(dir, name)));
}

const INFO = { num: 5, body: '<< /Title (Quarterly \\(draft\\) report) /Author <FEFF4F5C8005> /Custom /Name#20With#20Space >>' };

const layouts: Record<string, FixtureOptions> = {
  'classic table with Info': { objects: [...pageObjects(), INFO], trailer: '/Root 1 0 R /Info 5 0 R', xref: 'table' },
  'classic table without Info': { objects: pageObjects(), trailer: '/Root 1 0 R', xref: 'table' },
  'xref stream, Info in an object stream, PNG predictor': {
    objects: pageObjects().filter((o) => o.num === 4),
    compressed: [...pageObjects().filter((o) => o.num !== 4), INFO],
    trailer: '/Root 1 0 R /Info 5 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]',
    xref: 'stream',
    predictor: true,
  },
  'xref stream without Info': { objects: pageObjects(), trailer: '/Root 1 0 R', xref: 'stream' },
  'hybrid file, Info compressed': {
    objects: pageObjects(),
    compressed: [INFO],
    trailer: '/Root 1 0 R /Info 5 0 R',
    xref: 'hybrid',
  },
};

describe('pdf codec', () => {
  it('detects PDFs by their header', () => {
    expect(pdfCodec.detect(latin1('%PDF-1.7\n'))).toBe(true);
    expect(pdfCodec.detect(latin1('\n\n%PDF-1.4'))).toBe(true);
    expect(pdfCodec.detect(latin1('%!PS-Adobe'))).toBe(false);
    expect(pdfCodec.detect(latin1('# Notes\nA PDF starts with %PDF-1.7\n'))).toBe(false);
  });

  for (const [name, options] of Object.entries(layouts)) {
    describe(name, () => {
      const original = buildPdf(options);

      it('appends the label as an incremental update, keeping every original byte', async () => {
        expect(await readLabel(original)).toBeUndefined();
        const labeled = await run(pdfCodec, original, LABEL);
        expect(Buffer.from(labeled.subarray(0, original.length)).equals(Buffer.from(original))).toBe(true);
        expect(await readLabel(labeled)).toBe(LABEL);
        expect(await payloadHash(labeled)).toBe(await payloadHash(original));
      });

      it('relabels and removes with further updates, payload unchanged', async () => {
        const labeled = await run(pdfCodec, original, LABEL);
        const relabeled = await run(pdfCodec, labeled, RELABEL);
        expect(await readLabel(relabeled)).toBe(RELABEL);
        const removed = await run(pdfCodec, relabeled, undefined);
        expect(await readLabel(removed)).toBeUndefined();
        expect(Buffer.from(removed.subarray(0, relabeled.length)).equals(Buffer.from(relabeled))).toBe(true);
        for (const bytes of [relabeled, removed]) expect(await payloadHash(bytes)).toBe(await payloadHash(original));
      });

      it.runIf(exiftool)('exiftool reads /AIGC and the other Info entries survive', async () => {
        const labeled = await run(pdfCodec, original, LABEL);
        const info = exifInfo(labeled);
        expect(info.AIGC).toBe(LABEL);
        if (options.trailer.includes('/Info')) {
          expect(info.Title).toBe('Quarterly (draft) report');
          expect(info.Author).toBe('作者');
        }
        expect(exifInfo(await run(pdfCodec, labeled, RELABEL)).AIGC).toBe(RELABEL);
        const removed = exifInfo(await run(pdfCodec, labeled, undefined));
        expect(removed.AIGC).toBeUndefined();
        if (options.trailer.includes('/Info')) expect(removed.Title).toBe('Quarterly (draft) report');
      });

      it.runIf(pdftoppm)('pdftoppm renders the labeled file without warnings, pixel for pixel as before', async () => {
        const labeled = await run(pdfCodec, original, LABEL);
        const before = render(original);
        expect(before).toHaveLength(1);
        expect(render(labeled)).toEqual(before);
        expect(render(await run(pdfCodec, labeled, undefined))).toEqual(before);
      });
    });
  }

  it.runIf(exiftool)('writes a non-ASCII label as UTF-16 that exiftool decodes', async () => {
    const original = buildPdf(layouts['classic table with Info'] as FixtureOptions);
    const labeled = await run(pdfCodec, original, CHINESE_LABEL);
    expect(await readLabel(labeled)).toBe(CHINESE_LABEL);
    expect(await payloadHash(labeled)).toBe(await payloadHash(original));
    expect(exifInfo(labeled).AIGC).toBe(CHINESE_LABEL);
  });

  it('finds compressed objects that a hybrid table marks free (ISO 32000-1 §7.5.8.4)', async () => {
    const hybrid = buildPdf({ ...(layouts['hybrid file, Info compressed'] as FixtureOptions), freeInTable: true });
    const labeled = await run(pdfCodec, hybrid, LABEL);
    expect(await readLabel(labeled)).toBe(LABEL);
    const info = (await pdfCodec.read(bufferSource(labeled)))[0];
    expect(info?.location).toBe('pdf:Info/AIGC');
  });

  it('reads a label written by another tool, and replaces it', async () => {
    const foreign = buildPdf({
      objects: [...pageObjects(), { num: 5, body: '<< /AIGC (\\{"Label":"3"\\}) /Producer (X) >>' }],
      trailer: '/Root 1 0 R /Info 5 0 R',
      xref: 'table',
    });
    expect(await readLabel(foreign)).toBe('{"Label":"3"}');
    const relabeled = await run(pdfCodec, foreign, LABEL);
    expect(await readLabel(relabeled)).toBe(LABEL);
    expect(await pdfCodec.payloadRanges(bufferSource(relabeled))).toEqual([{ start: 0, end: foreign.length }]);
  });

  it('keeps a file after an editor revision whole in the payload, and a signature prefix intact', async () => {
    const base = buildPdf(layouts['classic table with Info'] as FixtureOptions);
    const signed = appendRevision(
      base,
      [{ num: 6, body: '<< /Type /Sig /ByteRange [0 100 200 300] /Contents <00> >>' }],
      '/Root 1 0 R /Info 5 0 R',
    );
    const labeled = await run(pdfCodec, signed, LABEL);
    expect(Buffer.from(labeled.subarray(0, signed.length)).equals(Buffer.from(signed))).toBe(true);
    expect(await pdfCodec.payloadRanges(bufferSource(labeled))).toEqual([{ start: 0, end: signed.length }]);
    expect(await readLabel(labeled)).toBe(LABEL);
  });

  describe('an appended update that rewrites the page is never left out of the payload', () => {
    const base = buildPdf(layouts['classic table with Info'] as FixtureOptions);
    const forgedPage = { num: 4, body: '<< /Length 38 >>\nstream\nBT /F1 18 Tf 20 60 Td (FORGED) Tj ET\nendstream' };
    /** `pdf` with the forged page appended, its tail optionally dressed as a hegui update. */
    const tamper = (pdf: Uint8Array, marker: boolean): Uint8Array => {
      const forged = latin1(String.fromCharCode(...appendRevision(pdf, [forgedPage], '/Root 1 0 R /Info 5 0 R')));
      if (!marker) return forged;
      const text = String.fromCharCode(...forged);
      return latin1(text.replace(/startxref\n(\d+)\n%%EOF\n$/, `%hegui-aigc-update ${pdf.length}\nstartxref\n$1\n%%EOF\n`));
    };

    for (const marker of [false, true]) {
      it(marker ? "with hegui's marker comment" : 'without a marker', async () => {
        const labeled = await run(pdfCodec, base, LABEL);
        const forged = tamper(labeled, marker);
        expect(String.fromCharCode(...forged)).toContain(marker ? '%hegui-aigc-update' : 'FORGED');
        expect(await readLabel(forged)).toBe(LABEL);
        expect(await payloadHash(forged)).not.toBe(await payloadHash(labeled));
        expect(await pdfCodec.payloadRanges(bufferSource(forged))).toEqual([{ start: 0, end: forged.length }]);
      });
    }

    it('an update that carries the label but also replaces the page is not hegui\'s', async () => {
      const labeled = await run(pdfCodec, base, LABEL);
      const relabeled = await run(pdfCodec, labeled, RELABEL);
      // The genuine last update plus a forged object slipped into it, offsets kept valid.
      const start = labeled.length;
      const text = String.fromCharCode(...relabeled);
      const update = text.slice(start);
      const smuggled = update.replace('xref\n', `4 0 obj\n${forgedPage.body}\nendobj\nxref\n`);
      const forged = latin1(text.slice(0, start) + smuggled);
      expect(await payloadHash(forged)).not.toBe(await payloadHash(relabeled));
    });
  });

  it('starts the update on a new line when the file does not end with one', async () => {
    const base = buildPdf(layouts['classic table with Info'] as FixtureOptions);
    const unterminated = base.subarray(0, base.length - 1);
    const labeled = await run(pdfCodec, unterminated, LABEL);
    expect(labeled[unterminated.length]).toBe(0x0a);
    expect(await readLabel(labeled)).toBe(LABEL);
    expect(await payloadHash(labeled)).toBe(await payloadHash(unterminated));
  });

  it('copies a file with no label unchanged on remove', async () => {
    const base = buildPdf(layouts['classic table with Info'] as FixtureOptions);
    expect(Buffer.from(await run(pdfCodec, base, undefined)).equals(Buffer.from(base))).toBe(true);
  });

  /** A two-page PDF written by Ghostscript's pdfwrite (classic cross-reference table). */
  function ghostscriptPdf(): Uint8Array {
    const ps = join(workDir, 'in.ps');
    writeFileSync(ps, '%!PS\n/Helvetica findfont 24 scalefont setfont 72 720 moveto (Ghostscript page) show 0.5 setgray 72 72 200 200 rectfill showpage\n72 720 moveto (Two) show showpage\n');
    const out = join(workDir, `gs${fileCount++}.pdf`);
    const gs = spawnSync('gs', ['-q', '-dBATCH', '-dNOPAUSE', '-dSAFER', '-sDEVICE=pdfwrite', `-sOutputFile=${out}`, ps], { encoding: 'utf8' });
    expect(gs.status, gs.stderr).toBe(0);
    return new Uint8Array(readFileSync(out));
  }

  it.runIf(ghostscript && exiftool && pdftoppm)('labels a PDF written by Ghostscript', async () => {
    const original = ghostscriptPdf();
    const labeled = await run(pdfCodec, original, LABEL);
    expect(exifInfo(labeled).AIGC).toBe(LABEL);
    expect(exifInfo(labeled).Producer).toBe(exifInfo(original).Producer);
    expect(render(labeled)).toEqual(render(original));
  });

  it.runIf(qpdf && ghostscript && exiftool && pdftoppm)('labels a file qpdf rewrote with object streams, and qpdf --check accepts it', async () => {
    const input = toFile(ghostscriptPdf());
    const output = join(workDir, `qpdf${fileCount++}.pdf`);
    const rewrite = spawnSync('qpdf', ['--object-streams=generate', input, output], { encoding: 'utf8' });
    expect(rewrite.status, rewrite.stderr).toBe(0);
    const original = new Uint8Array(readFileSync(output));
    expect(Buffer.from(original).includes('/ObjStm')).toBe(true);
    const labeled = await run(pdfCodec, original, LABEL);
    const check = spawnSync('qpdf', ['--check', toFile(labeled)], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(exifInfo(labeled).AIGC).toBe(LABEL);
    expect(render(labeled)).toEqual(render(original));
  });
});
