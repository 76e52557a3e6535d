import { describe, expect, it } from 'vitest';
import { eventHash } from './chain.js';
import { AuditEventError } from './errors.js';
import { canonicalJson, checkEvent } from './event.js';

describe('canonical JSON', () => {
  it('sorts keys at every depth, drops undefined members, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 'x', c: null }, true], z: undefined })).toBe('{"a":[{"c":null,"d":"x"},true],"b":1}');
    expect(canonicalJson({ 'é': 1, e: 2, E: 3 })).toBe('{"E":3,"e":2,"é":1}');
  });

  it('gives the same text after a JSON round trip (so an export can be re-hashed)', () => {
    const value = { n: 0.1 + 0.2, big: 1e21, s: '引号"\n\u2028', nested: { y: [1, 2], x: -0 } };
    const text = canonicalJson(value);
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });

  it('refuses what JSON cannot hold, naming where', () => {
    expect(() => canonicalJson({ a: { b: Number.NaN } })).toThrow(/value\.a\.b is NaN/);
    expect(() => canonicalJson({ when: new Date(0) })).toThrow(/value\.when is a Date; use plain JSON/);
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
    expect(() => canonicalJson([undefined])).toThrow(/value\[0\] is a undefined/);
    const deep: Record<string, unknown> = {};
    let at = deep;
    for (let i = 0; i < 40; i++) at = at.x = {};
    expect(() => canonicalJson(deep)).toThrow(/deeper than 32/);
  });
});

describe('event checks', () => {
  const base = { type: 'gateway.request', actor: 'user:u_1' };

  it('normalises risks (sorted, unique) and flags events with risks', () => {
    const checked = checkEvent({ ...base, risks: ['A.2.1', 'A.1.1', 'A.2.1'], payload: { model: 'm' } });
    expect(checked).toMatchObject({ riskCodes: ['A.1.1', 'A.2.1'], risks: '["A.1.1","A.2.1"]', payload: '{"model":"m"}', outcome: null, flagged: true });
    expect(checkEvent(base)).toMatchObject({ payload: '{}', risks: '[]', flagged: false, content: undefined });
    expect(checkEvent({ ...base, flagged: true }).flagged).toBe(true);
  });

  it.each([
    [{ type: 'Gateway' }, /area\.action/],
    [{ type: 'gateway' }, /area\.action/],
    [{ actor: 'alice' }, /kind:id/],
    [{ actor: 'user:has space' }, /kind:id/],
    [{ actor: 'user:hg-abcdefghijkl' }, /looks like an API key/],
    [{ actor: 'user:sk-abcdefghijkl' }, /looks like an API key/],
    [{ outcome: 'Blocked!' }, /outcome/],
    [{ risks: ['A 1'] }, /risk code/],
    [{ payload: [] }, /JSON object/],
    [{ payload: { big: 'x'.repeat(70_000) } }, /over 64 KiB/],
  ])('rejects %o', (change, message) => {
    expect(() => checkEvent({ ...base, ...change } as never)).toThrow(AuditEventError);
    expect(() => checkEvent({ ...base, ...change } as never)).toThrow(message);
  });
});

describe('event hash', () => {
  const row = {
    at: '2026-01-01T00:00:00.000Z',
    type: 'gateway.request',
    actor: 'user:u_1',
    outcome: 'block',
    risks: '["A.1.1"]',
    payload: '{"model":"m"}',
    contentSha256: null,
    contentKeyId: null,
    prevHash: '0'.repeat(64),
  };

  it('follows the documented rule, so it can be recomputed without hegui', async () => {
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256')
      .update(JSON.stringify(['hegui.audit/1', 7, row.at, row.type, row.actor, row.outcome, row.risks, row.payload, null, null, row.prevHash]))
      .digest('hex');
    expect(eventHash(row, 7)).toBe(expected);
  });

  it('changes with every field, the sequence number and the previous hash', () => {
    const reference = eventHash(row, 7);
    expect(eventHash(row, 8)).not.toBe(reference);
    for (const key of Object.keys(row) as (keyof typeof row)[]) {
      expect(eventHash({ ...row, [key]: `${row[key] ?? ''}x` }, 7), key).not.toBe(reference);
    }
  });
});
