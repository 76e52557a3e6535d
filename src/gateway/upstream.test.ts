import { describe, expect, it } from 'vitest';
import { GatewayModelError } from './errors.js';
import { Upstream, UpstreamRouter } from './upstream.js';

const upstream = (name: string, models: string[]): Upstream =>
  new Upstream({ name, url: `http://127.0.0.1:1/${name}/`, models, timeoutSeconds: 1, idleTimeoutSeconds: 1, retries: 0 }, {});

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
