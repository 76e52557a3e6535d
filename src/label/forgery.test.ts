/**
 * An adversary's attempts to make a tampered file verify `valid` (issue 11): each test signs a
 * file, changes it the way a forger would, and checks that hegui never reports the change as
 * `valid`. docs/labels.md ("Signed content") is what each expectation is taken from.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { embedLabel, propagateLabel, readLabels, type LabelReport } from './api.js';
import { bufferSource } from './implicit/bytes.js';
import { codecFor, codecList } from './implicit/registry.js';
import { writeLabel } from './implicit/media-testkit.js';
import { buildXmpPacket } from './implicit/xmp.js';
import { serializeBox } from './implicit/mp4-boxes.js';
import { parseMoov, setMoovLabel } from './implicit/mp4-meta.js';
import { createLabel, formatLabel, type ImplicitLabel } from './model.js';
import { generateLabelKeys, parseSigningKey, parseVerifyKey } from './security-keys.js';
import { contentDigest, signLabel } from './security.js';
import { find, patched } from '../../test/helpers/bytes.js';
import { pcmWavHeader } from '../../test/helpers/wav.js';
import { systemTool } from '../../test/helpers/system.js';
import { documentSamples, mediaSamples, PRODUCER, PROPAGATOR } from '../../test/label-samples.js';

const producerPem = generateLabelKeys('ed25519');
const key = parseSigningKey(producerPem.privateKeyPem);
const platformPem = generateLabelKeys('ed25519');
const platform = parseSigningKey(platformPem.privateKeyPem);
const keys = [parseVerifyKey(producerPem.publicKeyPem), parseVerifyKey(platformPem.publicKeyPem)];
const ffmpeg = systemTool('ffmpeg', 'ffmpeg');
const qpdf = systemTool('qpdf', 'qpdf');
let media: Record<string, Uint8Array> | undefined;
const mediaOnce = (): Record<string, Uint8Array> => (media ??= mediaSamples());

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

async function signed(bytes: Uint8Array, produceId = 'forge-1'): Promise<Uint8Array> {
  const { bytes: out } = await embedLabel(bytes, { producer: PRODUCER, produceId, key });
  if (!out) throw new Error('embedLabel returned no bytes');
  return out;
}

async function propagated(bytes: Uint8Array): Promise<Uint8Array> {
  const { bytes: out } = await propagateLabel(bytes, { propagator: PROPAGATOR, propagateId: 'p-1', key: platform });
  if (!out) throw new Error('propagateLabel returned no bytes');
  return out;
}

const report = (bytes: Uint8Array): Promise<LabelReport> => readLabels(bytes, { keys });
const status = async (bytes: Uint8Array): Promise<string> => (await report(bytes)).status;

/** The offset of `needle` in `bytes` at or after `from`; fails the test when it is not there. */
function spliced(bytes: Uint8Array, at: number, insert: Uint8Array): Uint8Array {
  return Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at)]);
}

/** The label that `bytes` carries, re-signed by an attacker's own key over the file as it now is. */
async function attackerLabel(bytes: Uint8Array, change: Partial<ImplicitLabel> = {}): Promise<ImplicitLabel> {
  const attacker = parseSigningKey(generateLabelKeys('ed25519').privateKeyPem);
  const codec = await codecFor(bufferSource(bytes), codecList(undefined));
  const digest = await contentDigest(bufferSource(bytes), codec, 'ed25519');
  if (!digest) throw new Error('no signed content');
  return signLabel({ ...createLabel({ producer: PROPAGATOR.replace(/2(?=P001$)/, '1'), produceId: 'forged' }), ...change }, 'producer', attacker, digest);
}

const solid = (colour: string): sharp.Sharp => sharp({ create: { width: 16, height: 12, channels: 3, background: colour } });

