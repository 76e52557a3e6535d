/**
 * @module server/auth/secrets
 * Hashing of operator passwords (scrypt, salted, self-describing) and of high-entropy tokens
 * (SHA-256: a session or API key token is random, so a fast hash is enough and lets the store
 * look it up by hash).
 *
 * A password hash costs 128 MiB and most of a second by design, so hashes never run on the
 * shared libuv thread pool (where eight at once stall every file and DNS call of the server):
 * they run one at a time (or two, when asked) on a thread of their own, behind a bounded queue.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { HeguiError } from '../../errors.js';

/** OWASP's scrypt floor is N=2^17, r=8, p=1; memory 128 MiB per hash, hence maxmem. */
const PARAMS = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;
const MAXMEM = 256 * 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 10;

/** More password hashes are waiting than the queue holds: the caller should come back later (503). */
export class PasswordQueueFullError extends HeguiError {
  constructor() {
    super('E_AUTH_BUSY', 'too many sign-ins are being checked right now; try again in a few seconds', { exitCode: 1 });
  }
}

interface Job {
  password: string;
  salt: Buffer;
  keylen: number;
  params: { N: number; r: number; p: number };
  resolve: (key: Buffer) => void;
  reject: (error: Error) => void;
}

/**
 * The worker's code: scrypt, synchronously, on its own thread. CommonJS, evaluated, so the same
 * text runs under tsx, vitest and the built package.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', (job) => {
  try {
    const key = scryptSync(job.password, Buffer.from(job.salt), job.keylen, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmem });
    parentPort.postMessage({ key });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
});`;

/**
 * Runs password hashes on `threads` dedicated threads (1 or 2), one job per thread at a time;
 * up to `queue` more wait, further ones are refused with `PasswordQueueFullError`. Threads start
 * on first use and never keep the process alive.
 *
 * @example
 * const hasher = new PasswordHasher();
 * const stored = await hasher.hash('correct horse battery');
 * await hasher.verify('correct horse battery', stored); // true
 */
export class PasswordHasher {
  readonly #threads: number;
  readonly #queueLimit: number;
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #waiting: Job[] = [];
  #running = 0;
  #completed = 0;

  constructor(options: { threads?: 1 | 2; queue?: number } = {}) {
    this.#threads = options.threads ?? 1;
    this.#queueLimit = options.queue ?? 32;
  }

  /** Hashes finished since start (what a health view or a test counts work by). */
  get completed(): number {
    return this.#completed;
  }

  /** Jobs hashing now plus jobs waiting. */
  get pending(): number {
    return this.#running + this.#waiting.length;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.#derive(password, salt, KEY_LENGTH, PARAMS);
    return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
  }

  /**
   * True when `password` matches `stored`. An unknown operator (`stored` null) or an unreadable
   * hash costs the same work as a real one, so the answer's timing does not tell which names exist.
   */
  async verify(password: string, stored: string | null): Promise<boolean> {
    const parsed = parseStored(stored);
    const target = parsed ?? DUMMY;
    const actual = await this.#derive(password, target.salt, target.key.length, target.params);
    return parsed !== undefined && actual.length === parsed.key.length && timingSafeEqual(actual, parsed.key);
  }

  /** Stops the threads (a server's close); jobs still waiting are refused. */
  async close(): Promise<void> {
    for (const job of this.#waiting.splice(0)) job.reject(new PasswordQueueFullError());
    await Promise.all(this.#all.splice(0).map((w) => w.terminate()));
    this.#idle.length = 0;
  }

  #derive(password: string, salt: Buffer, keylen: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
    if (this.#waiting.length >= this.#queueLimit) return Promise.reject(new PasswordQueueFullError());
    return new Promise<Buffer>((resolve, reject) => {
      this.#waiting.push({ password: password.normalize('NFKC'), salt, keylen, params, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    if (this.#waiting.length === 0) return;
    let worker = this.#idle.pop();
    if (!worker) {
      if (this.#all.length >= this.#threads) return;
      worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref();
      this.#all.push(worker);
    }
    const job = this.#waiting.shift() as Job;
    this.#running++;
    const thread = worker;
    const done = (): void => {
      this.#running--;
      this.#completed++;
      thread.off('error', failed);
      this.#idle.push(thread);
      this.#next();
    };
    const failed = (error: Error): void => {
      // A thread that died is replaced on the next job.
      this.#running--;
      this.#all.splice(this.#all.indexOf(thread), 1);
      job.reject(error);
      this.#next();
    };
    thread.once('message', (reply: { key?: Uint8Array; error?: string }) => {
      done();
      if (reply.key) job.resolve(Buffer.from(reply.key));
      else job.reject(new Error(`password hashing failed: ${reply.error ?? 'no key'}`));
    });
    thread.once('error', failed);
    thread.postMessage({ password: job.password, salt: job.salt, keylen: job.keylen, ...job.params, maxmem: MAXMEM });
  }
}

interface StoredHash {
  salt: Buffer;
  key: Buffer;
  params: { N: number; r: number; p: number };
}

function parseStored(stored: string | null): StoredHash | undefined {
  if (stored === null) return undefined;
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return undefined;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  // Only hashes this module could have written: anything else would let a row set the cost.
  if (params.N !== PARAMS.N || params.r !== PARAMS.r || params.p !== PARAMS.p) return undefined;
  return { salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url'), params };
}

/** What an unknown name is checked against: the same parameters as a real hash, matching nothing. */
const DUMMY: StoredHash = { salt: randomBytes(16), key: Buffer.alloc(KEY_LENGTH), params: PARAMS };

/** The hasher every password of this process goes through (sign-ins, password changes, the CLI). */
export const passwords = new PasswordHasher();

export function hashPassword(password: string): Promise<string> {
  return passwords.hash(password);
}

export function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  return passwords.verify(password, stored);
}

/** A random token for a cookie, a sign-in link or an API key. */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
