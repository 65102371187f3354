/**
 * Equality of two normalised answers: structure first (lists, tuples, intervals,
 * matrices, equations, inequalities), then scalar equality by string, number,
 * sampled numeric evaluation and finally the compute-engine.
 */
import { answerKey } from './normalize.js';
import { parseAnswer, isName, type Answer, type RelOp } from './structure.js';
import { EvalUnsupported, sampleEqual, sampleProportional, type MathJson } from './evaluate.js';
import { engineEqual, parseLatex, MAX_ENGINE_INPUT } from './symbolic.js';

/** Per-call state: the deadline and which methods decided equalities. */
export interface CompareContext {
  /** `Date.now()` value after which expensive steps are skipped. */
  deadline: number;
  relTol: number;
  /** Allow the compute-engine fallback. */
  symbolic: boolean;
  /** Methods that decided an equality ("string", "number", "numeric-sampling", …). */
  methods: Set<string>;
  /** Set when a step was skipped because the deadline passed. */
  timedOut: boolean;
  /**
   * Accept equal normalised strings without parsing (default true). Turning it off is a
   * diagnostic: it shows whether the structural/numeric path alone reaches the verdict.
   */
  stringShortcut: boolean;
}

export function newContext(timeoutMs: number, relTol: number, symbolic: boolean, stringShortcut = true): CompareContext {
  return { deadline: Date.now() + timeoutMs, relTol, symbolic, methods: new Set(), timedOut: false, stringShortcut };
}

function outOfTime(ctx: CompareContext): boolean {
  if (Date.now() > ctx.deadline) ctx.timedOut = true;
  return ctx.timedOut;
}

/** Compares two normalised answers (strings), structure-aware. */
export function equalAnswers(a: string, b: string, ctx: CompareContext): boolean {
  if (ctx.stringShortcut && answerKey(a) === answerKey(b)) {
    ctx.methods.add('string');
    return true;
  }
  return equalStructures(parseAnswer(a), parseAnswer(b), ctx);
}

function unwrapSingle(x: Answer): Answer {
  while (x.kind === 'list' && x.items.length === 1) x = x.items[0];
  return x;
}

/** `name = rhs` with a bare name on the left: the right-hand side as an answer. */
function namedValue(x: Answer): Answer | null {
  if (x.kind === 'relation' && x.ops.length === 1 && x.ops[0] === '=' && isName(x.parts[0])) {
    return parseAnswer(x.parts[1]);
  }
  if (x.kind === 'element' && isName(x.name)) return x.set;
  return null;
}

export function equalStructures(a: Answer, b: Answer, ctx: CompareContext): boolean {
  a = unwrapSingle(a);
  b = unwrapSingle(b);
  if (outOfTime(ctx)) return false;

  // Variable prefixes: `x = 3` vs `3`, `x \in [1,2]` vs `[1,2]`.
  const isRelLike = (x: Answer) => x.kind === 'relation' || x.kind === 'element';
  if (isRelLike(a) !== isRelLike(b)) {
    const va = namedValue(a);
    const vb = namedValue(b);
    if (va && !isRelLike(b)) return equalStructures(va, b, ctx);
    if (vb && !isRelLike(a)) return equalStructures(a, vb, ctx);
    // An inequality against an interval.
    const ia = a.kind === 'relation' ? inequalityAsInterval(a) : null;
    const ib = b.kind === 'relation' ? inequalityAsInterval(b) : null;
    if (ia) return equalStructures(ia, b, ctx);
    if (ib) return equalStructures(a, ib, ctx);
    return false;
  }

  // `a \le x \le b` against `x \in [a, b]`.
  if (a.kind === 'element' && b.kind === 'relation') return equalStructures(b, a, ctx);
  if (a.kind === 'relation' && b.kind === 'element') {
    const interval = inequalityAsInterval(a);
    const middle = a.parts.length === 3 ? a.parts[1] : isName(a.parts[0]) ? a.parts[0] : a.parts[1];
    return interval !== null && answerKey(middle) === answerKey(b.name) && equalStructures(interval, b.set, ctx);
  }

  switch (a.kind) {
    case 'scalar':
      return b.kind === 'scalar' && equalScalars(a.text, b.text, ctx);
    case 'list':
    case 'set':
      if (b.kind !== 'list' && b.kind !== 'set') return false;
      return unorderedEqual(a.items, b.items, ctx);
    case 'union':
      return b.kind === 'union' && unorderedEqual(a.items, b.items, ctx);
    case 'tuple':
      if (b.kind === 'tuple') {
        return a.open === b.open && a.close === b.close && orderedEqual(a.items, b.items, ctx);
      }
      if (b.kind === 'matrix') return vectorEqualsMatrix(a, b, ctx);
      return false;
    case 'matrix':
      if (b.kind === 'tuple') return vectorEqualsMatrix(b, a, ctx);
      if (b.kind !== 'matrix' || a.rows.length !== b.rows.length) return false;
      {
        // A local: TypeScript 5.0 (tslab) drops the narrowing of `b` inside the callback.
        const bRows = b.rows;
        return a.rows.every((row, r) => orderedEqual(row, bRows[r], ctx));
      }
    case 'element':
      if (b.kind !== 'element') return false;
      return answerKey(a.name) === answerKey(b.name) && equalStructures(a.set, b.set, ctx);
    case 'relation':
      return b.kind === 'relation' && equalRelations(a, b, ctx);
  }
}

