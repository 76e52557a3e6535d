import { describe, expect, it } from 'vitest';
import { GatewayRequestError } from './errors.js';
import { allowChat, allowResponse, chatTexts, itemSlots, promptSlots } from './fields.js';

describe('answer allow-list', () => {
  it('turns content parts and object arguments into strings the guard reads', () => {
    const answer = allowChat(
      { choices: [{ index: 0, message: { role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }], tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { q: 'x' } } }] } }] },
      'drop',
    );
    const message = (answer.choices as { message: Record<string, unknown> }[])[0]?.message ?? {};
    expect(chatTexts(message).map((t) => [t.key, t.text])).toEqual([
      ['content', 'ab'],
      ['tool_calls.0', '{"q":"x"}'],
    ]);
  });

  it('keeps only known fields and numeric usage; pass keeps the rest', () => {
    const answer = allowChat({ id: 'x', vendor: 'secret', usage: { prompt_tokens: 1, note: 'secret' }, choices: [{ index: 0, vendor: 'secret', logprobs: { content: [] }, message: { role: 'assistant', content: 'hi', vendor: 'secret' } }] }, 'drop');
    expect(JSON.stringify(answer)).not.toContain('secret');
    expect((answer.choices as Record<string, unknown>[])[0]?.logprobs).toBeNull();
    expect(allowChat({ vendor: 'kept', choices: [] }, 'pass').vendor).toBe('kept');
    const chunk = allowChat({ choices: [{ index: 0, delta: { content: 'a' }, message: { content: 'unread' } }] }, 'pass', 'delta');
    expect(JSON.stringify(chunk)).not.toContain('unread');
  });

  it('drops Responses items and parts it does not know', () => {
    const response = allowResponse(
      { output: [{ type: 'web_search_call', id: 'w' }, { type: 'message', id: 'm', content: [{ type: 'output_text', text: 'hi', annotations: [{ title: 't' }] }, { type: 'vendor_part', text: 'secret' }] }] },
      'drop',
    );
    expect(response.output).toEqual([{ type: 'message', id: 'm', content: [{ type: 'output_text', text: 'hi', annotations: [] }] }]);
  });
});

describe('request texts', () => {
  it('reads every prose string of a message but not ids, names, urls or encoded files', () => {
    const message = { role: 'assistant', name: 'bot', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }], tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"q":"b"}' } }] };
    expect(itemSlots(message).map((s) => s.text)).toEqual(['a', '{"q":"b"}']);
  });

  it('refuses token-id prompts and reads the suffix', () => {
    expect(() => promptSlots({ prompt: [1, 2] })).toThrow(GatewayRequestError);
    expect(promptSlots({ prompt: 'p', suffix: 's' }).map((s) => s.text)).toEqual(['p', 's']);
  });
});
