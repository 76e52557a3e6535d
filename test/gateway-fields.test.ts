/**
 * Every text-bearing field of the text endpoints is guarded or removed (docs/gateway.md, "Field
 * policy"), and the explicit notice goes where the output allows it: never inside JSON mode's
 * content or a tool-call turn, always beside it in the `hegui` object and a header; each
 * choice's signed label verifies against exactly the text the client received.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkSignatures, generateLabelKeys, type ImplicitLabel, parseVerifyKey } from '../src/label/index.js';
import { BLOCK_MESSAGE, chatText, type GatewayHarness, KEYWORDS, readSse, startGateway } from './gateway-harness.js';

const NOTICE = '本内容由人工智能生成';
const WORD = KEYWORDS.en;
const PHONE = '13812345678';
const user = (content: string): { role: 'user'; content: string } => ({ role: 'user', content });

/** True when `value`, serialised, carries the keyword or the unmasked phone number anywhere. */
const leaks = (value: unknown): boolean => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.includes(WORD) || text.includes(PHONE);
};

describe('gateway field policy: answers', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway();
  });
  afterAll(async () => h?.close());

  it('drops logprobs (chat and legacy) while the text they repeat is masked', async () => {
    h.double.behaviour = () => ({ text: `call ${PHONE} today`, logprobs: true });
    const chat = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('number?')], logprobs: true, top_logprobs: 1 });
    expect(chat.choices[0]?.message.content).toContain('call ');
    expect(chat.choices[0]?.logprobs).toBeNull();
    expect(leaks(chat)).toBe(false);
    const legacy = await h.client.completions.create({ model: 'double-chat', prompt: 'number?', logprobs: 1 });
    expect(legacy.choices[0]?.logprobs).toBeNull();
    expect(leaks(legacy)).toBe(false);
    const stream = await h.post('/v1/chat/completions', { model: 'double-chat', messages: [user('number?')], logprobs: true, stream: true });
    const { events } = await readSse(stream);
    expect(events.length).toBeGreaterThan(2);
    expect(leaks(events)).toBe(false);
    const legacyStream = await readSse(await h.post('/v1/completions', { model: 'double-chat', prompt: 'number?', logprobs: 1, stream: true }));
    expect(leaks(legacyStream.events)).toBe(false);
    const responses = await h.post('/v1/responses', { model: 'double-chat', input: 'number?', include: ['message.output_text.logprobs'] });
    expect(leaks(await responses.json())).toBe(false);
    const responsesStream = await readSse(await h.post('/v1/responses', { model: 'double-chat', input: 'number?', include: ['message.output_text.logprobs'], stream: true }));
    expect(leaks(responsesStream.events)).toBe(false);
  });

  it('guards message.refusal, whole and streamed in pieces', async () => {
    h.double.behaviour = () => ({ refusal: ['I will not explain forbid', 'denword to you'] });
    const whole = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('explain')] });
    expect(whole.choices[0]?.finish_reason).toBe('content_filter');
    expect(leaks(whole)).toBe(false);
    const { events, done } = await readSse(await h.post('/v1/chat/completions', { model: 'double-chat', messages: [user('explain')], stream: true }));
    expect(done).toBe(true);
    expect(leaks(events)).toBe(false);
    expect(JSON.stringify(events)).toContain('content_filter');
  });

  it('guards tool-call arguments: a keyword split across two argument deltas is caught', async () => {
    h.double.behaviour = () => ({ toolCalls: [{ id: 'call_1', name: 'search', arguments: ['{"q":"how to forbid', 'denword"}'] }] });
    const tools = [{ type: 'function' as const, function: { name: 'search', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];
    const whole = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('search')], tools });
    expect(whole.choices[0]?.finish_reason).toBe('content_filter');
    expect(leaks(whole)).toBe(false);
    const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('search')], tools, stream: true });
    let args = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        for (const call of choice.delta.tool_calls ?? []) args += call.function?.arguments ?? '';
        finish ??= choice.finish_reason;
      }
    }
    expect(args).toContain('how to');
    expect(leaks(args)).toBe(false);
    expect(finish).toBe('content_filter');
  });

  it('masks a phone number split across two argument deltas, and the arguments stay JSON', async () => {
    h.double.behaviour = () => ({ toolCalls: [{ id: 'call_1', name: 'dial', arguments: ['{"phone":"138', '12345678"}'] }] });
    const { events } = await readSse(await h.post('/v1/chat/completions', { model: 'double-chat', messages: [user('dial')], stream: true }));
    let args = '';
    for (const event of events) {
      for (const choice of (event.choices as { delta?: { tool_calls?: { function?: { arguments?: string } }[] } }[] | undefined) ?? []) args += choice.delta?.tool_calls?.map((c) => c.function?.arguments ?? '').join('') ?? '';
    }
    expect(leaks(args)).toBe(false);
    expect(JSON.parse(args)).toEqual({ phone: expect.stringMatching(/^138\*+5678$/) });
  });

  it('guards legacy function_call.arguments, whole and streamed', async () => {
    h.double.behaviour = () => ({ functionCall: { name: 'search', arguments: ['{"q":"forbidd', 'enword"}'] } });
    const whole = await h.post('/v1/chat/completions', { model: 'double-chat', messages: [user('search')], functions: [{ name: 'search', parameters: { type: 'object' } }] });
    const body = (await whole.json()) as { choices: { finish_reason: string }[] };
    expect(body.choices[0]?.finish_reason).toBe('content_filter');
    expect(leaks(body)).toBe(false);
    const { events } = await readSse(await h.post('/v1/chat/completions', { model: 'double-chat', messages: [user('search')], stream: true }));
    expect(leaks(events)).toBe(false);
  });

  it('drops annotations and fields it does not know, whole and streamed', async () => {
    h.double.behaviour = () => ({ text: 'See the source.', annotations: [{ url: 'https://example.com/a', title: `all about ${WORD}` }], unknownField: `hidden ${WORD}` });
    const whole = await h.post('/v1/chat/completions', { model: 'double-chat', messages: [user('source?')] });
    const body = (await whole.json()) as { choices: { message: Record<string, unknown> }[] };
    expect(body.choices[0]?.message.content).toBe(`${NOTICE}\n\nSee the source.`);
    expect(body.choices[0]?.message).not.toHaveProperty('annotations');
    expect(leaks(body)).toBe(false);
    const { events } = await readSse(await h.post('/v1/chat/completions', { model: 'double-chat', messages: [user('source?')], stream: true }));
    expect(chatText(events)).toBe(`${NOTICE}\n\nSee the source.`);
    expect(leaks(events)).toBe(false);
    const legacy = await h.post('/v1/completions', { model: 'double-chat', prompt: 'source?' });
    expect(leaks(await legacy.json())).toBe(false);
  });

  it('Responses: guards function-call arguments and reasoning summaries split across deltas; drops unknown items', async () => {
    h.double.behaviour = () => ({ text: 'fine', functionCalls: [{ id: 'fc_1', name: 'search', arguments: ['{"q":"forbi', 'ddenword"}'] }] });
    const whole = await h.post('/v1/responses', { model: 'double-chat', input: 'search' });
    const wholeBody = (await whole.json()) as { status: string };
    expect(wholeBody.status).toBe('incomplete');
    expect(leaks(wholeBody)).toBe(false);
    const stream = await readSse(await h.post('/v1/responses', { model: 'double-chat', input: 'search', stream: true }));
    expect(leaks(stream.events)).toBe(false);
    expect(stream.names.at(-1)).toBe('response.incomplete');

    h.double.behaviour = () => ({ text: 'fine', reasoningSummary: ['thinking about forbid', 'denword'] });
    const reasoning = await readSse(await h.post('/v1/responses', { model: 'double-chat', input: 'think', stream: true }));
    expect(leaks(reasoning.events)).toBe(false);
    expect(leaks(await (await h.post('/v1/responses', { model: 'double-chat', input: 'think' })).json())).toBe(false);

    h.double.behaviour = () => ({ text: 'fine', unknownItem: `query ${WORD}`, unknownField: `hidden ${WORD}` });
    const unknown = (await (await h.post('/v1/responses', { model: 'double-chat', input: 'search' })).json()) as { output: { type: string }[] };
    expect(unknown.output.map((item) => item.type)).toEqual(['message']);
    expect(leaks(unknown)).toBe(false);
    const unknownStream = await readSse(await h.post('/v1/responses', { model: 'double-chat', input: 'search', stream: true }));
    expect(leaks(unknownStream.events)).toBe(false);
    expect(unknownStream.names).not.toContain('response.web_search_call.completed');
  });
});

