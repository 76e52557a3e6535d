/**
 * RFC 3161 timestamps over label signatures (issue 11: "with a timestamp where one is
 * available"), against a real TSA (`openssl ts -reply` behind node:http, test/label-tsa.ts):
 * stamped on embed and propagate when a TSA is named, checked on verify against the TSA roots
 * the verifier trusts; no TSA means "none", never "invalid"; a token moved from another
 * signature, a token whose contents were changed, a TSA nobody trusts and a certificate not
 * made for time-stamping are all caught; a TSA that fails stops the write.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BufferSink,
  bufferSource,
  codecFor,
  embedLabel,
  formatLabel,
  generateLabelKeys,
  parseSecurityData,
  parseSigningKey,
  parseVerifyKey,
  propagateLabel,
  readLabels,
  verifyLabel,
  type ImplicitLabel,
} from '../src/label/index.js';
import { cli } from './helpers/cli.js';
import { systemTool } from './helpers/system.js';
import { PRODUCER, PROPAGATOR } from './label-samples.js';
import { startTestTsa, type TestTsa } from './label-tsa.js';

const producerKeys = generateLabelKeys('ed25519');
const platformKeys = generateLabelKeys('sm2');
const producerKey = parseSigningKey(producerKeys.privateKeyPem);
const platformKey = parseSigningKey(platformKeys.privateKeyPem);
const verifyKeys = [parseVerifyKey(producerKeys.publicKeyPem), parseVerifyKey(platformKeys.publicKeyPem)];
const MARKDOWN = new TextEncoder().encode('# A generated note\n\nText.\n');

/** The file with its label replaced by `change(label)`, written by the codec as hegui would. */
async function withLabel(bytes: Uint8Array, change: (label: ImplicitLabel) => ImplicitLabel): Promise<Uint8Array> {
  const label = (await readLabels(bytes, { name: 'a.md' })).label;
  if (!label) throw new Error('no label');
  const source = bufferSource(bytes);
  const codec = await codecFor(source, undefined, 'a.md');
  const sink = new BufferSink();
  await codec.write(source, formatLabel(change(label)), sink);
  return sink.bytes();
}

