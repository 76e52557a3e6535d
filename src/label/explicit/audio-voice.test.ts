import { describe, expect, it } from 'vitest';
import { RhythmDetector } from './audio-detect.js';
import { MediaLabelOptionError } from './audio-video-errors.js';
import { DEFAULT_LEVEL_POLICY } from './audio-level.js';
import { decodeMono, encodeMono, type PcmLayout } from './audio-pcm.js';
import type { NoticePlacement } from './audio-splice.js';
import { createVoiceLabeler } from './audio-voice.js';

const layout: PcmLayout = { encoding: 's16le', sampleRate: 24000, channels: 1 };

/** A TTS-like response: a 300 Hz vowel at about -15 dBFS, streamed in odd-sized chunks. */
async function* response(seconds: number, chunk = 4801): AsyncGenerator<Uint8Array> {
  const samples = new Float32Array(Math.round(seconds * layout.sampleRate)).map((_, i) => 0.25 * Math.sin((2 * Math.PI * 300 * i) / layout.sampleRate));
  const bytes = encodeMono(samples, layout);
  for (let at = 0; at < bytes.length; at += chunk) yield bytes.slice(at, at + chunk);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of chunks) parts.push(part);
  return Buffer.concat(parts);
}

function rhythmsIn(pcm: Uint8Array): number[] {
  const detector = new RhythmDetector(layout.sampleRate);
  detector.push(decodeMono(pcm, layout));
  return detector.finish().map((r) => Number(r.start.toFixed(2)));
}

describe('createVoiceLabeler (GB 45438 §5.3: per round for voice assistants)', () => {
  it('puts the rhythm before every round, levelled to the round', async () => {
    const voice = await createVoiceLabeler({ layout });
    for (const seconds of [0.4, 2]) {
      const placements: NoticePlacement[] = [];
      const out = await collect(voice.round(response(seconds), (p) => placements.push(p)));
      expect(out.length).toBe((Math.round(seconds * layout.sampleRate) + voice.noticeFrames) * 2);
      expect(rhythmsIn(out)).toEqual([0.2]);
      expect(placements[0]?.contentDb).toBeCloseTo(-15, 0);
      expect(placements[0]?.noticeDb).toBeCloseTo(-18, 0);
    }
  });

  it('puts it after the round on request', async () => {
    const voice = await createVoiceLabeler({ layout, position: 'end' });
    const out = await collect(voice.round(response(1)));
    expect(rhythmsIn(out)).toEqual([1.2]);
  });

  it('releases the notice without waiting for audio when the lookahead is 0', async () => {
    const voice = await createVoiceLabeler({ layout, lookaheadSeconds: 0 });
    let pulled = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of response(1)) {
        pulled++;
        yield chunk;
      }
    }
    const placements: NoticePlacement[] = [];
    const rounds = voice.round(counted(), (p) => placements.push(p));
    const first = await rounds.next();
    expect(first.value?.length).toBe(voice.noticeFrames * 2);
    expect(pulled).toBeLessThanOrEqual(1);
    await collect(rounds);
    expect(placements[0]?.noticeDb).toBe(DEFAULT_LEVEL_POLICY.silentDb);
  });

  it('refuses a speech notice without the audio, and an unusable layout', async () => {
    await expect(createVoiceLabeler({ layout, notice: 'speech' })).rejects.toThrow(MediaLabelOptionError);
    await expect(createVoiceLabeler({ layout: { ...layout, sampleRate: 0 } })).rejects.toThrow(MediaLabelOptionError);
  });
});
