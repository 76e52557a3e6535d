/**
 * The official `openai` client works unchanged against the gateway on every endpoint,
 * streaming included; every answer carries its labels; every request leaves an audit event.
 */
import OpenAI from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkExplicitLabel } from '../src/label/explicit/index.js';
import { readLabels } from '../src/label/index.js';
import { type GatewayHarness, startGateway } from './gateway-harness.js';
import { pcmWavHeader } from './helpers/wav.js';
import { describeEachDatabase } from './helpers/stores.js';

const NOTICE = '本内容由人工智能生成';

function wav(seconds: number): Uint8Array {
  const rate = 8000;
  const data = Buffer.alloc(rate * seconds * 2);
  const header = pcmWavHeader(rate, data.length);
  return Buffer.concat([header, data]);
}

describeEachDatabase('gateway with the official openai client', (getDatabase) => {
  let h: GatewayHarness;

  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url });
    h.double.image = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer();
    h.double.audio = wav(1);
  });
  afterAll(async () => h?.close());

  it('chat completions, non-stream: notice, label headers and body, audit event', async () => {
    h.double.behaviour = () => ({ text: 'Paris is the capital of France.' });
    const { data, response } = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'Capital of France?' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe(`${NOTICE}\n\nParis is the capital of France.`);
    const hegui = (data as unknown as { hegui: { aigc: Record<string, string> } }).hegui;
    expect(hegui.aigc).toMatchObject({ Label: '1', ContentProducer: '001191350100M000100Y431A001' });
    expect(hegui.aigc.ProduceID).toMatch(/^hegui-/);
    for (const field of ['Label', 'ContentProducer', 'ProduceID', 'ReservedCode1', 'ContentPropagator', 'PropagateID', 'ReservedCode2']) {
      expect(response.headers.get(`x-aigc-${field}`), field).toBe(hegui.aigc[field]);
    }
    expect(h.double.last('/v1/chat/completions')?.authorization).toBeUndefined();
    const [event] = await h.events();
    expect(event).toMatchObject({ actor: expect.stringMatching(/^user:/), outcome: 'pass', payload: { endpoint: 'chat.completions', model: 'double-chat', upstream: 'double', upstreamStatus: 200, status: 200, stream: false, labels: [hegui.aigc.ProduceID] } });
  });

  it('chat completions, stream: notice first, text through, label in the last chunk', async () => {
    h.double.behaviour = () => ({ text: 'one two three four' });
    const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'count' }], stream: true });
    const pieces: string[] = [];
    let finish: string | null | undefined;
    let hegui: unknown;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        if (choice.delta.content) pieces.push(choice.delta.content);
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      hegui ??= (chunk as unknown as { hegui?: unknown }).hegui;
    }
    expect(pieces[0]).toBe(`${NOTICE}\n\n`);
    expect(pieces.join('')).toBe(`${NOTICE}\n\none two three four`);
    expect(finish).toBe('stop');
    expect(hegui).toMatchObject({ aigc: { Label: '1' } });
    const [event] = await h.events();
    expect(event?.payload).toMatchObject({ endpoint: 'chat.completions', stream: true, status: 200 });
  });

  it('passes tools and tool calls through, streaming and not', async () => {
    h.double.behaviour = () => ({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Beijing"}' }] });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const whole = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'weather?' }], tools });
    expect(whole.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_1', function: { name: 'get_weather', arguments: '{"city":"Beijing"}' } });
    expect(h.double.last('/v1/chat/completions')?.body.tools).toEqual(tools);
    const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'weather?' }], tools, stream: true });
    const calls: unknown[] = [];
    for await (const chunk of stream) for (const choice of chunk.choices) calls.push(...(choice.delta.tool_calls ?? []));
    expect(calls[0]).toMatchObject({ id: 'call_1', function: { name: 'get_weather' } });
  });

  it('legacy completions, stream and non-stream', async () => {
    h.double.behaviour = () => ({ text: 'lorem ipsum dolor' });
    const whole = await h.client.completions.create({ model: 'double-chat', prompt: 'say lorem' });
    expect(whole.choices[0]?.text).toBe(`${NOTICE}\n\nlorem ipsum dolor`);
    const stream = await h.client.completions.create({ model: 'double-chat', prompt: 'say lorem', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(`${NOTICE}\n\nlorem ipsum dolor`);
  });

  it('responses, stream and non-stream', async () => {
    h.double.behaviour = () => ({ text: 'alpha beta gamma' });
    const whole = await h.client.responses.create({ model: 'double-chat', input: 'greek letters' });
    expect(whole.output_text).toBe(`${NOTICE}\n\nalpha beta gamma`);
    const stream = await h.client.responses.create({ model: 'double-chat', input: 'greek letters', stream: true });
    let deltas = '';
    let completed: { output_text?: string; output: unknown[] } | undefined;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') deltas += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(deltas).toBe(`${NOTICE}\n\nalpha beta gamma`);
    expect(JSON.stringify(completed?.output)).toContain('alpha beta gamma');
    expect((completed as unknown as { hegui: unknown }).hegui).toMatchObject({ aigc: { Label: '1' } });
  });

  it('images: b64_json comes back with the implicit label embedded', async () => {
    h.double.behaviour = () => ({ imageForm: 'b64_json' });
    const result = await h.client.images.generate({ model: 'double-image', prompt: 'a lake', response_format: 'b64_json' });
    const bytes = Buffer.from(result.data?.[0]?.b64_json ?? '', 'base64');
    const report = await readLabels(bytes);
    expect(report.format).toBe('png');
    expect(report.label).toMatchObject({ Label: '1', ContentProducer: '001191350100M000100Y431A001' });
    const visible = await checkExplicitLabel(bytes, { offline: true });
    expect(visible.kind).toBe('image');
    expect(visible.rules.filter((r) => r.status === 'fail')).toEqual([]);
    expect(visible.notices.length).toBeGreaterThan(0);
    const [event] = await h.events();
    expect(event?.payload).toMatchObject({ endpoint: 'images.generations', labels: [report.label?.ProduceID] });
  });

  it('images: a url answer is fetched, labeled and served under a signed, expiring link', async () => {
    h.double.behaviour = () => ({ imageForm: 'url' });
    const result = await h.client.images.generate({ model: 'double-image', prompt: 'a lake', response_format: 'url' });
    const url = result.data?.[0]?.url ?? '';
    expect(url.startsWith(`${h.server.url}/v1/media/`)).toBe(true);
    const served = await fetch(url);
    expect(served.headers.get('content-type')).toBe('image/png');
    const report = await readLabels(new Uint8Array(await served.arrayBuffer()));
    expect(report.label?.Label).toBe('1');
    const forged = await fetch(url.replace(/sig=[^&]+/, 'sig=AAAA'));
    expect(forged.status).toBe(404);
    expect(await forged.json()).toMatchObject({ error: { code: 'E_GATEWAY_MEDIA_NOT_FOUND' } });
  });

  it('audio speech: the wav comes back with the audible notice and the implicit label', async () => {
    const speech = await h.client.audio.speech.create({ model: 'double-tts', voice: 'alloy', input: '你好', response_format: 'wav' });
    const bytes = new Uint8Array(await speech.arrayBuffer());
    const report = await readLabels(bytes);
    expect(report.format).toBe('wav');
    expect(bytes.length).toBeGreaterThan(h.double.audio.length);
    expect((await checkExplicitLabel(bytes, { offline: true })).rules.find((r) => r.rule === 'audio.rhythm')?.status).toBe('pass');
    expect(report.label?.Label).toBe('1');
    expect(speech.headers.get('x-aigc-label')).toBe('1');
  });

  it('lists the models the upstream serves', async () => {
    const models = [];
    for await (const model of h.client.models.list()) models.push(model.id);
    expect(models).toEqual(['double-chat', 'double-other']);
  });

  it('refuses a request without a valid key in the OpenAI error shape, counted rather than recorded one by one', async () => {
    const unauthenticated = async () => (await h.events()).filter((event) => event.actor === 'anonymous:unauthenticated');
    // Compared with what the suite's other tests left: this request adds no row of its own.
    const before = await unauthenticated();
    const anonymous = new OpenAI({ apiKey: 'hg-wrong', baseURL: `${h.server.url}/v1`, maxRetries: 0 });
    await expect(anonymous.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401, code: 'E_GATEWAY_AUTH' });
    // The count is written per address and window (test/gateway-flood.test.ts), never a row per request.
    expect(await unauthenticated()).toEqual(before);
  });
});
