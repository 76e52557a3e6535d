/**
 * APNG's label before the frames (issue 11, "standard places first"), where readers that stop
 * at the first image data (libpng's png_read_info) meet it, without ffmpeg taking the file for
 * a still PNG. Measured with ffmpeg 5.1: its APNG probe reads the first 2048 bytes and must
 * reach the type of the first IDAT in them; with more before it, the still-PNG demuxer wins and
 * one frame is decoded. The size of the metadata, or whether it sits before or after acTL,
 * does not matter beyond that. So the XMP goes right after acTL when the first IDAT's type
 * still ends within 2048 bytes, and before IEND otherwise. Checked with ffprobe, exiftool and
 * chromium's own APNG decoder (WebCodecs ImageDecoder).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedLabel, generateLabelKeys, parseSigningKey, parseVerifyKey, propagateLabel, readLabels, stripLabel, verifyLabel } from '../src/label/index.js';
import { labelImage } from '../src/label/explicit/index.js';
import { makeChunk } from '../src/label/implicit/png-chunks.js';
import { chromiumAvailable, launchChromium } from './helpers/browser.js';
import { systemTool } from './helpers/system.js';
import { PRODUCER, PROPAGATOR } from './label-samples.js';

const hasFfmpeg = systemTool('ffmpeg', 'ffmpeg');
const hasExiftool = systemTool('exiftool', 'libimage-exiftool-perl');
const producerKeys = generateLabelKeys('ed25519');
const platformKeys = generateLabelKeys('ed25519');
const verifyKeys = [parseVerifyKey(producerKeys.publicKeyPem), parseVerifyKey(platformKeys.publicKeyPem)];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hegui-apng-place-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function chunkTypes(bytes: Uint8Array): { type: string; start: number; end: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { type: string; start: number; end: number }[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const end = at + 12 + view.getUint32(at);
    out.push({ type: Buffer.from(bytes.subarray(at + 4, at + 8)).toString('latin1'), start: at, end });
    at = end;
  }
  return out;
}

function makeApng(name: string, size = '32x32'): Uint8Array {
  const path = join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=5:duration=1`, '-plays', '0', '-f', 'apng', '-y', path]);
  return execFileSync('cat', [path]);
}

/** [codec, frames] as ffprobe counts them, the file given by path (the APNG demuxer needs one). */
function ffprobeFrames(bytes: Uint8Array, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'csv=p=0', path]).toString().trim();
}

/** Inserts a tEXt chunk of `size` data bytes right after acTL. */
function withTextAfterActl(bytes: Uint8Array, size: number): Uint8Array {
  const actl = chunkTypes(bytes).find((c) => c.type === 'acTL');
  if (!actl) throw new Error('no acTL');
  const text = makeChunk('tEXt', new Uint8Array(Buffer.concat([Buffer.from('Comment\0'), Buffer.alloc(size - 8, 0x78)])));
  return new Uint8Array(Buffer.concat([bytes.subarray(0, actl.end), text, bytes.subarray(actl.end)]));
}

function firstIdatTypeEnd(bytes: Uint8Array): number {
  const idat = chunkTypes(bytes).find((c) => c.type === 'IDAT');
  if (!idat) throw new Error('no IDAT');
  return idat.start + 8;
}

