// %% [markdown]
// # 01 · A tour of the toolkit
//
// **What this shows.** The pieces of anytime reasoning (AnytimeReasoner / BRPO, arXiv 2505.13438;
// the method is written out in [`docs/method.md`](../docs/method.md)) as plain functions you can call
// on your own data:
//
// 1. **The method in one picture**: a thinking trace cut at every budget, a forced summary at each cut,
//    and how the return and the BRPO baseline are built from the summaries' scores.
// 2. **Budget priors** $p_B$ over the budget support $b_1 < \dots < b_m$.
// 3. **Cutting a real rollout** of the tiny base policy (the synthetic `chain` task) at every budget.
// 4. **Returns and advantages** on a hand-worked score matrix: GRPO's group mean, the BRPO baseline,
//    and the decoupled summary advantages.
// 5. **Which advantage every thinking token gets.**
//
// Cells marked ✓ check the facts this notebook teaches; `npm run notebooks` fails if one does not hold.
//
// **How long it takes.** Measured by the test command (`npm run notebooks -- --kernel all`) on the idle 2-core
// development machine: 21 s under tslab, 7 s under Deno. With the base policy cached in `data/base/` (committed); on a checkout
// without it the first run warm-starts it (about 6 minutes, once).
//
// **Kernels.** This notebook runs unchanged under the project's tslab kernel ("TypeScript (anytime, tslab)")
// and Deno's ("TypeScript (anytime, Deno)"); install both with `npm run notebooks -- --install-kernel --kernel all`.
// Its source is the paired script [`01-toolkit-tour.ts`](01-toolkit-tour.ts), which also runs as a plain
// script: `npx tsx notebooks/01-toolkit-tour.ts` from the repository root.

// %%
import * as aq from 'arquero';
import {
  budgetSupport, makePrior, customPrior, PRIOR_KINDS, cutPlan, forcedSummaryText, budgetReturns,
  thinkingValues, thinkingAdvantages, summaryAdvantages, tokenAdvantages, groupMeanValue, ownProgressValue,
  CUT_SUFFIX, type PriorKind,
} from '../src/core/index.js';
import { lineChartSvg, barChartSvg } from '../src/plot/index.js';
import { getTask, heldOutSet } from '../src/tasks/index.js';
import { initBackend } from '../src/backend.js';
import { basePolicy } from '../src/model/warmstart.js';
import { getPreset } from '../src/train/presets.js';
import { sampleRollouts } from '../src/model/sampler.js';
import { display, check, checkClose, checkEqual, escapeHtml, notebookHost, printLine } from '../src/notebook/index.js';
import { methodDiagramSvg } from '../src/notebook/diagram.js';

const notebookStart = performance.now();
const round = (x: number, digits = 3) => Number(x.toFixed(digits));
/** A matrix [G][S] as a table with one row per trace and one column per budget. */
const matrixTable = (m: number[][], budgets: number[]) =>
  aq.table({ trace: m.map((_, g) => g), ...Object.fromEntries(budgets.map((b, s) => [`b=${b}`, m.map((row) => round(row[s]))])) });
await printLine(`running in: ${notebookHost()}`);

// %% [markdown]
// ## Knobs
//
// Everything below that uses the real rollouts reads these. **Try this:**
// - `prior: 'linear'` puts more weight on long budgets: watch the return $R$ and the diagram's columns change;
//   `'base'` is plain GRPO's setting (all weight on $b_m$), where only the last column is non-zero.
// - `m: 8` cuts the trace at eight budgets instead of four (more, shorter segments, each with its own advantage).
// - `discount: 1` makes the own-progress baseline a plain mean of the earlier scores; `4` leans harder on the latest.
// - `G: 16` samples a bigger group (the group mean $V_2$ gets less noisy), `seed: 8` another group.

