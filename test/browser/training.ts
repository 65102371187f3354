/**
 * Training steps run by the browser test in headless Chromium and recomputed in Node for
 * comparison (also by the Node parity tests on each backend).
 *
 * `policyStep`: one step of the tiny transformer policy (src/model) on the toolkit's own
 * pipeline: BRPO thinking advantages → token advantages → clipped PPO loss (src/tensor),
 * SGD (Adam's first step is ~lr·sign(g), whose sign flips on near-zero gradients between
 * backends; SGD's update is continuous in the gradient, so it compares cleanly).
 * `mlpStep`: a plain two-layer classifier step with Adam, no toolkit code.
 */
import * as tf from '@tensorflow/tfjs';
import { makeConfig, TransformerPolicy, causalMask } from '../../src/model/transformer.js';
import { tokenLogProbs } from '../../src/model/ops.js';
import { ppoClipLossTensor, thinkingAdvantagesTensor, tokenAdvantagesTensor } from '../../src/tensor/index.js';
import { seededRng, randInt } from '../../src/core/rng.js';
import { randomValues, type Nested } from './computations.js';

/** One optimiser step of a small MLP; returns [loss before, weights after]. */
async function mlpStep(): Promise<Nested[]> {
  // In tidy, so that the initial values (copied into the variables) are freed.
  const w1 = tf.tidy(() => tf.variable(tf.tensor2d(randomValues(11, 8 * 16, 0.5), [8, 16])));
  const w2 = tf.tidy(() => tf.variable(tf.tensor2d(randomValues(12, 16 * 4, 0.5), [16, 4])));
  const x = tf.tensor2d(randomValues(13, 32 * 8), [32, 8]);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 4), 'int32'), 4));
  const optimizer = tf.train.adam(0.01);
  const loss = optimizer.minimize(
    () => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(tf.matMul(tf.relu(tf.matMul(x, w1)), w2)), labels), 1))) as tf.Scalar,
    true,
    [w1, w2],
  );
  const out = [(await loss!.array()) as Nested, (await w1.array()) as Nested, (await w2.array()) as Nested];
  tf.dispose([w1, w2, x, labels, loss!]);
  optimizer.dispose();
  return out;
}

/**
 * One PPO step of a tiny policy on B = 2 traces of T = 8 thinking tokens, budgets 4 and 8.
 * Returns [loss, log-probs of the taken tokens after the step, gradient norm per parameter].
 */
async function policyStep(): Promise<Nested[]> {
  const B = 2;
  const T = 8;
  const V = 12;
  const budgets = [4, 8];
  const probs = [0.5, 0.5];
  const policy = new TransformerPolicy(makeConfig({ vocabSize: V, maxSeqLen: T, dModel: 16, nLayers: 1, nHeads: 2, dMlp: 32, seed: 7 }));
  const rng = seededRng(21);
  const idsData = Array.from({ length: B * T }, () => randInt(rng, 0, V - 1));
  const targetsData = Array.from({ length: B * T }, () => randInt(rng, 0, V - 1));
  const ids = tf.tensor2d(idsData, [B, T], 'int32');
  const pos = tf.tensor2d(Array.from({ length: B * T }, (_, i) => i % T), [B, T], 'int32');
  const mask = tf.tensor3d(causalMask([0, 0], T), [B, T, T]);
  const targets = tf.tensor1d(targetsData, 'int32');
  const logProbs = (): tf.Tensor2D => tf.reshape(tokenLogProbs(policy.run({ ids, pos, mask }).logits, targets).logp, [B, T]) as tf.Tensor2D;

  // Old log-probs: the current ones, shifted so that some ratios fall outside the clip range.
  const oldLogp = tf.tidy(() => tf.add(logProbs(), tf.tensor2d(randomValues(22, B * T, 0.4), [B, T]))) as tf.Tensor2D;
  // Scores of the two traces at the two budgets → BRPO advantages → per-token advantages;
  // the second trace stopped after 5 thinking tokens, so its last 3 positions do not train.
  const segment = thinkingAdvantagesTensor([[0, 1], [1, 0.5]], probs, { baseline: 'brpo' });
  const tokens = tokenAdvantagesTensor(segment, [8, 5], budgets, { sequenceLength: T });

  const optimizer = tf.train.sgd(0.5);
  const { value, grads } = tf.variableGrads(
    () => ppoClipLossTensor(logProbs(), oldLogp, tokens.advantages, tokens.mask, { aggregation: 'seq-mean-token-sum-norm' }),
    policy.variables(),
  );
  optimizer.applyGradients(grads);
  const gradNorms = tf.tidy(() => tf.stack(Object.values(grads).map((g) => tf.norm(g))));
  const after = tf.tidy(logProbs);
  const out = [(await value.array()) as Nested, (await after.array()) as Nested, (await gradNorms.array()) as Nested];
  tf.dispose([value, ...Object.values(grads), gradNorms, after, ids, pos, mask, targets, oldLogp, segment, tokens.advantages, tokens.mask]);
  optimizer.dispose();
  policy.dispose();
  return out;
}

export const BROWSER_TRAINING_STEPS: Record<string, () => Promise<Nested[]>> = {
  mlpStep,
  policyStep,
};
