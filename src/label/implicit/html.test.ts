import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LabelValueError } from '../errors.js';
import { BufferSink, bufferSource } from './bytes.js';
import { htmlCodec } from './html.js';

const LABEL = JSON.stringify({
  Label: '1',
  ContentProducer: '001191100000000000000000X10001',
  ProduceID: 'page<1> & "quotes" \'single\'',
  ReservedCode1: 'c2ln',
  ContentPropagator: '001191100000000000000000X10001',
  PropagateID: '标识-1',
  ReservedCode2: '',
});
const RELABEL = LABEL.replace('X10001","PropagateID', 'X20002","PropagateID');

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const utf8 = (value: string): Uint8Array => new TextEncoder().encode(value);

async function write(bytes: Uint8Array, value: string): Promise<Uint8Array> {
  const sink = new BufferSink();
  await htmlCodec.write(bufferSource(bytes), value, sink);
  return sink.bytes();
}

async function remove(bytes: Uint8Array): Promise<Uint8Array> {
  const sink = new BufferSink();
  await htmlCodec.remove(bufferSource(bytes), sink);
  return sink.bytes();
}

async function payloadHash(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (const range of await htmlCodec.payloadRanges(bufferSource(bytes))) hash.update(bytes.subarray(range.start, range.end));
  return hash.digest('hex');
}

/** A plain reading: the content of the first AIGC meta tag that comes before the body. */
function plainRead(bytes: Uint8Array): string | undefined {
  const page = text(bytes);
  const body = page.search(/<body[\s>]|<p[\s>]/i);
  const match = /<meta name="AIGC" content="([^"]*)"\s*\/?>/.exec(page);
  if (!match || (body >= 0 && match.index > body)) return undefined;
  const decoded = (match[1] ?? '').replace(/&(#x[0-9A-F]+|amp|lt|gt|quot);/g, (_m, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(Number.parseInt(e.slice(2), 16)) : ({ amp: '&', lt: '<', gt: '>', quot: '"' } as Record<string, string>)[e] ?? '',
  );
  return decoded;
}

/** `original` with `insert` at `marker`'s end: the expected output of an insertion. */
function inserted(original: string, marker: string, insert: string): string {
  const at = original.indexOf(marker) + marker.length;
  return original.slice(0, at) + insert + original.slice(at);
}

function tagFor(value: string, close = '>'): string {
  let content = '';
  for (const char of value) {
    const cp = char.codePointAt(0) ?? 0;
    content += ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' } as Record<string, string>)[char] ?? (cp > 0x7e ? `&#x${cp.toString(16).toUpperCase()};` : char);
  }
  return `<meta name="AIGC" content="${content}"${close}`;
}

