// %% [markdown]
// # 05 · Backends and kernels
//
// **What this shows.**
//
// 1. Which TensorFlow.js backend the toolkit runs on and why: `initBackend()` prefers WebGPU on a hardware
//    adapter, else WASM with SIMD, else the pure-JS `cpu` backend, and says why it skipped each better one.
// 2. The project's custom WASM kernels (`kernels/`): fused attention and fused token log-probabilities, plus a
//    SIMD matrix multiply, checked for parity against the same ops composed from stock tfjs kernels, and timed
//    against them at the tiny policy's shapes, with the spread over repeats.
// 3. What that buys end to end: one training step of the `notebook` preset (sampling the rollouts, then the
//    tree-packed forward + backward) with the SIMD matrix multiply on and off.
//
// **How long it takes.** Measured by the test command (`npm run notebooks -- --kernel all`) on the idle 2-core
// development machine: 35 s under tslab, 22 s under Deno. The timings it shows vary with the machine's load: read
// their ratios, not their milliseconds.

// %%
import * as aq from 'arquero';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo, type BackendChoice } from '../src/backend.js';
import { barChartSvg } from '../src/plot/index.js';
import { display, check, printLine } from '../src/notebook/index.js';

const started = performance.now();
/** initBackend, with the warning it prints on a fallback captured (instead of going to stderr). */
async function tryBackend(prefer: BackendChoice): Promise<{ info?: BackendInfo; error?: string; warnings: string[]; ms: number }> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
  const t0 = performance.now();
  try {
    return { info: await initBackend({ prefer }), warnings, ms: performance.now() - t0 };
  } catch (e) {
    return { error: (e as Error).message, warnings, ms: performance.now() - t0 };
  } finally {
    console.warn = warn;
  }
}
const auto = await tryBackend('auto');
await display.markdown(
  [
    `**\`initBackend()\` chose \`${auto.info?.name}\`** (SIMD ${auto.info?.simd}, ${auto.info?.threads} thread(s)${auto.info?.adapter ? `, adapter ${auto.info.adapter.description || auto.info.adapter.vendor}` : ''}).`,
    '',
    `Reason: ${auto.info?.reason ?? auto.error}`,
    ...(auto.warnings.length ? ['', `Warning it printed: \`${auto.warnings.join(' / ')}\``] : []),
  ].join('\n'),
);

// %% [markdown]
// Each choice can be forced with `initBackend({ prefer })` or the environment variable `ANYTIME_BACKEND`
// (`auto`, `webgpu`, `wasm`, `cpu`); a software WebGPU adapter (llvmpipe/lavapipe, SwiftShader) is used only when
// asked for (`allowSoftwareGpu: true` or `ANYTIME_ALLOW_SOFTWARE_GPU=1`), since for these small models it is slower
// than WASM. What each request gives on this machine:

// %%
const rows: Record<string, unknown>[] = [];
// (Inside an async function: Deno's kernel would end the cell before the awaits of a top-level loop.)
await (async () => {
  for (const prefer of ['webgpu', 'cpu', 'wasm'] as const) {
    const r = await tryBackend(prefer);
    rows.push({
      prefer,
      backend: r.info?.name ?? 'error',
      simd: r.info?.simd ?? '',
      threads: r.info?.threads ?? '',
      'start (ms)': r.ms.toFixed(0),
      reason: r.info?.reason ?? r.error,
    });
  }
})();
await display.table('What initBackend({ prefer }) gives for each request', aq.from(rows));
await check('a wasm request gives the wasm backend (with or without SIMD, never a silent cpu fallback)', rows[2].backend === 'wasm', `active backend: ${tf.getBackend()}`);

// %% [markdown]
// ## Kernel parity and speed

// %%
import * as kernels from '../kernels/index.js';
type Attention = typeof kernels.fusedAttention;
type LogProbs = typeof kernels.fusedTokenLogProbs;
kernels.registerWasmKernels();
await initBackend({ prefer: 'wasm' });

