/** Comparison scanners used only by tests and benchmarks; they ship no type declarations. */
declare module 'fastscan' {
  export default class FastScanner {
    constructor(words: string[]);
    search(content: string, options?: { quick?: boolean; longest?: boolean }): [number, string][];
  }
}
