/**
 * A bounded fuzz campaign over every registered codec (`npm run fuzz` runs a long one): each
 * mutant must yield a result or a typed HeguiError, in bounded time, with the input untouched.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabelCodec } from '../src/label/implicit/codec.js';
import { builtinCodecs } from '../src/label/implicit/registry.js';
import { fuzzCodecs } from '../scripts/fuzz-labels.js';
import { documentSamples, FIXTURES, fixtureSamples, imageSamples, mediaSamples, PRODUCER, TC260_EXIFTOOL_CONFIG } from './label-samples.js';
import { embedLabel } from '../src/label/api.js';
import { systemTool } from './helpers/system.js';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 70);

let seeds: Record<string, Uint8Array> = {};
beforeAll(async () => {
  const plain = { ...(await imageSamples()), ...mediaSamples(), ...documentSamples(), ...fixtureSamples() };
  seeds = { ...plain, ...(await labelledSeeds(plain)) };
}, 120_000);

/**
 * Every seed again with a label in it, and the image, PDF and MP4 seeds with a label in the
 * XMP exiftool writes, so that mutants reach the readers of each label place (WAV `_PMX`, PDF
 * /Metadata, the MP4 `uuid` box, ...), not only the unlabelled paths.
 */
async function labelledSeeds(plain: Record<string, Uint8Array>): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  const dir = mkdtempSync(join(tmpdir(), 'hegui-fuzz-seeds-'));
  const config = join(dir, 'tc260.config');
  writeFileSync(config, TC260_EXIFTOOL_CONFIG);
  const exiftool = systemTool('exiftool', 'libimage-exiftool-perl');
  try {
    for (const [name, bytes] of Object.entries(plain)) {
      const labelled = await embedLabel(bytes, { producer: PRODUCER, produceId: 'fuzz-1' }, { name }).catch(() => undefined);
      if (labelled?.bytes) out[`labelled-${name}`] = labelled.bytes;
      if (!exiftool || !/\.(jpg|png|webp|tif|pdf|mp4|m4a|mov)$/.test(name)) continue;
      const path = join(dir, name.replace(/\//g, '_'));
      writeFileSync(path, bytes);
      const wrote = spawnSync('exiftool', ['-config', config, '-q', '-overwrite_original', '-XMP-TC260:AIGC={"Label":"1"}', '-XMP-dc:Title=t', path]);
      if (wrote.status === 0) out[`exiftool-${name}`] = readFileSync(path);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

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
