import { describe, expect, it } from 'vitest';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource } from '../implicit/bytes.js';
import { UnsupportedMediaError } from './audio-video-errors.js';
import { encodeMono, type PcmEncoding } from './audio-pcm.js';
import { readWavInfo, wavData, writeWav } from './audio-wav.js';

interface WavSpec {
  tag?: number;
  bits: number;
  channels?: number;
  rate?: number;
  frames?: number;
  extensible?: number;
  before?: [string, Uint8Array][];
  after?: [string, Uint8Array][];
  form?: 'RIFF' | 'RF64';
  dataSizeField?: number;
}

function chunk(id: string, payload: Uint8Array, sizeField = payload.length): Uint8Array {
  const bytes = new Uint8Array(8 + payload.length + (payload.length % 2));
  bytes.set(Buffer.from(id, 'latin1'));
  new DataView(bytes.buffer).setUint32(4, sizeField, true);
  bytes.set(payload, 8);
  return bytes;
}

/** A WAV file built by hand, so every header variant can be tried. */
function wav(spec: WavSpec): Uint8Array {
  const channels = spec.channels ?? 2;
  const rate = spec.rate ?? 8000;
  const frames = spec.frames ?? 100;
  const data = new Uint8Array(frames * channels * (spec.bits / 8)).map((_, i) => (i * 37) & 0xff);
  const fmt = new Uint8Array(spec.extensible ? 40 : 16);
  const view = new DataView(fmt.buffer);
  view.setUint16(0, spec.extensible ? 0xfffe : (spec.tag ?? 1), true);
  view.setUint16(2, channels, true);
  view.setUint32(4, rate, true);
  view.setUint32(8, rate * channels * (spec.bits / 8), true);
  view.setUint16(12, channels * (spec.bits / 8), true);
  view.setUint16(14, spec.bits, true);
  if (spec.extensible) {
    view.setUint16(16, 22, true);
    view.setUint16(18, spec.bits, true);
    view.setUint16(24, spec.extensible, true);
  }
  const parts = [chunk('fmt ', fmt), ...(spec.before ?? []).map(([id, p]) => chunk(id, p))];
  if (spec.form === 'RF64') {
    const ds64 = new Uint8Array(28);
    new DataView(ds64.buffer).setBigUint64(8, BigInt(data.length), true);
    parts.unshift(chunk('ds64', ds64));
  }
  parts.push(chunk('data', data, spec.dataSizeField ?? (spec.form === 'RF64' ? 0xffffffff : data.length)), ...(spec.after ?? []).map(([id, p]) => chunk(id, p)));
  const body = Buffer.concat(parts);
  const head = new Uint8Array(12);
  head.set(Buffer.from(spec.form ?? 'RIFF', 'latin1'));
  new DataView(head.buffer).setUint32(4, spec.form === 'RF64' ? 0xffffffff : body.length + 4, true);
  head.set(Buffer.from('WAVE', 'latin1'), 8);
  return Buffer.concat([head, body]);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of chunks) parts.push(part);
  return Buffer.concat(parts);
}

