/**
 * The tiny-policy benchmark's workload, shared by the tfjs worker (scripts/bench-tiny-tfjs.ts)
 * and the PyTorch reference (scripts/bench_torch.py, which reads the files `writeTorchInputs`
 * writes): same config, same seeded initial weights, same batch, same loss.
 *
 * Shape (docs ENGINE-NOTES.md, "The tiny policy, side by side"): B = 64 sequences of
 * 16 prompt tokens (BOS + 15) + 80 new tokens; d_model 64, 2 layers, 4 heads, MLP 256, vocab 32.
 *   - training step: the tree-packed training forward of src/model (`packedLogProbs`) over the 64
 *     full sequences (96 columns each, causal), token log-probs and entropies, the scalar loss
 *     −Σ w·logp/Σw − entropyCoef·Σ w·entropy/Σw over the 80 new tokens, backward, one Adam update;
 *   - sampling: KV-cache sampling of 80 tokens at temperature 1 for the 64 prompts (prefill, then
 *     one token per step, no stop token).
 */
import { join } from 'node:path';
import { seededRng, randInt } from '../src/core/rng.js';
import { SPECIAL } from '../src/tasks/types.js';
import { makeConfig, initialWeights, parameterShapes, type TransformerConfig } from '../src/model/transformer.js';
import { packTraces, TokenKind, type PackedBatch } from '../src/model/forward.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js';

/** The benchmark's fixed sizes. */
export const TINY_BENCH = {
  rows: 64,
  /** Prompt tokens per row, BOS included. */
  promptLength: 16,
  newTokens: 80,
  vocabSize: 32,
  dModel: 64,
  nLayers: 2,
  nHeads: 4,
  dMlp: 256,
  learningRate: 1e-3,
  entropyCoef: 0.01,
  seed: 0,
} as const;

export interface TinyInputs {
  config: TransformerConfig;
  weights: Map<string, Float32Array>;
  /** The training batch: one 96-column row per sequence, causal mask. */
  batch: PackedBatch;
  /** Loss weight per packed column: 1/count on the new tokens, 0 elsewhere. */
  lossWeights: Float32Array;
  /** Sampling prefixes [rows][promptLength], each starting with BOS. */
  prompts: number[][];
}

/** Builds the workload from the fixed seed (deterministic). */
export function makeTinyInputs(): TinyInputs {
  const s = TINY_BENCH;
  const config = makeConfig({
    vocabSize: s.vocabSize,
    maxSeqLen: s.promptLength + s.newTokens,
    dModel: s.dModel,
    nLayers: s.nLayers,
    nHeads: s.nHeads,
    dMlp: s.dMlp,
    tiedHead: false,
    seed: s.seed,
  });
  const rng = seededRng(s.seed + 1);
  const firstPlain = SPECIAL.ELLIPSIS + 1; // ordinary tokens only
  const token = () => randInt(rng, firstPlain, s.vocabSize - 1);
  const prompts = Array.from({ length: s.rows }, () => [SPECIAL.BOS, ...Array.from({ length: s.promptLength - 1 }, token)]);
  const traces = prompts.map((p) => ({ prompt: p.slice(1), thinking: Array.from({ length: s.newTokens }, token), groups: [] }));
  const batch = packTraces(traces, config.maxSeqLen, { shareRows: false });
  if (batch.rows !== s.rows || batch.length !== s.promptLength + s.newTokens) {
    throw new Error(`bench: packed batch is ${batch.rows}x${batch.length}, expected ${s.rows}x${s.promptLength + s.newTokens}`);
  }
  const scored = batch.layout.kind.reduce((n, k) => n + (k === TokenKind.THINKING ? 1 : 0), 0);
  const lossWeights = Float32Array.from(batch.layout.kind, (k) => (k === TokenKind.THINKING ? 1 / scored : 0));
  return { config, weights: initialWeights(config), batch, lossWeights, prompts };
}

/** Writes the workload for scripts/bench_torch.py into `dir` (format in that script's docstring). */
export function writeTorchInputs(dir: string, inputs: TinyInputs): void {
  const { config, weights, batch, lossWeights, prompts } = inputs;
  const shapes = parameterShapes(config);
  const total = shapes.reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
  const flat = new Float32Array(total);
  let offset = 0;
  for (const [name] of shapes) {
    const w = weights.get(name)!;
    flat.set(w, offset);
    offset += w.length;
  }
  const bytes = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  writeFileAtomic(join(dir, 'params.f32'), bytes(flat));
  writeFileAtomic(join(dir, 'mask.f32'), bytes(batch.mask));
  writeFileAtomic(join(dir, 'ids.i32'), bytes(batch.ids));
  writeFileAtomic(join(dir, 'pos.i32'), bytes(batch.pos));
  writeFileAtomic(join(dir, 'targets.i32'), bytes(batch.targets));
  writeFileAtomic(join(dir, 'weights.f32'), bytes(lossWeights));
  writeFileAtomic(join(dir, 'prompts.i32'), bytes(Int32Array.from(prompts.flat())));
  writeJsonAtomic(join(dir, 'manifest.json'), {
    config,
    params: shapes,
    batch: { rows: batch.rows, length: batch.length },
    sampling: { rows: prompts.length, promptLength: TINY_BENCH.promptLength, newTokens: TINY_BENCH.newTokens },
    loss: { learningRate: TINY_BENCH.learningRate, entropyCoef: TINY_BENCH.entropyCoef },
  });
}

/**
 * Multiply-add FLOPs (2 per multiply-add) of one forward over `tokens` new tokens, each
 * attending `keys` keys on average: the linear layers and head, plus QKᵀ and P·V counted dense
 * (what the composed ops and PyTorch compute; the fused kernel skips masked blocks).
 */
export function forwardFlops(config: TransformerConfig, tokens: number, keys: number): number {
  const { dModel: d, dMlp: m, nLayers: L, vocabSize: V } = config;
  const perTokenLinear = L * 2 * (4 * d * d + 2 * d * m) + 2 * d * V;
  const perTokenAttention = L * 2 * 2 * keys * d;
  return tokens * (perTokenLinear + perTokenAttention);
}

/** FLOPs of the training step (backward ≈ 2x forward) and of the sampling run. */
export function workloadFlops(config: TransformerConfig): { train: number; sample: number; forward: number } {
  const { rows, promptLength: P, newTokens } = TINY_BENCH;
  const T = P + newTokens;
  const forward = forwardFlops(config, rows * T, T);
  let sample = forwardFlops(config, rows * P, P);
  for (let step = 1; step < newTokens; step++) sample += forwardFlops(config, rows, P + step);
  return { train: 3 * forward, sample, forward };
}
