/**
 * Guard models on the gateway's path (issue 13): a Qwen3Guard served OpenAI-compatibly is
 * played by a second upstream double (a real HTTP server with delays and failures). What it
 * flags never reaches the model (input) or the client (whole answers, `sentence` streams);
 * `after` streams end as soon as it flags; a slow or failing classifier follows its rule
 * (fail-open recorded as degraded, fail-closed blocks) and trips the circuit breaker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BLOCK_MESSAGE, type GatewayHarness, readSse, startGateway } from './gateway-harness.js';
import { UpstreamDouble } from './gateway-upstream-double.js';

/** Text the guard-model double calls unsafe (a category Qwen3Guard maps to A1.6); the keyword library does not know it. */
const UNSAFE = 'VIOLENTPLAN';

interface GuardDouble {
  double: UpstreamDouble;
  /** What the guard model saw: the texts it was asked to judge, in order. */
  judged: string[];
}

async function guardModel(options: { delayMs?: number; status?: number } = {}): Promise<GuardDouble> {
  const double = await new UpstreamDouble().start();
  const judged: string[] = [];
  double.behaviour = (_path, body) => {
    const messages = (body.messages ?? []) as { role: string; content: string }[];
    const judgedText = messages.at(-1)?.content ?? '';
    judged.push(judgedText);
    if (options.status) return { status: options.status };
    const unsafe = judgedText.includes(UNSAFE);
    return { text: unsafe ? 'Safety: Unsafe\nCategories: Violent' : 'Safety: Safe\nCategories: None', chunks: undefined, headersDelayMs: options.delayMs ?? 0 };
  };
  return { double, judged };
}

function modelsConfig(guard: GuardDouble, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { classifiers: [{ kind: 'qwen3guard', baseUrl: `${guard.double.url}/v1`, model: 'qwen3guard-gen', ...((extra.classifier as object) ?? {}) }], budgetMs: 500, ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'classifier')) };
}

