/**
 * @module desk/outbox
 * Mail to requesters leaves through an outbox: the message is written in the same place as
 * the case change that caused it, then delivered over SMTP (nodemailer) by `deliver()`, which
 * the server runs every few seconds and after each new message. A failed delivery is retried
 * with a growing delay; a delivered message keeps only its subject and time (the address and
 * body are dropped, so the outbox is not a second copy of what people wrote).
 */
import type { Store } from '../store/index.js';

export interface MailTransport {
  send(mail: { from: string; to: string; subject: string; text: string }): Promise<void>;
}

export interface OutboxOptions {
  transport?: MailTransport;
  from?: string;
  now?: () => Date;
  /** Called with a line when a delivery fails (the server's log). */
  log?: (line: string) => void;
}

/** An SMTP transport from a URL such as `smtp://user:pass@host:587` or `smtps://…`. */
export async function smtpTransport(url: string): Promise<MailTransport & { close(): void }> {
  const nodemailer = await import('nodemailer');
  const transporter = nodemailer.createTransport(url);
  return {
    send: async (mail) => {
      await transporter.sendMail(mail);
    },
    close: () => transporter.close(),
  };
}

const RETRY_MS = [10_000, 60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000];

export class Outbox {
  readonly #store: Store;
  readonly #options: OutboxOptions;
  #running: Promise<number> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(store: Store, options: OutboxOptions = {}) {
    this.#store = store;
    this.#options = options;
  }

  get configured(): boolean {
    return this.#options.transport !== undefined;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** Sends what is due; resolves with the number sent. Calls made while one runs join it. */
  deliver(): Promise<number> {
    if (!this.#options.transport) return Promise.resolve(0);
    this.#running ??= this.#deliver().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Delivers until nothing is due (tests; the CLI). */
  async flush(): Promise<number> {
    let total = 0;
    for (;;) {
      await this.#running;
      const sent = await this.deliver();
      total += sent;
      if (sent === 0) return total;
    }
  }

  async #deliver(): Promise<number> {
    const transport = this.#options.transport!;
    const now = this.#now();
    const due = await this.#store.desk.pendingMail(now.toISOString(), 50);
    let sent = 0;
    for (const mail of due) {
      // Claimed for two minutes: another replica skips it meanwhile.
      if (!(await this.#store.desk.claimMail(mail.id, mail.next_attempt_at, new Date(now.getTime() + 120_000).toISOString()))) continue;
      if (mail.to_address === null || mail.body === null) continue;
      try {
        await transport.send({ from: this.#options.from ?? 'hegui desk <desk@localhost>', to: mail.to_address, subject: mail.subject, text: mail.body });
        await this.#store.desk.mailSent(mail.id, this.#now().toISOString());
        sent += 1;
      } catch (error) {
        const wait = RETRY_MS[Math.min(mail.attempts, RETRY_MS.length - 1)]!;
        await this.#store.desk.mailFailed(mail.id, (error as Error).message, new Date(this.#now().getTime() + wait).toISOString());
        this.#options.log?.(`desk outbox: delivery of ${mail.id} failed (${(error as Error).message}); retrying in ${wait / 1000} s`);
      }
    }
    return sent;
  }

  /** Delivers every `ms` until `stop()` (the timer does not keep the process alive). */
  start(ms = 5000): void {
    if (this.#timer || !this.#options.transport) return;
    this.#timer = setInterval(() => void this.deliver().catch((e: unknown) => this.#options.log?.(`desk outbox: ${(e as Error).message}`)), ms);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }
}