describe('PDF: appended incremental updates', () => {
  const pdf = (): Uint8Array => {
    const sample = documentSamples()['page.pdf'];
    if (!sample) throw new Error('no PDF sample');
    return sample;
  };

  /** A classic-xref incremental update of `objects` (number -> body) after `base`, optionally with hegui's marker. */
  function update(base: Uint8Array, objects: Record<number, string>, trailer: string, marker: boolean): Uint8Array {
    const text = Buffer.from(base).toString('latin1');
    const prev = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(text)?.[1];
    if (!prev) throw new Error('no startxref');
    let body = '';
    const rows: string[] = [];
    for (const [num, object] of Object.entries(objects)) {
      rows.push(`${num} 1\n${String(base.length + body.length).padStart(10, '0')} 00000 n\r\n`);
      body += `${num} 0 obj\n${object}\nendobj\n`;
    }
    const xref = base.length + body.length;
    const tail = `${marker ? `%hegui-aigc-update ${base.length}\n` : ''}startxref\n${xref}\n%%EOF\n`;
    return Buffer.concat([base, latin1(`${body}xref\n${rows.join('')}trailer\n<< ${trailer} /Prev ${prev} >>\n${tail}`)]);
  }

  const newPage = '<< /Length 35 >>\nstream\nBT /F1 9 Tf 5 5 Td (FORGED!!) Tj ET\nendstream';

  it.each([true, false])('an update that replaces the page content (marker: %s)', async (marker) => {
    const labelled = await signed(pdf());
    expect(await status(labelled)).toBe('valid');
    const forged = update(labelled, { 4: newPage }, '/Size 6 /Root 1 0 R /Info 5 0 R', marker);
    expect(await status(forged)).toBe('payload-changed');
  });

  it('a real hegui update (propagation) followed by a forged marked one', async () => {
    const both = await propagated(await signed(pdf()));
    expect(await status(both)).toBe('valid');
    expect(await status(update(both, { 4: newPage }, '/Size 6 /Root 1 0 R /Info 5 0 R', true))).toBe('payload-changed');
  });

  it.each([true, false])('an update that redefines /Root and /Pages (marker: %s)', async (marker) => {
    const labelled = await signed(pdf());
    const objects = {
      6: '<< /Type /Catalog /Pages 7 0 R >>',
      7: '<< /Type /Pages /Kids [8 0 R] /Count 1 >>',
      8: '<< /Type /Page /Parent 7 0 R /MediaBox [0 0 144 144] /Contents 4 0 R >>',
    };
    expect(await status(update(labelled, objects, '/Size 9 /Root 6 0 R /Info 5 0 R', marker))).toBe('payload-changed');
  });

  it("hegui's own update with one Info entry changed in place (same length, offsets intact)", async () => {
    const original = pdf();
    const labelled = await signed(original);
    const title = find(labelled, '/Title (sample)', original.length);
    const forged = patched(labelled, title + 8, [...latin1('SAMPLE')]);
    expect(await status(forged)).toBe('payload-changed');
  });

  it("an Info-only update that copies hegui's label and marker", async () => {
    const labelled = await signed(pdf());
    const aigc = /\/AIGC (<[0-9A-Fa-f]+>|\((?:[^()\\]|\\.)*\))/.exec(Buffer.from(labelled).toString('latin1'))?.[1];
    if (!aigc) throw new Error('no /AIGC in the labelled PDF');
    const info = `<<\n/Title (forged title)\n/Producer (hegui tests)\n/AIGC ${aigc}\n>>`;
    const forged = update(labelled, { 5: info }, '/Size 6 /Root 1 0 R /Info 5 0 R', true);
    expect((await report(forged)).label?.ProduceID).toBe('forge-1');
    expect(await status(forged)).toBe('payload-changed');
  });

  it.each(['garbage after the end\n', '\n', '%%EOF\n'])('bytes after the final end-of-file marker: %j', async (tail) => {
    const labelled = await signed(pdf());
    expect(await status(Buffer.concat([labelled, latin1(tail)]))).toBe('payload-changed');
  });

  it('an update whose trailer adds /XRefStm (a hybrid-reference file for PDF 1.5 readers)', async () => {
    const labelled = await signed(pdf());
    // The stream the trailer's /XRefStm names: object 4 (the page content) at byte 9, where a PDF 1.5 reader looks first.
    const xrefStream = '<< /Type /XRef /Size 7 /W [1 2 1] /Index [4 1] /Length 4 >>\nstream\n\x01\x00\x09\x00\nendstream';
    const forged = update(labelled, { 6: xrefStream }, `/Size 7 /Root 1 0 R /Info 5 0 R /XRefStm ${labelled.length}`, true);
    expect(await status(forged)).toBe('payload-changed');
  });

  it('a /Metadata stream that inflates to 120 MB of XML elements: a typed error or no XMP label, not the memory of the process', async () => {
    const labelled = await signed(pdf());
    const packet = deflateSync(Buffer.from(`<x:xmpmeta xmlns:x="adobe:ns:meta/">${'<a/>'.repeat(30_000_000)}</x:xmpmeta>`));
    const stream = Buffer.concat([latin1(`<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length ${packet.length} >>\nstream\n`), packet, latin1('\nendstream')]);
    const forged = update(labelled, { 1: '<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>', 6: stream.toString('latin1') }, '/Size 7 /Root 1 0 R /Info 5 0 R', false);
    const result = await report(forged).then(
      (r) => r.status,
      (error: { code?: string }) => error.code,
    );
    expect(result).toMatch(/^(payload-changed|E_LABEL_FORMAT)$/);
    // The timeout is the hang guard: scanning the whole packet took 53 s and gigabytes here.
  }, 20_000);

  it("only the last 64 of hegui's own updates are left out: more make the content change, rather than minutes of parsing", async () => {
    let file = await signed(pdf());
    const value = formatLabel((await report(file)).label ?? createLabel({ producer: PRODUCER, produceId: 'x' }));
    const codec = await codecFor(bufferSource(file), codecList(undefined));
    for (let i = 0; i < 63; i++) file = await writeLabel(codec, file, value);
    expect(await status(file)).toBe('valid');
    file = await writeLabel(codec, file, value);
    expect(await status(file)).toBe('payload-changed');
  });

  it.runIf(qpdf)('object streams and a cross-reference stream: the label update cannot be edited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-forge-pdf-'));
    try {
      writeFileSync(join(dir, 'in.pdf'), pdf());
      execFileSync('qpdf', ['--object-streams=generate', join(dir, 'in.pdf'), join(dir, 'out.pdf')]);
      const compact = readFileSync(join(dir, 'out.pdf'));
      expect(compact.includes(latin1('/ObjStm'))).toBe(true);
      const labelled = await signed(compact);
      expect(await status(labelled)).toBe('valid');
      const forged = patched(labelled, find(labelled, '/Title (sample)', compact.length) + 8, [...latin1('SAMPLE')]);
      expect(await status(forged)).toBe('payload-changed');
      expect(await status(update(labelled, { 4: newPage }, `/Size 99 /Root 1 0 R`, true))).not.toMatch(/^(valid|payload-only)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A JPEG marker segment: FF, marker, length (2 bytes, counting itself), data. */
function segment(marker: number, data: Uint8Array): Uint8Array {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

const xmpSegment = (packet: string): Uint8Array => segment(0xe1, Buffer.concat([latin1('http://ns.adobe.com/xap/1.0/\0'), Buffer.from(packet, 'utf8')]));

describe('JPEG', () => {
  const jpeg = (): Promise<Buffer> => solid('olive').jpeg().toBuffer();

  it('Adobe APP14 colour transform changed', async () => {
    const adobe = Buffer.concat([latin1('Adobe'), Buffer.from([0, 100, 0, 0, 0, 0, 1])]);
    const base = await jpeg();
    const labelled = await signed(spliced(base, 2, segment(0xee, adobe)));
    expect(await status(labelled)).toBe('valid');
    const transform = find(labelled, 'Adobe') + 11;
    expect(await status(patched(labelled, transform, [0]))).toBe('payload-changed');
  });

  it('a quantisation table entry changed', async () => {
    const labelled = await signed(await jpeg());
    const dqt = find(labelled, Uint8Array.from([0xff, 0xdb]));
    expect(await status(patched(labelled, dqt + 10, [(labelled[dqt + 10] ?? 0) ^ 1]))).toBe('payload-changed');
  });

  it('the frame height in SOF0 changed', async () => {
    const labelled = await signed(await jpeg());
    const sof = find(labelled, Uint8Array.from([0xff, 0xc0]));
    expect(await status(patched(labelled, sof + 5, [0, 6]))).toBe('payload-changed');
  });

  it('data appended after EOI (where motion photos and MPF keep further images)', async () => {
    const labelled = await signed(await jpeg());
    const second = await solid('red').jpeg().toBuffer();
    expect(await status(Buffer.concat([labelled, second]))).toBe('payload-changed');
  });

  it('a second XMP packet with a different label makes the file invalid as a whole, and a first one is not believed', async () => {
    const labelled = await signed(await jpeg());
    const other = xmpSegment(buildXmpPacket(formatLabel(await attackerLabel(labelled))));
    const afterFirst = spliced(labelled, find(labelled, Uint8Array.from([0xff, 0xdb])), other);
    const reportAfter = await report(afterFirst);
    // JPEG counts a second XMP segment as it is, so the content changes too.
    expect(reportAfter.label?.ProduceID).toBe('forge-1');
    expect(reportAfter.status).toMatch(/^(invalid|payload-changed)$/);
    expect(reportAfter.conflicts.map((c) => c.label?.ProduceID)).toEqual(['forged']);
    const beforeFirst = spliced(labelled, 2, other);
    expect(await status(beforeFirst)).toBe('unverified');
  });

  it('another XMP property added beside the label', async () => {
    const labelled = await signed(await jpeg());
    const extra = xmpSegment(buildXmpPacket('x').replace(/<rdf:Description[^]*<\/rdf:Description>/, '<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>'));
    expect(await status(spliced(labelled, find(labelled, Uint8Array.from([0xff, 0xdb])), extra))).toBe('payload-changed');
  });
});

/** A PNG chunk: length, type, data, CRC. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** `bytes` with the data of the first `type` chunk replaced (CRC renewed). */
function pngWith(bytes: Uint8Array, type: string, data: Uint8Array): Uint8Array {
  const at = find(bytes, type) - 4;
  const length = Buffer.from(bytes).readUInt32BE(at);
  return Buffer.concat([bytes.subarray(0, at), chunk(type, data), bytes.subarray(at + 12 + length)]);
}

describe('PNG', () => {
  const png = async (): Promise<Uint8Array> => {
    const base = await solid('teal').png().toBuffer();
    const u32 = (n: number): Buffer => Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
    const extras = [
      chunk('gAMA', u32(45455)),
      chunk('cHRM', Buffer.concat([31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000].map(u32))),
      chunk('pHYs', Buffer.concat([u32(2835), u32(2835), Buffer.from([1])])),
    ];
    return spliced(base, 33, Buffer.concat(extras));
  };

  it.each<[string, (b: Uint8Array) => Uint8Array]>([
    ['IHDR width', (b) => patched(b, find(b, 'IHDR') + 4, [0, 0, 0, 8])],
    ['gAMA', (b) => pngWith(b, 'gAMA', Buffer.from([0, 1, 0, 0]))],
    ['cHRM', (b) => pngWith(b, 'cHRM', Buffer.alloc(32, 1))],
    ['pHYs', (b) => pngWith(b, 'pHYs', Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 0]))],
    ['sRGB added', (b) => spliced(b, 33, chunk('sRGB', Buffer.from([3])))],
    ['iCCP added', (b) => spliced(b, 33, chunk('iCCP', Buffer.concat([latin1('x\0\0'), Buffer.from([0x78, 0x9c, 3, 0, 0, 0, 0, 1])])))],
    // libpng drops an ancillary chunk whose CRC is wrong: the gamma it gave is gone.
    ['gAMA CRC broken', (b) => patched(b, find(b, 'gAMA') + 8, [(b[find(b, 'gAMA') + 8] ?? 0) ^ 0xff])],
    ['a chunk after IEND', (b) => Buffer.concat([b, chunk('tEXt', latin1('Comment\0after the end'))])],
    ['bytes after IEND', (b) => Buffer.concat([b, latin1('trailing')])],
  ])('%s changed', async (_name, forge) => {
    const labelled = await signed(await png());
    expect(await status(labelled)).toBe('valid');
    expect(await status(forge(labelled))).toBe('payload-changed');
  });

  it('a copy of the label in a tEXt chunk put before IHDR, where decoders stop', async () => {
    const labelled = await signed(await png());
    const copy = chunk('tEXt', Buffer.concat([latin1('AIGC\0'), Buffer.from(formatLabel((await report(labelled)).label ?? createLabel({ producer: PRODUCER, produceId: 'x' })))]));
    await expect(status(spliced(labelled, 8, copy))).rejects.toMatchObject({ code: 'E_LABEL_FORMAT' });
  });

  it('an extra tEXt AIGC chunk and a second XMP iTXt with other labels make the file invalid as a whole', async () => {
    const labelled = await signed(await png());
    const forged = formatLabel(await attackerLabel(labelled));
    const text = chunk('tEXt', Buffer.concat([latin1('AIGC\0'), Buffer.from(forged)]));
    const itxt = chunk('iTXt', Buffer.concat([latin1('XML:com.adobe.xmp\0\0\0\0\0'), Buffer.from(buildXmpPacket(forged))]));
    const iend = find(labelled, 'IEND') - 4;
    for (const extra of [text, itxt]) {
      const result = await report(spliced(labelled, iend, extra));
      expect(result).toMatchObject({ label: { ProduceID: 'forge-1' }, producer: 'valid', status: 'invalid' });
      expect(result.conflicts.map((c) => c.label?.ProduceID)).toEqual(['forged']);
    }
  });
});

describe('WAV', () => {
  const wav = (): Uint8Array => {
    const samples = Buffer.alloc(800);
    for (let i = 0; i < 400; i++) samples.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), i * 2);
    return Buffer.concat([pcmWavHeader(8000, samples.length), samples]);
  };

  it('channel count changed in fmt', async () => {
    const labelled = await signed(wav());
    const fmt = find(labelled, 'fmt ') + 8;
    expect(await status(patched(labelled, fmt + 2, [2, 0]))).toBe('payload-changed');
  });

  it('a second data chunk inside the RIFF, and one after it', async () => {
    const labelled = Buffer.from(await signed(wav()));
    const extra = Buffer.concat([latin1('data'), Buffer.from([4, 0, 0, 0, 1, 2, 3, 4])]);
    const inside = Buffer.concat([labelled, extra]);
    inside.writeUInt32LE(inside.length - 8, 4);
    expect(await status(inside)).toBe('payload-changed');
    expect(await status(Buffer.concat([labelled, extra]))).toBe('payload-changed');
  });
});

