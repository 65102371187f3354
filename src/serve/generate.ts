/**
 * Plain continuation sampling for the server: each row continues its own prompt with its own
 * length limit, temperature, stop sequences and random stream, and any set of rows can be
 * decoded together in one key/value-cache batch (left-padded, as in src/model/sampler.ts).
 *
 * A row's token choices depend only on its seed and on its own logits, so the same request
 * gives the same completion whichever other requests share its batch (up to float rounding
 * in the batched kernels, which moves a draw only when it falls within ~1e-7 of a boundary).
 * Choice i of a request with seed s draws from `seededRng(choiceSeed(s, i))`.
 */
import * as tf from '@tensorflow/tfjs';
import { checkPositiveInt, fail } from '../core/errors.js';
import { deriveSeed, seededRng } from '../core/rng.js';
import { MASKED } from '../model/ops.js';
import { sampleFromLogits } from '../model/sampler.js';
import { causalMask, disposeCache, type KVCache, type TransformerPolicy } from '../model/transformer.js';
import { SPECIAL } from '../tasks/types.js';
import type { StopSequence } from './request.js';

/** Seed of choice `index` of a request seeded with `seed`. */
export function choiceSeed(seed: number, index: number): number {
  return deriveSeed(seed, 'choice', index);
}

/** One sequence to continue. */
export interface RowSpec {
  /** Prompt ids (BOS first). */
  prefix: number[];
  maxTokens: number;
  /** 0 is greedy. */
  temperature: number;
  /** Seed of this row's stream (see `choiceSeed`). */
  seed: number;
  /** Generation ends after a generated suffix equals one of these (EOS always ends it). */
  stops: StopSequence[];
  /** Alternatives per position to report, or null for none. */
  topLogprobs: number | null;
}

/** A token with its log-probability under the model (temperature 1). */
export interface TokenLogprob {
  token: number;
  logprob: number;
}

/** The continuation of one row. */
export interface RowOutput {
  /** Every generated token, the stop sequence (or EOS) included. */
  tokens: number[];
  /** Log-probability of each generated token under the model's distribution (temperature 1). */
  logprobs: number[];
  /** Per position: the `topLogprobs` most likely tokens, most likely first (null when not asked). */
  top: TokenLogprob[][] | null;
  finishReason: 'stop' | 'length';
  /** The stop sequence that ended the row (`null` with finishReason 'stop' means EOS). */
  stop: StopSequence | null;
  /** Trailing tokens of `tokens` that are the stop (EOS or stop sequence): not part of the text. */
  stopLength: number;
}

/** Options of `decodeRows`. */
export interface DecodeOptions {
  /** Called once per row, as soon as it finishes (before the others do). */
  onRowDone?: (row: number, output: RowOutput) => void;
}

const EOS_STOP: StopSequence = { ids: [SPECIAL.EOS], text: '' };

function checkRow(policy: TransformerPolicy, row: RowSpec, i: number): void {
  const V = policy.config.vocabSize;
  if (row.prefix.length === 0) fail(`rows[${i}].prefix`, 'must hold at least one token (BOS)');
  row.prefix.forEach((t, k) => {
    if (!(Number.isInteger(t) && t >= 0 && t < V)) fail(`rows[${i}].prefix[${k}]`, `must be a token id in 0..${V - 1}, got ${t}`);
  });
  checkPositiveInt(`rows[${i}].maxTokens`, row.maxTokens);
  if (row.prefix.length + row.maxTokens > policy.config.maxSeqLen) {
    fail(`rows[${i}].maxTokens`, `prefix of ${row.prefix.length} + ${row.maxTokens} new tokens exceeds the policy's maxSeqLen ${policy.config.maxSeqLen}`);
  }
  if (!(row.temperature >= 0) || !Number.isFinite(row.temperature)) fail(`rows[${i}].temperature`, `must be a finite number ≥ 0, got ${row.temperature}`);
}

/** log-softmax of one row of logits at temperature 1, into `out`. */
function logSoftmax(values: ArrayLike<number>, offset: number, V: number, out: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, values[offset + i]);
  let total = 0;
  for (let i = 0; i < V; i++) total += Math.exp(values[offset + i] - max);
  const logZ = max + Math.log(total);
  for (let i = 0; i < V; i++) out[i] = values[offset + i] - logZ;
}

/** The stop sequence the generated tokens now end with, if any. */
function endingStop(tokens: number[], stops: StopSequence[]): StopSequence | null {
  for (const s of stops) {
    const k = s.ids.length;
    if (tokens.length < k) continue;
    let match = true;
    for (let j = 0; j < k && match; j++) match = tokens[tokens.length - k + j] === s.ids[j];
    if (match) return s;
  }
  return null;
}

/**
 * Continues every row until EOS, one of its stop sequences, or its `maxTokens`, all rows in one
 * cached batch. Returns plain data; no tensors outlive the call.
 */
