/**
 * Reads the top-level shape of a normalised answer: a list of solutions, a set, a
 * tuple/interval, a union of intervals, a matrix, an equation or inequality, or a
 * single expression. Inner expressions stay LaTeX strings (compared by compare.ts).
 */

/** The shape of an answer. Items are compared recursively. */
export type Answer =
  | { kind: 'scalar'; text: string }
  /** Bare comma-separated answers (`1, 2`), also `\pm` expansions: unordered. */
  | { kind: 'list'; items: Answer[] }
  /** `\{…\}`: unordered. */
  | { kind: 'set'; items: Answer[] }
  /** `(…)`, `[…]`, `(…]`, `[…)`, `\langle…\rangle` with two or more entries: ordered. */
  | { kind: 'tuple'; open: string; close: string; items: Answer[] }
  /** `A \cup B`: unordered parts. */
  | { kind: 'union'; items: Answer[] }
  | { kind: 'matrix'; rows: Answer[][] }
  /** `a = b`, `a < b \le c`: `parts.length === ops.length + 1`. */
  | { kind: 'relation'; ops: RelOp[]; parts: string[] }
  /** `x \in S`. */
  | { kind: 'element'; name: string; set: Answer };

export type RelOp = '=' | '<' | '>' | '\\le' | '\\ge' | '\\ne';

interface Token {
  text: string;
  start: number;
  end: number;
  /** Nesting depth before this token. */
  depth: number;
}

const OPENERS = new Set(['(', '[', '{', '\\{', '\\langle', '\\lfloor', '\\lceil', '\\lvert', '\\begin']);
const CLOSERS = new Set([')', ']', '}', '\\}', '\\rangle', '\\rfloor', '\\rceil', '\\rvert', '\\end']);

/** Splits LaTeX into tokens (commands, single characters) annotated with depth. */
function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < s.length) {
    const start = i;
    let text: string;
    if (s[i] === '\\') {
      const m = /^\\(?:[a-zA-Z]+|.)/.exec(s.slice(i, i + 40));
      text = m ? m[0] : '\\';
    } else {
      text = s[i];
    }
    i += text.length;
    if (text === '\\begin' || text === '\\end') {
      // Swallow the environment name `{pmatrix}` into the token.
      const m = /^\s*\{[a-zA-Z*]*\}/.exec(s.slice(i, i + 40));
      if (m) {
        text += m[0].trim();
        i += m[0].length;
      }
    }
    const bare = text.startsWith('\\begin') ? '\\begin' : text.startsWith('\\end') ? '\\end' : text;
    if (CLOSERS.has(bare)) depth = Math.max(0, depth - 1);
    tokens.push({ text, start, end: i, depth });
    if (OPENERS.has(bare)) depth++;
  }
  return tokens;
}

/** Splits at top-level tokens for which `isSep` holds, returning trimmed pieces. */
function splitTop(s: string, tokens: Token[], isSep: (t: string) => boolean): { pieces: string[]; seps: string[] } {
  const pieces: string[] = [];
  const seps: string[] = [];
  let from = 0;
  for (const t of tokens) {
    if (t.depth === 0 && isSep(t.text)) {
      pieces.push(s.slice(from, t.start).trim());
      seps.push(t.text);
      from = t.end;
    }
  }
  pieces.push(s.slice(from).trim());
  return { pieces, seps };
}

const REL_TOKENS: Record<string, RelOp> = {
  '=': '=',
  '<': '<',
  '>': '>',
  '\\le': '\\le',
  '\\ge': '\\ge',
  '\\ne': '\\ne',
  '\\approx': '=',
  '\\equiv': '=',
};

const MATRIX_ENV = /^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?([\s\S]*)\\end\{\1\}$/;

/** Limits so a pathological answer cannot make parsing or comparing blow up. */
const MAX_ITEMS = 64;
const MAX_DEPTH = 6;

