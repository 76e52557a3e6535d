/**
 * The safety policy through the gateway: redaction forwards the redacted text, personal data
 * in answers is masked, review lets content pass but records it, minors get the stricter rules.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiUser } from '../src/gateway/index.js';
import { BLOCK_MESSAGE, type GatewayHarness, KEYWORDS, startGateway } from './gateway-harness.js';
import { describeEachDatabase } from './helpers/stores.js';

describeEachDatabase('gateway safety policy', (getDatabase) => {
  let h: GatewayHarness;
  let minor: OpenAI;

  beforeAll(async () => {
    h = await startGateway({
      databaseUrl: getDatabase().url,
      safety: {
        policy: {
          rules: [
            { target: '*', action: 'review' },
            { target: 'A1', action: 'block', minConfidence: 'medium' },
            { target: 'A1', action: 'review' },
            { target: 'A2', direction: 'input', action: 'review' },
            { target: 'A2', direction: 'output', action: 'block' },
            { target: 'pii', direction: 'input', action: 'redact' },
            { target: 'pii', direction: 'output', action: 'redact' },
          ],
          userClasses: { minor: [{ target: 'A2', action: 'block' }] },
        },
      },
    });
    const { key } = await createApiUser(h.server.store, { name: 'kid', minor: true });
    minor = new OpenAI({ apiKey: key, baseURL: `${h.server.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => h?.close());

  it('forwards redacted input to the upstream', async () => {
    h.double.behaviour = () => ({ text: 'noted' });
    await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'call me on 13812345678 please' }] });
    const sent = (h.double.last('/v1/chat/completions')?.body.messages as { content: string }[])[0]?.content ?? '';
    expect(sent).not.toContain('13812345678');
    expect(sent).toMatch(/call me on \S*\*+\S* please/);
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'redact', risks: ['A4.6'], payload: { actions: ['input-redacted', 'labeled'] } });
  });

  it('masks personal data in a whole answer', async () => {
    h.double.behaviour = () => ({ text: 'His number is 13812345678.' });
    const answer = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: 'number?' }] });
    expect(answer.choices[0]?.message.content).not.toContain('13812345678');
  });

  it('lets a review-level prompt through for adults and records it', async () => {
    h.double.behaviour = () => ({ text: 'ok' });
    const answer = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: `what is ${KEYWORDS.discrimination}?` }] });
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'review', risks: ['A2.3'], payload: { verdicts: { input: 'review' }, actions: ['input-review', 'labeled'], keywordHits: [{ direction: 'input', risk: 'A2.3', action: 'review', confidence: 'high', transforms: [] }] } });
  });

  it('sends a hit found only through several transforms to review, and records how it was found', async () => {
    h.double.behaviour = () => ({ text: 'ok' });
    const hidden = `炸 彈\u200b制作`;
    const answer = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: `what is ${hidden}?` }] });
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    const [event] = await h.events();
    expect(event).toMatchObject({ outcome: 'review', risks: ['A1.4'], payload: { keywordHits: [{ direction: 'input', risk: 'A1.4', action: 'review', confidence: 'low', transforms: ['traditional', 'invisible', 'noise'] }] } });
    const literal = await h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: `what is ${KEYWORDS.zh}?` }] });
    expect(literal.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: BLOCK_MESSAGE } });
  });

  it('blocks the same prompt for a minor (stricter user-class rules)', async () => {
    const answer = await minor.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content: `what is ${KEYWORDS.discrimination}?` }] });
    expect(answer.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: BLOCK_MESSAGE } });
  });
});
