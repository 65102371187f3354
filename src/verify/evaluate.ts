/**
 * A small numeric evaluator over MathJSON (the compute-engine's parse tree, read
 * non-canonically), in complex arithmetic, used to decide whether two expressions are
 * equal by evaluating both at the same random values of their free variables.
 *
 * Why our own evaluator instead of the engine's `simplify`: it is fast (microseconds),
 * bounded (no rewriting search that can run away), and it treats every unknown letter as
 * a variable to sample, which is what answer checking needs. The engine is still used as
 * a fallback for what this cannot decide (overflowing integers such as `2^{1009}`).
 */

export type Complex = readonly [number, number];

/** Thrown for anything this evaluator does not support; callers treat it as "undecided". */
export class EvalUnsupported extends Error {}

const unsupported = (what: string): never => {
  throw new EvalUnsupported(what);
};

const C = (re: number, im = 0): Complex => [re, im];
const add = (a: Complex, b: Complex): Complex => [a[0] + b[0], a[1] + b[1]];
const sub = (a: Complex, b: Complex): Complex => [a[0] - b[0], a[1] - b[1]];
const mul = (a: Complex, b: Complex): Complex => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const div = (a: Complex, b: Complex): Complex => {
  const d = b[0] * b[0] + b[1] * b[1];
  if (d === 0) return [NaN, NaN];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
};
const abs = (a: Complex): number => Math.hypot(a[0], a[1]);
/** Whether a complex value is real (imaginary part negligible against the real one). */
export const isReal = (a: Complex): boolean => Math.abs(a[1]) <= 1e-12 * Math.max(1, Math.abs(a[0]));
const exp = (a: Complex): Complex => {
  const r = Math.exp(a[0]);
  return a[1] === 0 ? [r, 0] : [r * Math.cos(a[1]), r * Math.sin(a[1])];
};
const log = (a: Complex): Complex => [Math.log(abs(a)), Math.atan2(a[1], a[0])];
const sin = (a: Complex): Complex => [Math.sin(a[0]) * Math.cosh(a[1]), Math.cos(a[0]) * Math.sinh(a[1])];
const cos = (a: Complex): Complex => [Math.cos(a[0]) * Math.cosh(a[1]), -Math.sin(a[0]) * Math.sinh(a[1])];

function pow(a: Complex, b: Complex): Complex {
  if (isReal(b)) {
    const e = b[0];
    if (Number.isInteger(e) && Math.abs(e) <= 64) {
      let result: Complex = C(1);
      let base = a;
      let n = Math.abs(e);
      while (n > 0) {
        if (n & 1) result = mul(result, base);
        base = mul(base, base);
        n >>= 1;
      }
      return e < 0 ? div(C(1), result) : result;
    }
    if (isReal(a) && a[0] >= 0) return C(Math.pow(a[0], e));
  }
  if (a[0] === 0 && a[1] === 0) return C(0);
  return exp(mul(b, log(a)));
}

function realOnly(a: Complex, what: string): number {
  if (!isReal(a)) unsupported(`${what} of a complex number`);
  return a[0];
}

/** Γ(x) for real x (Lanczos, g = 7), so `n!` can be sampled at non-integer n. */
function gamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  x -= 1;
  let a = c[0];
  const t = x + g + 0.5;
  for (let k = 1; k < 9; k++) a += c[k] / (x + k);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a;
}

function factorial(n: number): number {
  if (!Number.isInteger(n)) return n > -1 ? gamma(n + 1) : NaN;
  if (n < 0) return NaN;
  if (n > 170) return Infinity;
  let r = 1;
  for (let k = 2; k <= n; k++) r *= k;
  return r;
}

function binomial(n: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(k)) return NaN;
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let j = 1; j <= Math.min(k, n - k); j++) r = (r * (n - k + j)) / j;
  return r;
}

/** A MathJSON node as the engine produces it (numbers, symbols, function arrays, objects). */
export type MathJson = number | string | readonly MathJson[] | { [key: string]: unknown };

/** Symbols that are constants rather than variables. */
const CONSTANTS: Record<string, Complex> = {
  Pi: C(Math.PI),
  ExponentialE: C(Math.E),
  e: C(Math.E),
  ImaginaryUnit: C(0, 1),
  i: C(0, 1),
  Half: C(0.5),
  GoldenRatio: C((1 + Math.sqrt(5)) / 2),
  PositiveInfinity: C(Infinity),
  NegativeInfinity: C(-Infinity),
  ComplexInfinity: C(NaN),
  NaN: C(NaN),
};

