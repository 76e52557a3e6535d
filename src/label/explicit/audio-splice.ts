/**
 * @module label/explicit/audio-splice
 * The streaming core of the audio label: raw PCM in, the same PCM out with the notice inserted
 * at the planned points (GB 45438 §5.3: start, end or middle). Content bytes pass through
 * untouched; only a bounded window is held back — enough to measure the content's level after
 * an insertion point (3 s by default) and to move a middle notice to the quietest 20 ms near its
 * nominal place, so it does not cut a word in two. Memory is bounded by that window, whatever
 * the length of the content.
 */
import { LEVEL_BLOCK_SECONDS, gatedLevelDb, noticeLevelDb, type LevelPolicy } from './audio-level.js';
import { decodeMono, frameBytes, type PcmLayout } from './audio-pcm.js';

/** Where a notice goes, in frames of the content. */
export interface SplicePoint {
  /** A frame number, or `end` for after the last frame. */
  frame: number | 'end';
  /** Frames the notice may move either side, to the quietest 20 ms (0: exactly at `frame`). */
  snapFrames: number;
  /** Frames of content measured before and after the point to set the notice level. */
  before: number;
  after: number;
  /** How the caller named the point, reported back. */
  position: string;
}

/** Where a notice went and how loud it was made. */
export interface NoticePlacement {
  position: string;
  /** Seconds into the content where the notice was inserted. */
  contentSeconds: number;
  /** Seconds into the output where the notice starts. */
  outputSeconds: number;
  /** The notice's length in seconds. */
  seconds: number;
  /** The content's gated RMS next to the point, or null when it was silent there. */
  contentDb: number | null;
  /** The notice's RMS while it sounds, in dBFS. */
  noticeDb: number;
}

/** Whole frames in order; `take` hands back up to n frames from the front. */
class FrameQueue {
  #chunks: Uint8Array[] = [];
  #bytes = 0;

  constructor(readonly frameSize: number) {}

  get frames(): number {
    return this.#bytes / this.frameSize;
  }

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
  }

  *take(frames: number): Generator<Uint8Array> {
    let want = Math.min(frames, this.frames) * this.frameSize;
    while (want > 0) {
      const chunk = this.#chunks[0];
      if (!chunk) return;
      if (chunk.length <= want) {
        this.#chunks.shift();
        want -= chunk.length;
        this.#bytes -= chunk.length;
        yield chunk;
      } else {
        this.#chunks[0] = chunk.subarray(want);
        this.#bytes -= want;
        yield chunk.subarray(0, want);
        want = 0;
      }
    }
  }
}

/** Mean square of the mono mix per block, kept for a sliding range of blocks. */
class LevelMeter {
  #powers: number[] = [];
  /** Block index of `#powers[0]`. */
  #base = 0;
  #sum = 0;
  #count = 0;

  constructor(readonly blockFrames: number) {}

  push(mono: Float32Array): void {
    for (const sample of mono) {
      this.#sum += sample * sample;
      if (++this.#count === this.blockFrames) {
        this.#powers.push(this.#sum / this.blockFrames);
        this.#sum = 0;
        this.#count = 0;
      }
    }
  }

