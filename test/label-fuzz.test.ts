/**
 * A bounded fuzz campaign over every registered codec (`npm run fuzz` runs a long one): each
 * mutant must yield a result or a typed HeguiError, in bounded time, with the input untouched.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabelCodec } from '../src/label/implicit/codec.js';
import { builtinCodecs } from '../src/label/implicit/registry.js';
import { fuzzCodecs } from '../scripts/fuzz-labels.js';
import { documentSamples, FIXTURES, fixtureSamples, imageSamples, mediaSamples } from './label-samples.js';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 70);

let seeds: Record<string, Uint8Array> = {};
beforeAll(async () => {
  seeds = { ...(await imageSamples()), ...mediaSamples(), ...documentSamples(), ...fixtureSamples() };
}, 60_000);

describe('label codec fuzzing', () => {
  for (const codec of builtinCodecs) {
    it(`${codec.format}: every mutant gives a result or a typed error, input untouched`, async () => {
      const { failures, seedsPerCodec, cases } = await fuzzCodecs(seeds, { iterations: ITERATIONS, seed: 20250901, codecs: [codec] });
      // A codec nobody fuzzes passes nothing: it fails until a seed exists (made in label-samples.ts or dropped in test/fixtures/label/).
      expect(seedsPerCodec[codec.format] ?? 0, `${codec.format} has no seed file; add a sample under test/fixtures/label/`).toBeGreaterThan(0);
      expect(cases).toBeGreaterThan(0);
      expect(failures.slice(0, 5)).toEqual([]);
    }, 120_000);
  }
});

describe('the fuzz harness', () => {
  it('has its fixtures folder, whose files join the seeds', () => {
    expect(existsSync(FIXTURES)).toBe(true);
    expect(Object.keys(fixtureSamples())).toContain('README.md');
  });

  it('reports an untyped error, a hang and a modified input', async () => {
    const png = seeds['rgb.png'];
    expect(png, 'the rgb.png sample').toBeDefined();
    const broken: LabelCodec = {
      format: 'jpeg',
      mediaTypes: [],
      extensions: [],
      detect: () => true,
      read: () => Promise.reject(new TypeError('boom')),
      write: () => new Promise<void>(() => undefined),
      remove: (source) => source.read(0, 4).then((b) => void b.fill(0)),
      payloadRanges: () => Promise.resolve([]),
    };
    const { failures } = await fuzzCodecs({ 'rgb.png': png as Uint8Array }, { iterations: 1, seed: 1, codecs: [broken], timeoutMs: 50 });
    expect(failures.map((f) => f.operation).sort()).toEqual(['read', 'remove', 'write']);
  });
});
