/**
 * @module safety/pii
 * Detectors for personal data in Chinese text (AI Measures Art. 4(4) and 11; Personal
 * Information Protection Law Art. 28 on sensitive personal information): resident identity
 * numbers, mobile numbers, bank cards, passports, unified social credit codes, email and IP
 * addresses, and licence plates. Every candidate is validated (check digits, dates, lengths)
 * and must stand alone: a number inside a longer run of digits is not reported. Full-width
 * digits and letters are read as their ASCII forms; offsets stay those of the original text.
 */
import { isBankCardNumber, isIpv4, isIpv6, isResidentIdNumber, isUnifiedSocialCreditCode } from './pii-checks.js';

export const piiTypes = ['resident-id', 'mobile', 'bank-card', 'passport', 'uscc', 'email', 'ip', 'licence-plate'] as const;
export type PiiType = (typeof piiTypes)[number];

export interface PiiMatch {
  type: PiiType;
  /** UTF-16 offsets into the original text: `[start, end)`. */
  start: number;
  end: number;
  /** The original text. */
  value: string;
}

export interface PiiOptions {
  /** Types to look for; all by default. */
  types?: readonly PiiType[];
  /** Birth dates after this day make an identity number invalid (default: now). */
  today?: Date;
}

interface Detector {
  type: PiiType;
  pattern: RegExp;
  /** Validates the ASCII-folded candidate. */
  valid(candidate: string, today: Date): boolean;
  /** What the text must hold for the pattern to match at all (`NEED_*` bits of `needsOf`). */
  needs: number;
}

/** A run of at least 4, 6, 7 or 17 digits; at least one digit; an `@`; a colon; a province character before a Latin capital. */
const NEED_DIGITS_4 = 1;
const NEED_DIGITS_6 = 2;
const NEED_DIGITS_7 = 4;
const NEED_DIGITS_17 = 8;
const NEED_DIGIT = 16;
const NEED_AT = 32;
const NEED_COLON = 64;
const NEED_PLATE = 128;

const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
const PLATE_LETTER = 'A-HJ-NP-Z';

/** In priority order: where two candidates overlap, the earlier detector wins. */
const detectors: readonly Detector[] = [
  {
    type: 'resident-id',
    pattern: /(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])/g,
    valid: (c, today) => isResidentIdNumber(c, today),
    needs: NEED_DIGITS_17,
  },
  {
    type: 'uscc',
    pattern: /(?<![0-9A-Za-z])[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}(?![0-9A-Za-z])/g,
    valid: (c) => isUnifiedSocialCreditCode(c),
    needs: NEED_DIGITS_6,
  },
  {
    type: 'bank-card',
    pattern: /(?<![0-9])(?:\d{4}[ -]?){3}\d{4,7}(?![0-9])/g,
    valid: (c) => isBankCardNumber(c.replace(/[ -]/g, '')),
    needs: NEED_DIGITS_4,
  },
  {
    type: 'mobile',
    // MIIT numbering plan: 11 digits, 1 then 3-9; optional +86/0086 prefix; 3-4-4 grouping.
    pattern: /(?<![0-9+])(?:(?:\+|00)86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])/g,
    valid: () => true,
    needs: NEED_DIGITS_4,
  },
  {
    type: 'passport',
    // Ordinary passports E + 8 digits or E + letter + 7 digits; G (older), D, S, P (official).
    pattern: /(?<![0-9A-Za-z])(?:[EGDSP]\d{8}|E[A-HJ-NP-Z]\d{7})(?![0-9A-Za-z])/g,
    valid: () => true,
    needs: NEED_DIGITS_7,
  },
  {
    type: 'email',
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g,
    valid: (c) => !c.startsWith('.') && !c.includes('..'),
    needs: NEED_AT,
  },
  {
    type: 'ip',
    pattern: /(?<![0-9A-Za-z.:])(?:\d{1,3}(?:\.\d{1,3}){3}|(?=[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:)[0-9A-Fa-f:]{2,39}(?::\d{1,3}(?:\.\d{1,3}){3})?)(?![0-9A-Za-z:]|\.\d)/g,
    valid: (c) => (c.includes(':') ? isIpv6(c) : isIpv4(c)),
    // IPv4 needs digits; IPv6 two colons (`ab::cd` has no digit).
    needs: NEED_DIGIT | NEED_COLON,
  },
  {
    type: 'licence-plate',
    // GA 36-2018: province, issuing-office letter, then 5 characters (6 for new-energy plates).
    pattern: new RegExp(`[${PROVINCES}][${PLATE_LETTER}][·•・ ]?[${PLATE_LETTER}0-9]{5,6}[挂学警港澳领使]?(?![0-9A-Za-z])`, 'g'),
    valid: (c) => {
      const serial = c.replace(/^..[·•・ ]?/u, '').replace(/[挂学警港澳领使]$/u, '');
      if (serial.length === 6) return /^[DF][A-HJ-NP-Z0-9]\d{4}$/.test(serial) || /^\d{5}[DF]$/.test(serial);
      return /\d/.test(serial);
    },
    needs: NEED_PLATE,
  },
];

