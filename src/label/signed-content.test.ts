/**
 * Security data covers what a person perceives (issue 11): every forged file here keeps its
 * samples, pixels or frames byte for byte and changes only how they are decoded or shown, so
 * a hash over the media payload alone (`hegui1`) would still call it valid.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { embedLabel, propagateLabel, readLabels } from './api.js';
import { bufferSource } from './implicit/bytes.js';
import { codecFor, codecList } from './implicit/registry.js';
import { readIfd, readTiffHeader } from './implicit/tiff-ifd.js';
import { createLabel, formatLabel } from './model.js';
import { payloadDigest, signLabel } from './security.js';
import { generateLabelKeys, parseSigningKey, parseVerifyKey } from './security-keys.js';
import { writeLabel } from './implicit/media-testkit.js';
import { find, patched } from '../../test/helpers/bytes.js';
import { pcmWavHeader } from '../../test/helpers/wav.js';
import { documentSamples, imageSamples, mediaSamples, PRODUCER, PROPAGATOR } from '../../test/label-samples.js';
import { systemTool } from '../../test/helpers/system.js';

const pem = generateLabelKeys('ed25519');
const key = parseSigningKey(pem.privateKeyPem);
const verifier = parseVerifyKey(pem.publicKeyPem);
const ffmpeg = systemTool('ffmpeg', 'ffmpeg');
const exiftool = systemTool('exiftool', 'libimage-exiftool-perl');
let media: Record<string, Uint8Array> | undefined;
/** ffmpeg's samples, made once for the file. */
const mediaOnce = (): Record<string, Uint8Array> => (media ??= mediaSamples());

async function signed(bytes: Uint8Array): Promise<Uint8Array> {
  const { bytes: out } = await embedLabel(bytes, { producer: PRODUCER, produceId: 'forge-1', key });
  if (!out) throw new Error('embedLabel returned no bytes');
  return out;
}

async function status(bytes: Uint8Array): Promise<string> {
  return (await readLabels(bytes, { keys: [verifier] })).producer;
}

/** The offset of the first occurrence of `needle` in `bytes` at or after `from`. */
describe('a changed decoding parameter breaks the signature', () => {
  it('WAV header claiming twice the sample rate', async () => {
    const samples = Buffer.alloc(800);
    for (let i = 0; i < 400; i++) samples.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), i * 2);
    const wav = await signed(Buffer.concat([pcmWavHeader(8000, samples.length), samples]));
    expect(await status(wav)).toBe('valid');
    const view = Buffer.from(wav);
    const fmt = find(wav, 'fmt ') + 8;
    const doubled = Buffer.from(view);
    doubled.writeUInt32LE(view.readUInt32LE(fmt + 4) * 2, fmt + 4);
    doubled.writeUInt32LE(view.readUInt32LE(fmt + 8) * 2, fmt + 8);
    expect(await status(doubled)).toBe('payload-changed');
  });

  it('JPEG EXIF orientation turned from 1 to 6', async () => {
    const jpeg = await sharp({ create: { width: 24, height: 16, channels: 3, background: 'olive' } })
      .withExif({ IFD0: { Make: 'forge' } })
      .withMetadata({ orientation: 1 })
      .jpeg()
      .toBuffer();
    const labelled = await signed(jpeg);
    expect(await status(labelled)).toBe('valid');
    const little = Buffer.from(labelled).includes(Buffer.from('II*\0', 'latin1'));
    const entry = little ? [0x12, 0x01, 0x03, 0x00, 0x01, 0, 0, 0, 0x01, 0x00] : [0x01, 0x12, 0x00, 0x03, 0, 0, 0, 0x01, 0x00, 0x01];
    const at = find(labelled, Uint8Array.from(entry));
    const rotated = patched(labelled, at + 8, little ? [0x06, 0x00] : [0x00, 0x06]);
    expect((await sharp(rotated).metadata()).orientation).toBe(6);
    expect(await status(rotated)).toBe('payload-changed');
  });

  it('JPEG ICC profile changed', async () => {
    const jpeg = await sharp({ create: { width: 24, height: 16, channels: 3, background: 'teal' } }).withIccProfile('srgb').jpeg().toBuffer();
    const labelled = await signed(jpeg);
    expect(await status(labelled)).toBe('valid');
    // The profile's rendering intent (ICC.1 §7.2.15, byte 64 of the profile): perceptual to absolute colorimetric.
    const profile = find(labelled, 'ICC_PROFILE\0') + 14;
    const forged = patched(labelled, profile + 67, [3]);
    expect(await status(forged)).toBe('payload-changed');
  });

  it('TIFF PhotometricInterpretation changed in the labelled IFD0', async () => {
    const tiff = await sharp({ create: { width: 20, height: 12, channels: 3, background: 'navy' } }).tiff().toBuffer();
    const labelled = await signed(tiff);
    expect(await status(labelled)).toBe('valid');
    const source = bufferSource(labelled);
    const header = await readTiffHeader(source, 0, 'tiff');
    const photometric = (await readIfd(source, header, header.ifd0, 'tiff')).entries.find((e) => e.tag === 0x0106);
    if (!photometric) throw new Error('sharp wrote no PhotometricInterpretation');
    const forged = patched(labelled, photometric.valueOffset, header.little ? [1, 0] : [0, 1]);
    expect(await status(forged)).toBe('payload-changed');
  });

  it.runIf(ffmpeg)('MP4 track matrix rotated 180 degrees', async () => {
    const mp4 = mediaOnce()['clip.mp4'];
    if (!mp4) throw new Error('ffmpeg made no MP4');
    const labelled = await signed(mp4);
    expect(await status(labelled)).toBe('valid');
    // tkhd version 0: the matrix starts 40 bytes into the box contents (ISO/IEC 14496-12 §8.3.2).
    const matrix = find(labelled, 'tkhd') + 4 + 40;
    const minusOne = [0xff, 0xff, 0x00, 0x00];
    const forged = patched(patched(labelled, matrix, minusOne), matrix + 16, minusOne);
    expect(await status(forged)).toBe('payload-changed');
  });

  it.runIf(ffmpeg)('Matroska audio sampling frequency doubled', async () => {
    const mkv = mediaOnce()['clip.mkv'];
    if (!mkv) throw new Error('ffmpeg made no Matroska file');
    const labelled = await signed(mkv);
    expect(await status(labelled)).toBe('valid');
    // SamplingFrequency (0xB5) as an 8-byte float: 8000.0.
    const rate = Buffer.alloc(8);
    rate.writeDoubleBE(8000);
    const at = find(labelled, Buffer.concat([Buffer.from([0xb5, 0x88]), rate]));
    const doubled = Buffer.alloc(8);
    doubled.writeDoubleBE(16000);
    expect(await status(patched(labelled, at + 2, [...doubled]))).toBe('payload-changed');
  });

  it('PDF with an appended revision dressed as a hegui update', async () => {
    const pdf = documentSamples()['page.pdf'];
    if (!pdf) throw new Error('no PDF sample');
    const labelled = await signed(pdf);
    expect(await status(labelled)).toBe('valid');
    const text = Buffer.from(labelled).toString('latin1');
    const prev = /startxref\n(\d+)\n%%EOF\n$/.exec(text)?.[1];
    const body = '<< /Length 33 >>\nstream\nBT /F1 9 Tf 5 5 Td (FORGED) Tj ET\nendstream';
    const object = `4 0 obj\n${body}\nendobj\n`;
    const xref = labelled.length + object.length;
    const update =
      object +
      `xref\n4 1\n${String(labelled.length).padStart(10, '0')} 00000 n\r\ntrailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /Prev ${prev} >>\n` +
      `%hegui-aigc-update ${labelled.length}\nstartxref\n${xref}\n%%EOF\n`;
    expect(await status(Buffer.concat([labelled, Buffer.from(update, 'latin1')]))).toBe('payload-changed');
  });
});

