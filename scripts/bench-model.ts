/**
 * Times the tiny policy on the current machine (tfjs wasm): KV-cache rollouts, the tree-packed
 * training forward+backward, and (for reference) plain sampling of the thinking only.
 *
 *   npx tsx scripts/bench-model.ts [--batch 64] [--think 80] [--repeats 3] [--stock]
 *
 * With the custom kernels of kernels/ registered (as `initBackend` does), unless `--stock`.
 * Uses a synthetic 32-token task with 16-token prompts whose THINK_END is masked out until the
 * cap, so every trace has exactly `--think` tokens (the worst case for a budget of that size).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../kernels/index.js';
import { seededRng, randInt } from '../src/core/rng.js';
import { SPECIAL, SPECIAL_TOKENS, type Task } from '../src/tasks/types.js';
import { TransformerPolicy, makeConfig } from '../src/model/transformer.js';
import { sampleRollouts, requiredSeqLen } from '../src/model/sampler.js';
import { packTraces, packedLogProbs, TokenKind } from '../src/model/forward.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const B = arg('batch', 64);
const think = arg('think', 80);
const repeats = arg('repeats', 3);
const V = 32;
const vocab = [...SPECIAL_TOKENS, ...Array.from({ length: V - SPECIAL_TOKENS.length }, (_, i) => `t${i}`)];
const task: Task = {
  name: 'bench',
  vocab,
  maxPromptLength: 16,
  maxThinking: think,
  summaryMaxTokens: 8,
  sample: (rng) => ({ id: 'p', prompt: Array.from({ length: 16 }, () => randInt(rng, 6, V - 1)), answer: '7', data: {} }),
  teacherTrace: () => [],
  teacherSummary: () => [],
  score: (_p, s) => (s[0] === 7 ? 1 : 0),
  encode: () => [],
  decode: (ids) => Array.from(ids, (i) => vocab[i]).join(' '),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const stock = process.argv.includes('--stock');
  if (!stock) registerWasmKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  const config = makeConfig({ vocabSize: V, maxSeqLen: requiredSeqLen(16, think, 8), seed: 0 });
  const policy = new TransformerPolicy(config);
  // Make THINK_END never sampled and EOS likely, so traces run to the cap and summaries are short.
  const headB = policy.params.get('head.b')!;
  const bias = new Float32Array(V);
  bias[SPECIAL.THINK_END] = -30;
  bias[SPECIAL.EOS] = 1.5;
  headB.assign(tf.tensor1d(bias));
  const problems = Array.from({ length: B }, (_, i) => task.sample(seededRng(i)));
  const budgets = [think / 4, think / 2, (3 * think) / 4, think];
  console.log(`backend ${tf.getBackend()}${stock ? ' (stock kernels)' : ' + kernels/'}, ${policy.parameterCount()} parameters, B=${B}, thinking ${think}`);

  const thinkOnly: number[] = [];
  const full: number[] = [];
  let rollouts = await sampleRollouts(policy, task, problems, { budgets: [think], summariesPerGroup: 1, seed: 0, summaryMaxTokens: 1 });
  for (let r = 0; r < repeats; r++) {
    let t0 = performance.now();
    await sampleRollouts(policy, task, problems, { budgets: [think], summariesPerGroup: 1, seed: r, summaryMaxTokens: 1 });
    thinkOnly.push(performance.now() - t0);
    t0 = performance.now();
    rollouts = await sampleRollouts(policy, task, problems, { budgets, summariesPerGroup: 4, seed: r });
    full.push(performance.now() - t0);
  }
  const summaryTokens = rollouts.reduce((n, r) => n + r.groups.reduce((m, g) => m + g.summaries.reduce((k, s) => k + s.tokens.length, 0), 0), 0);
  console.log(`sampling ${B}x${think} thinking tokens (+1 summary token): median ${median(thinkOnly).toFixed(0)} ms`);
  console.log(`rollouts with 4 budgets x A=4 summaries (${summaryTokens} summary tokens): median ${median(full).toFixed(0)} ms`);

  const batch = packTraces(rollouts, config.maxSeqLen);
  const weights = tf.tensor1d(Array.from(batch.layout.kind, (k) => (k === TokenKind.THINKING || k === TokenKind.SUMMARY ? 1 : 0)));
  const optimizer = tf.train.adam(1e-4);
  const times: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(
      () => tf.neg(tf.sum(tf.mul(packedLogProbs(policy, batch).logp, weights))) as tf.Scalar,
      policy.variables(),
    );
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
    if (r > 0) times.push(performance.now() - t0);
  }
  console.log(`train step (tree-packed forward+backward+Adam) on ${batch.rows} rows x ${batch.length} columns: median ${median(times).toFixed(0)} ms`);
  const fwd: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const out = tf.tidy(() => packedLogProbs(policy, batch).logp);
    await out.data();
    out.dispose();
    fwd.push(performance.now() - t0);
  }
  console.log(`tree-packed forward only: median ${median(fwd).toFixed(0)} ms`);
  weights.dispose();
  optimizer.dispose();
  policy.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
