import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TextDigest } from './labels.js';

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

function digestOf(pieces: readonly string[], algorithm = 'sha256'): Buffer {
  const digest = new TextDigest(algorithm);
  for (const piece of pieces) digest.update(piece);
  return digest.digest();
}

describe('TextDigest (the running hash a streamed answer is signed over)', () => {
  it('is the SHA-256 of the whole text, from no delta, one, or many small ones', () => {
    expect(digestOf([])).toEqual(sha256(''));
    expect(digestOf(['Paris is the capital of France.'])).toEqual(sha256('Paris is the capital of France.'));
    const pieces = '本内容由人工智能生成\n\none two three four'.match(/[\s\S]{1,3}/gu) as string[];
    expect(digestOf(pieces)).toEqual(sha256(pieces.join('')));
  });

  it('hashes a long answer in batches to the same digest', () => {
    const pieces = Array.from({ length: 20_000 }, (_, i) => `w${i} `);
    const text = pieces.join('');
    expect(text.length).toBeGreaterThan(3 * 16 * 1024);
    expect(digestOf(pieces)).toEqual(sha256(text));
    expect(digestOf([text, 'end'])).toEqual(sha256(`${text}end`));
  });

  it('hashes a character whose two halves come in two deltas whole, at a batch boundary too', () => {
    const emoji = '😀';
    expect(digestOf(['a', emoji.slice(0, 1), emoji.slice(1), 'b'])).toEqual(sha256(`a${emoji}b`));
    const filler = 'x'.repeat(16 * 1024 - 1);
    expect(digestOf([filler + emoji.slice(0, 1), emoji.slice(1), 'tail'])).toEqual(sha256(`${filler}${emoji}tail`));
  });

  it('uses the algorithm it is given', () => {
    const pieces = ['国家', '标准'];
    expect(digestOf(pieces, 'sha512')).toEqual(createHash('sha512').update('国家标准').digest());
  });
});
