/**
 * @module safety/automaton
 * The multi-pattern automaton (Aho-Corasick) over folded characters, laid out in typed
 * arrays for a cache-friendly inner loop:
 * - nodes are numbered breadth-first, so the shallow nodes that running text visits most sit
 *   together in memory;
 * - the root's transitions are a dense table; below it, the children of a node have
 *   consecutive numbers in symbol order, so a transition is a binary search over a small
 *   slice of one 16-bit array (measured faster than hashing: the hot slices stay in cache);
 * - the root table and failure links hold "flagged" targets, `(node << 1) | 1` when a pattern
 *   ends at the node or on its suffix chain, so the loop knows without a lookup whether to stop.
 * Each node also carries what the scanner needs to decide, without looking ahead, whether a
 * hit is final and how much text it must still hold back.
 */

/** One distinct pattern, in symbols (alphabet indexes >= 1). */
export interface PatternSpec {
  /** Symbols as UTF-16 code units (every alphabet index fits in 16 bits). */
  symbols: string;
  /** True when the pattern is an allow-list word or exception phrase (it suppresses hits inside it). */
  allow: boolean;
  /** True when the pattern reports a keyword (a pattern can be both). */
  keyword: boolean;
}

export interface Automaton {
  /** Nodes, root included (node 0). */
  readonly size: number;
  /** Flagged child of the root by symbol, 0 when none. */
  readonly rootNext: Int32Array;
  /**
   * Children of node n are nodes `firstChild[n] .. firstChild[n] + childCount[n] - 1` (at most
   * one per symbol, and there are fewer than 65,536 symbols).
   */
  readonly firstChild: Int32Array;
  readonly childCount: Uint16Array;
  /** The symbol on the edge into each node. */
  readonly symbol: Uint16Array;
  /** 1 when a pattern ends at the node or on its suffix chain. */
  readonly reports: Uint8Array;
  /** Flagged failure link of each node. */
  readonly failFlagged: Int32Array;
  readonly fail: Int32Array;
  readonly depth: Int32Array;
  /** Pattern index ending exactly at the node, or -1. */
  readonly terminal: Int32Array;
  /** The first node on the node's suffix chain (itself included) where a pattern ends, or -1. */
  readonly report: Int32Array;
  /**
   * Longest suffix (in symbols) of the text so far that a keyword pattern could still extend to
   * a hit: 8-bit when no pattern is longer than 255 symbols (most libraries), else 16-bit.
   */
  readonly keywordLive: DepthArray;
  /** Same for allow-list patterns: while one is live, a keyword inside it cannot be reported yet. */
  readonly allowLive: DepthArray;
  /** The longest pattern's length (at most 65,535: see `buildAutomaton`). */
  readonly maxDepth: number;
}

interface Trie {
  size: number;
  parent: Int32Array;
  sym: Int32Array;
  depth: Int32Array;
  terminal: Int32Array;
  maxDepth: number;
}

/**
 * The trie of all patterns, built by inserting each one through an open-addressing hash of
 * `(parent, symbol)` edges; node numbers follow insertion order.
 */
function buildTrie(patterns: readonly PatternSpec[]): Trie {
  let capacity = 1;
  let maxDepth = 0;
  for (const p of patterns) {
    capacity += p.symbols.length;
    if (p.symbols.length > maxDepth) maxDepth = p.symbols.length;
  }
  const parent = new Int32Array(capacity);
  const sym = new Int32Array(capacity);
  const depth = new Int32Array(capacity);
  const terminal = new Int32Array(capacity).fill(-1);
  let bits = 4;
  while (1 << bits < 2 * capacity) bits++;
  const mask = (1 << bits) - 1;
  // Slot -> child node (0: empty); the child's own parent and symbol are the key.
  const slots = new Int32Array(mask + 1);
  let size = 1;
  patterns.forEach((pattern, index) => {
    const symbols = pattern.symbols;
    let node = 0;
    for (let d = 0; d < symbols.length; d++) {
      const symbol = symbols.charCodeAt(d);
      let h = Math.imul(node ^ Math.imul(symbol, 0x27d4eb2d), 0x9e3779b1) >>> (32 - bits);
      let child = slots[h] as number;
      while (child !== 0 && (parent[child] !== node || sym[child] !== symbol)) {
        h = (h + 1) & mask;
        child = slots[h] as number;
      }
      if (child === 0) {
        child = size++;
        parent[child] = node;
        sym[child] = symbol;
        depth[child] = d + 1;
        slots[h] = child;
      }
      node = child;
    }
    terminal[node] = index;
  });
  return { size, parent, sym, depth, terminal, maxDepth };
}

