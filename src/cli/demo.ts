/**
 * `anytime demo`: a walk-through of BRPO on a small score matrix, printed step by step
 * (returns, both baselines, advantages, cut plans, summary advantages, token scatter).
 */
import {
  budgetReturns,
  budgetSupport,
  cutPlan,
  makePrior,
  summaryAdvantages,
  thinkingAdvantages,
  thinkingValues,
  tokenAdvantages,
  type PriorKind,
} from '../core/index.js';

export const summary = 'print a BRPO walk-through on a sample score matrix';

const fmt = (x: number) => (Number.isNaN(x) ? '  n/a' : x.toFixed(3).padStart(6));
const table = (title: string, rows: number[][], rowLabel = 'trace') =>
  [title, ...rows.map((r, i) => `  ${rowLabel} ${i}: ${r.map(fmt).join(' ')}`)].join('\n');

export async function run(argv: string[]): Promise<number> {
  const priorKind = (argv.find((a) => a.startsWith('--prior='))?.slice(8) ?? 'uniform') as PriorKind;
  const budgets = budgetSupport(8000, 4);
  const prior = makePrior(priorKind, budgets);
  // Mean summary scores r̄[g, s] of G = 4 traces of one question at 2k/4k/6k/8k tokens:
  // a fast solver, a slow solver, one that finds and then loses the answer, one that never does.
  const scores = [
    [0.25, 1, 1, 1],
    [0, 0, 0.5, 1],
    [0, 1, 0.75, 0.25],
    [0, 0, 0, 0],
  ];
  const lengths = [3100, 8000, 8000, 5200];
  const finished = [true, false, false, true];
  const out: string[] = [];
  out.push(`AnytimeReasoner / BRPO walk-through (ANYTIME.md §2-§5)`);
  out.push(`budgets ${budgets.join(', ')}  prior '${priorKind}': ${prior.probs.map((p) => p.toFixed(3)).join(', ')}`);
  out.push(table('mean summary score r̄[g, s]:', scores));
  out.push(table('return-to-go R[g, s] = Σ_{k≥s} p_k r̄[g, k]:', budgetReturns(scores, prior.probs)));
  const gm = thinkingValues(scores, prior.probs, { baseline: 'group-mean' });
  const own = thinkingValues(scores, prior.probs, { baseline: 'own-progress' });
  const brpo = thinkingValues(scores, prior.probs, { baseline: 'brpo' });
  out.push(table('V2 (group mean of R):', gm.V));
  out.push(table('V1 (own progress × prior mass ahead):', own.V));
  out.push(table('V = (s·V1 + (S−s)·V2)/S (BRPO):', brpo.V));
  const adv = thinkingAdvantages(scores, prior.probs);
  out.push(table('thinking advantage A = R − V:', adv));
  const plans = lengths.map((L, g) => cutPlan(L, finished[g], budgets));
  out.push(
    [
      'cut plans (tokens kept, +cut = cut suffix forced, #prefix group; equal groups = merged prefix):',
      ...plans.map(
        (p, g) =>
          `  trace ${g} (${lengths[g]} tokens, ${finished[g] ? 'finished' : 'never closed'}): ` +
          p.cuts.map((c) => `${c.cutLength}${c.cut ? '+cut' : ''}#${c.group}`).join('  '),
      ),
    ].join('\n'),
  );
  // A = 4 summaries per prefix; merged budgets repeat their group's scores.
  const summaryScores = [
    [[0, 0, 1, 0], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]],
    [[0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0], [1, 1, 1, 1]],
    [[0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 0], [0, 1, 0, 0]],
    [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
  ];
  const sum = summaryAdvantages(summaryScores, { lastSegment: plans.map((p) => p.lastSegment) });
  out.push(
    [
      'summary advantages, A = 4 per budget (score − mean of its prefix group; · = merged prefix, trained once):',
      ...sum.advantages.map(
        (row, g) => `  trace ${g}: ` + row.map((cell, s) => cell.map((a, k) => (sum.trainable[g][s][k] ? fmt(a) : '     ·')).join(' ')).join(' |'),
      ),
    ].join('\n'),
  );
  const tok = tokenAdvantages(adv[0], 10, [2.5, 5, 7.5, 10]);
  out.push(`token advantages of trace 0 on a 10-token toy scale (budgets 2.5/5/7.5/10): ${Array.from(tok.advantages).map((x) => x.toFixed(2)).join(' ')}`);
  console.log(out.join('\n\n'));
  return 0;
}
