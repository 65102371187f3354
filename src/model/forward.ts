/**
 * The training forward: log-probs (and entropies) of every trainable token of a batch of rollouts
 * in one forward per trace, by tree packing.
 *
 * Each trace becomes one tree: the trunk [BOS, ...prompt, ...thinking] followed by one branch per
 * summary, branch = [...forcing, ...summary tokens]; short trees share a row. A tree attention mask lets a branch token
 * see the trunk up to the cut (BOS + prompt + thinking[:cutLength]) and the earlier tokens of its
 * own branch only; its position ids continue from the cut. The result equals running every
 * (prefix + forcing + summary) sequence separately, at the cost of one forward per trace.
 *
 * Outputs are per packed column ("predictor" column i scores the token that follows it in its
 * trunk or branch): `layout.kind[i]` says whether that token is a thinking token, a summary token
 * or a forcing token (never trained), and which rollout / thinking index / group / sample it is.
 *
 * Cost (measured on wasm, scripts/bench-model.ts): 64 traces of 16 prompt + 80 thinking tokens
 * with 4 budgets × 4 summaries pack to 64 rows × 248 columns; forward ≈ 0.14 s, forward +
 * backward + Adam ≈ 0.43 s with the kernels of kernels/ registered (0.9 s and 3.3 s on stock
 * tfjs-wasm, whose batched and transposed matMuls run in a scalar loop).
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../core/errors.js';
import { SPECIAL, forcingTokens } from '../tasks/types.js';
import { MASKED, tokenLogProbs } from './ops.js';
import type { TransformerPolicy } from './transformer.js';

/** What the token scored at a packed column is. */
export const TokenKind = {
  NONE: 0,
  THINKING: 1,
  SUMMARY: 2,
  FORCING: 3,
} as const;

/** The minimal shape of a rollout the packer needs (a sampler `Rollout` is one). */
export interface TraceTree {
  prompt: number[];
  thinking: number[];
  thinkingLogp?: number[];
  groups: { cutLength: number; cut: boolean; forcing?: number[]; summaries: { tokens: number[]; logp?: number[] }[] }[];
}

/** A packed batch: inputs for one forward and, per column, what its log-prob means. */
export interface PackedBatch {
  rows: number;
  /** Columns per row (longest packed trace). */
  length: number;
  ids: Int32Array;
  pos: Int32Array;
  /** Additive tree mask [rows, length, length]. */
  mask: Float32Array;
  /** Token scored at each column ([rows·length]); PAD where the column scores nothing. */
  targets: Int32Array;
  layout: PackedLayout;
  /** Row of each trace, and the column where it starts in that row. */
  traceRow: Int32Array;
  traceOffset: Int32Array;
}

/** Per packed column (flat index row·length + column) of the scored token. */
export interface PackedLayout {
  kind: Uint8Array;
  /** Rollout index, −1 where kind is NONE. */
  rollout: Int32Array;
  /** Index of the thinking token in its trace (THINKING), else −1. */
  thinkIndex: Int32Array;
  /** Prefix group index (SUMMARY, FORCING), else −1. */
  group: Int32Array;
  /** Summary index a within its group (SUMMARY, FORCING), else −1. */
  sample: Int32Array;
  /** Index of the token within its summary (SUMMARY), else −1. */
  summaryIndex: Int32Array;
  /** Recorded sampling log-prob of the token where the rollout has one, else NaN. */
  oldLogp: Float32Array;
}

/** Tree length of one trace (packed columns): trunk plus every branch. */
export function traceTreeLength(t: TraceTree): number {
  let n = 1 + t.prompt.length + t.thinking.length;
  for (const g of t.groups) for (const s of g.summaries) n += (g.forcing ?? forcingTokens(g.cut)).length + s.tokens.length;
  return n;
}

/**
 * Packs traces into rows with a tree mask; `maxSeqLen` bounds the position ids.
 *
 * Several short traces share a row when they fit (first-fit decreasing into rows as long as the
 * longest trace; the mask keeps them apart and their position ids each start at 0): attention
 * costs rows·length², so filling rows instead of padding them is the cheapest speed-up.
 * `shareRows: false` gives one trace per row (for comparisons).
 */
