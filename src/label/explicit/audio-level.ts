/**
 * @module label/explicit/audio-level
 * How loud the notice is. GB 45438 §5.3 wants a notice people perceive; one far louder than the
 * content startles, one far quieter is missed. So the content is measured near the insertion
 * point and the notice is set relative to it:
 *
 * - the content is cut into 10 ms blocks of its mono mix; blocks below -60 dBFS (silence,
 *   pauses between words) are gated out; the level is the RMS of the remaining blocks, over
 *   3 s after the point (start), before it (end) or 1.5 s either side (middle);
 * - the notice's RMS while it sounds is that level -3 dB (a 1 kHz tone sounds louder than
 *   speech or music of the same RMS), clamped to [-36, -12] dBFS: never inaudible, and never
 *   peaking above -9 dBFS (a sine peaks 3 dB above its RMS);
 * - content that is silent throughout the window gets the notice at -24 dBFS.
 *
 * dBFS here is 20·log10(RMS) with full scale 1.0, so a full-scale sine is -3.01 dBFS.
 */

/** The level rule; each figure can be overridden per call. */
export interface LevelPolicy {
  /** Notice RMS relative to the content's gated RMS, in dB. */
  offsetDb: number;
  /** Quietest notice, in dBFS RMS. */
  minDb: number;
  /** Loudest notice, in dBFS RMS. */
  maxDb: number;
  /** Notice level when the content near the point is silent, in dBFS RMS. */
  silentDb: number;
  /** Blocks quieter than this are not counted as content, in dBFS. */
  gateDb: number;
  /** Seconds of content measured next to the insertion point. */
  windowSeconds: number;
  /** A fixed notice level in dBFS RMS instead of a measured one (e.g. for streams with no lookahead). */
  fixedDb?: number;
}

export const DEFAULT_LEVEL_POLICY: Readonly<LevelPolicy> = Object.freeze({
  offsetDb: -3,
  minDb: -36,
  maxDb: -12,
  silentDb: -24,
  gateDb: -60,
  windowSeconds: 3,
});

/** Length of a measurement block. */
export const LEVEL_BLOCK_SECONDS = 0.01;

/** dBFS of a mean square (power); -Infinity for silence. */
export function powerToDb(meanSquare: number): number {
  return meanSquare > 0 ? 10 * Math.log10(meanSquare) : -Infinity;
}

/**
 * The gated RMS level of blocks given as mean squares, in dBFS, or null when every block is
 * below the gate.
 *
 * @example
 * gatedLevelDb([0.01, 0.01, 0], -60); // -20
 */
export function gatedLevelDb(blockPowers: Iterable<number>, gateDb: number): number | null {
  const gate = 10 ** (gateDb / 10);
  let sum = 0;
  let count = 0;
  for (const power of blockPowers) {
    if (power < gate) continue;
    sum += power;
    count++;
  }
  return count === 0 ? null : powerToDb(sum / count);
}

/** The notice's RMS level in dBFS for content measured at `contentDb` (null: silent). */
export function noticeLevelDb(contentDb: number | null, policy: LevelPolicy = DEFAULT_LEVEL_POLICY): number {
  if (policy.fixedDb !== undefined) return policy.fixedDb;
  if (contentDb === null) return policy.silentDb;
  return Math.max(policy.minDb, Math.min(policy.maxDb, contentDb + policy.offsetDb));
}

/** The mean square of each whole block of `blockFrames` samples in `mono`. */
export function blockPowers(mono: Float32Array, blockFrames: number): Float64Array {
  const count = Math.floor(mono.length / blockFrames);
  const powers = new Float64Array(count);
  for (let b = 0, i = 0; b < count; b++) {
    let sum = 0;
    for (const end = i + blockFrames; i < end; i++) {
      const sample = mono[i] ?? 0;
      sum += sample * sample;
    }
    powers[b] = sum / blockFrames;
  }
  return powers;
}