/**
 * Full-width ASCII and the ideographic space to ASCII, one UTF-16 unit for one, so offsets in
 * the folded text are offsets in the original.
 */
function foldWidth(text: string): string {
  if (text.length >= WIDTH_BY_TABLE && littleEndian) {
    // Long texts: one pass over the code units into a buffer (a replacement per full-width
    // comma made this a tenth of a 20 M-character scan).
    if (text.search(WIDE) < 0) return text;
    const units = new Uint16Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const u = text.charCodeAt(i);
      units[i] = u === 0x3000 ? 0x20 : u >= 0xff01 && u <= 0xff5e ? u - 0xfee0 : u;
    }
    return utf16.decode(units);
  }
  let folded = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3000 || (c >= 0xff01 && c <= 0xff5e)) {
      folded += text.slice(from, i) + (c === 0x3000 ? ' ' : String.fromCharCode(c - 0xfee0));
      from = i + 1;
    }
  }
  return from === 0 ? text : folded + text.slice(from);
}

const PROVINCE_UNITS = new Set(Array.from(PROVINCES, (ch) => ch.charCodeAt(0)));

/**
 * What `text` holds that the detectors need (`NEED_*` bits), in one pass over its code units,
 * reading full-width forms as their ASCII ones as `foldWidth` does. A detector whose needs are
 * all absent cannot match, so it is not run: most text has no digits, `@` or plate, and then
 * nothing is run or copied. The result is the same as running every detector.
 */
function needsOf(text: string): number {
  let found = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0xff10 && c <= 0xff19)) {
      run++;
      continue;
    }
    if (run > 0) {
      found |= digitNeeds(run);
      run = 0;
    }
    if (c === 0x40 || c === 0xff20) found |= NEED_AT;
    else if (c === 0x3a || c === 0xff1a) found |= NEED_COLON;
    else if (((c >= 0x41 && c <= 0x5a) || (c >= 0xff21 && c <= 0xff3a)) && i > 0 && PROVINCE_UNITS.has(text.charCodeAt(i - 1))) found |= NEED_PLATE;
  }
  return run > 0 ? found | digitNeeds(run) : found;
}

function digitNeeds(run: number): number {
  return NEED_DIGIT | (run >= 4 ? NEED_DIGITS_4 : 0) | (run >= 6 ? NEED_DIGITS_6 : 0) | (run >= 7 ? NEED_DIGITS_7 : 0) | (run >= 17 ? NEED_DIGITS_17 : 0);
}
const WIDE = /[\uFF01-\uFF5E\u3000]/g;
/** From this length on, `foldWidth` goes through a buffer. */
const WIDTH_BY_TABLE = 4096;
const utf16 = new TextDecoder('utf-16le');
const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Every personal-data item in `text`, ordered by position.
 *
 * @example
 * detectPii('电话 138 0013 8000'); // [{ type: 'mobile', start: 3, end: 16, value: '138 0013 8000' }]
 */
