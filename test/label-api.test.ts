/**
 * The library API on streams and files: Node and web streams in and out, spooling, atomic
 * file writes and typed errors.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InputTooLargeError,
  LabelFormatError,
  LabelMissingError,
  ProviderCodeError,
  UnsupportedFormatError,
  embedLabel,
  formatLabel,
  labelRecord,
  labelledStream,
  propagateLabel,
  readLabels,
  stripLabel,
  type ImplicitLabel,
} from '../src/label/index.js';
import { crc32 } from '../src/label/implicit/bytes.js';
import { embedLabelFile, fileSpool, propagateLabelFile, readLabelFile, stripLabelFile } from '../src/label/files.js';
import { PRODUCER, PROPAGATOR } from './label-samples.js';

let jpeg: Uint8Array;
beforeAll(async () => {
  jpeg = await sharp({ create: { width: 32, height: 20, channels: 3, background: 'teal' } }).jpeg().toBuffer();
});

function chunked(bytes: Uint8Array, size = 100): Readable {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

async function collect(stream: PassThrough): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe('streams in, streams out', () => {
  it('takes a Node Readable and writes to a Node Writable', async () => {
    const out = new PassThrough();
    const done = collect(out);
    const result = await embedLabel(chunked(jpeg), { producer: PRODUCER, produceId: 's-1' }, { output: out });
    expect(result.bytes).toBeUndefined();
    expect((await readLabels(await done)).label?.ProduceID).toBe('s-1');
  });

  it('takes a web ReadableStream and writes to a web WritableStream', async () => {
    const parts: Uint8Array[] = [];
    const sink = new WritableStream<Uint8Array>({ write: (chunk) => void parts.push(chunk) });
    await embedLabel(new Blob([jpeg]).stream(), { producer: PRODUCER, produceId: 's-2' }, { output: sink });
    expect((await readLabels(Buffer.concat(parts))).label?.ProduceID).toBe('s-2');
  });

  it('answers with a web ReadableStream, as an HTTP handler would', async () => {
    const stream = labelledStream((output) => embedLabel(new Blob([jpeg]).stream(), { producer: PRODUCER, produceId: 's-4' }, { output }));
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    expect((await readLabels(bytes)).label?.ProduceID).toBe('s-4');
    const failing = labelledStream((output) => embedLabel(new Uint8Array([1, 2, 3]), { producer: PRODUCER, produceId: 'x' }, { output }));
    await expect(new Response(failing).arrayBuffer()).rejects.toBeInstanceOf(UnsupportedFormatError);
  });

  it('spools large streams to a temporary file when asked', async () => {
    const { bytes } = await embedLabel(chunked(jpeg, 7), { producer: PRODUCER, produceId: 's-3' }, { spool: () => fileSpool() });
    expect((await readLabels(bytes ?? new Uint8Array())).label?.ProduceID).toBe('s-3');
  });

  it('refuses a stream larger than the memory spool with a typed error', async () => {
    await expect(readLabels(chunked(jpeg), { maxBufferBytes: 100 })).rejects.toBeInstanceOf(InputTooLargeError);
  });

  it('aborts the output stream when the input is malformed', async () => {
    const out = new PassThrough();
    const broken = Buffer.concat([Buffer.from(jpeg.subarray(0, 4)), Buffer.from([0x00, 0x01])]);
    await expect(stripLabel(broken, { output: out })).rejects.toBeInstanceOf(LabelFormatError);
    expect(out.destroyed).toBe(true);
  });
});

describe('typed errors', () => {
  it('names what is wrong', async () => {
    await expect(readLabels(new TextEncoder().encode('\u0000\u0001\u0002 not a picture'))).rejects.toBeInstanceOf(UnsupportedFormatError);
    await expect(embedLabel(jpeg, { producer: 'doubao', produceId: 'x' })).rejects.toBeInstanceOf(ProviderCodeError);
    await expect(propagateLabel(jpeg, { propagator: PROPAGATOR, propagateId: 'p' })).rejects.toBeInstanceOf(LabelMissingError);
    await expect(readLabels(jpeg.subarray(0, 30))).rejects.toBeInstanceOf(LabelFormatError);
  });
});

describe('file helpers', () => {
  it('write atomically: no temporary file is left, and a failure leaves the target as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-files-'));
    const path = join(dir, 'a.jpg');
    writeFileSync(path, jpeg);
    const result = await embedLabelFile(path, { producer: PRODUCER, produceId: 'f-1' }, { inPlace: true });
    expect(result).toMatchObject({ format: 'jpeg', method: 'rewritten' });
    await propagateLabelFile(path, { propagator: PROPAGATOR, propagateId: 'f-2' }, { inPlace: true });
    expect((await readLabelFile(path)).label).toMatchObject({ ProduceID: 'f-1', PropagateID: 'f-2' });
    const broken = join(dir, 'broken.jpg');
    writeFileSync(broken, jpeg.subarray(0, 40));
    await expect(stripLabelFile(broken, { inPlace: true })).rejects.toBeInstanceOf(LabelFormatError);
    expect(readFileSync(broken)).toEqual(Buffer.from(jpeg.subarray(0, 40)));
    expect(readdirSync(dir).sort()).toEqual(['a.jpg', 'broken.jpg']);
  });
});

describe('large files', () => {
  it('labels a file above the small-file threshold through file handles, keeping the pixels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-large-'));
    const noise = randomBytes(1200 * 1000 * 3);
    const png = await sharp(noise, { raw: { width: 1200, height: 1000, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    expect(png.length).toBeGreaterThan(1 << 20);
    const path = join(dir, 'large.png');
    writeFileSync(path, png);
    await embedLabelFile(path, { producer: PRODUCER, produceId: 'big' }, { out: join(dir, 'out.png') });
    expect((await readLabelFile(join(dir, 'out.png'))).label?.ProduceID).toBe('big');
    const pixels = await sharp(join(dir, 'out.png')).raw().toBuffer();
    expect(pixels.equals(noise)).toBe(true);
  });
});

describe('text formats by name', () => {
  it('labels Markdown without front matter when its name says .md, and only text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-md-'));
    const notes = join(dir, 'notes.md');
    writeFileSync(notes, '# Title\n\nBody.\n');
    await embedLabelFile(notes, { producer: PRODUCER, produceId: 'md-1' }, { inPlace: true });
    expect(readFileSync(notes, 'utf8')).toMatch(/^---\nAIGC: '\{"Label":"1".*"ProduceID":"md-1"/);
    expect((await readLabelFile(notes)).label?.ProduceID).toBe('md-1');
    const binary = join(dir, 'binary.md');
    writeFileSync(binary, Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 3]));
    await expect(embedLabelFile(binary, { producer: PRODUCER, produceId: 'md-2' }, { inPlace: true })).rejects.toMatchObject({ code: 'E_LABEL_UNSUPPORTED_FORMAT' });
    expect(readFileSync(binary)).toEqual(Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 3]));
    await expect(embedLabel(new TextEncoder().encode('# Title\n'), { producer: PRODUCER, produceId: 'md-3' })).rejects.toMatchObject({ code: 'E_LABEL_UNSUPPORTED_FORMAT' });
    const named = await embedLabel(new TextEncoder().encode('# Title\n'), { producer: PRODUCER, produceId: 'md-3' }, { name: 'x.markdown' });
    expect(named.format).toBe('markdown');
  });
});

describe('every label a file holds', () => {
  /** A PNG chunk with its CRC (PNG §5.3). */
  function pngChunk(type: string, data: Uint8Array): Buffer {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  }
  const withText = (png: Uint8Array, text: string): Buffer =>
    Buffer.concat([png.subarray(0, 33), pngChunk('tEXt', Buffer.from(`AIGC\0${text}`, 'latin1')), png.subarray(33)]);

  it('reads malformed label JSON as an unreadable label, not as no label', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).png().toBuffer();
    const report = await readLabels(withText(png, '{"Label":"1","ContentProducer":'));
    expect(report).toMatchObject({ label: null, presence: 'unreadable', status: 'absent' });
    expect(report.found[0]?.error).toMatch(/JSON|label/i);
    expect(labelRecord('x.png', report)).toMatchObject({ presence: 'unreadable', conflicts: [{ location: 'png:tEXt:AIGC' }] });
    expect((await readLabels(png)).presence).toBe('none');
  });

  it('flags a second label that says something else, and strip removes both', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).png().toBuffer();
    const labelled = (await embedLabel(png, { producer: PRODUCER, produceId: 'xmp-1' })).bytes ?? new Uint8Array();
    const other = '{"Label":"1","ContentProducer":"001191350100M000100Y431A001","ProduceID":"other-9"}';
    const both = withText(labelled, other);
    const report = await readLabels(both);
    expect(report).toMatchObject({ presence: 'label', location: 'xmp:iTXt', label: { ProduceID: 'xmp-1' } });
    expect(report.conflicts).toMatchObject([{ location: 'png:tEXt:AIGC', label: { ProduceID: 'other-9' } }]);
    // The same label twice is a copy, not a conflict.
    expect((await readLabels(withText(labelled, formatLabel(report.label as ImplicitLabel)))).conflicts).toEqual([]);
    const stripped = (await stripLabel(both)).bytes ?? new Uint8Array();
    expect(await readLabels(stripped)).toMatchObject({ presence: 'none', found: [] });
    const relabelled = (await embedLabel(both, { producer: PRODUCER, produceId: 'new-1' })).bytes ?? new Uint8Array();
    expect((await readLabels(relabelled)).found).toHaveLength(1);
  });
});
