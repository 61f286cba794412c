/**
 * The expression language of a monitoring scheme's word fields (地域词, 主体词, 人物词, 事件词, 排除词):
 *
 *   expr := and ('|' and)*        `|` or
 *   and  := atom ('+' atom)*      `+` and (binds tighter than `|`)
 *   atom := term | '(' expr ')'
 *
 * A term is any run of characters other than the operators; surrounding spaces are trimmed.
 * Full-width operators (｜ ＋ （ ）) are accepted because that is what a Chinese keyboard types.
 * Positions in errors and in the tree are UTF-16 offsets into the expression, counted from 0.
 */
export type SchemeExpression =
  | { type: 'term'; term: string; position: number }
  | { type: 'and'; items: SchemeExpression[] }
  | { type: 'or'; items: SchemeExpression[] };

export class SchemeSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at position ${position}`);
    this.name = 'SchemeSyntaxError';
  }
}

const OPERATOR: Record<string, '|' | '+' | '(' | ')'> = { '|': '|', '｜': '|', '+': '+', '＋': '+', '(': '(', '（': '(', ')': ')', '）': ')' };

type Token = { kind: '|' | '+' | '(' | ')'; position: number } | { kind: 'term'; term: string; position: number } | { kind: 'end'; position: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const op = OPERATOR[ch];
    if (op) {
      tokens.push({ kind: op, position: i });
      i++;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && !OPERATOR[text[i]!]) i++;
    const raw = text.slice(start, i);
    tokens.push({ kind: 'term', term: raw.trim(), position: start });
  }
  tokens.push({ kind: 'end', position: text.length });
  return tokens;
}

function describe(token: Token): string {
  if (token.kind === 'end') return 'end of expression';
  if (token.kind === 'term') return `term "${token.term}"`;
  return `"${token.kind}"`;
}

/** Parses an expression; throws {@link SchemeSyntaxError} naming the position of the first problem. */
export function parseSchemeExpression(text: string): SchemeExpression {
  const tokens = tokenize(text);
  let k = 0;
  const peek = () => tokens[k]!;

  const parseOr = (): SchemeExpression => {
    const items = [parseAnd()];
    while (peek().kind === '|') {
      k++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  };
  const parseAnd = (): SchemeExpression => {
    const items = [parseAtom()];
    while (peek().kind === '+') {
      k++;
      items.push(parseAtom());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  };
  const parseAtom = (): SchemeExpression => {
    const token = peek();
    if (token.kind === 'term') {
      k++;
      return { type: 'term', term: token.term, position: token.position };
    }
    if (token.kind === '(') {
      k++;
      const inner = parseOr();
      const close = peek();
      if (close.kind !== ')') throw new SchemeSyntaxError(`missing ")" for the "(" at position ${token.position}, found ${describe(close)}`, close.position);
      k++;
      return inner;
    }
    throw new SchemeSyntaxError(`expected a word or "(", found ${describe(token)}`, token.position);
  };

  const tree = parseOr();
  const rest = peek();
  if (rest.kind !== 'end') {
    throw new SchemeSyntaxError(rest.kind === ')' ? 'unmatched ")"' : `expected "|" or "+", found ${describe(rest)}`, rest.position);
  }
  return tree;
}

/** Every distinct term of an expression, in first-seen order. */
export function termsOf(expression: SchemeExpression, into: string[] = []): string[] {
  if (expression.type === 'term') {
    if (!into.includes(expression.term)) into.push(expression.term);
  } else {
    for (const item of expression.items) termsOf(item, into);
  }
  return into;
}

/** Evaluates with `has(term)` telling whether a term was found. */
export function evaluateSchemeExpression(expression: SchemeExpression, has: (term: string) => boolean): boolean {
  switch (expression.type) {
    case 'term':
      return has(expression.term);
    case 'and':
      return expression.items.every((e) => evaluateSchemeExpression(e, has));
    case 'or':
      return expression.items.some((e) => evaluateSchemeExpression(e, has));
  }
}