function orderedEqual(xs: Answer[], ys: Answer[], ctx: CompareContext): boolean {
  if (xs.length !== ys.length) return false;
  for (let k = 0; k < xs.length; k++) if (!equalStructures(xs[k], ys[k], ctx)) return false;
  return true;
}

/** Multiset equality: a perfect matching between items (Kuhn's augmenting paths). */
function unorderedEqual(xs: Answer[], ys: Answer[], ctx: CompareContext): boolean {
  if (xs.length !== ys.length) return false;
  const n = xs.length;
  const memo = new Map<number, boolean>();
  const eq = (i: number, j: number): boolean => {
    const key = i * n + j;
    let v = memo.get(key);
    if (v === undefined) {
      v = equalStructures(xs[i], ys[j], ctx);
      memo.set(key, v);
    }
    return v;
  };
  const matchOfY = new Array<number>(n).fill(-1);
  const tryAssign = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < n; j++) {
      if (seen[j] || !eq(i, j)) continue;
      seen[j] = true;
      if (matchOfY[j] < 0 || tryAssign(matchOfY[j], seen)) {
        matchOfY[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < n; i++) {
    if (!tryAssign(i, new Array<boolean>(n).fill(false))) return false;
    if (outOfTime(ctx)) return false;
  }
  return true;
}

/** A column or row vector written as a matrix equals the same entries as a tuple. */
function vectorEqualsMatrix(t: Extract<Answer, { kind: 'tuple' }>, m: Extract<Answer, { kind: 'matrix' }>, ctx: CompareContext): boolean {
  if (t.open !== '(' && t.open !== '[') return false;
  if (t.open === '(' ? t.close !== ')' : t.close !== ']') return false;
  const column = m.rows.every((r) => r.length === 1) ? m.rows.map((r) => r[0]) : null;
  const row = m.rows.length === 1 ? m.rows[0] : null;
  const entries = column ?? row;
  return entries !== null && orderedEqual(t.items, entries, ctx);
}

const FLIP: Record<RelOp, RelOp> = { '=': '=', '<': '>', '>': '<', '\\le': '\\ge', '\\ge': '\\le', '\\ne': '\\ne' };
const isLess = (op: RelOp) => op === '<' || op === '\\le';
const isGreater = (op: RelOp) => op === '>' || op === '\\ge';

/**
 * A one-variable inequality as an interval tuple: `x > 2` → `(2, \infty)`,
 * `x \le 5` → `(-\infty, 5]`, `2 < x \le 5` → `(2, 5]`. Null for anything else.
 */
export function inequalityAsInterval(r: Extract<Answer, { kind: 'relation' }>): Answer | null {
  const scalar = (text: string): Answer => ({ kind: 'scalar', text });
  const interval = (lo: string, loClosed: boolean, hi: string, hiClosed: boolean): Answer => ({
    kind: 'tuple',
    open: loClosed ? '[' : '(',
    close: hiClosed ? ']' : ')',
    items: [scalar(lo), scalar(hi)],
  });
  if (r.ops.length === 1) {
    let [left, right] = r.parts;
    let op = r.ops[0];
    if (op === '=' || op === '\\ne') return null;
    if (!isName(left) && isName(right)) {
      [left, right] = [right, left];
      op = FLIP[op];
    }
    if (!isName(left) || isName(right)) return null;
    if (isGreater(op)) return interval(right, op === '\\ge', '\\infty', false);
    return interval('-\\infty', false, right, op === '\\le');
  }
  if (r.ops.length === 2 && isName(r.parts[1]) && !isName(r.parts[0]) && !isName(r.parts[2])) {
    const [o1, o2] = r.ops;
    if (isLess(o1) && isLess(o2)) return interval(r.parts[0], o1 === '\\le', r.parts[2], o2 === '\\le');
    if (isGreater(o1) && isGreater(o2)) return interval(r.parts[2], o2 === '\\ge', r.parts[0], o1 === '\\ge');
  }
  return null;
}

/** Normal form `lesser op greater` with op in {<, ≤, =, ≠}. */
function orient(r: Extract<Answer, { kind: 'relation' }>): { ops: RelOp[]; parts: string[] } {
  if (r.ops.every((op) => isGreater(op))) return { ops: [...r.ops].reverse().map((op) => FLIP[op]), parts: [...r.parts].reverse() };
  return { ops: r.ops, parts: r.parts };
}

function equalRelations(a: Extract<Answer, { kind: 'relation' }>, b: Extract<Answer, { kind: 'relation' }>, ctx: CompareContext): boolean {
  // Same name on the left of `=`: compare the right-hand sides structurally
  // (`f(n) = n` vs `f(n)=n`, `x = 1, 2` style values).
  const va = namedValue(a);
  const vb = namedValue(b);
  if (va && vb && answerKey(a.parts[0]) === answerKey(b.parts[0]) && equalStructures(va, vb, ctx)) return true;

  const ia = inequalityAsInterval(a);
  const ib = inequalityAsInterval(b);
  if (ia && ib) return equalStructures(ia, ib, ctx);

  const oa = orient(a);
  const ob = orient(b);
  if (oa.ops.length !== ob.ops.length || oa.ops.some((op, k) => op !== ob.ops[k])) {
    // `y = 2x + 1` vs `2x + 1 = y` have the same op; differing ops can still be the
    // same single relation written mirrored, handled by orient(); otherwise different.
    return false;
  }
  if (ctx.stringShortcut && oa.parts.every((p, k) => answerKey(p) === answerKey(ob.parts[k]))) {
    ctx.methods.add('string');
    return true;
  }
  if (oa.ops.length === 1) {
    // Same set of solutions in the common case: (rhs - lhs) proportional, with a positive
    // factor for inequalities and any nonzero factor for = and ≠.
    const positive = oa.ops[0] !== '=' && oa.ops[0] !== '\\ne';
    const d = (p: string[]) => {
      const l = parseLatex(p[0]);
      const r = parseLatex(p[1]);
      return l !== null && r !== null ? (['Subtract', r, l] as MathJson) : null;
    };
    const da = d(oa.parts);
    const db = d(ob.parts);
    if (da && db && !outOfTime(ctx)) {
      try {
        if (sampleProportional(da, db, ctx.relTol, positive) === 'equal') {
          ctx.methods.add('numeric-sampling');
          return true;
        }
      } catch (e) {
        if (!(e instanceof EvalUnsupported)) throw e;
      }
    }
    return false;
  }
  return oa.parts.every((p, k) => equalScalars(p, ob.parts[k], ctx));
}

const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const SCI_NUMBER = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?:\\times|\\cdot|\*|x)\s*10\s*\^\s*(?:\{\s*([+-]?\d+)\s*\}|([+-]?\d))$/;
const POWER_OF_TEN = /^10\s*\^\s*(?:\{\s*([+-]?\d+)\s*\}|([+-]?\d))$/;

