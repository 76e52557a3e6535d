/**
 * Bodies for hostile-input tests of the HTTP edges: a large body streamed without a length,
 * made lazily from one reused chunk so the test itself holds almost nothing, and counting how
 * much of it the server pulled before answering.
 */

export interface StreamedBody {
  body: ReadableStream<Uint8Array>;
  /** Bytes handed to the connection so far. */
  sent(): number;
  total: number;
}

/** `total` bytes of `prefix` followed by `fill`, streamed in 1 MiB chunks (chunked transfer, no Content-Length). */
export function streamedBody(total: number, prefix = '', fill = 0x20): StreamedBody {
  const chunk = new Uint8Array(1 << 20).fill(fill);
  const head = new TextEncoder().encode(prefix);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const part = sent === 0 ? Buffer.concat([head, chunk.subarray(0, Math.max(0, Math.min(chunk.length, total) - head.length))]) : chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += part.length;
      controller.enqueue(part);
    },
  });
  return { body, sent: () => sent, total };
}

/** POSTs a streamed body (`duplex: 'half'`, as fetch requires for a stream). */
export function postStream(url: string, body: StreamedBody, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body: body.body, headers: { 'content-type': 'application/json', ...headers }, duplex: 'half' } as RequestInit);
}

/** Resident memory in bytes, after a collection when the test runs with --expose-gc. */
export function residentBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}
