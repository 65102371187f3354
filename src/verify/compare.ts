/**
 * Equality of a normalised prediction with a normalised gold answer: structure first
 * (lists, tuples, intervals, matrices, equations, inequalities, ratios, labelled values),
 * then sets of reals by membership and matrix arithmetic, then scalar equality by string,
 * number, rounding, sampled numeric evaluation and finally the compute-engine.
 *
 * The order of the arguments matters in one way only: a prediction that states its value
 * in an equation (`y = 2+3 = 5`, `a+b = 7`) is read as that value against a gold that is
 * not a relation, while a gold equation (`2x+z = 1`) is only read as its value when its
 * left side is a label (`x = 1`, `(a,b) = (4,1)`), so `1` does not answer `2x+z = 1`.
 */
import { answerKey } from './normalize.js';
import { parseAnswer, isName, isLabel, type Answer, type RelOp } from './structure.js';
import { EvalUnsupported, closeEnough, isReal, sampleEqual, sampleProportional, type Complex, type MathJson } from './evaluate.js';
import { engineEqual, parseLatex, MAX_ENGINE_INPUT } from './symbolic.js';
import { constantValue, decimalCommaReading, decimalPlaces, isRoundingOf, MIN_ROUNDING_DECIMALS, plainNumber } from './numbers.js';
import { compareRealSets, isSetNotation, realSetOf } from './sets.js';
import { compareMatrixExpressions, hasMatrix } from './matrix.js';


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

/**
 * Runs one way of deciding equality; when it fails, the methods it recorded on the way
 * (a list item that matched before another did not) are forgotten, so the reason names
 * only what decided.
 */
function attempt(ctx: CompareContext, decide: () => boolean): boolean {
  const before = [...ctx.methods];
  if (decide()) return true;
  ctx.methods = new Set(before);
  return false;
}

/** Compares a normalised prediction with a normalised gold, structure-aware. */
export function equalAnswers(pred: string, gold: string, ctx: CompareContext): boolean {
  if (ctx.stringShortcut && answerKey(pred) === answerKey(gold)) {
    ctx.methods.add('string');
    return true;
  }
  const p = parseAnswer(pred);
  const g = parseAnswer(gold);
  if (attempt(ctx, () => equalStructures(p, g, ctx))) return true;
  // `3,75` is also the decimal 3.75 when the other side is one number (see numbers.ts).
  const pr = decimalCommaReading(pred);
  if (pr !== null && isSingleValue(g) && attempt(ctx, () => ctx.methods.add('decimal-comma') && equalScalars(pr, gold, ctx))) return true;
  const gr = decimalCommaReading(gold);
  if (gr !== null && isSingleValue(p) && attempt(ctx, () => ctx.methods.add('decimal-comma') && equalScalars(pred, gr, ctx))) return true;
  return false;
}

function unwrapSingle(x: Answer): Answer {
  while (x.kind === 'list' && x.items.length === 1) x = x.items[0];
  return x;
}

const isSingleValue = (x: Answer) => unwrapSingle(x).kind === 'scalar';
const isRelLike = (x: Answer) => x.kind === 'relation' || x.kind === 'element';
type Relation = Extract<Answer, { kind: 'relation' }>;

/** `a = b = …` (also with `\approx`): an equation or a chain of them. */
function isEquation(x: Answer): x is Relation {
  return x.kind === 'relation' && x.ops.every((op) => op === '=');
}

/** An equation whose left side is a label (`x = 3`, `PQ = 6`, `(a,b) = (4,1)`). */
function isAssignment(x: Answer): x is Relation {
  return isEquation(x) && isLabel(x.parts[0]);
}

/**
 * The value an equation states: its last right-hand side (`y = 2+3 = 5` → `5`), or the
 * exact value before the first `\approx` (`y = \frac23 \approx 0.67` → `\frac23`; in
 * `x \approx 11` the approximation is all there is). Null when the chain states no value
 * consistently: a part before it does not parse (`+ = 0`), or a constant part differs from
 * a constant value (`7 = 1`, `5+5+1 = 12`), so garbage and false equations state nothing.
 */
