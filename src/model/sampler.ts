/**
 * Rollouts for anytime reasoning with a key/value cache, batched over B problems.
 *
 * 1. Thinking: from [BOS, ...prompt] (left-padded to a common length), sample tokens at the
 *    given temperature until THINK_END or `bMax` tokens.
 * 2. Summaries: cut each trace at every budget (`cutPlan`: budgets past the end of a finished
 *    trace share one merged prefix group). For each prefix group, A summaries are sampled by
 *    forking the trace's cache at the cut — the prefix's keys/values are reused, never
 *    recomputed — feeding the forcing suffix, then sampling until EOS or `summaryMaxTokens`.
 *
 * Token choice happens in JS from the read-back logits with per-row seeded streams, and every
 * row's numbers are computed alike whichever rows share its batch (on wasm with kernels/, bit for
 * bit): prompts are left-padded to the task's longest prompt rather than the batch's, a summary
 * takes from the trunk cache only the thinking tokens every trunk holds (all but the trace's
 * last), and branch caches put their first written column after the longest possible prefix.
 * So splitting the problems into parts (`firstRow`) and sampling the parts anywhere — another
 * batch, another worker thread — gives exactly the rollouts of one batch.
 *
 * Where the backend can write a cache in place (wasm with kernels/ registered), caches are
 * preallocated and each step writes only its new column (no concat per step), and forks copy
 * only the prefix rows they need.
 *
 * Cost (measured on wasm with kernels/, scripts/bench-model.ts): 64 traces of 80 thinking
 * tokens ≈ 0.09 s; with summaries at 4 budgets × A = 4 (1024 forked rows, ≤ 8 tokens each)
 * ≈ 0.27 s in all (0.24 s and 1.1 s before the in-place cache, fork kernel and fused layers).
 */
import * as tf from '@tensorflow/tfjs';
import { fail, checkPositiveInt } from '../core/errors.js';
import { deriveSeed, sampleIndex, seededRng, type Rng } from '../core/rng.js';
import { cutPlan, type CutPlan, type PrefixGroup } from '../core/truncation.js';
import { checkBudgets } from '../core/budget.js';
import { SPECIAL, forcingTokens, type Task, type TaskProblem } from '../tasks/types.js';
import { MASKED, canWriteCacheInPlace, forkKVRows } from './ops.js';
import { causalMask, disposeCache, type KVCache, type TransformerPolicy } from './transformer.js';

export interface Summary {
  /** Sampled summary tokens, EOS included when it was sampled. */
  tokens: number[];
  /** Sampling log-probability of each token in `tokens` (the "old" log-probs for PPO). */
  logp: number[];
  /** `task.score(problem, tokens)`. */
  score: 0 | 1;
}

export interface SummaryGroup extends PrefixGroup {
  /** Forcing tokens fed after the cut prefix (never trained). */
  forcing: number[];
  /** The A summaries sampled from this prefix. */
  summaries: Summary[];
}

export interface Rollout {
  problem: TaskProblem;
  /** Prompt tokens (without BOS). */
  prompt: number[];
  /** Thinking tokens, THINK_END included when the trace finished. */
  thinking: number[];
  /** Sampling log-probability of each thinking token. */
  thinkingLogp: number[];
  /** True when the trace closed its thinking (last token THINK_END) within `bMax`. */
  finished: boolean;
  /** Cut of the trace at every budget. */
  plan: CutPlan;
  /** One entry per `plan.groups` entry, same order. */
  groups: SummaryGroup[];
}

export interface SampleOptions {
  /** Strictly increasing budgets b_1 < … < b_m (thinking tokens, THINK_END included). */
  budgets: number[];
  /** Summaries per prefix group (A). */
  summariesPerGroup: number;
  /** Seed of all token choices. */
  seed: number;
  /** Thinking cap; default floor(last budget). */
  bMax?: number;
  /** Sampling temperature; 0 means greedy (log-probs then at temperature 1). Default 1. */
  temperature?: number;
  /** Cap on summary tokens, EOS included; default `task.summaryMaxTokens`. */
  summaryMaxTokens?: number;
  /** Most summary rows decoded at once (bounds memory). Default 512. */
  maxBranchRows?: number;
  /**
   * Index of `problems[0]` in the whole batch these problems are a part of (default 0): row b
   * draws from the streams of row `firstRow + b`, so parts sampled separately give the whole's rollouts.
   */
  firstRow?: number;
}