export function detectPii(text: string, options: PiiOptions = {}): PiiMatch[] {
  return detect(text, options, needsOf(text));
}

/** `detectPii` with every detector run, whatever the text holds: what the tests compare the pre-filter with. */
export function detectPiiUnfiltered(text: string, options: PiiOptions = {}): PiiMatch[] {
  return detect(text, options, -1);
}

function detect(text: string, options: PiiOptions, needs: number): PiiMatch[] {
  const found: PiiMatch[] = [];
  if (needs === 0) return found;
  const wanted = options.types;
  let folded: string | undefined;
  let today: Date | undefined;
  // Characters already inside an item: a later detector's overlapping match is dropped. A mark
  // per character (made on the first item) keeps this linear in the items' lengths, where a
  // list of taken ranges was quadratic on text dense with personal data.
  let taken: Uint8Array | undefined;
  for (const detector of detectors) {
    if ((detector.needs & needs) === 0 || (wanted !== undefined && !wanted.includes(detector.type))) continue;
    folded ??= foldWidth(text);
    // The shared pattern is run in place (`matchAll` would clone it on every call); nothing
    // between here and the end of the loop can run another detection.
    const pattern = detector.pattern;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(folded); m !== null; m = pattern.exec(folded)) {
      if (m[0] === '') {
        pattern.lastIndex++;
        continue;
      }
      const start = m.index;
      const end = start + m[0].length;
      if (!detector.valid(m[0], (today ??= options.today ?? new Date()))) continue;
      taken ??= new Uint8Array(folded.length);
      if (overlapsTaken(taken, start, end)) continue;
      taken.fill(1, start, end);
      found.push({ type: detector.type, start, end, value: text.slice(start, end) });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

function overlapsTaken(taken: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (taken[i] === 1) return true;
  return false;
}

/** How much of each item a partial redaction keeps visible: `[leading, trailing]` characters. */
const PARTIAL_KEEP: Record<PiiType, [number, number]> = {
  'resident-id': [3, 4],
  mobile: [3, 4],
  'bank-card': [0, 4],
  passport: [1, 2],
  uscc: [2, 2],
  email: [1, 0],
  ip: [0, 0],
  'licence-plate': [2, 0],
};

export type RedactionStyle = 'full' | 'partial';

/**
 * Replaces each item's characters with `mask`, one for one, so every other offset into the
 * text stays valid. `partial` keeps the usual display form visible (`138****8000`; for email,
 * the first character and the domain; for IPv4, all but the last part).
 *
 * @example
 * redactPii(text, detectPii(text), 'partial');
 */
export function redactPii(text: string, matches: readonly PiiMatch[], style: RedactionStyle = 'full', mask = '*'): string {
  let out = '';
  let at = 0;
  for (const m of [...matches].sort((a, b) => a.start - b.start)) {
    if (m.start < at) continue;
    out += text.slice(at, m.start) + maskPii(m, style, mask);
    at = m.end;
  }
  return out + text.slice(at);
}

/** The masked form of one item, as long as the original (UTF-16 units). */
export function maskPii(m: PiiMatch, style: RedactionStyle = 'full', mask = '*'): string {
  const value = m.value;
  if (style === 'full') return mask.repeat(value.length);
  let [lead, trail] = PARTIAL_KEEP[m.type];
  if (m.type === 'email') trail = value.length - value.indexOf('@');
  if (m.type === 'mobile') lead = nationalNumberStart(value) + 3;
  if (m.type === 'ip' && !value.includes(':')) lead = value.lastIndexOf('.') + 1;
  // Separators (spaces, hyphens, dots, @) stay, so the shape is still recognisable.
  return value
    .split('')
    .map((ch, i, all) => (i < lead || i >= all.length - trail || /[\s\-.@·•・]/u.test(ch) ? ch : mask))
    .join('');
}

/** Where the 11-digit national number starts in a mobile number written with a country code. */
function nationalNumberStart(value: string): number {
  let digits = 0;
  for (let i = value.length - 1; i >= 0; i--) {
    if (/\d/.test(value[i] as string) && ++digits === 11) return i;
  }
  return 0;
}
