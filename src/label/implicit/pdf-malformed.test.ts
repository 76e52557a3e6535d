import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource } from './bytes.js';
import { buildPdf, latin1, pageObjects, type FixtureOptions } from './pdf-fixtures.js';
import { pdfCodec } from './pdf.js';

const INFO = { num: 5, body: '<< /Title (T) >>' };
const classic: FixtureOptions = { objects: [...pageObjects(), INFO], trailer: '/Root 1 0 R /Info 5 0 R', xref: 'table' };
const streamed: FixtureOptions = {
  objects: pageObjects().filter((o) => o.num === 4),
  compressed: [...pageObjects().filter((o) => o.num !== 4), INFO],
  trailer: '/Root 1 0 R /Info 5 0 R',
  xref: 'stream',
  predictor: true,
};

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}

/** Every codec entry point rejects `bytes` with a LabelFormatError matching `message`. */
async function expectRejected(bytes: Uint8Array, message: RegExp): Promise<void> {
  const source = bufferSource(bytes);
  for (const attempt of [() => pdfCodec.read(source), () => pdfCodec.write(source, '{}', new BufferSink()), () => pdfCodec.remove(source, new BufferSink())]) {
    const error = await attempt().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LabelFormatError);
    expect((error as Error).message).toMatch(message);
  }
}

/** A deterministic pseudo-random generator (xorshift32), so fuzz failures reproduce. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe('pdf codec on malformed input', () => {
  it('refuses encrypted documents, naming the reason', async () => {
    const encrypted = buildPdf({ ...classic, trailer: `${classic.trailer} /Encrypt << /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>` });
    await expectRejected(encrypted, /encrypted/);
  });

  it('rejects an empty file and a file with no startxref', async () => {
    await expectRejected(new Uint8Array(0), /startxref/);
    await expectRejected(latin1('%PDF-1.4\n1 0 obj\n<< >>\nendobj\n'), /startxref/);
  });

  it('rejects truncated files', async () => {
    const pdf = buildPdf(classic);
    const xref = text(pdf).lastIndexOf('xref\n0');
    await expectRejected(pdf.subarray(0, Math.floor(pdf.length / 2)), /startxref/);
    // Cut inside the table, then re-point startxref at the cut table.
    const cut = `${text(pdf).slice(0, xref + 30)}\nstartxref\n${xref}\n%%EOF\n`;
    await expectRejected(latin1(cut), /malformed pdf file/);
  });

  it('rejects a startxref that points outside the file or at garbage', async () => {
    const pdf = text(buildPdf(classic));
    await expectRejected(latin1(pdf.replace(/startxref\n\d+/, 'startxref\n99999999')), /outside the file/);
    await expectRejected(latin1(pdf.replace(/startxref\n\d+/, 'startxref\n9')), /neither an xref table nor/);
  });

  it('rejects a /Prev chain that loops back on itself', async () => {
    const pdf = text(buildPdf(classic));
    const start = Number(/startxref\n(\d+)/.exec(pdf)?.[1]);
    await expectRejected(latin1(pdf.replace('/Info 5 0 R >>', `/Info 5 0 R /Prev ${start} >>`)), /loops/);
  });

  it('rejects an xref entry that points at the wrong object', async () => {
    const pdf = text(buildPdf(classic));
    const info = pdf.indexOf('5 0 obj');
    const catalog = pdf.indexOf('1 0 obj');
    const broken = pdf.replace(`${String(info).padStart(10, '0')} 00000 n`, `${String(catalog).padStart(10, '0')} 00000 n`);
    await expectRejected(latin1(broken), /points to object 1/);
  });

  it('rejects an Info dictionary nested past the depth limit', async () => {
    const deep = `<< /Title ${'['.repeat(100)}${']'.repeat(100)} >>`;
    await expectRejected(buildPdf({ ...classic, objects: [...pageObjects(), { num: 5, body: deep }] }), /nested deeper/);
  });

  it('rejects bad cross-reference stream fields', async () => {
    const pdf = text(buildPdf(streamed));
    await expectRejected(latin1(pdf.replace('/W [1 4 2]', '/W [1 9 2]')), /\/W/);
    await expectRejected(latin1(pdf.replace(/\/Index \[[^\]]*\]/, (m) => m.replace(/\]$/, ' 100 99999999]').padEnd(m.length))), /declares/);
  });

  it('rejects an object stream whose /Length lives inside itself', async () => {
    const pdf = text(buildPdf({ ...streamed, compressed: [...(streamed.compressed ?? []), { num: 7, body: '120' }] }));
    // Same length as before, so that every offset after it stays right.
    const selfLength = pdf.replace(/\/Type \/ObjStm (.*?)\/Filter \/FlateDecode \/Length \d+/, (m, middle: string) =>
      `/Type/ObjStm ${middle}/Filter/FlateDecode /Length 7 0 R`.padEnd(m.length),
    );
    expect(selfLength.length).toBe(pdf.length);
    await expectRejected(latin1(selfLength), /refers to itself/);
  });

  it('rejects a cross-reference stream that inflates past the limit without running out of memory', async () => {
    const bomb = deflateSync(new Uint8Array(130 * 1024 * 1024));
    const pdf = text(buildPdf(streamed));
    const start = Number(/startxref\n(\d+)/.exec(pdf)?.[1]);
    const update =
      `9 0 obj\n<< /Type /XRef /Size 10 /W [1 4 2] /Filter /FlateDecode /Root 1 0 R /Prev ${start} /Length ${bomb.length} >>\nstream\n` +
      `${text(bomb)}\nendstream\nendobj\nstartxref\n${pdf.length}\n%%EOF\n`;
    await expectRejected(latin1(pdf + update), /inflates past/);
  });

  it('survives flipped bytes with a typed error or a result, never a crash or a hang', async () => {
    const next = random(0x5eed);
    for (const options of [classic, streamed]) {
      const original = buildPdf(options);
      for (let round = 0; round < 300; round++) {
        const bytes = original.slice();
        for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) {
          bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
        }
        const source = bufferSource(bytes);
        for (const attempt of [() => pdfCodec.read(source), () => pdfCodec.write(source, '{"Label":"1"}', new BufferSink())]) {
          await attempt().catch((error: unknown) => {
            if (!(error instanceof LabelFormatError)) throw error;
          });
        }
      }
    }
  });
});
