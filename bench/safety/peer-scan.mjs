#!/usr/bin/env node
/**
 * `node bench/safety/peer-scan.mjs fastscan|mint-filter WORDS TEXT [--count]`: the npm peers as
 * a command, for the whole-process scan benchmark (bench/safety/cli.ts). Reads the word list
 * (one keyword a line) and the text file, builds the peer's matcher, scans the whole text in
 * one call and prints every hit as a JSON line, as `hegui scan --jsonl` does: fastscan's
 * `{"keyword","start","end"}` (it reports offsets), mint-filter's `{"keyword"}` (it reports
 * only the words), then `{"hits":N}`. With `--count` only the last line is printed.
 * Plain JavaScript run by node, as hegui's built package is: no TypeScript loader in the way.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [tool, wordsFile, textFile] = process.argv.slice(2);
const countOnly = process.argv.includes('--count');
if (tool === undefined || wordsFile === undefined || textFile === undefined) {
  process.stderr.write('usage: peer-scan.mjs fastscan|mint-filter WORDS TEXT [--count]\n');
  process.exit(2);
}
const words = readFileSync(wordsFile, 'utf8').split('\n').filter((w) => w.length > 0);
const text = readFileSync(textFile, 'utf8');

/** Output in 64 KB blocks, as hegui writes it. */
const out = [];
let pending = 0;
const flush = () => {
  if (out.length > 0) process.stdout.write(out.join(''));
  out.length = 0;
  pending = 0;
};
const emit = (line) => {
  out.push(line);
  pending += line.length;
  if (pending >= 65536) flush();
};

let hits = 0;
if (tool === 'fastscan') {
  const FastScanner = require('fastscan');
  const found = new FastScanner(words).search(text);
  hits = found.length;
  if (!countOnly) for (const [start, keyword] of found) emit(`${JSON.stringify({ keyword, start, end: start + keyword.length })}\n`);
} else if (tool === 'mint-filter') {
  const { Mint } = require('mint-filter');
  const found = new Mint(words).filter(text, { replace: false }).words;
  hits = found.length;
  if (!countOnly) for (const keyword of found) emit(`${JSON.stringify({ keyword })}\n`);
} else {
  process.stderr.write(`unknown tool ${tool}\n`);
  process.exit(2);
}
emit(`${JSON.stringify({ hits })}\n`);
flush();