/** Longest position a rollout can reach, + 1: what `maxSeqLen` must be at least. */
export function requiredSeqLen(maxPromptLength: number, bMax: number, summaryMaxTokens: number): number {
  return 1 + maxPromptLength + bMax + 3 + summaryMaxTokens;
}

/** Draws one token from a row of logits; returns it with its log-probability under the sampling law. */
export function sampleFromLogits(
  logits: ArrayLike<number>,
  offset: number,
  vocab: number,
  temperature: number,
  rng: Rng,
  scratch: Float64Array,
): { token: number; logp: number } {
  const greedy = temperature === 0;
  const inv = greedy ? 1 : 1 / temperature;
  let max = -Infinity;
  let argmax = 0;
  for (let i = 0; i < vocab; i++) {
    const z = logits[offset + i] * inv;
    scratch[i] = z;
    if (z > max) {
      max = z;
      argmax = i;
    }
  }
  let total = 0;
  for (let i = 0; i < vocab; i++) {
    scratch[i] = Math.exp(scratch[i] - max);
    total += scratch[i];
  }
  const token = greedy ? argmax : sampleIndex(scratch.subarray(0, vocab), rng);
  return { token, logp: Math.log(scratch[token] / total) };
}

/** Rows of the last column of logits [B·T, V] → [B, V] (inside tidy). */
function lastColumn(logits: tf.Tensor2D, B: number, T: number): tf.Tensor2D {
  const V = logits.shape[1];
  return tf.reshape(tf.slice(tf.reshape(logits, [B, T, V]), [0, T - 1, 0], [B, 1, V]), [B, V]);
}

/**
 * One cached decoding step for R rows: feeds `tokens` at `positions`, returns logits [R, V] and
 * the new cache. With `pastLength` the cache is preallocated and written in place at that column
 * (`keyMask` then spans the whole capacity); without, the cache grows by one column.
 */
function decodeStep(
  policy: TransformerPolicy,
  cache: KVCache,
  tokens: Int32Array,
  positions: Int32Array,
  keyMask: Float32Array,
  pastLength?: number,
): { logits: tf.Tensor2D; cache: KVCache } {
  const R = tokens.length;
  const Tk = keyMask.length / R;
  const out = tf.tidy(() => {
    const { logits, cache: next } = policy.run({
      ids: tf.tensor2d(tokens, [R, 1], 'int32'),
      pos: tf.tensor2d(positions, [R, 1], 'int32'),
      mask: tf.tensor3d(keyMask, [R, 1, Tk]),
      past: cache,
      pastLength,
      returnCache: true,
      differentiable: false,
    });
    return { logits, k: next!.k, v: next!.v };
  });
  return { logits: out.logits, cache: { k: out.k, v: out.v } };
}

/**
 * The cache copied into zero-filled buffers of `capacity` columns, for in-place decoding (the
 * zeros keep the unwritten, masked columns finite). Disposes the input cache.
 */
function withCapacity(cache: KVCache, capacity: number): KVCache {
  const grown = tf.tidy(() => {
    const grow = (t: tf.Tensor4D): tf.Tensor4D => {
      const [B, H, T, D] = t.shape;
      return T >= capacity ? tf.clone(t) : tf.concat([t, tf.zeros([B, H, capacity - T, D])], 2);
    };
    return { k: cache.k.map(grow), v: cache.v.map(grow) };
  });
  disposeCache(cache);
  return grown;
}

/**
 * Samples rollouts for `problems` (one trace each) with forced summaries at every budget.
 * Everything returned is plain data; no tensors outlive the call.
 */
