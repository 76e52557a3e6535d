import { describe, expect, it } from 'vitest';
import { compileLibrary, defaultPolicy, parseLibrary, SafetyGuard, type SafetyPolicy } from '../safety/index.js';
import { PolicyGuard } from './guard.js';
import type { Caller } from './identity.js';

const library = compileLibrary(parseLibrary({ name: 't', entries: [{ keyword: 'badword', risk: 'A1.6' }, { keyword: 'rudeword', risk: 'A4.3' }] }));
const policy: SafetyPolicy = { ...defaultPolicy, rules: [{ target: 'A1', action: 'block' }, { target: 'A4', action: 'redact' }] };
const guard = new PolicyGuard(new SafetyGuard({ library, policy, pii: false }));
const adult: Caller = { user: { id: 'u1', name: 'a', verified: true, minor: false, createdAt: '', disabledAt: null }, pseudonym: 'u1', auth: 'key', verified: true, minor: false };

function streamed(chunks: string[]): { text: string; blocked: boolean } {
  const stream = guard.stream('output', adult);
  let text = '';
  for (const chunk of chunks) {
    const step = stream.feed(chunk);
    text += step.text;
    if (step.blocked) return { text, blocked: true };
  }
  const last = stream.end();
  return { text: text + last.text, blocked: last.blocked };
}

describe('PolicyGuard on a stream', () => {
  it('holds a possible keyword start until the next chunk decides it', () => {
    const stream = guard.stream('output', adult);
    expect(stream.feed('say bad').text).toBe('say ');
    expect(stream.feed('ge').text).toBe('badge');
  });

  it('cuts at the start of a blocked hit, whatever the chunking', () => {
    for (const chunks of [['x badword y'], [...'x badword y'], ['x ba', 'dwo', 'rd y']]) {
      expect(streamed(chunks)).toEqual({ text: 'x ', blocked: true });
    }
  });

  it('masks a redacted hit and goes on', () => {
    expect(streamed([...'a rudeword b'])).toEqual({ text: 'a ******** b', blocked: false });
  });

  it('decides whole texts with the same policy', () => {
    expect(guard.check('a rudeword b', 'input', adult)).toMatchObject({ action: 'redact', text: 'a ******** b' });
    expect(guard.check('a badword', 'input', adult).action).toBe('block');
  });
});