/** The offset of the contents of the first box `type` (after its 8-byte header). */
const box = (bytes: Uint8Array, type: string, from = 0): number => find(bytes, type, from) + 4;

describe.runIf(ffmpeg)('MP4', () => {
  const mp4 = (): Uint8Array => {
    const sample = mediaOnce()['clip.mp4'];
    if (!sample) throw new Error('ffmpeg made no MP4');
    return sample;
  };

  it.each<[string, (b: Uint8Array) => Uint8Array]>([
    // mvhd and mdhd version 0: timescale 12 bytes into the contents (ISO/IEC 14496-12 §8.2.2, §8.4.2).
    ['movie timescale', (b) => patched(b, box(b, 'mvhd') + 12, [0, 0, 0, 1])],
    ['media timescale', (b) => patched(b, box(b, 'mdhd') + 12, [0, 0, 0, 1])],
    // elst version 0: entry count, then segment duration and media time (§8.6.6).
    ['edit list media time', (b) => patched(b, box(b, 'elst') + 12, [0, 0, 0, 9])],
  ])('%s changed', async (_name, forge) => {
    const labelled = await signed(mp4());
    expect(await status(labelled)).toBe('valid');
    expect(await status(forge(labelled))).toBe('payload-changed');
  });

  it('a second XMP uuid box with another label makes the file invalid as a whole', async () => {
    const labelled = await signed(mp4());
    const uuid = Buffer.from('be7acfcb97a942e89c71999491e3afac', 'hex');
    const packet = Buffer.from(buildXmpPacket(formatLabel(await attackerLabel(labelled))));
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + 16 + packet.length, 0);
    head.write('uuid', 4, 'latin1');
    const result = await report(Buffer.concat([labelled, head, uuid, packet]));
    expect(result).toMatchObject({ label: { ProduceID: 'forge-1' }, producer: 'valid', status: 'invalid' });
    expect(result.conflicts.map((c) => c.label?.ProduceID)).toEqual(['forged']);
  });

  it('a top-level box appended after the last one', async () => {
    const labelled = await signed(mp4());
    const extra = Buffer.concat([Buffer.from([0, 0, 0, 12]), latin1('abcd'), latin1('data')]);
    expect(await status(Buffer.concat([labelled, extra]))).toBe('payload-changed');
  });

  /**
   * The signed content shifts offsets past the moov region (moov and the free boxes after it)
   * as if the region were the bare moov, so an offset past it and an offset inside the region's
   * excluded bytes can normalise to the same number. A forger puts other samples in a free box
   * after moov and points a chunk there.
   */
  it('a chunk offset repointed into a free box after moov, where other samples are hidden', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-forge-mp4-'));
    let mp4: Uint8Array;
    try {
      const out = join(dir, 'a.mp4');
      execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=10:duration=4', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=4', '-c:v', 'libx264', '-g', '5', '-c:a', 'aac', '-movflags', '+faststart', out]);
      mp4 = readFileSync(out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const labelled = Buffer.from(await signed(mp4));
    expect(await status(labelled)).toBe('valid');
    const tops: { type: string; start: number; end: number }[] = [];
    for (let at = 0; at < labelled.length; ) {
      const size = labelled.readUInt32BE(at);
      tops.push({ type: labelled.toString('latin1', at + 4, at + 8), start: at, end: at + size });
      at += size;
    }
    const moov = tops.find((t) => t.type === 'moov');
    if (!moov) throw new Error('no moov');
    let regionEnd = moov.end;
    for (const t of tops) if (t.start === regionEnd && (t.type === 'free' || t.type === 'skip')) regionEnd = t.end;
    const bare = parseMoov(labelled.subarray(moov.start, moov.end), moov.start);
    setMoovLabel(bare, undefined);
    const bareEnd = moov.start + serializeBox(bare).length;
    const tables = [...labelled.subarray(moov.start, moov.end).toString('latin1').matchAll(/stco/g)].map((m) => moov.start + m.index + 4);
    const stco = tables[0] ?? 0;
    const count = labelled.readUInt32BE(stco + 4);
    const offsets = Array.from({ length: count }, (_, i) => labelled.readUInt32BE(stco + 8 + 4 * i));
    // The chunk to replace: one whose offset, normalised, lands past the bare moov's header room.
    const index = offsets.findIndex((o) => o - (regionEnd - bareEnd) >= moov.end + 8 + 64);
    expect(index, 'no chunk far enough into mdat').toBeGreaterThanOrEqual(0);
    const target = (offsets[index] ?? 0) - (regionEnd - bareEnd);
    const hidden = Buffer.from(labelled.subarray(offsets[index], (offsets[index] ?? 0) + 4096)).map((b) => b ^ 0x55);
    const freeSize = target - moov.end + hidden.length;
    const free = Buffer.alloc(freeSize);
    free.writeUInt32BE(freeSize, 0);
    free.write('free', 4, 'latin1');
    Buffer.from(hidden).copy(free, target - moov.end);
    const forged = Buffer.concat([labelled.subarray(0, moov.end), free, labelled.subarray(moov.end)]);
    // Every chunk moves with the inserted box, but one now points into it.
    for (const table of tables) {
      const n = forged.readUInt32BE(table + 4);
      for (let i = 0; i < n; i++) forged.writeUInt32BE(forged.readUInt32BE(table + 8 + 4 * i) + freeSize, table + 8 + 4 * i);
    }
    forged.writeUInt32BE(target, stco + 8 + 4 * index);
    expect(forged.subarray(target, target + 16).equals(labelled.subarray(offsets[index], (offsets[index] ?? 0) + 16))).toBe(false);
    await expect(status(forged)).rejects.toMatchObject({ code: 'E_LABEL_FORMAT', message: expect.stringMatching(/points into the 'moov' region/) });
  });

  it('bytes after the last box', async () => {
    const labelled = await signed(mp4());
    // Three bytes cannot hold a box header: the file is refused as malformed, never valid.
    await expect(status(Buffer.concat([labelled, latin1('xyz')]))).rejects.toMatchObject({ code: 'E_LABEL_FORMAT' });
  });
});

