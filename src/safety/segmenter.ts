/**
 * @module safety/segmenter
 * Chinese word segmentation for entries in word-boundary mode. Chinese runs words together, so
 * a plain substring match finds `台独` in `平台独家` (平台 + 独家); a segmenter says where the
 * words are. The default is jieba (`@node-rs/jieba`, a native binding with its dictionary),
 * loaded on first use and only when a library has a word-boundary entry: it costs about
 * 300 ms and 40 MB, which a library without such entries never pays. Outside Node (a browser
 * or worker) pass a segmenter of your own in `CompileOptions`.
 */
import { KeywordLibraryError } from './errors.js';
import { nodeRequire } from './node-require.js';

/** Cuts a text into words; the words, joined, must give back the text. */
export interface WordSegmenter {
  cut(text: string): string[];
}

interface Jieba {
  cut(sentence: string, hmm?: boolean): string[];
}

let jieba: WordSegmenter | undefined;

/** The shared jieba segmenter (dictionary mode, no HMM guessing of unknown words, so cuts are stable). */
export function defaultSegmenter(): WordSegmenter {
  if (jieba !== undefined) return jieba;
  const require = nodeRequire();
  if (require === undefined) throw new KeywordLibraryError('word-boundary entries need a word segmenter: outside Node, pass one as compileLibrary(library, { segmenter })');
  let instance: Jieba;
  try {
    const { Jieba: JiebaClass } = require('@node-rs/jieba') as { Jieba: { withDict(dict: Uint8Array): Jieba } };
    instance = JiebaClass.withDict(jiebaDictionary(require));
  } catch (cause) {
    throw new KeywordLibraryError(`word-boundary entries need the jieba segmenter, which did not load (${(cause as Error).message}); reinstall hegui's dependencies or drop "words" from the entries`, { cause });
  }
  jieba = { cut: (text) => instance.cut(text, false) };
  return jieba;
}

function jiebaDictionary(require: NodeJS.Require): Uint8Array {
  return (require('@node-rs/jieba/dict') as { dict: Uint8Array }).dict;
}

/**
 * jieba's dictionary as word -> frequency (about 350,000 modern Chinese words), for
 * `lintLibrary`. Node only.
 */
export function jiebaWordFrequencies(): Map<string, number> {
  const require = nodeRequire();
  if (require === undefined) throw new KeywordLibraryError('the jieba dictionary can only be read in Node');
  const words = new Map<string, number>();
  for (const line of new TextDecoder().decode(jiebaDictionary(require)).split('\n')) {
    const [word, frequency] = line.split(' ');
    if (word && frequency) words.set(word, Number(frequency));
  }
  return words;
}