export async function sampleRollouts(
  policy: TransformerPolicy,
  task: Task,
  problems: TaskProblem[],
  options: SampleOptions,
): Promise<Rollout[]> {
  const { budgets, summariesPerGroup: A, seed, temperature = 1, maxBranchRows = 512, firstRow = 0 } = options;
  checkBudgets(budgets);
  checkPositiveInt('summariesPerGroup', A);
  checkPositiveInt('maxBranchRows', maxBranchRows);
  if (!(Number.isInteger(firstRow) && firstRow >= 0)) fail('firstRow', `must be an integer ≥ 0, got ${firstRow}`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) fail('temperature', `must be a finite number ≥ 0, got ${temperature}`);
  if (problems.length === 0) fail('problems', 'must hold at least one problem');
  const bMax = options.bMax ?? Math.floor(budgets[budgets.length - 1]);
  checkPositiveInt('bMax', bMax);
  const summaryMax = options.summaryMaxTokens ?? task.summaryMaxTokens;
  checkPositiveInt('summaryMaxTokens', summaryMax);
  const V = policy.config.vocabSize;
  if (task.vocab.length > V) fail('task', `vocabulary has ${task.vocab.length} tokens but the policy only ${V}`);
  const maxPrompt = Math.max(...problems.map((p) => p.prompt.length));
  const need = requiredSeqLen(maxPrompt, bMax, summaryMax);
  if (need > policy.config.maxSeqLen) {
    fail('policy.config.maxSeqLen', `is ${policy.config.maxSeqLen} but prompts of ${maxPrompt} tokens, bMax ${bMax} and summaries of ${summaryMax} need ${need}`);
  }
  const scratch = new Float64Array(V);

  // ---- Thinking ----
  // Prompts are padded to the task's longest (not the batch's), so a row's numbers do not depend
  // on the other prompts of its batch.
  const think = await decodeBatch(
    policy,
    problems.map((p, b) => ({
      prefix: [SPECIAL.BOS, ...p.prompt],
      maxTokens: bMax,
      temperature,
      rng: seededRng(deriveSeed(seed, 'think', firstRow + b)),
      isStop: (tokens) => tokens[tokens.length - 1] === SPECIAL.THINK_END,
    })),
    {},
    { prefixColumns: 1 + task.maxPromptLength },
  );
  const { pad, prefixLength: Lp, fed } = think;
  // Branch caches put their first written column here, after the longest prefix any trace can
  // leave in the trunk (Lp + bMax − 1), so where a summary's keys sit does not depend on the batch.
  const branchStart = Lp + bMax - 1;
  let cache = think.cache;
  const thinking = think.outputs.map((o) => o.tokens);
  const thinkingLogp = think.outputs.map((o) => o.logp);
  const finished = think.outputs.map((o) => o.stopped);
  try {
    // ---- Summaries, forked from the cache at each cut ----
    const rollouts: Rollout[] = problems.map((problem, b) => {
      const plan = cutPlan(thinking[b].length, finished[b], budgets);
      return {
        problem,
        prompt: [...problem.prompt],
        thinking: thinking[b],
        thinkingLogp: thinkingLogp[b],
        finished: finished[b],
        plan,
        groups: plan.groups.map((g) => ({ ...g, budgetIndices: [...g.budgetIndices], forcing: forcingTokens(g.cut), summaries: [] as Summary[] })),
      };
    });
    const branches: Branch[] = [];
    rollouts.forEach((r, b) =>
      r.groups.forEach((g, gi) => {
        // A trace's last thinking token is in the trunk cache only when a longer trace shared the
        // batch: take at most the others, so the branch is computed alike in any batch.
        const inCache = Math.min(g.cutLength, r.thinking.length - 1);
        if (inCache > fed) throw new Error(`internal: prefix of ${inCache} thinking tokens but only ${fed} in the cache`);
        for (let a = 0; a < A; a++) {
          branches.push({
            rollout: b,
            group: gi,
            pad: pad[b],
            keyEnd: Lp + inCache,
            startPos: 1 + r.prompt.length + inCache,
            // Thinking tokens of the prefix not yet in the cache (at most the last one), then the forcing.
            pending: [...r.thinking.slice(inCache, g.cutLength), ...g.forcing],
            rng: seededRng(deriveSeed(seed, 'summary', firstRow + b, gi, a)),
            tokens: [],
            logp: [],
            done: false,
          });
        }
      }),
    );
    // Without in-place writes the trunk holds only the columns fed; zeros stand in up to branchStart.
    if (cache.k[0].shape[2] < branchStart) cache = withCapacity(cache, branchStart);
    for (let start = 0; start < branches.length; start += maxBranchRows) {
      await decodeBranches(policy, cache, branches.slice(start, start + maxBranchRows), { temperature, summaryMax, scratch, branchStart });
    }
    for (const br of branches) {
      const r = rollouts[br.rollout];
      r.groups[br.group].summaries.push({ tokens: br.tokens, logp: br.logp, score: task.score(r.problem, br.tokens) });
    }
    return rollouts;
  } finally {
    disposeCache(cache);
  }
}