/** The TSTInfo a token signs (its eContent), as `openssl cms -verify -noverify` gives it out. */
function extractTstInfo(token: Uint8Array): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-tst-'));
  try {
    writeFileSync(join(dir, 't.der'), token);
    execFileSync('openssl', ['cms', '-verify', '-noverify', '-binary', '-inform', 'DER', '-in', 't.der', '-out', 'tst.der'], { stdio: 'pipe' , cwd: dir });
    return readFileSync(join(dir, 'tst.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tokenOf(field: string): Uint8Array {
  const token = parseSecurityData(field)?.timestamp;
  if (!token) throw new Error('no timestamp');
  return token;
}

function withToken(field: string, token: Uint8Array): string {
  return `${field.split(':').slice(0, 5).join(':')}:${Buffer.from(token).toString('base64url')}`;
}

describe.runIf(systemTool('openssl', 'openssl'))('label timestamps (RFC 3161)', () => {
  let tsa: TestTsa;
  let stranger: TestTsa;
  let plain: TestTsa;
  let rogue: TestTsa;

  beforeAll(async () => {
    [tsa, stranger, plain, rogue] = await Promise.all([
      startTestTsa(),
      startTestTsa({ name: 'Stranger TSA' }),
      startTestTsa({ name: 'Plain cert', extension: 'plain_ext' }),
      startTestTsa({ name: 'Rogue TSA', issuedByNonCa: true }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([tsa?.close(), stranger?.close(), plain?.close(), rogue?.close()]);
  });

  it('stamps both signatures on embed, and the verifier reports the time and the TSA it trusts', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const { bytes = new Uint8Array(), label } = await embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-1', key: producerKey, tsa: tsa.url }, { name: 'a.md' });
    const after = Date.now() + 1000;
    expect(label?.ReservedCode1.split(':')).toHaveLength(6);
    const report = await verifyLabel(bytes, verifyKeys, { name: 'a.md', tsaTrust: [tsa.rootPem] });
    expect(report.status).toBe('valid');
    expect(report.timestamps.producer).toMatchObject({ status: 'valid', tsa: 'CN=Test TSA' });
    expect(report.timestamps.propagator.status).toBe('valid');
    const time = Date.parse(report.timestamps.producer.time ?? '');
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });

  it('says "none" when no TSA was named, never "invalid", and the signature is valid as before', async () => {
    const { bytes = new Uint8Array(), label } = await embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-2', key: producerKey }, { name: 'a.md' });
    expect(label?.ReservedCode1.split(':')).toHaveLength(5);
    const report = await verifyLabel(bytes, verifyKeys, { name: 'a.md', tsaTrust: [tsa.rootPem] });
    expect(report.status).toBe('valid');
    expect(report.timestamps).toEqual({ producer: { status: 'none' }, propagator: { status: 'none' } });
  });

  it('says "untrusted" for a sound token when the verifier trusts no TSA, or another one', async () => {
    const { bytes = new Uint8Array() } = await embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-3', key: producerKey, tsa: stranger.url }, { name: 'a.md' });
    const none = await verifyLabel(bytes, verifyKeys, { name: 'a.md' });
    expect(none.timestamps.producer).toMatchObject({ status: 'untrusted', tsa: 'CN=Stranger TSA', reason: expect.stringMatching(/no trusted TSA root/) });
    const other = await verifyLabel(bytes, verifyKeys, { name: 'a.md', tsaTrust: [tsa.rootPem] });
    expect(other.timestamps.producer).toMatchObject({ status: 'untrusted', time: expect.any(String) });
    expect(other.status).toBe('valid');
  });

  it('finds a token moved from another signature invalid (its message imprint is of that signature)', async () => {
    const stamped = await embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-4a', key: producerKey, tsa: tsa.url }, { name: 'a.md' });
    const unstamped = (await embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-4b', key: producerKey }, { name: 'a.md' })).bytes ?? new Uint8Array();
    const token = tokenOf(stamped.label?.ReservedCode1 ?? '');
    const forged = await withLabel(unstamped, (l) => ({ ...l, ReservedCode1: withToken(l.ReservedCode1, token) }));
    const report = await verifyLabel(forged, verifyKeys, { name: 'a.md', tsaTrust: [tsa.rootPem] });
    expect(report.producer).toBe('valid');
    expect(report.timestamps.producer).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/imprint/) });
  });

  it('finds a token whose time was changed invalid (the TSA signature no longer holds)', async () => {
    const { bytes = new Uint8Array(), label } = await embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-5', key: producerKey, tsa: tsa.url }, { name: 'a.md' });
    const token = Buffer.from(tokenOf(label?.ReservedCode1 ?? ''));
    const year = new Date().getUTCFullYear();
    const at = token.indexOf(`${year}`, 0, 'latin1');
    expect(at).toBeGreaterThan(0);
    token.write(`${year - 5}`, at, 'latin1');
    const forged = await withLabel(bytes, (l) => ({ ...l, ReservedCode1: withToken(l.ReservedCode1, token) }));
    const report = await verifyLabel(forged, verifyKeys, { name: 'a.md', tsaTrust: [tsa.rootPem] });
    expect(report.timestamps.producer.status).toBe('invalid');
    expect(report.timestamps.propagator.status).toBe('valid');
    // Garbage where the token goes is invalid too, not a crash.
    const garbage = await withLabel(bytes, (l) => ({ ...l, ReservedCode1: withToken(l.ReservedCode1, Buffer.from('not a token')) }));
    expect((await verifyLabel(garbage, verifyKeys, { name: 'a.md', tsaTrust: [tsa.rootPem] })).timestamps.producer.status).toBe('invalid');
  });

  it('finds a token signed with a certificate not made for time-stamping invalid, even from a trusted root', async () => {
    // openssl ts refuses to answer with such a certificate: the signer gets E_LABEL_TSA.
    const attempt = embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-6', key: producerKey, tsa: plain.url }, { name: 'a.md' });
    await expect(attempt).rejects.toMatchObject({ code: 'E_LABEL_TSA' });
    // A forger re-signs a genuine TSTInfo with it (openssl cms), under a root the verifier trusts.
    const { bytes = new Uint8Array(), label } = await embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-6', key: producerKey, tsa: tsa.url }, { name: 'a.md' });
    const token = Buffer.from(tokenOf(label?.ReservedCode1 ?? ''));
    const tstInfo = extractTstInfo(token);
    const resigned = plain.sign(tstInfo);
    const forged = await withLabel(bytes, (l) => ({ ...l, ReservedCode1: withToken(l.ReservedCode1, resigned) }));
    const report = await verifyLabel(forged, verifyKeys, { name: 'a.md', tsaTrust: [tsa.rootPem, plain.rootPem] });
    expect(report.timestamps.producer).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/time-stamping/) });
  });

  it('does not trust a TSA whose certificate was issued by a certificate of the trusted root that is not a CA', async () => {
    const { bytes = new Uint8Array() } = await embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-8', key: producerKey, tsa: rogue.url }, { name: 'a.md' });
    const report = await verifyLabel(bytes, verifyKeys, { name: 'a.md', tsaTrust: [rogue.rootPem] });
    expect(report.timestamps.producer).toMatchObject({ status: 'untrusted', tsa: 'CN=Rogue TSA' });
  });

  it('keeps the producer stamp and stamps the propagator on propagate', async () => {
    const embedded = await embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'ts-7', key: producerKey, tsa: tsa.url }, { name: 'a.md' });
    const { bytes = new Uint8Array(), label } = await propagateLabel(embedded.bytes ?? new Uint8Array(), { propagator: PROPAGATOR, propagateId: 'p-7', key: platformKey, tsa: stranger.url }, { name: 'a.md' });
    expect(label?.ReservedCode1).toBe(embedded.label?.ReservedCode1);
    const report = await verifyLabel(bytes, verifyKeys, { name: 'a.md', tsaTrust: [tsa.rootPem, stranger.rootPem] });
    expect(report).toMatchObject({ status: 'valid', producer: 'valid', propagator: 'valid' });
    expect(report.timestamps.producer).toMatchObject({ status: 'valid', tsa: 'CN=Test TSA' });
    expect(report.timestamps.propagator).toMatchObject({ status: 'valid', tsa: 'CN=Stranger TSA' });
  });

  it('stops the write with E_LABEL_TSA when the TSA fails or answers nonsense, and refuses a TSA without a key', async () => {
    tsa.failWith = { status: 503 };
    try {
      await expect(embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'x', key: producerKey, tsa: tsa.url }, { name: 'a.md' })).rejects.toMatchObject({ code: 'E_LABEL_TSA', message: expect.stringMatching(/503/) });
      tsa.failWith = { status: 200, body: Buffer.alloc(1 << 20, 0x30) };
      await expect(embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'x', key: producerKey, tsa: tsa.url }, { name: 'a.md' })).rejects.toMatchObject({ code: 'E_LABEL_TSA', message: expect.stringMatching(/longer than/) });
      tsa.failWith = { status: 200, body: Buffer.from('0\x03\x02\x01\x00') };
      await expect(embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'x', key: producerKey, tsa: tsa.url }, { name: 'a.md' })).rejects.toMatchObject({ code: 'E_LABEL_TSA' });
    } finally {
      delete tsa.failWith;
    }
    await expect(embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'x', key: producerKey, tsa: 'http://127.0.0.1:1/' }, { name: 'a.md' })).rejects.toMatchObject({ code: 'E_LABEL_TSA' });
    await expect(embedLabel(MARKDOWN, { producer: PRODUCER, produceId: 'x', tsa: tsa.url }, { name: 'a.md' })).rejects.toMatchObject({ code: 'E_LABEL_KEY' });
  });

  describe('on the command line', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'hegui-cli-tsa-'));
      writeFileSync(join(dir, 'key.pem'), producerKeys.privateKeyPem);
      writeFileSync(join(dir, 'pub.pem'), producerKeys.publicKeyPem);
      writeFileSync(join(dir, 'tsa-root.pem'), tsa.rootPem);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('embed --tsa stamps, verify --tsa-trust reports the time in text and JSON; a failing TSA leaves the file untouched', async () => {
      writeFileSync(join(dir, 'n.md'), MARKDOWN);
      const embed = await cli(['label', 'embed', 'n.md', '--producer', PRODUCER, '--id', 'c-1', '--key', 'key.pem', '--tsa', tsa.url, '--in-place'], { cwd: dir });
      expect(embed.code, embed.stderr).toBe(0);
      const text = await cli(['label', 'verify', 'n.md', '--pub', 'pub.pem', '--tsa-trust', 'tsa-root.pem'], { cwd: dir });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/timestamp=valid@\d{4}-\d\d-\d\dT/);
      const json = await cli(['label', 'verify', 'n.md', '--pub', 'pub.pem', '--json'], { cwd: dir });
      const record = JSON.parse(json.stdout.trim()) as { signature: string; timestamps: { producer: { status: string } } };
      expect(record.signature).toBe('valid');
      expect(record.timestamps.producer.status).toBe('untrusted');

      writeFileSync(join(dir, 'm.md'), MARKDOWN);
      tsa.failWith = { status: 500 };
      try {
        const failed = await cli(['label', 'embed', 'm.md', '--producer', PRODUCER, '--id', 'c-2', '--key', 'key.pem', '--tsa', tsa.url, '--in-place'], { cwd: dir });
        expect(failed.code).not.toBe(0);
        expect(failed.stdout).toMatch(/time-stamping authority/);
      } finally {
        delete tsa.failWith;
      }
      expect(readFileSync(join(dir, 'm.md'))).toEqual(Buffer.from(MARKDOWN));
      expect(existsSync(join(dir, 'm.md'))).toBe(true);
    });
  });
});