// %%
const KNOBS = {
  /** Budget prior: 'base' | 'uniform' | 'linear' | 'linear-decreasing'. */
  prior: 'uniform' as PriorKind,
  /** Number of budgets m (the support is b_j = j · b_max / m). */
  m: 4,
  /** Weight base d of the own-progress mean (the paper's 2). */
  discount: 2,
  /** Traces sampled for the question (the group size G). */
  G: 8,
  /** Seed of the sampling. */
  seed: 7,
};
await printLine(JSON.stringify(KNOBS));

// %% [markdown]
// ## 1. The method in one picture
//
// The policy writes a thinking trace of at most $b_\text{max}$ tokens. Training cuts it at every budget
// $b_j$ of the support, appends a forcing suffix (`… </think> <answer>` for a cut trace, just `<answer>`
// for one that already closed its thinking) and samples a few short summaries from each prefix; a
// verifier scores each summary 0 or 1 and $\bar r_j$ is their mean. The trace's thinking tokens between
// $b_{s-1}$ and $b_s$ then get the **return** $R[s]=\sum_{k\ge s}p_k\,\bar r_k$ (they contributed to every
// later answer), minus a **baseline**. GRPO's baseline is the group mean $V_2$; BRPO's mixes in the
// trace's own progress $V_1$ (a discounted mean of its earlier $\bar r$, times the prior mass ahead) with
// weight $s/S$, because late in a trace its own progress predicts the return better.
//
// First a real rollout of the tiny base policy on one `chain` question, with the knobs above:

// %%
const backend = await initBackend({ prefer: 'wasm' });
// The reproduction's task and base policy (the chain task, 3000-step warm start, cached in data/base/).
const preset = getPreset('notebook');
const task = getTask(preset.task);
const base = await basePolicy(task, preset.warmStart);
await printLine(`backend: ${backend.name} (SIMD ${backend.simd}); base policy ${base.path} (${base.cached ? 'loaded from cache' : 'warm-started now'})`);

const budgets = budgetSupport(task.maxThinking, KNOBS.m);
const prior = makePrior(KNOBS.prior, budgets);
const problem = heldOutSet(task, 1, 0)[0];
const group = await sampleRollouts(base.policy, task, Array(KNOBS.G).fill(problem), { budgets, summariesPerGroup: 2, seed: KNOBS.seed, temperature: 1 });
/** r̄[g][s]: the mean score of trace g's summaries at budget s. */
const rolloutScores = group.map((r) => r.plan.cuts.map((c) => r.groups[c.group].summaries.reduce((a, s) => a + s.score, 0) / r.groups[c.group].summaries.length));
// Show a trace that finished between b_2 and b_max when there is one: it has both cut and merged prefixes.
const shown = Math.max(0, group.findIndex((r) => r.finished && r.thinking.length > budgets[1] && r.thinking.length < budgets[budgets.length - 1]));
const rollout = group[shown];
await printLine(`question: ${task.decode(problem.prompt)}   (gold answer ${problem.answer})`);
await printLine(`trace ${shown} of ${KNOBS.G}, ${rollout.thinking.length} tokens, ${rollout.finished ? 'closed by </think>' : 'stopped at b_max'}:\n${task.decode(rollout.thinking)}`);

// %% [markdown]
// **Reading a `chain` trace.** The question `3 + 4 * 7 - 9 ?` asks for a start digit pushed through a chain of
// operations, all mod 10. Each `;`-terminated line of thinking is one step, `i a op d = r`: the **step
// number** $i$ glued to the **value it starts from** $a$ (so `15 - 6 = 9` is step 1: $5 - 6 \equiv 9$), the
// step's operation from the prompt, and the result. A line that repeats the previous step number is a
// **re-check** of that step (the teacher does this at random, which fixes slips but costs tokens). The
// summary (the answer) is the result of the last complete line. The table decodes the trace above:

