/**
 * Plain continuation sampling for the server: each row continues its own prompt with its own
 * length limit, temperature, stop sequences and random stream, and any set of rows can be
 * decoded together in one key/value-cache batch by the model's decoding loop (`decodeBatch` in
 * src/model/sampler.ts, with its in-place cache on wasm); this module adds the stop sequences and
 * the log-probs the API reports.
 *
 * A row's token choices depend only on its seed and on its own logits, so the same request
 * gives the same completion whichever other requests share its batch (up to float rounding
 * in the batched kernels, which moves a draw only when it falls within ~1e-7 of a boundary).
 * Choice i of a request with seed s draws from `seededRng(choiceSeed(s, i))`.
 */
import { checkPositiveInt, fail } from '../core/errors.js';
import { deriveSeed, seededRng } from '../core/rng.js';
import { decodeBatch } from '../model/sampler.js';
import { disposeCache, type TransformerPolicy } from '../model/transformer.js';
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

/** log-softmax of one row of logits at temperature 1, into `out`. */
function logSoftmax(values: Float32Array, V: number, out: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, values[i]);
  let total = 0;
  for (let i = 0; i < V; i++) total += Math.exp(values[i] - max);
  const logZ = max + Math.log(total);
  for (let i = 0; i < V; i++) out[i] = values[i] - logZ;
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
 * cached batch (`decodeBatch`, the model's decoding loop). Returns plain data; no tensors outlive
 * the call.
 */
export async function decodeRows(policy: TransformerPolicy, rows: RowSpec[], options: DecodeOptions = {}): Promise<RowOutput[]> {
  if (rows.length === 0) return [];
  const V = policy.config.vocabSize;
  const stops = rows.map((r) => [EOS_STOP, ...r.stops]);
  const outputs: RowOutput[] = rows.map((r) => ({ tokens: [], logprobs: [], top: r.topLogprobs === null ? null : [], finishReason: 'length', stop: null, stopLength: 0 }));
  const logp = new Float64Array(V);
  const decoded = await decodeBatch(
    policy,
    rows.map((r, b) => ({
      prefix: r.prefix,
      maxTokens: r.maxTokens,
      temperature: r.temperature,
      rng: seededRng(r.seed),
      isStop: (tokens) => endingStop(tokens, stops[b]) !== null,
    })),
    {
      // The server reports log-probs under the model (temperature 1), not the sampling law.
      onToken: (b, token, logits) => {
        const o = outputs[b];
        logSoftmax(logits, V, logp);
        o.tokens.push(token);
        o.logprobs.push(logp[token]);
        if (o.top) {
          const order = Array.from({ length: V }, (_, i) => i).sort((x, y) => logp[y] - logp[x] || x - y);
          o.top.push(order.slice(0, rows[b].topLogprobs!).map((t) => ({ token: t, logprob: logp[t] })));
        }
      },
      onRowDone: (b, done) => {
        const o = outputs[b];
        const stop = done.stopped ? endingStop(o.tokens, stops[b]) : null;
        if (stop) {
          o.finishReason = 'stop';
          o.stop = stop === EOS_STOP ? null : stop;
          o.stopLength = stop.ids.length;
        }
        options.onRowDone?.(b, o);
      },
    },
  );
  disposeCache(decoded.cache);
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
