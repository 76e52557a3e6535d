/**
 * The chat stream's fast path (`GuardedChoices.acceptData`): the usual chunk, exactly as
 * `JSON.stringify` writes it, is guarded without being parsed and serialised again. Whatever
 * the text and its chunking (a keyword split across three chunks at every offset, personal data
 * across chunk borders, escapes, surrogate pairs), the fast path sends the same bytes, finds the
 * same hits and takes the same actions as the general path (`accept(JSON.parse(data))`); chunks
 * it does not know go the general way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exchange } from '../src/gateway/audit.js';
import { chatShape, GuardedChoices } from '../src/gateway/choice-stream.js';
import type { Caller } from '../src/gateway/identity.js';
import type { GatewayServices, Json } from '../src/gateway/pipeline.js';
import { type GatewayHarness, KEYWORDS, startGateway } from './gateway-harness.js';

const caller = { user: { id: 1, name: 'tester' }, pseudonym: 'p', auth: 'key', verified: true, minor: false } as unknown as Caller;

interface Run {
  frames: string[];
  blocked: boolean;
  findings: unknown[];
  actions: string[];
  output: unknown;
  /** Events the fast path took. */
  fast: number;
}

/** Feeds the events' data through one stream guard, as the relay does, and what it sent. */
function run(services: GatewayServices, events: readonly string[], fastPath: boolean): Run {
  const exchange = new Exchange('chat.completions', 'all');
  exchange.caller = caller;
  const guarded = new GuardedChoices(services, exchange, chatShape, true);
  const frames: string[] = [];
  // As the relay sends them: a string is a frame already made.
  const write = (chunk: Json | string): number => frames.push(typeof chunk === 'string' ? chunk : `data: ${JSON.stringify(chunk)}\n\n`);
  let blocked = false;
  let fast = 0;
  for (const data of events) {
    const out: (Json | string)[] = [];
    let blockedNow = fastPath ? guarded.acceptData(data, out) : undefined;
    if (blockedNow === undefined) {
      expect(out).toEqual([]);
      const result = guarded.accept(JSON.parse(data) as Json);
      out.push(...result.out);
      blockedNow = result.blocked;
    } else fast++;
    out.forEach(write);
    if (blockedNow) {
      blocked = true;
      break;
    }
  }
  if (!blocked) {
    const last = guarded.finish();
    last.out.forEach(write);
    blocked = last.blocked;
  }
  if (blocked) write(guarded.blockEnding('[blocked]'));
  const event = exchange.event(200) as { payload: Record<string, unknown>; content?: unknown };
  return { frames, blocked, findings: exchange.outputFindings, actions: exchange.actions, output: event.content, fast };
}

const envelope = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'm-1' };
const first = JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
const piece = (content: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ ...envelope, ...extra, choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }] });
const stop = JSON.stringify({ ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] });

/** The stream of `pieces`, as an upstream sends it. */
const streamOf = (pieces: readonly string[]): string[] => [first, ...pieces.map((p) => piece(p)), stop];

/** Every way to cut `text` into three non-empty pieces. */
function threeWays(text: string): string[][] {
  const cuts: string[][] = [];
  for (let a = 1; a < text.length - 1; a++) for (let b = a + 1; b < text.length; b++) cuts.push([text.slice(0, a), text.slice(a, b), text.slice(b)]);
  return cuts;
}

describe('chat stream fast path', () => {
  let h: GatewayHarness;
  let services: GatewayServices;
  beforeAll(async () => {
    h = await startGateway({ now: () => Date.UTC(2026, 0, 1) });
    services = h.services as GatewayServices;
  });
  afterAll(async () => h?.close());

  const same = (events: string[], expectFast = true): Run => {
    const general = run(services, events, false);
    const quick = run(services, events, true);
    expect(quick.frames).toEqual(general.frames);
    expect({ ...quick, fast: 0 }).toEqual({ ...general, fast: 0 });
    if (expectFast) expect(quick.fast).toBeGreaterThan(0);
    return quick;
  };

  it('a keyword split into three chunks at every offset is blocked alike, nothing of it sent', () => {
    for (const keyword of [KEYWORDS.zh, KEYWORDS.en]) {
      const text = `说明：${keyword}。`;
      for (const pieces of threeWays(text)) {
        const result = same(streamOf(pieces));
        expect(result.blocked, pieces.join('|')).toBe(true);
        expect(result.frames.join('')).not.toContain(keyword.slice(0, 2) === '炸弹' ? '炸弹' : 'forbid');
      }
    }
  });

  it('personal data across chunk borders is masked alike', () => {
    const text = '电话13812345678，邮件 li.ming@example.cn 。';
    for (let size = 1; size <= 6; size++) {
      const pieces = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'gu')) ?? [];
      const result = same(streamOf(pieces));
      const sent = result.frames.join('');
      expect(sent).not.toContain('13812345678');
      expect(sent).not.toContain('li.ming@example.cn');
    }
    for (const pieces of threeWays('号13812345678。')) same(streamOf(pieces));
  });

  it('escapes, quotes, control characters, surrogate pairs split and whole, and line separators', () => {
    const text = 'a"b\\c/d\n\te\u0001f\u2028g😀h"\u007f' + KEYWORDS.en;
    for (const pieces of threeWays(text)) same(streamOf(pieces));
    const units = text.split('');
    same(streamOf(units));
  });

  it('chunks of other forms go the general way, with the same result', () => {
    const other = [
      first,
      piece('one '),
      piece('two ', { system_fingerprint: 'fp_1', service_tier: 'default' }),
      piece('three '),
      piece('four ').replace('"created":1700000000', '"created":1.7e9'),
      piece('five ').replace('"content":', '"content": '),
      piece('six ').replace('"id":"chatcmpl-1"', '"id":"chat\\u0063mpl-1"'),
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: 'seven ', x: 1 }, logprobs: null, finish_reason: null }] }),
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: 'eight ' }, logprobs: null, finish_reason: null }] }),
      piece('nine '),
      stop,
    ];
    const result = same(other);
    expect(result.fast).toBe(3);
    // Order of the allowed fields kept: service_tier and system_fingerprint in the upstream's order.
    same([first, JSON.stringify({ ...envelope, service_tier: 'default', system_fingerprint: null, choices: [{ index: 0, delta: { content: 'x' }, logprobs: null, finish_reason: null }] }), stop]);
  });

  it('a content string JSON cannot read is left to the general path', () => {
    const bad = piece('ab').replace('"ab"', '"a\\u12"');
    expect(() => run(services, [first, bad], true)).toThrow(SyntaxError);
  });
});
