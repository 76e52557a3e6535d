import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../audit/index.js';
import { OTHER_ADDRESSES, UnauthenticatedSampler } from './unauthenticated.js';

function sink(): { events: AuditEventInput[]; contentPolicy: 'none'; append(event: AuditEventInput): Promise<void> } {
  const events: AuditEventInput[] = [];
  return { events, contentPolicy: 'none', append: async (event) => void events.push(event) };
}

describe('UnauthenticatedSampler', () => {
  it('writes one event per address per window, carrying the count, and nothing before the window ends', async () => {
    const log = sink();
    let now = Date.parse('2026-12-04T08:00:00Z');
    const sampler = new UnauthenticatedSampler(log, { windowSeconds: 60, addresses: 10 }, () => now);
    for (let i = 0; i < 500; i++) sampler.note('203.0.113.7', i % 2 === 0 ? 'chat.completions' : 'models');
    sampler.note('198.51.100.1', 'responses');
    expect(log.events).toEqual([]);
    now += 60_000;
    await sampler.flush();
    expect(log.events).toHaveLength(2);
    expect(log.events[0]).toMatchObject({ type: 'gateway.unauthenticated', actor: 'anonymous:unauthenticated', payload: { address: '203.0.113.7', count: 500, endpoints: { 'chat.completions': 250, models: 250 }, status: 401 } });
    expect(log.events[1]).toMatchObject({ payload: { address: '198.51.100.1', count: 1 } });
    // An empty window writes nothing.
    await sampler.close();
    expect(log.events).toHaveLength(2);
  });

  it('counts addresses beyond the per-window limit together, so rotating addresses cannot add rows', async () => {
    const log = sink();
    const sampler = new UnauthenticatedSampler(log, { windowSeconds: 60, addresses: 3 });
    for (let i = 0; i < 1000; i++) sampler.note(`2001:db8::${i.toString(16)}`, 'chat.completions');
    await sampler.close();
    expect(log.events).toHaveLength(4);
    expect(log.events.map((e) => e.payload?.count)).toEqual([1, 1, 1, 997]);
    expect(log.events[3]).toMatchObject({ payload: { address: OTHER_ADDRESSES } });
  });

  it('keeps counting when the audit log refuses an append', async () => {
    let fail = true;
    const events: AuditEventInput[] = [];
    const sampler = new UnauthenticatedSampler({ contentPolicy: 'none', append: async (event) => { if (fail) throw new Error('disk full'); events.push(event); } }, { windowSeconds: 60, addresses: 3 });
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      sampler.note('192.0.2.1', 'chat.completions');
      await sampler.flush();
      fail = false;
      sampler.note('192.0.2.1', 'chat.completions');
      await sampler.close();
    } finally {
      console.error = original;
    }
    expect(errors).toHaveLength(1);
    expect(events).toMatchObject([{ payload: { count: 1 } }]);
  });
});