  /** Advances over `frames` frames without measuring them (far from every insertion point). */
  skip(frames: number): void {
    for (let left = frames; left > 0; ) {
      const take = Math.min(left, this.blockFrames - this.#count);
      this.#count += take;
      left -= take;
      if (this.#count === this.blockFrames) {
        this.#powers.push(this.#sum / this.blockFrames);
        this.#sum = 0;
        this.#count = 0;
      }
    }
  }

  /** Whole blocks inside frames [from, to). */
  *powers(from: number, to: number): Generator<number> {
    const first = Math.max(this.#base, Math.ceil(from / this.blockFrames));
    const last = Math.min(this.#base + this.#powers.length, Math.floor(to / this.blockFrames));
    for (let b = first; b < last; b++) yield this.#powers[b - this.#base] ?? 0;
  }

  /** The block boundary in [lo, hi] whose two neighbouring blocks are quietest, nearest `nominal` on ties. */
  quietest(lo: number, hi: number, nominal: number): number {
    let best = Math.min(Math.max(nominal, lo), hi);
    let bestScore = Infinity;
    for (let b = Math.ceil(lo / this.blockFrames); b * this.blockFrames <= hi; b++) {
      const frame = b * this.blockFrames;
      let score = 0;
      for (const power of this.powers(frame - this.blockFrames, frame + this.blockFrames)) score += power;
      if (score < bestScore || (score === bestScore && Math.abs(frame - nominal) < Math.abs(best - nominal))) {
        best = frame;
        bestScore = score;
      }
    }
    return best;
  }

  /** Forgets blocks that end before `frame`. */
  prune(frame: number): void {
    const drop = Math.floor(frame / this.blockFrames) - this.#base;
    if (drop <= 0) return;
    this.#powers.splice(0, drop);
    this.#base += drop;
  }
}

export interface SpliceOptions {
  layout: PcmLayout;
  /** In order of frame; `end` points last. */
  points: readonly SplicePoint[];
  /** The notice's bytes in `layout` at a level in dBFS; the same length for every level. */
  notice: (levelDb: number) => Uint8Array;
  policy: LevelPolicy;
  /** Receives one entry per inserted notice. */
  placements: NoticePlacement[];
  /**
   * The content's expected length in frames, when known: content far from every point is then
   * not measured (a notice only needs the level next to it). An estimate is enough.
   */
  expectedFrames?: number;
}

/** Frame ranges whose level a point may need, with slack for an inexact expected length. */
function measuredRanges(points: readonly SplicePoint[], expected: number | undefined, rate: number): [number, number][] {
  const slack = 10 * rate;
  return points.map((point): [number, number] => {
    if (point.frame !== 'end') return [point.frame - point.snapFrames - point.before - slack, point.frame + point.snapFrames + point.after + slack];
    return [expected === undefined ? -Infinity : expected - point.before - slack, Infinity];
  });
}

/**
 * Inserts the notice into raw PCM at the planned points, streaming.
 *
 * @example
 * const out = spliceNotices(pcmChunks, { layout, points: [startPoint], notice, policy, placements });
 * for await (const chunk of out) await sink.write(chunk);
 */
export async function* spliceNotices(content: AsyncIterable<Uint8Array>, options: SpliceOptions): AsyncGenerator<Uint8Array> {
  const { layout, policy, placements } = options;
  const frameSize = frameBytes(layout);
  const queue = new FrameQueue(frameSize);
  const meter = new LevelMeter(Math.max(1, Math.round(layout.sampleRate * LEVEL_BLOCK_SECONDS)));
  const pending = [...options.points];
  const ranges = measuredRanges(options.points, options.expectedFrames, layout.sampleRate);
  let received = 0;
  let emitted = 0;
  let inserted = 0;
  let carry = new Uint8Array(0);

  /** Inserts the notice for `point` once enough content has arrived; false while it has not. */
  const place = function* (point: SplicePoint, eof: boolean): Generator<Uint8Array, boolean> {
    if (!eof && (point.frame === 'end' || received < point.frame + point.snapFrames + point.after)) return false;
    const nominal = point.frame === 'end' ? received : Math.max(emitted, Math.min(point.frame, received));
    const lo = Math.max(emitted, nominal - point.snapFrames);
    const hi = Math.min(received, nominal + point.snapFrames);
    const frame = hi > lo ? meter.quietest(lo, hi, nominal) : nominal;
    const contentDb = gatedLevelDb(meter.powers(frame - point.before, frame + point.after), policy.gateDb);
    const noticeDb = noticeLevelDb(contentDb, policy);
    yield* queue.take(frame - emitted);
    const notice = options.notice(noticeDb);
    const noticeFrames = notice.length / frameSize;
    placements.push({
      position: point.position,
      contentSeconds: frame / layout.sampleRate,
      outputSeconds: (frame + inserted) / layout.sampleRate,
      seconds: noticeFrames / layout.sampleRate,
      contentDb,
      noticeDb,
    });
    yield notice;
    emitted = frame;
    inserted += noticeFrames;
    return true;
  };

  /** Places every point that can be placed, then releases the content no later point can land in. */
  const drain = function* (eof: boolean): Generator<Uint8Array> {
    let point = pending[0];
    while (point && (yield* place(point, eof))) {
      pending.shift();
      point = pending[0];
    }
    const safe = !point || point.frame === 'end' ? received : Math.max(emitted, Math.min(received, point.frame - point.snapFrames));
    yield* queue.take(safe - emitted);
    emitted = safe;
    meter.prune(emitted - (point?.before ?? 0));
  };

  for await (const chunk of content) {
    let bytes = chunk;
    if (carry.length > 0) {
      bytes = new Uint8Array(carry.length + chunk.length);
      bytes.set(carry);
      bytes.set(chunk, carry.length);
    }
    const whole = bytes.length - (bytes.length % frameSize);
    carry = bytes.slice(whole);
    if (whole === 0) continue;
    const frames = bytes.subarray(0, whole);
    const count = whole / frameSize;
    if (ranges.some(([from, to]) => received + count > from && received < to)) meter.push(decodeMono(frames, layout));
    else meter.skip(count);
    queue.push(frames);
    received += count;
    yield* drain(false);
  }
  yield* drain(true);
  if (carry.length > 0) yield carry;
}