/**
 * The engine reads some single letters as named constants (`G` as Catalan's constant);
 * in an answer they are variables.
 */
const SYMBOL_ALIASES: Record<string, string> = { CatalanConstant: 'G', EulerGamma: 'gamma' };

/** Free variables of a MathJSON tree (a subscripted name such as `r_0` is one variable). */
export function freeVariables(node: MathJson, out: Set<string> = new Set()): Set<string> {
  if (typeof node === 'string') {
    if (node.startsWith("'")) return out;
    const name = SYMBOL_ALIASES[node] ?? node;
    if (!(name in CONSTANTS)) out.add(name);
    return out;
  }
  if (Array.isArray(node)) {
    const head = node[0];
    if (head === 'At' || head === 'Subscript' || head === 'Prime') {
      out.add(JSON.stringify(node));
      return out;
    }
    for (let k = 1; k < node.length; k++) freeVariables(node[k] as MathJson, out);
    return out;
  }
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    const o = node as Record<string, unknown>;
    if (typeof o.sym === 'string') freeVariables(o.sym, out);
    if (Array.isArray(o.fn)) freeVariables(o.fn as MathJson, out);
  }
  return out;
}

function literalInteger(node: MathJson): boolean {
  return typeof node === 'number' && Number.isInteger(node);
}