export function packTraces(traces: TraceTree[], maxSeqLen: number, options: { shareRows?: boolean } = {}): PackedBatch {
  const { shareRows = true } = options;
  if (traces.length === 0) fail('traces', 'must hold at least one trace');
  const lengths = traces.map(traceTreeLength);
  const T = Math.max(...lengths);
  // First-fit decreasing (ties by index, so the packing is deterministic).
  const order = traces.map((_, r) => r).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const rowFill: number[] = [];
  const traceRow = new Int32Array(traces.length);
  const traceOffset = new Int32Array(traces.length);
  for (const r of order) {
    let row = shareRows ? rowFill.findIndex((used) => used + lengths[r] <= T) : -1;
    if (row === -1) {
      row = rowFill.length;
      rowFill.push(0);
    }
    traceRow[r] = row;
    traceOffset[r] = rowFill[row];
    rowFill[row] += lengths[r];
  }
  const R = rowFill.length;
  const N = R * T;
  const ids = new Int32Array(N);
  const pos = new Int32Array(N);
  const mask = new Float32Array(R * T * T).fill(MASKED);
  const targets = new Int32Array(N);
  const layout: PackedLayout = {
    kind: new Uint8Array(N),
    rollout: new Int32Array(N).fill(-1),
    thinkIndex: new Int32Array(N).fill(-1),
    group: new Int32Array(N).fill(-1),
    sample: new Int32Array(N).fill(-1),
    summaryIndex: new Int32Array(N).fill(-1),
    oldLogp: new Float32Array(N).fill(NaN),
  };
  const checkPos = (p: number, r: number): number => {
    if (p >= maxSeqLen) fail('traces', `trace ${r} reaches position ${p} but the policy's maxSeqLen is ${maxSeqLen}`);
    return p;
  };
  traces.forEach((t, r) => {
    // Column c of this trace is flat index base + c; its mask row is (base + c)·T, key columns off + j.
    const off = traceOffset[r];
    const base = traceRow[r] * T + off;
    const attend = (c: number, fromKey: number, toKey: number): void => {
      const row = (base + c) * T + off;
      for (let j = fromKey; j < toKey; j++) mask[row + j] = 0;
    };
    const P = t.prompt.length;
    const trunk = [SPECIAL.BOS, ...t.prompt, ...t.thinking];
    for (let i = 0; i < trunk.length; i++) {
      ids[base + i] = trunk[i];
      pos[base + i] = checkPos(i, r);
      attend(i, 0, i + 1);
    }
    t.thinking.forEach((tok, j) => {
      const at = base + P + j; // column of the token before thinking[j]
      targets[at] = tok;
      layout.kind[at] = TokenKind.THINKING;
      layout.rollout[at] = r;
      layout.thinkIndex[at] = j;
      if (t.thinkingLogp) layout.oldLogp[at] = t.thinkingLogp[j];
    });
    let col = trunk.length;
    t.groups.forEach((g, gi) => {
      if (!(g.cutLength >= 0 && g.cutLength <= t.thinking.length)) {
        fail('traces', `trace ${r} group ${gi} has cutLength ${g.cutLength}, allowed 0..${t.thinking.length}`);
      }
      const forcing = g.forcing ?? forcingTokens(g.cut);
      const prefix = 1 + P + g.cutLength;
      g.summaries.forEach((s, a) => {
        const branch = [...forcing, ...s.tokens];
        const start = col;
        for (let m = 0; m < branch.length; m++) {
          const c = start + m;
          ids[base + c] = branch[m];
          pos[base + c] = checkPos(prefix + m, r);
          attend(c, 0, prefix);
          attend(c, start, c + 1);
          if (m + 1 < branch.length) {
            const at = base + c;
            targets[at] = branch[m + 1];
            layout.rollout[at] = r;
            layout.group[at] = gi;
            layout.sample[at] = a;
            if (m + 1 < forcing.length) layout.kind[at] = TokenKind.FORCING;
            else {
              const k = m + 1 - forcing.length;
              layout.kind[at] = TokenKind.SUMMARY;
              layout.summaryIndex[at] = k;
              if (s.logp) layout.oldLogp[at] = s.logp[k];
            }
          }
        }
        // The first summary token is scored from the last forcing column, inside the branch;
        // the first forcing token (scored from the trunk) is never trained, so it is not recorded.
        col += branch.length;
      });
    });
  });
  // Padding columns at the end of each row attend only themselves (no NaN; never scored).
  for (let row = 0; row < R; row++) {
    for (let c = rowFill[row]; c < T; c++) mask[(row * T + c) * T + c] = 0;
  }
  return { rows: R, length: T, ids, pos, mask, targets, layout, traceRow, traceOffset };
}

/**
 * Log-probs and entropies at every packed column (differentiable; call inside `tf.tidy` or a
 * gradient function). Columns whose `layout.kind` is NONE hold meaningless values.
 *
 * @param temperature logits are divided by it, as in the sampler (default 1)
 * @returns `logp`, `entropy` [rows·length]
 */
export function packedLogProbs(
  policy: TransformerPolicy,
  batch: PackedBatch,
  temperature = 1,
): { logp: tf.Tensor1D; entropy: tf.Tensor1D } {
  if (!(temperature > 0)) fail('temperature', `must be > 0, got ${temperature}`);
  const { rows: R, length: T } = batch;
  const { logits } = policy.run({
    ids: tf.tensor2d(batch.ids, [R, T], 'int32'),
    pos: tf.tensor2d(batch.pos, [R, T], 'int32'),
    mask: tf.tensor3d(batch.mask, [R, T, T]),
  });
  const scaled = temperature === 1 ? logits : (tf.div(logits, temperature) as tf.Tensor2D);
  return tokenLogProbs(scaled, tf.tensor1d(batch.targets, 'int32'));
}
