/**
 * @module bench/gateway/bare-proxy
 * The floor of any Node gateway on this machine: a minimal `node:http` reverse proxy with no
 * guard, no label, no audit and no framework. It reads the request body, posts it to the
 * upstream over a keep-alive agent and pipes the answer back (status, content type, body).
 * Prints `listening <port>`. `UPSTREAM` is the upstream's base URL (http or https).
 */
import { Agent, createServer, request as plainRequest } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:8080');
const tls = upstream.protocol === 'https:';
const agent = tls ? new TlsAgent({ keepAlive: true }) : new Agent({ keepAlive: true });
const request = tls ? tlsRequest : plainRequest;

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    const body = Buffer.concat(parts);
    const out = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
