/**
 * The image pool behind `hegui label visible` on a batch (issue 14): threads that label images
 * give the same bytes as labelling in this thread, their failures come back with the code of
 * the error they hit, and the CLI reports a folder's files in order, a broken one among them
 * failed while the rest are labelled.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeguiError } from '../src/errors.js';
import { labelImage, openImageLabelPool, poolable, type ImageLabelPool } from '../src/label/explicit/index.js';
import { createLabel } from '../src/label/model.js';
import { cli } from './helpers/cli.js';
import { rawImage } from './label-explicit-samples.js';
import { PRODUCER } from './label-samples.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-explicit-pool-'));
const folder = join(dir, 'in');
const names = ['a.jpg', 'b.jpg', 'c-broken.jpg', 'd.png', 'e.jpg'];
let pool: ImageLabelPool;

beforeAll(async () => {
  mkdirSync(folder, { recursive: true });
  for (const [i, name] of names.entries()) {
    const image = rawImage(320 + i * 16, 240, i % 2 === 0 ? 'busy' : 'light', i + 1);
    const bytes = name.endsWith('.png') ? await image.png().toBuffer() : await image.jpeg({ quality: 82 }).toBuffer();
    // A JPEG cut off in its scan: the headers read, the pixels do not.
    writeFileSync(join(folder, name), name.includes('broken') ? bytes.subarray(0, Math.floor(bytes.length / 3)) : bytes);
  }
  pool = await openImageLabelPool(2);
});

afterAll(async () => {
  await pool.close();
});

describe('image label pool', () => {
  it('labels in a thread exactly as in this one', async () => {
    for (const name of ['a.jpg', 'd.png']) {
      const path = join(folder, name);
      const options = { language: 'en' as const, position: 'top-left' as const };
      const [pooled, here] = await Promise.all([pool.label(path, options), labelImage(readFileSync(path), options)]);
      expect(pooled.notice).toBe(here.notice);
      expect(pooled.box).toEqual(here.box);
      expect(Buffer.from(pooled.bytes).equals(Buffer.from(here.bytes))).toBe(true);
    }
  });

  it('writes an implicit label request sent to a thread', async () => {
    const implicit = { label: '1' as const, producer: PRODUCER, produceId: 'pool-1' };
    expect(poolable({ implicit })).toBe(true);
    const result = await pool.label(join(folder, 'e.jpg'), { implicit });
    expect(result.implicit?.ProduceID).toBe('pool-1');
    expect(result.implicit).toEqual(createLabel({ producer: PRODUCER, produceId: 'pool-1' }));
  });

  it('refuses options that cannot cross threads', () => {
    expect(poolable({ implicit: { producer: PRODUCER, produceId: 'x', key: { algorithm: 'ed25519', keyId: 'k', sign: () => new Uint8Array(), publicKey: {} } as never } })).toBe(false);
    expect(poolable({ language: 'zh', quality: 80 })).toBe(true);
  });

  it("gives back a thread's failure with its code", async () => {
    const failure = await pool.label(join(folder, 'c-broken.jpg'), {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HeguiError);
    expect((failure as HeguiError).code).toBe('E_LABEL_IMAGE_DECODE');
    const missing = await pool.label(join(folder, 'nothing.jpg'), {}).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Error);
  });

  it('labels a folder through the pool, reporting files in order and failing only the broken one', async () => {
    const out = join(dir, 'out');
    const result = await cli(['label', 'visible', folder, '-o', out, '--json'], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; status: string; error?: { code: string } });
    expect(records.map((r) => [r.file, r.status])).toEqual(names.map((name) => [`in/${name}`, name.includes('broken') ? 'failed' : 'ok']));
    expect(records.find((r) => r.status === 'failed')?.error?.code).toBe('E_LABEL_IMAGE_DECODE');
    expect(result.stderr).toMatch(/5 files: 4 labelled, 1 failed/);
    for (const name of names.filter((n) => !n.includes('broken'))) expect(readFileSync(join(out, name)).length).toBeGreaterThan(0);
  });

  it('says which method labelled each JPEG: the DCT-block splice by default (and with --splice), the whole re-encode with --reencode', async () => {
    const method = async (extra: string[], out: string): Promise<(string | undefined)[]> => {
      const result = await cli(['label', 'visible', folder, '-o', join(dir, out), '--json', ...extra], { cwd: dir });
      const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; format?: string; method?: string });
      return records.filter((r) => r.format === 'jpeg').map((r) => r.method);
    };
    for (const [extra, out] of [[[], 'out-default'], [['--splice'], 'out-splice']] as const) {
      const spliced = await method([...extra], out);
      expect(spliced.length).toBeGreaterThan(0);
      expect(spliced.every((m) => m === 'dct-splice' || m === 'reencode')).toBe(true);
      expect(spliced).toContain('dct-splice');
    }
    expect(new Set(await method(['--reencode'], 'out-reencode'))).toEqual(new Set(['reencode']));
  });
});
