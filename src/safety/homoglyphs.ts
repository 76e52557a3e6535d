/**
 * @module safety/homoglyphs
 * Look-alike characters users put in place of Latin letters to slip past a filter: Cyrillic
 * and Greek letters that render like Latin ones, and the digit or symbol substitutions of
 * "leet" spelling. Folding is one-way onto a canonical Latin letter; it only has to be
 * consistent, because keywords and text pass through the same table.
 */

/** Lower-case look-alike -> Latin letter. Upper-case forms are derived. */
const LETTER_PAIRS: readonly (readonly [string, string])[] = [
  // Cyrillic
  ['а', 'a'], ['в', 'b'], ['е', 'e'], ['ё', 'e'], ['к', 'k'], ['м', 'm'], ['н', 'h'], ['о', 'o'],
  ['р', 'p'], ['с', 'c'], ['т', 't'], ['у', 'y'], ['х', 'x'], ['ѕ', 's'], ['і', 'i'], ['ї', 'i'],
  ['ј', 'j'], ['ԁ', 'd'], ['ԛ', 'q'], ['ԝ', 'w'], ['һ', 'h'], ['ӏ', 'l'], ['ɡ', 'g'],
  // Greek
  ['α', 'a'], ['β', 'b'], ['ε', 'e'], ['η', 'n'], ['ι', 'i'], ['κ', 'k'], ['ν', 'v'], ['ο', 'o'],
  ['ρ', 'p'], ['τ', 't'], ['υ', 'u'], ['χ', 'x'], ['ω', 'w'], ['ζ', 'z'], ['μ', 'u'],
];

/** Digits and symbols used as letters (`k1ll`, `5ex`, `@ss`). */
const SUBSTITUTIONS: readonly (readonly [string, string])[] = [
  ['0', 'o'], ['1', 'i'], ['3', 'e'], ['4', 'a'], ['5', 's'], ['7', 't'], ['@', 'a'], ['$', 's'],
];

/** Builds the code point -> code point map. */
export function homoglyphMap(): Map<number, number> {
  const map = new Map<number, number>();
  const add = (from: string, to: string): void => {
    map.set(from.codePointAt(0) as number, to.codePointAt(0) as number);
  };
  for (const [from, to] of LETTER_PAIRS) {
    add(from, to);
    const upper = from.toUpperCase();
    if (upper !== from && [...upper].length === 1) add(upper, to.toUpperCase());
  }
  for (const [from, to] of SUBSTITUTIONS) add(from, to);
  return map;
}
