/**
 * @module label/explicit/audio-detect
 * Finds the GB 45438 §5.3 rhythm (short-long-short-short) in audio from any source, by its
 * envelope. The mono signal is cut into 5 ms blocks; a block is "on" when its level is within
 * 15 dB of the loudest block in the 1.2 s around it (and above -70 dBFS), so tones stand out
 * from the gaps between them whatever the overall level. Runs of "on" blocks are the elements;
 * four in a row form the rhythm when, with u the mean length of the three short ones:
 *
 * - the short ones each last 0.6u to 1.5u, the long one 2u to 4.5u (ITU-R M.1677-1: 3u),
 *   and 20 ms <= u <= 500 ms;
 * - the gaps within a letter last 0.4u to 2.5u, the gap between letters 0.4u to 5u (3u);
 * - nothing sounds for 1.5u before the first element and after the last (the rhythm stands
 *   alone, and is not part of longer Morse or speech);
 * - the four elements are within 6 dB of each other and sound alike: their zero-crossing
 *   rates (for a tone, twice its frequency) are within 25% of each other.
 *
 * The detector streams: it keeps a 0.6 s delay line and the last few elements, so memory is
 * bounded whatever the length of the audio.
 */
import { powerToDb } from './audio-level.js';

/** Length of an envelope block. */
export const ENVELOPE_BLOCK_SECONDS = 0.005;
/** Half-width of the window whose loudest block sets the on/off threshold. */
const REFERENCE_SECONDS = 0.6;
const ON_BELOW_REFERENCE_DB = 15;
const FLOOR_DB = -70;

/** One rhythm found. */
export interface RhythmDetection {
  /** Seconds from the start of the audio to the first element's onset. */
  start: number;
  /** Seconds to the last element's end. */
  end: number;
  /** The four elements, in seconds. */
  elements: { start: number; end: number }[];
  /** The mean length of the short elements, in seconds. */
  unitSeconds: number;
  /** Long element over unit (ITU-R M.1677-1: 3). */
  dashRatio: number;
  /** RMS level of the elements while they sound, in dBFS. */
  levelDb: number;
  /** Tone frequency estimated from zero crossings, in Hz. */
  toneHz: number;
}

interface Block {
  power: number;
  db: number;
  crossings: number;
}

interface Element {
  first: number;
  /** One past the last block. */
  end: number;
  power: number;
  crossings: number;
}

/** Streams mono samples in; `finish()` returns every rhythm found. */
export class RhythmDetector {
  readonly #blockFrames: number;
  readonly #sampleRate: number;
  readonly #reach: number;
  /** Blocks not yet classified, from block index `#pendingBase`. */
  #pending: Block[] = [];
  #pendingBase = 0;
  /** Block indices and levels in decreasing level order: the sliding window's maximum is first. */
  #maxima: { index: number; db: number }[] = [];
  #received = 0;
  #sum = 0;
  #crossings = 0;
  #count = 0;
  #last = 0;
  #element: Element | undefined;
  #elements: Element[] = [];
  #found: RhythmDetection[] = [];

  constructor(sampleRate: number) {
    this.#sampleRate = sampleRate;
    this.#blockFrames = Math.max(1, Math.round(sampleRate * ENVELOPE_BLOCK_SECONDS));
    this.#reach = Math.round(REFERENCE_SECONDS / ENVELOPE_BLOCK_SECONDS);
  }

  /** Seconds per block at this sample rate. */
  get blockSeconds(): number {
    return this.#blockFrames / this.#sampleRate;
  }

  push(mono: Float32Array): void {
    // Locals in the per-sample loop: this runs over every sample of hours of audio.
    let sum = this.#sum;
    let crossings = this.#crossings;
    let count = this.#count;
    let positive = this.#last >= 0;
    const blockFrames = this.#blockFrames;
    for (let i = 0; i < mono.length; i++) {
      const sample = mono[i] as number;
      sum += sample * sample;
      if (sample >= 0 !== positive) {
        crossings++;
        positive = !positive;
      }
      if (++count === blockFrames) {
        this.#block(sum / blockFrames, crossings);
        sum = 0;
        crossings = 0;
        count = 0;
      }
    }
    this.#sum = sum;
    this.#crossings = crossings;
    this.#count = count;
    this.#last = positive ? 1 : -1;
  }

