import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { systemTool } from '../../test/helpers/system.js';
import type { CorpusItem, FileTally, ReadOptions, Shard } from './read.js';
import { defaultReadOptions, emptyTally, expandPaths, mergeTally, planShards, readFile, readShard } from './read.js';
import { parseCsvRecord } from './read-csv.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-corpus-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(items: AsyncIterable<CorpusItem>): Promise<CorpusItem[]> {
  const out: CorpusItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function readAll(path: string, options: Partial<ReadOptions> = {}): Promise<{ items: CorpusItem[]; tally: FileTally }> {
  const { files } = await expandPaths([path]);
  const tally = emptyTally(path);
  const items = await collect(readFile(files[0]!, { ...defaultReadOptions, ...options }, tally));
  return { items, tally };
}

const gbk = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]); // 你好 in GBK

describe('JSONL', () => {
  const path = join(dir, 'mixed.jsonl');
  writeFileSync(
    path,
    Buffer.concat([
      Buffer.from('\ufeff{"text":"第一行"}\n{"text": "second", "meta": {"lang": "en"}}\r\n\n{"text": broken\n{"other": 1}\n{"text": 42}\n'),
      Buffer.from('{"text":"'),
      gbk,
      Buffer.from('"}\n{"text":"last line without newline"}'),
    ]),
  );

  it('reads every good line and counts each problem with its line number', async () => {
    const { items, tally } = await readAll(path);
    expect(items.map((i) => [i.line, i.text])).toEqual([
      [1, '第一行'],
      [2, 'second'],
      [8, 'last line without newline'],
    ]);
    expect(tally.items).toBe(3);
    expect(tally.blank).toBe(1);
    expect(tally.problems).toEqual({ 'malformed-json': 1, 'missing-field': 1, 'not-text': 1, 'invalid-encoding': 1 });
    expect(tally.samples.map((p) => [p.kind, p.line])).toEqual([
      ['malformed-json', 4],
      ['missing-field', 5],
      ['not-text', 6],
      ['invalid-encoding', 7],
    ]);
    expect(tally.samples[3]!.message).toMatch(/GB 18030/);
    expect(tally.bytes).toBe(readFileSync(path).length);
  });

  it('selects a nested field with a dotted path', async () => {
    const nested = join(dir, 'nested.jsonl');
    writeFileSync(nested, '{"messages":[{"content":"hi"},{"content":"there"}]}\n{"messages":[]}\n');
    const { items, tally } = await readAll(nested, { field: 'messages.1.content' });
    expect(items.map((i) => i.text)).toEqual(['there']);
    expect(tally.problems).toEqual({ 'missing-field': 1 });
  });

  it('decodes GB 18030 files when told so', async () => {
    const path2 = join(dir, 'gbk.txt');
    writeFileSync(path2, Buffer.concat([gbk, Buffer.from('\n'), Buffer.from([0xff, 0xff, 0x0a])]));
    const { items, tally } = await readAll(path2, { encoding: 'gb18030' });
    expect(items.map((i) => i.text)).toEqual(['你好']);
    expect(tally.problems).toEqual({ 'invalid-encoding': 1 });
    expect(tally.samples[0]).toMatchObject({ line: 2, message: 'not valid gb18030' });
  });

  it('reports a line longer than the limit and reads on', async () => {
    const long = join(dir, 'long.jsonl');
    writeFileSync(long, `{"text":"${'x'.repeat(5000)}"}\n{"text":"ok"}\n`);
    const { items, tally } = await readAll(long, { maxRecordBytes: 1000 });
    expect(items.map((i) => [i.line, i.text])).toEqual([[2, 'ok']]);
    expect(tally.problems).toEqual({ 'record-too-long': 1 });
  });

  async function shardedPositions(path: string, shardBytes: number): Promise<{ positions: number[]; texts: string[]; bytes: number; shards: number }> {
    const { files } = await expandPaths([path]);
    const shards = await planShards(files, { shardBytes });
    const total = emptyTally(path);
    const items: CorpusItem[] = [];
    for (const shard of shards) {
      const tally = emptyTally(path);
      items.push(...(await collect(readShard(shard, defaultReadOptions, tally))));
      mergeTally(total, tally);
    }
    return { positions: items.map((i) => i.position), texts: items.map((i) => i.text), bytes: total.bytes, shards: shards.length };
  }

  it('byte-range shards together read every line exactly once, whatever the cut', async () => {
    const big = join(dir, 'big.jsonl');
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ text: `item ${i} ${'字'.repeat(i % 37)}` }));
    writeFileSync(big, `${lines.join('\n')}\n`);
    const whole = await readAll(big);
    for (const shardBytes of [13, 64, 1000, 4096]) {
      const cut = await shardedPositions(big, shardBytes);
      expect(cut.positions).toEqual(whole.items.map((i) => i.position));
      expect(cut.texts).toEqual(whole.items.map((i) => i.text));
      expect(cut.bytes).toBe(whole.tally.bytes);
    }
    // Lines of exactly 20 bytes: cuts right at line starts, one byte before and one after.
    const fixed = join(dir, 'fixed.jsonl');
    writeFileSync(fixed, Array.from({ length: 50 }, (_, i) => `{"text":"n${String(i).padStart(7, '0')}"}\n`).join(''));
    for (const shardBytes of [19, 20, 21, 40]) {
      const cut = await shardedPositions(fixed, shardBytes);
      expect(cut.positions).toEqual(Array.from({ length: 50 }, (_, i) => i * 20));
    }
  });
});

