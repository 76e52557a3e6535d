import { describe, expect, it } from 'vitest';
import { RhythmDetector } from './audio-detect.js';
import { DEFAULT_RHYTHM, synthesizeRhythm } from './audio-rhythm.js';

const RATE = 16000;

/** Noise (deterministic) at `db` dBFS RMS, `seconds` long. */
function noise(seconds: number, db: number, seed = 3): Float32Array {
  const out = new Float32Array(Math.round(seconds * RATE));
  const amplitude = Math.sqrt(3) * 10 ** (db / 20);
  for (let i = 0; i < out.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out[i] = ((seed / 2147483648) * 2 - 1) * amplitude;
  }
  return out;
}

function mix(base: Float32Array, add: Float32Array, atSeconds: number): Float32Array {
  const out = base.slice();
  const offset = Math.round(atSeconds * RATE);
  add.forEach((sample, i) => {
    if (offset + i < out.length) out[offset + i] = (out[offset + i] ?? 0) + sample;
  });
  return out;
}

function detect(signal: Float32Array, chunk = 777): ReturnType<RhythmDetector['finish']> {
  const detector = new RhythmDetector(RATE);
  for (let at = 0; at < signal.length; at += chunk) detector.push(signal.subarray(at, at + chunk));
  return detector.finish();
}

/** Tones at the given times and frequencies (a made-up pattern), each with 5 ms ramps. */
function tones(spec: [start: number, end: number, hz: number][], seconds: number, db = -20): Float32Array {
  const out = new Float32Array(Math.round(seconds * RATE));
  const amplitude = Math.SQRT2 * 10 ** (db / 20);
  for (const [start, end, hz] of spec) {
    const first = Math.round(start * RATE);
    const length = Math.round((end - start) * RATE);
    for (let i = 0; i < length; i++) {
      const ramp = Math.min(1, i / 80, (length - 1 - i) / 80);
      out[first + i] = amplitude * ramp * Math.sin((2 * Math.PI * hz * i) / RATE);
    }
  }
  return out;
}

describe('RhythmDetector', () => {
  it.each([
    [0.1, 1000],
    [0.06, 600],
    [0.2, 3000],
  ])('finds the rhythm with a %s s unit at %s Hz, with its times', (unitSeconds, toneHz) => {
    const rhythm = synthesizeRhythm(RATE, -18, { ...DEFAULT_RHYTHM, unitSeconds, toneHz });
    const found = detect(mix(new Float32Array(4 * RATE), rhythm, 1.25));
    expect(found).toHaveLength(1);
    const [hit] = found;
    expect(hit?.start).toBeCloseTo(1.25, 1);
    expect(Math.abs((hit?.start ?? 0) - 1.25)).toBeLessThan(0.011);
    expect(Math.abs((hit?.end ?? 0) - (1.25 + 11 * unitSeconds))).toBeLessThan(0.011);
    expect(hit?.dashRatio).toBeGreaterThan(2.7);
    expect(hit?.dashRatio).toBeLessThan(3.4);
    expect(Math.abs((hit?.unitSeconds ?? 0) - unitSeconds) / unitSeconds).toBeLessThan(0.1);
    expect(Math.abs((hit?.toneHz ?? 0) - toneHz) / toneHz).toBeLessThan(0.03);
    expect(hit?.levelDb).toBeCloseTo(-18, 0);
  });

  it('finds it over noise 20 dB quieter, at the very start and at the very end', () => {
    const rhythm = synthesizeRhythm(RATE, -20);
    const signal = mix(mix(noise(6, -40), rhythm, 0), rhythm, 6 - 1.1);
    const found = detect(signal);
    expect(found.map((r) => Number(r.start.toFixed(1)))).toEqual([0, 4.9]);
  });

  it('does not take other patterns for the rhythm', () => {
    const u = 0.1;
    const cases: [string, Float32Array][] = [
      ['one long tone', tones([[1, 3, 1000]], 4)],
      ['four short tones', tones([[1, 1 + u, 1000], [1 + 2 * u, 1 + 3 * u, 1000], [1 + 4 * u, 1 + 5 * u, 1000], [1 + 6 * u, 1 + 7 * u, 1000]], 4)],
      ['long/short only 1.5', tones([[1, 1.1, 1000], [1.2, 1.35, 1000], [1.45, 1.55, 1000], [1.65, 1.75, 1000]], 4)],
      ['syllables of different pitch', tones([[1, 1.1, 300], [1.2, 1.5, 1200], [1.8, 1.9, 500], [2, 2.1, 2000]], 4)],
      ['part of a longer sequence', tones([[0.8, 0.9, 1000], [1, 1.1, 1000], [1.2, 1.5, 1000], [1.8, 1.9, 1000], [2, 2.1, 1000]], 4)],
      ['noise', noise(4, -20)],
      ['silence', new Float32Array(4 * RATE)],
    ];
    for (const [name, signal] of cases) expect(detect(signal), name).toEqual([]);
  });
});