  #block(power: number, crossings: number): void {
    const db = powerToDb(power);
    this.#pending.push({ power, db, crossings });
    while ((this.#maxima.at(-1)?.db ?? Infinity) <= db) this.#maxima.pop();
    this.#maxima.push({ index: this.#received++, db });
    if (this.#pending.length > this.#reach) this.#classify();
  }

  finish(): RhythmDetection[] {
    while (this.#pending.length > 0) this.#classify();
    this.#close(Infinity);
    this.#evaluate(true);
    return this.#found;
  }

  /** Classifies the oldest pending block against the loudest block within `#reach` either side. */
  #classify(): void {
    const block = this.#pending.shift() as Block;
    const index = this.#pendingBase++;
    while ((this.#maxima[0]?.index ?? Infinity) < index - this.#reach) this.#maxima.shift();
    const reference = this.#maxima[0]?.db ?? block.db;
    const on = block.db >= FLOOR_DB && block.db >= reference - ON_BELOW_REFERENCE_DB;
    if (on) {
      // A single quiet block inside an element (a zero crossing of a low tone) does not split it.
      if (this.#element && this.#element.end >= index - 1) {
        this.#element.end = index + 1;
        this.#element.power += block.power;
        this.#element.crossings += block.crossings;
      } else {
        this.#close(index);
        this.#element = { first: index, end: index + 1, power: block.power, crossings: block.crossings };
      }
    }
  }

  #close(index: number): void {
    const element = this.#element;
    if (!element || element.end >= index) return;
    this.#element = undefined;
    if (element.end - element.first < 2) return;
    this.#elements.push(element);
    this.#evaluate(false);
    if (this.#elements.length > 6) this.#elements.shift();
  }

  /** Tests the four elements before the newest (or the last four, at the end) as a rhythm. */
  #evaluate(atEnd: boolean): void {
    const list = this.#elements;
    const tail = atEnd ? list.length : list.length - 1;
    const four = list.slice(Math.max(0, tail - 4), tail);
    if (four.length < 4) return;
    const before = list[tail - 5];
    const after = atEnd ? undefined : list[tail];
    const detection = this.#match(four as [Element, Element, Element, Element], before, after);
    if (detection) this.#found.push(detection);
  }

  #match([a, b, c, d]: [Element, Element, Element, Element], before: Element | undefined, after: Element | undefined): RhythmDetection | undefined {
    const block = this.blockSeconds;
    const length = (e: Element): number => (e.end - e.first) * block;
    const unit = (length(a) + length(c) + length(d)) / 3;
    if (unit < 0.02 || unit > 0.5) return undefined;
    if (![a, c, d].every((e) => length(e) >= 0.6 * unit && length(e) <= 1.5 * unit)) return undefined;
    const dashRatio = length(b) / unit;
    if (dashRatio < 2 || dashRatio > 4.5) return undefined;
    const gap = (x: Element, y: Element): number => (y.first - x.end) * block;
    if (!(within(gap(a, b), 0.4 * unit, 2.5 * unit) && within(gap(b, c), 0.4 * unit, 5 * unit) && within(gap(c, d), 0.4 * unit, 2.5 * unit))) return undefined;
    if (before && gap(before, a) < 1.5 * unit) return undefined;
    if (after && gap(d, after) < 1.5 * unit) return undefined;
    const levels = [a, b, c, d].map((e) => powerToDb(e.power / (e.end - e.first)));
    if (Math.max(...levels) - Math.min(...levels) > 6) return undefined;
    const rates = [a, b, c, d].map((e) => e.crossings / length(e));
    const meanRate = rates.reduce((sum, r) => sum + r, 0) / 4;
    if (rates.some((r) => Math.abs(r - meanRate) > 0.25 * meanRate)) return undefined;
    const power = [a, b, c, d].reduce((sum, e) => sum + e.power, 0) / [a, b, c, d].reduce((sum, e) => sum + e.end - e.first, 0);
    return {
      start: a.first * block,
      end: d.end * block,
      elements: [a, b, c, d].map((e) => ({ start: e.first * block, end: e.end * block })),
      unitSeconds: unit,
      dashRatio,
      levelDb: powerToDb(power),
      toneHz: meanRate / 2,
    };
  }
}

function within(value: number, low: number, high: number): boolean {
  return value >= low && value <= high;
}
