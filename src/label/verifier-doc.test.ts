/**
 * A verifier for hegui's security data written from docs/labels.md alone: it uses nothing of
 * hegui but `embedLabel` to make its input, and Node's own crypto (and openssl for RFC 3161
 * timestamps) to check it. When this test
 * fails and hegui's own tests pass, the document and the code disagree.
 */
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { embedLabel, propagateLabel, readLabels } from './api.js';
import { generateLabelKeys, parseSigningKey, parseVerifyKey } from './security-keys.js';
import { pcmWavHeader } from '../../test/helpers/wav.js';
import { systemTool } from '../../test/helpers/system.js';
import { startTestTsa } from '../../test/label-tsa.js';

const PRODUCER = '001191350100M000100Y431A001';
const PROPAGATOR = '001191110108MA01KP2T5U2P001';

interface PngChunk {
  type: string;
  data: Buffer;
  /** The whole chunk: length, type, data, CRC. */
  raw: Buffer;
}

function pngChunks(file: Buffer): PngChunk[] {
  const chunks: PngChunk[] = [];
  for (let at = 8; at < file.length; ) {
    const length = file.readUInt32BE(at);
    chunks.push({ type: file.toString('latin1', at + 4, at + 8), data: file.subarray(at + 8, at + 8 + length), raw: file.subarray(at, at + 12 + length) });
    at += 12 + length;
  }
  return chunks;
}

/** The text of an uncompressed iTXt chunk, or undefined for another keyword. */
function itxt(chunk: PngChunk, keyword: string): string | undefined {
  const end = chunk.data.indexOf(0);
  if (chunk.type !== 'iTXt' || chunk.data.toString('latin1', 0, end) !== keyword || chunk.data[end + 1] !== 0) return undefined;
  let at = end + 3;
  at = chunk.data.indexOf(0, at) + 1; // language tag
  at = chunk.data.indexOf(0, at) + 1; // translated keyword
  return chunk.data.toString('utf8', at);
}

const unescapeXml = (text: string): string =>
  text.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[name] ?? '');

/** The docs' "Security data" and "Signed message", for Ed25519. */
function checkField(field: string, role: 'producer' | 'propagator', label: Record<string, string>, content: Buffer, publicKeyPem: string): string {
  const parts = field.split(':');
  const [scheme, alg, keyId, hash, signature] = parts;
  if (scheme !== 'hegui2' || alg !== 'ed25519' || !keyId || !hash || !signature || (parts.length !== 5 && parts.length !== 6)) return 'unknown form';
  const spki = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  if (createHash('sha256').update(spki).digest().subarray(0, 8).toString('base64url') !== keyId) return 'other key';
  const fields =
    role === 'producer'
      ? [label.Label, label.ContentProducer, label.ProduceID]
      : [label.Label, label.ContentProducer, label.ProduceID, label.ReservedCode1, label.ContentPropagator, label.PropagateID];
  const message = ['hegui2-label', role, alg, keyId, hash, JSON.stringify(fields)].join('\n');
  if (!verify(null, Buffer.from(message, 'utf8'), publicKeyPem, Buffer.from(signature, 'base64url'))) return 'invalid';
  return createHash('sha256').update(content).digest().toString('base64url') === hash ? 'valid' : 'payload-changed';
}

/** The docs' PNG row: every chunk but the XMP iTXt that holds only the label. */
function verifyPng(file: Buffer, publicKeyPem: string): { producer: string; propagator: string } {
  const chunks = pngChunks(file);
  let label: Record<string, string> | undefined;
  const kept: Buffer[] = [file.subarray(0, 8)];
  for (const chunk of chunks) {
    const packet = itxt(chunk, 'XML:com.adobe.xmp');
    const property = packet && /<TC260:AIGC>([^<]*)<\/TC260:AIGC>/.exec(packet);
    const descriptions = packet?.match(/<rdf:Description\b/g)?.length ?? 0;
    if (property && descriptions === 1) {
      label = JSON.parse(unescapeXml(property[1] ?? '')) as Record<string, string>;
      continue;
    }
    kept.push(chunk.raw);
  }
  if (!label) throw new Error('no label');
  const content = Buffer.concat(kept);
  return {
    producer: checkField(label.ReservedCode1 ?? '', 'producer', label, content, publicKeyPem),
    propagator: checkField(label.ReservedCode2 ?? '', 'propagator', label, content, publicKeyPem),
  };
}

/** The docs' WAV row: the RIFF form without the `_PMX` chunk that holds only the label, its size to match. */
function verifyWav(file: Buffer, publicKeyPem: string): { producer: string; propagator: string } {
  let label: Record<string, string> | undefined;
  const kept: Buffer[] = [];
  for (let at = 12; at + 8 <= file.length; ) {
    const size = file.readUInt32LE(at + 4);
    const chunk = file.subarray(at, at + 8 + size + (size & 1));
    const packet = file.toString('latin1', at, at + 4) === '_PMX' ? chunk.subarray(8, 8 + size).toString('utf8') : undefined;
    const property = packet && /<TC260:AIGC>([^<]*)<\/TC260:AIGC>/.exec(packet);
    if (property && (packet.match(/<rdf:Description\b/g)?.length ?? 0) === 1) label = JSON.parse(unescapeXml(property[1] ?? '')) as Record<string, string>;
    else kept.push(chunk);
    at += chunk.length;
  }
  if (!label) throw new Error('no label');
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...kept]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  const content = Buffer.concat([header, body]);
  return {
    producer: checkField(label.ReservedCode1 ?? '', 'producer', label, content, publicKeyPem),
    propagator: checkField(label.ReservedCode2 ?? '', 'propagator', label, content, publicKeyPem),
  };
}

