/**
 * @module cli/label-worker
 * A worker thread of `hegui label embed`'s pool (`label-pool.ts`): for each file it is sent, it
 * reads the file, patches it in place when the label fits, or makes the labelled bytes
 * (`prepareEmbedFile`), and sends the outcome back. It never creates a temporary file: the
 * main thread writes the bytes atomically, where interrupt signals are handled.
 */
import { parentPort } from 'node:worker_threads';
import { HeguiError } from '../errors.js';
import type { EmbedRequest } from '../label/api.js';
import { prepareEmbedFile, type FileEmbedOptions, type PreparedEmbed } from '../label/files.js';

/** One file to prepare. */
export interface EmbedTask {
  id: number;
  path: string;
  request: EmbedRequest;
  options: FileEmbedOptions;
}

/** An error as it crosses threads (its class does not). */
export interface ThreadError {
  name: string;
  message: string;
  code?: string;
  exitCode?: number;
}

export type EmbedReply = { id: number; ok: true; prepared: PreparedEmbed } | { id: number; ok: false; error: ThreadError };

function threadError(error: unknown): ThreadError {
  if (error instanceof HeguiError) return { name: error.name, message: error.message, code: error.code, exitCode: error.exitCode };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

const port = parentPort;
if (port) {
  port.on('message', (task: EmbedTask) => {
    prepareEmbedFile(task.path, task.request, task.options).then(
      (prepared) => port.postMessage({ id: task.id, ok: true, prepared } satisfies EmbedReply),
      (error: unknown) => port.postMessage({ id: task.id, ok: false, error: threadError(error) } satisfies EmbedReply),
    );
  });
}