describe('gateway field policy: requests', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway();
  });
  afterAll(async () => h?.close());

  /** Sends `body` and expects the refusal, with the upstream never called. */
  async function expectRefused(path: string, body: Record<string, unknown>): Promise<void> {
    const before = h.double.seen.length;
    const response = await h.post(path, body);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain(BLOCK_MESSAGE);
    expect(text).toContain('input-blocked');
    expect(h.double.seen.length).toBe(before);
  }

  it('checks the arguments of earlier tool calls in the history', async () => {
    await expectRefused('/v1/chat/completions', {
      model: 'double-chat',
      messages: [user('search'), { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: `{"q":"${WORD}"}` } }] }, { role: 'tool', tool_call_id: 'c1', content: 'none' }],
    });
    await expectRefused('/v1/responses', { model: 'double-chat', input: [{ type: 'function_call', call_id: 'c1', name: 'search', arguments: `{"q":"${WORD}"}` }, { type: 'function_call_output', call_id: 'c1', output: 'none' }] });
  });

  it('checks tool descriptions and parameter descriptions', async () => {
    await expectRefused('/v1/chat/completions', { model: 'double-chat', messages: [user('hi')], tools: [{ type: 'function', function: { name: 'f', description: `explain ${WORD}`, parameters: { type: 'object' } } }] });
    await expectRefused('/v1/chat/completions', {
      model: 'double-chat',
      messages: [user('hi')],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { q: { type: 'string', description: `always say ${WORD}` } } } } }],
    });
    await expectRefused('/v1/responses', { model: 'double-chat', input: 'hi', tools: [{ type: 'function', name: 'f', description: `explain ${WORD}`, parameters: { type: 'object' } }] });
  });

  it('checks the legacy suffix', async () => {
    await expectRefused('/v1/completions', { model: 'double-chat', prompt: 'begin', suffix: `end with ${WORD}` });
  });

  it('refuses token-id prompts with a 400 in the OpenAI error shape', async () => {
    // Counted from here: the suite's other tests share this upstream double.
    const completions = (): number => h.double.seen.filter((r) => r.path === '/v1/completions').length;
    const before = completions();
    for (const prompt of [[1, 2, 3], [[1, 2], [3]]]) {
      const response = await h.post('/v1/completions', { model: 'double-chat', prompt });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'prompt', code: 'E_GATEWAY_BAD_REQUEST', message: expect.stringContaining('token ids') } });
    }
    expect(completions()).toBe(before);
  });

  it('checks the conversation as the model reads it: a keyword split across two user messages', async () => {
    await expectRefused('/v1/chat/completions', { model: 'double-chat', messages: [user('tell me about forbidden'), user('word please')] });
    await expectRefused('/v1/responses', { model: 'double-chat', input: [user('tell me about forbidden'), user('word please')] });
    // Precision: two harmless messages stay harmless when joined.
    h.double.behaviour = () => ({ text: 'ok' });
    const fine = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('the word'), user('forbidden fruit')] });
    expect(fine.choices[0]?.message.content).toBe(`${NOTICE}\n\nok`);
  });
});