function statedValueText(r: Relation): string | null {
  const firstValue = isLabel(r.parts[0]) ? 1 : 0;
  const idx = r.approxAt >= firstValue ? r.approxAt : r.parts.length - 1;
  const value = r.parts[idx];
  const v = constantValue(value);
  for (let k = firstValue; k < idx; k++) {
    if (parseLatex(r.parts[k]) === null) return null;
    const c = constantValue(r.parts[k]);
    if (c !== null && v !== null && !sameConstant(r.parts[k], c, value, v)) return null;
  }
  return value;
}

/**
 * Two constant sides of a chain agree: equal within 1e-6 (relative), or one is a decimal
 * that rounds the other (`\frac{10}{7} = 1.43`, written with `=` for `\approx`).
 */
function sameConstant(aText: string, a: Complex, bText: string, b: Complex): boolean {
  if (closeEnough(a, b, 1e-6)) return true;
  return isReal(a) && isReal(b) && (isRoundingOf(bText.trim(), a[0]) || isRoundingOf(aText.trim(), b[0]));
}

/** The stated value of an equation as an answer, or null (see {@link statedValueText}). */
function statedValue(r: Relation): Answer | null {
  const text = statedValueText(r);
  return text === null ? null : parseAnswer(text);
}

/** Structural equality of a prediction `p` with a gold `g` (see the module notes for roles). */
export function equalStructures(p: Answer, g: Answer, ctx: CompareContext): boolean {
  p = unwrapSingle(p);
  g = unwrapSingle(g);
  if (outOfTime(ctx)) return false;

  // Values stated in equations and labelled values.
  if (isEquation(p) && !isRelLike(g)) {
    const value = statedValue(p);
    return value !== null && equalStructures(value, g, ctx);
  }
  if (isAssignment(g) && !isRelLike(p)) {
    const value = statedValue(g);
    return value !== null && equalStructures(p, value, ctx);
  }
  if (p.kind === 'element' && isLabel(p.name) && !isRelLike(g)) return equalStructures(p.set, g, ctx);
  if (g.kind === 'element' && isLabel(g.name) && !isRelLike(p)) return equalStructures(p, g.set, ctx);

  if (attempt(ctx, () => sameShape(p, g, ctx))) return true;
  if ((isSetNotation(p) || isSetNotation(g)) && attempt(ctx, () => sameRealSet(p, g, ctx))) return true;
  if (isMatrixLike(p) && isMatrixLike(g) && (p.kind !== 'matrix' || g.kind !== 'matrix')) {
    if (compareMatrixExpressions(textOf(p), textOf(g), ctx.relTol) === 'equal') {
      ctx.methods.add('matrix-arithmetic');
      return true;
    }
  }
  return false;
}

function isMatrixLike(x: Answer): x is Extract<Answer, { kind: 'matrix' | 'scalar' }> {
  return x.kind === 'matrix' || (x.kind === 'scalar' && hasMatrix(x.text));
}
const textOf = (x: Extract<Answer, { kind: 'matrix' | 'scalar' }>) => x.text;

function sameRealSet(p: Answer, g: Answer, ctx: CompareContext): boolean {
  const a = realSetOf(p);
  const b = a === null ? null : realSetOf(g);
  if (a === null || b === null || compareRealSets(a, b, () => outOfTime(ctx)) !== 'equal') return false;
  ctx.methods.add('set-membership');
  return true;
}

/** A round-bracket tuple against a bare list: the list read in order (`(1,3)` = `1, 3`, `(12,5)` = `m = 12, n = 5`). */
const isPoint = (x: Answer): x is Extract<Answer, { kind: 'tuple' }> => x.kind === 'tuple' && x.open === '(' && x.close === ')';

