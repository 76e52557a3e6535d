/**
 * @module gateway/drain
 * What a graceful stop needs from the gateway: the requests still running, so that a stopping
 * server waits for them (streams included) to finish and write their audit events, and a
 * signal that, at the drain deadline, ends the upstream calls still open. An ended call makes
 * its stream end cleanly as any upstream fault does: a final OpenAI error event, the audit
 * event, then `data: [DONE]` (./stream-relay). Audit events must not be lost to a restart
 * (AI Measures Art. 11; Cybersecurity Law Art. 21: network logs kept).
 */
import type { Exchange } from './audit.js';
import { type StopSignal, StopSignals } from './upstream.js';

export class InFlight {
  readonly #running = new Set<Exchange>();
  readonly #shutdown = new StopSignals();
  #waiters: (() => void)[] = [];
  #stopping = false;

  /** Aborted at the drain deadline: upstream calls watch it and end as shut down. */
  get shutdownSignal(): StopSignal {
    return this.#shutdown;
  }

  /** True once the server stopped accepting requests. */
  get stopping(): boolean {
    return this.#stopping;
  }

  get size(): number {
    return this.#running.size;
  }

  /** Counts `exchange` as running until it is settled (its event recorded, or counted). */
  track(exchange: Exchange): void {
    this.#running.add(exchange);
    exchange.onSettled(() => {
      this.#running.delete(exchange);
      if (this.#running.size === 0) for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** No new requests are admitted from now on. */
  stop(): void {
    this.#stopping = true;
  }

  /** Ends the upstream calls still open: their streams end with an error event and `[DONE]`. */
  shutdown(): void {
    this.#shutdown.abort();
  }

  /** Resolves once no request runs, or after `ms` (false then). */
  idle(ms: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      this.#waiters.push(wake);
    });
  }
}