// The tiny policy's shapes: a batch of 8 sequences of 96 positions, 4 heads of width 16, 32-token vocabulary.
const [B, H, T, D, V] = [8, 4, 96, 16, 32];
const N = B * T;
const q = tf.randomNormal([B, H, T, D], 0, 1, 'float32', 1) as tf.Tensor4D;
const k = tf.randomNormal([B, H, T, D], 0, 1, 'float32', 2) as tf.Tensor4D;
const v = tf.randomNormal([B, H, T, D], 0, 1, 'float32', 3) as tf.Tensor4D;
const w = tf.randomNormal([B, H, T, D], 0, 1, 'float32', 4);
const mask = tf.tidy(() => tf.tile(tf.expandDims(tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9), 0), [B, 1, 1])) as tf.Tensor3D;
const logits = tf.randomNormal([N, V], 0, 2, 'float32', 5) as tf.Tensor2D;
const targets = tf.randomUniform([N], 0, V, 'int32', 6) as tf.Tensor1D;
const w1 = tf.randomNormal([N], 0, 1, 'float32', 7);
const w2 = tf.randomNormal([N], 0, 1, 'float32', 8);

const attnForward = (f: Attention) => () => [f(q, k, v, mask)];
const attnBackward = (f: Attention) => () => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, mask), w)))([q, k, v]);
const lpForward = (f: LogProbs) => () => { const r = f(logits, targets); return [r.logp, r.entropy]; };
const lpBackward = (f: LogProbs) => () => [tf.grad((x: tf.Tensor) => { const r = f(x as tf.Tensor2D, targets); return tf.add(tf.sum(tf.mul(r.logp, w1)), tf.sum(tf.mul(r.entropy, w2))); })(logits)];

/** Largest |a − b| over matching outputs, relative to the largest |b| (at least 1e-3). */
async function maxRelDiff(a: tf.Tensor[], b: tf.Tensor[]): Promise<number> {
  let d = 0, m = 1e-3;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [await a[i].data(), await b[i].data()];
    for (let j = 0; j < x.length; j++) { d = Math.max(d, Math.abs(x[j] - y[j])); m = Math.max(m, Math.abs(y[j])); }
  }
  tf.dispose([...a, ...b]);
  return d / m;
}
const parity = [
  { op: 'attention forward', diff: await maxRelDiff(attnForward(kernels.fusedAttention)(), attnForward(kernels.composedAttention)()) },
  { op: 'attention gradients (q, k, v)', diff: await maxRelDiff(attnBackward(kernels.fusedAttention)(), attnBackward(kernels.composedAttention)()) },
  { op: 'token log-probs + entropy', diff: await maxRelDiff(lpForward(kernels.fusedTokenLogProbs)(), lpForward(kernels.composedTokenLogProbs)()) },
  { op: 'token log-probs gradient', diff: await maxRelDiff(lpBackward(kernels.fusedTokenLogProbs)(), lpBackward(kernels.composedTokenLogProbs)()) },
];
await display.table(
  'Parity: fused kernel vs the stock-op composition (max |difference| / max |value|, float32)',
  aq.from(parity.map((p) => ({ op: p.op, 'relative difference': p.diff.toExponential(2), 'within 1e-4': p.diff < 1e-4 }))),
);
// (One check, not one per loop turn: Deno's kernel finishes a cell before the awaits of a top-level loop.)
await check('every fused kernel matches its composition within 1e-4', parity.every((p) => p.diff < 1e-4), parity.map((p) => `${p.op} ${p.diff.toExponential(1)}`).join(', '));

