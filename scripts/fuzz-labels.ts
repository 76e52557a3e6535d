/**
 * @module scripts/fuzz-labels
 * Mutation fuzzing of every registered label codec (hegui's built-in ones, including codecs
 * other engineers register in `src/label/implicit/codecs.ts`). Each mutant of a seed file
 * (truncated, bits flipped, length fields zeroed or made huge, offsets pointing at themselves,
 * slices duplicated) goes through read, write, remove, payloadRanges, signedContent and planInPlace. Every
 * call must either succeed or throw a typed `HeguiError`, finish in bounded time, and leave
 * the input bytes untouched.
 *
 * `npm run fuzz` runs a long campaign (FUZZ_ITERATIONS per seed and codec, default 5000);
 * `test/label-fuzz.test.ts` runs a bounded one in CI.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { HeguiError } from '../src/errors.js';
import type { ByteSource, LabelCodec } from '../src/label/implicit/codec.js';
import { BufferSink, bufferSource } from '../src/label/implicit/bytes.js';
import { builtinCodecs } from '../src/label/implicit/registry.js';
import { seededRandom } from '../test/helpers/random.js';


type Mutation = (input: Uint8Array, random: () => number) => Uint8Array;

const pick = (random: () => number, n: number): number => Math.floor(random() * n);

function putU32(bytes: Uint8Array, at: number, value: number, little: boolean): void {
  if (at + 4 > bytes.length) return;
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at, value >>> 0, little);
}

/** The mutations the acceptance criteria name, and a few more. */
export const MUTATIONS: Readonly<Record<string, Mutation>> = {
  truncate: (input, random) => input.slice(0, pick(random, input.length)),
  flipBits: (input, random) => {
    const out = input.slice();
    for (let n = 1 + pick(random, 8); n > 0 && out.length > 0; n--) {
      const at = pick(random, out.length);
      out[at] = (out[at] ?? 0) ^ (1 << pick(random, 8));
    }
    return out;
  },
  zeroLength: (input, random) => {
    const out = input.slice();
    putU32(out, pick(random, out.length), 0, random() < 0.5);
    return out;
  },
  hugeLength: (input, random) => {
    const out = input.slice();
    const values = [0xffffffff, 0x7fffffff, 0x80000000, out.length * 2, 0xffff];
    putU32(out, pick(random, out.length), values[pick(random, values.length)] ?? 0, random() < 0.5);
    return out;
  },
  selfReference: (input, random) => {
    // An offset or size field that points back at itself: the shape of IFD, box and xref loops.
    const out = input.slice();
    const at = pick(random, out.length);
    putU32(out, at, random() < 0.5 ? at : Math.max(0, at - 8), random() < 0.5);
    return out;
  },
  duplicateSlice: (input, random) => {
    const start = pick(random, input.length);
    const end = Math.min(input.length, start + 1 + pick(random, 512));
    const at = pick(random, input.length);
    const out = new Uint8Array(input.length + end - start);
    out.set(input.subarray(0, at));
    out.set(input.subarray(start, end), at);
    out.set(input.subarray(at), at + end - start);
    return out;
  },
  byteRun: (input, random) => {
    const out = input.slice();
    const at = pick(random, out.length);
    out.fill(random() < 0.5 ? 0 : 0xff, at, Math.min(out.length, at + 1 + pick(random, 64)));
    return out;
  },
};

export interface FuzzFailure {
  codec: string;
  seedName: string;
  mutation: string;
  iteration: number;
  operation: string;
  error: string;
}

const LABEL = '{"Label":"1","ContentProducer":"001191350100M000100Y431A001","ProduceID":"fuzz","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}';