describe.runIf(ffmpeg)('Matroska', () => {
  it('TimestampScale changed', async () => {
    const mkv = mediaOnce()['clip.mkv'];
    if (!mkv) throw new Error('ffmpeg made no Matroska file');
    const labelled = await signed(mkv);
    expect(await status(labelled)).toBe('valid');
    // TimestampScale (2AD7B1) = 1 000 000, written in 3 bytes.
    const at = find(labelled, Uint8Array.from([0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40]));
    expect(await status(patched(labelled, at + 4, [0x1e, 0x84, 0x80]))).toBe('payload-changed');
  });
});

/** The boxes in `[start, end)` of `bytes` (32-bit sizes: the samples here are small). */
function boxesIn(bytes: Buffer, start: number, end: number): { type: string; start: number; end: number }[] {
  const out: { type: string; start: number; end: number }[] = [];
  for (let at = start; at + 8 <= end; ) {
    const size = bytes.readUInt32BE(at);
    out.push({ type: bytes.toString('latin1', at + 4, at + 8), start: at, end: at + size });
    at += size;
  }
  return out;
}

/** An item's base offset and first extent: where each field is and its value. */
interface Extent {
  baseAt: number;
  baseSize: number;
  base: number;
  at: number;
  size: number;
  offset: number;
  length: number;
}

