/**
 * The method diagram of notebook 01: one thinking trace as a timeline cut at b_1 … b_m, the
 * forced-summary branch at each cut with its score, and how the dense return
 * R[s] = Σ_{k≥s} p_k · r̄_k and the BRPO baseline V = (s·V1 + (S−s)·V2)/S build up, budget by
 * budget (ANYTIME.md §3, §4). Hand-written SVG: the layout is a picture, not a chart.
 */
import { fail } from '../core/errors.js';
import { escapeHtml } from './display.js';

export interface MethodDiagramInput {
  /** The budget support b_1 < … < b_m (tokens). */
  budgets: number[];
  /** Prior p_j over the budgets. */
  probs: number[];
  /** Thinking tokens the trace wrote, and whether it closed its thinking itself. */
  length: number;
  finished: boolean;
  /** r̄_j: mean score of the forced summaries at each budget. */
  scores: number[];
  /** What the summaries at each budget answered (e.g. "4 4"), shown in the branch boxes. */
  answers?: string[];
  /** Group-mean baseline V2[s] and this trace's own-progress baseline V1[s]. */
  groupMean: number[];
  ownProgress: number[];
}

const f2 = (x: number) => (Math.abs(x) < 5e-4 ? '0' : x.toFixed(3).replace(/0+$/, '').replace(/\.$/, ''));

/** The diagram as a standalone SVG document (760 px wide). */
export function methodDiagramSvg(input: MethodDiagramInput): string {
  const { budgets, probs, scores, groupMean, ownProgress, length, finished } = input;
  const m = budgets.length;
  for (const [name, arr] of [['probs', probs], ['scores', scores], ['groupMean', groupMean], ['ownProgress', ownProgress]] as const) {
    if (!Array.isArray(arr) || arr.length !== m) fail(name, `must have one entry per budget (${m}), got ${Array.isArray(arr) ? arr.length : typeof arr}`);
  }
  const W = 760;
  const left = 150;
  const right = W - 30;
  const bMax = budgets[m - 1];
  const x = (t: number) => left + ((right - left) * t) / bMax;
  const out: string[] = [];
  const small = m <= 4 ? 11 : m <= 6 ? 9 : 7;
  const text = (tx: number, ty: number, s: string, attrs = '') => out.push(`<text x="${tx.toFixed(1)}" y="${ty}" ${attrs}>${escapeHtml(s)}</text>`);
  const rowLabel = (ty: number, s: string) => text(10, ty, s, 'font-weight="bold"');

  // Returns and baselines.
  const R = new Array<number>(m);
  let acc = 0;
  for (let s = m - 1; s >= 0; s--) R[s] = acc += probs[s] * scores[s];
  const V = ownProgress.map((v1, s) => (s * v1 + (m - s) * groupMean[s]) / m);

  // Row 1: the trace.
  const yTrace = 48;
  rowLabel(yTrace + 4, 'thinking trace');
  out.push(`<rect x="${x(0)}" y="${yTrace - 7}" width="${(x(Math.min(length, bMax)) - x(0)).toFixed(1)}" height="14" fill="#4c78a8"/>`);
  if (length < bMax) {
    out.push(`<rect x="${x(length).toFixed(1)}" y="${yTrace - 7}" width="${(x(bMax) - x(length)).toFixed(1)}" height="14" fill="#e8e8e8" stroke="#bbb" stroke-dasharray="3,3"/>`);
  }
  text(10, yTrace + 20, `${length} tokens, ${finished ? 'closed by </think>' : 'never closed'}`, 'font-size="11" fill="#555"');

  // Cuts, branches and summary boxes.
  const yBox = 108;
  rowLabel(yBox + 4, 'forced summary');
  budgets.forEach((b, j) => {
    const cx = x(b);
    const merged = finished && b >= length;
    out.push(`<line x1="${cx.toFixed(1)}" y1="${yTrace - 16}" x2="${cx.toFixed(1)}" y2="${yTrace + 10}" stroke="#e45756" stroke-width="2"/>`);
    text(cx, yTrace + 24, `b${j + 1} = ${b}`, 'font-size="11" text-anchor="middle" fill="#e45756"');
    // The box sits under the segment that ends at this cut, its right edge at the cut.
    const bw = Math.min(120, x(b) - x(j === 0 ? 0 : budgets[j - 1]) - 6);
    const bx = cx - bw / 2 - 3;
    out.push(`<path d="M${cx.toFixed(1)},${yTrace + 28} C${cx.toFixed(1)},${yBox - 30} ${bx.toFixed(1)},${yBox - 30} ${bx.toFixed(1)},${yBox - 16}" fill="none" stroke="#888" marker-end="url(#arrow)"/>`);
    out.push(`<rect x="${(bx - bw / 2).toFixed(1)}" y="${yBox - 14}" width="${bw.toFixed(1)}" height="34" rx="4" fill="${merged ? '#f3f3f3' : '#fff7e6'}" stroke="#f58518"/>`);
    text(bx, yBox, merged ? '<answer> (merged)' : '… </think> <answer>', `font-size="${small - 1}" text-anchor="middle"`);
    const ans = input.answers?.[j];
    text(bx, yBox + 14, `${ans !== undefined ? `→ ${ans}  ` : ''}r̄ = ${f2(scores[j])}`, `font-size="${small}" text-anchor="middle" font-weight="bold"`);
  });

  // Rows of numbers, one column per budget.
  const rows: [string, (j: number) => string][] = [
    ['p_j · r̄_j', (j) => `${f2(probs[j])} × ${f2(scores[j])} = ${f2(probs[j] * scores[j])}`],
    ['return R[s] = Σk≥s', (j) => (j < m - 1 ? `${f2(probs[j] * scores[j])} + R[${j + 2}] = ${f2(R[j])}` : `${f2(R[j])}`)],
    ['group mean V2[s]', (j) => f2(groupMean[j])],
    ['own progress V1[s]', (j) => (j === 0 ? '0 (no history)' : f2(ownProgress[j]))],
    ['BRPO V[s]', (j) => `(${j}·V1 + ${m - j}·V2)/${m} = ${f2(V[j])}`],
    ['advantage R − V', (j) => f2(R[j] - V[j])],
  ];
  const yRows = 160;
  rows.forEach(([label, cell], i) => {
    const ty = yRows + i * 24;
    if (i % 2 === 0) out.push(`<rect x="4" y="${ty - 15}" width="${W - 8}" height="22" fill="#f6f6f6"/>`);
    rowLabel(ty, label);
    budgets.forEach((b, j) => {
      const segMid = (x(j === 0 ? 0 : budgets[j - 1]) + x(b)) / 2;
      text(segMid, ty, cell(j), `font-size="${small}" text-anchor="middle"`);
    });
  });
  const yNote = yRows + rows.length * 24 + 8;
  text(10, yNote, `Every thinking token between b(s−1) and b(s) is trained with the advantage of its column.`, 'font-size="11" fill="#555"');
  text(10, yNote + 16, `R[1] = Σ p_j · r̄_j = ${f2(R[0])} is this trace's anytime reward; a finished trace's later budgets reuse its merged summaries.`, 'font-size="11" fill="#555"');

  const H = yNote + 28;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>',
    `<rect width="${W}" height="${H}" fill="white"/>`,
    ...out,
    '</svg>',
  ].join('\n');
}
