/**
 * Image codecs end to end: JPEG, PNG (and APNG), WebP (lossy, lossless, animated), GIF
 * (animated), TIFF and HEIF (AVIF). The media payload must decode identically after embedding,
 * propagating and stripping; labels must be found where GB 45438 and the TC260 guide put them,
 * and in the non-standard places some producers use.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bufferSource,
  codecFor,
  embedLabel,
  generateLabelKeys,
  parseSigningKey,
  parseVerifyKey,
  propagateLabel,
  readLabels,
  stripLabel,
  verifyLabel,
} from '../src/label/index.js';
import { embedLabelFile, propagateLabelFile, readLabelFile } from '../src/label/files.js';
import { crc32 } from '../src/label/implicit/bytes.js';
import { systemTool } from './helpers/system.js';
import { PRODUCER, PROPAGATOR, imageSamples, missing } from './label-samples.js';

const producerKeys = generateLabelKeys('ed25519');
const platformKeys = generateLabelKeys('sm2');
const producerKey = parseSigningKey(producerKeys.privateKeyPem);
const platformKey = parseSigningKey(platformKeys.privateKeyPem);
const verifyKeys = [parseVerifyKey(producerKeys.publicKeyPem), parseVerifyKey(platformKeys.publicKeyPem)];

const STANDARD_LOCATION: Record<string, string> = {
  jpeg: 'xmp:APP1',
  png: 'xmp:iTXt',
  webp: 'xmp:XMP',
  gif: 'xmp:GIF-application-extension',
  tiff: 'xmp:TIFF-tag-0x2BC',
  heif: 'xmp:HEIF-item',
};

let samples: Record<string, Uint8Array> = {};
const hasFfmpeg = systemTool('ffmpeg', 'ffmpeg');
const hasExiftool = systemTool('exiftool', 'libimage-exiftool-perl');
const hasMagick = systemTool('convert', 'imagemagick');

beforeAll(async () => {
  samples = await imageSamples();
  if (!samples['animated.png']) console.warn(missing('ffmpeg'));
}, 60_000);

/** What a viewer shows: every frame's pixels (ffmpeg frame hashes for APNG, which libvips shows as one frame). */
async function decoded(name: string, bytes: Uint8Array): Promise<string> {
  if (name === 'animated.png') {
    // ffmpeg's APNG demuxer needs a seekable file, not a pipe.
    const path = join(mkdtempSync(join(tmpdir(), 'hegui-apng-')), 'frames.png');
    writeFileSync(path, bytes);
    return execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'framemd5', '-']).toString().replace(/^#.*\n/gm, '');
  }
  const image = sharp(bytes, { animated: true, pages: -1 });
  return (await image.raw().toBuffer()).toString('base64');
}

const names = (): string[] => Object.keys(samples);

