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
  /** A matrix environment; `text` is its LaTeX, for matrix arithmetic against it. */
  | { kind: 'matrix'; rows: Answer[][]; text: string }
  /**
   * `a = b`, `a < b \le c`: `parts.length === ops.length + 1`. `\approx` and `\equiv` read
   * as `=`; `approxAt` is the index of the first `\approx` among `ops` (-1 when none), so a
   * chain `y = \frac23 \approx 0.67` knows which value is exact.
   */
  | { kind: 'relation'; ops: RelOp[]; parts: string[]; approxAt: number }
  /** `a : b` (`3:8`, `1:2:3`): ordered parts, compared as proportions. */
  | { kind: 'ratio'; parts: string[] }
  /** `x \in S`. */
  | { kind: 'element'; name: string; set: Answer };

export type RelOp = '=' | '<' | '>' | '\\le' | '\\ge' | '\\ne';

export interface Token {
  text: string;
  start: number;
  end: number;
  /** Nesting depth before this token. */
  depth: number;
}

const OPENERS = new Set(['(', '[', '{', '\\{', '\\langle', '\\lfloor', '\\lceil', '\\lvert', '\\begin']);
const CLOSERS = new Set([')', ']', '}', '\\}', '\\rangle', '\\rfloor', '\\rceil', '\\rvert', '\\end']);

/**
 * Splits LaTeX into tokens (commands, single characters) annotated with depth; a
 * `\begin{env}`/`\end{env}` is one token with its environment name.
 */
export function tokenize(s: string): Token[] {
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
export function splitTop(s: string, tokens: Token[], isSep: (t: string) => boolean): { pieces: string[]; seps: string[] } {
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
  // One environment only: `\begin{pmatrix}…\end{pmatrix}+\begin{pmatrix}…\end{pmatrix}` is an expression.
  if (matrix && !matrix[2].includes(`\\end{${matrix[1]}}`)) {
    const body = matrix[2];
    const rows = body
      .split(/\\\\/)
      .map((r) => r.trim())
      .filter((r) => r !== '')
      .map((r) => r.split('&').map((c) => parseAnswer(c.trim(), depth + 1)));
    if (rows.length > 0 && rows.length <= MAX_ITEMS) return { kind: 'matrix', rows, text: s };
  }

  // `x \in S`
  const inSplit = splitTop(s, tokens, (t) => t === '\\in');
  if (inSplit.pieces.length === 2 && inSplit.pieces[0] !== '' && inSplit.pieces[1] !== '') {
    return { kind: 'element', name: inSplit.pieces[0], set: parseAnswer(inSplit.pieces[1], depth + 1) };
  }

  // `;` separates answers that may themselves contain commas: `p=3,q=2; p=5,q=2` is two
  // labelled answers; a group that is a plain list (`1,2; 3`) is flattened into the list.
  const groups = splitTop(s, tokens, (t) => t === ';');
  if (groups.pieces.length > 1) {
    const pieces = groups.pieces.filter((p) => p !== '');
    if (pieces.length === 1) return parseAnswer(pieces[0], depth + 1);
    const items = pieces.flatMap((p) => {
      const a = parseAnswer(p, depth + 1);
      return a.kind === 'list' && !isRecord(a) ? a.items : [a];
    });
    if (items.length <= MAX_ITEMS) return { kind: 'list', items };
  }

  const commas = splitTop(s, tokens, (t) => t === ',');
  if (commas.pieces.length > 1) {
    const pieces = commas.pieces.filter((p) => p !== '');
    if (pieces.length === 1) return parseAnswer(pieces[0], depth + 1);
    if (pieces.length <= MAX_ITEMS) return { kind: 'list', items: pieces.map((p) => parseAnswer(p, depth + 1)) };
  }

  const wrapped = wrappedGroup(s, tokens);
  if (wrapped) {
    const innerTokens = tokenize(wrapped.inner);
    // `;` separates coordinates too, as in `(0;-2;6)`.
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
    return { kind: 'relation', ops: rel.seps.map((t) => REL_TOKENS[t]), parts: rel.pieces, approxAt: rel.seps.indexOf('\\approx') };
  }

  const ratio = splitTop(s, tokens, (t) => t === ':' || t === '\\colon');
  if (ratio.pieces.length > 1 && ratio.pieces.length <= MAX_ITEMS && ratio.pieces.every((p) => p !== '')) {
    return { kind: 'ratio', parts: ratio.pieces };
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
 * A list whose items all label a value with distinct labels (`m = 12, n = 5`): one answer
 * with named parts (an ordered tuple when written against one), not a list of solutions.
 */
export function isRecord(a: Answer): boolean {
  if (a.kind !== 'list' || a.items.length < 2) return false;
  const labels = new Set<string>();
  for (const item of a.items) {
    if (item.kind !== 'relation' || !item.ops.every((op) => op === '=') || !isLabel(item.parts[0])) return false;
    labels.add(item.parts[0].replace(/\s+/g, ''));
  }
  return labels.size === a.items.length;
}

const LABEL_ATOM = String.raw`(?:[A-Za-z]|\\[a-zA-Z]+)(?:_(?:\{[^{}]*\}|[A-Za-z0-9]))?(?:'|\^\{\\prime\})?`;
const LABEL_WORD = new RegExp(
  String.raw`^(?:\\(?:angle|measuredangle|triangle|overline|overrightarrow|vec|widehat|arc|mathrm|text)\s*)?\{?(?:${LABEL_ATOM}){1,6}\}?$`,
);

/**
 * The left side of a labelled answer, which a bare value may stand for: a name
 * ({@link isName}), a segment or figure name (`PQ`, `S_{MBCN}`, `\angle ABC`,
 * `\overline{AB}`, `|AB|`), a tuple of labels (`(a,b)`), a ratio or quotient of labels
 * (`A_1:A_2`, `\frac{NO}{BO}`, `AP/PB`).
 */
export function isLabel(s: string): boolean {
  const t = s.replace(/\s+/g, '');
  if (t === '' || /^\d/.test(t) || /\\(?:infty|pi)(?![a-zA-Z])/.test(t)) return false;
  if (isName(t) || LABEL_WORD.test(t)) return true;
  let m = /^\|(.+)\|$/.exec(t);
  if (m) return isLabel(m[1]);
  m = /^[([](.+)[)\]]$/.exec(t);
  if (m && m[1].includes(',')) return m[1].split(',').every((x) => isLabel(x));
  m = /^\\frac\{([^{}]+)\}\{([^{}]+)\}$/.exec(t);
  if (m) return isLabel(m[1]) && isLabel(m[2]);
  const parts = t.split(/:|\//);
  return parts.length >= 2 && parts.every((x) => x !== '' && isLabel(x));
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