// %%
const lines = task.decode(rollout.thinking).split(';').map((l) => l.trim()).filter((l) => l && l !== '</think>');
const decoded = lines.map((line, i) => {
  const m = /^(\d)(\d) ([-+*]) (\d) = (\d)$/.exec(line);
  if (!m) return { line: i + 1, written: line, step: '?', computes: 'not a well-formed step', note: '' };
  const [, step, a, op, d, r] = m;
  const want = ((op === '+' ? +a + +d : op === '-' ? +a - +d : +a * +d) % 10 + 10) % 10;
  const prev = i > 0 ? /^(\d)/.exec(lines[i - 1])?.[1] : undefined;
  return {
    line: i + 1,
    written: line,
    step,
    computes: `${a} ${op} ${d} = ${r} (mod 10)`,
    note: [prev === step ? 're-check of the step' : '', want === +r ? '' : `slip: ${a} ${op} ${d} is ${want}`].filter(Boolean).join('; '),
  };
});
await display.table('The trace, line by line', aq.from(decoded));

// %% [markdown]
// The same trace as a timeline: red marks are the budgets, each box the forced summaries sampled from the
// prefix up to that cut (what they answered and their mean score), and below, column by column, how the
// return and the BRPO baseline are computed from those scores for this trace within its group of $G$:

// %%
const { R: rolloutR, V: rolloutV } = thinkingValues(rolloutScores, prior.probs, { baseline: 'brpo', discount: KNOBS.discount });
const V2 = groupMeanValue(budgetReturns(rolloutScores, prior.probs));
const V1 = ownProgressValue(rolloutScores, prior.probs, KNOBS.discount);
await display.plot(
  methodDiagramSvg({
    // (tslab does not rewrite shorthand properties that name another cell's variable: write `budgets: budgets`.)
    budgets: budgets,
    probs: prior.probs,
    length: rollout.thinking.length,
    finished: rollout.finished,
    scores: rolloutScores[shown],
    answers: rollout.plan.cuts.map((c) => rollout.groups[c.group].summaries.map((s) => task.decode(s.tokens).replace('<eos>', '').trim()).join(' ')),
    groupMean: V2,
    ownProgress: V1[shown],
  }),
  `How one trace is cut at ${budgets.join(', ')} tokens, summarised, scored, and turned into returns and BRPO baselines`,
);
await display.table(`The whole group (${KNOBS.prior} prior): r̄[g, s], R[g, s] and the BRPO advantage R − V, one row per trace`,
  aq.table({
    trace: group.map((_, g) => g),
    tokens: group.map((r) => r.thinking.length),
    finished: group.map((r) => r.finished),
    'r̄ per budget': rolloutScores.map((row) => row.map((x) => round(x, 2)).join('  ')),
    'R per budget': rolloutR.map((row) => row.map((x) => round(x, 3)).join('  ')),
    'R − V (BRPO)': rolloutR.map((row, g) => row.map((x, s) => round(x - rolloutV[g][s], 3)).join('  ')),
  }),
);

// %%
// ✓ Facts of §3-§4 on the real group: R[g][0] is the trace's anytime reward Σ p_j r̄_j; BRPO's baseline
// equals the group mean at the first budget (no own history yet); the diagram's last column is p_m · r̄_m.
await checkClose('R[g, 1] = Σ_j p_j · r̄[g, j] for every trace of the group', rolloutR.map((row) => row[0]), rolloutScores.map((row) => row.reduce((a, r, j) => a + prior.probs[j] * r, 0)), 1e-12);
await checkClose('the BRPO baseline equals the group mean at the first budget', rolloutV.map((row) => row[0]), group.map(() => V2[0]), 1e-12);
await checkClose('R[g, m] = p_m · r̄[g, m]: the last segment only feeds the last answer', rolloutR.map((row) => row[budgets.length - 1]), rolloutScores.map((row) => prior.probs[budgets.length - 1] * row[budgets.length - 1]), 1e-12);

