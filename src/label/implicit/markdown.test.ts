import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LabelFormatError } from '../errors.js';
import { BufferSink, bufferSource } from './bytes.js';
import { markdownCodec } from './markdown.js';

const LABEL = JSON.stringify({
  Label: '1',
  ContentProducer: '001191100000000000000000X10001',
  ProduceID: "it's #1: a [draft]",
  ReservedCode1: 'c2ln',
  ContentPropagator: '001191100000000000000000X10001',
  PropagateID: '标识-1',
  ReservedCode2: '',
});
const RELABEL = LABEL.replace('X10001","PropagateID', 'X20002","PropagateID');

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array): string => new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);

async function write(text: string | Uint8Array, value: string): Promise<string> {
  const sink = new BufferSink();
  await markdownCodec.write(bufferSource(typeof text === 'string' ? enc(text) : text), value, sink);
  return dec(sink.bytes());
}

async function remove(text: string): Promise<string> {
  const sink = new BufferSink();
  await markdownCodec.remove(bufferSource(enc(text)), sink);
  return dec(sink.bytes());
}

async function read(text: string): Promise<string | undefined> {
  return (await markdownCodec.read(bufferSource(enc(text))))[0]?.value;
}

async function payloadHash(text: string): Promise<string> {
  const bytes = enc(text);
  const hash = createHash('sha256');
  for (const range of await markdownCodec.payloadRanges(bufferSource(bytes))) hash.update(bytes.subarray(range.start, range.end));
  return hash.digest('hex');
}

/** The front matter as the `yaml` package parses it, found with a plain regular expression. */
function frontMatter(text: string): Record<string, unknown> {
  const match = /^(?:\uFEFF)?---\r?\n([\s\S]*?)^(?:---|\.\.\.)\s*$/m.exec(text);
  expect(match, 'front matter').not.toBeNull();
  return parse(match?.[1] ?? '') as Record<string, unknown>;
}

const BODY = '# Title\n\nSome *generated* text.\n\n---\n\nAfter a thematic break.\n';
const WITH_FRONT_MATTER = '---\ntitle: "Report"   # shown in the page header\ntags: [ai, report]\n# reviewers below\nreviewers:\n  - 张三\n---\n' + BODY;