/** Evaluates a MathJSON tree with the given variable values. Throws EvalUnsupported. */
export function evaluate(node: MathJson, vars: ReadonlyMap<string, Complex>, depth = 0): Complex {
  if (depth > 200) unsupported('expression too deep');
  if (typeof node === 'number') return C(node);
  if (typeof node === 'string') {
    if (node.startsWith("'")) unsupported('text');
    const name = SYMBOL_ALIASES[node] ?? node;
    const constant = CONSTANTS[name];
    if (constant) return constant;
    const value = vars.get(name);
    if (value === undefined) unsupported(`unbound variable ${name}`);
    return value as Complex;
  }
  if (!Array.isArray(node)) {
    const o = node as Record<string, unknown>;
    if (typeof o.num === 'string') {
      const v = Number(o.num.replace(/[()]/g, ''));
      if (Number.isNaN(v)) unsupported(`number ${o.num}`);
      return C(v);
    }
    if (typeof o.sym === 'string') return evaluate(o.sym, vars, depth + 1);
    if (Array.isArray(o.fn)) return evaluate(o.fn as MathJson, vars, depth + 1);
    return unsupported('unknown node');
  }
  const head = node[0];
  const args = node.slice(1) as MathJson[];
  const ev = (k: number): Complex => {
    if (k >= args.length) unsupported(`${String(head)} is missing an argument`);
    return evaluate(args[k], vars, depth + 1);
  };
  const unary = (): Complex => {
    if (args.length !== 1) unsupported(`${String(head)} takes one argument`);
    return ev(0);
  };
  switch (head) {
    case 'Add': {
      let s = C(0);
      for (let k = 0; k < args.length; k++) s = add(s, ev(k));
      return s;
    }
    case 'Subtract':
      return args.length === 1 ? mul(C(-1), ev(0)) : sub(ev(0), ev(1));
    case 'Negate':
      return mul(C(-1), unary());
    case 'Multiply':
    case 'InvisibleOperator': {
      // A mixed number `1\frac{4}{5}` reads as 1 + 4/5.
      if (
        head === 'InvisibleOperator' &&
        args.length === 2 &&
        literalInteger(args[0]) &&
        Array.isArray(args[1]) &&
        (args[1][0] === 'Divide' || args[1][0] === 'Rational') &&
        literalInteger(args[1][1] as MathJson) &&
        literalInteger(args[1][2] as MathJson)
      ) {
        const whole = args[0] as number;
        const frac = ev(1);
        return whole < 0 ? sub(C(whole), frac) : add(C(whole), frac);
      }
      let p = C(1);
      for (let k = 0; k < args.length; k++) {
        // `\exp(x)` parses as the symbol Exp next to its argument.
        if (head === 'InvisibleOperator' && args[k] === 'Exp' && k + 1 < args.length) {
          p = mul(p, exp(ev(k + 1)));
          k++;
          continue;
        }
        p = mul(p, ev(k));
      }
      return p;
    }
    case 'GCD':
    case 'LCM': {
      const xs = args.map((_, k) => realOnly(ev(k), String(head)));
      if (xs.length === 0 || !xs.every((x) => Number.isInteger(x))) unsupported(`${String(head)} of non-integers`);
      const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));
      return C(head === 'GCD' ? xs.reduce(gcd) : xs.reduce((a, b) => (a === 0 || b === 0 ? 0 : Math.abs(a * b) / gcd(a, b))));
    }
    case 'Divide':
    case 'Rational':
      return div(ev(0), ev(1));
    case 'Power':
      return pow(ev(0), ev(1));
    case 'Square':
      return pow(unary(), C(2));
    case 'Sqrt':
      return pow(unary(), C(0.5));
    case 'Root': {
      const x = ev(0);
      const n = ev(1);
      // Odd roots of negative reals are real (`\sqrt[3]{-8} = -2`).
      if (isReal(x) && isReal(n) && x[0] < 0 && Number.isInteger(n[0]) && Math.abs(n[0]) % 2 === 1) {
        return C(-Math.pow(-x[0], 1 / n[0]));
      }
      return pow(x, div(C(1), n));
    }
    case 'Exp':
      return exp(unary());
    case 'Ln':
      return log(unary());
    case 'Log':
      return args.length === 2 ? div(log(ev(0)), log(ev(1))) : div(log(ev(0)), C(Math.LN10));
    case 'Lb':
      return div(log(unary()), C(Math.LN2));
    case 'Lg':
      return div(log(unary()), C(Math.LN10));
    case 'Sin':
      return sin(unary());
    case 'Cos':
      return cos(unary());
    case 'Tan':
      return div(sin(unary()), cos(ev(0)));
    case 'Cot':
      return div(cos(unary()), sin(ev(0)));
    case 'Sec':
      return div(C(1), cos(unary()));
    case 'Csc':
      return div(C(1), sin(unary()));
    case 'Arcsin':
      return C(Math.asin(realOnly(unary(), 'arcsin')));
    case 'Arccos':
      return C(Math.acos(realOnly(unary(), 'arccos')));
    case 'Arctan':
      return C(Math.atan(realOnly(unary(), 'arctan')));
    case 'Arccot':
      return C(Math.atan(1 / realOnly(unary(), 'arccot')));
    case 'Sinh': {
      const x = unary();
      return div(sub(exp(x), exp(mul(C(-1), x))), C(2));
    }
    case 'Cosh': {
      const x = unary();
      return div(add(exp(x), exp(mul(C(-1), x))), C(2));
    }
    case 'Tanh': {
      const x = unary();
      const a = exp(x);
      const b = exp(mul(C(-1), x));
      return div(sub(a, b), add(a, b));
    }
    case 'Abs':
      return C(abs(unary()));
    case 'Floor':
      return C(Math.floor(realOnly(unary(), 'floor')));
    case 'Ceil':
    case 'Ceiling':
      return C(Math.ceil(realOnly(unary(), 'ceil')));
    case 'Round':
      return C(Math.round(realOnly(unary(), 'round')));
    case 'Sign':
      return C(Math.sign(realOnly(unary(), 'sign')));
    case 'Factorial':
      return C(factorial(realOnly(unary(), 'factorial')));
    case 'Binomial':
    case 'Choose':
      return C(binomial(realOnly(ev(0), 'binomial'), realOnly(ev(1), 'binomial')));
    case 'Max':
    case 'Min': {
      const xs = args.map((_, k) => realOnly(ev(k), String(head)));
      if (xs.length === 0) unsupported('empty max/min');
      return C(head === 'Max' ? Math.max(...xs) : Math.min(...xs));
    }
    case 'Complex':
      return C(realOnly(ev(0), 'complex'), realOnly(ev(1), 'complex'));
    case 'Delimiter': {
      // `["Delimiter", x]` is a parenthesised x; a delimiter around a sequence is a tuple.
      const inner = args[0];
      if (args.length >= 1 && Array.isArray(inner) && inner[0] === 'Sequence' && inner.length !== 2) {
        unsupported('tuple inside an expression');
      }
      return ev(0);
    }
    case 'Sequence':
      if (args.length !== 1) unsupported('sequence');
      return ev(0);
    case 'At':
    case 'Subscript':
    case 'Prime': {
      const value = vars.get(JSON.stringify(node));
      if (value === undefined) unsupported('unbound subscripted variable');
      return value as Complex;
    }
    default:
      return unsupported(`function ${String(head)}`);
  }
}