/** Stable counting sort of `items` by a key in `[0, keys)`. */
function countingSort(items: Int32Array, keys: number, key: Int32Array): Int32Array {
  const start = new Int32Array(keys + 1);
  for (const item of items) start[(key[item] as number) + 1] = (start[(key[item] as number) + 1] as number) + 1;
  for (let k = 0; k < keys; k++) start[k + 1] = (start[k + 1] as number) + (start[k] as number);
  const out = new Int32Array(items.length);
  for (const item of items) {
    const k = key[item] as number;
    out[start[k] as number] = item;
    start[k] = (start[k] as number) + 1;
  }
  return out;
}

/**
 * Renumbers the trie breadth-first. Children of a node get consecutive numbers in symbol
 * order, so `firstChild[n] .. firstChild[n] + childCount[n]` lists them.
 */
function breadthFirst(trie: Trie, alphabetSize: number): { trie: Trie; firstChild: Int32Array; childCount: Uint16Array } {
  const { size, parent, sym, depth, terminal } = trie;
  // Every non-root node sorted by (parent, symbol): by symbol, then stably by parent.
  const nodes = new Int32Array(Math.max(size - 1, 0));
  for (let n = 1; n < size; n++) nodes[n - 1] = n;
  const children = countingSort(countingSort(nodes, alphabetSize, sym), size, parent);
  const count = new Int32Array(size + 1);
  for (let n = 1; n < size; n++) count[(parent[n] as number) + 1] = (count[(parent[n] as number) + 1] as number) + 1;
  for (let n = 0; n < size; n++) count[n + 1] = (count[n + 1] as number) + (count[n] as number);
  const order = new Int32Array(size);
  const renumber = new Int32Array(size);
  let tail = 1;
  for (let head = 0; head < tail; head++) {
    const old = order[head] as number;
    for (let e = count[old] as number; e < (count[old + 1] as number); e++) {
      const child = children[e] as number;
      renumber[child] = tail;
      order[tail++] = child;
    }
  }
  const out: Trie = {
    size,
    parent: new Int32Array(size),
    sym: new Int32Array(size),
    depth: new Int32Array(size),
    terminal: new Int32Array(size),
    maxDepth: trie.maxDepth,
  };
  const firstChild = new Int32Array(size);
  const childCount = new Uint16Array(size);
  for (let n = 0; n < size; n++) {
    const old = order[n] as number;
    out.parent[n] = n === 0 ? 0 : (renumber[parent[old] as number] as number);
    out.sym[n] = sym[old] as number;
    out.depth[n] = depth[old] as number;
    out.terminal[n] = terminal[old] as number;
    childCount[n] = (count[old + 1] as number) - (count[old] as number);
    if ((childCount[n] as number) > 0) firstChild[n] = renumber[children[count[old] as number] as number] as number;
  }
  return { trie: out, firstChild, childCount };
}

/**
 * Builds the automaton. `patterns` must be distinct; their order gives pattern indexes.
 * `alphabetSize` is one more than the largest symbol. Throws `RangeError` for a pattern longer
 * than 65,535 symbols (a library's keywords and phrases are at most 256 characters).
 */
