/**
 * @module store/checkpointer
 * WAL checkpoints of an embedded SQLite file on a worker thread. SQLite's automatic checkpoint
 * runs inside the commit that crosses the threshold (1,000 pages): it copies the WAL into the
 * database file and fsyncs both, about 8 ms on the VM the gateway benchmark runs on, while the
 * event loop waits. With one audit append per request that was one request in a hundred or so,
 * and most of the gateway's p99. The server turns the automatic checkpoint off on its
 * connection and lets this worker, with a connection of its own, run a PASSIVE checkpoint
 * (which never blocks writers) a few times a second; the fsyncs happen off the event loop.
 * Under steady load the WAL never empties by itself (see the worker), so past 64 MiB the worker
 * truncates it: the writer then waits once for the tail to be copied and the file cut (up to about
 * 0.2 s in `bench/audit`), every few thousand requests instead of every hundred.
 *
 * The worker is a short script evaluated from a string, loading better-sqlite3 by the path the
 * main thread resolved, so it runs the same from the TypeScript sources and from dist/.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path);
db.pragma('busy_timeout = 5000');
const fs = require('node:fs');
const wal = workerData.path + '-wal';
// PASSIVE never blocks the writer, but the WAL only starts over when a write begins with every
// frame copied back, which steady load never allows: past the limit, TRUNCATE (a short block
// of the writer: most frames are already copied) brings it back to nothing.
const run = () => {
  try {
    let size = 0;
    try { size = fs.statSync(wal).size; } catch {}
    db.pragma(size > workerData.truncateBytes ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
};
const timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  run();
  db.close();
  parentPort.close();
});
parentPort.postMessage({ ready: true });
`;

/** The WAL size past which the worker truncates it (a brief block of the writer) instead of a PASSIVE pass. */
export const WAL_TRUNCATE_BYTES = 64 * 1024 * 1024;

export interface Checkpointer {
  /** Runs a last checkpoint and ends the worker. */
  stop(): Promise<void>;
}

/**
 * Starts checkpointing the WAL of the SQLite file at `path` every `intervalMs` on a worker
 * thread. Resolves once the worker has opened the file; rejects if it cannot (the caller then
 * keeps SQLite's automatic checkpoint). A failed checkpoint later is reported to `onError`.
 */
export function startCheckpointer(path: string, intervalMs: number, onError: (message: string) => void, truncateBytes = WAL_TRUNCATE_BYTES): Promise<Checkpointer> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { path, intervalMs, driver, truncateBytes } });
  // A worker that only checkpoints never keeps the process alive.
  worker.unref();
  const stopped = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: { ready?: boolean; error?: string }) => {
      if (message.error) onError(message.error);
      if (!message.ready) return;
      worker.off('error', reject);
      worker.on('error', (error: Error) => onError(error.message));
      resolve({
        stop: async () => {
          // Keep the process alive until the worker's last checkpoint is done.
          worker.ref();
          worker.postMessage('stop');
          await stopped;
        },
      });
    });
  });
}