/** One continuation of `generate`. */
export interface Continuation {
  /** Generated tokens, the stop token included when one was sampled. */
  tokens: number[];
  /** Sampling log-probability of each generated token. */
  logp: number[];
  /** True when generation ended on a stop token, or the row's stop test (false: it hit `maxTokens`). */
  stopped: boolean;
}

export interface GenerateOptions {
  /** Most tokens generated per prefix. */
  maxTokens: number;
  /** Generation of a row ends after it samples one of these. Default [EOS]. */
  stopTokens?: number[];
  /** Sampling temperature; 0 is greedy. Default 1. */
  temperature?: number;
  /** Seed; row i draws from the stream `deriveSeed(seed, 'generate', i)`. */
  seed: number;
}

/**
 * Batched sampling with a key/value cache: continues each token prefix (give BOS yourself)
 * until a stop token or `maxTokens`. Rows are left-padded; row i's positions start at 0.
 */
export async function generate(policy: TransformerPolicy, prefixes: number[][], options: GenerateOptions): Promise<Continuation[]> {
  const { maxTokens, stopTokens = [SPECIAL.EOS], temperature = 1, seed } = options;
  checkPositiveInt('maxTokens', maxTokens);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) fail('temperature', `must be a finite number ≥ 0, got ${temperature}`);
  if (prefixes.length === 0 || prefixes.some((p) => p.length === 0)) fail('prefixes', 'must be non-empty token lists (start them with BOS)');
  const longest = Math.max(...prefixes.map((p) => p.length));
  if (longest + maxTokens > policy.config.maxSeqLen) {
    fail('maxTokens', `prefixes of ${longest} tokens + ${maxTokens} new ones exceed the policy's maxSeqLen ${policy.config.maxSeqLen}`);
  }
  const V = policy.config.vocabSize;
  for (const [i, p] of prefixes.entries()) {
    for (const t of p) if (!(Number.isInteger(t) && t >= 0 && t < V)) fail(`prefixes[${i}]`, `holds token ${t}, allowed 0..${V - 1}`);
  }
  const stop = new Set(stopTokens);
  const out = await decodeBatch(
    policy,
    prefixes.map((prefix, i) => ({ prefix, maxTokens, temperature, rng: seededRng(deriveSeed(seed, 'generate', i)), isStop: (tokens) => stop.has(tokens[tokens.length - 1]) })),
  );
  disposeCache(out.cache);
  return out.outputs;
}

/** One row of `decodeBatch`: a prefix to continue, and how. */
export interface DecodeRow {
  /** Token ids to continue (give BOS yourself); the row's positions start at 0. */
  prefix: number[];
  /** Most tokens generated for this row. */
  maxTokens: number;
  /** Sampling temperature; 0 is greedy. */
  temperature: number;
  /** This row's random stream (its token choices depend on nothing else). */
  rng: Rng;
  /** True when the tokens generated so far end the row; tested after each token, before `maxTokens`. */
  isStop: (tokens: number[]) => boolean;
}

/** Callbacks of `decodeBatch`. */
export interface DecodeHooks {
  /**
   * Called after row `row` samples `token`, with the logits [V] it was drawn from (a view that is
   * only valid during the call): what a caller needs for log-probs under another law than the
   * sampling one.
   */
  onToken?: (row: number, token: number, logits: Float32Array) => void;
  /** Called once per row, as soon as it finishes (before the rows still decoding do). */
  onRowDone?: (row: number, output: Continuation) => void;
}

/** Layout options of `decodeBatch`. */
export interface DecodeLayout {
  /**
   * Cache columns the prefixes are left-padded to (default, and at least, the longest prefix).
   * A fixed value makes each row's numbers independent of the other rows of the batch: with the
   * longest prefix of the batch, a row's padding — hence how the prefill's attention kernel groups
   * its keys — depends on the other rows.
   */
  prefixColumns?: number;
}

/** What `decodeBatch` returns; `cache` is the caller's to dispose (`disposeCache`). */
export interface DecodedBatch {
  outputs: Continuation[];
  /**
   * The key/value cache of the batch: row b's prefix occupies columns [pad[b], prefixLength) and
   * its generated token j (j < fed) column prefixLength + j.
   */
  cache: KVCache;
  pad: number[];
  prefixLength: number;
  /** Generated tokens fed into the cache (the same count for every row). */
  fed: number;
}