export async function decodeRows(policy: TransformerPolicy, rows: RowSpec[], options: DecodeOptions = {}): Promise<RowOutput[]> {
  if (rows.length === 0) return [];
  rows.forEach((r, i) => checkRow(policy, r, i));
  const B = rows.length;
  const V = policy.config.vocabSize;
  const Lp = Math.max(...rows.map((r) => r.prefix.length));
  const pad = rows.map((r) => Lp - r.prefix.length);
  const ids = new Int32Array(B * Lp);
  const pos = new Int32Array(B * Lp);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Lp; i++) {
      ids[b * Lp + i] = i < pad[b] ? SPECIAL.PAD : rows[b].prefix[i - pad[b]];
      pos[b * Lp + i] = Math.max(0, i - pad[b]);
    }
  }
  const rngs = rows.map((r) => seededRng(r.seed));
  const stops = rows.map((r) => [EOS_STOP, ...r.stops]);
  const outputs: RowOutput[] = rows.map((r) => ({ tokens: [], logprobs: [], top: r.topLogprobs === null ? null : [], finishReason: 'length', stop: null, stopLength: 0 }));
  const active = new Array<boolean>(B).fill(true);
  const scratch = new Float64Array(V);
  const logp = new Float64Array(V);

  const prefill = tf.tidy(() => {
    const { logits, cache } = policy.run({
      ids: tf.tensor2d(ids, [B, Lp], 'int32'),
      pos: tf.tensor2d(pos, [B, Lp], 'int32'),
      mask: tf.tensor3d(causalMask(pad, Lp), [B, Lp, Lp]),
      returnCache: true,
      differentiable: false,
    });
    const last = tf.reshape(tf.slice(tf.reshape(logits, [B, Lp, V]), [0, Lp - 1, 0], [B, 1, V]), [B, V]) as tf.Tensor2D;
    return { last, k: cache!.k, v: cache!.v };
  });
  let cache: KVCache = { k: prefill.k, v: prefill.v };
  let logits: tf.Tensor2D = prefill.last;
  let fed = 0; // generated tokens fed into the cache (same count for every row)
  try {
    for (;;) {
      const values = await logits.data();
      logits.dispose();
      let anyActive = false;
      for (let b = 0; b < B; b++) {
        if (!active[b]) continue;
        const o = outputs[b];
        const { token } = sampleFromLogits(values, b * V, V, rows[b].temperature, rngs[b], scratch);
        logSoftmax(values, b * V, V, logp);
        o.tokens.push(token);
        o.logprobs.push(logp[token]);
        if (o.top) {
          const order = Array.from({ length: V }, (_, i) => i).sort((x, y) => logp[y] - logp[x] || x - y);
          o.top.push(order.slice(0, rows[b].topLogprobs!).map((t) => ({ token: t, logprob: logp[t] })));
        }
        const stop = endingStop(o.tokens, stops[b]);
        if (stop) {
          o.finishReason = 'stop';
          o.stop = stop === EOS_STOP ? null : stop;
          o.stopLength = stop.ids.length;
        }
        if (stop || o.tokens.length >= rows[b].maxTokens) {
          active[b] = false;
          options.onRowDone?.(b, o);
        }
        anyActive ||= active[b];
      }
      if (!anyActive) break;
      const tokens = new Int32Array(B);
      const positions = new Int32Array(B);
      const Tk = Lp + fed + 1;
      const keyMask = new Float32Array(B * Tk);
      for (let b = 0; b < B; b++) {
        // Rows that already stopped are fed padding; their later cache entries are never read.
        tokens[b] = fed < outputs[b].tokens.length ? outputs[b].tokens[fed] : SPECIAL.PAD;
        positions[b] = Math.min(rows[b].prefix.length + fed, policy.config.maxSeqLen - 1);
        for (let j = 0; j < pad[b]; j++) keyMask[b * Tk + j] = MASKED;
      }
      const past = cache;
      const step = tf.tidy(() => {
        const out = policy.run({
          ids: tf.tensor2d(tokens, [B, 1], 'int32'),
          pos: tf.tensor2d(positions, [B, 1], 'int32'),
          mask: tf.tensor3d(keyMask, [B, 1, Tk]),
          past,
          returnCache: true,
          differentiable: false,
        });
        return { logits: out.logits, k: out.cache!.k, v: out.cache!.v };
      });
      disposeCache(past);
      cache = { k: step.k, v: step.v };
      logits = step.logits;
      fed++;
    }
  } finally {
    disposeCache(cache);
    if (!logits.isDisposed) logits.dispose();
  }
  return outputs;
}

/** Options of `generate`: one prompt, `n` choices. */
export interface GenerateOptions {
  maxTokens: number;
  /** Default 1; 0 is greedy. */
  temperature?: number;
  /** Choice i draws from `seededRng(choiceSeed(seed, i))`. */
  seed: number;
  /** Number of choices; default 1. */
  n?: number;
  /** Stop sequences in token ids (EOS always stops). */
  stopIds?: number[][];
  /** Alternatives per position to report; default none. */
  topLogprobs?: number | null;
}

/** The rows of `n` choices continuing one prompt. */
export function choiceRows(promptIds: number[], options: GenerateOptions & { stops?: StopSequence[] }): RowSpec[] {
  const n = options.n ?? 1;
  checkPositiveInt('n', n);
  const stops = options.stops ?? (options.stopIds ?? []).map((ids) => ({ ids: [...ids], text: '' }));
  stops.forEach((s, i) => {
    if (s.ids.length === 0) fail(`stopIds[${i}]`, 'must hold at least one token id');
  });
  return Array.from({ length: n }, (_, i) => ({
    prefix: promptIds,
    maxTokens: options.maxTokens,
    temperature: options.temperature ?? 1,
    seed: choiceSeed(options.seed, i),
    stops,
    topLogprobs: options.topLogprobs ?? null,
  }));
}

/**
 * Samples `n` continuations of `promptIds` (BOS first) in one batch: the server's sampler
 * without HTTP. The same arguments give the same choices as the server's batched decoding.
 */
export function generate(policy: TransformerPolicy, promptIds: number[], options: GenerateOptions): Promise<RowOutput[]> {
  return decodeRows(policy, choiceRows(promptIds, options));
}
