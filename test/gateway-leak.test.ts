/**
 * Stream-leak tests: whatever the chunking or disguise, no part of a blocked keyword reaches
 * the client. The text the client receives, joined, is the text before the hit (no keyword, no
 * leading fragment the next chunk would complete; a trailing run of Latin letters and digits
 * the personal-data detector still holds at the hit is dropped with it), and the stream ends
 * cleanly with `finish_reason: "content_filter"`, the block notice and `[DONE]`. Personal data
 * split across chunks is masked before any of it leaves.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BLOCK_MESSAGE, chatText, type GatewayHarness, KEYWORDS, readSse, startGateway } from './gateway-harness.js';
import { describeEachDatabase } from './helpers/stores.js';

const NOTICE_PREFIX = '本内容由人工智能生成\n\n';
const chars = (text: string): string[] => [...text];

interface LeakCase {
  name: string;
  /** Text before the disguised keyword. */
  before: string;
  /** The keyword as the model writes it (disguised or not). */
  hit: string;
  after: string;
  chunk: (text: string) => string[];
}

const cases: LeakCase[] = [
  { name: 'split into 1-character chunks', before: '先说点别的。', hit: KEYWORDS.zh, after: '的方法如下', chunk: chars },
  { name: 'spread across many chunks', before: 'Here is a long answer that mentions ', hit: KEYWORDS.en, after: ' and goes on.', chunk: (t) => t.match(/.{1,3}/gsu) ?? [] },
  { name: 'in full-width letters', before: 'Look: ', hit: 'ＦＯＲＢＩＤＤＥＮＷＯＲＤ', after: '!', chunk: chars },
  { name: 'with zero-width characters inside', before: 'Look: ', hit: 'forbid\u200bden\u200dword', after: '.', chunk: chars },
  { name: 'with symbols inserted', before: '步骤：', hit: '炸*弹-制.作', after: '就是这样', chunk: (t) => t.match(/.{1,2}/gsu) ?? [] },
  { name: 'at the very start', before: '', hit: KEYWORDS.zh, after: '教程', chunk: chars },
  { name: 'at the very end', before: 'The last word is ', hit: KEYWORDS.en, after: '', chunk: chars },
];

/** No prefix of the keyword (of two characters or more, after removing disguises) ends the text. */
function endsWithFragment(text: string, keyword: string): boolean {
  const plain = text.normalize('NFKC').toLowerCase().replace(/[\u200b-\u200d\s*.-]/gu, '');
  for (let n = 1; n <= keyword.length; n++) if (plain.endsWith(keyword.slice(0, n))) return true;
  return false;
}