// %%
type Variant = { name: string; stockMatMul?: boolean; run: () => tf.Tensor[] };
const quantile = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); const h = (s.length - 1) * p; const i = Math.floor(h); return s[i] + (h - i) * ((s[i + 1] ?? s[i]) - s[i]); };
/** ms per call of each variant over `reps` rounds; in each round every variant runs once, in turn. */
async function timeVariants(variants: Variant[], reps = 15, warmup = 3): Promise<number[][]> {
  const times = variants.map(() => [] as number[]);
  const once = async (vr: Variant) => {
    kernels.matMulRouting.enabled = !vr.stockMatMul;
    const t0 = performance.now();
    const out = vr.run();
    await out[out.length - 1].data(); // wait for the result (wasm computes synchronously; kept for other backends)
    const ms = performance.now() - t0;
    tf.dispose(out);
    kernels.matMulRouting.enabled = true;
    return ms;
  };
  for (let i = 0; i < warmup; i++) for (const vr of variants) await once(vr);
  for (let r = 0; r < reps; r++) for (let i = 0; i < variants.length; i++) times[i].push(await once(variants[i]));
  return times;
}
const benchmarks: { op: string; variants: Variant[] }[] = [
  { op: 'attention fwd', variants: [
    { name: 'composed, stock kernels', stockMatMul: true, run: attnForward(kernels.composedAttention) },
    { name: 'composed, SIMD matMul', run: attnForward(kernels.composedAttention) },
    { name: 'fused kernel', run: attnForward(kernels.fusedAttention) },
  ] },
  { op: 'attention fwd+bwd', variants: [
    { name: 'composed, stock kernels', stockMatMul: true, run: attnBackward(kernels.composedAttention) },
    { name: 'composed, SIMD matMul', run: attnBackward(kernels.composedAttention) },
    { name: 'fused kernel', run: attnBackward(kernels.fusedAttention) },
  ] },
  { op: 'log-probs fwd', variants: [
    { name: 'composed, stock kernels', stockMatMul: true, run: lpForward(kernels.composedTokenLogProbs) },
    { name: 'fused kernel', run: lpForward(kernels.fusedTokenLogProbs) },
  ] },
  { op: 'log-probs fwd+bwd', variants: [
    { name: 'composed, stock kernels', stockMatMul: true, run: lpBackward(kernels.composedTokenLogProbs) },
    { name: 'fused kernel', run: lpBackward(kernels.fusedTokenLogProbs) },
  ] },
];
/** Per op and variant: median ms with its interquartile range, and the speed-up over stock with its IQR. */
const timing: { op: string; variant: string; median: number; q1: number; q3: number; speedup: number; sLo: number; sHi: number }[] = [];
// (Inside an async function: Deno's kernel would end the cell before the awaits of a top-level loop.)
await (async () => {
  for (const b of benchmarks) {
    const ms = await timeVariants(b.variants);
    b.variants.forEach((vr, i) => {
      // Rounds are interleaved, so round r of a variant and of the stock composition ran under the same load: pair them.
      const ratios = ms[0].map((stock, r) => stock / ms[i][r]);
      timing.push({ op: b.op, variant: vr.name, median: quantile(ms[i], 0.5), q1: quantile(ms[i], 0.25), q3: quantile(ms[i], 0.75), speedup: quantile(ratios, 0.5), sLo: quantile(ratios, 0.25), sHi: quantile(ratios, 0.75) });
    });
  }
})();
await display.table(
  `ms per call, median [interquartile range] of 15 interleaved rounds (attention: q, k, v [${B}, ${H}, ${T}, ${D}], causal mask; log-probs: logits [${N}, ${V}])`,
  aq.from(timing.map((t) => ({
    op: t.op,
    variant: t.variant,
    'ms per call': `${t.median.toFixed(2)} [${t.q1.toFixed(2)}, ${t.q3.toFixed(2)}]`,
    'speed-up vs stock': `${t.speedup.toFixed(2)}x [${t.sLo.toFixed(2)}, ${t.sHi.toFixed(2)}]`,
  }))),
);
const variantNames = [...new Set(timing.map((t) => t.variant))];
await display.plot(
  await barChartSvg({
    title: 'Speed-up over the stock-kernel composition (median, bars: interquartile range)',
    xLabel: 'operation (tiny-policy shapes)',
    yLabel: 'speed-up over stock kernels (×)',
    series: variantNames.map((name) => ({
      name,
      values: timing.filter((t) => t.variant === name).map((t) => ({ category: t.op, value: t.speedup, lo: Math.min(t.sLo, t.speedup), hi: Math.max(t.sHi, t.speedup) })),
    })),
    rules: [{ y: 1, label: '1× = stock' }],
    width: 600,
    height: 280,
  }),
);

