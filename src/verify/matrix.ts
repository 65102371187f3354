/**
 * Matrix expressions: LaTeX that combines matrix environments with `+`, `-`, products
 * (`\cdot`, `\times` or juxtaposition), scalar factors, powers, `^T` and `^{-1}`, evaluated
 * numerically so that `\begin{pmatrix}1&2\\3&4\end{pmatrix}+\begin{pmatrix}1&0\\0&1\end{pmatrix}`
 * equals `\begin{pmatrix}2&2\\3&5\end{pmatrix}` and `2\begin{pmatrix}1\\2\end{pmatrix}`
 * equals `\begin{pmatrix}2\\4\end{pmatrix}`. Entries and scalar factors may hold
 * variables: both sides are evaluated at the same sample points.
 */
import { closeEnough, EvalUnsupported, evaluate, freeVariables, samplePoints, type Complex, type Decision, type MathJson } from './evaluate.js';
import { splitTop, tokenize } from './structure.js';
import { parseLatex } from './symbolic.js';

type MatrixNode =
  | { t: 'matrix'; cells: MathJson[][] }
  | { t: 'scalar'; json: MathJson }
  | { t: 'sum'; terms: { sign: 1 | -1; node: MatrixNode }[] }
  | { t: 'product'; factors: MatrixNode[] }
  | { t: 'power'; base: MatrixNode; exponent: number | 'T' };

type Value = Complex | Complex[][];

const MAX_SIDE = 8;
const MAX_POWER = 32;
const ENV = /^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?([\s\S]*)\\end\{\1\}$/;

/** Whether the text holds a matrix environment. */
export function hasMatrix(s: string): boolean {
  return /\\begin\{(?:[pbvBV]?matrix|array)\}/.test(s);
}

function parseCells(env: string): MatrixNode | null {
  const m = ENV.exec(env);
  if (!m) return null;
  const rows = m[2]
    .split(/\\\\/)
    .map((r) => r.replace(/\\hline/g, '').trim())
    .filter((r) => r !== '')
    .map((r) => r.split('&').map((c) => parseLatex(c.trim())));
  if (rows.length === 0 || rows.length > MAX_SIDE) return null;
  const width = rows[0].length;
  if (width > MAX_SIDE || rows.some((r) => r.length !== width || r.some((c) => c === null))) return null;
  return { t: 'matrix', cells: rows as MathJson[][] };
}

/** `^{T}`, `^T`, `^\top`, `^{-1}`, `^{2}`, `^2` → the exponent; undefined when not one of these. */
function readExponent(arg: string): number | 'T' | undefined {
  const t = arg.replace(/^\{|\}$/g, '').replace(/\s+/g, '');
  if (t === 'T' || t === '\\top' || t === '\\intercal') return 'T';
  if (/^-?\d+$/.test(t)) return Number(t);
  return undefined;
}

function parseSum(s: string, depth: number): MatrixNode | null {
  if (depth > 6) return null;
  const { pieces, seps } = splitTop(s, tokenize(s), (t) => t === '+' || t === '-');
  const terms: { sign: 1 | -1; node: MatrixNode }[] = [];
  for (let k = 0; k < pieces.length; k++) {
    const sign = k > 0 && seps[k - 1] === '-' ? -1 : 1;
    if (pieces[k] === '') {
      if (k === 0) continue; // a leading sign
      return null;
    }
    const node = parseProduct(pieces[k], depth + 1);
    if (node === null) return null;
    terms.push({ sign, node });
  }
  if (terms.length === 0) return null;
  return terms.length === 1 && terms[0].sign === 1 ? terms[0].node : { t: 'sum', terms };
}

function parseProduct(s: string, depth: number): MatrixNode | null {
  const tokens = tokenize(s);
  const factors: MatrixNode[] = [];
  let chunkStart = -1;
  const flushChunk = (end: number): boolean => {
    if (chunkStart < 0) return true;
    const text = s.slice(chunkStart, end).trim();
    chunkStart = -1;
    if (text === '') return true;
    const json = parseLatex(text);
    if (json === null) return false;
    factors.push({ t: 'scalar', json });
    return true;
  };
  let k = 0;
  while (k < tokens.length) {
    const tok = tokens[k];
    if (tok.depth === 0 && (tok.text === '\\cdot' || tok.text === '\\times')) {
      if (!flushChunk(tok.start)) return null;
      k++;
      continue;
    }
    const isEnv = tok.depth === 0 && tok.text.startsWith('\\begin');
    const isGroup = tok.depth === 0 && tok.text === '(';
    if (isEnv || isGroup) {
      let close = k + 1;
      while (close < tokens.length && !(tokens[close].depth === 0 && (isEnv ? tokens[close].text.startsWith('\\end') : tokens[close].text === ')'))) close++;
      if (close >= tokens.length) return null;
      const inner = s.slice(tok.start, tokens[close].end);
      if (isGroup && !hasMatrix(inner)) {
        if (chunkStart < 0) chunkStart = tok.start;
        k = close + 1;
        continue;
      }
      if (!flushChunk(tok.start)) return null;
      let node = isEnv ? parseCells(inner) : parseSum(s.slice(tok.end, tokens[close].start), depth + 1);
      if (node === null) return null;
      k = close + 1;
      if (k < tokens.length && tokens[k].text === '^') {
        const arg = tokens[k + 1];
        if (!arg) return null;
        let argEnd = k + 1;
        if (arg.text === '{') while (argEnd < tokens.length && !(tokens[argEnd].text === '}' && tokens[argEnd].depth === 0)) argEnd++;
        if (argEnd >= tokens.length) return null;
        const exponent = readExponent(s.slice(arg.start, tokens[argEnd].end));
        if (exponent === undefined) return null;
        node = { t: 'power', base: node, exponent };
        k = argEnd + 1;
      }
      factors.push(node);
      continue;
    }
    if (chunkStart < 0) chunkStart = tok.start;
    k++;
  }
  if (!flushChunk(s.length)) return null;
  if (factors.length === 0) return null;
  return factors.length === 1 ? factors[0] : { t: 'product', factors };
}