describe('image codecs', () => {
  it('covers every image variant', () => {
    expect(names().length).toBeGreaterThanOrEqual(12);
  });

  it('embeds a signed label in the standard place without changing a pixel', async () => {
    for (const name of names()) {
      const original = samples[name] ?? new Uint8Array();
      const copy = Buffer.from(original);
      const { bytes, format, label } = await embedLabel(original, { producer: PRODUCER, produceId: `id-${name}`, key: producerKey });
      expect(Buffer.from(original).equals(copy), `${name}: input untouched`).toBe(true);
      const report = await verifyLabel(bytes ?? new Uint8Array(), verifyKeys);
      expect(report.label, name).toEqual(label);
      expect(report.location, name).toBe(STANDARD_LOCATION[format]);
      expect(report.status, name).toBe('valid');
      expect(await decoded(name, bytes ?? new Uint8Array()), `${name}: pixels`).toBe(await decoded(name, original));
    }
  });

  it('replaces rather than adds: one label per file', async () => {
    for (const name of names()) {
      const once = (await embedLabel(samples[name] ?? new Uint8Array(), { producer: PRODUCER, produceId: 'first' })).bytes ?? new Uint8Array();
      const twice = (await embedLabel(once, { producer: PRODUCER, produceId: 'second' })).bytes ?? new Uint8Array();
      const report = await readLabels(twice);
      expect(report.found.map((f) => f.label?.ProduceID), name).toEqual(['second']);
    }
  });

  it("propagates: keeps the producer's fields and signature, adds the platform's", async () => {
    for (const name of names()) {
      const labelled = (await embedLabel(samples[name] ?? new Uint8Array(), { producer: PRODUCER, produceId: 'p', key: producerKey })).bytes ?? new Uint8Array();
      const { bytes } = await propagateLabel(labelled, { propagator: PROPAGATOR, propagateId: 'plat-7', key: platformKey });
      const report = await verifyLabel(bytes ?? new Uint8Array(), verifyKeys);
      expect(report.label, name).toMatchObject({ ContentProducer: PRODUCER, ProduceID: 'p', ContentPropagator: PROPAGATOR, PropagateID: 'plat-7' });
      expect({ producer: report.producer, propagator: report.propagator }, name).toEqual({ producer: 'valid', propagator: 'valid' });
      expect(await decoded(name, bytes ?? new Uint8Array()), `${name}: pixels`).toBe(await decoded(name, samples[name] ?? new Uint8Array()));
    }
  });

  it('strips every label and keeps the image', async () => {
    for (const name of names()) {
      const original = samples[name] ?? new Uint8Array();
      const labelled = (await embedLabel(original, { producer: PRODUCER, produceId: 'p' })).bytes ?? new Uint8Array();
      const stripped = (await stripLabel(labelled)).bytes ?? new Uint8Array();
      expect((await readLabels(stripped)).found, name).toEqual([]);
      expect(await decoded(name, stripped), `${name}: pixels`).toBe(await decoded(name, original));
      if (!name.endsWith('.tif')) expect(Buffer.from(stripped).equals(Buffer.from(original)), `${name}: byte-identical after strip`).toBe(true);
    }
  });

  it('detects a changed payload after signing', async () => {
    for (const name of ['plain.jpg', 'rgb.png', 'strip.tif']) {
      const labelled = Buffer.from((await embedLabel(samples[name] ?? new Uint8Array(), { producer: PRODUCER, produceId: 'p', key: producerKey })).bytes ?? []);
      const codec = await codecFor(bufferSource(labelled));
      const ranges = await codec.payloadRanges(bufferSource(labelled));
      const largest = ranges.reduce((a, b) => (b.end - b.start > a.end - a.start ? b : a));
      const middle = Math.floor((largest.start + largest.end) / 2);
      labelled[middle] = (labelled[middle] ?? 0) ^ 0x01;
      expect((await verifyLabel(labelled, verifyKeys)).status, name).toBe('payload-changed');
    }
  });

  it('patches a label in place when it fits in the XMP padding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-inplace-'));
    for (const name of names()) {
      const path = join(dir, name);
      writeFileSync(path, (await embedLabel(samples[name] ?? new Uint8Array(), { producer: PRODUCER, produceId: 'before' })).bytes ?? new Uint8Array());
      const result = await embedLabelFile(path, { producer: PRODUCER, produceId: 'after' }, { inPlace: true });
      expect(result.method, name).toBe('patched');
      expect((await propagateLabelFile(path, { propagator: PROPAGATOR, propagateId: 'plat' }, { inPlace: true })).method, name).toBe('patched');
      expect((await readLabelFile(path)).label, name).toMatchObject({ ProduceID: 'after', ContentPropagator: PROPAGATOR, PropagateID: 'plat' });
      if (hasMagick && !name.endsWith('.webp')) {
        // -regard-warnings turns a bad PNG chunk CRC or a broken structure into a failure.
        execFileSync('identify', ['-regard-warnings', path], { stdio: 'ignore' });
      }
      if (hasExiftool) {
        const [tags] = JSON.parse(execFileSync('exiftool', ['-j', '-XMP-TC260:all', path]).toString()) as [Record<string, string>];
        expect(JSON.parse(tags.Aigc ?? '{}'), name).toMatchObject({ PropagateID: 'plat' });
      }
    }
  });
});