describe.runIf(hasFfmpeg)('APNG label placement', () => {
  it("ffmpeg's APNG probe: the first IDAT's type must end within the first 2048 bytes, whatever precedes it", () => {
    const apng = makeApng('probe.png');
    expect(ffprobeFrames(apng, 'p0.png')).toBe('apng,5');
    const base = firstIdatTypeEnd(apng);
    const fits = withTextAfterActl(apng, 2048 - base - 12);
    expect(firstIdatTypeEnd(fits)).toBe(2048);
    expect(ffprobeFrames(fits, 'p1.png')).toBe('apng,5');
    const over = withTextAfterActl(apng, 2048 - base - 11);
    expect(firstIdatTypeEnd(over)).toBe(2049);
    expect(ffprobeFrames(over, 'p2.png')).toBe('png,1');
  });

  it('puts a signed, propagated label after acTL, before the first frame, and every reader still sees the animation', async () => {
    const apng = makeApng('signed.png');
    const embedded = await embedLabel(apng, { producer: PRODUCER, produceId: 'apng-1', key: parseSigningKey(producerKeys.privateKeyPem) });
    const { bytes = new Uint8Array() } = await propagateLabel(embedded.bytes ?? new Uint8Array(), {
      propagator: PROPAGATOR,
      propagateId: 'plat-1',
      key: parseSigningKey(platformKeys.privateKeyPem),
    });
    const types = chunkTypes(bytes).map((c) => c.type);
    const actl = types.indexOf('acTL');
    expect(types[actl + 1]).toBe('iTXt');
    expect(types.indexOf('iTXt')).toBeLessThan(types.indexOf('fcTL'));
    expect(types.lastIndexOf('iTXt')).toBe(actl + 1);
    expect(firstIdatTypeEnd(bytes)).toBeLessThanOrEqual(2048);
    expect(ffprobeFrames(bytes, 'signed-out.png')).toBe('apng,5');
    expect((await verifyLabel(bytes, verifyKeys)).status).toBe('valid');
    if (hasExiftool) {
      const out = join(dir, 'signed-exif.png');
      writeFileSync(out, bytes);
      expect(execFileSync('exiftool', ['-s3', '-XMP:all', '-b', out]).toString()).toContain(PROPAGATOR);
    }
    const stripped = (await stripLabel(bytes)).bytes ?? new Uint8Array();
    expect(Buffer.from(stripped).equals(Buffer.from(apng))).toBe(true);
  });

  it('puts the label before IEND when before the frames it would push the first IDAT out of the probe window', async () => {
    const apng = makeApng('crowded.png');
    const crowded = withTextAfterActl(apng, 2048 - firstIdatTypeEnd(apng) - 200);
    expect(ffprobeFrames(crowded, 'crowded-in.png')).toBe('apng,5');
    const { bytes = new Uint8Array() } = await embedLabel(crowded, { producer: PRODUCER, produceId: 'apng-2', key: parseSigningKey(producerKeys.privateKeyPem) });
    const chunks = chunkTypes(bytes);
    expect(chunks.at(-2)?.type).toBe('iTXt');
    expect(chunks.filter((c) => c.type === 'iTXt')).toHaveLength(1);
    expect(ffprobeFrames(bytes, 'crowded-out.png')).toBe('apng,5');
    expect((await verifyLabel(bytes, verifyKeys)).status).toBe('valid');
  });

  it('moves a label-only packet an earlier version left before IEND to before the frames on relabelling', async () => {
    const apng = makeApng('old.png');
    const labelled = (await embedLabel(apng, { producer: PRODUCER, produceId: 'old' })).bytes ?? new Uint8Array();
    // Rebuild the earlier layout: the same iTXt, moved before IEND.
    const chunks = chunkTypes(labelled);
    const itxt = chunks.find((c) => c.type === 'iTXt');
    const iend = chunks.at(-1);
    if (!itxt || !iend) throw new Error('layout');
    const old = Buffer.concat([labelled.subarray(0, itxt.start), labelled.subarray(itxt.end, iend.start), labelled.subarray(itxt.start, itxt.end), labelled.subarray(iend.start)]);
    expect(chunkTypes(old).at(-2)?.type).toBe('iTXt');
    const { bytes = new Uint8Array() } = await embedLabel(old, { producer: PRODUCER, produceId: 'new-id-that-is-longer' });
    const types = chunkTypes(bytes).map((c) => c.type);
    expect(types.filter((t) => t === 'iTXt')).toHaveLength(1);
    expect(types[types.indexOf('acTL') + 1]).toBe('iTXt');
    expect(ffprobeFrames(bytes, 'old-out.png')).toBe('apng,5');
  });

  describe.runIf(chromiumAvailable())('in chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    it("decodes every frame of the labelled APNG (implicit or visible label), with the same frame count and timing as the original's", async () => {
      const apng = makeApng('browser.png', '48x32');
      const { bytes = new Uint8Array() } = await embedLabel(apng, { producer: PRODUCER, produceId: 'apng-3', key: parseSigningKey(producerKeys.privateKeyPem) });
      const types = chunkTypes(bytes).map((c) => c.type);
      expect(types[types.indexOf('acTL') + 1]).toBe('iTXt');
      const page = await browser.newPage();
      // ImageDecoder exists only in a secure context: a page of its own at http://localhost.
      await page.route('http://localhost/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>apng</title>' }));
      await page.goto('http://localhost/');
      try {
        const probe = (b64: string): Promise<{ frames: number; durations: number[]; width: number }> =>
          page.evaluate(async (data) => {
            const raw = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            // WebCodecs' ImageDecoder, which the DOM types of this TypeScript do not declare.
            interface Frame {
              image: { duration: number | null; displayWidth: number; close(): void };
            }
            interface Decoder {
              tracks: { ready: Promise<void>; selectedTrack: { frameCount: number } | null };
              decode(options: { frameIndex: number }): Promise<Frame>;
            }
            const ImageDecoderClass = (globalThis as unknown as { ImageDecoder: new (init: { data: Uint8Array; type: string }) => Decoder }).ImageDecoder;
            const decoder = new ImageDecoderClass({ data: raw, type: 'image/png' });
            await decoder.tracks.ready;
            const track = decoder.tracks.selectedTrack;
            const frames = track?.frameCount ?? 0;
            const durations: number[] = [];
            let width = 0;
            for (let i = 0; i < frames; i++) {
              const { image } = await decoder.decode({ frameIndex: i });
              durations.push(image.duration ?? -1);
              width = image.displayWidth;
              image.close();
            }
            return { frames, durations, width };
          }, b64);
        const before = await probe(Buffer.from(apng).toString('base64'));
        const after = await probe(Buffer.from(bytes).toString('base64'));
        expect(before.frames).toBe(5);
        expect(after).toEqual(before);
        // A visible notice drawn on every frame changes neither the frame count nor the timing.
        const drawn = await probe(Buffer.from((await labelImage(apng)).bytes).toString('base64'));
        expect(drawn).toEqual(before);
      } finally {
        await page.close();
      }
    }, 60_000);
  });
});

