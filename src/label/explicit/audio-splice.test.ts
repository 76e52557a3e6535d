import { describe, expect, it } from 'vitest';
import { DEFAULT_LEVEL_POLICY } from './audio-level.js';
import { noticeBuilder } from './audio-notice.js';
import { encodeMono, frameBytes, type PcmLayout } from './audio-pcm.js';
import { spliceNotices, type NoticePlacement, type SplicePoint } from './audio-splice.js';

const layout: PcmLayout = { encoding: 's16le', sampleRate: 8000, channels: 2 };
const frameSize = frameBytes(layout);

/** Deterministic noise at about -20 dBFS RMS, with an optional silent stretch. */
function content(seconds: number, silence?: [number, number]): Uint8Array {
  const samples = new Float32Array(Math.round(seconds * layout.sampleRate));
  let seed = 7;
  for (let i = 0; i < samples.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const t = i / layout.sampleRate;
    samples[i] = silence && t >= silence[0] && t < silence[1] ? 0 : ((seed / 2147483648) * 2 - 1) * 0.1732;
  }
  return encodeMono(samples, layout);
}

async function* chunked(bytes: Uint8Array, size: number, pulled?: { bytes: number }): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) {
    const chunk = bytes.slice(at, at + size);
    if (pulled) pulled.bytes += chunk.length;
    yield chunk;
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

const window = 3 * layout.sampleRate;
const start: SplicePoint = { frame: 0, snapFrames: 0, before: 0, after: window, position: 'start' };
const end: SplicePoint = { frame: 'end', snapFrames: 0, before: window, after: 0, position: 'end' };
const builder = noticeBuilder(layout, { kind: 'rhythm' });

describe('spliceNotices', () => {
  it('inserts the notice at the start, middle and end and passes the content through byte for byte', async () => {
    const source = content(5);
    const middle: SplicePoint = { frame: 2.5 * layout.sampleRate, snapFrames: 0, before: window / 2, after: window / 2, position: 'middle' };
    const placements: NoticePlacement[] = [];
    // 333-byte chunks split frames: the splice must realign them.
    const out = await collect(spliceNotices(chunked(source, 333), { layout, points: [start, middle, end], notice: (db) => builder.build(db), policy: DEFAULT_LEVEL_POLICY, placements }));
    const noticeBytes = builder.frames * frameSize;
    expect(out.length).toBe(source.length + 3 * noticeBytes);
    expect(placements.map((p) => [p.position, p.contentSeconds, p.outputSeconds])).toEqual([
      ['start', 0, 0],
      ['middle', 2.5, 4],
      ['end', 5, 8],
    ]);
    const half = source.length / 2;
    expect(Buffer.compare(out.subarray(noticeBytes, noticeBytes + half), source.subarray(0, half))).toBe(0);
    expect(Buffer.compare(out.subarray(2 * noticeBytes + half, 2 * noticeBytes + source.length), source.subarray(half))).toBe(0);
    for (const p of placements) {
      expect(p.contentDb).toBeCloseTo(-20, 0);
      expect(p.noticeDb).toBeCloseTo(-23, 0);
    }
  });

  it('moves a middle notice to the quietest 20 ms within its reach', async () => {
    const placements: NoticePlacement[] = [];
    const middle: SplicePoint = { frame: 2 * layout.sampleRate, snapFrames: layout.sampleRate / 2, before: window / 2, after: window / 2, position: 'middle' };
    await collect(spliceNotices(chunked(content(4, [2.3, 2.36]), 4096), { layout, points: [middle], notice: (db) => builder.build(db), policy: DEFAULT_LEVEL_POLICY, placements }));
    expect(placements[0]?.contentSeconds).toBeGreaterThanOrEqual(2.3);
    expect(placements[0]?.contentSeconds).toBeLessThanOrEqual(2.36);
  });

  it('gives silent content the default notice level', async () => {
    const placements: NoticePlacement[] = [];
    await collect(spliceNotices(chunked(new Uint8Array(frameSize * 8000), 1000), { layout, points: [start], notice: (db) => builder.build(db), policy: DEFAULT_LEVEL_POLICY, placements }));
    expect(placements[0]).toMatchObject({ contentDb: null, noticeDb: DEFAULT_LEVEL_POLICY.silentDb });
  });

  it('holds back no more than the measuring window before releasing the notice', async () => {
    const pulled = { bytes: 0 };
    const placements: NoticePlacement[] = [];
    const out = spliceNotices(chunked(content(60), 8192, pulled), { layout, points: [start], notice: (db) => builder.build(db), policy: DEFAULT_LEVEL_POLICY, placements });
    const first = await out.next();
    expect(first.done).toBe(false);
    expect(pulled.bytes).toBeLessThanOrEqual(window * frameSize + 8192);
    await out.return(undefined);
  });

  it('labels content shorter than the window, and empty content', async () => {
    for (const seconds of [0.5, 0]) {
      const placements: NoticePlacement[] = [];
      const source = content(seconds);
      const out = await collect(spliceNotices(chunked(source, 999), { layout, points: [start, end], notice: (db) => builder.build(db), policy: DEFAULT_LEVEL_POLICY, placements }));
      expect(out.length).toBe(source.length + 2 * builder.frames * frameSize);
      expect(placements.map((p) => p.contentSeconds)).toEqual([0, seconds]);
    }
  });
});