function sameShape(p: Answer, g: Answer, ctx: CompareContext): boolean {
  if (isRelLike(p) !== isRelLike(g)) {
    // An inequality against an interval.
    const ip = p.kind === 'relation' ? inequalityAsInterval(p) : null;
    const ig = g.kind === 'relation' ? inequalityAsInterval(g) : null;
    if (ip) return equalStructures(ip, g, ctx);
    if (ig) return equalStructures(p, ig, ctx);
    return false;
  }
  // `a \le x \le b` against `x \in [a, b]`.
  if (p.kind === 'relation' && g.kind === 'element') return inequalityInSet(p, g, ctx);
  if (p.kind === 'element' && g.kind === 'relation') return inequalityInSet(g, p, ctx);

  switch (p.kind) {
    case 'scalar':
      if (g.kind === 'ratio') return g.parts.length === 2 && equalScalars(p.text, ratioValue(g), ctx);
      return g.kind === 'scalar' && equalScalars(p.text, g.text, ctx);
    case 'list':
    case 'set':
      if (g.kind === 'list' || g.kind === 'set') return unorderedEqual(p.items, g.items, ctx);
      return p.kind === 'list' && isPoint(g) && orderedEqual(p.items, g.items, ctx);
    case 'union':
      return g.kind === 'union' && unorderedEqual(p.items, g.items, ctx);
    case 'tuple':
      if (g.kind === 'tuple') return p.open === g.open && p.close === g.close && orderedEqual(p.items, g.items, ctx);
      if (g.kind === 'matrix') return vectorEqualsMatrix(p, g, ctx);
      return g.kind === 'list' && isPoint(p) && orderedEqual(p.items, g.items, ctx);
    case 'matrix':
      if (g.kind === 'tuple') return vectorEqualsMatrix(g, p, ctx);
      if (g.kind !== 'matrix' || p.rows.length !== g.rows.length) return false;
      {
        // A local: TypeScript 5.0 (tslab) drops the narrowing of `g` inside the callback.
        const gRows = g.rows;
        return p.rows.every((row, r) => orderedEqual(row, gRows[r], ctx));
      }
    case 'element':
      return g.kind === 'element' && answerKey(p.name) === answerKey(g.name) && equalStructures(p.set, g.set, ctx);
    case 'relation':
      return g.kind === 'relation' && equalRelations(p, g, ctx);
    case 'ratio':
      if (g.kind === 'ratio') return equalRatios(p.parts, g.parts, ctx);
      return g.kind === 'scalar' && p.parts.length === 2 && equalScalars(ratioValue(p), g.text, ctx);
  }
}

const ratioValue = (r: Extract<Answer, { kind: 'ratio' }>) => `\\frac{${r.parts[0]}}{${r.parts[1]}}`;

/** `a:b:c` = `d:e:f` when the parts are proportional (`3:8` = `6:16`), or equal part by part. */
function equalRatios(a: string[], b: string[], ctx: CompareContext): boolean {
  if (a.length !== b.length) return false;
  const va = a.map(constantValue);
  const vb = b.map(constantValue);
  if (va.every((v) => v !== null) && vb.every((v) => v !== null)) {
    const x = va as [number, number][];
    const y = vb as [number, number][];
    for (let i = 0; i < x.length; i++) {
      for (let j = i + 1; j < x.length; j++) {
        const lhs: [number, number] = [x[i][0] * y[j][0] - x[i][1] * y[j][1], x[i][0] * y[j][1] + x[i][1] * y[j][0]];
        const rhs: [number, number] = [x[j][0] * y[i][0] - x[j][1] * y[i][1], x[j][0] * y[i][1] + x[j][1] * y[i][0]];
        if (!closeEnough(lhs, rhs, ctx.relTol)) return false;
      }
    }
    ctx.methods.add('ratio');
    return true;
  }
  return a.every((part, k) => equalScalars(part, b[k], ctx));
}