/**
 * The docs' "Timestamps": the sixth field is an RFC 3161 TimeStampToken (DER, base64url) whose
 * message imprint is the SHA-256 of the signature's bytes; checked here by `openssl ts -verify`
 * against the TSA root, with the imprint computed from the field alone.
 */
function checkTimestamp(field: string, tsaRootPem: string): string {
  const [, , , , signature, token] = field.split(':');
  if (!token || !signature) return 'none';
  const dir = mkdtempSync(join(tmpdir(), 'hegui-doc-ts-'));
  try {
    writeFileSync(join(dir, 'token.der'), Buffer.from(token, 'base64url'));
    writeFileSync(join(dir, 'root.pem'), tsaRootPem);
    const digest = createHash('sha256').update(Buffer.from(signature, 'base64url')).digest('hex');
    const result = spawnSync('openssl', ['ts', '-verify', '-digest', digest, '-in', 'token.der', '-token_in', '-CAfile', 'root.pem'], { cwd: dir });
    return result.status === 0 && /Verification: OK/.test(result.stdout.toString()) ? 'valid' : 'invalid';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a verifier written from docs/labels.md', () => {
  const keys = generateLabelKeys('ed25519');
  const key = parseSigningKey(keys.privateKeyPem);

  it('accepts what hegui signs, after propagation too, and rejects what hegui rejects', async () => {
    const png = await sharp({ create: { width: 16, height: 9, channels: 3, background: 'purple' } }).withIccProfile('srgb').png().toBuffer();
    const labelled = Buffer.from((await embedLabel(png, { producer: PRODUCER, produceId: 'doc-1', key })).bytes ?? []);
    expect(verifyPng(labelled, keys.publicKeyPem)).toEqual({ producer: 'valid', propagator: 'valid' });

    const platform = generateLabelKeys('ed25519');
    const propagated = Buffer.from(
      (await propagateLabel(labelled, { propagator: PROPAGATOR, propagateId: 'p-1', key: parseSigningKey(platform.privateKeyPem) })).bytes ?? [],
    );
    expect(verifyPng(propagated, keys.publicKeyPem).producer).toBe('valid');
    expect(verifyPng(propagated, platform.publicKeyPem).propagator).toBe('valid');

    // A gAMA chunk after IHDR changes how every pixel is shown.
    const gama = Buffer.from('0000000467414d41000186a031e8965f', 'hex');
    const ihdrEnd = 8 + 25;
    const forged = Buffer.concat([labelled.subarray(0, ihdrEnd), gama, labelled.subarray(ihdrEnd)]);
    expect(verifyPng(forged, keys.publicKeyPem).producer).toBe('payload-changed');
    expect((await readLabels(forged, { keys: [parseVerifyKey(keys.publicKeyPem)] })).producer).toBe('payload-changed');
  });

  it('checks WAV the same way, and sees a doubled sample rate', async () => {
    const samples = Buffer.alloc(400, 7);
    const wav = Buffer.concat([pcmWavHeader(8000, samples.length), samples]);
    const labelled = Buffer.from((await embedLabel(wav, { producer: PRODUCER, produceId: 'doc-2', key })).bytes ?? []);
    expect(verifyWav(labelled, keys.publicKeyPem)).toEqual({ producer: 'valid', propagator: 'valid' });
    const doubled = Buffer.from(labelled);
    doubled.writeUInt32LE(16000, 24);
    doubled.writeUInt32LE(32000, 28);
    expect(verifyWav(doubled, keys.publicKeyPem).producer).toBe('payload-changed');
  });

  it.runIf(systemTool('openssl', 'openssl'))('checks an RFC 3161 timestamp with openssl from the field alone, and sees one moved from another signature', async () => {
    const tsa = await startTestTsa();
    try {
      const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'teal' } }).png().toBuffer();
      const stamped = (await embedLabel(png, { producer: PRODUCER, produceId: 'doc-3', key, tsa: tsa.url })).label;
      const other = (await embedLabel(png, { producer: PRODUCER, produceId: 'doc-4', key, tsa: tsa.url })).label;
      const field = stamped?.ReservedCode1 ?? '';
      expect(field.split(':')).toHaveLength(6);
      expect(checkTimestamp(field, tsa.rootPem)).toBe('valid');
      expect(checkTimestamp(stamped?.ReservedCode2 ?? '', tsa.rootPem)).toBe('valid');
      const moved = `${field.split(':').slice(0, 5).join(':')}:${(other?.ReservedCode1 ?? '').split(':')[5] ?? ''}`;
      expect(checkTimestamp(moved, tsa.rootPem)).toBe('invalid');
      const labelled = Buffer.from((await embedLabel(png, { producer: PRODUCER, produceId: 'doc-3', key, tsa: tsa.url })).bytes ?? []);
      expect(verifyPng(labelled, keys.publicKeyPem)).toEqual({ producer: 'valid', propagator: 'valid' });
    } finally {
      await tsa.close();
    }
  }, 30_000);
});
