/**
 * Training on WebGPU (the WGSL kernels of kernels/webgpu: attention, token log-probs, the dense
 * layers, the KV cache) against the same training on wasm (the SIMD kernels): a few AdamW
 * updates of the clipped surrogate on a fixed packed batch, and a short `train` run (rollouts with
 * forced summaries, advantages, updates), must give the same numbers within float tolerance.
 * Runs when ANYTIME_TEST_BACKENDS lists webgpu (CI: wasm,webgpu); the wasm side is its reference.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../src/core/rng.js';
import { packTraces, packedLogProbs, TokenKind, type TraceTree } from '../src/model/forward.js';
import { makeConfig, TransformerPolicy } from '../src/model/transformer.js';
import { warmStartHash } from '../src/model/warmstart.js';
import { warmStartFor } from '../src/train/presets.js';
import { getTask } from '../src/tasks/index.js';
import { runConfig } from '../src/train/config.js';
import { clippedSurrogateLoss } from '../src/train/loss.js';
import { AdamW } from '../src/train/optim.js';
import { train, type StepMetrics } from '../src/train/train.js';
import { kernelTestBackends, relError, runOn } from './kernels-util.js';
import { useBackend } from './backend-env.js';

const onWebGpu = kernelTestBackends().includes('webgpu');
const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/** Six traces with two cut groups of two summaries each, old log-probs and advantages from a seed. */
function fixedBatch() {
  const rng = seededRng(11);
  const tok = () => 6 + Math.floor(rng() * 26);
  const traces: TraceTree[] = Array.from({ length: 6 }, (_, i) => {
    const thinking = Array.from({ length: 8 + 2 * i }, tok);
    return {
      prompt: Array.from({ length: 3 + (i % 3) }, tok),
      thinking,
      thinkingLogp: thinking.map(() => -0.5 - 2 * rng()),
      groups: [4, thinking.length].map((cutLength) => ({
        cutLength,
        cut: cutLength < thinking.length,
        summaries: [0, 1].map(() => {
          const tokens = Array.from({ length: 2 + Math.floor(rng() * 2) }, tok);
          return { tokens, logp: tokens.map(() => -0.5 - 2 * rng()) };
        }),
      })),
    };
  });
  const batch = packTraces(traces, 48);
  const N = batch.layout.kind.length;
  const trained = (c: number) => batch.layout.kind[c] === TokenKind.THINKING || batch.layout.kind[c] === TokenKind.SUMMARY;
  const count = batch.layout.kind.filter((_, c) => trained(c)).length;
  const advantages = Float32Array.from({ length: N }, (_, c) => (trained(c) ? 2 * rng() - 1 : 0));
  const weights = Float32Array.from({ length: N }, (_, c) => (trained(c) ? 1 / count : 0));
  const oldLogp = Float32Array.from({ length: N }, (_, c) => (trained(c) ? batch.layout.oldLogp[c] : 0));
  return { batch, advantages, weights, oldLogp };
}

/** Loss and gradient norm of each of `steps` AdamW updates, then every weight, on the active backend. */
async function trainFixed(steps: number): Promise<{ losses: number[]; norms: number[]; weights: Float32Array }> {
  const { batch, advantages, weights, oldLogp } = fixedBatch();
  const config = makeConfig({ vocabSize: 32, maxSeqLen: 48, dModel: 32, nLayers: 2, nHeads: 4, dMlp: 64, seed: 5 });
  const policy = new TransformerPolicy(config);
  const variables = policy.variables();
  const optimizer = new AdamW(variables, { lr: 3e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0.01, gradClip: 1 });
  const [old, adv, w] = [oldLogp, advantages, weights].map((a) => tf.tensor1d(a));
  const losses: number[] = [];
  const norms: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { value, grads } = tf.variableGrads(() => {
      const { logp } = packedLogProbs(policy, batch, 0.8);
      return clippedSurrogateLoss(logp, old as tf.Tensor1D, adv as tf.Tensor1D, w as tf.Tensor1D, 0.2, 0.28);
    }, variables);
    losses.push((await value.data())[0]);
    norms.push(await optimizer.apply(variables.map((v) => grads[v.name])));
    tf.dispose([value, ...Object.values(grads)]);
  }
  const parts = await Promise.all(variables.map(async (v) => Float32Array.from(await v.data())));
  const flat = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    flat.set(p, offset);
    offset += p.length;
  }
  tf.dispose([old, adv, w]);
  optimizer.dispose();
  policy.dispose();
  return { losses, norms, weights: flat };
}