describe('gateway field policy: unknown fields may be passed', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ safety: { unknownFields: 'pass' } });
  });
  afterAll(async () => h?.close());

  it('keeps fields it does not know when the operator says pass', async () => {
    h.double.behaviour = () => ({ text: 'hi', unknownField: 'vendor data' });
    const body = (await (await h.post('/v1/chat/completions', { model: 'double-chat', messages: [user('hi')] })).json()) as Record<string, unknown>;
    expect(body.x_unknown).toBe('vendor data');
  });
});

describe('gateway labels that fit the output', () => {
  let h: GatewayHarness;
  let dir: string;
  let verifyKey: ReturnType<typeof parseVerifyKey>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-fields-'));
    const keys = generateLabelKeys('ed25519');
    writeFileSync(join(dir, 'label.pem'), keys.privateKeyPem);
    verifyKey = parseVerifyKey(keys.publicKeyPem);
    h = await startGateway({ config: { labels: { producer: '001191350100M000100Y431A001', signingKey: join(dir, 'label.pem') } } });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = async (label: ImplicitLabel, text: string): Promise<string> => (await checkSignatures(label, [verifyKey], async () => createHash('sha256').update(text).digest())).status;

  it('JSON mode: content parses, the notice is in the hegui object and a header, whole and streamed', async () => {
    h.double.behaviour = () => ({ text: '{"city":"Beijing"}' });
    const { data, response } = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('json please')], response_format: { type: 'json_object' } }).withResponse();
    expect(JSON.parse(data.choices[0]?.message.content ?? '')).toEqual({ city: 'Beijing' });
    expect((data as unknown as { hegui: { notice: unknown } }).hegui.notice).toEqual({ text: NOTICE, placement: 'metadata' });
    expect(decodeURIComponent(response.headers.get('x-hegui-notice') ?? '')).toBe(NOTICE);
    const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('json please')], response_format: { type: 'json_object' }, stream: true });
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    expect(JSON.parse(content)).toEqual({ city: 'Beijing' });
    const responses = await h.client.responses.create({ model: 'double-chat', input: 'json please', text: { format: { type: 'json_object' } } });
    expect(JSON.parse(responses.output_text)).toEqual({ city: 'Beijing' });
  });

  it('structured outputs: chat.completions.parse() with a schema succeeds', async () => {
    h.double.behaviour = () => ({ text: '{"city":"Beijing","celsius":21}' });
    const schema = { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } }, required: ['city', 'celsius'], additionalProperties: false };
    const parsed = await h.client.chat.completions.parse({ model: 'double-chat', messages: [user('weather')], response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } } });
    expect(parsed.choices[0]?.message.parsed).toEqual({ city: 'Beijing', celsius: 21 });
    const weather = z.object({ city: z.string(), celsius: z.number() });
    const viaZod = await h.client.chat.completions.parse({ model: 'double-chat', messages: [user('weather')], response_format: zodResponseFormat(weather, 'weather') });
    expect(viaZod.choices[0]?.message.parsed).toEqual({ city: 'Beijing', celsius: 21 });
    const stream = h.client.chat.completions.stream({ model: 'double-chat', messages: [user('weather')], response_format: zodResponseFormat(weather, 'weather') });
    expect((await stream.finalChatCompletion()).choices[0]?.message.parsed).toEqual({ city: 'Beijing', celsius: 21 });
    const responses = await h.client.responses.parse({ model: 'double-chat', input: 'weather', text: { format: zodTextFormat(weather, 'weather') } });
    expect(responses.output_parsed).toEqual({ city: 'Beijing', celsius: 21 });
    const responsesStream = h.client.responses.stream({ model: 'double-chat', input: 'weather', text: { format: zodTextFormat(weather, 'weather') } });
    expect((await responsesStream.finalResponse()).output_parsed).toEqual({ city: 'Beijing', celsius: 21 });
  });

  it('tool-call turns carry no notice in content, whole or streamed', async () => {
    h.double.behaviour = () => ({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: ['{"city":', '"Beijing"}'] }] });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const whole = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('weather?')], tools });
    expect(whole.choices[0]?.message.content).toBeNull();
    expect(JSON.parse(whole.choices[0]?.message.tool_calls?.[0]?.type === 'function' ? whole.choices[0].message.tool_calls[0].function.arguments : '')).toEqual({ city: 'Beijing' });
    const stream = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('weather?')], tools, stream: true });
    let content = '';
    let args = '';
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        content += choice.delta.content ?? '';
        for (const call of choice.delta.tool_calls ?? []) args += call.function?.arguments ?? '';
      }
    }
    expect(content).toBe('');
    expect(JSON.parse(args)).toEqual({ city: 'Beijing' });
  });

  it('a stream label verifies against exactly the text the client joined; one label per choice with n > 1', async () => {
    h.double.behaviour = () => ({ text: 'one two three', moreChoices: ['four five'] });
    const { events } = await readSse(await h.post('/v1/chat/completions', { model: 'double-chat', messages: [user('count')], n: 2, stream: true }));
    const texts = new Map<number, string>();
    for (const event of events) {
      for (const choice of (event.choices as { index: number; delta?: { content?: string } }[] | undefined) ?? []) texts.set(choice.index, (texts.get(choice.index) ?? '') + (choice.delta?.content ?? ''));
    }
    expect(texts.get(0)).toBe(`${NOTICE}\n\none two three`);
    const hegui = events.at(-1)?.hegui as { aigc: ImplicitLabel; choices: { index: number; aigc: ImplicitLabel }[] };
    expect(await verify(hegui.aigc, texts.get(0) ?? '')).toBe('valid');
    expect(hegui.choices.map((c) => c.index)).toEqual([0, 1]);
    for (const { index, aigc } of hegui.choices) expect(await verify(aigc, texts.get(index) ?? '')).toBe('valid');
    expect(new Set(hegui.choices.map((c) => c.aigc.ProduceID)).size).toBe(2);
  });

  it('whole answers and Responses streams are signed over the text as received', async () => {
    h.double.behaviour = () => ({ text: 'alpha beta' });
    const whole = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('x')] });
    expect(await verify((whole as unknown as { hegui: { aigc: ImplicitLabel } }).hegui.aigc, whole.choices[0]?.message.content ?? '')).toBe('valid');
    h.double.behaviour = () => ({ text: 'alpha beta', moreChoices: ['gamma'] });
    const two = await h.client.chat.completions.create({ model: 'double-chat', messages: [user('x')], n: 2 });
    const labels = (two as unknown as { hegui: { choices: { index: number; aigc: ImplicitLabel }[] } }).hegui.choices;
    expect(labels).toHaveLength(2);
    for (const { index, aigc } of labels) expect(await verify(aigc, two.choices[index]?.message.content ?? '')).toBe('valid');
    h.double.behaviour = () => ({ text: 'alpha beta' });
    const stream = await h.client.responses.create({ model: 'double-chat', input: 'x', stream: true });
    let deltas = '';
    let label: ImplicitLabel | undefined;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') deltas += event.delta;
      if (event.type === 'response.completed') label = (event.response as unknown as { hegui: { aigc: ImplicitLabel } }).hegui.aigc;
    }
    expect(deltas).toBe(`${NOTICE}\n\nalpha beta`);
    expect(await verify(label as ImplicitLabel, deltas)).toBe('valid');
  });
});