describe('non-standard places', () => {
  const wrapped = `{"AIGC":{"Label":"1","ContentProducer":"${PRODUCER}","ProduceID":"legacy"}}`;

  it('reads a PNG tEXt chunk keyed AIGC, and removes it when writing the standard place', async () => {
    const png = Buffer.from(samples['rgb.png'] ?? []);
    const data = Buffer.concat([Buffer.from('AIGC\0'), Buffer.from(wrapped)]);
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length);
    head.write('tEXt', 4);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data, crc32(Buffer.from('tEXt'))));
    const withText = Buffer.concat([png.subarray(0, 33), head, data, crc, png.subarray(33)]);
    const report = await readLabels(withText);
    expect(report).toMatchObject({ location: 'png:tEXt:AIGC', label: { ProduceID: 'legacy' } });
    const relabelled = (await embedLabel(withText, { producer: PRODUCER, produceId: 'new' })).bytes ?? new Uint8Array();
    expect((await readLabels(relabelled)).found.map((f) => f.location)).toEqual(['xmp:iTXt']);
  });

  it('reads EXIF UserComment in JPEG, WebP and PNG, and blanks it when writing the standard place', async () => {
    const base = sharp(await sharp(samples['plain.jpg']).raw().toBuffer(), { raw: { width: 24, height: 16, channels: 3 } }).withExif({ IFD2: { UserComment: wrapped } });
    for (const bytes of [await base.clone().jpeg().toBuffer(), await base.clone().webp().toBuffer(), await base.clone().png().toBuffer()]) {
      const report = await readLabels(bytes);
      expect(report, report.format).toMatchObject({ location: 'exif:UserComment', label: { ProduceID: 'legacy' } });
      const relabelled = (await embedLabel(bytes, { producer: PRODUCER, produceId: 'new' })).bytes ?? new Uint8Array();
      expect((await readLabels(relabelled)).found.map((f) => f.label?.ProduceID), report.format).toEqual(['new']);
    }
  });
});

describe('independent readers and writers', () => {
  const config = `%Image::ExifTool::UserDefined = ('Image::ExifTool::XMP::Main' => { TC260 => { SubDirectory => { TagTable => 'Image::ExifTool::UserDefined::TC260' } } });
%Image::ExifTool::UserDefined::TC260 = (GROUPS => { 0 => 'XMP', 1 => 'XMP-TC260', 2 => 'Image' }, NAMESPACE => { 'TC260' => 'http://www.tc260.org.cn/ns/AIGC/1.0/' }, WRITABLE => 'string', AIGC => { });
1;
`;

  it.skipIf(!hasExiftool)('exiftool reads the TC260 property hegui wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-exiftool-'));
    for (const name of names()) {
      const { bytes, label } = await embedLabel(samples[name] ?? new Uint8Array(), { producer: PRODUCER, produceId: `id-${name}` });
      const path = join(dir, name);
      writeFileSync(path, bytes ?? new Uint8Array());
      const [tags] = JSON.parse(execFileSync('exiftool', ['-j', '-XMP-TC260:all', path]).toString()) as [Record<string, string>];
      expect(JSON.parse(tags.Aigc ?? tags.AIGC ?? '{}'), name).toEqual(label);
    }
  });

  it.skipIf(!hasExiftool)('hegui reads the TC260 property exiftool wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-exiftool-'));
    const configPath = join(dir, 'tc260.config');
    writeFileSync(configPath, config);
    const value = `{"Label":"1","ContentProducer":"${PRODUCER}","ProduceID":"by-exiftool","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}`;
    for (const name of ['plain.jpg', 'rgb.png', 'lossless.webp', 'animated.gif', 'strip.tif', 'still.avif']) {
      const path = join(dir, name);
      writeFileSync(path, samples[name] ?? new Uint8Array());
      execFileSync('exiftool', ['-config', configPath, '-q', '-overwrite_original', `-XMP-TC260:AIGC=${value}`, path]);
      const report = await readLabelFile(path);
      expect(report.label?.ProduceID, name).toBe('by-exiftool');
      expect(report.location, name).toBe(STANDARD_LOCATION[report.format]);
    }
  });

  it.skipIf(!hasMagick)('ImageMagick opens every labelled image without errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-magick-'));
    for (const name of names()) {
      const path = join(dir, name);
      writeFileSync(path, (await embedLabel(samples[name] ?? new Uint8Array(), { producer: PRODUCER, produceId: 'p', key: producerKey })).bytes ?? new Uint8Array());
      // ImageMagick 6 warns "CorruptImageProfile (XMP)" for any XMP in WebP, exiftool's too: for WebP only errors count.
      const strict = name.endsWith('.webp') ? [] : ['-regard-warnings'];
      const out = execFileSync('identify', [...strict, '-format', '%m %wx%h\n', path], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      expect(out, name).toMatch(/\d+x\d+/);
    }
  });
});

if (!hasExiftool) console.warn(missing('exiftool'));
if (!hasMagick) console.warn(missing('convert'));
if (!hasFfmpeg) console.warn(missing('ffmpeg'));