/**
 * A two-step `train` run of the reproduction's `chain` task from its committed base policy (which
 * solves some problems, so advantages and gradients are not zero); its step metrics and result.
 */
async function shortRun(dir: string): Promise<{ metrics: StepMetrics[]; result: unknown }> {
  const task = getTask('chain');
  const basePolicy = join('data', 'base', `${task.name}-${warmStartHash(task, warmStartFor(task.name))}.ckpt`);
  const config = runConfig('ar-uniform', {
    task: 'chain',
    maxBudget: 32,
    steps: 2,
    questionsPerStep: 2,
    groupSize: 4,
    updatesPerBatch: 1,
    evalQuestions: 3,
    evalSamples: 1,
    evalBudgetCount: 2,
    checkpointEvery: 1,
    lr: 3e-3,
  });
  const result = await train(config, { outDir: join(dir, 'run'), basePolicy });
  const metrics = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepMetrics);
  return { metrics, result: result?.eval };
}

describe.skipIf(!onWebGpu)('training on webgpu matches wasm', () => {
  it('four AdamW updates of the clipped surrogate on a packed tree batch: losses, gradient norms and weights', async () => {
    await runOn('wasm', () => []);
    const wasm = await trainFixed(4);
    await runOn('webgpu', () => []);
    const gpu = await trainFixed(4);
    expect(wasm.losses.every(Number.isFinite) && wasm.norms.every((n) => n > 1e-3)).toBe(true);
    // The run moves: the losses differ from step to step (a frozen run would match trivially).
    expect(new Set(wasm.losses.map((l) => l.toFixed(6))).size).toBe(4);
    // Measured on lavapipe: losses and gradient norms within 3e-7 (relative).
    gpu.losses.forEach((l, i) => expect(relDiff(l, wasm.losses[i])).toBeLessThanOrEqual(1e-5));
    gpu.norms.forEach((n, i) => expect(relDiff(n, wasm.norms[i])).toBeLessThanOrEqual(1e-5));
    // max |Δw| / max |w| (measured: 1.6e-6 on lavapipe).
    expect(relError(gpu.weights, wasm.weights)).toBeLessThanOrEqual(1e-4);
  }, 120_000);

  it('a short `train` run (rollouts with forced summaries, advantages, one update per step): same rollouts, losses and evaluation', async () => {
    const root = mkdtempSync(join(tmpdir(), 'anytime-webgpu-train-'));
    await useBackend('wasm');
    const wasm = await shortRun(join(root, 'wasm'));
    await useBackend('webgpu');
    const gpu = await shortRun(join(root, 'webgpu'));
    expect(gpu.metrics.length).toBe(2);
    for (const [i, m] of wasm.metrics.entries()) {
      const g = gpu.metrics[i];
      // Same sampled tokens: the rollouts' shape and scores are identical.
      expect([g.meanLength, g.finishedFraction, g.thinkingTokens, g.summaryTokens, g.reward]).toEqual([m.meanLength, m.finishedFraction, m.thinkingTokens, m.summaryTokens, m.reward]);
      expect(relDiff(g.loss, m.loss)).toBeLessThanOrEqual(1e-4);
      expect(relDiff(g.gradNorm, m.gradNorm)).toBeLessThanOrEqual(1e-4);
    }
    // Some step learned something (all-zero advantages would make the comparison empty).
    expect(Math.max(...wasm.metrics.map((m) => m.gradNorm))).toBeGreaterThan(1e-4);
    expect(gpu.result).toEqual(wasm.result);
  }, 240_000);
});
