#!/usr/bin/env node
/**
 * The floor of an atomic in-place rewrite of every file in a folder (issue 14, "batch file
 * work"): the system calls any atomic writer must make per file, and nothing else. No format
 * is parsed and no label is made: each file is read whole, and its bytes plus a fixed 1 KiB
 * (the size of an XMP packet with a TC260 label, appended at the end, so the output is NOT a
 * labelled file) are written to a new temporary file beside it, which is renamed over it.
 *
 * Per file: open, fstat, read, close (readFileSync); open(temp, O_EXCL), write, close
 * (writeFileSync with flag 'wx'); rename. One thread, synchronous calls, one readdir for the
 * folder. bench/label/batch.ts times it as a whole process beside hegui and exiftool, so the
 * table shows how far from what the disk and kernel allow each tool is.
 *
 * Plain JavaScript (no TypeScript loader) so that its start is Node's own.
 *
 * Run: `node bench/label/batch-floor.mjs DIR`
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench/label/batch-floor.mjs DIR');
  process.exit(2);
}
const extra = Buffer.alloc(1024, 0x20);
let count = 0;
for (const entry of readdirSync(dir, { withFileTypes: true })) {
  if (!entry.isFile() || entry.name.startsWith('.')) continue;
  const path = join(dir, entry.name);
  const bytes = readFileSync(path);
  const temp = join(dir, `.${entry.name}.floor-tmp`);
  writeFileSync(temp, Buffer.concat([bytes, extra]), { flag: 'wx' });
  renameSync(temp, path);
  count++;
}
process.stdout.write(`${count} files rewritten\n`);