/** A plain decimal or scientific-notation number, else null. */
export function plainNumber(s: string): number | null {
  const t = s.trim();
  if (PLAIN_NUMBER.test(t)) return Number(t);
  let m = SCI_NUMBER.exec(t);
  if (m) return Number(m[1]) * Math.pow(10, Number(m[2] ?? m[3]));
  m = POWER_OF_TEN.exec(t);
  if (m) return Math.pow(10, Number(m[1] ?? m[2]));
  return null;
}

function infinitySign(key: string): number {
  if (key === '\\infty') return 1;
  if (key === '-\\infty') return -1;
  return 0;
}

/** Equality of two single expressions. */
export function equalScalars(a: string, b: string, ctx: CompareContext): boolean {
  const ka = answerKey(a);
  const kb = answerKey(b);
  if (ka === kb && (ctx.stringShortcut || /^[A-Za-z ]+$/.test(a) || infinitySign(ka) !== 0)) {
    ctx.methods.add('string');
    return true;
  }
  const ia = infinitySign(ka);
  const ib = infinitySign(kb);
  if (ia !== 0 || ib !== 0) return false; // equal infinities matched as strings above
  const na = plainNumber(a);
  const nb = plainNumber(b);
  if (na !== null && nb !== null) {
    const equal = Math.abs(na - nb) <= ctx.relTol * Math.max(Math.abs(na), Math.abs(nb)) || na === nb;
    if (equal) ctx.methods.add('number');
    return equal;
  }
  // Plain words (text answers) only match as strings.
  if (/^[A-Za-z ]+$/.test(a) && /^[A-Za-z ]+$/.test(b) && (a.length > 1 || b.length > 1)) return false;
  if (outOfTime(ctx)) return false;
  const ja = parseLatex(a);
  const jb = parseLatex(b);
  if (ja !== null && jb !== null) {
    try {
      const d = sampleEqual(ja, jb, ctx.relTol);
      if (d === 'equal') ctx.methods.add('numeric-sampling');
      if (d !== 'undecided') return d === 'equal';
    } catch (e) {
      if (!(e instanceof EvalUnsupported)) throw e;
    }
  }
  if (!ctx.symbolic || outOfTime(ctx) || a.length > MAX_ENGINE_INPUT || b.length > MAX_ENGINE_INPUT) return false;
  const r = engineEqual(a, b);
  if (r === true) ctx.methods.add('compute-engine');
  return r === true;
}