/** `meta`'s children and, for each item in `iloc`, where its first extent's offset field is and its value. */
function heifLayout(bytes: Buffer): { meta: { start: number; end: number }; kids: { type: string; start: number; end: number }[]; extents: Map<number, Extent> } {
  const meta = boxesIn(bytes, 0, bytes.length).find((b) => b.type === 'meta');
  if (!meta) throw new Error('no meta');
  const kids = boxesIn(bytes, meta.start + 12, meta.end);
  const iloc = kids.find((k) => k.type === 'iloc');
  if (!iloc) throw new Error('no iloc');
  let at = iloc.start + 8;
  const version = bytes[at] ?? 0;
  at += 4;
  const offsetSize = (bytes[at] ?? 0) >> 4;
  const lengthSize = (bytes[at] ?? 0) & 15;
  const baseSize = (bytes[at + 1] ?? 0) >> 4;
  const indexSize = version === 0 ? 0 : (bytes[at + 1] ?? 0) & 15;
  at += 2;
  const uint = (size: number): number => {
    const value = size === 0 ? 0 : size === 2 ? bytes.readUInt16BE(at) : size === 4 ? bytes.readUInt32BE(at) : Number(bytes.readBigUInt64BE(at));
    at += size;
    return value;
  };
  const extents = new Map<number, Extent>();
  const count = uint(version < 2 ? 2 : 4);
  for (let i = 0; i < count; i++) {
    const id = uint(version < 2 ? 2 : 4);
    if (version > 0) uint(2);
    uint(2);
    const baseAt = at;
    const base = uint(baseSize);
    const n = uint(2);
    for (let e = 0; e < n; e++) {
      uint(indexSize);
      const field = at;
      const offset = uint(offsetSize);
      const length = uint(lengthSize);
      if (e === 0) extents.set(id, { baseAt, baseSize, base, at: field, size: offsetSize, offset, length });
    }
  }
  return { meta, kids, extents };
}