// %% [markdown]
// ## 2. Budget priors
//
// The anytime objective weighs the reward at each budget by a prior:
// $J_\text{anytime} = \mathbb{E}_x\,\mathbb{E}_{z}\sum_j p_j\, r_\phi(x, z_{\le b_j})$.
// `budgetSupport(bMax, m)` gives the evenly spaced support $b_j = j\,b_\text{max}/m$; `makePrior(kind, budgets)`
// the paper's priors (`base` = all mass on $b_m$, plain GRPO's setting); `customPrior` any weights.

// %%
const paperBudgets = budgetSupport(8000, 4);
const priors = [
  ...PRIOR_KINDS.map((kind) => ({ name: kind as string, prior: makePrior(kind, paperBudgets) })),
  { name: 'custom 1:1:2:4', prior: customPrior(paperBudgets, [1, 1, 2, 4], { normalize: true }) },
];
await display.table(
  "p_B(b_j) on the paper's support (b_max = 8000, m = 4)",
  aq.table({
    prior: priors.map((p) => p.name),
    ...Object.fromEntries(paperBudgets.map((b, j) => [`b=${b}`, priors.map((p) => round(p.prior.probs[j]))])),
  }),
);
await display.plot(
  await barChartSvg({
    title: 'Budget priors on the paper\'s support',
    xLabel: 'thinking budget b (tokens)',
    yLabel: 'p_B(b)',
    series: priors.map((p) => ({ name: p.name, values: paperBudgets.map((b, j) => ({ category: String(b), value: p.prior.probs[j] })) })),
    width: 520,
    height: 260,
  }),
);

// %%
await checkEqual('the support is b_j = j · b_max / m', paperBudgets, [2000, 4000, 6000, 8000]);
// (One check over all priors, not one per loop turn: Deno's kernel finishes a cell before the awaits of a top-level loop.)
await checkClose(`every prior sums to 1 (${priors.map((p) => p.name).join(', ')})`, priors.map((p) => p.prior.probs.reduce((a, b) => a + b, 0)), priors.map(() => 1), 1e-9);
await checkEqual("the base prior puts all its mass on b_m (GRPO's setting)", makePrior('base', paperBudgets).probs, [0, 0, 0, 1]);

// %% [markdown]
// ## 3. Cutting a real rollout at every budget
//
// `sampleRollouts` cuts each trace at every budget with `cutPlan` and samples forced summaries from
// each distinct prefix:
//
// - a trace **cut** by the budget (or that never closed its thinking) gets `... </think> <answer>` appended
//   (the paper's `"...\n\n...\n\n</think>\n\n**Final Answer**\n"`);
// - a trace that **finished** on its own before the budget gets only `<answer>`;
// - budgets past the end of a finished trace share **one merged prefix group**: its summaries are reused.

// %%
await display.table(
  `Trace ${shown} cut at each budget (two summaries per prefix group)`,
  aq.from(
    rollout.plan.cuts.map((c) => {
      const g = rollout.groups[c.group];
      return {
        budget: c.budget,
        'tokens kept': c.cutLength,
        cut: c.cut,
        'prefix group': c.group,
        'end of the prefix': '… ' + task.decode(rollout.thinking.slice(Math.max(0, c.cutLength - 8), c.cutLength)),
        'forcing suffix': task.decode(g.forcing),
        summaries: g.summaries.map((s) => task.decode(s.tokens)).join('  |  '),
        scores: g.summaries.map((s) => s.score).join(' '),
      };
    }),
  ),
);
const plan = cutPlan(rollout.thinking.length, rollout.finished, budgets);
await display.table(
  `cutPlan(${rollout.thinking.length}, ${rollout.finished}, [${budgets.join(', ')}]): one row per prefix group (lastSegment = ${plan.lastSegment})`,
  aq.from(plan.groups.map((g, i) => ({ group: i, 'prefix length': g.cutLength, cut: g.cut, budgets: plan.cuts.filter((c) => c.group === i).map((c) => c.budget).join(', ') }))),
);

