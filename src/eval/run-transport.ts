/**
 * @module eval/run-transport
 * One JSON POST over node:http(s) with keep-alive agents: what the runner sends thousands of
 * times. Cheaper per request than the global `fetch` (undici), so the runner stays far from
 * being the bottleneck of a run; the same shape as `fetch` for what the client reads.
 */
import http from 'node:http';
import https from 'node:https';

export interface TransportResponse {
  status: number;
  header(name: string): string | null;
  text: string;
}

export type Transport = (url: string, init: { headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<TransportResponse>;

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, keepAliveMsecs: 10_000 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, keepAliveMsecs: 10_000 }),
};

/** POSTs `body` to `url`; rejects on a network failure or when `signal` aborts (its reason, e.g. a TimeoutError). */
export const nodeTransport: Transport = (url, init) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') {
      reject(new TypeError(`unsupported protocol ${target.protocol}`));
      return;
    }
    const payload = Buffer.from(init.body, 'utf8');
    const request = (secure ? https : http).request(
      target,
      { method: 'POST', agent: agents[secure ? 'https:' : 'http:'], headers: { ...init.headers, 'content-length': String(payload.length) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const headers = response.headers;
          resolve({
            status: response.statusCode ?? 0,
            header: (name) => {
              const value = headers[name.toLowerCase()];
              return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
            },
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        response.on('error', reject);
        response.on('aborted', () => reject(new Error('the connection closed before the answer was complete')));
      },
    );
    const abort = (): void => {
      request.destroy();
      reject(init.signal.reason instanceof Error ? init.signal.reason : new Error('aborted'));
    };
    if (init.signal.aborted) {
      abort();
      return;
    }
    init.signal.addEventListener('abort', abort, { once: true });
    request.on('close', () => init.signal.removeEventListener('abort', abort));
    request.on('error', reject);
    request.end(payload);
  });

/** A transport over a `fetch` function (for tests that inject failures, and for runtimes without node:http). */
export function fetchTransport(fetchFn: typeof fetch): Transport {
  return async (url, init) => {
    const response = await fetchFn(url, { method: 'POST', headers: init.headers, body: init.body, signal: init.signal });
    const text = await response.text();
    return { status: response.status, header: (name) => response.headers.get(name), text };
  };
}
