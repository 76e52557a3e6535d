/**
 * @module bench/eval/upstream
 * The evaluation benchmarks' upstream double: every chat completion answered after a fixed
 * latency, counting the most requests in flight at once.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const benchAnswer = JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'bench-model', choices: [{ index: 0, message: { role: 'assistant', content: '春天来了，万物复苏。Spring is here: the days grow longer and the fields turn green.' }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50 } });

export interface BenchUpstream {
  url: string;
  maxInFlight: () => number;
  reset: () => void;
  close: () => Promise<void>;
}

/** Starts the upstream on a free loopback port. */
export async function startUpstream(latencyMs: number): Promise<BenchUpstream> {
  let inFlight = 0;
  let max = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      inFlight += 1;
      max = Math.max(max, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(benchAnswer);
      }, latencyMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    maxInFlight: () => max,
    reset: () => void (max = 0),
    close: () => new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    }),
  };
}