describe('readWavInfo', () => {
  const cases: [string, WavSpec, PcmEncoding][] = [
    ['8-bit', { bits: 8 }, 'u8'],
    ['16-bit', { bits: 16 }, 's16le'],
    ['24-bit', { bits: 24, channels: 6 }, 's24le'],
    ['32-bit integer', { bits: 32, channels: 1 }, 's32le'],
    ['32-bit float', { tag: 3, bits: 32 }, 'f32le'],
    ['64-bit float', { tag: 3, bits: 64 }, 'f64le'],
    ['extensible 24-bit PCM', { bits: 24, extensible: 1 }, 's24le'],
    ['extensible float', { bits: 32, extensible: 3 }, 'f32le'],
    ['RF64', { bits: 16, form: 'RF64' }, 's16le'],
  ];
  it.each(cases)('reads %s', async (_, spec, encoding) => {
    const info = await readWavInfo(bufferSource(wav(spec)));
    expect(info.layout).toEqual({ encoding, sampleRate: spec.rate ?? 8000, channels: spec.channels ?? 2 });
    expect(info.data.size).toBe(100 * (spec.channels ?? 2) * (spec.bits / 8));
  });

  it('reads a streamed RIFF whose data size says "unknown" up to the end of the file', async () => {
    const info = await readWavInfo(bufferSource(wav({ bits: 16, dataSizeField: 0xffffffff })));
    expect(info.data.size).toBe(400);
  });

  it('refuses compressed WAV with UnsupportedMediaError naming the format tag', async () => {
    await expect(readWavInfo(bufferSource(wav({ tag: 0x11, bits: 4 })))).rejects.toThrow(UnsupportedMediaError);
    await expect(readWavInfo(bufferSource(wav({ tag: 0x11, bits: 4 })))).rejects.toThrow(/0x0011/);
  });

  it('refuses truncated and malformed files with LabelFormatError', async () => {
    const whole = wav({ bits: 16 });
    await expect(readWavInfo(bufferSource(whole.subarray(0, whole.length - 50)))).rejects.toThrow(/data chunk declares 400 bytes/);
    await expect(readWavInfo(bufferSource(whole.subarray(0, 8)))).rejects.toThrow(LabelFormatError);
    const noData = whole.slice(0, 12 + 24);
    await expect(readWavInfo(bufferSource(noData))).rejects.toThrow(/no data chunk/);
    const badAlign = wav({ bits: 16 });
    new DataView(badAlign.buffer, badAlign.byteOffset).setUint16(12 + 8 + 12, 3, true);
    await expect(readWavInfo(bufferSource(badAlign))).rejects.toThrow(/block align/);
  });
});

describe('writeWav', () => {
  it('keeps every other chunk (the implicit label among them), pads odd chunks and updates fact', async () => {
    const label = Buffer.from('{"Label":"1"}');
    const source = wav({ tag: 3, bits: 32, before: [['fact', new Uint8Array(4)], ['LIST', Buffer.from('INFOISFT')]], after: [['AIGC', label]] });
    const info = await readWavInfo(bufferSource(source));
    const extra = encodeMono(new Float32Array(50).fill(0.5), info.layout);
    const data = Buffer.concat([await collect(wavData(bufferSource(source), info)), extra]);
    const sink = new BufferSink();
    await writeWav(bufferSource(source), info, data.length, once(data), sink);
    const out = sink.bytes();
    const back = await readWavInfo(bufferSource(out));
    expect(back.chunks.map((c) => c.id)).toEqual(['fmt ', 'fact', 'LIST', 'data', 'AIGC']);
    expect(back.data.size).toBe(data.length);
    expect(new DataView(out.buffer, out.byteOffset).getUint32(4, true)).toBe(out.length - 8);
    const fact = back.chunks.find((c) => c.id === 'fact') as { offset: number };
    expect(new DataView(out.buffer, out.byteOffset).getUint32(fact.offset + 8, true)).toBe(150);
    const aigc = back.chunks.at(-1) as { offset: number; size: number };
    expect(Buffer.from(out.subarray(aigc.offset + 8, aigc.offset + 8 + aigc.size)).toString()).toBe(label.toString());
    expect(out.length % 2).toBe(0);
  });

  it('switches to RF64 with a ds64 chunk when the sizes pass the RIFF limit', async () => {
    const source = wav({ bits: 16 });
    const info = await readWavInfo(bufferSource(source));
    const data = await collect(wavData(bufferSource(source), info));
    const sink = new BufferSink();
    await writeWav(bufferSource(source), info, data.length, once(data), sink, 200);
    const out = sink.bytes();
    expect(Buffer.from(out.subarray(0, 4)).toString()).toBe('RF64');
    const back = await readWavInfo(bufferSource(out));
    expect(back.form).toBe('RF64');
    expect(back.chunks.map((c) => c.id)).toEqual(['ds64', 'fmt ', 'data']);
    expect(back.data.size).toBe(400);
    expect(Buffer.compare(await collect(wavData(bufferSource(out), back)), data)).toBe(0);
  });

  it('refuses to finish when the data does not match the planned size', async () => {
    const source = wav({ bits: 16 });
    const info = await readWavInfo(bufferSource(source));
    await expect(writeWav(bufferSource(source), info, 402, once(new Uint8Array(400)), new BufferSink())).rejects.toThrow(/wrote 400 data bytes where 402/);
  });
});