describe('html codec', () => {
  it('detects HTML documents', () => {
    for (const page of ['<!DOCTYPE html><html>', '\ufeff<!-- c -->\n<html lang="zh">', '<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "x">', '<head><title>']) {
      expect(htmlCodec.detect(utf8(page)), page).toBe(true);
    }
    for (const page of ['# Markdown', '<p>fragment</p>', '{"json":1}']) expect(htmlCodec.detect(utf8(page)), page).toBe(false);
  });

  const cases: [name: string, page: string, expected: (tag: string) => string][] = [
    [
      'after <meta charset> in the head',
      '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n  <meta charset="utf-8">\n  <title>报告 <b></title>\n</head>\n<body><p>AI</p></body></html>\n',
      (tag) => inserted('<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n  <meta charset="utf-8">\n  <title>报告 <b></title>\n</head>\n<body><p>AI</p></body></html>\n', '<meta charset="utf-8">', tag),
    ],
    [
      'right after <head> without a charset',
      '<html><HEAD profile="x"><title>t</title></HEAD><body></body></html>',
      (tag) => `<html><HEAD profile="x">${tag}<title>t</title></HEAD><body></body></html>`,
    ],
    [
      'in a new head when there is none',
      '<!doctype html><html><body><p>x</p></body></html>',
      (tag) => `<!doctype html><html><head>${tag}</head><body><p>x</p></body></html>`,
    ],
    ['in a new head before a bare fragment', '<p>hello</p>', (tag) => `<head>${tag}</head><p>hello</p>`],
    [
      'into an implied head, before its elements',
      '<!DOCTYPE html><title>t</title><link rel="icon" href="i.png"><p>text',
      (tag) => `<!DOCTYPE html>${tag}<title>t</title><link rel="icon" href="i.png"><p>text`,
    ],
  ];

  for (const [name, page, expected] of cases) {
    it(`puts the label ${name}, and removes it byte for byte`, async () => {
      const original = utf8(page);
      const labeled = await write(original, LABEL);
      expect(new TextDecoder().decode(labeled)).toBe(expected(tagFor(LABEL)));
      expect(plainRead(labeled)).toBe(LABEL);
      expect((await htmlCodec.read(bufferSource(labeled)))[0]).toEqual({ value: LABEL, location: 'html:head/meta[name=AIGC]', standard: true });
      const relabeled = await write(labeled, RELABEL);
      expect(plainRead(relabeled)).toBe(RELABEL);
      const removed = await remove(relabeled);
      expect(Buffer.from(removed).equals(Buffer.from(original))).toBe(true);
      for (const bytes of [labeled, relabeled]) expect(await payloadHash(bytes)).toBe(await payloadHash(original));
    });
  }

  it('replaces a label another tool wrote, dropping duplicates', async () => {
    const page = "<html><head><META NAME=aigc CONTENT='{&quot;Label&quot;:&quot;3&quot;}'><title>t</title><meta name=\"AIGC\" content=\"dup\"></head></html>";
    expect((await htmlCodec.read(bufferSource(utf8(page)))).map((l) => l.value)).toEqual(['{"Label":"3"}', 'dup']);
    const labeled = new TextDecoder().decode(await write(utf8(page), LABEL));
    expect(labeled).toBe(`<html><head>${tagFor(LABEL)}<title>t</title></head></html>`);
  });

  it('ignores look-alikes in scripts, comments and the body', async () => {
    const page =
      '<html><head><script>document.write(\'<meta name="AIGC" content="fake">\')</script><!-- <meta name="AIGC" content="old"> --></head>' +
      '<body><meta name="AIGC" content="body"></body></html>';
    expect(await htmlCodec.read(bufferSource(utf8(page)))).toEqual([]);
    const labeled = new TextDecoder().decode(await write(utf8(page), LABEL));
    expect(labeled.startsWith(`<html><head>${tagFor(LABEL)}<script>`)).toBe(true);
  });

  it('writes pure ASCII into a GBK page and leaves its other bytes alone', async () => {
    // "报告" in GBK is B1 A8 B8 E6: not valid UTF-8, so it must pass through untouched.
    const page = latin1('<html><head><meta charset="gbk"><title>\xb1\xa8\xb8\xe6</title></head><body>\xb1\xa8</body></html>');
    const labeled = await write(page, LABEL);
    const tag = tagFor(LABEL);
    expect(/^[\x20-\x7e]*$/.test(tag)).toBe(true);
    expect(text(labeled)).toBe(inserted(text(page), '<meta charset="gbk">', tag));
    expect((await htmlCodec.read(bufferSource(labeled)))[0]?.value).toBe(LABEL);
  });

  it('closes the tag XML-style in XHTML', async () => {
    const page = '<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><body/></html>';
    const labeled = new TextDecoder().decode(await write(utf8(page), LABEL));
    expect(labeled).toContain(`<head>${tagFor(LABEL, ' />')}<title>`);
  });

  it('treats an empty head as the label’s own: removed with it, outside the payload', async () => {
    const original = utf8('<html><head>\n</head><body>x</body></html>');
    const labeled = await write(original, LABEL);
    expect(plainRead(labeled)).toBe(LABEL);
    const removed = await remove(labeled);
    expect(new TextDecoder().decode(removed)).toBe('<html><body>x</body></html>');
    for (const bytes of [labeled, removed]) expect(await payloadHash(bytes)).toBe(await payloadHash(original));
  });

  it('refuses a value HTML cannot carry', async () => {
    await expect(write(utf8('<html><head></head></html>'), 'a\u0000b')).rejects.toThrow(LabelValueError);
  });

  it('never throws on arbitrary bytes', async () => {
    let state = 0x1234;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    const original = await write(utf8(cases[0]?.[1] ?? ''), LABEL);
    for (let round = 0; round < 300; round++) {
      const bytes = original.slice();
      for (let flips = 1 + Math.floor(next() * 6); flips > 0; flips--) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      const labeled = await write(bytes, LABEL);
      expect((await htmlCodec.read(bufferSource(labeled))).map((l) => l.value)).toEqual([LABEL]);
      await remove(bytes);
      await htmlCodec.payloadRanges(bufferSource(bytes));
    }
  });
});