export function buildAutomaton(patterns: readonly PatternSpec[], alphabetSize: number): Automaton {
  // Depths (in `keywordLive`, `allowLive`: 8-bit when they fit, see below) and child counts are 16-bit: half the memory and cache file.
  if (alphabetSize > 0x10000 || patterns.some((p) => p.symbols.length > 0xffff)) throw new RangeError('patterns of at most 65,535 symbols from an alphabet of at most 65,535');
  const { trie, firstChild, childCount } = breadthFirst(buildTrie(patterns), alphabetSize);
  const { size, parent, sym, depth, terminal, maxDepth } = trie;
  const rootChild = new Int32Array(alphabetSize);
  for (let n = firstChild[0] as number, end = n + (childCount[0] as number); n < end; n++) rootChild[sym[n] as number] = n;
  const child = (node: number, symbol: number): number => {
    if (node === 0) return rootChild[symbol] as number;
    let lo = firstChild[node] as number;
    let hi = lo + (childCount[node] as number) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = sym[mid] as number;
      if (s === symbol) return mid;
      if (s < symbol) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  };

  // Failure links and report chains, in breadth-first (= node number) order.
  const fail = new Int32Array(size);
  const report = new Int32Array(size).fill(-1);
  for (let node = 1; node < size; node++) {
    const p = parent[node] as number;
    let f = 0;
    if (p !== 0) {
      for (let candidate = fail[p] as number; ; candidate = fail[candidate] as number) {
        const t = child(candidate, sym[node] as number);
        if (t !== 0) {
          f = t;
          break;
        }
        if (candidate === 0) break;
      }
    }
    fail[node] = f;
    report[node] = (terminal[node] as number) >= 0 ? node : (report[f] as number);
  }

  // Which nodes are proper prefixes of a keyword or an allow pattern (children before parents).
  const keywordBelow = new Uint8Array(size);
  const allowBelow = new Uint8Array(size);
  for (let node = size - 1; node > 0; node--) {
    const p = parent[node] as number;
    const t = terminal[node] as number;
    const pattern = t >= 0 ? patterns[t] : undefined;
    if (keywordBelow[node] || (pattern !== undefined && pattern.keyword)) keywordBelow[p] = 1;
    if (allowBelow[node] || (pattern !== undefined && pattern.allow)) allowBelow[p] = 1;
  }
  const keywordLive = new Uint16Array(size);
  const allowLive = new Uint16Array(size);
  for (let node = 1; node < size; node++) {
    const f = fail[node] as number;
    keywordLive[node] = keywordBelow[node] ? (depth[node] as number) : (keywordLive[f] as number);
    allowLive[node] = allowBelow[node] ? (depth[node] as number) : (allowLive[f] as number);
  }

  const flag = (node: number): number => (node << 1) | ((report[node] as number) >= 0 ? 1 : 0);
  const rootNext = new Int32Array(alphabetSize);
  for (let s = 0; s < alphabetSize; s++) if (rootChild[s]) rootNext[s] = flag(rootChild[s] as number);
  const failFlagged = new Int32Array(size);
  for (let node = 1; node < size; node++) failFlagged[node] = flag(fail[node] as number);
  const reports = Uint8Array.from(report, (r) => (r >= 0 ? 1 : 0));
  // 8-bit depths when they fit: half the memory and cache file of 16-bit ones.
  const depths = (live: Uint16Array): DepthArray => (maxDepth <= 0xff ? new Uint8Array(live) : live);
  return { size, rootNext, firstChild, childCount, symbol: Uint16Array.from(sym), reports, failFlagged, fail, depth, terminal, report, keywordLive: depths(keywordLive), allowLive: depths(allowLive), maxDepth };
}

/** Depths of nodes, in the narrower array that holds the automaton's. */
export type DepthArray = Uint8Array | Uint16Array;

/** Non-negative counts (lengths of patterns, of keywords), in the narrowest array that holds them all. */
export type CountArray = Uint8Array | Uint16Array | Int32Array;

/** `values` (none negative) in the narrowest array that holds them: a library's lengths mostly fit 8 bits. */
export function narrowest(values: Int32Array): CountArray {
  let max = 0;
  for (let i = 0; i < values.length; i++) if ((values[i] as number) > max) max = values[i] as number;
  return max <= 0xff ? new Uint8Array(values) : max <= 0xffff ? new Uint16Array(values) : values;
}

/** A `leftGlued` value: some pattern on the node's report chain can start anywhere. */
export const NEVER_GLUED = 0x7fffffff;

/** Bits of a pair filter, from 1 Kbit to 4 Mbit. */
const PAIR_BITS_MIN = 10;
const PAIR_BITS_MAX = 22;
const PAIR_HASH = 0x9e3779b1 | 0;

