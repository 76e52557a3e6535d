/**
 * Files an upstream points to are fetched as untrusted URLs (no server-side request forgery):
 * https only (plain http to loopback only when configured), the upstreams' hosts only, every
 * redirect checked again, private, link-local and loopback addresses refused after DNS
 * resolution; and media links are built from the configured public URL, never the Host header.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fetchMedia, GatewayMediaRefusedError, type OutboundPolicy, refusedAddress } from '../src/gateway/outbound.js';
import { type GatewayHarness, startGateway } from './gateway-harness.js';
import { describeEachDatabase } from './helpers/stores.js';

const image = (h: GatewayHarness) => h.post('/v1/images/generations', { model: 'double-image', prompt: 'a lake', response_format: 'url' });

describe('addresses media is never fetched from', () => {
  it('refuses private, shared, link-local, reserved and (unless allowed) loopback addresses, in every spelling', () => {
    for (const address of ['10.0.0.5', '172.16.3.4', '192.168.1.1', '100.64.0.1', '169.254.169.254', '0.0.0.0', '224.0.0.1', 'fd00::1', 'fe80::1', '::', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '64:ff9b::10.0.0.1', '64:ff9b:1::a9fe:a9fe', '::a9fe:a9fe', '::7f00:1', '::10.0.0.1']) {
      expect(refusedAddress(address, true), address).toMatch(/private, link-local or reserved/);
    }
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(refusedAddress(address, false), address).toMatch(/loopback/);
      expect(refusedAddress(address, true), address).toBeUndefined();
    }
    for (const address of ['1.1.1.1', '203.119.0.1', '2400:3200::1']) expect(refusedAddress(address, false), address).toBeUndefined();
  });

  it('checks the addresses a name resolves to before connecting', async () => {
    const tried: string[] = [];
    const policy = (addresses: string[]): OutboundPolicy => ({
      hosts: ['cdn.example.test'],
      allowLoopback: false,
      resolve: async (hostname) => {
        tried.push(hostname);
        return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      },
    });
    for (const addresses of [['127.0.0.1'], ['169.254.169.254'], ['93.184.216.34', '10.1.2.3'], ['::ffff:127.0.0.1']]) {
      const fetched = fetchMedia('https://cdn.example.test/a.png', policy(addresses), { signal: AbortSignal.timeout(5000), maxBytes: 1024 });
      await expect(fetched, addresses.join()).rejects.toBeInstanceOf(GatewayMediaRefusedError);
      await expect(fetchMedia('https://cdn.example.test/a.png', policy(addresses), { signal: AbortSignal.timeout(5000), maxBytes: 1024 })).rejects.toMatchObject({
        code: 'E_GATEWAY_MEDIA_REFUSED',
        message: expect.stringContaining('cdn.example.test resolves to'),
      });
    }
    expect(tried.every((h) => h === 'cdn.example.test')).toBe(true);
  });

  it('refuses a redirect whose Location is not a URL with its typed error', async () => {
    const server = createServer((_req, res) => res.writeHead(302, { location: 'http://[::1/a.png' }).end());
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as AddressInfo;
      const policy: OutboundPolicy = { hosts: ['127.0.0.1'], allowLoopback: true };
      await expect(fetchMedia(`http://127.0.0.1:${port}/a.png`, policy, { signal: AbortSignal.timeout(5000), maxBytes: 1024 })).rejects.toMatchObject({
        code: 'E_GATEWAY_MEDIA_REFUSED',
        message: expect.stringContaining('redirect'),
      });
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  it('closes a redirect or an error answer whose body never ends, rather than reading it (its connection is never reused)', async () => {
    let closed = 0;
    const server = createServer((req, res) => {
      res.once('close', () => (closed += 1));
      res.writeHead(req.url === '/a.png' ? 302 : 500, { location: '/b.png', 'content-type': 'text/plain' });
      // An endless body: 16 KiB every millisecond until the connection goes.
      const more = (): void => {
        if (res.destroyed) return;
        res.write('x'.repeat(16 * 1024));
        setTimeout(more, 1);
      };
      more();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as AddressInfo;
      const policy: OutboundPolicy = { hosts: ['127.0.0.1'], allowLoopback: true };
      await expect(fetchMedia(`http://127.0.0.1:${port}/a.png`, policy, { signal: AbortSignal.timeout(5000), maxBytes: 1024 })).rejects.toMatchObject({ upstreamStatus: 500 });
      // Both answers' connections are closed by the gateway, not read for as long as the host sends.
      await vi.waitUntil(() => closed === 2, { timeout: 1000, interval: 10 });
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });

  it('refuses plain http, other hosts, credentials and non-URLs before any lookup', async () => {
    const policy: OutboundPolicy = { hosts: ['cdn.example.test', '*.oss.example.test'], allowLoopback: false, resolve: async () => expect.fail('no lookup for a refused URL') };
    const cases: [string, RegExp][] = [
      ['http://cdn.example.test/a.png', /only https/],
      ['https://evil.example.test/a.png', /neither an upstream's host nor listed in media.hosts/],
      ['https://oss.example.test.evil.test/a.png', /neither an upstream's host/],
      ['https://user:pw@cdn.example.test/a.png', /credentials/],
      ['file:///etc/passwd', /not https/],
      ['not a url', /is not a URL/],
    ];
    for (const [url, why] of cases) {
      await expect(fetchMedia(url, policy, { signal: AbortSignal.timeout(5000), maxBytes: 1024 }), url).rejects.toMatchObject({ code: 'E_GATEWAY_MEDIA_REFUSED', message: expect.stringMatching(why) });
    }
  });
});

describeEachDatabase('media fetched through the gateway', (getDatabase) => {
  let h: GatewayHarness;
  let port: string;

  beforeAll(async () => {
    // The upstream is configured by name (localhost), so 127.0.0.1 is another host to the allow-list.
    h = await startGateway({
      databaseUrl: getDatabase().url,
      config: { server: { publicUrl: 'https://ai.example.cn/' }, media: { allowLoopback: true } },
      edit: (config) => {
        const upstream = config.upstreams[0]!;
        upstream.url = upstream.url.replace('127.0.0.1', 'localhost');
      },
    });
    port = new URL(h.double.url).port;
    h.double.image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).png().toBuffer();
  });
  afterAll(async () => h?.close());

  it('follows a redirect on the upstream host, and links to the configured public URL whatever the Host header says', async () => {
    h.double.behaviour = () => ({ imageForm: 'url', imageUrl: `http://localhost:${port}/redirect?to=/files/image.png` });
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${h.server.url}/v1/images/generations`, { method: 'POST', headers: { host: 'evil.example', authorization: `Bearer ${h.key}`, 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (part: Buffer) => (body += part.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.once('error', reject);
      req.end(JSON.stringify({ model: 'double-image', prompt: 'a lake', response_format: 'url' }));
    });
    expect(answer.status).toBe(200);
    const url = (JSON.parse(answer.body) as { data: { url: string }[] }).data[0]?.url ?? '';
    expect(url).toMatch(/^https:\/\/ai\.example\.cn\/v1\/media\/[\w-]+\?exp=\d+&sig=[\w-]+$/);
  });

  it('refuses a redirect to 127.0.0.1 (another host) and to 169.254.169.254 (link-local), fetching nothing there', async () => {
    for (const target of [`http://127.0.0.1:${port}/files/image.png`, 'http://169.254.169.254/latest/meta-data/', 'http://[::ffff:a9fe:a9fe]/latest/meta-data/']) {
      const before = h.double.seen.filter((r) => r.path === '/files/image.png').length;
      h.double.behaviour = () => ({ imageForm: 'url', imageUrl: `http://localhost:${port}/redirect?to=${encodeURIComponent(target)}` });
      const response = await image(h);
      expect(response.status, target).toBe(502);
      expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_MEDIA_REFUSED', type: 'api_error' } });
      expect(h.double.seen.filter((r) => r.path === '/files/image.png').length).toBe(before);
    }
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'error', payload: { status: 502, error: 'E_GATEWAY_MEDIA_REFUSED' } });
  });

  it('refuses a chain of more than three redirects', async () => {
    let url = `http://localhost:${port}/files/image.png`;
    for (let i = 0; i < 4; i++) url = `http://localhost:${port}/redirect?to=${encodeURIComponent(url)}`;
    h.double.behaviour = () => ({ imageForm: 'url', imageUrl: url });
    const response = await image(h);
    expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_MEDIA_REFUSED', message: expect.stringContaining('more than 3 redirects') } });
  });
});

describeEachDatabase('media over plain http without allowLoopback', (getDatabase) => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url, edit: (config) => void (config.media.allowLoopback = false) });
  });
  afterAll(async () => h?.close());

  it('is refused, even from the upstream itself', async () => {
    h.double.behaviour = () => ({ imageForm: 'url' });
    const response = await image(h);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: 'E_GATEWAY_MEDIA_REFUSED', message: expect.stringContaining('loopback address (media.allowLoopback is off)') } });
    expect(h.double.seen.some((r) => r.path === '/files/image.png')).toBe(false);
  });
});