// %%
const fused = timing.filter((t) => t.variant === 'fused kernel');
const spread = (t: (typeof timing)[number]) => (t.q3 - t.q1) / t.median;
await display.markdown([
  '**Reading the timings.**',
  ...fused.map((t) => `- ${t.op}: the fused kernel is **${t.speedup.toFixed(1)}×** as fast as the stock composition (middle half of the rounds: ${t.sLo.toFixed(1)}–${t.sHi.toFixed(1)}×).`),
  `- The spread is the machine, not the kernels: the interquartile range is ${(100 * Math.min(...timing.map(spread))).toFixed(0)}–${(100 * Math.max(...timing.map(spread))).toFixed(0)}% of the median across variants. Paired ratios (same round) are steadier than the milliseconds, which is why the speed-ups are the numbers to quote.`,
  (() => {
    const gain = (op: string) => fused.find((t) => t.op === op)!.speedup;
    const [af, ab, lf, lb] = [gain('attention fwd'), gain('attention fwd+bwd'), gain('log-probs fwd'), gain('log-probs fwd+bwd')];
    return `- Forward alone vs forward + backward: attention ${af.toFixed(1)}× vs ${ab.toFixed(1)}×, log-probs ${lf.toFixed(1)}× vs ${lb.toFixed(1)}×. ` +
      'Training runs forward + backward, so the second numbers are the ones that reach a training step.';
  })(),
].join('\n'));
// The ✓ line states the fact only: its details are compared across kernels, and timings vary run to run.
await check('every fused kernel is faster than its stock composition in the median round', fused.every((t) => t.speedup > 1));
await printLine(`median speed-ups this run: ${fused.map((t) => `${t.op} ${t.speedup.toFixed(2)}x`).join(', ')}`);

// %% [markdown]
// ## From kernel speed to a training step
//
// The ops above run inside every forward and backward of the policy. One training step of the `notebook`
// preset samples $8$ questions × $G = 8$ traces of up to 96 thinking tokens with 4 summaries at each of 4 budgets,
// packs every trace with its summary branches into one row of a tree-masked batch, and runs forward + backward
// on it. Timed here end to end, with the SIMD matrix multiply routed in (as training runs) and with tfjs's stock
// one (the fused attention and log-prob kernels stay on in both):

// %%
import { getTask, heldOutSet } from '../src/tasks/index.js';
import { basePolicy } from '../src/model/warmstart.js';
import { getPreset } from '../src/train/presets.js';
import { sampleRollouts } from '../src/model/sampler.js';
import { packTraces, packedLogProbs, TokenKind } from '../src/model/forward.js';
import { budgetSupport } from '../src/core/index.js';

