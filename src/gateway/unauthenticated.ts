/**
 * @module gateway/unauthenticated
 * Requests refused for want of valid credentials (401) are counted, not recorded one by one:
 * one `gateway.unauthenticated` audit event per client address per window carries how many
 * there were. A flood of bad keys would otherwise write a row per request into a log whose
 * six-month retention (Cybersecurity Law Art. 21) forbids deleting them. The number of
 * addresses counted per window is bounded too; the rest are counted together under `*`.
 */
import type { AuditSink } from './audit.js';

export interface UnauthenticatedLimits {
  /** Length of a counting window: at most one event per address per window. */
  windowSeconds: number;
  /** Addresses counted one by one per window; further addresses share one `*` count. */
  addresses: number;
}

/** What is counted for one address within a window. */
interface Tally {
  count: number;
  firstAt: number;
  lastAt: number;
  endpoints: Record<string, number>;
}

/** The address further addresses of a full window are counted under. */
export const OTHER_ADDRESSES = '*';

export class UnauthenticatedSampler {
  #tallies = new Map<string, Tally>();
  #windowStart: number;
  readonly #timer: NodeJS.Timeout;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: AuditSink,
    private readonly limits: UnauthenticatedLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.#windowStart = now();
    this.#timer = setInterval(() => void this.flush(), limits.windowSeconds * 1000);
    this.#timer.unref();
  }

  /** Counts one refused request from `address` to `endpoint`; writes nothing now. */
  note(address: string, endpoint: string): void {
    const at = this.now();
    let key = address;
    if (!this.#tallies.has(key) && this.#tallies.size >= this.limits.addresses) key = OTHER_ADDRESSES;
    let tally = this.#tallies.get(key);
    if (!tally) {
      tally = { count: 0, firstAt: at, lastAt: at, endpoints: {} };
      this.#tallies.set(key, tally);
    }
    tally.count++;
    tally.lastAt = at;
    tally.endpoints[endpoint] = (tally.endpoints[endpoint] ?? 0) + 1;
  }

  /**
   * Appends one event per address counted since the last flush and starts a new window.
   * A failed append is reported and its counts lost, as when the process is killed.
   */
  flush(): Promise<void> {
    const tallies = this.#tallies;
    const windowStart = this.#windowStart;
    this.#tallies = new Map();
    this.#windowStart = this.now();
    this.#writing = this.#writing.then(async () => {
      for (const [address, tally] of tallies) {
        try {
          await this.sink.append({
            type: 'gateway.unauthenticated',
            actor: 'anonymous:unauthenticated',
            outcome: 'refused',
            payload: {
              address,
              count: tally.count,
              windowStart: new Date(windowStart).toISOString(),
              firstAt: new Date(tally.firstAt).toISOString(),
              lastAt: new Date(tally.lastAt).toISOString(),
              endpoints: tally.endpoints,
              status: 401,
            },
          });
        } catch (error) {
          console.error(`gateway: ${tally.count} unauthenticated requests from ${address} could not be recorded: ${(error as Error).message}`);
        }
      }
    });
    return this.#writing;
  }

  /** Writes what is counted and stops the window timer (at shutdown). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