describe('compressed files', () => {
  const lines = '{"text":"一"}\n{"text":"二"}\nnot json\n';

  it('reads gzip and reports a truncated stream without crashing', async () => {
    const path = join(dir, 'a.jsonl.gz');
    const compressed = gzipSync(Buffer.from(lines.repeat(2000)));
    writeFileSync(path, compressed);
    const { items, tally } = await readAll(path);
    expect(items).toHaveLength(4000);
    expect(tally.problems).toEqual({ 'malformed-json': 2000 });
    const cut = join(dir, 'cut.jsonl.gz');
    writeFileSync(cut, compressed.subarray(0, compressed.length - 20));
    const broken = await readAll(cut);
    expect(broken.tally.problems['decompress-error']).toBe(1);
  });

  it.runIf(systemTool('zstd', 'zstd'))('reads zstd and reports a corrupt stream', async () => {
    const plain = join(dir, 'z.jsonl');
    writeFileSync(plain, lines.repeat(1000));
    expect(spawnSync('zstd', ['-q', '-f', plain, '-o', `${plain}.zst`]).status).toBe(0);
    const { items, tally } = await readAll(`${plain}.zst`);
    expect(items).toHaveLength(2000);
    expect(tally.problems).toEqual({ 'malformed-json': 1000 });
    const bad = join(dir, 'bad.jsonl.zst');
    writeFileSync(bad, Buffer.from('this is not zstd at all'));
    const broken = await readAll(bad);
    expect(broken.items).toHaveLength(0);
    expect(broken.tally.problems['decompress-error']).toBe(1);
  });
});

