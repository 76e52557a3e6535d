/**
 * The `.aigc.json` sidecar for files with no place for a label: written, read, verified,
 * propagated and stripped through the file helpers and the CLI.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embedLabelFile, propagateLabelFile, readLabelFile, stripLabelFile } from '../src/label/files.js';
import { generateLabelKeys, parseSigningKey, parseVerifyKey } from '../src/label/index.js';
import { cli } from './helpers/cli.js';
import { PRODUCER, PROPAGATOR } from './label-samples.js';

describe('sidecar labels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-sidecar-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pair = (): { signing: ReturnType<typeof parseSigningKey>; verify: ReturnType<typeof parseVerifyKey> } => {
    const generated = generateLabelKeys('ed25519');
    return { signing: parseSigningKey(generated.privateKeyPem), verify: parseVerifyKey(generated.publicKeyPem) };
  };
  const keys = pair();
  /** A fresh file with no place for a label, labelled (signed) through its sidecar: each test owns its own. */
  const labelledRaw = async (name: string): Promise<string> => {
    const raw = join(dir, name);
    writeFileSync(raw, randomBytes(4096));
    await embedLabelFile(raw, { producer: PRODUCER, produceId: 'raw-1', key: keys.signing }, { inPlace: true, sidecar: 'fallback' });
    return raw;
  };

  it('refuses a format with no place for a label unless a sidecar is asked for, and leaves the file untouched', async () => {
    const raw = join(dir, 'scan.raw');
    const bytes = randomBytes(4096);
    writeFileSync(raw, bytes);
    await expect(embedLabelFile(raw, { producer: PRODUCER, produceId: 'raw-1' }, { inPlace: true })).rejects.toMatchObject({ code: 'E_LABEL_UNSUPPORTED_FORMAT' });
    const result = await embedLabelFile(raw, { producer: PRODUCER, produceId: 'raw-1', key: keys.signing }, { inPlace: true, sidecar: 'fallback' });
    expect(result).toMatchObject({ format: 'sidecar', path: `${raw}.aigc.json` });
    expect(readFileSync(raw)).toEqual(bytes);
    const doc = JSON.parse(readFileSync(`${raw}.aigc.json`, 'utf8')) as { AIGC: { ProduceID: string }; File: { Name: string; Size: number; SHA256: string } };
    expect(doc.AIGC.ProduceID).toBe('raw-1');
    expect(doc.File).toMatchObject({ Name: 'scan.raw', Size: 4096 });
    expect(await readLabelFile(raw, { keys: [keys.verify] })).toMatchObject({ format: 'sidecar', location: 'sidecar:scan.raw.aigc.json', status: 'valid' });
  });

  it('propagates into the sidecar, keeping the producer fields and signature', async () => {
    const raw = await labelledRaw('propagated.raw');
    const other = pair();
    await propagateLabelFile(raw, { propagator: PROPAGATOR, propagateId: 'p-1', key: other.signing }, { inPlace: true });
    const report = await readLabelFile(raw, { keys: [keys.verify, other.verify] });
    expect(report.label).toMatchObject({ ProduceID: 'raw-1', ContentPropagator: PROPAGATOR, PropagateID: 'p-1' });
    expect(report).toMatchObject({ producer: 'valid', propagator: 'valid' });
  });

  it('detects a file changed after labelling, and a sidecar copied beside another file', async () => {
    const raw = await labelledRaw('changed.raw');
    appendFileSync(raw, 'x');
    expect(await readLabelFile(raw, { keys: [keys.verify] })).toMatchObject({ status: 'payload-changed' });
    const stray = join(dir, 'other.raw');
    writeFileSync(stray, randomBytes(10));
    writeFileSync(`${stray}.aigc.json`, readFileSync(`${raw}.aigc.json`));
    const report = await readLabelFile(stray);
    expect(report.status).toBe('payload-changed');
    expect(report.found[0]?.error).toMatch(/another size or SHA-256/);
  });

  it('a broken sidecar is a typed error', async () => {
    const raw = join(dir, 'broken.raw');
    writeFileSync(raw, randomBytes(10));
    writeFileSync(`${raw}.aigc.json`, '{"AIGC": 5');
    await expect(readLabelFile(raw)).rejects.toMatchObject({ code: 'E_LABEL_FORMAT' });
  });

  it('strip deletes the sidecar; -o copies the file and labels the copy', async () => {
    const raw = await labelledRaw('stripped.raw');
    expect(await stripLabelFile(raw, { inPlace: true })).toMatchObject({ method: 'removed' });
    expect(existsSync(`${raw}.aigc.json`)).toBe(false);
    const out = join(dir, 'copy.raw');
    await embedLabelFile(raw, { producer: PRODUCER, produceId: 'raw-2' }, { out, sidecar: 'always' });
    expect(readFileSync(out)).toEqual(readFileSync(raw));
    expect((await readLabelFile(out)).label?.ProduceID).toBe('raw-2');
    expect(existsSync(`${raw}.aigc.json`)).toBe(false);
  });

  it('the CLI writes sidecars for named files with --sidecar, never for files met in a folder', async () => {
    const folder = join(dir, 'batch');
    const nested = join(folder, 'junk.bin');
    rmSync(folder, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    writeFileSync(nested, randomBytes(16));
    const named = join(dir, 'named.bin');
    writeFileSync(named, randomBytes(16));
    const r = await cli(['label', 'embed', named, folder, '--producer', PRODUCER, '--id', 'b-{n}', '--in-place', '--sidecar']);
    expect(r.stdout).toMatch(/ok {4}.*named\.bin -> .*named\.bin\.aigc\.json {2}sidecar/);
    expect(existsSync(`${nested}.aigc.json`)).toBe(false);
    expect(r.stderr).toMatch(/1 skipped/);
  });
});
