/**
 * Audio explicit labels end to end (GB 45438 §5.3): real files in every supported format,
 * labelled, then measured twice — by hegui's checker and independently by ffmpeg's astats
 * envelope — with the rhythm's times, shape and level agreeing; every output decodes without
 * error and keeps codec, rate, channels and tags; the implicit label is carried or written.
 * Long inputs (1 h) stay in bounded memory. Bad inputs get typed errors and leave nothing behind.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { LabelFormatError } from '../src/label/errors.js';
import { embedLabelFile, readLabelFile } from '../src/label/files.js';
import { generateLabelKeys, parseSigningKey, parseVerifyKey, verifyLabel } from '../src/label/index.js';
import { checkExplicitLabelFile } from '../src/label/explicit/check.js';
import { audioChecker } from '../src/label/explicit/audio-check.js';
import { videoChecker } from '../src/label/explicit/video-check.js';
import { labelAudio, labelAudioFile, type AudioLabelResult } from '../src/label/explicit/audio.js';
import { MediaLabelOptionError, MediaToolMissingError, UnsupportedMediaError } from '../src/label/explicit/audio-video-errors.js';
import { systemTool } from './helpers/system.js';
import { pcmWavHeader } from './helpers/wav.js';
import { decodeErrors, envelope, ffmpegMake, loudRuns, morseAiRuns, overallLevel, probe, workDir } from './label-explicit-av-media.js';

const hasFfmpeg = systemTool('ffmpeg', 'ffmpeg') && systemTool('ffprobe', 'ffmpeg');
const PRODUCER = '001191350100M000100Y431A001';
const checkers = [videoChecker, audioChecker];
const dir = hasFfmpeg ? workDir('av-audio') : '';

/** 0.5 s of a 440 Hz tone at -21.1 dBFS RMS (lavfi's default amplitude), with a title tag. */
const tone = (rate: number): string[] => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}:duration=0.5`, '-metadata', 'title=hegui test'];

interface Sample {
  name: string;
  args: string[];
  rate: number;
  channels: number;
  codec: string;
  /** Lossy codecs shift and smear edges a little more. */
  lossy: boolean;
}

const SAMPLES: Sample[] = [
  { name: 's16.wav', args: [...tone(44100), '-ac', '2', '-c:a', 'pcm_s16le'], rate: 44100, channels: 2, codec: 'pcm_s16le', lossy: false },
  { name: 'u8.wav', args: [...tone(8000), '-c:a', 'pcm_u8'], rate: 8000, channels: 1, codec: 'pcm_u8', lossy: false },
  { name: 's24-5.1.wav', args: [...tone(48000), '-af', 'pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0', '-c:a', 'pcm_s24le'], rate: 48000, channels: 6, codec: 'pcm_s24le', lossy: false },
  { name: 's32.wav', args: [...tone(96000), '-ac', '2', '-c:a', 'pcm_s32le'], rate: 96000, channels: 2, codec: 'pcm_s32le', lossy: false },
  { name: 'f32.wav', args: [...tone(22050), '-c:a', 'pcm_f32le'], rate: 22050, channels: 1, codec: 'pcm_f32le', lossy: false },
  { name: 'a.mp3', args: [...tone(44100), '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k'], rate: 44100, channels: 2, codec: 'mp3', lossy: true },
  { name: 'aac.m4a', args: [...tone(48000), '-ac', '2', '-c:a', 'aac', '-b:a', '96k'], rate: 48000, channels: 2, codec: 'aac', lossy: true },
  { name: 'alac.m4a', args: [...tone(44100), '-c:a', 'alac'], rate: 44100, channels: 1, codec: 'alac', lossy: false },
  { name: 's16.flac', args: [...tone(44100), '-ac', '2', '-c:a', 'flac'], rate: 44100, channels: 2, codec: 'flac', lossy: false },
  { name: 's24.flac', args: [...tone(48000), '-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24'], rate: 48000, channels: 1, codec: 'flac', lossy: false },
  { name: 'vorbis.ogg', args: [...tone(44100), '-ac', '2', '-c:a', 'libvorbis'], rate: 44100, channels: 2, codec: 'vorbis', lossy: true },
  { name: 'opus.ogg', args: [...tone(48000), '-c:a', 'libopus', '-b:a', '64k'], rate: 48000, channels: 1, codec: 'opus', lossy: true },
];

const made = new Map<string, string>();
beforeAll(async () => {
  if (!hasFfmpeg) return;
  await Promise.all(SAMPLES.map(async (s) => made.set(s.name, await ffmpegMake(s.args, join(dir, s.name)))));
}, 60_000);

/** The independent reading: ffmpeg's astats envelope, runs above -40 dBFS shaped like Morse "AI". */
async function measuredRhythms(path: string, rate: number, window?: { from: number; seconds: number }): Promise<{ start: number; end: number; db: number }[]> {
  return morseAiRuns(loudRuns(await envelope(path, dir, rate, window), -40), 0.025);
}

function leftovers(folder: string): string[] {
  return readdirSync(folder).filter((name) => name.includes('hegui-tmp'));
}

describe.skipIf(!hasFfmpeg)('audio notices in every format (0.5 s)', () => {
  it.concurrent.for(SAMPLES)('$name: labelled, measured by the checker and by astats, decodes cleanly, keeps its format', async (sample, { expect }) => {
    const source = made.get(sample.name) as string;
    const folder = join(dir, `labelled-${sample.name}.d`);
    mkdirSync(folder);
    const out = join(folder, sample.name);
    const positions = sample.lossy ? (['start', 'end'] as const) : (['start', 'middle', 'end'] as const);
    const result: AudioLabelResult = await labelAudioFile(source, { out, positions });
    expect(result.placements.map((p) => p.position)).toEqual(positions);

    expect(await decodeErrors(out)).toBe('');
    const before = await probe(source);
    const after = await probe(out);
    const [a] = after.streams.filter((s) => s.codec_type === 'audio');
    expect(a).toMatchObject({ codec_name: sample.codec, sample_rate: String(sample.rate), channels: sample.channels });
    const [b] = before.streams.filter((s) => s.codec_type === 'audio');
    if (b?.bits_per_raw_sample && b.bits_per_raw_sample !== '0') expect(a?.bits_per_raw_sample).toBe(b.bits_per_raw_sample);
    expect(after.tags.title ?? after.tags.TITLE).toBe('hegui test');
    expect(after.duration).toBeCloseTo(result.outputSeconds, 1);

    const sourceDb = await overallLevel(source);
    const report = await checkExplicitLabelFile(out, { checkers });
    expect(report.kind).toBe('audio');
    expect(report.passed).toBe(true);
    const rhythm = report.rules.find((r) => r.rule === 'audio.rhythm');
    expect(rhythm).toMatchObject({ status: 'pass', measured: { count: positions.length } });
    expect(report.rules.find((r) => r.rule === 'audio.level')?.status).toBe('pass');

    // Independent: ffmpeg's envelope finds the same four tones at the same times.
    const measured = await measuredRhythms(out, sample.rate);
    expect(measured).toHaveLength(positions.length);
    const tolerance = sample.lossy ? 0.03 : 0.012;
    result.placements.forEach((placement, i) => {
      const expected = placement.outputSeconds + 0.2;
      expect(Math.abs((measured[i]?.start ?? -1) - expected)).toBeLessThan(tolerance);
      expect(Math.abs((report.notices[i]?.span?.start ?? -1) - expected)).toBeLessThan(tolerance);
      expect(Math.abs((measured[i]?.end ?? -1) - (expected + 1.1))).toBeLessThan(tolerance);
      // The level rule: 3 dB under the content, both as astats measures them.
      expect(Math.abs((placement.contentDb ?? 0) - sourceDb)).toBeLessThan(0.6);
      expect(Math.abs((measured[i]?.db ?? 0) - (sourceDb - 3))).toBeLessThan(1.5);
    });
    expect(leftovers(folder)).toEqual([]);
  });
});

describe.skipIf(!hasFfmpeg)('the implicit label in the same pass', () => {
  it('writes a requested implicit label into WAV, MP3, FLAC, OGG and M4A', async () => {
    for (const name of ['s16.wav', 'a.mp3', 's16.flac', 'vorbis.ogg', 'aac.m4a']) {
      const out = join(dir, `implicit-${name}`);
      const result = await labelAudioFile(made.get(name) as string, { out, implicit: { producer: PRODUCER, produceId: `audio-${name}` } });
      expect(result.implicit.action, name).toBe('embedded');
      expect((await readLabelFile(out)).label?.ProduceID, name).toBe(`audio-${name}`);
      expect(await decodeErrors(out)).toBe('');
    }
  });

  it('carries the source label over, and says when its signature no longer covers the audio', async () => {
    const keys = generateLabelKeys('ed25519');
    for (const name of ['s24-5.1.wav', 'alac.m4a', 's24.flac', 'opus.ogg', 'a.mp3']) {
      const source = join(dir, `carry-source-${name}`);
      await embedLabelFile(made.get(name) as string, { producer: PRODUCER, produceId: `carry-${name}`, key: parseSigningKey(keys.privateKeyPem) }, { out: source });
      const out = join(dir, `carried-${name}`);
      const result = await labelAudioFile(source, { out });
      expect(result.implicit, name).toMatchObject({ action: 'carried', signatureStale: true });
      const report = await verifyLabel(readFileSync(out), [parseVerifyKey(keys.publicKeyPem)]);
      expect(report.label?.ProduceID, name).toBe(`carry-${name}`);
      expect(report.status, name).toBe('payload-changed');
    }
  });
});

describe.skipIf(!hasFfmpeg)('a spoken notice', () => {
  it('inserts the rhythm and the provider\'s spoken notice, levelled, and the checker still finds the rhythm', async () => {
    const speech = await ffmpegMake(['-f', 'lavfi', '-i', 'flite=text=This content is generated by A I:voice=slt', '-ar', '16000', '-c:a', 'pcm_s16le'], join(dir, 'speech.wav'));
    const speechSeconds = (await probe(speech)).duration;
    const out = join(dir, 'spoken.flac');
    const result = await labelAudioFile(made.get('s16.flac') as string, { out, notice: 'rhythm+speech', speech: readFileSync(speech), positions: ['start'] });
    expect(result.placements[0]?.seconds).toBeCloseTo(0.2 + 1.1 + 0.2 + speechSeconds + 0.2, 2);
    const report = await checkExplicitLabelFile(out, { checkers });
    expect(report.passed).toBe(true);
    // The spoken part sounds where it was put: a long loud run after the rhythm, before the content.
    const runs = loudRuns(await envelope(out, dir, 44100), -45).filter((r) => r.start > 1.4 && r.end < 1.5 + speechSeconds + 0.1);
    expect(runs.reduce((n, r) => n + r.end - r.start, 0)).toBeGreaterThan(speechSeconds * 0.4);
  });

  it('refuses a spoken notice that is missing or not WAV', async () => {
    await expect(labelAudioFile(made.get('s16.wav') as string, { out: join(dir, 'x.wav'), notice: 'speech' })).rejects.toThrow(MediaLabelOptionError);
    await expect(labelAudioFile(made.get('s16.wav') as string, { out: join(dir, 'x.wav'), notice: 'speech', speech: readFileSync(made.get('a.mp3') as string) })).rejects.toThrow(/must be a WAV file/);
  });
});

describe.skipIf(!hasFfmpeg)('the library API on bytes and streams', () => {
  it('labels bytes and streams, returning bytes or writing to a stream', async () => {
    const bytes = readFileSync(made.get('s16.wav') as string);
    const result = await labelAudio(bytes, { positions: ['end'] });
    expect(result.bytes?.length).toBeGreaterThan(bytes.length);
    const path = join(dir, 'from-bytes.wav');
    writeFileSync(path, result.bytes as Uint8Array);
    expect((await checkExplicitLabelFile(path, { checkers })).passed).toBe(true);

    const output = new PassThrough();
    const parts: Buffer[] = [];
    output.on('data', (part: Buffer) => parts.push(part));
    const streamed = await labelAudio((async function* () {
      yield readFileSync(made.get('vorbis.ogg') as string);
    })(), {}, output);
    expect(streamed.bytes).toBeUndefined();
    const oggPath = join(dir, 'from-stream.ogg');
    writeFileSync(oggPath, Buffer.concat(parts));
    expect(await decodeErrors(oggPath)).toBe('');
    expect((await checkExplicitLabelFile(oggPath, { checkers })).passed).toBe(true);
  });
});

describe.skipIf(!hasFfmpeg)('bad input', () => {
  it('names the problem with a typed error and leaves nothing behind', async () => {
    const folder = workDir('av-audio-bad');
    const wav = readFileSync(made.get('s16.wav') as string);
    const cases: [string, Uint8Array | string, new (...args: never[]) => Error, RegExp][] = [
      ['truncated.wav', wav.subarray(0, 2000), LabelFormatError, /data chunk declares/],
      ['garbage.mp3', new Uint8Array(4096).map((_, i) => (i * 7919) & 0xff), LabelFormatError, /ffprobe cannot read it/],
      ['adpcm.wav', await ffmpegMake([...tone(8000), '-c:a', 'adpcm_ima_wav'], join(folder, 'adpcm-src.wav')), UnsupportedMediaError, /format tag 0x0011/],
      ['sound.aiff', await ffmpegMake([...tone(8000), '-c:a', 'pcm_s16be'], join(folder, 'sound-src.aiff')), UnsupportedMediaError, /aiff audio/],
      ['video.mp4', await ffmpegMake(['-f', 'lavfi', '-i', 'testsrc=size=64x64:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-shortest', '-c:v', 'libx264', '-c:a', 'aac'], join(folder, 'video-src.mp4')), UnsupportedMediaError, /label it as video/],
    ];
    for (const [name, content, type, message] of cases) {
      const path = join(folder, name);
      if (typeof content === 'string') writeFileSync(path, readFileSync(content));
      else writeFileSync(path, content);
      const original = readFileSync(path);
      const out = join(folder, `out-${name}`);
      const error = await labelAudioFile(path, { out }).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(type);
      expect((error as Error).message, name).toMatch(message);
      await expect(labelAudioFile(path, { inPlace: true }), name).rejects.toThrow(type);
      expect(Buffer.compare(readFileSync(path), original), name).toBe(0);
      expect(existsSync(out), name).toBe(false);
    }
    expect(leftovers(folder)).toEqual([]);
  });

  it('says which tool is missing, and refuses positions outside the audio', async () => {
    const error = await labelAudioFile(made.get('a.mp3') as string, { out: join(dir, 'never.mp3'), tools: { ffprobe: '/nonexistent/ffprobe' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaToolMissingError);
    expect((error as Error).message).toMatch(/apt-get install ffmpeg/);
    await expect(labelAudioFile(made.get('s16.wav') as string, { out: join(dir, 'never.wav'), positions: [{ seconds: 9 }] })).rejects.toThrow(/outside the audio/);
    expect(leftovers(dir)).toEqual([]);
  });
});

/** Writes a WAV of `seconds` of a quiet 300 Hz tone by streaming, so the test itself stays small. */
async function writeLongWav(path: string, seconds: number, rate: number): Promise<void> {
  const frames = seconds * rate;
  const header = pcmWavHeader(rate, frames * 2);
  const stream = createWriteStream(path);
  stream.write(header);
  const period = Buffer.alloc(rate * 2);
  for (let i = 0; i < rate; i++) period.writeInt16LE(Math.round(4000 * Math.sin((2 * Math.PI * 300 * i) / rate)), i * 2);
  for (let s = 0; s < seconds; s++) if (!stream.write(period)) await once(stream, 'drain');
  stream.end();
  await once(stream, 'finish');
}

/** The largest growth of the process's resident memory while `work` runs, in MB. */
async function peakGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growthMb: (peak - base) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

describe.skipIf(!hasFfmpeg)('one hour of audio in bounded memory', () => {
  it('labels and checks a 1 h WAV (345 MB) natively, streaming', async () => {
    const source = join(dir, 'hour.wav');
    await writeLongWav(source, 3600, 48000);
    const out = join(dir, 'hour-labelled.wav');
    const labelled = await peakGrowth(() => labelAudioFile(source, { out, positions: ['start', 'middle', 'end'] }));
    expect(labelled.growthMb).toBeLessThan(120);
    expect(labelled.result.outputSeconds).toBeCloseTo(3600 + 3 * 1.5, 3);
    const checked = await peakGrowth(() => checkExplicitLabelFile(out, { checkers }));
    expect(checked.growthMb).toBeLessThan(120);
    expect(checked.result.passed).toBe(true);
    const spans = checked.result.notices.map((n) => n.span?.start ?? -1);
    expect(spans).toHaveLength(3);
    // Independent: astats over a window around each notice.
    for (const [i, placement] of labelled.result.placements.entries()) {
      const from = Math.max(0, placement.outputSeconds - 1);
      const [measured] = await measuredRhythms(out, 48000, { from, seconds: 3.5 });
      expect(Math.abs((measured?.start ?? -1) - (placement.outputSeconds + 0.2))).toBeLessThan(0.012);
      expect(Math.abs((spans[i] ?? -1) - (placement.outputSeconds + 0.2))).toBeLessThan(0.012);
    }
  }, 120_000);

  it('labels and checks a 1 h FLAC through ffmpeg pipes', async () => {
    const source = await ffmpegMake(['-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=8000:duration=3600', '-c:a', 'flac'], join(dir, 'hour.flac'));
    const out = join(dir, 'hour-labelled.flac');
    const labelled = await peakGrowth(() => labelAudioFile(source, { out, positions: ['start', 'end'] }));
    expect(labelled.growthMb).toBeLessThan(120);
    expect(await decodeErrors(out)).toBe('');
    const report = await checkExplicitLabelFile(out, { checkers });
    expect(report.passed).toBe(true);
    expect(report.notices.map((n) => n.position)).toEqual(['start', 'end']);
    const [end] = await measuredRhythms(out, 8000, { from: 3600, seconds: 3.5 });
    expect(Math.abs((end?.start ?? -1) - (labelled.result.placements[1]?.outputSeconds ?? 0) - 0.2)).toBeLessThan(0.012);
  }, 120_000);
});