describe('CSV', () => {
  it('parses quoted fields with commas, quotes and newlines, and reports bad records by line', async () => {
    const path = join(dir, 'a.csv');
    writeFileSync(path, 'id,text\n1,plain\n2,"with, comma and ""quotes"""\n3,"two\nlines"\n4,x,extra\n5,"unclosed\n');
    const { items, tally } = await readAll(path);
    expect(items.map((i) => [i.line, i.text])).toEqual([
      [2, 'plain'],
      [3, 'with, comma and "quotes"'],
      [4, 'two\nlines'],
    ]);
    expect(tally.problems).toEqual({ 'malformed-csv': 2 });
    expect(tally.samples.map((p) => p.line)).toEqual([6, 7]);
  });

  it('reports a missing column instead of reading nothing silently', async () => {
    const path = join(dir, 'b.csv');
    writeFileSync(path, 'id,body\n1,x\n');
    const { items, tally } = await readAll(path);
    expect(items).toHaveLength(0);
    expect(tally.problems).toEqual({ 'missing-field': 1 });
  });

  async function shardedCsv(path: string, shardBytes: number): Promise<{ items: CorpusItem[]; tally: FileTally; shards: Shard[] }> {
    const { files } = await expandPaths([path]);
    const shards = await planShards(files, { shardBytes });
    const tally = emptyTally(path);
    const items: CorpusItem[] = [];
    for (const shard of shards) {
      const part = emptyTally(path);
      items.push(...(await collect(readShard(shard, defaultReadOptions, part))));
      mergeTally(tally, part);
    }
    return { items, tally, shards };
  }

  it('byte-range shards cut only at record starts: quoted newlines and quotes across every cut, each record read once', async () => {
    const path = join(dir, 'sharded.csv');
    const records = Array.from({ length: 120 }, (_, i) => {
      const text = [
        `plain ${i}`,
        `"two\nlines ${i}"`,
        `"looks like records:\n${i},fake\n${i + 1},""also fake""\n"`,
        `"quotes ""${i}"", comma, 字 ${'汉'.repeat(i % 9)}"`,
        `"ends with a newline\n"`,
      ][i % 5]!;
      return `${i},${text},"meta\n${i}"`;
    });
    // A BOM, CRLF endings here and there, blank lines, a record with too many fields, and a
    // stray quote near the end that leaves the file inside quotes.
    const body = records.map((r, i) => (i % 7 === 3 ? `${r}\r\n` : i % 11 === 5 ? `${r}\n\n` : `${r}\n`)).join('');
    writeFileSync(path, `\ufeffid,text,meta\n${body}121,x,y,z\n122,"ok",m\n123,"never closed,m\n124,x,m\n`);
    const whole = await readAll(path);
    expect(whole.items.length).toBe(121);
    expect(whole.tally.problems).toEqual({ 'malformed-csv': 2 });
    const size = readFileSync(path).length;
    for (const shardBytes of [1, 7, 13, 64, 333, 1000, 4096, size]) {
      const cut = await shardedCsv(path, shardBytes);
      if (shardBytes < 1000) expect(cut.shards.length).toBeGreaterThan(2);
      expect(cut.shards.every((s) => s.kind === (shardBytes < size ? 'bytes' : 'whole'))).toBe(true);
      expect(cut.items.map((i) => [i.position, i.line, i.text])).toEqual(whole.items.map((i) => [i.position, i.line, i.text]));
      expect(cut.tally.items).toBe(whole.tally.items);
      expect(cut.tally.blank).toBe(whole.tally.blank);
      expect(cut.tally.bytes).toBe(size);
      expect(cut.tally.problems).toEqual(whole.tally.problems);
      expect(cut.tally.samples.map((p) => [p.line, p.position])).toEqual(whole.tally.samples.map((p) => [p.line, p.position]));
    }
  });

  it('a header that does not read is reported once however the file is cut', async () => {
    const path = join(dir, 'bad-header.csv');
    writeFileSync(path, `id,"body\n${Array.from({ length: 50 }, (_, i) => `${i},"x\n${i}"`).join('\n')}\n`);
    const whole = await readAll(path);
    const cut = await shardedCsv(path, 16);
    expect(cut.shards.length).toBeGreaterThan(3);
    expect(cut.items).toHaveLength(0);
    expect(cut.tally.problems).toEqual(whole.tally.problems);
    const missing = join(dir, 'missing-column.csv');
    writeFileSync(missing, `id,body\n${Array.from({ length: 50 }, (_, i) => `${i},"x\n${i}"`).join('\n')}\n`);
    const cutMissing = await shardedCsv(missing, 16);
    expect(cutMissing.items).toHaveLength(0);
    expect(cutMissing.tally.problems).toEqual({ 'missing-field': 1 });
  });

  it('parseCsvRecord', () => {
    expect(parseCsvRecord('a,"b",')).toEqual(['a', 'b', '']);
    expect(parseCsvRecord('a"b')).toHaveProperty('error');
  });
});

