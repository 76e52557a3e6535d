/**
 * @module label/inspect
 * The request handler behind `POST /api/labels/inspect`: a platform uploads files
 * (multipart/form-data) and gets back, for each, the same record `hegui label read --json`
 * prints (Labeling Measures Art. 6: platforms must check uploaded content for labels). The
 * body is parsed as a stream, each file spooled up to a size limit and read by content, never
 * by its name. Pure web `Request` -> `Response`, so any server can mount it.
 */
import { InvalidInputError } from '../errors.js';
import { failureRecord, labelRecord, readLabels, type LabelOptions, type LabelRecord } from './api.js';
import { memorySpool, type Spool, type SpoolFactory } from './api-io.js';
import type { LabelVerifyKey } from './security-keys.js';

export interface InspectOptions extends LabelOptions {
  /** Largest accepted file, in bytes (default 64 MiB). */
  maxFileBytes?: number;
  /** Largest accepted request body, in bytes (default 256 MiB). */
  maxBodyBytes?: number;
  /** Most files in one request (default 100). */
  maxFiles?: number;
  /** Public keys to verify security data with; without them signed labels are `unverified`. */
  keys?: readonly LabelVerifyKey[];
  /** Where to keep each uploaded file while it is read (default: memory, up to `maxFileBytes`). */
  spool?: SpoolFactory;
}

const DEFAULTS = { maxFileBytes: 64 << 20, maxBodyBytes: 256 << 20, maxFiles: 100 };

class InspectError extends InvalidInputError {
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

/**
 * Handles `POST /api/labels/inspect`. Responds `200 {"files":[record...]}` with one record per
 * uploaded file part, `400` for a request that is not multipart, `413` when a limit is passed.
 *
 * @example
 * app.post('/api/labels/inspect', (c) => inspectLabels(c.req.raw, { keys }));
 */
export async function inspectLabels(request: Request, options: InspectOptions = {}): Promise<Response> {
  const limits = { ...DEFAULTS, ...options };
  if (request.method !== 'POST') return json(405, { error: { code: 'E_METHOD', message: 'use POST with multipart/form-data' } });
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(request.headers.get('content-type') ?? '');
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker || !request.body) {
    return json(400, { error: { code: 'E_LABEL_INSPECT_REQUEST', message: 'send the files as multipart/form-data' } });
  }
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limits.maxBodyBytes) return json(413, { error: { code: 'E_LABEL_INSPECT_TOO_LARGE', message: `the body exceeds ${limits.maxBodyBytes} bytes` } });
  const files: LabelRecord[] = [];
  try {
    for await (const part of multipartFiles(request.body, marker, limits, options.spool)) {
      files.push(await inspectPart(part, options));
    }
  } catch (error) {
    if (error instanceof InspectError) return json(error.status, { error: { code: error.code, message: error.message } });
    throw error;
  }
  return json(200, { files });
}

async function inspectPart(part: Part, options: InspectOptions): Promise<LabelRecord> {
  try {
    const report = await readLabels(await part.spool.finish(), { ...options, keys: options.keys ?? [] });
    return labelRecord(part.filename, report);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return failureRecord(part.filename, error);
  } finally {
    await part.spool.dispose();
  }
}

interface Part {
  filename: string;
  spool: Spool;
}

const CRLF = new Uint8Array([13, 10]);

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  for (let i = haystack.indexOf(first ?? 0, from); i >= 0 && i <= haystack.length - needle.length; i = haystack.indexOf(first ?? 0, i + 1)) {
    let match = true;
    for (let j = 1; j < needle.length && match; j++) match = haystack[i + j] === needle[j];
    if (match) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Streams the file parts of a multipart body (RFC 7578), each into its own spool. Only a
 * boundary's length of data is held back between chunks, so memory stays bounded by the
 * spools' own limits.
 */
async function* multipartFiles(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  limits: typeof DEFAULTS,
  spoolFactory: SpoolFactory | undefined,
): AsyncGenerator<Part> {
  const delimiter = new TextEncoder().encode(`\r\n--${boundary}`);
  const reader = body.getReader();
  // Prefix CRLF so the first boundary looks like every other one.
  let buffer: Uint8Array = CRLF;
  let total = 0;
  let count = 0;
  let current: (Part & { size: number }) | undefined;
  let state: 'preamble' | 'headers' | 'data' | 'done' = 'preamble';
  const pull = async (): Promise<boolean> => {
    const { done, value } = await reader.read();
    if (done) return false;
    total += value.length;
    if (total > limits.maxBodyBytes) throw new InspectError(413, 'E_LABEL_INSPECT_TOO_LARGE', `the body exceeds ${limits.maxBodyBytes} bytes`);
    buffer = concat(buffer, value);
    return true;
  };
  const write = async (bytes: Uint8Array): Promise<void> => {
    if (!current || bytes.length === 0) return;
    current.size += bytes.length;
    if (current.size > limits.maxFileBytes) throw new InspectError(413, 'E_LABEL_INSPECT_TOO_LARGE', `${current.filename} exceeds ${limits.maxFileBytes} bytes`);
    await current.spool.write(bytes);
  };
  try {
    while (state !== 'done') {
      if (state === 'preamble' || state === 'data') {
        const at = indexOf(buffer, delimiter, 0);
        if (at < 0) {
          const keep = Math.max(0, buffer.length - delimiter.length);
          if (state === 'data') await write(buffer.subarray(0, keep));
          buffer = buffer.subarray(keep);
          if (!(await pull())) throw new InspectError(400, 'E_LABEL_INSPECT_REQUEST', 'the multipart body ends without its closing boundary');
          continue;
        }
        if (state === 'data') await write(buffer.subarray(0, at));
        if (current) yield current;
        current = undefined;
        buffer = buffer.subarray(at + delimiter.length);
        while (buffer.length < 2 && (await pull()));
        if (buffer[0] === 0x2d && buffer[1] === 0x2d) state = 'done';
        else state = 'headers';
      } else {
        const end = indexOf(buffer, new TextEncoder().encode('\r\n\r\n'), 0);
        if (end < 0) {
          if (buffer.length > 16 << 10) throw new InspectError(400, 'E_LABEL_INSPECT_REQUEST', 'part headers are too long');
          if (!(await pull())) throw new InspectError(400, 'E_LABEL_INSPECT_REQUEST', 'the multipart body ends inside part headers');
          continue;
        }
        const headers = new TextDecoder().decode(buffer.subarray(0, end));
        buffer = buffer.subarray(end + 4);
        const filename = /filename\*?=(?:UTF-8'')?"?([^";\r\n]*)"?/i.exec(headers)?.[1];
        if (filename !== undefined) {
          if (++count > limits.maxFiles) throw new InspectError(413, 'E_LABEL_INSPECT_TOO_MANY', `more than ${limits.maxFiles} files in one request`);
          const spool = spoolFactory ? await spoolFactory() : memorySpool(limits.maxFileBytes);
          current = { filename: decodeURIComponent(filename) || `file-${count}`, spool, size: 0 };
        }
        state = 'data';
      }
    }
  } catch (error) {
    await current?.spool.dispose();
    throw error;
  } finally {
    reader.releaseLock();
  }
}
