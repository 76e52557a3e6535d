/**
 * The light codec table (`codec-table.ts`) chooses the codec the eager registry chooses, while
 * importing only the codecs a file may belong to.
 */
import { describe, expect, it } from 'vitest';
import { documentSamples, fixtureSamples, imageSamples, mediaSamples } from '../../../test/label-samples.js';
import { DETECT_BYTES, findCodec, lazyCodecs } from './codec-table.js';
import type { LabelCodec } from './codec.js';
import { mutants } from './media-testkit.js';
import { builtinCodecs, detectCodec } from './registry.js';

async function samples(): Promise<Record<string, Uint8Array>> {
  return { ...(await imageSamples()), ...mediaSamples(), ...documentSamples(), ...fixtureSamples() };
}

describe('the light codec table', () => {
  it('lists every built-in codec, in detection order, with its format and extensions', async () => {
    expect(lazyCodecs.map((entry) => entry.format)).toEqual(builtinCodecs.map((codec) => codec.format));
    for (const entry of lazyCodecs) {
      const codec = await entry.load();
      expect(codec.format).toBe(entry.format);
      expect([...entry.extensions]).toEqual([...codec.extensions]);
    }
  });

  it("never refuses a head its codec's detect accepts, and chooses the registry's codec", async () => {
    const all = await samples();
    expect(Object.keys(all).length).toBeGreaterThan(10);
    const heads: Uint8Array[] = [];
    for (const bytes of Object.values(all)) {
      const head = bytes.subarray(0, DETECT_BYTES);
      heads.push(head, head.subarray(0, 12), head.subarray(0, 3), ...mutants(head, 20, 7, 64));
    }
    const codecs = await Promise.all(lazyCodecs.map((entry) => entry.load()));
    for (const head of heads) {
      lazyCodecs.forEach((entry, i) => {
        if ((codecs[i] as LabelCodec).detect(head)) expect(entry.mayBe(head), `${entry.format} on ${Buffer.from(head.subarray(0, 16)).toString('hex')}`).toBe(true);
      });
      const eager = detectCodec(head);
      if (eager) expect((await findCodec(head)).format).toBe(eager.format);
      else await expect(findCodec(head)).rejects.toMatchObject({ code: 'E_LABEL_UNSUPPORTED_FORMAT' });
    }
    // The samples are made by sharp, ffmpeg and python: slow on a busy machine.
  }, 180_000);

  it('takes an MP4 for no possible HEIF (the HEIF codec is not loaded for it), a HEIC or AVIF for one', () => {
    const head = (brand: string) => new Uint8Array([0, 0, 0, 0x20, ...Buffer.from(`ftyp${brand}`, 'latin1'), 0, 0, 2, 0]);
    const heif = lazyCodecs.find((entry) => entry.format === 'heif');
    const mp4 = lazyCodecs.find((entry) => entry.format === 'mp4');
    for (const brand of ['isom', 'mp42', 'qt  ', 'M4A ', 'msf1', 'avis']) {
      expect(heif?.mayBe(head(brand)), brand).toBe(false);
      expect(mp4?.mayBe(head(brand)), brand).toBe(true);
    }
    for (const brand of ['heic', 'mif1', 'avif']) expect(heif?.mayBe(head(brand)), brand).toBe(true);
    // Too short to name a brand: not a HEIF.
    expect(heif?.mayBe(head('heic').subarray(0, 10))).toBe(false);
  });

  it('lets a caller add or replace codecs, and names text formats by extension', async () => {
    const jpeg = builtinCodecs.find((codec) => codec.format === 'jpeg') as LabelCodec;
    const custom: LabelCodec = { ...jpeg, detect: (head) => head[0] === 0xff };
    const head = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0]);
    expect(await findCodec(head, [custom])).toBe(custom);
    const text = new TextEncoder().encode('just some words, no front matter\n');
    expect((await findCodec(text, [], 'notes.md')).format).toBe('markdown');
    await expect(findCodec(text, [], 'notes.bin')).rejects.toMatchObject({ code: 'E_LABEL_UNSUPPORTED_FORMAT' });
  });
});