/** Rejects the promise when an operation exceeds `ms`: a parser stuck in a loop. */
async function bounded<T>(operation: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const OPERATIONS: Readonly<Record<string, (codec: LabelCodec, source: ByteSource) => Promise<unknown>>> = {
  read: (codec, source) => codec.read(source),
  write: (codec, source) => codec.write(source, LABEL, new BufferSink()),
  remove: (codec, source) => codec.remove(source, new BufferSink()),
  payloadRanges: (codec, source) => codec.payloadRanges(source),
  signedContent: (codec, source) => codec.signedContent?.(source, new BufferSink()) ?? Promise.resolve(undefined),
  planInPlace: (codec, source) => codec.planInPlace?.(source, LABEL) ?? Promise.resolve(undefined),
};

/** Runs one mutant through every operation of `codec`; returns the failures. */
export async function fuzzOne(codec: LabelCodec, mutant: Uint8Array, context: Omit<FuzzFailure, 'operation' | 'error' | 'codec'>, timeoutMs = 5000): Promise<FuzzFailure[]> {
  const failures: FuzzFailure[] = [];
  const digest = createHash('sha256').update(mutant).digest('hex');
  for (const [operation, run] of Object.entries(OPERATIONS)) {
    try {
      await bounded(run(codec, bufferSource(mutant)), timeoutMs);
    } catch (error) {
      if (!(error instanceof HeguiError)) {
        failures.push({ ...context, codec: codec.format, operation, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
    }
    if (createHash('sha256').update(mutant).digest('hex') !== digest) {
      failures.push({ ...context, codec: codec.format, operation, error: 'the input bytes were modified' });
      break;
    }
  }
  return failures;
}

export interface FuzzOptions {
  iterations: number;
  seed: number;
  codecs?: readonly LabelCodec[];
  timeoutMs?: number;
}

/**
 * Fuzzes every codec with mutants of the seeds it detects. Seeds no codec detects are
 * ignored; the result lists, per codec, how many seeds it had, so a codec without a seed
 * shows up instead of passing silently.
 */
export async function fuzzCodecs(seeds: Readonly<Record<string, Uint8Array>>, options: FuzzOptions): Promise<{ failures: FuzzFailure[]; seedsPerCodec: Record<string, number>; cases: number }> {
  const codecs = options.codecs ?? builtinCodecs;
  const failures: FuzzFailure[] = [];
  const seedsPerCodec: Record<string, number> = {};
  let cases = 0;
  const mutations = Object.entries(MUTATIONS);
  for (const codec of codecs) {
    seedsPerCodec[codec.format] = 0;
    for (const [seedName, seed] of Object.entries(seeds)) {
      if (!codec.detect(seed.subarray(0, 4096))) continue;
      seedsPerCodec[codec.format] = (seedsPerCodec[codec.format] ?? 0) + 1;
      const random = seededRandom(options.seed ^ createHash('sha256').update(seedName).digest().readUInt32LE(0));
      for (let iteration = 0; iteration < options.iterations; iteration++) {
        const [mutation, mutate] = mutations[iteration % mutations.length] ?? ['truncate', MUTATIONS.truncate];
        const mutant = (mutate ?? ((x: Uint8Array) => x))(seed, random);
        failures.push(...(await fuzzOne(codec, mutant, { seedName, mutation, iteration }, options.timeoutMs)));
        cases++;
      }
    }
  }
  return { failures, seedsPerCodec, cases };
}

async function main(): Promise<void> {
  const { documentSamples, fixtureSamples, imageSamples, mediaSamples } = await import('../test/label-samples.js');
  const iterations = Number(process.env.FUZZ_ITERATIONS ?? 5000);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const seeds = { ...(await imageSamples()), ...mediaSamples(), ...documentSamples(), ...fixtureSamples() };
  console.log(`fuzzing ${builtinCodecs.length} codecs with ${Object.keys(seeds).length} seed files, ${iterations} mutants each, seed ${seed}`);
  const started = Date.now();
  const { failures, seedsPerCodec, cases } = await fuzzCodecs(seeds, { iterations, seed });
  for (const [format, count] of Object.entries(seedsPerCodec)) {
    console.log(`${format.padEnd(10)} ${count} seed file(s)${count === 0 ? '  <- add a sample under test/fixtures/label/' : ''}`);
  }
  for (const failure of failures.slice(0, 50)) console.log(JSON.stringify(failure));
  console.log(`${cases} cases in ${((Date.now() - started) / 1000).toFixed(1)} s: ${failures.length} failures (replay with FUZZ_SEED=${seed})`);
  process.exitCode = failures.length > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
