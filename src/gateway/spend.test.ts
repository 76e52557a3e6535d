import { describe, expect, it } from 'vitest';
import { costMicros, formatAmount, parseAmount, PriceTable } from './spend.js';

describe('spend', () => {
  const table = new PriceTable({ currency: 'CNY', models: { 'deepseek-*': { input: 2, output: 8 }, 'deepseek-r*': { input: 4, output: 16 }, 'deepseek-chat': { input: 1, output: 2 }, '*': { input: 0.28, output: 0.42, currency: 'USD' } } });

  it('finds the exact name, then the longest prefix, then *', () => {
    expect(table.find('deepseek-chat')).toMatchObject({ pattern: 'deepseek-chat', inputMicros: 1_000_000, outputMicros: 2_000_000, currency: 'CNY' });
    expect(table.find('deepseek-reasoner')?.pattern).toBe('deepseek-r*');
    expect(table.find('deepseek-coder')?.pattern).toBe('deepseek-*');
    expect(table.find('qwen-max')).toMatchObject({ pattern: '*', inputMicros: 280_000, outputMicros: 420_000, currency: 'USD' });
    expect(new PriceTable({ currency: 'CNY', models: {} }).find('any')).toBeUndefined();
  });

  it('prices usage exactly in micro-units, rounding up, and never cheaper when the split is unknown', () => {
    const price = table.find('deepseek-coder')!;
    expect(costMicros(price, { input: 1_000_000, output: 1_000_000 })).toBe(10_000_000);
    expect(costMicros(price, { input: 1, output: 0 })).toBe(2);
    expect(costMicros(table.find('qwen')!, { input: 1, output: 1 })).toBe(1); // 0.28 + 0.42 = 0.7, up to 1
    expect(costMicros(price, { total: 10 })).toBe(80); // all at the dearer price
    expect(costMicros(price, { input: 4, total: 10 })).toBe(4 * 2 + 6 * 8);
    expect(costMicros(price, {})).toBeUndefined();
    // Large counts stay exact (BigInt), not float products.
    expect(costMicros({ pattern: 'x', currency: 'CNY', inputMicros: 999_999_999_999, outputMicros: 0 }, { input: 123_456_789, output: 0 })).toBe(123_456_788_999_877);
  });

  it('reads and writes amounts without floating point', () => {
    expect(parseAmount('100', '--max-spend', 'E')).toBe(100_000_000);
    expect(parseAmount('0.1', '--max-spend', 'E')).toBe(100_000);
    expect(parseAmount('12.345678', '--max-spend', 'E')).toBe(12_345_678);
    for (const bad of ['-1', '0', '0.0000001', '1e3', 'NaN', 'Infinity', '', '1000000001', '.5', '5.']) expect(() => parseAmount(bad, '--max-spend', 'E_X')).toThrow(expect.objectContaining({ code: 'E_X' }));
    expect(formatAmount(12_500_000)).toBe('12.5');
    expect(formatAmount(1)).toBe('0.000001');
    expect(formatAmount(0)).toBe('0');
  });
});
