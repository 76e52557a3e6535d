import { describe, expect, it } from 'vitest';
import { PasswordHasher, PasswordQueueFullError } from './secrets.js';
import { SignInThrottle } from './throttle.js';

describe('SignInThrottle', () => {
  it('counts attempts in flight, so parallel attempts cannot pass the free ones', () => {
    const throttle = new SignInThrottle(() => 0);
    const started = Array.from({ length: 8 }, () => throttle.begin('10.0.0.1', 'ann'));
    expect(started.filter((r) => r === undefined)).toHaveLength(5);
    expect(started[5]).toEqual({ reason: 'backoff', retryAfterMs: 1000 });
  });

  it('keeps names apart and addresses apart, but one address pays for every name it tries', () => {
    let now = 0;
    const throttle = new SignInThrottle(() => now);
    for (let i = 0; i < 10; i++) {
      expect(throttle.begin('10.0.0.1', `name-${i}`)).toBeUndefined();
      throttle.failed('10.0.0.1', `name-${i}`);
    }
    expect(throttle.begin('10.0.0.1', 'fresh')).toMatchObject({ reason: 'backoff' });
    expect(throttle.begin('10.0.0.2', 'fresh')).toBeUndefined();
    now += 16 * 60_000;
    expect(throttle.begin('10.0.0.1', 'other')).toBeUndefined();
  });

  it('locks a name after ten failures from any addresses, and a success clears the name', () => {
    let now = 0;
    const throttle = new SignInThrottle(() => now);
    const locks: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      now += 3_600_000 / 60;
      expect(throttle.begin(`10.0.${i}.1`, 'bob'), `attempt ${i}`).toBeUndefined();
      locks.push(throttle.failed(`10.0.${i}.1`, 'bob'));
    }
    expect(locks.indexOf(true)).toBe(9);
    expect(throttle.begin('10.9.9.9', 'BOB')).toMatchObject({ reason: 'locked', retryAfterMs: 15 * 60_000 });
    now += 15 * 60_000 + 1;
    expect(throttle.begin('10.9.9.9', 'bob')).toBeUndefined();
    throttle.succeeded('10.9.9.9', 'bob');
    expect(throttle.begin('10.9.9.8', 'bob')).toBeUndefined();
  });
});

describe('SignInThrottle against floods', () => {
  it('keeps a locked name locked when a flood of fresh names and addresses fills its table', () => {
    let now = 0;
    const throttle = new SignInThrottle(() => now);
    for (let i = 0; i < 10; i++) {
      now += 60_000;
      expect(throttle.begin(`10.0.${i}.1`, 'bob')).toBeUndefined();
      throttle.failed(`10.0.${i}.1`, 'bob');
    }
    // Attempts the hasher refuses (its queue is full) cost the attacker nothing: abandoned.
    for (let i = 0; i < 20_000; i++) {
      expect(throttle.begin(`2001:db8:${(i >> 16) & 0xffff}:${i & 0xffff}::1`, `ghost-${i}`)).toBeUndefined();
      throttle.abandoned(`2001:db8:${(i >> 16) & 0xffff}:${i & 0xffff}::1`, `ghost-${i}`);
    }
    expect(throttle.begin('10.9.9.9', 'bob')).toMatchObject({ reason: 'locked' });
  });

  it('counts an IPv6 client by its /64 (one host owns all of it) and an IPv4-mapped one by its IPv4 address', () => {
    const throttle = new SignInThrottle(() => 0);
    for (let i = 0; i < 10; i++) {
      expect(throttle.begin(`2001:db8:1:2::${(i + 1).toString(16)}`, `name-${i}`)).toBeUndefined();
      throttle.failed(`2001:db8:1:2::${(i + 1).toString(16)}`, `name-${i}`);
    }
    expect(throttle.begin('2001:db8:1:2:ffff:ffff:ffff:ffff', 'fresh')).toMatchObject({ reason: 'backoff' });
    expect(throttle.begin('2001:db8:1:3::1', 'fresh')).toBeUndefined();
    for (let i = 0; i < 10; i++) {
      expect(throttle.begin('::ffff:192.0.2.1', `v4-${i}`)).toBeUndefined();
      throttle.failed('::ffff:192.0.2.1', `v4-${i}`);
    }
    expect(throttle.begin('192.0.2.1', 'fresh4')).toMatchObject({ reason: 'backoff' });
    // Other IPv4 clients (whose mapped forms share a /64) are not throttled with it.
    expect(throttle.begin('::ffff:192.0.2.2', 'fresh4')).toBeUndefined();
  });
});

describe('PasswordHasher', () => {
  it('refuses jobs past its queue with PasswordQueueFullError, and refuses a hash with other parameters', async () => {
    const hasher = new PasswordHasher({ queue: 1 });
    try {
      const first = hasher.hash('first password');
      const second = hasher.verify('second password', null);
      await expect(hasher.verify('third password', null)).rejects.toBeInstanceOf(PasswordQueueFullError);
      const stored = await first;
      expect(await second).toBe(false);
      expect(stored).toMatch(/^scrypt\$131072\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
      expect(await hasher.verify('first password', stored)).toBe(true);
      // A row cannot choose its own cost: other parameters never verify.
      expect(await hasher.verify('first password', stored.replace('$131072$', '$1024$'))).toBe(false);
      expect(hasher.completed).toBe(4);
    } finally {
      await hasher.close();
    }
  });
});