describeEachDatabase('no blocked keyword leaks from a stream', (getDatabase) => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url });
  });
  afterAll(async () => h?.close());

  for (const c of cases) {
    const keyword = c.hit.normalize('NFKC').toLowerCase().includes('forbid') ? KEYWORDS.en : KEYWORDS.zh;

    it(`chat: keyword ${c.name}`, async () => {
      h.double.behaviour = () => ({ chunks: c.chunk(c.before + c.hit + c.after) });
      const response = await h.post('/v1/chat/completions', { model: 'double-chat', messages: [{ role: 'user', content: 'go' }], stream: true });
      const { events, done } = await readSse(response);
      const text = chatText(events);
      expect(text.startsWith(NOTICE_PREFIX)).toBe(true);
      expect(text.endsWith(BLOCK_MESSAGE)).toBe(true);
      const model = text.slice(NOTICE_PREFIX.length, -BLOCK_MESSAGE.length);
      expect(c.before.startsWith(model)).toBe(true);
      if (!/[A-Za-z :]$/.test(c.before)) expect(model).toBe(c.before);
      expect(endsWithFragment(model, keyword)).toBe(false);
      const finishes = events.flatMap((e) => ((e.choices as { finish_reason: string | null }[] | undefined) ?? []).map((x) => x.finish_reason)).filter(Boolean);
      expect(finishes).toEqual(['content_filter']);
      expect(done).toBe(true);
      const [event] = await h.events();
      expect(event).toMatchObject({ outcome: 'block', payload: { verdicts: { output: 'block' }, actions: expect.arrayContaining(['output-blocked']) } });
    });
  }

  it('completions stream: a keyword in 1-character chunks never leaks', async () => {
    h.double.behaviour = () => ({ chunks: chars(`好，${KEYWORDS.en} def`) });
    const { events, done } = await readSse(await h.post('/v1/completions', { model: 'double-chat', prompt: 'go', stream: true }));
    const text = events.map((e) => ((e.choices as { text?: string }[] | undefined) ?? []).map((x) => x.text ?? '').join('')).join('');
    expect(text).toBe(`${NOTICE_PREFIX}好，${BLOCK_MESSAGE}`);
    expect(done).toBe(true);
  });

  it('responses stream: a keyword in 1-character chunks never leaks, the response ends incomplete', async () => {
    h.double.behaviour = () => ({ chunks: chars(`好的，${KEYWORDS.zh}如下`) });
    const { events, names } = await readSse(await h.post('/v1/responses', { model: 'double-chat', input: 'go', stream: true }));
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta as string).join('');
    expect(deltas).toBe(`${NOTICE_PREFIX}好的，${BLOCK_MESSAGE}`);
    expect(JSON.stringify(events)).not.toContain(KEYWORDS.zh);
    expect(names.at(-1)).toBe('response.incomplete');
    expect(events.at(-1)).toMatchObject({ response: { status: 'incomplete', incomplete_details: { reason: 'content_filter' } } });
  });

  it('masks personal data split into 1-character chunks before any of it leaves', async () => {
    for (const [name, path] of [['chat', '/v1/chat/completions'], ['responses', '/v1/responses']] as const) {
      const deltas: string[] = [];
      h.double.behaviour = () => ({ chunks: chars('请拨打13812345678联系我，或发邮件到 li.ming@example.cn 。') });
      const body = name === 'chat' ? { model: 'double-chat', messages: [{ role: 'user', content: 'go' }], stream: true } : { model: 'double-chat', input: 'go', stream: true };
      const { events } = await readSse(await h.post(path, body));
      for (const e of events) {
        if (name === 'chat') deltas.push(chatText([e]));
        else if (e.type === 'response.output_text.delta') deltas.push(e.delta as string);
      }
      const text = deltas.join('');
      expect(text, name).not.toContain('13812345678');
      expect(text, name).not.toContain('li.ming@example.cn');
      expect(text, name).toMatch(/请拨打138\*+5678联系我/);
      // No delta carries a piece of the number that is not masked yet.
      expect(deltas.some((d) => /\d{4}/.test(d.replace(/138\*+5678/, ''))), name).toBe(false);
      const [event] = await h.events();
      expect(event, name).toMatchObject({ outcome: 'redact', risks: ['A4.6'] });
    }
  });

  it('stops the upstream once a block ends the stream', async () => {
    h.double.behaviour = () => ({ chunks: [`x ${KEYWORDS.en} `, ...Array.from({ length: 50 }, () => 'more ')], chunkDelayMs: 20 });
    const { done } = await readSse(await h.post('/v1/chat/completions', { model: 'double-chat', messages: [{ role: 'user', content: 'go' }], stream: true }));
    expect(done).toBe(true);
    await expect.poll(() => h.double.last('/v1/chat/completions')?.aborted).toBe(true);
  });

  it('checks a non-stream answer whole', async () => {
    h.double.behaviour = () => ({ text: `hidden ${KEYWORDS.en} here` });
    const response = await h.post('/v1/chat/completions', { model: 'double-chat', messages: [{ role: 'user', content: 'go' }] });
    const body = (await response.json()) as { choices: { message: { content: string }; finish_reason: string }[] };
    expect(body.choices[0]).toMatchObject({ message: { content: BLOCK_MESSAGE }, finish_reason: 'content_filter' });
  });
});
