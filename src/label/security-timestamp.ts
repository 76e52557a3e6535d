/**
 * @module label/security-timestamp
 * RFC 3161 timestamps over a label's signature (issue 11: "bind keys to the credit code through
 * X.509 certificates, with a timestamp where one is available"). A time-stamping authority
 * (TSA) the signer names by URL signs a TimeStampToken whose message imprint is the SHA-256 of
 * the signature's bytes; the token is kept as a sixth field of the security data
 * (docs/labels.md, "Timestamps"). It proves the signature existed at the token's time. The
 * token cannot be covered by the signature it stamps, so anyone can remove it ("no timestamp")
 * or replace it (then it no longer matches: "invalid"); a verifier that needs the time must
 * require `valid`.
 *
 * ASN.1 and CMS through pkijs and asn1js, loaded only when a token is made or checked (a
 * label without one costs nothing); signatures through WebCrypto.
 */
import { randomBytes } from 'node:crypto';
import type * as Asn1js from 'asn1js';
import type * as Pkijs from 'pkijs';
import { HeguiError } from '../errors.js';
import { LabelKeyError } from './errors.js';

/** What a verifier found about one signature's timestamp. */
export interface TimestampReport {
  /**
   * `none`: the security data carries no timestamp (never a failure by itself);
   * `valid`: the token matches the signature and its TSA certificate chains to a trusted root;
   * `untrusted`: it matches, but its TSA is not among the roots given (or none were given);
   * `invalid`: it does not match the signature, or it is not a well-formed, correctly signed token.
   */
  status: 'none' | 'valid' | 'untrusted' | 'invalid';
  /** The time the TSA vouches for (ISO 8601 UTC), when the token's own signature holds. */
  time?: string;
  /** The TSA certificate's subject, when known. */
  tsa?: string;
  /** Why it is not `valid`. */
  reason?: string;
}

/** A TSA could not be reached, or answered with no usable token: nothing was written. */
export class LabelTimestampError extends HeguiError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('E_LABEL_TSA', `time-stamping authority: ${detail}`, options);
  }
}

const SHA256 = '2.16.840.1.101.3.4.2.1';
const IMPRINT_HASHES: Record<string, string> = { [SHA256]: 'SHA-256', '2.16.840.1.101.3.4.2.2': 'SHA-384', '2.16.840.1.101.3.4.2.3': 'SHA-512' };
const TST_INFO = '1.2.840.113549.1.9.16.1.4';
const SIGNED_DATA = '1.2.840.113549.1.7.2';
const EXTENDED_KEY_USAGE = '2.5.29.37';
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
/** Tokens larger than this are refused unparsed (real ones are 1 to 8 KB). */
export const MAX_TOKEN_BYTES = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

let asn1js: typeof Asn1js;
let pkijs: typeof Pkijs;

async function loadPki(): Promise<void> {
  if (!pkijs) [asn1js, pkijs] = await Promise.all([import('asn1js'), import('pkijs')]);
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

async function sha256(bytes: Uint8Array): Promise<ArrayBuffer> {
  return globalThis.crypto.subtle.digest('SHA-256', arrayBuffer(bytes));
}

/** The DER TimeStampReq for `signature`: SHA-256 imprint, a random nonce, the TSA's certificate asked for. */
async function timestampRequest(signature: Uint8Array, nonce: Uint8Array): Promise<Uint8Array> {
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: await sha256(signature) }),
    }),
    nonce: new asn1js.Integer({ valueHex: arrayBuffer(nonce) }),
    certReq: true,
  });
  return new Uint8Array(request.toSchema().toBER());
}

function subjectOf(certificate: Pkijs.Certificate): string {
  return certificate.subject.typesAndValues
    .map((tv) => `${({ '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.6': 'C', '2.5.4.11': 'OU' } as Record<string, string>)[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`)
    .join(', ');
}

interface ParsedToken {
  signed: Pkijs.SignedData;
  info: Pkijs.TSTInfo;
}