function inequalityInSet(r: Relation, e: Extract<Answer, { kind: 'element' }>, ctx: CompareContext): boolean {
  const interval = inequalityAsInterval(r);
  const middle = r.parts.length === 3 ? r.parts[1] : isName(r.parts[0]) ? r.parts[0] : r.parts[1];
  return interval !== null && answerKey(middle) === answerKey(e.name) && equalStructures(interval, e.set, ctx);
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
      v = attempt(ctx, () => equalStructures(xs[i], ys[j], ctx));
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
export function inequalityAsInterval(r: Relation): Answer | null {
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
function orient(r: { ops: RelOp[]; parts: string[] }): { ops: RelOp[]; parts: string[] } {
  if (r.ops.every((op) => isGreater(op))) return { ops: [...r.ops].reverse().map((op) => FLIP[op]), parts: [...r.parts].reverse() };
  return { ops: r.ops, parts: r.parts };
}

/** An equation chain as `first = stated value` (`x = 5+5+1 = 11` → `x = 11`); other relations as they are. */
function truncateChain(r: Relation): { ops: RelOp[]; parts: string[] } {
  if (!isEquation(r) || r.parts.length === 2) return r;
  return { ops: ['='], parts: [r.parts[0], statedValueText(r) ?? r.parts[r.parts.length - 1]] };
}

function equalRelations(a: Relation, b: Relation, ctx: CompareContext): boolean {
  // Same label on the left of `=`: compare the values (`x = 11` vs `x = 5+5+1 = 11`,
  // `f(n) = n` vs `f(n)=n`).
  if (isAssignment(a) && isAssignment(b) && answerKey(a.parts[0]) === answerKey(b.parts[0])) {
    const va = statedValue(a);
    const vb = statedValue(b);
    if (va !== null && vb !== null) return equalStructures(va, vb, ctx);
  }

  const ia = inequalityAsInterval(a);
  const ib = inequalityAsInterval(b);
  if (ia && ib) return equalStructures(ia, ib, ctx);

  const oa = orient(truncateChain(a));
  const ob = orient(truncateChain(b));
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

function infinitySign(key: string): number {
  if (key === '\\infty') return 1;
  if (key === '-\\infty') return -1;
  return 0;
}

const PLAIN_WORD = /^[A-Za-z ]+$/;
/** Short words that are text answers, never products of letters (`no` ≠ `on`). */
const SHORT_WORDS = new Set(['no', 'on', 'yes', 'odd', 'even', 'none', 'all', 'true', 'false', 'not', 'and', 'or', 'any', 'some']);

/**
 * Two short letter strings with the same letters are one product written in another
 * order (`ab` = `ba`, `xyz` = `zyx`); longer letter strings are words and compare as
 * strings (`east` ≠ `west`).
 */
function commutedLetters(a: string, b: string): boolean {
  if (!/^[A-Za-z]{2,4}$/.test(a) || !/^[A-Za-z]{2,4}$/.test(b)) return false;
  if (SHORT_WORDS.has(a.toLowerCase()) || SHORT_WORDS.has(b.toLowerCase())) return false;
  return [...a].sort().join('') === [...b].sort().join('');
}

/**
 * A decimal with at least two places against an exact value (not a plain number): equal
 * when the value rounds to it (`0.67` = `\frac23`, `1.4286` = `\frac{10}{7}`). Two
 * decimals compare by value only (`2.45` ≠ `2.5`).
 */
function roundedEqual(a: string, b: string, na: number | null, nb: number | null): boolean {
  if ((na === null) === (nb === null)) return false;
  const literal = na !== null ? a : b;
  const exact = na !== null ? b : a;
  if (decimalPlaces(literal) < MIN_ROUNDING_DECIMALS) return false;
  const v = constantValue(exact);
  return v !== null && isReal(v) && isRoundingOf(literal, v[0]);
}

/** Equality of two single expressions. */
export function equalScalars(a: string, b: string, ctx: CompareContext): boolean {
  const ka = answerKey(a);
  const kb = answerKey(b);
  if (ka === kb && (ctx.stringShortcut || PLAIN_WORD.test(a) || infinitySign(ka) !== 0)) {
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
  // Plain words (text answers) only match as strings, short products of letters aside.
  if (PLAIN_WORD.test(a) && PLAIN_WORD.test(b) && (a.length > 1 || b.length > 1)) {
    if (!commutedLetters(a, b)) return false;
    ctx.methods.add('commuted-product');
    return true;
  }
  if (outOfTime(ctx)) return false;
  if (roundedEqual(a, b, na, nb)) {
    ctx.methods.add('rounding');
    return true;
  }
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
  // The engine decides only what both sides parse to but doubles cannot evaluate (`2^{1009}`);
  // what does not parse is not an answer it may call equal.
  if (ja === null || jb === null || !ctx.symbolic || outOfTime(ctx) || a.length > MAX_ENGINE_INPUT || b.length > MAX_ENGINE_INPUT) return false;
  const r = engineEqual(a, b);
  if (r === true) ctx.methods.add('compute-engine');
  return r === true;
}