// %%
// ✓ A finished trace's budgets at or past its end share one merged group; a cut never keeps more than b_j tokens.
for (const r of group) {
  const p = cutPlan(r.thinking.length, r.finished, budgets);
  const past = p.cuts.filter((c) => c.budget >= r.thinking.length);
  if (r.finished && past.length > 1 && new Set(past.map((c) => c.group)).size !== 1) throw new Error('merged budgets must share one prefix group');
  if (p.cuts.some((c) => c.cutLength > c.budget)) throw new Error('a cut keeps more tokens than its budget');
}
await check(`every trace's budgets past its end share one merged prefix group, and no cut exceeds its budget (${group.length} traces)`, true);

// %% [markdown]
// With a real LLM the trace is text. `forcedSummaryText(thinking, cut)` builds the prompt the summary is
// generated from, exactly as the paper's code does (and restores a `</think>` a server stripped as its stop string):

// %%
const thinkingText = 'We need 17 * 24. 17 * 24 = 17 * 20 + 17 * 4 = 340 + 68 = 408.';
const examples = [
  { label: 'cut by the budget', text: forcedSummaryText(thinkingText.slice(0, 40), true) },
  { label: 'finished, </think> kept', text: forcedSummaryText(thinkingText + '</think>', false) },
  { label: 'finished, </think> stripped by the server', text: forcedSummaryText(thinkingText, false) },
];
await display.html(
  examples.map((e) => `<p><b>${escapeHtml(e.label)}</b></p><pre>${escapeHtml(e.text)}</pre>`).join(''),
  examples.map((e) => `${e.label}:\n${e.text}`).join('\n\n'),
);
await check('a cut trace gets the forcing suffix "...\\n\\n...\\n\\n</think>"', examples[0].text.includes(CUT_SUFFIX));
await check('a finished trace does not', !examples[1].text.includes(CUT_SUFFIX) && !examples[2].text.includes(CUT_SUFFIX));
await checkEqual('a stripped </think> is restored', examples[1].text, examples[2].text);

// %% [markdown]
// ## 4. Returns and advantages on a hand-worked score matrix
//
// Take a group of $G = 4$ traces of one question, the budgets $24, 48, 72, 96$, and the uniform prior.
// $\bar r[g,s]$ is the mean score of the summaries at budget $b_{s+1}$ (here $A = 4$ summaries each).
// Trace 1 finished at 60 tokens and trace 2 at 30 tokens, so their later budgets repeat the score of their
// merged prefix.
//
// - **Return** (§3): every thinking token of segment $s$ gets $R[g,s] = \sum_{k\ge s} p_k\,\bar r[g,k]$.
// - **Group-mean baseline** (GRPO's): $V_2[s] = \frac1G\sum_{g'} R[g',s]$.
// - **BRPO baseline** (§4): $V = \frac{s\,V_1 + (S-s)\,V_2}{S}$, where $V_1$ is the trace's own discounted progress
//   so far scaled by the prior mass still ahead.

// %%
const exBudgets = [24, 48, 72, 96];
const scores = [
  [0, 0.25, 0.75, 1], // trace 0: 96 tokens, never closed its thinking
  [0.25, 0.5, 1, 1], // trace 1: finished at 60 tokens (budgets 72 and 96 share one prefix)
  [0, 0.5, 0.5, 0.5], // trace 2: finished at 30 tokens (budgets 48, 72, 96 share one prefix)
  [0, 0, 0, 0.25], // trace 3: 96 tokens, never closed its thinking
];
const lengths = [96, 60, 30, 96];
const finished = [false, true, true, false];
const uniform = makePrior('uniform', exBudgets);
const R = budgetReturns(scores, uniform.probs);
const groupMean = thinkingValues(scores, uniform.probs, { baseline: 'group-mean' });
const brpo = thinkingValues(scores, uniform.probs, { baseline: 'brpo' });
await display.table('Mean summary score r̄[g, s]', matrixTable(scores, exBudgets));
await display.table('Return R[g, s] (uniform prior)', matrixTable(R, exBudgets));
await display.table('Group-mean baseline V₂ (GRPO)', matrixTable(groupMean.V, exBudgets));
await display.table('BRPO baseline V', matrixTable(brpo.V, exBudgets));