/** The token's SignedData and TSTInfo; throws on anything else. */
function parseToken(token: Uint8Array): ParsedToken {
  if (token.length > MAX_TOKEN_BYTES) throw new Error(`the token has ${token.length} bytes, more than ${MAX_TOKEN_BYTES}`);
  const asn = asn1js.fromBER(arrayBuffer(token));
  if (asn.offset === -1 || asn.offset !== token.length) throw new Error('the token is not one DER value');
  const info = new pkijs.ContentInfo({ schema: asn.result });
  if (info.contentType !== SIGNED_DATA) throw new Error('the token is not CMS SignedData');
  const signed = new pkijs.SignedData({ schema: info.content });
  if (signed.encapContentInfo.eContentType !== TST_INFO || !signed.encapContentInfo.eContent) throw new Error('the token does not hold a TSTInfo');
  if (signed.signerInfos.length !== 1) throw new Error(`the token has ${signed.signerInfos.length} signers, not one`);
  if (!signed.signerInfos[0]?.signedAttrs) throw new Error('the token has no signed attributes');
  const tst = pkijs.TSTInfo.fromBER(signed.encapContentInfo.eContent.getValue());
  return { signed, info: tst };
}

/** The certificate that signed the token, and whether it may sign timestamps (RFC 3161 §2.3: critical EKU id-kp-timeStamping only). */
function timestampingUse(certificate: Pkijs.Certificate): boolean {
  const eku = certificate.extensions?.find((e) => e.extnID === EXTENDED_KEY_USAGE);
  const purposes = (eku?.parsedValue as Pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  return eku?.critical === true && purposes.length === 1 && purposes[0] === TIME_STAMPING;
}

function certificatesFrom(pems: readonly string[]): Pkijs.Certificate[] {
  return pems.flatMap((pem, i) =>
    (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((block) => {
      try {
        return pkijs.Certificate.fromBER(arrayBuffer(Buffer.from(block.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
      } catch (error) {
        throw new LabelKeyError(`trusted TSA root ${i + 1} holds a certificate that does not parse: ${(error as Error).message}`);
      }
    }),
  );
}

/**
 * Checks `token` against the `signature` it should stamp, and its TSA against `trustedRoots`
 * (PEM): the imprint, the token's CMS signature, the signer's time-stamping use, and its chain
 * at the token's time.
 *
 * @throws LabelKeyError when a trusted root does not parse (a caller's mistake, not the file's).
 */
export async function verifyTimestamp(token: Uint8Array | undefined, signature: Uint8Array, trustedRoots: readonly string[] = []): Promise<TimestampReport> {
  if (!token || token.length === 0) return { status: 'none' };
  await loadPki();
  const roots = certificatesFrom(trustedRoots);
  let parsed: ParsedToken;
  try {
    parsed = parseToken(token);
  } catch (error) {
    return { status: 'invalid', reason: `not a timestamp token: ${(error as Error).message}` };
  }
  const { signed, info } = parsed;
  if (!IMPRINT_HASHES[info.messageImprint.hashAlgorithm.algorithmId]) {
    return { status: 'invalid', reason: `the imprint's hash ${info.messageImprint.hashAlgorithm.algorithmId} is not SHA-256, SHA-384 or SHA-512` };
  }
  let signer: Pkijs.Certificate | undefined;
  try {
    const result = await signed.verify({ signer: 0, data: arrayBuffer(signature), extendedMode: true, checkChain: false });
    signer = result.signerCertificate ?? undefined;
    if (!result.signatureVerified || !signer) return { status: 'invalid', reason: "the token's signature does not verify" };
  } catch (error) {
    const message = (error as { message?: string }).message ?? String(error);
    return { status: 'invalid', reason: /TSTInfo verification/.test(message) ? 'the token stamps another signature (message imprint mismatch)' : message };
  }
  const time = info.genTime.toISOString();
  const tsa = subjectOf(signer);
  if (!timestampingUse(signer)) return { status: 'invalid', time, tsa, reason: 'the signing certificate is not for time-stamping only (critical extended key usage timeStamping)' };
  if (roots.length === 0) return { status: 'untrusted', time, tsa, reason: 'no trusted TSA root given' };
  try {
    const chained = await signed.verify({ signer: 0, data: arrayBuffer(signature), trustedCerts: roots, checkChain: true, extendedMode: true });
    if (!chained.signatureVerified) return { status: 'invalid', time, tsa, reason: "the token's signature does not verify" };
  } catch (error) {
    return { status: 'untrusted', time, tsa, reason: (error as { message?: string }).message ?? String(error) };
  }
  return { status: 'valid', time, tsa };
}

/** The response body, read no further than `limit` bytes (a TSA answer is a few KB). */
async function boundedBody(response: Response, limit: number): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new LabelTimestampError(`the answer is longer than ${limit} bytes, too long for a timestamp`);
    }
    parts.push(value);
  }
  return new Uint8Array(Buffer.concat(parts));
}

export interface TimestampOptions {
  /** Milliseconds to wait for the TSA (default 15 s). */
  timeoutMs?: number;
}

/**
 * Asks the TSA at `url` (RFC 3161 over HTTP, `application/timestamp-query`) to stamp
 * `signature`, and returns the DER TimeStampToken after checking that it answers this request:
 * granted, the imprint and nonce ours, its own signature sound.
 *
 * @throws LabelTimestampError when the TSA cannot be reached or its answer is not a token for this signature.
 */
export async function requestTimestamp(url: string, signature: Uint8Array, options: TimestampOptions = {}): Promise<Uint8Array> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new LabelKeyError(`the TSA URL ${JSON.stringify(url)} is not a URL`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new LabelKeyError(`the TSA URL must be http or https, not ${target.protocol}`);
  await loadPki();
  const nonce = randomBytes(8);
  nonce[0] = ((nonce[0] ?? 0) & 0x3f) | 0x40; // a positive INTEGER, minimal in DER
  const body = await timestampRequest(signature, nonce);
  let answer: Uint8Array;
  try {
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      redirect: 'error',
    });
    if (!response.ok) throw new LabelTimestampError(`${target.origin} answered HTTP ${response.status}`);
    answer = await boundedBody(response, MAX_TOKEN_BYTES + 1024);
  } catch (error) {
    if (error instanceof LabelTimestampError) throw error;
    throw new LabelTimestampError(`${target.origin} could not be reached: ${(error as Error).message}`, { cause: error });
  }
  let token: Uint8Array;
  try {
    const asn = asn1js.fromBER(arrayBuffer(answer));
    if (asn.offset === -1) throw new Error('not DER');
    const reply = new pkijs.TimeStampResp({ schema: asn.result });
    const status = reply.status.status;
    if (status !== 0 && status !== 1) throw new Error(`the request was not granted (PKIStatus ${status}${reply.status.statusStrings ? `: ${reply.status.statusStrings.map((s) => s.valueBlock.value).join('; ')}` : ''})`);
    if (!reply.timeStampToken) throw new Error('the answer holds no token');
    token = new Uint8Array(reply.timeStampToken.toSchema().toBER());
    const { info } = parseToken(token);
    const echoed = info.nonce && BigInt(`0x${Buffer.from(info.nonce.valueBlock.valueHexView).toString('hex') || '0'}`);
    if (echoed !== BigInt(`0x${nonce.toString('hex')}`)) throw new Error('the token does not carry our nonce');
  } catch (error) {
    throw new LabelTimestampError(`${target.origin} sent no usable timestamp: ${(error as Error).message}`, { cause: error });
  }
  const check = await verifyTimestamp(token, signature);
  if (check.status === 'invalid') throw new LabelTimestampError(`${target.origin} sent a token that does not hold: ${check.reason ?? ''}`);
  return token;
}