/** Every frame as ffmpeg shows it: raw RGBA (or RGBA64) pictures, and each frame's time. */
function ffmpegFrames(bytes: Uint8Array, name: string, pixFmt = 'rgba'): { frames: Buffer[]; times: string[] } {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', pixFmt, '-fps_mode', 'passthrough', '-'], { maxBuffer: 1 << 28 });
  const info = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path]).toString().trim().split(',').map(Number);
  const [width = 0, height = 0] = info;
  const size = width * height * (pixFmt === 'rgba64be' ? 8 : 4);
  const frames = Array.from({ length: raw.length / size }, (_, i) => raw.subarray(i * size, (i + 1) * size));
  const times = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', path]).toString().trim().split('\n');
  return { frames, times };
}

function changedInside(a: Buffer, b: Buffer, width: number, box: { left: number; top: number; width: number; height: number }, bytesPerPixel = 4): { inside: number; outside: number } {
  let inside = 0;
  let outside = 0;
  for (let p = 0; p < a.length / bytesPerPixel; p++) {
    const x = p % width;
    const y = Math.floor(p / width);
    const same = a.subarray(p * bytesPerPixel, (p + 1) * bytesPerPixel).equals(b.subarray(p * bytesPerPixel, (p + 1) * bytesPerPixel));
    if (same) continue;
    if (x >= box.left && x < box.left + box.width && y >= box.top && y < box.top + box.height) inside++;
    else outside++;
  }
  return { inside, outside };
}

/** An APNG of full frames (blend SOURCE, dispose NONE) from still PNGs of one size and type. */
function assembleApng(pngs: Buffer[], delayNum: number, delayDen: number, still?: Buffer): Buffer {
  const parts: Buffer[] = [];
  let sequence = 0;
  const first = pngs[0] ?? Buffer.alloc(0);
  const chunksOf = (png: Buffer): { type: string; data: Buffer }[] =>
    chunkTypes(png).map((c) => ({ type: c.type, data: png.subarray(c.start + 8, c.end - 4) }));
  parts.push(first.subarray(0, 8));
  const head = chunksOf(first).filter((c) => c.type !== 'IDAT' && c.type !== 'IEND');
  for (const c of head) parts.push(Buffer.from(makeChunk(c.type, c.data)));
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(pngs.length, 0);
  parts.push(Buffer.from(makeChunk('acTL', actl)));
  // A default image that is not part of the animation: IDAT before the first fcTL.
  if (still) for (const c of chunksOf(still).filter((c) => c.type === 'IDAT')) parts.push(Buffer.from(makeChunk('IDAT', c.data)));
  const width = first.readUInt32BE(16);
  const height = first.readUInt32BE(20);
  for (const [i, png] of pngs.entries()) {
    const fctl = Buffer.alloc(26);
    fctl.writeUInt32BE(sequence++, 0);
    fctl.writeUInt32BE(width, 4);
    fctl.writeUInt32BE(height, 8);
    fctl.writeUInt16BE(delayNum, 20);
    fctl.writeUInt16BE(delayDen, 22);
    parts.push(Buffer.from(makeChunk('fcTL', fctl)));
    for (const c of chunksOf(png).filter((c) => c.type === 'IDAT')) {
      if (i === 0 && !still) parts.push(Buffer.from(makeChunk('IDAT', c.data)));
      else {
        const seq = Buffer.alloc(4);
        seq.writeUInt32BE(sequence++, 0);
        parts.push(Buffer.from(makeChunk('fdAT', Buffer.concat([seq, c.data]))));
      }
    }
  }
  parts.push(Buffer.from(makeChunk('IEND', new Uint8Array(0))));
  return Buffer.concat(parts);
}

