/**
 * A minibatch's gradient as a fixed sum of chunk gradients, so that it comes out bit for bit the
 * same whichever thread computes which chunk, and however many threads there are.
 *
 * Float sums depend on their order, and a packed forward/backward sums over everything in its
 * batch (the weight gradient xᵀ·dy runs over all rows). So the minibatch is split into
 * `gradientChunks` chunks by a rule of the data alone (`splitIntoChunks`), each chunk is packed
 * and differentiated on its own (`chunkGradient`, on any thread: same code, same inputs, same
 * bits), and the chunk gradients are added in chunk order (`sumInChunkOrder`). One thread
 * computes the same chunks one after the other. The loss is linear in the columns and every
 * column keeps the minibatch's weight (`traceTargets`), so the sum is the minibatch's gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../core/errors.js';
import { packTraces, packedLogProbs, traceTreeLength, type TraceTree } from '../model/forward.js';
import type { Rollout } from '../model/sampler.js';
import type { TransformerPolicy } from '../model/transformer.js';
import { clippedSurrogateLoss } from './loss.js';
import { scatterTargets, type TraceTargets } from './targets.js';

/** The traces of one chunk with their targets: plain data, so it can be posted to a worker thread. */
export interface GradientChunk {
  traces: TraceTree[];
  targets: TraceTargets[];
}

/** Settings of the clipped surrogate each chunk is differentiated with. */
export interface SurrogateSettings {
  /** Sampling temperature (logits are divided by it, as when the traces were sampled). */
  temperature: number;
  clipLow: number;
  clipHigh: number;
}

/** A chunk's (or a minibatch's) loss and gradient; `grads` is flat, in `policy.variables()` order. */
export interface LossGradient {
  loss: number;
  grads: Float32Array;
}

/** What the packer needs of a rollout (no problem, plan or scores): less to post to a worker. */
export function traceTree(r: Rollout): TraceTree {
  return {
    prompt: r.prompt,
    thinking: r.thinking,
    thinkingLogp: r.thinkingLogp,
    groups: r.groups.map((g) => ({
      cutLength: g.cutLength,
      cut: g.cut,
      forcing: g.forcing,
      summaries: g.summaries.map((s) => ({ tokens: s.tokens, logp: s.logp })),
    })),
  };
}

/**
 * Splits traces into at most `chunks` chunks of similar work, by their data only: longest first
 * (ties by index), each to the chunk with the fewest tree tokens so far (ties to the lower
 * chunk). Returns the trace indices of each non-empty chunk, ascending.
 */
export function splitIntoChunks(traces: TraceTree[], chunks: number): number[][] {
  if (!(Number.isInteger(chunks) && chunks >= 1)) fail('chunks', `must be a positive integer, got ${chunks}`);
  const lengths = traces.map(traceTreeLength);
  const order = traces.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const load = new Array<number>(chunks).fill(0);
  const members: number[][] = Array.from({ length: chunks }, () => []);
  for (const i of order) {
    let c = 0;
    for (let k = 1; k < chunks; k++) if (load[k] < load[c]) c = k;
    load[c] += lengths[i];
    members[c].push(i);
  }
  return members.filter((m) => m.length > 0).map((m) => m.sort((a, b) => a - b));
}

/**
 * Loss and gradient of one chunk: packs its traces, scatters their targets into the columns,
 * differentiates the clipped surrogate and reads the gradient back, flat. Leaves no tensors.
 */
export async function chunkGradient(policy: TransformerPolicy, chunk: GradientChunk, settings: SurrogateSettings): Promise<LossGradient> {
  const variables = policy.variables();
  const batch = packTraces(chunk.traces, policy.config.maxSeqLen);
  const targets = scatterTargets(batch.layout, chunk.targets);
  const [old, adv, w] = [targets.oldLogp, targets.advantages, targets.weights].map((a) => tf.tensor1d(a));
  const { value, grads } = tf.variableGrads(() => {
    const { logp } = packedLogProbs(policy, batch, settings.temperature);
    return clippedSurrogateLoss(logp, old as tf.Tensor1D, adv as tf.Tensor1D, w as tf.Tensor1D, settings.clipLow, settings.clipHigh);
  }, variables);
  try {
    const flat = new Float32Array(variables.reduce((n, v) => n + v.size, 0));
    let offset = 0;
    for (const v of variables) {
      flat.set(await grads[v.name].data<'float32'>(), offset);
      offset += v.size;
    }
    return { loss: (await value.data())[0], grads: flat };
  } finally {
    tf.dispose([value, old, adv, w, ...Object.values(grads)]);
  }
}

/** Σ of the chunks' losses and gradients, added in chunk order (float32 sums, as a tensor add would). */
export function sumInChunkOrder(parts: LossGradient[]): LossGradient {
  if (parts.length === 0) fail('parts', 'must hold at least one chunk');
  const grads = Float32Array.from(parts[0].grads);
  let loss = parts[0].loss;
  for (const part of parts.slice(1)) {
    if (part.grads.length !== grads.length) fail('parts', `chunk gradients differ in size (${part.grads.length} vs ${grads.length})`);
    for (let i = 0; i < grads.length; i++) grads[i] += part.grads[i];
    loss += part.loss;
  }
  return { loss, grads };
}

/** The minibatch's chunks: `splitIntoChunks` of the traces, each with its traces' targets. */
export function gradientChunks(traces: TraceTree[], targets: TraceTargets[], chunks: number): GradientChunk[] {
  return splitIntoChunks(traces, chunks).map((members) => ({
    traces: members.map((i) => traces[i]),
    targets: members.map((i) => targets[i]),
  }));
}

/** A flat gradient as one tensor per variable (for the optimiser); the caller disposes them. */
export function unflattenGradient(variables: tf.Variable[], flat: Float32Array): tf.Tensor[] {
  let offset = 0;
  return variables.map((v) => {
    const t = tf.tensor(flat.subarray(offset, offset + v.size), v.shape, 'float32');
    offset += v.size;
    return t;
  });
}
