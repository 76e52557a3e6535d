/**
 * @module bench/gateway/upstream
 * The benchmark's upstream: an OpenAI-compatible server that answers at once, so that what is
 * measured is the gateway in front of it. `POST /v1/chat/completions` returns a fixed answer,
 * whole or as an SSE stream of small deltas written back to back (`BENCH_SPACED=MS`: each event
 * in a write of its own, MS ms apart, as a model streams). With `BENCH_TLS_KEY` and
 * `BENCH_TLS_CERT` (PEM files) it serves https, as a hosted model's API does. Prints `listening <port>`.
 */
import { readFileSync } from 'node:fs';
import { createServer as createPlainServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

const answer = process.env.BENCH_ANSWER ?? 'Hello.';
const pieces = answer.match(/[\s\S]{1,8}/gu) ?? [answer];
const created = 1_700_000_000;

const whole = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created,
  model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: answer }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 20, completion_tokens: pieces.length, total_tokens: 20 + pieces.length },
});

const chunk = (delta: object, finish: string | null): string =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'bench-model', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const events = [chunk({ role: 'assistant', content: '' }, null), ...pieces.map((p) => chunk({ content: p }, null)), chunk({}, 'stop'), 'data: [DONE]\n\n'];
const stream = events.join('');
const spacedMs = Number(process.env.BENCH_SPACED ?? -1);

const handle = (req: IncomingMessage, res: ServerResponse): void => {
  let body = '';
  req.on('data', (part: Buffer) => (body += part.toString('utf8')));
  req.on('end', () => {
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[{"id":"bench-model","object":"model","created":1,"owned_by":"bench"}]}');
      return;
    }
    if (body.includes('"stream":true') && spacedMs >= 0) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let i = 0;
      const next = (): void => {
        if (i === events.length) return void res.end();
        res.write(events[i++]);
        setTimeout(next, spacedMs);
      };
      next();
    } else if (body.includes('"stream":true')) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }).end(stream);
    else res.writeHead(200, { 'content-type': 'application/json' }).end(whole);
  });
};
const tlsKey = process.env.BENCH_TLS_KEY;
const tlsCert = process.env.BENCH_TLS_CERT;
const server = tlsKey && tlsCert ? createTlsServer({ key: readFileSync(tlsKey), cert: readFileSync(tlsCert) }, handle) : createPlainServer(handle);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
