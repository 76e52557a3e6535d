import { describe, expect, it } from 'vitest';
import { compileLibrary, parseLibrary, scanText } from '../safety/index.js';
import { mergeLibraries } from './live-keywords.js';

describe('mergeLibraries', () => {
  it('keeps each library\'s noise setting on its own entries', () => {
    const strict = parseLibrary({ name: 'strict', noise: ['invisible'], entries: [{ keyword: '台独', risk: 'A1.3' }] });
    const loose = parseLibrary({ name: 'loose', entries: [{ keyword: '法轮', risk: 'A1.8' }] });
    const merged = compileLibrary(mergeLibraries([strict, loose]));
    expect(scanText(merged, '台 独 法 轮').map((m) => m.keyword)).toEqual(['法轮']);
    expect(scanText(merged, '台独').map((m) => m.keyword)).toEqual(['台独']);
  });
});