describe.runIf(hasFfmpeg)('visible notices on APNG', () => {
  it('draws the notice on every frame as a viewer composes it; delays, frame count, loop count and every other pixel kept', async () => {
    const path = join(dir, 'vary.png');
    // Frames of different durations, and ffmpeg's own sub-frame optimisation (blend and dispose ops).
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=200x150:rate=10', '-frames:v', '6', '-vf', "setpts='(N*N)/10/TB'", '-fps_mode', 'passthrough', '-plays', '3', '-f', 'apng', '-y', path]);
    const source = execFileSync('cat', [path]);
    const labelled = await labelImage(source, { implicit: { producer: PRODUCER, produceId: 'apng-v1' } });
    expect(labelled.frames).toBe(6);
    const before = ffmpegFrames(source, 'vary-in.png');
    const after = ffmpegFrames(labelled.bytes, 'vary-out.png');
    expect(after.frames).toHaveLength(before.frames.length);
    expect(after.times).toEqual(before.times);
    for (const [i, frame] of after.frames.entries()) {
      const diff = changedInside(before.frames[i] ?? Buffer.alloc(0), frame, 200, labelled.box);
      expect(diff.outside, `frame ${i}`).toBe(0);
      expect(diff.inside, `frame ${i}`).toBeGreaterThan(50);
    }
    const actl = (bytes: Uint8Array): string => {
      const b = Buffer.from(bytes);
      const at = b.indexOf('acTL');
      return b.subarray(at + 4, at + 12).toString('hex');
    };
    expect(actl(labelled.bytes)).toBe(actl(source));
    expect((await readLabels(labelled.bytes)).label?.ProduceID).toBe('apng-v1');
    expect(ffprobeFrames(labelled.bytes, 'vary-probe.png')).toBe('apng,6');
  });

  it('keeps a 16-bit APNG 16-bit, with its 16-bit values away from the notice', async () => {
    // ffmpeg 5.1 cannot decode the blend ops of its own 16-bit APNGs: full frames, assembled here.
    const pictures = await Promise.all(
      [0, 1, 2].map((f) => {
        const raw = Buffer.alloc(160 * 120 * 4 * 2);
        for (let i = 0; i < 160 * 120 * 4; i++) raw.writeUInt16LE(i % 4 === 3 ? 65535 : (i * 7919 + f * 4099) % 65536, i * 2);
        return sharp(raw, { raw: { width: 160, height: 120, channels: 4 } }).toColourspace('rgb16').png({ compressionLevel: 1 }).toBuffer();
      }),
    );
    const source = assembleApng(pictures, 2, 10);
    expect(source[24]).toBe(16);
    const labelled = await labelImage(source);
    expect(labelled.bytes[24]).toBe(16);
    expect(labelled.bytes[25]).toBe(source[25]);
    const before = ffmpegFrames(source, 'deep-in.png', 'rgba64be');
    const after = ffmpegFrames(labelled.bytes, 'deep-out.png', 'rgba64be');
    expect(after.frames).toHaveLength(3);
    for (const [i, frame] of after.frames.entries()) {
      const diff = changedInside(before.frames[i] ?? Buffer.alloc(0), frame, 160, labelled.box, 8);
      expect(diff.outside, `frame ${i}`).toBe(0);
      expect(diff.inside, `frame ${i}`).toBeGreaterThan(50);
    }
  });

  it('draws on a default image that is not part of the animation too, and keeps it out of the animation', async () => {
    const png = (colour: string): Promise<Buffer> => sharp({ create: { width: 120, height: 90, channels: 3, background: colour } }).png().toBuffer();
    const source = assembleApng([await png('#2a6'), await png('#26a')], 1, 5, await png('#a62'));
    const labelled = await labelImage(source);
    expect(labelled.frames).toBe(2);
    const types = chunkTypes(labelled.bytes).map((c) => c.type);
    expect(types.indexOf('IDAT')).toBeLessThan(types.indexOf('fcTL'));
    expect(types.filter((t) => t === 'fcTL')).toHaveLength(2);
    // libvips shows the default image: the notice is on it.
    const still = async (bytes: Uint8Array): Promise<Buffer> => sharp(bytes).raw().toBuffer();
    const diff = changedInside(await still(source), await still(labelled.bytes), 120, labelled.box, 3);
    expect(diff.outside).toBe(0);
    expect(diff.inside).toBeGreaterThan(50);
    const frames = ffmpegFrames(labelled.bytes, 'default-out.png').frames;
    expect(frames).toHaveLength(2);
    const original = ffmpegFrames(source, 'default-in.png').frames;
    for (const [i, frame] of frames.entries()) expect(changedInside(original[i] ?? Buffer.alloc(0), frame, 120, labelled.box).outside).toBe(0);
  });

  it('refuses a palette APNG with a typed error rather than change its colour type', async () => {
    const path = join(dir, 'pal.png');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-frames:v', '3', '-pix_fmt', 'pal8', '-plays', '0', '-f', 'apng', '-y', path]);
    const source = execFileSync('cat', [path]);
    expect(source[25]).toBe(3);
    await expect(labelImage(source)).rejects.toMatchObject({ code: 'E_LABEL_APNG', message: expect.stringMatching(/palette/) });
  });
});