describe('gateway guard models', () => {
  let gateway: GatewayHarness | undefined;
  let guard: GuardDouble | undefined;
  afterEach(async () => {
    await gateway?.close();
    await guard?.double.stop();
    gateway = guard = undefined;
  });

  it('blocks an input the classifier flags before the model is called, and records the label', async () => {
    guard = await guardModel();
    gateway = await startGateway({ safety: { models: modelsConfig(guard) } });
    const answer = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `how to carry out a ${UNSAFE}` }] });
    expect(answer.choices[0]?.finish_reason).toBe('content_filter');
    expect(answer.choices[0]?.message.content).toContain(BLOCK_MESSAGE);
    expect(gateway.double.seen.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0);
    const [event] = await gateway.events();
    expect(event?.outcome).toBe('block');
    expect(event?.risks).toContain('A1.6');
    expect(event?.payload).toMatchObject({ actions: expect.arrayContaining(['input-blocked']), classifierLabels: [{ direction: 'input', classifier: 'qwen3guard:Violent', risk: 'A1.6', action: 'block' }] });
  });

  it('lets ordinary text through with no finding, and judges the answer with its prompt', async () => {
    guard = await guardModel();
    gateway = await startGateway({ safety: { models: modelsConfig(guard) } });
    gateway.double.behaviour = () => ({ text: 'Paris is the capital of France.' });
    const answer = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'What is the capital of France?' }] });
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    expect(answer.choices[0]?.message.content).toContain('Paris is the capital of France.');
    expect(guard.judged).toEqual(['What is the capital of France?', 'Paris is the capital of France.']);
    const [event] = await gateway.events();
    expect(event?.outcome).toBe('pass');
    expect(event?.payload).not.toHaveProperty('classifierLabels');
  });

  it('blocks a whole answer the classifier flags', async () => {
    guard = await guardModel();
    gateway = await startGateway({ safety: { models: modelsConfig(guard) } });
    gateway.double.behaviour = () => ({ text: `Step one of the ${UNSAFE}: ...` });
    const answer = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'tell me a story' }] });
    expect(answer.choices[0]?.finish_reason).toBe('content_filter');
    expect(JSON.stringify(answer)).not.toContain(UNSAFE);
    const [event] = await gateway.events();
    expect(event?.payload).toMatchObject({ actions: expect.arrayContaining(['output-blocked']) });
  });

  it('sentence mode: flagged text never reaches the client, earlier sentences do', async () => {
    guard = await guardModel();
    gateway = await startGateway({ safety: { models: modelsConfig(guard, { stream: 'sentence', checkChars: 1000 }) } });
    gateway.double.behaviour = () => ({ chunks: ['The weather is fine today. ', 'Now the ', `${UNSAFE} begins`, ' here. ', 'More text.'], chunkDelayMs: 20 });
    const response = await gateway.post('/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const { events, done } = await readSse(response);
    const text = events.map((e) => ((e.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? '')).join('');
    expect(done).toBe(true);
    expect(text).toContain('The weather is fine today.');
    expect(text).not.toContain(UNSAFE);
    expect(text).toContain(BLOCK_MESSAGE);
    const finish = events.map((e) => (e.choices as { finish_reason?: string }[] | undefined)?.[0]?.finish_reason).filter(Boolean);
    expect(finish).toContain('content_filter');
  });

  it('after mode: a stream the classifier flags ends with content_filter, and a clean one is judged whole at its end', async () => {
    guard = await guardModel();
    gateway = await startGateway({ safety: { models: modelsConfig(guard, { checkChars: 16 }) } });
    gateway.double.behaviour = () => ({ chunks: ['An ordinary opening sentence. ', `Then the ${UNSAFE} `, 'and much more text that follows ', 'and keeps going ', 'for a while.'], chunkDelayMs: 60 });
    const flagged = await readSse(await gateway.post('/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    const finish = flagged.events.map((e) => (e.choices as { finish_reason?: string }[] | undefined)?.[0]?.finish_reason).filter(Boolean);
    expect(flagged.done).toBe(true);
    expect(finish).toEqual(['content_filter']);
    const sent = flagged.events.map((e) => ((e.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? '')).join('');
    // The stream stopped early: the end of the answer never left.
    expect(sent).not.toContain('for a while.');

    guard.judged.length = 0;
    gateway.double.behaviour = () => ({ chunks: ['Short ', 'and clean.'] });
    const clean = await readSse(await gateway.post('/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    expect(clean.events.map((e) => (e.choices as { finish_reason?: string }[] | undefined)?.[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    expect(guard.judged.at(-1)).toBe('Short and clean.');
  });

  it('a classifier over its budget: fail-open passes marked degraded; fail-closed blocks', async () => {
    guard = await guardModel({ delayMs: 2000 });
    gateway = await startGateway({ safety: { models: modelsConfig(guard, { budgetMs: 50 }) } });
    const open = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });
    expect(open.choices[0]?.finish_reason).toBe('stop');
    const [event] = await gateway.events();
    expect(event?.payload).toMatchObject({ actions: expect.arrayContaining(['classifier-degraded']), classifierFailures: [expect.objectContaining({ direction: 'input', onFailure: 'open', message: expect.stringMatching(/budget of 50 ms/) }), expect.objectContaining({ direction: 'output' })] });
    await gateway.close();

    gateway = await startGateway({ safety: { models: modelsConfig(guard, { budgetMs: 50, classifier: { onFailure: 'closed' } }) } });
    const closed = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });
    expect(closed.choices[0]?.finish_reason).toBe('content_filter');
    expect(gateway.double.seen.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0);
    const [closedEvent] = await gateway.events();
    expect(closedEvent?.payload).toMatchObject({ actions: expect.arrayContaining(['classifier-unavailable', 'input-blocked']) });
  });

  it('opens the circuit after failures in a row: later requests do not wait for the classifier', async () => {
    guard = await guardModel({ status: 503 });
    gateway = await startGateway({ safety: { models: modelsConfig(guard, { classifier: { directions: ['input'] }, breaker: { failures: 2, cooldownSeconds: 600 } }) } });
    for (let i = 0; i < 5; i++) {
      const answer = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `hello ${i}` }] });
      expect(answer.choices[0]?.finish_reason).toBe('stop');
    }
    // Two calls reached the classifier (and failed); the circuit then refused the other three at once.
    expect(guard.judged).toHaveLength(2);
    const events = await gateway.events();
    expect(events[0]?.payload).toMatchObject({ classifierFailures: [expect.objectContaining({ message: expect.stringMatching(/circuit is open/) })] });
  });

  it('guards the legacy completions and the Responses API too (a Responses stream is judged at its end)', async () => {
    guard = await guardModel();
    gateway = await startGateway({ safety: { models: modelsConfig(guard) } });
    gateway.double.behaviour = () => ({ text: `the ${UNSAFE} in detail` });
    const completion = await gateway.client.completions.create({ model: 'm', prompt: 'write' });
    expect(completion.choices[0]?.finish_reason).toBe('content_filter');
    expect(completion.choices[0]?.text).not.toContain(UNSAFE);

    const whole = await gateway.client.responses.create({ model: 'm', input: 'write' });
    expect(whole.status).toBe('incomplete');
    expect(JSON.stringify(whole.output)).not.toContain(UNSAFE);

    const streamed = await readSse(await gateway.post('/v1/responses', { model: 'm', input: 'write', stream: true }));
    const last = streamed.events.at(-1) as { type?: string; response?: { status?: string; incomplete_details?: { reason?: string } } };
    expect(last.type).toBe('response.incomplete');
    expect(last.response?.incomplete_details?.reason).toBe('content_filter');

    // An input the classifier flags never reaches the model, whichever endpoint carries it.
    const before = gateway.double.seen.length;
    const refused = await gateway.client.responses.create({ model: 'm', input: `plan the ${UNSAFE}` });
    expect(refused.status).toBe('incomplete');
    expect(gateway.double.seen.length).toBe(before);
  });

  it('refuses a configuration that cannot work', async () => {
    await expect(startGateway({ safety: { models: { classifiers: [{ kind: 'qwen3guard', baseUrl: 'ftp://guard.example' }] } } })).rejects.toThrow(/baseUrl/);
    await expect(startGateway({ safety: { models: { classifiers: [{ kind: 'llamaguard', baseUrl: 'http://127.0.0.1:1/v1', apiKeyEnv: 'HEGUI_TEST_NO_SUCH_KEY' }] } } })).rejects.toThrow(/HEGUI_TEST_NO_SUCH_KEY/);
  });
});