describe('Parquet', () => {
  const path = join(dir, 'a.parquet');
  const texts = Array.from({ length: 2500 }, (_, i) => (i % 500 === 7 ? null : `行 ${i}`));
  writeFileSync(path, Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'id', data: texts.map((_, i) => i), type: 'INT32' }, { name: 'text', data: texts, type: 'STRING' }], rowGroupSize: 1000 })));

  it('reads the text column and counts null rows', async () => {
    const { items, tally } = await readAll(path);
    expect(items).toHaveLength(2495);
    expect(items[0]).toMatchObject({ position: 0, text: '行 0' });
    expect(tally.problems).toEqual({ 'missing-field': 5 });
  });

  it('cuts row groups into shards that together read every row once', async () => {
    const { files } = await expandPaths([path]);
    const shards = await planShards(files, { shardBytes: 1 });
    expect(shards.map((s) => [s.kind, s.start, s.end])).toEqual([
      ['rows', 0, 1000],
      ['rows', 1000, 2000],
      ['rows', 2000, 2500],
    ]);
    const positions: number[] = [];
    for (const shard of shards) for await (const item of readShard(shard, defaultReadOptions, emptyTally(path))) positions.push(item.position);
    expect(positions).toEqual((await readAll(path)).items.map((i) => i.position));
  });

  it('reports a broken file and a missing column', async () => {
    const broken = join(dir, 'broken.parquet');
    writeFileSync(broken, readFileSync(path).subarray(0, 300));
    const { items, tally } = await readAll(broken);
    expect(items).toHaveLength(0);
    expect(tally.problems).toEqual({ 'broken-parquet': 1 });
    const other = await readAll(path, { field: 'body' });
    expect(other.tally.problems).toEqual({ 'missing-field': 1 });
    const shard: Shard = { file: broken, format: 'parquet', compression: 'none', kind: 'whole', start: 0, end: 300 };
    expect((await planShards([{ path: broken, format: 'parquet', compression: 'none', size: 300 }], { shardBytes: 10 }))[0]).toEqual(shard);
  });

  it('reports a row group whose pages are corrupt, and reads the others', async () => {
    const bytes = Buffer.from(readFileSync(path));
    // Overwrite the page header of the second row group's text column (at byte 12126 in this file).
    bytes.fill(0xab, 12126, 12400);
    const corrupt = join(dir, 'corrupt.parquet');
    writeFileSync(corrupt, bytes);
    const { items, tally } = await readAll(corrupt);
    const lost = tally.problems['broken-parquet'] ?? 0;
    expect(lost).toBeGreaterThan(0);
    expect(items.length + lost + (tally.problems['missing-field'] ?? 0) + (tally.problems['invalid-encoding'] ?? 0)).toBeLessThanOrEqual(2500);
  });
});

describe('folders', () => {
  it('walks folders in name order and lists what it cannot read', async () => {
    const root = join(dir, 'folder');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'b.txt'), 'one\ntwo\n');
    writeFileSync(join(root, 'sub', 'a.jsonl'), '{"text":"x"}\n');
    writeFileSync(join(root, 'README.pdf'), 'x');
    const { files, skipped } = await expandPaths([root]);
    expect(files.map((f) => [f.path.slice(root.length), f.format])).toEqual([
      ['/b.txt', 'text'],
      ['/sub/a.jsonl', 'jsonl'],
    ]);
    expect(skipped.map((s) => s.path.slice(root.length))).toEqual(['/README.pdf']);
    // Names (what sampling keys hash) are relative to the root; a file named directly is its base name.
    expect(files.map((f) => f.name)).toEqual(['b.txt', 'sub/a.jsonl']);
    expect((await expandPaths([join(root, 'sub', 'a.jsonl')])).files.map((f) => f.name)).toEqual(['a.jsonl']);
    // Several roots: a folder root's own name comes first; a name given twice gets #2.
    const several = await expandPaths([root, join(root, 'sub'), join(root, 'b.txt')]);
    expect(several.files.map((f) => f.name)).toEqual(['folder/b.txt', 'folder/sub/a.jsonl', 'sub/a.jsonl', 'b.txt']);
    expect((await expandPaths([join(root, 'b.txt'), join(root, 'b.txt')])).files.map((f) => f.name)).toEqual(['b.txt', 'b.txt#2']);
    expect((await planShards(several.files, { shardBytes: 1 })).map((s) => s.name)).toContain('folder/sub/a.jsonl');
    await expect(expandPaths([join(root, 'README.pdf')])).rejects.toThrow(/unknown corpus format/);
    await expect(expandPaths([join(root, 'missing')])).rejects.toThrow(/ENOENT/);
  });

  it('reads a text file as one item when asked', async () => {
    const path = join(dir, 'doc.md');
    writeFileSync(path, '# title\n\nbody\n');
    const { items } = await readAll(path, { textUnit: 'file' });
    expect(items.map((i) => i.text)).toEqual(['# title\n\nbody\n']);
  });
});