// %%
// ✓ §3 and §4 by hand. Trace 1: R = (0.25 + 0.5 + 1 + 1) / 4 at b_1, (1 + 1) / 4 at b_3.
await checkClose('R[1] = [0.6875, 0.625, 0.5, 0.25] (returns sum the prior-weighted scores from s on)', R[1], [0.6875, 0.625, 0.5, 0.25]);
await checkClose('V₂[s] is the mean of R[·, s] over the group', groupMean.V[0], exBudgets.map((_, s) => R.reduce((a, row) => a + row[s], 0) / 4));
await checkClose('BRPO equals the group mean at the first budget', brpo.V.map((row) => row[0]), groupMean.V.map((row) => row[0]));
// Trace 0 at s = 2 (b = 72): V₁ = (1·r̄₀ + 2·r̄₁)/(1 + 2) × (p₃ + p₄) = (0 + 0.5)/3 × 0.5 = 1/12; V = (2·V₁ + 2·V₂)/4.
await checkClose('V₁[0, 2] = (1·0 + 2·0.25)/3 × 0.5 = 1/12 (discount 2: the later budget weighs twice)', ownProgressValue(scores, uniform.probs)[0][2], 1 / 12);
await checkClose('BRPO V[0, 2] = (2·V₁ + 2·V₂)/4', brpo.V[0][2], (2 * (1 / 12) + 2 * groupMean.V[0][2]) / 4);

// %%
const advGroupMean = thinkingAdvantages(scores, uniform.probs, { baseline: 'group-mean' });
const advBrpo = thinkingAdvantages(scores, uniform.probs, { baseline: 'brpo' });
await display.table('Thinking advantage R − V, group-mean baseline', matrixTable(advGroupMean, exBudgets));
await display.table('Thinking advantage R − V, BRPO baseline', matrixTable(advBrpo, exBudgets));
await checkClose('group-mean advantages sum to 0 over the group at every budget', exBudgets.map((_, s) => advGroupMean.reduce((a, row) => a + row[s], 0)), [0, 0, 0, 0], 1e-12);

// %% [markdown]
// **Summary advantages** (§5, decoupled summary optimisation): every summary is trained against the mean of
// the summaries that share its prefix (`all-budgets`); GRPO trains only the summary at $b_m$, against the
// mean over the group (`final-only`). Merged budgets are trained once, at the trace's `lastSegment`.

// %%
const A = 4;
// Summary scores [G][S][A] consistent with r̄ above (k of the 4 summaries correct).
const summaryScores = scores.map((row) => row.map((r) => Array.from({ length: A }, (_, a) => (a < Math.round(r * A) ? 1 : 0))));
const lastSegment = lengths.map((L, g) => cutPlan(L, finished[g], exBudgets).lastSegment);
const decoupled = summaryAdvantages(summaryScores, { mode: 'all-budgets', lastSegment });
const finalOnly = summaryAdvantages(summaryScores, { mode: 'final-only', lastSegment });
const cell = (adv: number[][][], trainable: boolean[][][], g: number, s: number) =>
  trainable[g][s].some(Boolean) ? adv[g][s].map((x) => round(x, 2)).join(' ') : '–';
await display.table(
  `Summary advantages per summary (– = not trained); lastSegment = [${lastSegment.join(', ')}]`,
  aq.from(
    summaryScores.flatMap((row, g) =>
      row.map((c, s) => ({
        trace: g,
        budget: exBudgets[s],
        'summary scores': c.join(' '),
        'all-budgets (AnytimeReasoner)': cell(decoupled.advantages, decoupled.trainable, g, s),
        'final-only (GRPO)': cell(finalOnly.advantages, finalOnly.trainable, g, s),
      })),
    ),
  ),
);
await checkEqual('lastSegment: the trace finished at 30 tokens trains its merged summaries once, at b_2', lastSegment, [3, 2, 1, 3]);
await checkClose('all-budgets: a summary scoring 1 in a prefix group with mean 0.75 gets +0.25', decoupled.advantages[0][2][0], 0.25);
await check('final-only trains no summary before the last budget', finalOnly.trainable.every((row) => row.slice(0, -1).every((c) => !c.some(Boolean))));