describe('labelling and propagating keep every signature valid', () => {
  let samples: Record<string, Uint8Array> = {};
  beforeAll(async () => {
    samples = { ...(await imageSamples()), ...mediaOnce(), ...documentSamples() };
  });

  it('in every container', async () => {
    const propagatorPem = generateLabelKeys('ed25519');
    const platform = parseSigningKey(propagatorPem.privateKeyPem);
    const keys = [verifier, parseVerifyKey(propagatorPem.publicKeyPem)];
    for (const [name, bytes] of Object.entries(samples)) {
      const labelled = await signed(bytes);
      expect(await readLabels(labelled, { keys }), name).toMatchObject({ producer: 'valid', propagator: 'valid' });
      const { bytes: propagated } = await propagateLabel(labelled, { propagator: PROPAGATOR, propagateId: 'p-1', key: platform });
      if (!propagated) throw new Error('propagateLabel returned no bytes');
      expect(await readLabels(propagated, { keys }), name).toMatchObject({ status: 'valid', producer: 'valid', propagator: 'valid' });
    }
  });
});

describe.runIf(exiftool)('files that already carry XMP from another tool', () => {
  it('sign and verify, before and after propagation, however large the packet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-xmp-'));
    try {
      const solid = () => sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } });
      const files: Record<string, Uint8Array> = {
        'a.jpg': await solid().jpeg().toBuffer(),
        'a.png': await solid().png().toBuffer(),
        'a.webp': await solid().webp().toBuffer(),
        'a.gif': await solid().gif().toBuffer(),
        'a.tif': await solid().tiff().toBuffer(),
        'a.avif': await solid().avif().toBuffer(),
        ...(ffmpeg ? { 'a.mp4': mediaOnce()['clip.mp4'] ?? new Uint8Array(), 'a.m4a': mediaOnce()['tone.m4a'] ?? new Uint8Array() } : {}),
      };
      for (const [name, bytes] of Object.entries(files)) {
        // A packet with room to spare, and one too full for the label to fit its padding.
        for (const title of ['short', 'x'.repeat(5000)]) {
          const path = join(dir, name);
          writeFileSync(path, bytes);
          execFileSync('exiftool', ['-q', '-overwrite_original', `-XMP-dc:Title=${title}`, path]);
          const labelled = await signed(readFileSync(path));
          expect(await status(labelled), `${name} ${title.length}`).toBe('valid');
          const { bytes: propagated } = await propagateLabel(labelled, { propagator: PROPAGATOR, propagateId: 'p-2', key });
          expect(await readLabels(propagated ?? new Uint8Array(), { keys: [verifier] }), name).toMatchObject({ producer: 'valid', propagator: 'valid' });
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('older hegui1 signatures', () => {
  it('still verify, reported as payload-only rather than valid', async () => {
    const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } }).tiff().toBuffer();
    const codec = await codecFor(bufferSource(tiff), codecList(undefined));
    const digest = await payloadDigest(bufferSource(tiff), codec, 'ed25519');
    const label = signLabel(createLabel({ producer: PRODUCER, produceId: 'old-1' }), 'producer', key, digest, 'payload');
    expect(label.ReservedCode1.startsWith('hegui1:')).toBe(true);
    const old = await writeLabel(codec, tiff, formatLabel(label));
    expect(await status(old)).toBe('payload-only');
    expect((await readLabels(old, { keys: [verifier] })).status).toBe('payload-only');
  });
});
