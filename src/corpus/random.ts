/**
 * @module corpus/random
 * Seeded sampling keys. Every item gets a key in [0, 1) from a hash of the seed and the item's
 * place (the file's name relative to the scan root, so a moved corpus keeps its keys, and the
 * position); a sample of n is the n items with the smallest keys (a bottom-k
 * reservoir). The same seed gives the same sample whatever the order the items are read in, the
 * number of shards or the number of workers, so shards can keep their own reservoirs and merge.
 */

/** 32-bit finaliser (an avalanche mix in the style of a hash table's integer hash). */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units, then mixed: a stable 32-bit hash of a string. */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** The seed's per-file base, from the file's name under the scan root (`CorpusFile.name`): computed once per file. */
export function fileSeed(seed: number, file: string): number {
  return hashString(file, mix32(seed ^ 0x9e3779b9));
}

/** The sampling key of the item at `position` (byte offset or row index) of a file: 53 random bits as [0, 1). */
export function itemKey(base: number, position: number): number {
  const lo = position >>> 0;
  const hi = Math.floor(position / 4294967296) >>> 0;
  const a = mix32(base ^ mix32(lo ^ 0x68e31da4));
  const b = mix32(a ^ mix32(hi + 0x1b873593) ^ lo);
  // 27 bits of a and 26 of b: 53 bits, exactly representable.
  return ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
}

/** A seeded generator of floats in [0, 1) (splitmix32), for choices that are not per-item keys. */
export function seededGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    return mix32(state) / 4294967296;
  };
}