// %% [markdown]
// ## 5. Token-level advantages
//
// `tokenAdvantages(segmentAdvantages, traceLength, budgets)` scatters the segment advantages onto the thinking
// tokens: token $t$ belongs to segment $s$ when $b_{s-1} \le t < b_s$. A trace that ended early has no tokens
// in later segments (trace 2 trains only its first 30 tokens). Plain GRPO (one budget, base prior) gives every
// token of a trace the same advantage $r - \text{mean}_G(r)$.

// %%
const tokenSeries = (adv: number[][], bs: number[]) =>
  lengths.map((L, g) => {
    const { advantages, mask } = tokenAdvantages(adv[g], L, bs);
    // One point at the first and the last token of each run of equal advantages: the same picture
    // as one point per token, in a fraction of the SVG.
    const points = Array.from(advantages).flatMap((a, t) =>
      mask[t] && (t === 0 || advantages[t - 1] !== a || t + 1 === L || advantages[t + 1] !== a) ? [{ x: t + 1, y: a }] : [],
    );
    return { name: `trace ${g} (${L} tokens)`, points };
  });
await display.plot(
  await lineChartSvg({
    title: 'Anytime (uniform prior, BRPO): advantage of each thinking token',
    xLabel: 'thinking token position',
    yLabel: 'advantage R − V',
    series: tokenSeries(advBrpo, exBudgets),
    rules: [{ y: 0 }],
    width: 520,
    height: 240,
  }),
);
const grpoAdv = thinkingAdvantages(scores.map((row) => [row[row.length - 1]]), [1], { baseline: 'group-mean' });
await display.plot(
  await lineChartSvg({
    title: 'Plain GRPO (reward at b_max only): one advantage per trace',
    xLabel: 'thinking token position',
    yLabel: 'advantage r − mean(r)',
    series: tokenSeries(grpoAdv, [task.maxThinking]),
    rules: [{ y: 0 }],
    width: 520,
    height: 240,
  }),
);
const trace2 = tokenAdvantages(advBrpo[2], lengths[2], exBudgets);
await checkEqual('trace 2 (30 tokens) has advantages on its 30 tokens only', Array.from(trace2.mask).filter(Boolean).length, 30);
await checkClose('with one budget and the base prior, BRPO is GRPO: r − mean_G(r)', thinkingAdvantages(scores.map((row) => [row[3]]), [1], { baseline: 'brpo' }).map((r) => r[0]), [1, 1, 0.5, 0.25].map((r) => r - 0.6875));

// %% [markdown]
// ## Takeaways
//
// - An anytime-trained policy is rewarded at **every** budget of the prior, not only at $b_\text{max}$: the return
//   $R[s]$ of a thinking token counts every later answer it helped, weighted by how likely that budget is.
// - The cut-and-summarise step is cheap bookkeeping (`cutPlan`): finished traces reuse one merged prefix, so a
//   trace costs at most $m$ summary groups.
// - BRPO's baseline starts as GRPO's group mean (first budget) and leans on the trace's own progress as the trace
//   goes on; notebook 03 measures how much variance each choice removes.
// - Everything here is a pure function over arrays: reuse it with scores from your own verifier and model.
//
// **Next:** [02 · GRPO vs AnytimeReasoner (BRPO), trained live](02-grpo-vs-brpo.ipynb)

// %%
base.policy.dispose();
await printLine(`cells ran in ${((performance.now() - notebookStart) / 1000).toFixed(1)} s`);
