/**
 * @module cli/scan-worker
 * A worker thread of `hegui scan --file` on a large file (see cli/scan-parallel): loads the
 * compiled library (from its cache, which the main thread has just checked or written), then
 * decodes and searches the part of the shared bytes it is given and posts its findings.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SafetyGuard } from '../safety/guard.js';
import { loadCompiledLibraryBytes } from '../safety/library-cache.js';
import { loadCompiledLibrary } from './scan-library.js';
import type { ScanWorkerAnswer, ScanWorkerJob, ScanWorkerSetup } from './scan-parallel.js';
import { decodePart } from './scan-parallel.js';

const setup = workerData as ScanWorkerSetup;
parentPort?.once('message', (job: ScanWorkerJob) => {
  void (async (): Promise<ScanWorkerAnswer> => {
    try {
      // A library file: the very bytes the main thread compiled, not the file as it is now.
      const library = setup.libraryBytes && setup.library !== undefined ? await loadCompiledLibraryBytes(setup.library, setup.libraryBytes) : await loadCompiledLibrary(setup.library);
      const guard = new SafetyGuard({ ...(library === undefined ? {} : { library }), pii: { today: new Date(setup.today) } });
      const text = decodePart(new Uint8Array(job.bytes), job.from, job.to);
      return { found: guard.findLocal(text), length: text.length };
    } catch (error) {
      return { error: String((error as Error)?.message ?? error) };
    }
  })().then((answer) => parentPort?.postMessage(answer));
});