describe('HEIF / AVIF', () => {
  /**
   * The signed content re-encodes `iinf` (dropping any child but `infe`) and moves item offsets
   * past `meta` by how much `meta` shrank: a forger grows `iinf` with a box of hidden image data
   * and points the primary item at it, at the offset the real image normalises to.
   */
  it('the primary item repointed into a box hidden inside iinf', async () => {
    const image = (colour: string): Promise<Buffer> => sharp({ create: { width: 16, height: 16, channels: 3, background: colour } }).avif({ quality: 50 }).toBuffer();
    const labelled = Buffer.from(await signed(await image('red')));
    expect(await status(labelled)).toBe('valid');
    const before = heifLayout(labelled);
    const pitm = before.kids.find((k) => k.type === 'pitm');
    if (!pitm) throw new Error('no pitm');
    const primary = labelled.readUInt16BE(pitm.start + 12);
    const real = before.extents.get(primary);
    if (!real) throw new Error('no extent for the primary item');
    // Where the real image's offset lands in the signed content.
    const codec = await codecFor(bufferSource(labelled), codecList(undefined));
    const content: Uint8Array[] = [];
    await codec.signedContent?.(bufferSource(labelled), { write: (c) => (content.push(Uint8Array.from(c)), Promise.resolve()) });
    const normal = heifLayout(Buffer.concat(content)).extents.get(primary);
    if (!normal) throw new Error('no primary item in the signed content');
    const normalised = normal.base + normal.offset;
    const iinf = before.kids.find((k) => k.type === 'iinf');
    if (!iinf) throw new Error('no iinf');
    expect(normalised).toBeGreaterThan(iinf.end + 8);
    // The hidden image: a picture in another colour whose coded size is the same (the size is signed).
    let hidden: Uint8Array | undefined;
    for (let blue = 0; blue < 256 && !hidden; blue += 15) {
      const other = Buffer.from(await image(`rgb(0, 40, ${blue})`));
      const extent = heifLayout(other).extents.get(primary);
      if (extent?.length === real.length) hidden = other.subarray(extent.base + extent.offset, extent.base + extent.offset + real.length);
    }
    if (!hidden) throw new Error('no other colour codes to the same size');
    const grow = normalised - iinf.end + real.length + 8;
    const junk = Buffer.alloc(grow);
    junk.writeUInt32BE(grow, 0);
    junk.write('free', 4, 'latin1');
    Buffer.from(hidden).copy(junk, normalised - iinf.end);
    const forged = Buffer.concat([labelled.subarray(0, iinf.end), junk, labelled.subarray(iinf.end)]);
    forged.writeUInt32BE(forged.readUInt32BE(iinf.start) + grow, iinf.start);
    forged.writeUInt32BE(forged.readUInt32BE(before.meta.start) + grow, before.meta.start);
    const put = (at: number, size: number, value: number): void => {
      if (size === 4) forged.writeUInt32BE(value, at);
      else if (size === 8) forged.writeBigUInt64BE(BigInt(value), at);
      else expect(value).toBe(0);
    };
    for (const [id, extent] of heifLayout(forged).extents) {
      if (id === primary) {
        // The same (base, offset) pair the real image normalises to, now inside the hidden box.
        put(extent.baseAt, extent.baseSize, normal.base);
        put(extent.at, extent.size, normal.offset);
      } else if (extent.base >= before.meta.end) put(extent.baseAt, extent.baseSize, extent.base + grow);
      else if (extent.base + extent.offset >= before.meta.end) put(extent.at, extent.size, extent.offset + grow);
    }
    // The forged file shows the other picture: blue where the signed one was red.
    const [red] = await sharp(forged).raw().toBuffer();
    expect(red).toBeLessThan(50);
    await expect(status(forged)).rejects.toMatchObject({ code: 'E_LABEL_FORMAT', message: expect.stringMatching(/inside the 'meta' box/) });
  });
});

describe('OOXML: the central directory, which is not signed, names the parts', () => {
  /** A DOCX with two pictures under names of the same length, stored (method 0), made with Python's zipfile. */
  const docx = (): Buffer =>
    execFileSync('python3', [
      '-c',
      `
import io, sys, zipfile
b = io.BytesIO()
with zipfile.ZipFile(b, 'w', zipfile.ZIP_STORED) as z:
    z.writestr('[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    z.writestr('_rels/.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    z.writestr('word/document.xml', '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>sample</w:t></w:r></w:p></w:body></w:document>')
    z.writestr('word/media/image1.png', b'first picture')
    z.writestr('word/media/image2.png', b'other picture, longer')
sys.stdout.buffer.write(b.getvalue())
`,
    ]);

  /** Each central directory record: where it starts, its name, and the end of central directory record. */
  function central(bytes: Buffer): { eocd: number; start: number; records: { at: number; length: number; name: string }[] } {
    const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const start = bytes.readUInt32LE(eocd + 16);
    const records: { at: number; length: number; name: string }[] = [];
    for (let at = start; at < eocd; ) {
      const length = 46 + bytes.readUInt16LE(at + 28) + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
      records.push({ at, length, name: bytes.toString('latin1', at + 46, at + 46 + bytes.readUInt16LE(at + 28)) });
      at += length;
    }
    return { eocd, start, records };
  }

  it('two pictures swapped by exchanging their names in the central directory', async () => {
    const labelled = Buffer.from(await signed(docx()));
    expect(await status(labelled)).toBe('valid');
    const { records } = central(labelled);
    const one = records.find((r) => r.name === 'word/media/image1.png');
    const two = records.find((r) => r.name === 'word/media/image2.png');
    if (!one || !two) throw new Error('no pictures');
    const forged = Buffer.from(labelled);
    forged.write('word/media/image2.png', one.at + 46, 'latin1');
    forged.write('word/media/image1.png', two.at + 46, 'latin1');
    await expect(status(forged)).rejects.toMatchObject({ code: 'E_LABEL_FORMAT', message: expect.stringMatching(/local header/) });
  });

  it('a picture dropped from the central directory (its record stays where the hash sees it)', async () => {
    const labelled = Buffer.from(await signed(docx()));
    const { eocd, start, records } = central(labelled);
    const dropped = records.find((r) => r.name === 'word/media/image2.png');
    if (!dropped) throw new Error('no picture');
    const end = Buffer.from(labelled.subarray(eocd));
    end.writeUInt16LE(records.length - 1, 8);
    end.writeUInt16LE(records.length - 1, 10);
    end.writeUInt32LE(labelled.readUInt32LE(eocd + 12) - dropped.length, 12);
    const forged = Buffer.concat([labelled.subarray(0, dropped.at), labelled.subarray(dropped.at + dropped.length, eocd), end]);
    expect(forged.readUInt32LE(forged.length - 22 + 16)).toBe(start);
    await expect(status(forged)).rejects.toMatchObject({ code: 'E_LABEL_FORMAT', message: expect.stringMatching(/not listed/) });
  });

  it('a stored picture cut short by the central directory sizes and CRC alone', async () => {
    const labelled = Buffer.from(await signed(docx()));
    const { records } = central(labelled);
    const two = records.find((r) => r.name === 'word/media/image2.png');
    if (!two) throw new Error('no picture');
    const forged = Buffer.from(labelled);
    forged.writeUInt32LE(crc32(Buffer.from('other')), two.at + 16);
    forged.writeUInt32LE(5, two.at + 20);
    forged.writeUInt32LE(5, two.at + 24);
    await expect(status(forged)).rejects.toMatchObject({ code: 'E_LABEL_FORMAT', message: expect.stringMatching(/local header/) });
  });
});

