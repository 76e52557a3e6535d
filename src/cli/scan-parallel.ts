/**
 * @module cli/scan-parallel
 * `hegui scan --file` of a large file on every core: the file is read once into shared
 * memory, cut just after line feeds (safety/split, which explains why that gives exactly the
 * hits of one pass), and each part is decoded and searched on its own thread: the first on
 * the main thread, the others on worker threads that load the compiled library from its cache.
 * Their findings are moved by the UTF-16 length of the parts before them and put end to end.
 *
 * A worker that fails (cannot start, cannot load the library) costs time, not results: its
 * part is searched on the main thread.
 */
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CompiledLibrary, LocalFindings, SafetyGuard } from '../safety/index.js';
import { joinFindings, lineFeedCuts, splitsAtLineFeeds } from '../safety/split.js';
import { fileError } from './files.js';
import type { CliIo } from './io.js';
import { readShared } from './scan-library.js';

/** Files from this size on are searched in parts. */
export const PARALLEL_SCAN_BYTES = 4 << 20;
/** At most this many parts (threads). */
const MAX_PARTS = 8;

/**
 * What a worker is told: the library to load (a file or `example`), for a file the bytes the
 * main thread compiled (shared), and the personal-data day.
 */
export interface ScanWorkerSetup {
  library: string | undefined;
  libraryBytes?: Uint8Array;
  today: number;
}

/** Then the part to search: `bytes[from, to)`. */
export interface ScanWorkerJob {
  bytes: SharedArrayBuffer;
  from: number;
  to: number;
}

/** What it answers: the part's findings and its UTF-16 length, or why it could not. */
export type ScanWorkerAnswer = { found: LocalFindings; length: number } | { error: string };

/** A text file's bytes in shared memory, or a `fileError` naming it. */
async function readTextShared(io: CliIo, file: string, what: string): Promise<Uint8Array> {
  return readShared(resolve(io.cwd, file)).catch((cause: unknown) => {
    throw fileError(file, what, cause);
  });
}

/** A worker thread that searches one part; its module is loaded while the main thread reads. */
function startWorker(setup: ScanWorkerSetup): Worker {
  // From the TypeScript source (tests, `npm run dev`) a small JavaScript module registers tsx
  // in the thread first: Node 20 does not hand `--import tsx` on to worker threads.
  return new Worker(new URL(import.meta.url.endsWith('.ts') ? './scan-worker-source.mjs' : './scan-worker.js', import.meta.url), { workerData: setup });
}

function answerOf(worker: Worker): Promise<ScanWorkerAnswer> {
  return new Promise((done) => {
    worker.once('message', (answer: ScanWorkerAnswer) => done(answer));
    worker.once('error', (error) => done({ error: String(error?.message ?? error) }));
    worker.once('exit', (code) => done({ error: `worker exited with ${code}` }));
  });
}

/**
 * A part of the shared bytes as text, decoded as `readFile(…, 'utf8')` decodes a whole file
 * (a byte-order mark is kept; TextDecoder would drop it, and refuses shared memory).
 */
export function decodePart(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('utf8');
}

/**
 * The findings of the file `file`, searched in parts on several threads when it is large and
 * the library allows cutting at line feeds, else in one pass; with the whole text, decoded
 * only when asked for (a redacted copy needs it).
 */
export async function findInFile(io: CliIo, guard: SafetyGuard, library: { source: string | undefined; compiled: CompiledLibrary | undefined; bytes?: Uint8Array }, file: string, today: Date, threads = availableParallelism(), minBytes = PARALLEL_SCAN_BYTES): Promise<{ found: LocalFindings; text: () => string; cuts: number }> {
  const parts = Math.min(MAX_PARTS, threads);
  const handle = await open(resolve(io.cwd, file), 'r').catch((cause: unknown) => {
    throw fileError(file, 'text file', cause);
  });
  const size = await handle.stat().then((s) => s.size, () => 0).finally(() => handle.close());
  const parallel = parts > 1 && size >= minBytes && splitsAtLineFeeds(library.compiled);
  // Workers start before the file is read: loading their modules overlaps the read.
  const workers = parallel ? Array.from({ length: parts - 1 }, () => startWorker({ library: library.source, ...(library.bytes ? { libraryBytes: library.bytes } : {}), today: today.getTime() })) : [];
  const answers = workers.map(answerOf);
  try {
    const bytes = await readTextShared(io, file, 'text file');
    const cuts = parallel ? lineFeedCuts(bytes, parts) : [];
    const bounds = [0, ...cuts, bytes.length];
    const jobs = bounds.slice(1, -1).map((from, i) => ({ from, to: bounds[i + 2] as number }));
    jobs.forEach((job, i) => workers[i]?.postMessage({ bytes: bytes.buffer as SharedArrayBuffer, from: job.from, to: job.to } satisfies ScanWorkerJob));
    // Workers without a part (fewer cuts than threads) stop at once.
    for (const worker of workers.slice(jobs.length)) void worker.terminate();
    const first = decodePart(bytes, 0, bounds[1] as number);
    const results = [{ found: guard.findLocal(first), length: first.length }];
    for (const [i, job] of jobs.entries()) {
      const answer = await (answers[i] as Promise<ScanWorkerAnswer>);
      if ('found' in answer) results.push(answer);
      else {
        const part = decodePart(bytes, job.from, job.to);
        results.push({ found: guard.findLocal(part), length: part.length });
      }
    }
    let offset = 0;
    const found = joinFindings(results.map((r) => {
      const at = offset;
      offset += r.length;
      return { offset: at, found: r.found };
    }));
    return { found, text: () => (cuts.length === 0 ? first : decodePart(bytes, 0, bytes.length)), cuts: cuts.length };
  } finally {
    for (const worker of workers) void worker.terminate();
  }
}
