/**
 * @module bench/gateway/load
 * The load generators: autocannon (npm) for latency percentiles and requests/s, and a small
 * keep-alive client for time to first token in streams (autocannon times whole responses).
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';

const AUTOCANNON = fileURLToPath(new URL('../../node_modules/autocannon/autocannon.js', import.meta.url));

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The process serving `url`, whose CPU time per request is reported. */
  pid?: number;
  /** For an https `url`: the certificate (PEM) to trust, the benchmark's own. */
  ca?: string;
}

export interface LoadResult {
  p50: number;
  p99: number;
  /** Mean requests per second over the run, and the best one-second sample. */
  rpsMean: number;
  rpsMax: number;
  errors: number;
  non2xx: number;
}

/** One autocannon run: `connections` clients posting `body` for `seconds`. */
export function autocannon(target: Target, body: string, connections: number, seconds: number): Promise<LoadResult> {
  const args = [AUTOCANNON, '-j', '-c', String(connections), '-d', String(seconds), '-m', 'POST', '-b', body, '-H', 'content-type=application/json'];
  for (const [key, value] of Object.entries(target.headers)) args.push('-H', `${key}=${value}`);
  args.push(target.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (part: Buffer) => (out += part.toString('utf8')));
    child.stderr.on('data', (part: Buffer) => (err += part.toString('utf8')));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon failed (${code}): ${err.slice(-1000)}`));
      const result = JSON.parse(out) as { latency: { p50: number; p99: number }; requests: { average: number; max: number }; errors: number; non2xx: number };
      resolve({ p50: result.latency.p50, p99: result.latency.p99, rpsMean: result.requests.average, rpsMax: result.requests.max, errors: result.errors, non2xx: result.non2xx });
    });
  });
}

export interface TimedResult {
  /** Whole response time, ms. */
  p50: number;
  p99: number;
  /** Time to the first byte carrying `token`, ms. */
  firstP50: number;
  firstP99: number;
  count: number;
  failures: number;
  /** Status and start of the body of the first failed request, for diagnosis. */
  firstFailure?: string;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Latency with sub-millisecond resolution (autocannon's is whole milliseconds): `connections`
 * keep-alive clients post for `seconds`; each request is timed to its end and to the first
 * body byte that carries `token` (for streams: the time to first token).
 */
export async function timedRequests(target: Target, body: string, token: string, connections: number, seconds: number): Promise<TimedResult> {
  const url = new URL(target.url);
  const tls = url.protocol === 'https:';
  const agent = tls ? new TlsAgent({ keepAlive: true, maxSockets: connections, ...(target.ca ? { ca: target.ca } : {}) }) : new Agent({ keepAlive: true, maxSockets: connections });
  const send = tls ? tlsRequest : request;
  const samples: number[] = [];
  const firsts: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const until = performance.now() + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      let seen = '';
      let first = 0;
      const req = send(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...target.headers } },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (part: string) => {
            if (first === 0 || res.statusCode !== 200) {
              seen += part;
              if (seen.includes(token)) first = performance.now() - started;
            }
          });
          res.on('end', () => {
            if (res.statusCode === 200 && first > 0) {
              firsts.push(first);
              samples.push(performance.now() - started);
            } else {
              failures++;
              firstFailure ??= `HTTP ${res.statusCode}: ${seen.slice(0, 300)}`;
            }
            resolve();
          });
        },
      );
      req.on('error', (error) => {
        failures++;
        firstFailure ??= error.message;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) await one();
    }),
  );
  agent.destroy();
  samples.sort((a, b) => a - b);
  firsts.sort((a, b) => a - b);
  return {
    p50: round(percentile(samples, 50)),
    p99: round(percentile(samples, 99)),
    firstP50: round(percentile(firsts, 50)),
    firstP99: round(percentile(firsts, 99)),
    count: samples.length,
    failures,
    ...(firstFailure ? { firstFailure } : {}),
  };
}

export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
