/**
 * @module cli/label-worker
 * A worker thread of `hegui label embed`'s pool (`label-pool.ts`): for each file it is sent, it
 * reads the file, patches it in place when the label fits, or makes the labelled bytes
 * (`prepareEmbedFile`), and sends the outcome back. It never creates a temporary file: the
 * main thread writes the bytes atomically, where interrupt signals are handled.
 */
import { parentPort } from 'node:worker_threads';
import type { EmbedRequest } from '../label/api.js';
import { prepareEmbedFile, type FileEmbedOptions, type PreparedEmbed } from '../label/files.js';
import { toThreadError, type ThreadError } from '../label/thread-error.js';

/** One file to prepare. */
export interface EmbedTask {
  id: number;
  path: string;
  request: EmbedRequest;
  options: FileEmbedOptions;
}

export type EmbedReply = { id: number; ok: true; prepared: PreparedEmbed } | { id: number; ok: false; error: ThreadError };

const port = parentPort;
if (port) {
  port.on('message', (task: EmbedTask) => {
    prepareEmbedFile(task.path, task.request, task.options).then(
      (prepared) => port.postMessage({ id: task.id, ok: true, prepared } satisfies EmbedReply),
      (error: unknown) => port.postMessage({ id: task.id, ok: false, error: toThreadError(error) } satisfies EmbedReply),
    );
  });
}