/**
 * The bit of the symbol pair `(a, b)` in a pair filter of `filter.length * 32` bits: the top
 * bits of a multiplicative hash, so a filter folds to a smaller one by dropping low bits.
 */
export function pairBit(a: number, b: number, shift: number): number {
  return Math.imul((a << 16) | b, PAIR_HASH) >>> shift;
}

/** The `shift` of `pairBit` for a filter of `words` 32-bit words. */
export function pairShift(words: number): number {
  return 32 - (31 - Math.clz32(words * 32));
}

function popCount(word: number): number {
  let n = word - ((word >>> 1) & 0x55555555);
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return Math.imul((n + (n >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Two tables that let the scan loop skip work, made when a library is compiled (a pass over
 * hundreds of thousands of nodes costs a cold process a tenth of a second) and cached with it:
 * - `leftGlued`, per node: when every pattern on its report chain (allow patterns included)
 *   must start at a word boundary (`leftWord`), the longest of them; else `NEVER_GLUED`. When
 *   that many of the latest significant characters were each glued to a word character before
 *   them, no pattern ending at the node can start at a boundary, so the scan skips deciding
 *   (in Latin text, most reports of a library with pinyin initials are such mid-word ends);
 * - `pairs`: a bit set (a Bloom filter with one hash, `pairBit`) of the symbol pairs that stand
 *   next to each other in some pattern, about 8 bits per distinct pair (128 KB for 70,000),
 *   so it stays in a fast cache. After `a`, a symbol `b` whose pair is not in it cannot extend
 *   any suffix of two or more symbols: the step goes straight to the root's child for `b`
 *   without walking the node and its failure links, which is most steps in text that is not a
 *   keyword. A false positive only costs the walk.
 */
export function scanShortcuts(a: Automaton, leftWord: (pattern: number) => boolean, patternLength: CountArray): { leftGlued: Int32Array; pairs: Int32Array } {
  const { size, firstChild, childCount, symbol, report, terminal, fail } = a;
  const leftGlued = new Int32Array(size).fill(NEVER_GLUED);
  // Node order: a failure link points to a lower node, so the rest of a chain is known.
  for (let node = 1; node < size; node++) {
    const r = report[node] as number;
    if (r < 0) continue;
    if (r !== node) {
      leftGlued[node] = leftGlued[r] as number;
      continue;
    }
    const pattern = terminal[node] as number;
    if (!leftWord(pattern)) continue;
    const rest = report[fail[node] as number] as number;
    leftGlued[node] = Math.max(patternLength[pattern] as number, rest >= 0 ? (leftGlued[rest] as number) : 0);
  }
  // Set at the widest size, then folded to about 8 bits per distinct pair. The children of
  // all nodes are nodes 1 .. size - 1, each once.
  const wide = new Int32Array(1 << (PAIR_BITS_MAX - 5));
  const wideShift = 32 - PAIR_BITS_MAX;
  for (let node = 1; node < size; node++) {
    const count = childCount[node] as number;
    if (count === 0) continue;
    const high = symbol[node] as number;
    for (let child = firstChild[node] as number, end = child + count; child < end; child++) {
      const bit = pairBit(high, symbol[child] as number, wideShift);
      wide[bit >>> 5] = (wide[bit >>> 5] as number) | (1 << (bit & 31));
    }
  }
  let pairCount = 0;
  for (let k = 0; k < wide.length; k++) if (wide[k] !== 0) pairCount += popCount(wide[k] as number);
  let bits = PAIR_BITS_MIN;
  while (bits < PAIR_BITS_MAX && 1 << bits < pairCount * 8) bits++;
  const pairs = new Int32Array(1 << (bits - 5));
  const drop = PAIR_BITS_MAX - bits;
  for (let k = 0; k < wide.length; k++) {
    let word = wide[k] as number;
    while (word !== 0) {
      const top = 31 - Math.clz32(word);
      const bit = ((k << 5) | top) >>> drop;
      pairs[bit >>> 5] = (pairs[bit >>> 5] as number) | (1 << (bit & 31));
      word &= ~(1 << top);
    }
  }
  return { leftGlued, pairs };
}
