import { describe, expect, it } from 'vitest';
import { compileLibrary } from './compile.js';
import { exampleLibrary } from './example-library.js';
import { SafetyGuard } from './guard.js';
import { DEFAULT_SAFE_REPLY } from './messages.js';
import { detectPii } from './pii.js';
import { IncrementalPiiDetector, PII_HOLD_LIMIT } from './pii-stream.js';

const today = new Date('2025-11-01T00:00:00Z');

function chunked(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('incremental personal-data detection', () => {
  const text = '请拨打 138 0013 8000 或写信到 zhang.san@example.com，车牌京A·12345，身份证11010519491231002X。IP 10.0.0.1 完';
  it('finds the same items as the whole-text detector for any chunking, and releases everything', () => {
    const whole = detectPii(text, { today });
    for (let size = 1; size <= 9; size++) {
      const detector = new IncrementalPiiDetector({ today });
      const found = [];
      let released = '';
      for (const part of chunked(text, size)) {
        const step = detector.feed(part);
        expect(step.releasedFrom).toBe(released.length);
        released += step.released;
        found.push(...step.matches);
      }
      const last = detector.end();
      released += last.released;
      found.push(...last.matches);
      expect(released).toBe(text);
      expect(found).toEqual(whole);
    }
  });
  it('holds back only the trailing run an identifier could still grow from', () => {
    const detector = new IncrementalPiiDetector({ today });
    expect(detector.feed('电话是1380013').released).toBe('电话是');
    expect(detector.feed('8000。').matches.map((m) => m.value)).toEqual(['13800138000']);
    expect(detector.safeOffset).toBe('电话是13800138000。'.length);
  });
  it('never holds more than the limit', () => {
    const detector = new IncrementalPiiDetector();
    detector.feed('x'.repeat(PII_HOLD_LIMIT * 3));
    expect(detector.safeOffset).toBe(PII_HOLD_LIMIT * 2);
  });
});

describe('guard over a stream', () => {
  // Without the example's regex entry, which would hold each line until it ends.
  const library = compileLibrary({ ...exampleLibrary, entries: exampleLibrary.entries.filter((e) => e.mode !== 'regex') });
  const guard = new SafetyGuard({ library, pii: { today } });

  it('redacts personal data in output as it streams, masking only what is final', () => {
    const stream = guard.stream({ direction: 'output' });
    let sent = '';
    for (const part of chunked('您的号码是13800138000，已登记。', 3)) sent += stream.feed(part).text;
    const last = stream.end();
    sent += last.text;
    expect(sent).toBe('您的号码是138****8000，已登记。');
    expect(last.verdict).toBe('redact');
  });

  it('stops at a blocked keyword and releases nothing from it on', () => {
    const stream = guard.stream({ direction: 'output' });
    let sent = '';
    let reply: string | undefined;
    for (const part of chunked('好的，下面介绍制 作 炸 弹的方法', 2)) {
      const step = stream.feed(part);
      sent += step.text;
      if (step.blocked) {
        reply = step.reply;
        break;
      }
    }
    expect(sent).toBe('好的，下面介绍');
    expect(reply).toBe(DEFAULT_SAFE_REPLY.zh);
    expect(stream.feed('更多').text).toBe('');
  });

  it('with regex entries, holds each line until it ends', () => {
    const stream = new SafetyGuard({ library: compileLibrary(exampleLibrary) }).stream({ direction: 'output' });
    expect(stream.feed('第一行没有问题').text).toBe('');
    expect(stream.feed('\n第二行').text).toBe('第一行没有问题\n');
  });

  it('lets clean text through unchanged for any chunking', () => {
    const text = '今天天气很好，适合出去走走。\nThe weather is nice today.';
    for (let size = 1; size <= 5; size++) {
      const stream = guard.stream({ direction: 'output' });
      let sent = chunked(text, size).map((part) => stream.feed(part).text).join('');
      sent += stream.end().text;
      expect(sent).toBe(text);
    }
  });
});
