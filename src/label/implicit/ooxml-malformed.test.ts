import { describe, expect, it } from 'vitest';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource } from './bytes.js';
import { docxParts, hasTool, zipWithInfoZip } from './ooxml-fixtures.js';
import { ooxmlCodec } from './ooxml.js';

const zipTool = hasTool('zip', 'zip');

/** Every entry point rejects `bytes` with a LabelFormatError whose message matches `message`. */
async function expectRejected(bytes: Uint8Array, message: RegExp): Promise<void> {
  const source = bufferSource(bytes);
  for (const attempt of [
    () => ooxmlCodec.read(source),
    () => ooxmlCodec.write(source, '{"Label":"1"}', new BufferSink()),
    () => ooxmlCodec.payloadRanges(source),
  ]) {
    const error = await attempt().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LabelFormatError);
    expect((error as Error).message).toMatch(message);
  }
}

/** Offsets of the end record, and of the central directory records, of an archive without a comment. */
function layout(zip: Uint8Array): { eocd: number; records: number[] } {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = zip.length - 22;
  const records: number[] = [];
  let at = view.getUint32(eocd + 16, true);
  for (let i = 0; i < view.getUint16(eocd + 10, true); i++) {
    records.push(at);
    at += 46 + view.getUint16(at + 28, true) + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return { eocd, records };
}

function patched(zip: Uint8Array, edit: (view: DataView, where: ReturnType<typeof layout>) => void): Uint8Array {
  const copy = zip.slice();
  edit(new DataView(copy.buffer), layout(copy));
  return copy;
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe.runIf(zipTool)('ooxml codec on malformed input', () => {
  const docx = zipWithInfoZip(docxParts());

  it('rejects truncated archives and non-archives', async () => {
    await expectRejected(docx.subarray(0, docx.length - 30), /end of central directory/);
    await expectRejected(new Uint8Array(0), /end of central directory/);
  });

  it('rejects a central directory outside the file or larger than declared', async () => {
    await expectRejected(
      patched(docx, (v, w) => v.setUint32(w.eocd + 16, docx.length + 100, true)),
      /central directory|needs \d+ bytes/,
    );
    await expectRejected(
      patched(docx, (v, w) => {
        v.setUint16(w.eocd + 8, 60000, true);
        v.setUint16(w.eocd + 10, 60000, true);
      }),
      /declares 60000 entries/,
    );
  });

  it('rejects entries that overlap or point at no local header', async () => {
    await expectRejected(
      patched(docx, (v, w) => v.setUint32((w.records[1] ?? 0) + 42, v.getUint32((w.records[0] ?? 0) + 42, true), true)),
      /overlaps/,
    );
    await expectRejected(
      patched(docx, (v, w) => v.setUint32((w.records[1] ?? 0) + 42, 7, true)),
      /overlaps|no local header/,
    );
  });

  it('rejects a part whose CRC-32 does not match, or that inflates past the limit', async () => {
    await expectRejected(patched(docx, (v, w) => v.setUint32((w.records[1] ?? 0) + 16, 0xdeadbeef, true)), /CRC-32/);
    // payloadRanges never reads the custom part, so only read and write meet the bomb.
    const bomb = bufferSource(zipWithInfoZip(docxParts({ 'docProps/custom.xml': ' '.repeat(17 * 1024 * 1024) })));
    await expect(ooxmlCodec.read(bomb)).rejects.toThrow(/docProps\/custom.xml is larger than/);
    await expect(ooxmlCodec.write(bomb, '{}', new BufferSink())).rejects.toThrow(LabelFormatError);
  });

  it('rejects a package part that is not well-formed XML, naming the part', async () => {
    const parts = docxParts();
    parts['[Content_Types].xml'] = '<Types><Override></Types>';
    await expect(ooxmlCodec.write(bufferSource(zipWithInfoZip(parts)), '{}', new BufferSink())).rejects.toThrow(
      /part \[Content_Types\]\.xml is not well-formed/,
    );
  });

  it('survives flipped bytes with a typed error or a result, never a crash or a hang', async () => {
    const next = random(0xc0ffee);
    for (let round = 0; round < 300; round++) {
      const bytes = docx.slice();
      for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) {
        // Half the flips land in the central directory and end record, where the structure is.
        const tail = next() < 0.5;
        const at = tail ? docx.length - 1 - Math.floor(next() * 400) : Math.floor(next() * docx.length);
        bytes[at] = Math.floor(next() * 256);
      }
      const source = bufferSource(bytes);
      for (const attempt of [() => ooxmlCodec.read(source), () => ooxmlCodec.write(source, '{"Label":"1"}', new BufferSink())]) {
        await attempt().catch((error: unknown) => {
          if (!(error instanceof LabelFormatError)) throw error;
        });
      }
    }
  });
});
