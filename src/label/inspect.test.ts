import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { embedLabel } from './api.js';
import { inspectLabels } from './inspect.js';

const PRODUCER = '001191350100M000100Y431A001';

function upload(files: Record<string, Uint8Array>, chunk = 7): Request {
  const form = new FormData();
  for (const [name, bytes] of Object.entries(files)) form.append('file', new Blob([bytes]), name);
  const encoded = new Response(form);
  const type = encoded.headers.get('content-type') ?? '';
  // Re-chunk the body into small pieces so boundaries straddle chunk edges.
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const all = new Uint8Array(await encoded.arrayBuffer());
      for (let i = 0; i < all.length; i += chunk) controller.enqueue(all.subarray(i, i + chunk));
      controller.close();
    },
  });
  return new Request('http://localhost/api/labels/inspect', { method: 'POST', body, headers: { 'content-type': type }, duplex: 'half' } as RequestInit);
}

describe('POST /api/labels/inspect', () => {
  it('returns the read --json record for each uploaded file, streamed', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } }).png().toBuffer();
    const labelled = (await embedLabel(png, { producer: PRODUCER, produceId: 'up-1' })).bytes ?? new Uint8Array();
    const response = await inspectLabels(upload({ 'a.png': labelled, 'plain.png': png, 'notes.txt': new TextEncoder().encode('\u0000\u0001binary') }));
    expect(response.status).toBe(200);
    const { files } = (await response.json()) as { files: Record<string, unknown>[] };
    expect(files[0]).toMatchObject({ file: 'a.png', format: 'png', location: 'xmp:iTXt', signature: 'absent', label: { ProduceID: 'up-1' } });
    expect(files[1]).toMatchObject({ file: 'plain.png', format: 'png', label: null });
    expect(files[2]).toMatchObject({ file: 'notes.txt', error: { code: 'E_LABEL_UNSUPPORTED_FORMAT' } });
  });

  it('refuses files over the size limit with 413 and non-multipart bodies with 400', async () => {
    const big = new Uint8Array(5000);
    expect((await inspectLabels(upload({ 'big.bin': big }, 1000), { maxFileBytes: 1000 })).status).toBe(413);
    const plain = new Request('http://localhost/x', { method: 'POST', body: 'hi', headers: { 'content-type': 'text/plain' } });
    expect((await inspectLabels(plain)).status).toBe(400);
  });
});
