/**
 * @module server/auth/throttle
 * Throttling of password sign-ins, per client address (an IPv6 client by its /64) and per
 * operator name, so that guessing passwords is slow and a flood of attempts costs the server little:
 * - each key has a few free attempts; past them every attempt waits for a backoff that doubles
 *   with each failure (1 s, 2 s, 4 s, ... up to 15 minutes) and only one attempt runs at a time;
 * - a name with 10 failures in a row is locked for 15 minutes, whatever the address;
 * - attempts in flight count at once, so parallel attempts cannot slip past the limits before
 *   the first hash finishes.
 * A success clears the name's record. Records are kept per replica, in memory, a bounded number
 * of them; a quiet key is forgotten after the lockout period.
 */
import { isIP } from 'node:net';

export interface ThrottleRules {
  /** Attempts per key before backoff applies. */
  free: number;
  /** Failures of a name in a row that lock it; 0: never. */
  lockAfter: number;
}

const RULES: Record<'address' | 'name', ThrottleRules> = {
  // An office or a proxy may put several operators behind one address.
  address: { free: 10, lockAfter: 0 },
  name: { free: 5, lockAfter: 10 },
};

const SECOND = 1000;
const LOCK_MS = 15 * 60 * SECOND;
const MAX_BACKOFF_MS = 15 * 60 * SECOND;
/** Keys tracked at most; the oldest are dropped first (a flood of names cannot grow memory). */
const MAX_KEYS = 10_000;

interface KeyState {
  failures: number;
  inFlight: number;
  lastFailure: number;
  lockedUntil: number;
}

/** Why an attempt may not run now, and when it may. */
export interface ThrottleRefusal {
  reason: 'backoff' | 'locked';
  retryAfterMs: number;
}

export class SignInThrottle {
  readonly #now: () => number;
  readonly #keys = new Map<string, KeyState>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Starts an attempt for `address` and `name`, or says why it may not run. A started attempt
   * must end with `succeeded` or `failed` (or `abandoned` when it was not decided).
   */
  begin(address: string, name: string): ThrottleRefusal | undefined {
    const now = this.#now();
    const keys = this.#keysOf(address, name);
    let refusal: ThrottleRefusal | undefined;
    for (const [key, rules] of keys) {
      const state = this.#state(key, now);
      if (!state) continue;
      if (state.lockedUntil > now) return { reason: 'locked', retryAfterMs: state.lockedUntil - now };
      if (state.failures + state.inFlight < rules.free) continue;
      const wait = state.inFlight > 0 ? SECOND : state.lastFailure + backoff(state.failures - rules.free) - now;
      if (wait > 0 && (!refusal || wait > refusal.retryAfterMs)) refusal = { reason: 'backoff', retryAfterMs: wait };
    }
    if (refusal) return refusal;
    for (const [key] of keys) this.#ensure(key).inFlight++;
    return undefined;
  }

  /** The attempt failed: counts against both keys. Returns true when the name is locked by it. */
  failed(address: string, name: string): boolean {
    const now = this.#now();
    let locked = false;
    for (const [key, rules] of this.#keysOf(address, name)) {
      const state = this.#ensure(key);
      state.inFlight = Math.max(0, state.inFlight - 1);
      state.failures++;
      state.lastFailure = now;
      if (rules.lockAfter > 0 && state.failures >= rules.lockAfter && state.lockedUntil <= now) {
        state.lockedUntil = now + LOCK_MS;
        locked = true;
      }
    }
    return locked;
  }

  /** The attempt succeeded: the name's record is cleared, the address's attempt ends. */
  succeeded(address: string, name: string): void {
    this.#keys.delete(nameKey(name));
    this.#release(addressKey(address));
  }

  /** The attempt ended without a decision (a server error): it no longer counts as in flight. */
  abandoned(address: string, name: string): void {
    this.#release(addressKey(address));
    this.#release(nameKey(name));
  }

  #release(key: string): void {
    const state = this.#keys.get(key);
    if (!state) return;
    state.inFlight = Math.max(0, state.inFlight - 1);
    // A key with nothing against it is dropped at once: otherwise attempts that cost nothing
    // (refused by a full hash queue) could fill the table and push a locked name out of it.
    if (state.inFlight === 0 && state.failures === 0 && state.lockedUntil === 0) this.#keys.delete(key);
  }

  #keysOf(address: string, name: string): [string, ThrottleRules][] {
    return [
      [addressKey(address), RULES.address],
      [nameKey(name), RULES.name],
    ];
  }

  /** The key's state, or undefined when it has none or has been quiet long enough to forget. */
  #state(key: string, now: number): KeyState | undefined {
    const state = this.#keys.get(key);
    if (state && state.inFlight === 0 && state.lockedUntil <= now && now - state.lastFailure > LOCK_MS) {
      this.#keys.delete(key);
      return undefined;
    }
    return state;
  }

  #ensure(key: string): KeyState {
    let state = this.#keys.get(key);
    if (!state) {
      if (this.#keys.size >= MAX_KEYS) {
        const oldest = this.#keys.keys().next().value;
        if (oldest !== undefined) this.#keys.delete(oldest);
      }
      state = { failures: 0, inFlight: 0, lastFailure: 0, lockedUntil: 0 };
      this.#keys.set(key, state);
    }
    return state;
  }
}

function backoff(extraFailures: number): number {
  return Math.min(MAX_BACKOFF_MS, SECOND * 2 ** Math.max(0, extraFailures));
}

/**
 * An IPv6 client is counted by its /64, the smallest block a host is given (RFC 6177): it can
 * pick any address in it. An IPv4-mapped address (a dual-stack socket) is its IPv4 address.
 */
function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return `a:${mapped[1]}`;
  if (isIP(address) !== 6) return `a:${address}`;
  const [head = '', tail = ''] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `a:${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
/** `Admin` and `admin` are two operators in the store but one name here: throttling errs on the strict side. */
const nameKey = (name: string): string => `n:${name.normalize('NFKC').toLowerCase().slice(0, 128)}`;