describe.runIf(ffmpeg)('MP3', () => {
  it('the ID3v2.4 unsynchronisation flag set on a tag whose frames hold FF 00 (the title readers show changes)', async () => {
    const mp3 = mediaOnce()['tone.mp3'];
    if (!mp3) throw new Error('ffmpeg made no MP3');
    const title = Buffer.concat([Buffer.from([0]), latin1('A'), Buffer.from([0xff, 0x00]), latin1('B')]);
    const frame = Buffer.concat([latin1('TIT2'), Buffer.from([0, 0, 0, title.length, 0, 0]), title]);
    const tag = Buffer.concat([latin1('ID3'), Buffer.from([4, 0, 0, 0, 0, 0, frame.length]), frame]);
    const labelled = await signed(Buffer.concat([tag, mp3]));
    expect(await status(labelled)).toBe('valid');
    // Tag flags (ID3v2.4 §3.1): bit 7, unsynchronisation; every FF 00 in a frame then reads as FF.
    expect(await status(patched(labelled, 5, [0x80]))).toBe('payload-changed');
  });
});

/** The Ogg page CRC (RFC 3533 §6: polynomial 0x04C11DB7, not reflected, initial 0). */
function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let i = 0; i < 8; i++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** `bytes` with the last Ogg page's granule position moved by `delta` and its CRC renewed. */
function lastGranule(bytes: Uint8Array, delta: number): Uint8Array {
  const out = Buffer.from(bytes);
  const page = out.lastIndexOf(latin1('OggS'));
  out.writeBigInt64LE(out.readBigInt64LE(page + 6) + BigInt(delta), page + 6);
  out.writeUInt32LE(0, page + 22);
  out.writeUInt32LE(oggCrc(out.subarray(page)), page + 22);
  return out;
}

describe('other containers: a decoding parameter changed after signing', () => {
  const u16le = (b: Uint8Array, at: number, value: number): Uint8Array => patched(b, at, [value & 0xff, value >> 8]);
  const cases: [string, () => Promise<Uint8Array | undefined>, (b: Uint8Array) => Uint8Array][] = [
    ['WAV RIFF size cut to end inside the data chunk', async () => mediaOnce()['tone.wav'], (b) => patched(b, 4, [100, 0, 0, 0])],
    // STREAMINFO: sample rate is the top 20 bits at byte 10 of the block (RFC 9639 §8.2).
    ['FLAC STREAMINFO sample rate', async () => mediaOnce()['tone.flac'], (b) => patched(b, find(b, 'fLaC') + 8 + 10, [0x03, 0xe8])],
    // OpusHead output gain (RFC 7845 §5.1, bytes 16-17, Q7.8 dB): +6 dB.
    ['Opus output gain', async () => mediaOnce()['tone.opus'], (b) => u16le(b, find(b, 'OpusHead') + 16, 6 * 256)],
    ['Vorbis identification sample rate', async () => mediaOnce()['tone.ogg'], (b) => patched(b, find(b, '\x01vorbis') + 12, [0x80, 0x3e])],
    ['Ogg Opus end trimming: the last page granule position (CRC renewed)', async () => mediaOnce()['tone.opus'], (b) => lastGranule(b, -960)],
    ['WebP VP8X canvas width', () => solid('red').webp().toBuffer(), (b) => patched(b, find(b, 'VP8X') + 12, [40])],
    ['GIF frame delay', () => sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } }).gif({ delay: [100], loop: 0 }).toBuffer(), (b) => patched(b, find(b, Uint8Array.from([0x21, 0xf9, 0x04])) + 4, [0xff])],
  ];

  it.each(cases)('%s', async (_name, make, forge) => {
    const input = await make();
    if (!input) throw new Error('no sample');
    const labelled = await signed(input);
    expect(await status(labelled)).toBe('valid');
    const result = await status(forge(labelled)).catch((error: { code?: string }) => error.code);
    expect(result).toMatch(/^(payload-changed|E_LABEL_FORMAT)$/);
  });
});

