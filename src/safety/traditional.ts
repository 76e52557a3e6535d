/**
 * @module safety/traditional
 * Traditional and variant Chinese characters to simplified, character by character, from
 * the OpenCC tables that opencc-js ships. Phrase-level conversion is not needed: keywords and
 * text go through the same table, so a keyword is found whichever script either was written in.
 *
 * OpenCC's two directions do not always agree (simplified 稆 converts to 穭, which converts
 * back to 穞), so the tables are merged into classes of characters that convert into one
 * another, and every member of a class folds to one simplified character.
 */
import HKVariantsRev from 'opencc-js/dict/HKVariantsRev';
import STCharacters from 'opencc-js/dict/STCharacters';
import TSCharacters from 'opencc-js/dict/TSCharacters';
import TWVariantsRev from 'opencc-js/dict/TWVariantsRev';

/** Calls `link(from, to)` for every single-character pair of an OpenCC table (`from to[ alt...]|...`). */
function eachPair(table: string, link: (from: number, to: number) => void): void {
  for (const entry of table.split('|')) {
    const [from, ...targets] = entry.split(' ');
    if (from === undefined || [...from].length !== 1) continue;
    for (const to of targets) if ([...to].length === 1) link(from.codePointAt(0) as number, to.codePointAt(0) as number);
  }
}

/** Code point -> the simplified character its conversion class folds to. */
export function traditionalToSimplifiedMap(): Map<number, number> {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root) as number;
    for (let y = x; y !== root; ) {
      const next = parent.get(y) as number;
      parent.set(y, root);
      y = next;
    }
    return root;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (!parent.has(ra)) parent.set(ra, ra);
    if (!parent.has(rb)) parent.set(rb, rb);
    if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb));
  };
  const traditional = new Set<number>();
  eachPair(TSCharacters, (from, to) => {
    traditional.add(from);
    union(from, to);
  });
  eachPair(STCharacters, (from, to) => union(from, to));
  eachPair(TWVariantsRev, (from, to) => union(from, to));
  eachPair(HKVariantsRev, (from, to) => union(from, to));
  // Each class folds to its smallest member that is not itself a traditional form.
  const canonical = new Map<number, number>();
  for (const member of parent.keys()) {
    const root = find(member);
    const best = canonical.get(root);
    if (!traditional.has(member) && (best === undefined || member < best)) canonical.set(root, member);
  }
  const map = new Map<number, number>();
  for (const member of parent.keys()) {
    const root = find(member);
    const target = canonical.get(root) ?? root;
    if (target !== member) map.set(member, target);
  }
  return map;
}