const preset = getPreset('notebook');
const task = getTask(preset.task);
const base = await basePolicy(task, preset.warmStart);
const questions = heldOutSet(task, preset.train.questionsPerStep ?? 8, 2).flatMap((p) => Array.from({ length: preset.train.groupSize ?? 8 }, () => p));
const stepBudgets = budgetSupport(task.maxThinking, 4);
const sampleOnce = () => sampleRollouts(base.policy, task, questions, { budgets: stepBudgets, summariesPerGroup: 4, seed: 3, temperature: 1 });
const rollouts = await sampleOnce();
const batch = packTraces(rollouts, base.policy.config.maxSeqLen);
const trainable = tf.tensor1d(Array.from(batch.layout.kind, (kind) => (kind === TokenKind.THINKING || kind === TokenKind.SUMMARY ? 1 : 0)));
/** Forward + backward of the packed batch (the loss's shape without PPO's clipping): ms. */
async function forwardBackward(stockMatMul: boolean): Promise<number> {
  kernels.matMulRouting.enabled = !stockMatMul;
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(() => tf.neg(tf.sum(tf.mul(packedLogProbs(base.policy, batch).logp, trainable))) as tf.Scalar, base.policy.variables());
  await value.data();
  const ms = performance.now() - t0;
  tf.dispose([value, ...Object.values(grads)]);
  kernels.matMulRouting.enabled = true;
  return ms;
}
const step = { sample: [] as number[], simd: [] as number[], stock: [] as number[] };
await forwardBackward(false); // warm-up (the stock path has nothing to compile or cache)
// Inside a named async function: Deno's kernel would end the cell before the awaits of a top-level
// loop, and tslab's TypeScript 5.0 crashes ("Paths must either both be absolute or both be relative")
// on an awaited inline async arrow in this cell.
async function timeRounds(rounds: number): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await sampleOnce();
    step.sample.push(performance.now() - t0);
    step.simd.push(await forwardBackward(false));
    step.stock.push(await forwardBackward(true));
  }
}
await timeRounds(3);
const med = (xs: number[]) => quantile(xs, 0.5);
await display.table(
  `One training step of the notebook preset: ${rollouts.length} traces packed into ${batch.rows} rows × ${batch.length} columns (median of 3 rounds)`,
  aq.from([
    { part: 'sample rollouts + summaries (KV cache, fused kernels)', 'ms (SIMD matMul)': med(step.sample).toFixed(0), 'ms (stock matMul)': '–' },
    { part: 'forward + backward of the packed batch', 'ms (SIMD matMul)': med(step.simd).toFixed(0), 'ms (stock matMul)': med(step.stock).toFixed(0) },
  ]),
);
const stepSpeedup = med(step.stock) / med(step.simd);
await display.markdown(
  `The SIMD matrix multiply alone makes the forward + backward **${stepSpeedup.toFixed(1)}×** as fast as with tfjs's stock one ` +
    `(${med(step.stock).toFixed(0)} → ${med(step.simd).toFixed(0)} ms), and a whole step (sampling + forward + backward) ` +
    `${((med(step.sample) + med(step.stock)) / (med(step.sample) + med(step.simd))).toFixed(1)}× as fast. The fused attention and log-prob kernels ` +
    'add their own factor on top (the table above); `src/model/forward.ts` records the full effect measured by `scripts/bench-model.ts`: ' +
    'forward + backward + Adam of a 64-trace batch in 0.43 s with kernels/ against 3.3 s on stock tfjs-wasm. This is what lets notebook 02 train two runs live.',
);
await check('the SIMD matMul speeds up the end-to-end forward + backward', stepSpeedup > 1);
await printLine(`speed-up this run: ${stepSpeedup.toFixed(2)}x`);

// %% [markdown]
// ## Takeaways
//
// - On a CPU the toolkit runs on WASM with SIMD; WebGPU takes over only on a hardware adapter.
// - The fused kernels agree with the stock-op compositions to float32 rounding and are several times faster,
//   most of all in the backward passes training needs.
// - Kernel speed-ups carry through to a training step: that is the difference between a notebook that trains
//   live and one that only shows committed results.
//
// **Next:** back to [01 · A tour of the toolkit](01-toolkit-tour.ipynb), or read the method in [`docs/method.md`](../docs/method.md).

// %%
base.policy.dispose();
tf.dispose([q, k, v, w, mask, logits, targets, w1, w2, trainable]);
await printLine(`cells ran in ${((performance.now() - started) / 1000).toFixed(1)} s; tensors still allocated: ${tf.memory().numTensors}`);