/** Parses LaTeX with at least one matrix environment into an expression; null when it cannot. */
export function parseMatrixExpression(s: string): MatrixNode | null {
  if (!hasMatrix(s)) return null;
  return parseSum(s.trim(), 0);
}

const isMatrix = (v: Value): v is Complex[][] => Array.isArray(v[0]);
const cAdd = (a: Complex, b: Complex): Complex => [a[0] + b[0], a[1] + b[1]];
const cMul = (a: Complex, b: Complex): Complex => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cDiv = (a: Complex, b: Complex): Complex => {
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
};

function unsupported(what: string): never {
  throw new EvalUnsupported(what);
}

function add(a: Value, b: Value): Value {
  if (isMatrix(a) && isMatrix(b)) {
    if (a.length !== b.length || a[0].length !== b[0].length) unsupported('matrix shapes differ in a sum');
    return a.map((row, i) => row.map((x, j) => cAdd(x, b[i][j])));
  }
  if (!isMatrix(a) && !isMatrix(b)) return cAdd(a, b);
  return unsupported('scalar plus matrix');
}

function multiply(a: Value, b: Value): Value {
  if (!isMatrix(a) && !isMatrix(b)) return cMul(a, b);
  if (!isMatrix(a)) return (b as Complex[][]).map((row) => row.map((x) => cMul(a, x)));
  if (!isMatrix(b)) return a.map((row) => row.map((x) => cMul(x, b)));
  if (a[0].length !== b.length) unsupported('matrix shapes do not multiply');
  return a.map((row) => b[0].map((_, j) => row.reduce<Complex>((s, x, k) => cAdd(s, cMul(x, b[k][j])), [0, 0])));
}

function identity(n: number): Complex[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): Complex => [i === j ? 1 : 0, 0]));
}

/** Gauss-Jordan inverse with partial pivoting; throws for a singular matrix. */
function inverse(m: Complex[][]): Complex[][] {
  const n = m.length;
  const a = m.map((row, i) => [...row, ...identity(n)[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.hypot(...a[r][col]) > Math.hypot(...a[pivot][col])) pivot = r;
    if (Math.hypot(...a[pivot][col]) < 1e-12) unsupported('singular matrix');
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const p = a[col][col];
    a[col] = a[col].map((x) => cDiv(x, p));
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r][col];
      a[r] = a[r].map((x, j) => cAdd(x, cMul([-f[0], -f[1]], a[col][j])));
    }
  }
  return a.map((row) => row.slice(n));
}

function power(base: Value, exponent: number | 'T'): Value {
  if (!isMatrix(base)) return unsupported('power of a scalar factor');
  if (exponent === 'T') return base[0].map((_, j) => base.map((row) => row[j]));
  if (base.length !== base[0].length || Math.abs(exponent) > MAX_POWER) unsupported('matrix power');
  const factor = exponent < 0 ? inverse(base) : base;
  let result = identity(base.length);
  for (let k = 0; k < Math.abs(exponent); k++) result = multiply(result, factor) as Complex[][];
  return result;
}

function evalNode(node: MatrixNode, vars: ReadonlyMap<string, Complex>): Value {
  switch (node.t) {
    case 'scalar':
      return evaluate(node.json, vars);
    case 'matrix':
      return node.cells.map((row) => row.map((c) => evaluate(c, vars)));
    case 'sum':
      return node.terms.map(({ sign, node: n }) => multiply([sign, 0], evalNode(n, vars))).reduce((a, b) => add(a, b));
    case 'product':
      return node.factors.map((f) => evalNode(f, vars)).reduce((a, b) => multiply(a, b));
    case 'power':
      return power(evalNode(node.base, vars), node.exponent);
  }
}

function leaves(node: MatrixNode, out: MathJson[] = []): MathJson[] {
  switch (node.t) {
    case 'scalar':
      out.push(node.json);
      break;
    case 'matrix':
      for (const row of node.cells) out.push(...row);
      break;
    case 'sum':
      for (const term of node.terms) leaves(term.node, out);
      break;
    case 'product':
      for (const f of node.factors) leaves(f, out);
      break;
    case 'power':
      leaves(node.base, out);
      break;
  }
  return out;
}

/**
 * Compares two matrix expressions (either may be a plain matrix) entry by entry at the
 * same sample points. 'undecided' when either does not parse or evaluate to a matrix.
 */
export function compareMatrixExpressions(a: string, b: string, relTol: number): Decision {
  const na = parseMatrixExpression(a);
  const nb = parseMatrixExpression(b);
  if (na === null || nb === null) return 'undecided';
  const names = new Set<string>();
  for (const leaf of [...leaves(na), ...leaves(nb)]) freeVariables(leaf, names);
  try {
    for (const vars of samplePoints([...names].sort(), names.size === 0 ? 1 : 3)) {
      const va = evalNode(na, vars);
      const vb = evalNode(nb, vars);
      if (!isMatrix(va) || !isMatrix(vb)) return 'undecided';
      if (va.length !== vb.length || va[0].length !== vb[0].length) return 'different';
      for (let i = 0; i < va.length; i++) for (let j = 0; j < va[0].length; j++) if (!closeEnough(va[i][j], vb[i][j], relTol)) return 'different';
    }
    return 'equal';
  } catch (e) {
    if (e instanceof EvalUnsupported) return 'undecided';
    throw e;
  }
}
