/**
 * The tiny-policy benchmark's training step and sampling as the trainer runs them on a
 * ComputePool (src/train/parallel.ts), shared by `npm run bench` (scripts/bench-tiny-tfjs.ts
 * `--pool N`: the "every core" configuration) and scripts/bench-parallel.ts (1 thread vs N):
 *   - training step: `pool.update` on the benchmark's 64 × 96 batch (scripts/bench-tiny-inputs.ts)
 *     as `train` builds an update: the clipped surrogate (advantage 1, the benchmark's loss weights,
 *     the trainer's clip and temperature) over `gradientChunks` chunks summed in chunk order, then
 *     AdamW with the trainer's settings (lr, betas, weight decay, gradient clip);
 *   - sampling: `pool.generate` of 80 tokens at temperature 1 for the benchmark's 64 prompts, no
 *     stop token (the rows split over the threads).
 */
import { DEFAULT_TRAIN_CONFIG } from '../src/train/config.js';
import { gradientChunks, type GradientChunk, type SurrogateSettings } from '../src/train/gradient.js';
import { AdamW } from '../src/train/optim.js';
import type { ComputePool } from '../src/train/parallel.js';
import type { TransformerPolicy } from '../src/model/transformer.js';
import { TINY_BENCH, type TinyInputs } from './bench-tiny-inputs.js';

/** The trainer's surrogate settings (its defaults: src/train/config.ts). */
export const TRAINER_SURROGATE: SurrogateSettings = {
  temperature: DEFAULT_TRAIN_CONFIG.temperature,
  clipLow: DEFAULT_TRAIN_CONFIG.clipLow,
  clipHigh: DEFAULT_TRAIN_CONFIG.clipHigh,
};

/**
 * The benchmark's batch as the trainer's gradient chunks: row r is prompt r (BOS dropped: the
 * packer adds it) with its 80 target tokens as thinking, advantage 1 and the benchmark's loss
 * weight on every thinking token; old log-probs −3 (a ratio inside the clip range would do too:
 * the work is the same).
 */
export function trainerChunks(inputs: TinyInputs, chunks: number = DEFAULT_TRAIN_CONFIG.gradientChunks): GradientChunk[] {
  const { batch, prompts, lossWeights } = inputs;
  const perToken = lossWeights.find((w) => w > 0)!;
  const traces = prompts.map((p, r) => ({
    prompt: p.slice(1),
    thinking: Array.from(batch.targets.subarray(r * batch.length + p.length - 1, (r + 1) * batch.length - 1)),
    thinkingLogp: Array<number>(TINY_BENCH.newTokens).fill(-3),
    groups: [],
  }));
  const targets = traces.map((t) => ({ thinkingAdvantage: t.thinking.map(() => 1), thinkingWeight: t.thinking.map(() => perToken), summaries: [] }));
  return gradientChunks(traces, targets, chunks);
}

/** AdamW over the policy's variables with the trainer's settings and the benchmark's learning rate. */
export function trainerOptimizer(policy: TransformerPolicy): AdamW {
  const { beta1, beta2, weightDecay, gradClip } = DEFAULT_TRAIN_CONFIG;
  return new AdamW(policy.variables(), { lr: TINY_BENCH.learningRate, beta1, beta2, weightDecay, gradClip });
}

/** The two pooled workloads on `policy`; `sample` draws with a new seed on each call. */
export function poolWorkloads(
  pool: ComputePool,
  policy: TransformerPolicy,
  inputs: TinyInputs,
  optimizer: AdamW,
  chunks: GradientChunk[] = trainerChunks(inputs),
): { train: () => Promise<{ loss: number; gradNorm: number }>; sample: () => Promise<unknown> } {
  let seed = 0;
  return {
    train: () => pool.update(policy, optimizer, chunks, TRAINER_SURROGATE),
    sample: () => pool.generate(policy, inputs.prompts, { maxTokens: TINY_BENCH.newTokens, stopTokens: [], temperature: 1, seed: seed++ }),
  };
}
