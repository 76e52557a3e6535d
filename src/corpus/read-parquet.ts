/**
 * @module corpus/read-parquet
 * Parquet through hyparquet (pure JavaScript), with its compressors package for the codecs
 * beyond Snappy (gzip, brotli, zstd, lz4). Rows are read a slice at a time, only the column
 * that holds the text, so memory stays bounded by a slice of one column. A file whose footer
 * cannot be read, or a slice that does not decode, is reported with its row range; the other
 * slices are still read.
 */
import type * as HyparquetModule from 'hyparquet';
import type { CorpusItem, FileTally, ReadOptions, Shard } from './read.js';
import { addProblem, fieldPath, pathValue, TextDecoding } from './read.js';

/** Rows decoded at a time. */
const SLICE_ROWS = 4096;


async function modules(): Promise<{ hyparquet: typeof HyparquetModule; compressors: Record<string, unknown> }> {
  const hyparquet = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  return { hyparquet, compressors: compressors as Record<string, unknown> };
}

/** Each row group's rows and compressed bytes, or undefined when the footer cannot be read. */
export async function parquetRowGroups(path: string): Promise<{ rowStart: number; rowEnd: number; bytes: number }[] | undefined> {
  const { hyparquet } = await modules();
  try {
    const file = await hyparquet.asyncBufferFromFile(path);
    const metadata = await hyparquet.parquetMetadataAsync(file);
    let row = 0;
    return metadata.row_groups.map((group) => {
      const rows = Number(group.num_rows);
      const range = { rowStart: row, rowEnd: row + rows, bytes: Number(group.total_byte_size) };
      row += rows;
      return range;
    });
  } catch {
    return undefined;
  }
}

export async function* readParquetShard(shard: Shard, options: ReadOptions, tally: FileTally): AsyncGenerator<CorpusItem> {
  const { hyparquet, compressors } = await modules();
  const decoding = new TextDecoding(options.encoding);
  const path = fieldPath(options.field);
  const column = path[0]!;
  let file;
  let metadata;
  try {
    file = await hyparquet.asyncBufferFromFile(shard.file);
    metadata = await hyparquet.parquetMetadataAsync(file);
  } catch (error) {
    addProblem(tally, { kind: 'broken-parquet', message: `not a readable Parquet file: ${(error as Error).message}; the file was not read` });
    return;
  }
  const total = Number(metadata.num_rows);
  const names = metadata.schema.slice(1).map((element) => element.name);
  if (!names.includes(column)) {
    addProblem(tally, { kind: 'missing-field', message: `no column "${column}" (columns: ${names.slice(0, 20).join(', ')}); the file was not read` });
    return;
  }
  const first = shard.kind === 'rows' ? shard.start : 0;
  const last = shard.kind === 'rows' ? Math.min(shard.end, total) : total;
  const bytesPerRow = total === 0 ? 0 : file.byteLength / total;
  for (let start = first; start < last; start += SLICE_ROWS) {
    const end = Math.min(last, start + SLICE_ROWS);
    let rows: Record<string, unknown>[];
    try {
      rows = await hyparquet.parquetReadObjects({ file, metadata, columns: [column], rowStart: start, rowEnd: end, compressors: compressors as never });
    } catch (error) {
      addProblem(tally, { kind: 'broken-parquet', position: start, message: `rows ${start}-${end - 1} do not decode: ${(error as Error).message}` }, end - start);
      continue;
    }
    tally.bytes += Math.round((end - start) * bytesPerRow);
    for (let i = 0; i < rows.length; i += 1) {
      const row = start + i;
      const value = pathValue(rows[i], path);
      if (value === undefined || value === null) {
        addProblem(tally, { kind: 'missing-field', position: row, message: `row ${row}: no value in "${options.field}"` });
        continue;
      }
      let text: string;
      if (typeof value === 'string') text = value;
      else if (value instanceof Uint8Array) {
        const decoded = decoding.decode(value);
        if ('error' in decoded) {
          addProblem(tally, { kind: 'invalid-encoding', position: row, message: `row ${row}: ${decoded.error}` });
          continue;
        }
        text = decoded.text;
      } else {
        addProblem(tally, { kind: 'not-text', position: row, message: `row ${row}: "${options.field}" is ${typeof value}, not text` });
        continue;
      }
      if (text.trim() === '') {
        tally.blank += 1;
        continue;
      }
      tally.items += 1;
      yield { file: shard.file, position: row, text };
    }
  }
}