/** Relative closeness of two complex numbers (absolute for values near zero). */
export function closeEnough(a: Complex, b: Complex, relTol: number): boolean {
  const d = Math.hypot(a[0] - b[0], a[1] - b[1]);
  const scale = Math.max(abs(a), abs(b));
  return d <= relTol * scale || d <= 1e-12;
}

export function isFiniteComplex(a: Complex): boolean {
  return Number.isFinite(a[0]) && Number.isFinite(a[1]);
}

/** Outcome of a numeric comparison: decided equal, decided different, or undecided. */
export type Decision = 'equal' | 'different' | 'undecided';

/**
 * Deterministic sample points: each variable gets a value in [0.3, 2.8) (positive, so
 * square roots and logarithms of plain variables stay real; never an integer, so
 * floor/ceil coincidences are rare) from a fixed low-discrepancy sequence.
 */
export function samplePoints(names: readonly string[], count: number): Map<string, Complex>[] {
  const points: Map<string, Complex>[] = [];
  for (let p = 0; p < count; p++) {
    const m = new Map<string, Complex>();
    names.forEach((name, v) => {
      // Additive recurrence with irrational steps: distinct per variable and per point.
      const frac = (0.5 + (p + 1) * 0.6180339887498949 + (v + 1) * 0.41421356237309515 * (p + 2)) % 1;
      m.set(name, C(0.3 + 2.5 * frac));
    });
    points.push(m);
  }
  return points;
}

/**
 * Compares `f(x) ?= g(x)` at sample points of the union of both trees' free variables.
 * `equal` needs every point where either side is finite to agree within `relTol`, and at
 * least one finite point; a point where exactly one side is finite means `different`;
 * when no point is finite (overflow, `\infty`) the result is `undecided`.
 */
export function sampleEqual(a: MathJson, b: MathJson, relTol: number, count = 4): Decision {
  const names = [...freeVariables(a, freeVariables(b))].sort();
  const points = samplePoints(names, names.length === 0 ? 1 : count);
  let finitePoints = 0;
  for (const vars of points) {
    const va = evaluate(a, vars);
    const vb = evaluate(b, vars);
    const fa = isFiniteComplex(va);
    const fb = isFiniteComplex(vb);
    if (!fa && !fb) continue;
    if (fa !== fb) return 'different';
    if (!closeEnough(va, vb, relTol)) return 'different';
    finitePoints++;
  }
  return finitePoints > 0 ? 'equal' : 'undecided';
}

/**
 * Whether `a = c · b` for one constant `c` at every sample point (with `c > 0` when
 * `positive`): two equations `A = 0` and `B = 0` (or inequalities `A > 0`, `B > 0`)
 * describe the same set in the common cases. Both identically zero counts as equal.
 */
export function sampleProportional(a: MathJson, b: MathJson, relTol: number, positive: boolean, count = 5): Decision {
  const names = [...freeVariables(a, freeVariables(b))].sort();
  const points = samplePoints(names, names.length === 0 ? 1 : count);
  let ratio: Complex | null = null;
  let zeroBoth = 0;
  for (const vars of points) {
    const va = evaluate(a, vars);
    const vb = evaluate(b, vars);
    if (!isFiniteComplex(va) || !isFiniteComplex(vb)) continue;
    const za = abs(va) <= 1e-12;
    const zb = abs(vb) <= 1e-12;
    if (za && zb) {
      zeroBoth++;
      continue;
    }
    if (za !== zb) return 'different';
    const r = div(va, vb);
    if (ratio === null) ratio = r;
    else if (!closeEnough(ratio, r, relTol)) return 'different';
  }
  if (ratio === null) return zeroBoth > 0 ? 'equal' : 'undecided';
  if (positive && !(isReal(ratio) && ratio[0] > 0)) return 'different';
  return 'equal';
}
