/**
 * @module label/api-io
 * Turns what callers hold (bytes, a Node Readable, a web ReadableStream, any async iterable of
 * chunks, or a `ByteSource`) into the random-access `ByteSource` codecs read, and what they want
 * back (a Node Writable, a web WritableStream, a `ByteSink`) into a sink. Codecs need random
 * access (an MP4's moov may sit at the end), so a stream is first spooled: into memory up to a
 * limit by default, or into whatever `Spool` the caller supplies (the file helpers offer a
 * temporary-file spool that keeps memory bounded for any size).
 */
import type { Writable } from 'node:stream';
import { InvalidInputError } from '../errors.js';
import type { ByteSink, ByteSource } from './implicit/codec.js';
import { BufferSink, bufferSource } from './implicit/bytes.js';

/** Bytes, a stream of bytes, or a random-access source. */
export type LabelInput = Uint8Array | ByteSource | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

/** Where a rewritten file goes. Streams are ended when the file is complete, destroyed or aborted on error. */
export type LabelOutput = ByteSink | WritableStream<Uint8Array> | Writable;

/** Somewhere to keep a stream's bytes until the codec has read them. */
export interface Spool extends ByteSink {
  /** The bytes written so far, as a source (called once, after the last write). */
  finish(): Promise<ByteSource>;
  /** Releases the spool's storage. */
  dispose(): Promise<void>;
}

export type SpoolFactory = () => Promise<Spool>;

/** Default most bytes a stream is spooled into memory: larger inputs need a file spool. */
export const DEFAULT_MEMORY_SPOOL_BYTES = 256 << 20;

export class InputTooLargeError extends InvalidInputError {
  constructor(limit: number) {
    super(
      'E_LABEL_INPUT_TOO_LARGE',
      `the input stream is larger than ${limit} bytes; label it as a file (the CLI and file helpers handle any size) or pass a file spool`,
    );
  }
}

/** A spool in memory that refuses more than `limit` bytes. */
export function memorySpool(limit = DEFAULT_MEMORY_SPOOL_BYTES): Spool {
  const sink = new BufferSink();
  return {
    write: (chunk) => {
      if (sink.length + chunk.length > limit) throw new InputTooLargeError(limit);
      return sink.write(chunk);
    },
    finish: () => Promise.resolve(bufferSource(sink.bytes())),
    dispose: () => Promise.resolve(),
  };
}

export interface SourceOptions {
  /** Where to spool stream input (default: memory, up to `maxBufferBytes`). */
  spool?: SpoolFactory;
  /** Limit of the default memory spool. */
  maxBufferBytes?: number;
}

function isByteSource(input: LabelInput): input is ByteSource {
  return typeof (input as ByteSource).read === 'function' && typeof (input as ByteSource).size === 'number';
}

async function* chunksOf(input: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>): AsyncIterable<Uint8Array> {
  const iterable: AsyncIterable<Uint8Array | string> =
    Symbol.asyncIterator in input ? (input as AsyncIterable<Uint8Array | string>) : webIterable(input as ReadableStream<Uint8Array>);
  for await (const chunk of iterable) yield typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
}

async function* webIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * A `ByteSource` for any input, and a function that releases what it took.
 *
 * @example
 * const { source, dispose } = await openInput(request.body);
 */
export async function openInput(input: LabelInput, options: SourceOptions = {}): Promise<{ source: ByteSource; dispose: () => Promise<void> }> {
  if (input instanceof Uint8Array) return { source: bufferSource(input), dispose: () => Promise.resolve() };
  if (isByteSource(input)) return { source: input, dispose: () => Promise.resolve() };
  const spool = options.spool ? await options.spool() : memorySpool(options.maxBufferBytes);
  try {
    for await (const chunk of chunksOf(input)) await spool.write(chunk);
    return { source: await spool.finish(), dispose: () => spool.dispose() };
  } catch (error) {
    await spool.dispose();
    throw error;
  }
}

function isWebWritable(output: LabelOutput): output is WritableStream<Uint8Array> {
  return typeof (output as WritableStream).getWriter === 'function';
}

function isNodeWritable(output: LabelOutput): output is Writable {
  return typeof (output as Writable).end === 'function' && typeof (output as Writable).once === 'function';
}

/** A sink for `output`, with `close` to end it after the last write and `abort` on failure. */
export function openOutput(output: LabelOutput): { sink: ByteSink; close: () => Promise<void>; abort: (error: unknown) => Promise<void> } {
  if (isWebWritable(output)) {
    const writer = output.getWriter();
    return {
      sink: {
        write: async (chunk) => {
          await writer.ready;
          await writer.write(chunk.slice());
        },
      },
      close: () => writer.close(),
      abort: (error) => writer.abort(error),
    };
  }
  if (isNodeWritable(output)) {
    const node = output;
    return {
      sink: {
        write: (chunk) =>
          new Promise<void>((resolve, reject) => {
            const onError = (error: Error): void => reject(error);
            node.once('error', onError);
            const ready = node.write(Buffer.from(chunk), (error) => {
              if (error) reject(error);
            });
            const done = (): void => {
              node.off('error', onError);
              resolve();
            };
            if (ready) done();
            else node.once('drain', done);
          }),
      },
      close: () =>
        new Promise<void>((resolve, reject) => {
          node.once('error', reject);
          node.end(() => resolve());
        }),
      // Destroyed without the error: the caller gets it from the rejected promise, and an
      // 'error' event nobody listens to would crash the process.
      abort: () => {
        node.destroy();
        return Promise.resolve();
      },
    };
  }
  return { sink: output, close: () => Promise.resolve(), abort: () => Promise.resolve() };
}

/**
 * A web `ReadableStream` of what `write` produces, for handlers that answer with a stream
 * (`new Response(stream)`). An error in `write` errors the stream.
 *
 * @example
 * return new Response(labelledStream((output) => embedLabel(request.body, label, { output })));
 */
export function labelledStream(write: (output: WritableStream<Uint8Array>) => Promise<unknown>): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  write(writable).catch((error: unknown) => writable.abort(error).catch(() => undefined));
  return readable;
}
