/**
 * @module safety/pii-checks
 * Check digits and validity rules of Chinese identifiers, each from its standard:
 * resident identity numbers (GB 11643-1999, ISO 7064 MOD 11-2), unified social credit codes
 * (GB 32100-2015, MOD 31), bank card numbers (ISO/IEC 7812 Luhn), and IP addresses.
 */

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** GB 11643: 18 characters, a real birth date not after `today`, and the MOD 11-2 check digit. */
export function isResidentIdNumber(id: string, today: Date = new Date()): boolean {
  if (!/^[1-9]\d{16}[\dX]$/i.test(id)) return false;
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (year < 1900) return false;
  const birth = new Date(Date.UTC(year, month - 1, day));
  if (birth.getUTCFullYear() !== year || birth.getUTCMonth() !== month - 1 || birth.getUTCDate() !== day) return false;
  if (birth.getTime() > today.getTime()) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * (ID_WEIGHTS[i] as number);
  return ID_CHECK[sum % 11] === (id[17] as string).toUpperCase();
}

/** ISO/IEC 7812 Luhn check over a string of digits. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** Bank card numbers: 16 to 19 digits, an issuer prefix in use for Chinese cards, Luhn. */
export function isBankCardNumber(digits: string): boolean {
  return /^[3-69]\d{15,18}$/.test(digits) && passesLuhn(digits);
}

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100: 18 characters from the 31-character alphabet, 6-digit area code, MOD 31 check. */
export function isUnifiedSocialCreditCode(code: string): boolean {
  if (!/^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(code[i] as string) * (USCC_WEIGHTS[i] as number);
  const check = (31 - (sum % 31)) % 31;
  return USCC_ALPHABET[check] === code[17];
}

/** A dotted-quad IPv4 address with every part 0-255 and no leading zeros. */
export function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address in full or `::`-compressed form (optionally ending in an IPv4 address). */
export function isIpv6(text: string): boolean {
  let body = text;
  if (body.includes('.')) {
    const lastColon = body.lastIndexOf(':');
    if (!isIpv4(body.slice(lastColon + 1))) return false;
    // The IPv4 tail stands for two groups.
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return false;
  return halves.length === 2 ? groups.length < 8 : groups.length === 8;
}