/** Fails with a message naming `rows[i].<field>` unless `row` can be decoded by `policy`. */
function checkDecodeRow(policy: TransformerPolicy, row: DecodeRow, i: number): void {
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

/**
 * The cached decoding loop of the project (`generate`, the thinking phase of `sampleRollouts`
 * and the server's `decodeRows`): continues every row, left-padded into one batch, until its stop
 * test holds or it has `maxTokens` tokens. Each row draws from its own stream, so its tokens do
 * not depend on which other rows share the batch (up to float rounding in the batched kernels).
 */
export async function decodeBatch(policy: TransformerPolicy, rows: DecodeRow[], hooks: DecodeHooks = {}, layout: DecodeLayout = {}): Promise<DecodedBatch> {
  if (rows.length === 0) fail('rows', 'must hold at least one row');
  rows.forEach((row, i) => checkDecodeRow(policy, row, i));
  const { prefixColumns = 0 } = layout;
  if (!(Number.isInteger(prefixColumns) && prefixColumns >= 0)) fail('prefixColumns', `must be an integer ≥ 0, got ${prefixColumns}`);
  const B = rows.length;
  const V = policy.config.vocabSize;
  const Lp = Math.max(prefixColumns, ...rows.map((r) => r.prefix.length));
  const pad = rows.map((r) => Lp - r.prefix.length);
  const ids = new Int32Array(B * Lp);
  const pos = new Int32Array(B * Lp);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Lp; i++) {
      ids[b * Lp + i] = i < pad[b] ? SPECIAL.PAD : rows[b].prefix[i - pad[b]];
      pos[b * Lp + i] = Math.max(0, i - pad[b]);
    }
  }
  const prefill = tf.tidy(() => {
    const { logits, cache } = policy.run({
      ids: tf.tensor2d(ids, [B, Lp], 'int32'),
      pos: tf.tensor2d(pos, [B, Lp], 'int32'),
      mask: tf.tensor3d(causalMask(pad, Lp), [B, Lp, Lp]),
      returnCache: true,
      differentiable: false,
    });
    return { last: lastColumn(logits, B, Lp), k: cache!.k, v: cache!.v };
  });
  // Where the backend can write the cache in place (wasm), it is preallocated for every token
  // this loop can feed (at most the longest maxTokens − 1) instead of growing by a concat per step.
  const inPlace = canWriteCacheInPlace();
  const capacity = Lp + Math.max(...rows.map((r) => r.maxTokens));
  let cache: KVCache = { k: prefill.k, v: prefill.v };
  if (inPlace) cache = withCapacity(cache, capacity);
  let logits: tf.Tensor2D = prefill.last;
  const scratch = new Float64Array(V);
  const outputs: Continuation[] = rows.map(() => ({ tokens: [], logp: [], stopped: false }));
  const active = new Array<boolean>(B).fill(true);
  let fed = 0; // generated tokens fed into the cache (same count for every row)
  try {
    for (;;) {
      const values = await logits.data<'float32'>();
      logits.dispose();
      let anyActive = false;
      for (let b = 0; b < B; b++) {
        if (!active[b]) continue;
        const row = rows[b];
        const o = outputs[b];
        const { token, logp } = sampleFromLogits(values, b * V, V, row.temperature, row.rng, scratch);
        o.tokens.push(token);
        o.logp.push(logp);
        hooks.onToken?.(b, token, values.subarray(b * V, (b + 1) * V));
        if (row.isStop(o.tokens)) o.stopped = true;
        if (o.stopped || o.tokens.length >= row.maxTokens) {
          active[b] = false;
          hooks.onRowDone?.(b, o);
        }
        anyActive ||= active[b];
      }
      if (!anyActive) break;
      const tokens = new Int32Array(B);
      const positions = new Int32Array(B);
      const written = Lp + fed + 1; // cache columns holding keys once this step's token is in
      const Tk = inPlace ? capacity : written;
      const keyMask = new Float32Array(B * Tk);
      for (let b = 0; b < B; b++) {
        // Rows that already stopped are fed padding; their cache entries past their end are never read.
        tokens[b] = fed < outputs[b].tokens.length ? outputs[b].tokens[fed] : SPECIAL.PAD;
        positions[b] = Math.min(rows[b].prefix.length + fed, policy.config.maxSeqLen - 1);
        for (let j = 0; j < pad[b]; j++) keyMask[b * Tk + j] = MASKED;
        for (let j = written; j < Tk; j++) keyMask[b * Tk + j] = MASKED; // not written yet
      }
      const step = decodeStep(policy, cache, tokens, positions, keyMask, inPlace ? Lp + fed : undefined);
      disposeCache(cache);
      cache = step.cache;
      logits = step.logits;
      fed++;
    }
  } catch (e) {
    disposeCache(cache);
    throw e;
  } finally {
    if (!logits.isDisposed) logits.dispose();
  }
  return { outputs, cache, pad, prefixLength: Lp, fed };
}

