/**
 * @module gateway/outbound
 * Fetches of files an upstream points to (generated images handed out as URLs). The URL comes
 * from a model server's answer, so it is untrusted: fetched carelessly it would reach the
 * metadata service (169.254.169.254), the database, or anything else on the private network
 * (server-side request forgery). So:
 * - https only; plain http only to loopback, and only with `media.allowLoopback`;
 * - only hosts of the configured upstreams and of `media.hosts`;
 * - the addresses a name resolves to are checked when the connection is made (no window for a
 *   second, different DNS answer): private, shared, link-local, loopback (unless allowed),
 *   multicast and reserved ranges are refused, IPv4-mapped, IPv4-compatible and NAT64 IPv6
 *   (both prefixes) included;
 * - redirects are followed by hand, at most 3, each one checked again as above.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { GatewayError, GatewayUpstreamError } from './errors.js';

/** A media URL the gateway will not fetch (502: the upstream's answer cannot be used). */
export class GatewayMediaRefusedError extends GatewayError {
  constructor(message: string) {
    super('E_GATEWAY_MEDIA_REFUSED', `the generated file's URL was refused: ${message}`, { status: 502, type: 'api_error' });
  }
}

/** Resolves a name to its addresses (tests pass their own). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface OutboundPolicy {
  /** Host names allowed: exact, or `*.example.com` for its subdomains. */
  hosts: readonly string[];
  /** Allow plain http and loopback addresses (a model server on this machine). */
  allowLoopback: boolean;
  resolve?: Resolver;
}

const MAX_REDIRECTS = 3;

/** Ranges never fetched from (RFC 6890 special-purpose addresses and the private ranges). */
const REFUSED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) REFUSED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  // The unspecified address and the deprecated IPv4-compatible ::a.b.c.d (::1 is loopback, checked first).
  ['::', 96],
  // Local-use NAT64 (RFC 8215): a translator on the network maps its last 32 bits to IPv4.
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) REFUSED.addSubnet(net, prefix, 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The IPv4 address an IPv6 one carries (IPv4-mapped `::ffff:a.b.c.d` or NAT64 `64:ff9b::/96`), if any. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:(?:0:)?|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:(?:0:)?|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = parseInt(hex[1] as string, 16);
  const low = parseInt(hex[2] as string, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Why `address` may not be fetched from, or undefined when it may. */
export function refusedAddress(address: string, allowLoopback: boolean): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  const v4 = family === 6 ? embeddedIpv4(address) : address;
  const [ip, type] = v4 !== undefined ? [v4, 'ipv4' as const] : [address, 'ipv6' as const];
  if (LOOPBACK.check(ip, type)) return allowLoopback ? undefined : `${address} is a loopback address (media.allowLoopback is off)`;
  if (REFUSED.check(ip, type)) return `${address} is in a private, link-local or reserved range`;
  return undefined;
}

function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  const family = isIP(hostname);
  if (family === 0) return false;
  const v4 = family === 6 ? embeddedIpv4(hostname) : hostname;
  return v4 !== undefined ? LOOPBACK.check(v4, 'ipv4') : LOOPBACK.check(hostname, 'ipv6');
}

function hostAllowed(hostname: string, hosts: readonly string[]): boolean {
  return hosts.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? hostname.endsWith(p.slice(1)) && hostname.length > p.length - 1 : hostname === p;
  });
}

/** Checks a URL before it is requested; returns its bare host name. */
function checkUrl(url: URL, policy: OutboundPolicy): string {
  const hostname = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (url.username || url.password) throw new GatewayMediaRefusedError(`${url.origin}: credentials in the URL`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new GatewayMediaRefusedError(`${url.protocol} is not https`);
  if (!hostAllowed(hostname, policy.hosts)) throw new GatewayMediaRefusedError(`${hostname} is neither an upstream's host nor listed in media.hosts`);
  if (isIP(hostname)) {
    const why = refusedAddress(hostname, policy.allowLoopback);
    if (why) throw new GatewayMediaRefusedError(why);
  }
  if (url.protocol === 'http:' && !(policy.allowLoopback && isLoopbackHost(hostname))) {
    throw new GatewayMediaRefusedError(`${url.origin}: only https is fetched (plain http only to loopback, with media.allowLoopback)`);
  }
  return hostname;
}

/** A `lookup` for the connection that refuses a name resolving to any refused address. */
function guardedLookup(policy: OutboundPolicy): LookupFunction {
  const resolve: Resolver = policy.resolve ?? ((hostname) => new Promise((done, fail) => dnsLookup(hostname, { all: true }, (error, addresses) => (error ? fail(error) : done(addresses)))));
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const why = addresses.length === 0 ? `${hostname} has no address` : addresses.map((a) => refusedAddress(a.address, policy.allowLoopback)).find(Boolean);
        if (why) {
          callback(new GatewayMediaRefusedError(`${hostname} resolves to ${why}`), '', 0);
          return;
        }
        if ((options as { all?: boolean }).all) (callback as unknown as (error: null, all: LookupAddress[]) => void)(null, addresses);
        else callback(null, (addresses[0] as LookupAddress).address, (addresses[0] as LookupAddress).family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

function get(url: URL, policy: OutboundPolicy, signal: AbortSignal): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', signal, lookup: guardedLookup(policy), agent: false, headers: { accept: 'image/*, audio/*' } }, resolve);
    req.once('error', reject);
    req.end();
  });
}

/**
 * The body of `url`, read up to `maxBytes`, under `policy`.
 *
 * @throws GatewayMediaRefusedError for a URL, a redirect or an address the policy refuses;
 *   GatewayUpstreamError when the file cannot be fetched or is too large.
 */
export async function fetchMedia(url: string, policy: OutboundPolicy, options: { signal: AbortSignal; maxBytes: number }): Promise<Uint8Array> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new GatewayMediaRefusedError(`"${url.slice(0, 200)}" is not a URL`);
  }
  for (let hop = 0; ; hop++) {
    checkUrl(target, policy);
    let response: IncomingMessage;
    try {
      response = await get(target, policy, options.signal);
    } catch (cause) {
      if (cause instanceof GatewayMediaRefusedError) throw cause;
      throw new GatewayUpstreamError(`cannot fetch the generated file from ${target.origin}: ${(cause as Error).message}`, { cause });
    }
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      // No connection is reused (`agent: false`): a body nobody reads is closed, never drained for as long as the host sends.
      response.destroy();
      if (hop >= MAX_REDIRECTS) throw new GatewayMediaRefusedError(`more than ${MAX_REDIRECTS} redirects`);
      try {
        target = new URL(response.headers.location, target);
      } catch {
        throw new GatewayMediaRefusedError(`the redirect from ${target.origin} is not to a URL ("${response.headers.location.slice(0, 200)}")`);
      }
      continue;
    }
    if (status < 200 || status >= 300) {
      response.destroy();
      throw new GatewayUpstreamError(`fetching the generated file failed with HTTP ${status}`, { upstreamStatus: status });
    }
    return readCapped(response, options.maxBytes);
  }
}

async function readCapped(response: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of response as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > maxBytes) {
      response.destroy();
      throw new GatewayUpstreamError(`the generated file is larger than media.maxBytes (${maxBytes} bytes)`);
    }
    parts.push(part);
  }
  return Buffer.concat(parts);
}
