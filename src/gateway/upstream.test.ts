import { describe, expect, it } from 'vitest';
import { GatewayModelError } from './errors.js';
import { retryAfterMs, Upstream, UpstreamRouter } from './upstream.js';

const upstream = (name: string, models: string[], more: { weight?: number; fallbacks?: string[] } = {}): Upstream =>
  new Upstream({ name, url: `http://127.0.0.1:1/${name}/`, models, timeoutSeconds: 1, idleTimeoutSeconds: 1, retries: 0, maxRetryWaitSeconds: 5, weight: more.weight ?? 1, fallbacks: more.fallbacks ?? [] }, {});

describe('UpstreamRouter', () => {
  const exact = upstream('exact', ['deepseek-chat']);
  const prefix = upstream('prefix', ['deepseek-*']);
  const longer = upstream('longer', ['deepseek-r*']);
  const any = upstream('any', ['*']);
  const router = new UpstreamRouter([exact, prefix, longer, any]);

  it('prefers an exact name, then the longest prefix, then the catch-all', () => {
    expect(router.resolve('deepseek-chat')).toBe(exact);
    expect(router.resolve('deepseek-reasoner')).toBe(longer);
    expect(router.resolve('deepseek-coder')).toBe(prefix);
    expect(router.resolve('qwen-max')).toBe(any);
    expect(exact.baseUrl).toBe('http://127.0.0.1:1/exact');
  });

  it('refuses a model nobody serves', () => {
    expect(() => new UpstreamRouter([exact]).resolve('gpt-4')).toThrow(GatewayModelError);
  });

  it('lists named models and the upstreams to ask for theirs', () => {
    const { named, open } = router.catalogue();
    expect(named.map((n) => n.model)).toEqual(['deepseek-chat']);
    expect(open.map((u) => u.name)).toEqual(['prefix', 'longer', 'any']);
  });
});

describe('UpstreamRouter: balancing and fallbacks', () => {
  it('shares a model among the upstreams that name it, by weight, spread out', () => {
    const a = upstream('a', ['qwen-max'], { weight: 3 });
    const b = upstream('b', ['qwen-max'], { weight: 1 });
    const router = new UpstreamRouter([a, b]);
    const picks = Array.from({ length: 8 }, () => router.resolve('qwen-max').name);
    expect(picks.filter((p) => p === 'a')).toHaveLength(6);
    expect(picks.filter((p) => p === 'b')).toHaveLength(2);
    // smooth: never more than three of one in a row
    expect(picks.join('')).not.toContain('aaaa');
  });

  it('tries the rest of the group, then fallbacks, each upstream once', () => {
    const a = upstream('a', ['m'], { fallbacks: ['backup', 'b'] });
    const b = upstream('b', ['m'], { fallbacks: ['backup'] });
    const backup = upstream('backup', ['other']);
    const router = new UpstreamRouter([a, b, backup]);
    const first = router.route('m').map((u) => u.name);
    expect(first).toEqual(['a', 'b', 'backup']);
    expect(router.route('m').map((u) => u.name)).toEqual(['b', 'a', 'backup']);
  });

  it('never routes to an upstream of weight 0 first while another can serve', () => {
    const standby = upstream('standby', ['m'], { weight: 0 });
    const main = upstream('main', ['m']);
    const router = new UpstreamRouter([standby, main]);
    for (let i = 0; i < 3; i++) expect(router.route('m').map((u) => u.name)).toEqual(['main', 'standby']);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds, milliseconds and HTTP dates, and ignores nonsense', () => {
    expect(retryAfterMs(undefined, '3')).toBe(3000);
    expect(retryAfterMs('250', '3')).toBe(250);
    expect(retryAfterMs(undefined, 'Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('2026-01-01T00:00:00Z'))).toBe(10_000);
    expect(retryAfterMs(undefined, 'soon')).toBeUndefined();
    expect(retryAfterMs('-5', undefined)).toBeUndefined();
  });
});