/** Parses a normalised answer into its top-level shape. */
export function parseAnswer(s: string, depth = 0): Answer {
  s = s.trim();
  if (depth > MAX_DEPTH || s.length === 0) return { kind: 'scalar', text: s };
  const tokens = tokenize(s);

  const matrix = MATRIX_ENV.exec(s);
  if (matrix) {
    const body = matrix[2];
    const rows = body
      .split(/\\\\/)
      .map((r) => r.trim())
      .filter((r) => r !== '')
      .map((r) => r.split('&').map((c) => parseAnswer(c.trim(), depth + 1)));
    if (rows.length > 0 && rows.length <= MAX_ITEMS) return { kind: 'matrix', rows };
  }

  // `x \in S`
  const inSplit = splitTop(s, tokens, (t) => t === '\\in');
  if (inSplit.pieces.length === 2 && inSplit.pieces[0] !== '' && inSplit.pieces[1] !== '') {
    return { kind: 'element', name: inSplit.pieces[0], set: parseAnswer(inSplit.pieces[1], depth + 1) };
  }

  const commas = splitTop(s, tokens, (t) => t === ',' || t === ';');
  if (commas.pieces.length > 1) {
    const pieces = commas.pieces.filter((p) => p !== '');
    if (pieces.length === 1) return parseAnswer(pieces[0], depth + 1);
    if (pieces.length <= MAX_ITEMS) return { kind: 'list', items: pieces.map((p) => parseAnswer(p, depth + 1)) };
  }

  const wrapped = wrappedGroup(s, tokens);
  if (wrapped) {
    const innerTokens = tokenize(wrapped.inner);
    const inner = splitTop(wrapped.inner, innerTokens, (t) => t === ',' || t === ';').pieces;
    if (wrapped.open === '\\{') {
      const items = inner.filter((p) => p !== '').map((p) => parseAnswer(p, depth + 1));
      return { kind: 'set', items };
    }
    if (inner.length >= 2 && inner.length <= MAX_ITEMS) {
      return {
        kind: 'tuple',
        open: wrapped.open,
        close: wrapped.close,
        items: inner.map((p) => parseAnswer(p, depth + 1)),
      };
    }
    if (wrapped.open === '(' && wrapped.close === ')') return parseAnswer(wrapped.inner, depth + 1);
  }

  const unions = splitTop(s, tokens, (t) => t === '\\cup');
  if (unions.pieces.length > 1 && unions.pieces.every((p) => p !== '')) {
    return { kind: 'union', items: unions.pieces.map((p) => parseAnswer(p, depth + 1)) };
  }

  const rel = splitTop(s, tokens, (t) => t in REL_TOKENS);
  if (rel.pieces.length > 1 && rel.pieces.every((p) => p !== '')) {
    return { kind: 'relation', ops: rel.seps.map((t) => REL_TOKENS[t]), parts: rel.pieces };
  }

  // `a \pm b` is the two answers a + b and a - b.
  const pm = splitTop(s, tokens, (t) => t === '\\pm' || t === '\\mp');
  if (pm.pieces.length === 2) {
    const [a, b] = pm.pieces;
    const first = pm.seps[0] === '\\pm' ? '+' : '-';
    const second = first === '+' ? '-' : '+';
    return {
      kind: 'list',
      items: [
        { kind: 'scalar', text: `${a}${first}${b}` },
        { kind: 'scalar', text: `${a}${second}${b}` },
      ],
    };
  }
  return { kind: 'scalar', text: s };
}

/** When the whole answer is one bracket group, its delimiters and contents. */
function wrappedGroup(s: string, tokens: Token[]): { open: string; close: string; inner: string } | null {
  if (tokens.length < 2) return null;
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  const opens = ['(', '[', '\\{', '\\langle'];
  const closes = [')', ']', '\\}', '\\rangle'];
  if (!opens.includes(first.text) || !closes.includes(last.text)) return null;
  // The first opener must close only at the last token.
  for (let k = 1; k < tokens.length - 1; k++) if (tokens[k].depth === 0) return null;
  if (last.depth !== 0) return null;
  // Set braces must pair with set braces.
  if ((first.text === '\\{') !== (last.text === '\\}')) return null;
  return { open: first.text === '\\langle' ? '(' : first.text, close: last.text === '\\rangle' ? ')' : last.text, inner: s.slice(first.end, last.start) };
}

/**
 * A bare name on the left of `=` that can be dropped (`x = 3` → `3`): a letter or Greek
 * command with an optional subscript/prime, or function notation `f(x)`, `N(n)`.
 */
export function isName(s: string): boolean {
  const t = s.replace(/\s+/g, '');
  return (
    /^(?:[A-Za-z]|\\[a-zA-Z]+)(?:_(?:\{[^{}]*\}|[A-Za-z0-9]))?(?:'|\^\{\\prime\})?$/.test(t) ||
    /^[A-Za-z](?:_(?:\{[^{}]*\}|[A-Za-z0-9]))?\([A-Za-z0-9,]*\)$/.test(t)
  ) && !/^\\(?:infty|pi)$/.test(t);
}
