/**
 * @module label/explicit/audio-rhythm
 * The GB 45438 §5.3 audio rhythm: short-long-short-short, which is Morse "AI" (·− ··). Its
 * timing follows the ratios of ITU-R M.1677-1 §2: a dash lasts three dots, the space between
 * the elements of a letter lasts one dot, the space between two letters three dots. With a dot
 * (the unit) of 100 ms — 12 words per minute by the PARIS convention — the rhythm reads:
 *
 * | element | tone on | then silence |
 * |---|---|---|
 * | · (A) | 0.0–0.1 s | 0.1 s (within the letter) |
 * | − (A) | 0.2–0.5 s | 0.3 s (between letters) |
 * | · (I) | 0.8–0.9 s | 0.1 s (within the letter) |
 * | · (I) | 1.0–1.1 s | — |
 *
 * 11 units, 1.1 s. The tone is a 1000 Hz sine: inside the 300–3400 Hz telephone band, so it
 * survives narrowband voice codecs, and where hearing is most sensitive. Every element starts
 * and ends with a 5 ms raised-cosine ramp (counted inside the element) so it does not click.
 */

/** The rhythm's timing and tone; the defaults are documented above. */
export interface RhythmTiming {
  /** Length of a dot in seconds (ITU-R M.1677-1 unit). */
  unitSeconds: number;
  /** Tone frequency in Hz (lowered to a quarter of the sample rate for very low rates). */
  toneHz: number;
  /** Raised-cosine ramp at each edge of an element, in seconds. */
  rampSeconds: number;
}

export const DEFAULT_RHYTHM: Readonly<RhythmTiming> = Object.freeze({ unitSeconds: 0.1, toneHz: 1000, rampSeconds: 0.005 });

/** Tone-on (positive) and silence (negative) lengths of Morse "AI", in units (ITU-R M.1677-1 §2). */
const MORSE_AI_UNITS: readonly number[] = [1, -1, 3, -3, 1, -1, 1];

/** Units the rhythm lasts: 11. */
export const RHYTHM_UNITS = MORSE_AI_UNITS.reduce((sum, units) => sum + Math.abs(units), 0);

/** One tone of the rhythm, in seconds from the rhythm's start. */
export interface RhythmElement {
  start: number;
  end: number;
  kind: 'short' | 'long';
}

/**
 * The four tones of the rhythm, in seconds from its start.
 *
 * @example
 * rhythmElements().map((e) => e.kind); // ['short', 'long', 'short', 'short']
 */
export function rhythmElements(timing: RhythmTiming = DEFAULT_RHYTHM): RhythmElement[] {
  const elements: RhythmElement[] = [];
  let at = 0;
  for (const units of MORSE_AI_UNITS) {
    const length = Math.abs(units) * timing.unitSeconds;
    if (units > 0) elements.push({ start: at, end: at + length, kind: units === 1 ? 'short' : 'long' });
    at += length;
  }
  return elements;
}

/** The tone frequency actually used at `sampleRate`: the configured one, kept well below Nyquist. */
export function toneFrequency(sampleRate: number, timing: RhythmTiming = DEFAULT_RHYTHM): number {
  return Math.min(timing.toneHz, sampleRate / 4);
}

/**
 * The rhythm as mono float samples at `sampleRate`, the tone's RMS while it sounds at `rmsDb`
 * dBFS (a full-scale sine is -3.01 dBFS).
 */
export function synthesizeRhythm(sampleRate: number, rmsDb: number, timing: RhythmTiming = DEFAULT_RHYTHM): Float32Array {
  const samples = new Float32Array(Math.round(RHYTHM_UNITS * timing.unitSeconds * sampleRate));
  const amplitude = Math.SQRT2 * 10 ** (rmsDb / 20);
  const step = (2 * Math.PI * toneFrequency(sampleRate, timing)) / sampleRate;
  const ramp = Math.max(1, Math.round(timing.rampSeconds * sampleRate));
  for (const element of rhythmElements(timing)) {
    const first = Math.round(element.start * sampleRate);
    const last = Math.min(samples.length, Math.round(element.end * sampleRate));
    const length = last - first;
    for (let i = 0; i < length; i++) {
      const edge = Math.min(i, length - 1 - i);
      const gain = edge >= ramp ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / ramp);
      samples[first + i] = amplitude * gain * Math.sin(step * i);
    }
  }
  return samples;
}