describe('markdown codec', () => {
  it('detects front matter only', () => {
    expect(markdownCodec.detect(enc(WITH_FRONT_MATTER))).toBe(true);
    expect(markdownCodec.detect(enc(`\uFEFF${WITH_FRONT_MATTER}`))).toBe(true);
    expect(markdownCodec.detect(enc(BODY))).toBe(false);
    expect(markdownCodec.detect(enc('---\nno closing line'))).toBe(false);
  });

  it('creates front matter holding only the label, and removes it again', async () => {
    const labeled = await write(BODY, LABEL);
    expect(labeled).toBe(`---\nAIGC: '${LABEL.replace(/'/g, "''")}'\n---\n${BODY}`);
    expect(frontMatter(labeled).AIGC).toBe(LABEL);
    expect(await read(labeled)).toBe(LABEL);
    expect(await payloadHash(labeled)).toBe(await payloadHash(BODY));
    expect(await remove(labeled)).toBe(BODY);
  });

  it('keeps a byte order mark first and CRLF line ends', async () => {
    const crlf = `\uFEFF${BODY.replace(/\n/g, '\r\n')}`;
    const labeled = await write(crlf, LABEL);
    expect(labeled.startsWith('\uFEFF---\r\nAIGC: ')).toBe(true);
    expect(labeled.replace(/\r\n/g, '')).not.toContain('\n');
    expect(frontMatter(labeled).AIGC).toBe(LABEL);
    expect(await payloadHash(labeled)).toBe(await payloadHash(crlf));
    expect(await remove(labeled)).toBe(crlf);
  });

  it('adds the key to existing front matter, keeping keys and comments byte for byte', async () => {
    const labeled = await write(WITH_FRONT_MATTER, LABEL);
    const line = `AIGC: '${LABEL.replace(/'/g, "''")}'\n`;
    expect(labeled).toBe(WITH_FRONT_MATTER.replace('  - 张三\n---', `  - 张三\n${line}---`));
    expect(frontMatter(labeled)).toEqual({ title: 'Report', tags: ['ai', 'report'], reviewers: ['张三'], AIGC: LABEL });
    const relabeled = await write(labeled, RELABEL);
    expect(relabeled).toBe(labeled.replace(line, `AIGC: '${RELABEL.replace(/'/g, "''")}'\n`));
    expect(await remove(relabeled)).toBe(WITH_FRONT_MATTER);
    for (const text of [labeled, relabeled]) expect(await payloadHash(text)).toBe(await payloadHash(WITH_FRONT_MATTER));
  });

  it('edits CRLF front matter with CRLF lines', async () => {
    const crlf = WITH_FRONT_MATTER.replace(/\n/g, '\r\n');
    const labeled = await write(crlf, LABEL);
    expect(labeled.replace(/\r\n/g, '')).not.toContain('\n');
    expect(frontMatter(labeled).AIGC).toBe(LABEL);
    expect(await remove(labeled)).toBe(crlf);
  });

  it('reads and replaces labels other tools wrote as mappings', async () => {
    const flow = '---\ntitle: x\nAIGC: {"Label": "3", "ContentProducer": "p"}   # by another tool\ndate: 2025-09-01\n---\nbody\n';
    expect(await read(flow)).toBe('{"Label":"3","ContentProducer":"p"}');
    const block = '---\nAIGC:\n  Label: "2"\n  ProduceID: abc\ntitle: x\n---\nbody\n';
    expect(await read(block)).toBe('{"Label":"2","ProduceID":"abc"}');
    const replaced = await write(block, LABEL);
    expect(frontMatter(replaced)).toEqual({ AIGC: LABEL, title: 'x' });
    expect(replaced.endsWith('title: x\n---\nbody\n')).toBe(true);
    expect(await remove(flow)).toBe('---\ntitle: x\ndate: 2025-09-01\n---\nbody\n');
  });

  it('double-quotes values a single-quoted scalar cannot hold, and YAML reads them back exactly', async () => {
    for (const value of ['{"a":"tab\there"}', 'line\nbreak', '\u0085\u2028', "quote ' and \\ backslash"]) {
      const labeled = await write(BODY, value);
      expect(frontMatter(labeled).AIGC).toBe(value);
      expect(await read(labeled)).toBe(value);
    }
  });

  it('treats a lone opening --- as a thematic break, not front matter', async () => {
    const text = '---\n\nText after a rule.\n';
    const labeled = await write(text, LABEL);
    expect(labeled.endsWith(`---\n${text}`)).toBe(true);
    expect(await read(labeled)).toBe(LABEL);
  });

  it('copies a file without a label unchanged on remove', async () => {
    for (const text of [BODY, WITH_FRONT_MATTER]) expect(await remove(text)).toBe(text);
  });

  it('copies a large body through unchanged', async () => {
    const big = `${WITH_FRONT_MATTER}${'lorem ipsum '.repeat(400_000)}`;
    const labeled = await write(big, LABEL);
    expect(labeled.endsWith(big.slice(WITH_FRONT_MATTER.indexOf('# Title')))).toBe(true);
    expect(await payloadHash(labeled)).toBe(await payloadHash(big));
  });

  it('rejects front matter it cannot edit with LabelFormatError', async () => {
    const cases: [string | Uint8Array, RegExp][] = [
      ['+++\ntitle = "x"\n+++\nbody\n', /TOML/],
      ['---\ntitle: [unclosed\n---\nbody\n', /not valid YAML/],
      ['---\n- a\n- b\n---\nbody\n', /not a YAML block mapping/],
      ['---\n{title: x}\n---\nbody\n', /not a YAML block mapping/],
      ['---\nAIGC: 1\nAIGC: 2\n---\n', /not valid YAML/],
      [`---\na: ${'['.repeat(100_000)}\n---\n`, /deeper than 64/],
      [Uint8Array.from([...enc('---\ntitle: '), 0xff, 0xfe, ...enc('\n---\nbody\n')]), /not valid UTF-8/],
    ];
    for (const [text, message] of cases) {
      const error = await write(text, LABEL).catch((e: unknown) => e);
      expect(error, String(text)).toBeInstanceOf(LabelFormatError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('refuses an alias bomb in an AIGC mapping', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(', ')}]`);
    const bomb = `---\n${levels.join('\n')}\nAIGC: {k: *i}\n---\n`;
    await expect(read(bomb)).rejects.toThrow(LabelFormatError);
  });

  it('survives flipped bytes with a typed error or a result', async () => {
    let state = 0xbeef;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    const original = enc(await write(WITH_FRONT_MATTER, LABEL));
    for (let round = 0; round < 300; round++) {
      const bytes = original.slice();
      for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) bytes[Math.floor(next() * 400)] = Math.floor(next() * 256);
      const source = bufferSource(bytes);
      for (const attempt of [() => markdownCodec.read(source), () => markdownCodec.write(source, LABEL, new BufferSink()), () => markdownCodec.remove(source, new BufferSink())]) {
        await attempt().catch((error: unknown) => {
          if (!(error instanceof LabelFormatError)) throw error;
        });
      }
    }
  });
});