describe('label swapping and field edits', () => {
  it("a signed label moved from file A into file B", async () => {
    const a = await signed(await solid('red').png().toBuffer());
    const b = await solid('blue').png().toBuffer();
    const label = (await report(a)).label;
    if (!label) throw new Error('no label in A');
    const codec = await codecFor(bufferSource(b), codecList(undefined));
    expect(await status(await writeLabel(codec, b, formatLabel(label)))).toBe('payload-changed');
  });

  it.each<[string, Partial<ImplicitLabel>]>([
    ['ContentProducer', { ContentProducer: PROPAGATOR.replace(/2(?=P001$)/, '1') }],
    ['ProduceID', { ProduceID: 'forge-2' }],
    ['Label', { Label: '3' }],
    ['ContentPropagator', { ContentPropagator: '001191350100M000100Y432A001' }],
    ['PropagateID', { PropagateID: 'p-2' }],
  ])('one field of a propagated label changed: %s', async (_field, change) => {
    const file = await propagated(await signed(await solid('green').png().toBuffer()));
    const label = (await report(file)).label;
    if (!label) throw new Error('no label');
    const codec = await codecFor(bufferSource(file), codecList(undefined));
    const forged = await report(await writeLabel(codec, file, formatLabel({ ...label, ...change })));
    expect(forged.status).toBe('invalid');
  });

  it.each<[string, (json: string) => string]>([
    // A reader that takes the first of two equal keys (cJSON does) would show the forger's producer.
    ['ContentProducer named twice, the forged one first', (json) => json.replace('"ContentProducer"', `"ContentProducer":"${PROPAGATOR.replace(/2(?=P001$)/, '1')}","ContentProducer"`)],
    ['the same, with the second key escaped', (json) => json.replace('"ContentProducer"', `"ContentProducer":"${PROPAGATOR.replace(/2(?=P001$)/, '1')}","\\u0043ontentProducer"`)],
    ['fields beside the AIGC wrapper that differ from those inside', (json) => `{"AIGC":${json},"Label":"3"}`],
  ])('label JSON another reader would read differently: %s', async (_name, rewrite) => {
    const file = await signed(await solid('olive').png().toBuffer());
    const label = (await report(file)).label;
    if (!label) throw new Error('no label');
    const codec = await codecFor(bufferSource(file), codecList(undefined));
    const forged = await report(await writeLabel(codec, file, rewrite(formatLabel(label))));
    expect(forged.status).not.toMatch(/^(valid|payload-only)$/);
    expect(forged.presence).toBe('unreadable');
  });

  it.each<[string, (code: string) => string]>([
    ['hegui2 relabelled hegui1', (c) => c.replace(/^hegui2:/, 'hegui1:')],
    ['a sixth field declaring exclusions', (c) => `${c}:exclude=IDAT`],
    ['a scheme the verifier does not know', (c) => c.replace(/^hegui2:/, 'hegui3:')],
    ['the producer signature moved to the propagator field', (c) => c],
  ])('security data rewritten: %s', async (name, rewrite) => {
    const file = await signed(await solid('navy').png().toBuffer());
    const label = (await report(file)).label;
    if (!label) throw new Error('no label');
    const codec = await codecFor(bufferSource(file), codecList(undefined));
    const forgedLabel = name.startsWith('the producer')
      ? { ...label, ContentPropagator: PROPAGATOR, PropagateID: 'p-9', ReservedCode2: label.ReservedCode1 }
      : { ...label, ReservedCode1: rewrite(label.ReservedCode1) };
    const forged = await report(await writeLabel(codec, file, formatLabel(forgedLabel)));
    expect(forged.status).not.toMatch(/^(valid|payload-only)$/);
    expect(forged.producer === 'valid' && forged.propagator === 'valid').toBe(false);
  });
});

describe('hostile XMP', () => {
  const label = formatLabel(createLabel({ producer: PRODUCER, produceId: 'x' }));
  const inJpeg = async (packet: Uint8Array): Promise<Uint8Array> => {
    const base = await solid('gray').jpeg().toBuffer();
    const header = latin1('http://ns.adobe.com/xap/1.0/\0');
    // Over 64 KB a single APP1 cannot hold it: the PNG carrier below takes the huge ones.
    return spliced(base, 2, segment(0xe1, Buffer.concat([header, packet])));
  };
  const inPng = async (packet: Uint8Array): Promise<Uint8Array> => {
    const base = await solid('gray').png().toBuffer();
    return spliced(base, 33, chunk('iTXt', Buffer.concat([latin1('XML:com.adobe.xmp\0\0\0\0\0'), packet])));
  };
  const wrap = (inner: string): string => buildXmpPacket(label).replace(/<rdf:Description[^]*<\/rdf:Description>/, inner);

  const cases: [string, () => Uint8Array][] = [
    ['billion laughs', () => Buffer.from(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>${wrap(`<rdf:Description xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"><TC260:AIGC>&c;</TC260:AIGC></rdf:Description>`)}`)],
    ['deeply nested', () => Buffer.from(wrap(`${'<a:b xmlns:a="urn:a">'.repeat(200_000)}${'</a:b>'.repeat(200_000)}`))],
    ['unclosed nesting', () => Buffer.from(wrap('<a:b xmlns:a="urn:a">'.repeat(100_000)))],
    ['UTF-16', () => Buffer.from(`\uFEFF${buildXmpPacket(label)}`, 'utf16le')],
    ['invalid UTF-8', () => Buffer.concat([Buffer.from(buildXmpPacket(label).slice(0, 200)), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(buildXmpPacket(label).slice(200))])],
    ['a label with a huge value', () => Buffer.from(buildXmpPacket(label.replace('"x"', `"${'y'.repeat(8_000_000)}"`)))],
    ['many attributes', () => Buffer.from(wrap(`<rdf:Description ${Array.from({ length: 50_000 }, (_, i) => `xmlns:n${i}="urn:${i}"`).join(' ')}/>`))],
    // Each child that declares a namespace would copy the 20 000 its parent declared.
    ['namespace scopes multiplied', () => Buffer.from(wrap(`<rdf:Description ${Array.from({ length: 20_000 }, (_, i) => `xmlns:n${i}="urn:${i}"`).join(' ')}>${'<n1:a xmlns:m="urn:m"/>'.repeat(20_000)}</rdf:Description>`))],
    ['an unterminated comment', () => Buffer.from(`${buildXmpPacket(label)}<!--${'-'.repeat(1_000_000)}`)],
  ];

  // The test timeout is the guard against a hang; no timing is asserted (STYLE: speed only in bench/).
  it.each(cases)('%s: a typed error or an unreadable label', async (_name, make) => {
    const packet = make();
    const file = packet.length < 60_000 ? await inJpeg(packet) : await inPng(packet);
    try {
      const result = await readLabels(file, { keys });
      expect(['label', 'unreadable', 'none']).toContain(result.presence);
      expect(result.status).not.toBe('valid');
    } catch (error) {
      expect((error as { code?: string }).code, String(error)).toMatch(/^[A-Z_]+$/);
    }
  }, 30_000);
});
