import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/helpers/random.js';
import { detectPii, detectPiiUnfiltered, maskPii, redactPii } from './pii.js';
import { isBankCardNumber, isIpv6, isResidentIdNumber, isUnifiedSocialCreditCode, passesLuhn } from './pii-checks.js';

const today = new Date('2025-11-01T00:00:00Z');

/** Appends the GB 11643 check character to 17 digits. */
function residentId(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = first17.split('').reduce((s, d, i) => s + Number(d) * (weights[i] as number), 0);
  return first17 + ('10X98765432'[sum % 11] as string);
}

/** Appends a Luhn check digit. */
function luhn(body: string): string {
  for (let d = 0; d <= 9; d++) if (passesLuhn(body + d)) return body + d;
  throw new Error('unreachable');
}

const types = (text: string) => detectPii(text, { today }).map((m) => [m.type, m.value]);

describe('resident identity numbers', () => {
  const valid = residentId('11010519491231002');
  it('accepts a valid number and checks the check character', () => {
    expect(valid).toBe('11010519491231002X');
    expect(isResidentIdNumber(valid, today)).toBe(true);
    expect(isResidentIdNumber('110105194912310021', today)).toBe(false);
    expect(types(`身份证号${valid}。`)).toEqual([['resident-id', valid]]);
  });
  it('rejects impossible and future birth dates even with a matching check character', () => {
    expect(isResidentIdNumber(residentId('11010519490230002'), today)).toBe(false);
    expect(isResidentIdNumber(residentId('11010519491331002'), today)).toBe(false);
    expect(isResidentIdNumber(residentId('11010520991231002'), today)).toBe(false);
    expect(isResidentIdNumber(residentId('11010518991231002'), today)).toBe(false);
    expect(isResidentIdNumber(residentId('11010520000229002'), today)).toBe(true);
  });
  it('reads full-width digits, with offsets into the original', () => {
    const wide = valid.replace(/[0-9X]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    expect(detectPii(`号码：${wide}`, { today })).toEqual([{ type: 'resident-id', start: 3, end: 21, value: wide }]);
  });
  it('reads full-width digits the same way in a long text (folded through a buffer)', () => {
    const short = '号码：１３８００１３８０００，邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ　😀\n';
    const long = short.repeat(200);
    expect(long.length).toBeGreaterThan(4096);
    const once = detectPii(short);
    expect(once.map((m) => m.type)).toEqual(['mobile', 'email']);
    const all = detectPii(long);
    expect(all).toHaveLength(400);
    all.forEach((m, i) => {
      const first = once[i % 2];
      const shift = Math.floor(i / 2) * short.length;
      expect(m).toEqual({ ...first, start: (first?.start ?? 0) + shift, end: (first?.end ?? 0) + shift });
    });
  });

  it('ignores a number inside a longer run of digits', () => {
    expect(types(`1${valid}`)).toEqual([]);
    expect(types(`${valid.slice(0, 17)}12`)).toEqual([]);
  });
});

describe('mobile numbers', () => {
  it('finds plain, grouped and +86 forms', () => {
    expect(types('电话13800138000')).toEqual([['mobile', '13800138000']]);
    expect(types('call 138 0013 8000 now')).toEqual([['mobile', '138 0013 8000']]);
    expect(types('+86-13800138000')).toEqual([['mobile', '+86-13800138000']]);
  });
  it('rejects numbers outside the numbering plan or inside longer digit runs', () => {
    expect(types('12800138000')).toEqual([]);
    expect(types('1380013800')).toEqual([]);
    expect(types('913800138000')).toEqual([]);
    expect(types('138001380001')).toEqual([]);
  });
  it('reads full-width digits', () => {
    expect(types('１３８００１３８０００')).toEqual([['mobile', '１３８００１３８０００']]);
  });
});

describe('bank cards', () => {
  const card = luhn('622202000000000000');
  it('accepts Luhn-valid numbers of 16 to 19 digits, grouped or not', () => {
    expect(isBankCardNumber(card)).toBe(true);
    expect(types(`卡号 ${card}`)).toEqual([['bank-card', card]]);
    const sixteen = luhn('621700000000000');
    expect(types(`${sixteen.slice(0, 4)} ${sixteen.slice(4, 8)} ${sixteen.slice(8, 12)} ${sixteen.slice(12)}`)).toEqual([['bank-card', `${sixteen.slice(0, 4)} ${sixteen.slice(4, 8)} ${sixteen.slice(8, 12)} ${sixteen.slice(12)}`]]);
  });
  it('rejects a wrong check digit, a wrong length and a longer digit run', () => {
    const wrong = card.slice(0, -1) + String((Number(card.slice(-1)) + 1) % 10);
    expect(types(wrong)).toEqual([]);
    expect(isBankCardNumber(luhn('62220200000000'))).toBe(false);
    expect(types(`12${card}`)).toEqual([]);
  });
});

describe('other identifiers', () => {
  it('passports', () => {
    expect(types('护照E12345678')).toEqual([['passport', 'E12345678']]);
    expect(types('护照 EA1234567')).toEqual([['passport', 'EA1234567']]);
    expect(types('XE12345678')).toEqual([]);
  });
  it('unified social credit codes, with their check character', () => {
    expect(isUnifiedSocialCreditCode('91350100M000100Y43')).toBe(true);
    expect(isUnifiedSocialCreditCode('91350100M000100Y44')).toBe(false);
    expect(types('代码91350100M000100Y43。')).toEqual([['uscc', '91350100M000100Y43']]);
  });
  it('email addresses', () => {
    expect(types('写信给 zhang.san@example.com.cn 吧')).toEqual([['email', 'zhang.san@example.com.cn']]);
  });
  it('IPv4 and IPv6 addresses', () => {
    expect(types('from 192.168.1.20 and 2001:db8::1')).toEqual([
      ['ip', '192.168.1.20'],
      ['ip', '2001:db8::1'],
    ]);
    expect(types('version 1.2.3.4.5 or 256.1.1.1')).toEqual([]);
    expect(isIpv6('::ffff:192.0.2.1')).toBe(true);
    expect(isIpv6('1::2::3')).toBe(false);
  });
  it('licence plates, including new-energy plates', () => {
    expect(types('车牌京A·12345，粤BD12345')).toEqual([
      ['licence-plate', '京A·12345'],
      ['licence-plate', '粤BD12345'],
    ]);
    expect(types('京ABCDEFG')).toEqual([]);
  });
  it('only the requested types', () => {
    expect(detectPii('13800138000 a@b.cn', { types: ['email'] }).map((m) => m.type)).toEqual(['email']);
  });
});

describe('redaction', () => {
  const text = '电话13800138000，邮箱zhang@example.com';
  const found = detectPii(text, { today });
  it('masks in full, keeping every offset', () => {
    const redacted = redactPii(text, found);
    expect(redacted).toBe('电话***********，邮箱*****************');
    expect(redacted.length).toBe(text.length);
  });
  it('masks partially in the usual display forms', () => {
    expect(redactPii(text, found, 'partial')).toBe('电话138****8000，邮箱z****@example.com');
    expect(maskPii({ type: 'ip', start: 0, end: 12, value: '192.168.1.20' }, 'partial')).toBe('192.168.1.**');
    expect(maskPii({ type: 'mobile', start: 0, end: 14, value: '+8613800138000' }, 'partial')).toBe('+86138****8000');
  });
});

describe('pre-filter', () => {
  const valid = residentId('11010519491231002');
  it('finds exactly what running every detector finds', () => {
    // Pieces that make or nearly make every type, in ASCII and full width, mixed at random.
    const wide = (x: string): string => x.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    const pieces = [valid, wide(valid), '13800138000', '138 0013 8000', '+86 138-0013-8000', wide('13800138000'), luhn('622202000000000'), '6222 0200 0000 0000', 'E12345678', 'EA1234567', '91350100M000100Y43', 'zhang@example.com', wide('zhang@example.com'), 'a@b', '192.168.1.20', '10.0.0', 'fe80::1', 'ab::cd', wide('ab::cd'), '京A·12345', '粤BD12345', '京' + wide('A12345'), '沪B', 'X', '1', '12', '123', '1234', '123456', '1234567', ' ', '-', '.', ':', '@', '\u3000', '，', '号码', '京', 'abc', 'ABC'];
    const random = seededRandom(20261204);
    for (let n = 0; n < 3000; n++) {
      let text = '';
      const count = 1 + Math.floor(random() * 8);
      for (let k = 0; k < count; k++) text += pieces[Math.floor(random() * pieces.length)];
      expect(detectPii(text, { today }), text).toEqual(detectPiiUnfiltered(text, { today }));
    }
  });
  it('keeps every item of a text dense with personal data, each once and none overlapping', () => {
    const items: [string, string][] = [[valid, 'resident-id'], ['13800138000', 'mobile'], ['zhang@example.com', 'email'], ['192.168.1.20', 'ip'], ['粤BD12345', 'licence-plate']];
    const parts: string[] = [];
    for (let i = 0; i < 5000; i++) parts.push((items[i % items.length] as [string, string])[0]);
    const found = detectPii(parts.join('，'), { today });
    expect(found.map((m) => m.type)).toEqual(parts.map((_, i) => (items[i % items.length] as [string, string])[1]));
    for (let i = 1; i < found.length; i++) expect((found[i] as { start: number }).start).toBeGreaterThanOrEqual((found[i - 1] as { end: number }).end);
  });
  it('runs nothing on text without digits, @, colons or plates', () => {
    expect(detectPii('法轮功 hello world，京城')).toEqual([]);
  });
});
