import { describe, expect, it } from 'vitest';
import { DEFAULT_LEVEL_POLICY, blockPowers, gatedLevelDb, noticeLevelDb, powerToDb } from './audio-level.js';
import { decodeMono, encodeMono, frameBytes, type PcmEncoding } from './audio-pcm.js';
import { DEFAULT_RHYTHM, RHYTHM_UNITS, rhythmElements, synthesizeRhythm, toneFrequency } from './audio-rhythm.js';

function rmsDb(samples: Float32Array): number {
  return powerToDb(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
}

describe('the Morse "AI" rhythm (GB 45438 §5.3, ITU-R M.1677-1 timing)', () => {
  it('is dot, dash, dot, dot with 1:3 elements and 1/3/1 unit gaps, 11 units of 100 ms', () => {
    expect(RHYTHM_UNITS).toBe(11);
    const elements = rhythmElements();
    expect(elements.map((e) => e.kind)).toEqual(['short', 'long', 'short', 'short']);
    expect(elements.map((e) => [Number(e.start.toFixed(6)), Number(e.end.toFixed(6))])).toEqual([
      [0, 0.1],
      [0.2, 0.5],
      [0.8, 0.9],
      [1, 1.1],
    ]);
  });

  it('scales with the unit', () => {
    const elements = rhythmElements({ ...DEFAULT_RHYTHM, unitSeconds: 0.06 });
    expect(elements.at(-1)?.end).toBeCloseTo(0.66, 9);
    expect((elements[1]?.end ?? 0) - (elements[1]?.start ?? 0)).toBeCloseTo(0.18, 9);
  });

  it('sounds at the requested RMS while on and is silent in the gaps', () => {
    const rate = 48000;
    const samples = synthesizeRhythm(rate, -20);
    expect(samples.length).toBe(Math.round(1.1 * rate));
    const dash = samples.subarray(Math.round(0.21 * rate), Math.round(0.49 * rate));
    expect(rmsDb(dash)).toBeCloseTo(-20, 1);
    expect(samples.subarray(Math.round(0.5 * rate) + 1, Math.round(0.8 * rate)).every((s) => s === 0)).toBe(true);
    // 5 ms raised-cosine ramps: an element starts at silence.
    expect(Math.abs(samples[Math.round(0.2 * rate)] ?? 1)).toBeLessThan(1e-3);
  });

  it('keeps the tone below Nyquist at very low rates', () => {
    expect(toneFrequency(48000)).toBe(1000);
    expect(toneFrequency(2000)).toBe(500);
  });
});

describe('the notice level rule', () => {
  it('sets the notice 3 dB under the gated content level, within [-36, -12] dBFS', () => {
    expect(noticeLevelDb(-20)).toBe(-23);
    expect(noticeLevelDb(-3)).toBe(-12);
    expect(noticeLevelDb(-50)).toBe(-36);
    expect(noticeLevelDb(null)).toBe(DEFAULT_LEVEL_POLICY.silentDb);
    expect(noticeLevelDb(-20, { ...DEFAULT_LEVEL_POLICY, fixedDb: -30 })).toBe(-30);
  });

  it('gates out blocks below -60 dBFS', () => {
    expect(gatedLevelDb([0.01, 0.01, 0, 1e-9], -60)).toBeCloseTo(-20, 9);
    expect(gatedLevelDb([0, 1e-9], -60)).toBeNull();
    expect(blockPowers(new Float32Array([1, 1, 0.5, 0.5, 9]), 2)).toEqual(new Float64Array([1, 0.25]));
  });
});

describe('PCM sample encodings', () => {
  const layouts: PcmEncoding[] = ['u8', 's16le', 's24le', 's32le', 'f32le', 'f64le'];
  it.each(layouts)('%s round-trips a mono signal into every channel', (encoding) => {
    const layout = { encoding, sampleRate: 8000, channels: 3 };
    const signal = new Float32Array([0, 0.5, -0.5, 0.25, -1]);
    const bytes = encodeMono(signal, layout);
    expect(bytes.length).toBe(signal.length * frameBytes(layout));
    const back = decodeMono(bytes, layout);
    const step = encoding === 'u8' ? 1 / 128 : 1e-4;
    back.forEach((value, i) => expect(Math.abs(value - (signal[i] ?? 0))).toBeLessThanOrEqual(step));
  });

  it('decodes unaligned 16-bit bytes like aligned ones', () => {
    const layout = { encoding: 's16le' as const, sampleRate: 8000, channels: 2 };
    const bytes = encodeMono(new Float32Array([0.5, -0.25]), layout);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(decodeMono(shifted.subarray(1), layout)).toEqual(decodeMono(bytes, layout));
  });
});
