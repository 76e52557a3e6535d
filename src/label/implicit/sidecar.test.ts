import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LabelFormatError, LabelValueError } from '../errors.js';
import { bufferSource } from './bytes.js';
import { buildSidecar, digestPayload, parseSidecar, sidecarDescribes, sidecarLabel, sidecarName } from './sidecar.js';

const INNER = { Label: '1', ContentProducer: '001191100000000000000000X10001', ProduceID: 'raw-1', ReservedCode1: '', ContentPropagator: '', PropagateID: '', ReservedCode2: '' };
const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('sidecar', () => {
  const payload = Uint8Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31) % 256);

  it('names the sidecar after the file', () => {
    expect(sidecarName('out/scan.raw')).toBe('out/scan.raw.aigc.json');
  });

  it('digests the whole file in chunks', async () => {
    expect(await digestPayload(bufferSource(payload))).toEqual({ size: payload.length, sha256: createHash('sha256').update(payload).digest('hex') });
    expect((await digestPayload(bufferSource(new Uint8Array(0)))).size).toBe(0);
  });

  it('writes the standalone form with the file size and SHA-256, and reads it back', async () => {
    const digest = await digestPayload(bufferSource(payload));
    for (const value of [JSON.stringify(INNER), JSON.stringify({ AIGC: INNER })]) {
      const bytes = buildSidecar(value, { ...digest, name: 'scan.raw' });
      const doc = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
      expect(doc).toEqual({ AIGC: INNER, File: { Name: 'scan.raw', Size: digest.size, SHA256: digest.sha256 } });
      const parsed = parseSidecar(bytes);
      expect(parsed.value).toBe(JSON.stringify(INNER));
      expect(sidecarDescribes(parsed, digest)).toBe(true);
      expect(sidecarLabel(parsed, 'scan.raw.aigc.json')).toEqual({ value: JSON.stringify(INNER), location: 'sidecar:scan.raw.aigc.json', standard: true });
    }
  });

  it('tells when the file no longer matches its sidecar', async () => {
    const parsed = parseSidecar(buildSidecar(JSON.stringify(INNER), await digestPayload(bufferSource(payload))));
    const changed = payload.slice();
    changed[5] = (changed[5] ?? 0) ^ 1;
    expect(sidecarDescribes(parsed, await digestPayload(bufferSource(changed)))).toBe(false);
    expect(sidecarDescribes(parsed, await digestPayload(bufferSource(payload.subarray(1))))).toBe(false);
  });

  it('refuses a label value that is not a JSON object', () => {
    const digest = { size: 0, sha256: '0'.repeat(64) };
    for (const value of ['not json', '[1]', '{"AIGC":"x"}']) expect(() => buildSidecar(value, digest)).toThrow(LabelValueError);
  });

  it('rejects malformed sidecars with LabelFormatError', () => {
    const good = { AIGC: INNER, File: { Size: 1, SHA256: 'a'.repeat(64) } };
    const bad: [unknown, RegExp][] = [
      [{ ...good, AIGC: 'x' }, /AIGC/],
      [{ AIGC: INNER }, /File/],
      [{ ...good, File: { Size: -1, SHA256: 'a'.repeat(64) } }, /Size/],
      [{ ...good, File: { Size: 1, SHA256: 'xyz' } }, /SHA256/],
      [{ ...good, File: { Size: 1, SHA256: 'a'.repeat(64), Name: 5 } }, /Name/],
    ];
    for (const [doc, message] of bad) expect(() => parseSidecar(enc(JSON.stringify(doc)))).toThrow(message);
    expect(() => parseSidecar(enc('{"AIGC":'))).toThrow(LabelFormatError);
    expect(() => parseSidecar(Uint8Array.from([0xff, 0xfe]))).toThrow(/UTF-8 JSON/);
    expect(() => parseSidecar(new Uint8Array(70_000).fill(0x20))).toThrow(/larger than/);
  });
});
