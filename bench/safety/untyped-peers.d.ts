/** Benchmark peers that ship without type declarations: the parts of their APIs we call. */
declare module 'fastscan' {
  export default class FastScanner {
    constructor(words: string[]);
    search(content: string, options?: { quick?: boolean; longest?: boolean }): [number, string][];
  }
}

declare module 'string-dsa' {
  const stringDsa: unknown;
  export default stringDsa;
}
