/**
 * @module safety/traditional
 * Traditional and variant Chinese characters to simplified, character by character, from
 * the OpenCC tables that opencc-js ships. Phrase-level conversion is not needed: keywords and
 * text go through the same table, so a keyword is found whichever script either was written in.
 */
import TSCharacters from 'opencc-js/dict/TSCharacters';
import TWVariantsRev from 'opencc-js/dict/TWVariantsRev';
import HKVariantsRev from 'opencc-js/dict/HKVariantsRev';

/** Parses an OpenCC table (`from to[ alt...]|from to|...`) into code point pairs, first target only. */
function parseTable(table: string, into: Map<number, number>): void {
  for (const pair of table.split('|')) {
    const space = pair.indexOf(' ');
    if (space <= 0) continue;
    const from = pair.slice(0, space);
    const to = pair.slice(space + 1).split(' ')[0] ?? '';
    if ([...from].length !== 1 || [...to].length !== 1) continue;
    into.set(from.codePointAt(0) as number, to.codePointAt(0) as number);
  }
}

/**
 * Code point -> simplified code point. Regional variants (Taiwan, Hong Kong) are first brought
 * to OpenCC's standard traditional form, then simplified.
 */
export function traditionalToSimplifiedMap(): Map<number, number> {
  const simplified = new Map<number, number>();
  parseTable(TSCharacters, simplified);
  const variants = new Map<number, number>();
  parseTable(TWVariantsRev, variants);
  parseTable(HKVariantsRev, variants);
  for (const [variant, standard] of variants) {
    if (!simplified.has(variant)) simplified.set(variant, simplified.get(standard) ?? standard);
  }
  return simplified;
}
