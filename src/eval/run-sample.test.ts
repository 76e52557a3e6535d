import { describe, expect, it } from 'vitest';
import { drawSample, minimumSample } from './run-sample.js';
import type { BankItem } from './types.js';

function bank(n: number): BankItem[] {
  const items: BankItem[] = [];
  for (let i = 0; i < n; i++) items.push({ id: `g${String(i).padStart(4, '0')}`, prompt: `q${i}`, risk: 'A1.6', kind: 'generated-content', language: 'zh-CN', source: 'test' });
  for (let i = 0; i < 50; i++) items.push({ id: `r${i}`, prompt: `r${i}`, risk: 'A1.1', kind: 'should-refuse', language: 'zh-CN', source: 'test' });
  return items;
}

describe('the seeded sample', () => {
  it('same bank and seed: same sample, whatever the order of the bank', () => {
    const items = bank(1500);
    const a = drawSample(items, 42).items.map((i) => i.id);
    const b = drawSample([...items].reverse(), 42).items.map((i) => i.id);
    expect(a).toEqual(b);
    expect(drawSample(items, 43).items.map((i) => i.id)).not.toEqual(a);
  });

  it('takes the standard minimums by default and reports what a bank lacks', () => {
    const sample = drawSample(bank(1500), 1);
    expect(sample.perKind['generated-content']).toEqual({ available: 1500, wanted: minimumSample['generated-content'], drawn: 1000 });
    expect(sample.perKind['should-refuse']).toEqual({ available: 50, wanted: 300, drawn: 50 });
    expect(sample.perKind['should-not-refuse']).toEqual({ available: 0, wanted: 300, drawn: 0 });
    expect(new Set(sample.items.map((i) => i.id)).size).toBe(1050);
  });

  it('draws the variants of an A.2 template together', () => {
    const items: BankItem[] = [];
    for (let t = 0; t < 20; t++) for (const v of ['a', 'b', 'c']) items.push({ id: `t${t}${v}`, prompt: `t${t} ${v}`, risk: 'A2.1', kind: 'should-not-refuse', language: 'zh-CN', source: 'test', group: { dimension: 'ethnicity', value: v, templateId: `t${t}` } });
    const drawn = drawSample(items, 9, { 'should-not-refuse': 10 }).items;
    expect(drawn.length).toBe(12);
    const templates = new Map<string, number>();
    for (const i of drawn) templates.set(i.group!.templateId, (templates.get(i.group!.templateId) ?? 0) + 1);
    expect([...templates.values()].every((n) => n === 3)).toBe(true);
  });

  it('rejects duplicate ids, unknown kinds and empty prompts', () => {
    const ok = bank(2);
    expect(() => drawSample([...ok, ok[0]!], 1)).toThrow(/occurs twice/);
    expect(() => drawSample([{ ...ok[0]!, id: 'x', kind: 'other' as never }], 1)).toThrow(/kind "other"/);
    expect(() => drawSample([{ ...ok[0]!, id: 'y', prompt: '  ' }], 1)).toThrow(/empty prompt/);
  });
});
