/**
 * One automaton (Aho–Corasick) over every term of every pack, scanning a text once and reporting
 * every overlapping match with its offsets (UTF-16 code units) in the original text.
 * Deliberately left out here: folding (width, case, traditional forms), interference skipping
 * and repeat collapsing — those widen what a term matches and belong to the classification issue.
 */
export interface MatcherTerm<P> {
  term: string;
  payload: P;
}

export interface Match<P> {
  start: number;
  /** Exclusive. */
  end: number;
  term: string;
  payload: P;
}

interface Node {
  next: Map<number, number>;
  fail: number;
  /** Indices into `terms` that end at this node, including via fail links (merged at build). */
  out: number[];
}

export class Matcher<P> {
  private readonly nodes: Node[] = [{ next: new Map(), fail: 0, out: [] }];
  private readonly terms: MatcherTerm<P>[];

  constructor(terms: readonly MatcherTerm<P>[]) {
    this.terms = terms.filter((t) => t.term.length > 0);
    this.terms.forEach((t, index) => this.insert(t.term, index));
    this.linkFailures();
  }

  get size(): number {
    return this.terms.length;
  }

  private insert(term: string, index: number): void {
    let state = 0;
    for (let i = 0; i < term.length; i++) {
      const code = term.charCodeAt(i);
      let next = this.nodes[state]!.next.get(code);
      if (next === undefined) {
        next = this.nodes.length;
        this.nodes.push({ next: new Map(), fail: 0, out: [] });
        this.nodes[state]!.next.set(code, next);
      }
      state = next;
    }
    this.nodes[state]!.out.push(index);
  }

  private linkFailures(): void {
    const queue: number[] = [];
    for (const child of this.nodes[0]!.next.values()) queue.push(child);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      const node = this.nodes[state]!;
      for (const [code, child] of node.next) {
        let fail = node.fail;
        while (fail !== 0 && !this.nodes[fail]!.next.has(code)) fail = this.nodes[fail]!.fail;
        const target = this.nodes[fail]!.next.get(code);
        const childNode = this.nodes[child]!;
        childNode.fail = target !== undefined && target !== child ? target : 0;
        childNode.out.push(...this.nodes[childNode.fail]!.out);
        queue.push(child);
      }
    }
  }

  /** All matches, ordered by end offset then by longer term first. */
  scan(text: string): Match<P>[] {
    const matches: Match<P>[] = [];
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      while (state !== 0 && !this.nodes[state]!.next.has(code)) state = this.nodes[state]!.fail;
      state = this.nodes[state]!.next.get(code) ?? 0;
      for (const index of this.nodes[state]!.out) {
        const t = this.terms[index]!;
        matches.push({ start: i + 1 - t.term.length, end: i + 1, term: t.term, payload: t.payload });
      }
    }
    return matches;
  }
}