/** One summary being decoded from a forked prefix. */
interface Branch {
  rollout: number;
  group: number;
  /** Left padding of the rollout's row in the trunk cache. */
  pad: number;
  /** Trunk cache columns [pad, keyEnd) are the prefix. */
  keyEnd: number;
  /** Position id of the first pending token. */
  startPos: number;
  /** Tokens fed before sampling starts. */
  pending: number[];
  rng: Rng;
  tokens: number[];
  logp: number[];
  done: boolean;
}

/**
 * Decodes summary branches forked from the trunk cache. Each row attends its prefix, trunk columns
 * [pad, keyEnd), then its own tokens from column `branchStart` on (≥ every keyEnd), masked between.
 */
async function decodeBranches(
  policy: TransformerPolicy,
  trunk: KVCache,
  rows: Branch[],
  opts: { temperature: number; summaryMax: number; scratch: Float64Array; branchStart: number },
): Promise<void> {
  const R = rows.length;
  const V = policy.config.vocabSize;
  const T0 = opts.branchStart;
  // In place (wasm): room for every step the loop can take (pending tokens, then the summary).
  const inPlace = canWriteCacheInPlace();
  const capacity = T0 + Math.max(...rows.map((r) => r.pending.length)) + opts.summaryMax;
  // Fork: each row takes its rollout's cached keys/values (cut to the longest prefix needed,
  // with zeroed room for the in-place writes).
  let cache: KVCache = tf.tidy(() => {
    const index = tf.tensor1d(rows.map((r) => r.rollout), 'int32');
    const fork = (t: tf.Tensor4D): tf.Tensor4D => forkKVRows(t, index, T0, inPlace ? capacity : T0);
    return { k: trunk.k.map(fork), v: trunk.v.map(fork) };
  });
  try {
    for (let s = 0; ; s++) {
      const tokens = new Int32Array(R);
      const positions = new Int32Array(R);
      const written = T0 + s + 1;
      const Tk = inPlace ? capacity : written;
      const keyMask = new Float32Array(R * Tk);
      for (let r = 0; r < R; r++) {
        const row = rows[r];
        const k = s - row.pending.length;
        tokens[r] = k < 0 ? row.pending[s] : row.tokens[k] ?? SPECIAL.PAD;
        positions[r] = Math.min(row.startPos + s, policy.config.maxSeqLen - 1);
        const base = r * Tk;
        for (let j = 0; j < T0; j++) if (j < row.pad || j >= row.keyEnd) keyMask[base + j] = MASKED;
        for (let j = written; j < Tk; j++) keyMask[base + j] = MASKED; // not written yet
      }
      const step = decodeStep(policy, cache, tokens, positions, keyMask, inPlace ? T0 + s : undefined);
      disposeCache(cache);
      cache = step.cache;
      const values = await step.logits.data();
      step.logits.dispose();
      let anyLeft = false;
      for (let r = 0; r < R; r++) {
        const row = rows[r];
        if (row.done || s < row.pending.length - 1) {
          anyLeft ||= !row.done;
          continue;
        }
        const { token, logp } = sampleFromLogits(values, r * V, V, opts.temperature, row.rng, opts.scratch);
        row.tokens.push(token);
        row.logp.push(logp);
        if (token === SPECIAL.EOS || row.tokens.length >= opts.summaryMax) row.done = true;
        anyLeft ||= !row.done;
      }
      if (!anyLeft) break;
    }
  } finally {
    disposeCache(cache);
  }
}
