import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { seededRng } from '../src/core/rng.js';
import { SPECIAL, forcingTokens } from '../src/tasks/types.js';
import { TransformerPolicy, makeConfig, causalMask } from '../src/model/transformer.js';
import { tokenLogProbs } from '../src/model/ops.js';
import { sampleRollouts, requiredSeqLen, generate, type Rollout } from '../src/model/sampler.js';
import { packTraces, packedLogProbs, TokenKind } from '../src/model/forward.js';
import { toyTask } from './modelToyTask.js';

const budgets = [2, 4, 6, 8];
let policy: TransformerPolicy;
let rollouts: Rollout[];
const problems = Array.from({ length: 12 }, (_, i) => toyTask.sample(seededRng(100 + i)));
const options = { budgets, summariesPerGroup: 3, seed: 5 };

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  const maxSeqLen = requiredSeqLen(toyTask.maxPromptLength, 8, toyTask.summaryMaxTokens);
  policy = new TransformerPolicy(makeConfig({ vocabSize: toyTask.vocab.length, maxSeqLen, seed: 1 }));
  rollouts = await sampleRollouts(policy, toyTask, problems, options);
});
afterAll(() => policy.dispose());

/** Log-probs of `seq[1..]` from one plain causal forward of `seq`. */
function plainLogp(seq: number[]): Float32Array {
  return tf.tidy(() => {
    const T = seq.length;
    const { logits } = policy.run({
      ids: tf.tensor2d(seq, [1, T], 'int32'),
      pos: tf.tensor2d(Array.from({ length: T }, (_, i) => i), [1, T], 'int32'),
      mask: tf.tensor3d(causalMask([0], T), [1, T, T]),
    });
    return tokenLogProbs(logits, tf.tensor1d([...seq.slice(1), 0], 'int32')).logp;
  }).dataSync() as Float32Array;
}

describe('sampler', () => {
  it('rollouts have the documented shapes', () => {
    expect(rollouts).toHaveLength(problems.length);
    for (const r of rollouts) {
      expect(r.thinking.length).toBeGreaterThan(0);
      expect(r.thinking.length).toBeLessThanOrEqual(8);
      expect(r.thinkingLogp).toHaveLength(r.thinking.length);
      expect(r.finished).toBe(r.thinking[r.thinking.length - 1] === SPECIAL.THINK_END);
      expect(r.thinking.slice(0, -1)).not.toContain(SPECIAL.THINK_END);
      if (!r.finished) expect(r.thinking).toHaveLength(8);
      expect(r.groups.map((g) => g.cutLength)).toEqual(r.plan.groups.map((g) => g.cutLength));
      for (const g of r.groups) {
        expect(g.summaries).toHaveLength(3);
        for (const s of g.summaries) {
          expect(s.tokens.length).toBeGreaterThan(0);
          expect(s.tokens.length).toBeLessThanOrEqual(toyTask.summaryMaxTokens);
          expect(s.logp).toHaveLength(s.tokens.length);
          expect(s.tokens.slice(0, -1)).not.toContain(SPECIAL.EOS);
          if (s.tokens.length < toyTask.summaryMaxTokens) expect(s.tokens[s.tokens.length - 1]).toBe(SPECIAL.EOS);
          expect(s.score).toBe(toyTask.score(r.problem, s.tokens));
          for (const lp of s.logp) expect(lp).toBeLessThanOrEqual(0);
        }
      }
    }
  });

  it('cuts and merges prefix groups as the plan says, with the right forcing suffix', () => {
    // An untrained policy closes its thinking by chance (1/16 a step): both kinds must occur.
    expect(rollouts.some((r) => r.finished)).toBe(true);
    expect(rollouts.some((r) => !r.finished)).toBe(true);
    for (const r of rollouts) {
      const L = r.thinking.length;
      for (const [j, b] of budgets.entries()) {
        const g = r.groups[r.plan.cuts[j].group];
        expect(g.cutLength).toBe(Math.min(b, L));
        const cut = L > b || !r.finished;
        expect(g.cut).toBe(cut);
        expect(g.forcing).toEqual(cut ? [SPECIAL.ELLIPSIS, SPECIAL.THINK_END, SPECIAL.ANSWER] : [SPECIAL.ANSWER]);
      }
      // Budgets at or past a finished trace's end share one merged group.
      const past = budgets.map((b, j) => (b >= L ? j : -1)).filter((j) => j >= 0);
      if (r.finished && past.length > 0) {
        expect(new Set(past.map((j) => r.plan.cuts[j].group)).size).toBe(1);
        expect(r.groups).toHaveLength(budgets.length - past.length + 1);
      }
    }
  });

  it('same seed gives the same rollouts; another seed others', async () => {
    const again = await sampleRollouts(policy, toyTask, problems, options);
    expect(again).toEqual(rollouts);
    // Rows draw from their own streams: a batch of one reproduces its row of the big batch.
    const alone = await sampleRollouts(policy, toyTask, problems.slice(0, 1), options);
    expect(alone[0].thinking).toEqual(rollouts[0].thinking);
    const other = await sampleRollouts(policy, toyTask, problems, { ...options, seed: 6 });
    expect(other.map((r) => r.thinking)).not.toEqual(rollouts.map((r) => r.thinking));
  });

  it('generate: stops at a stop token or maxTokens, is seeded, and records true log-probs', async () => {
    const prefixes = [[SPECIAL.BOS, 7, 8], [SPECIAL.BOS, 9, 10, 11, 12, 13]];
    const opts = { maxTokens: 6, stopTokens: [SPECIAL.EOS, SPECIAL.THINK_END], seed: 2 };
    const out = await generate(policy, prefixes, opts);
    expect(await generate(policy, prefixes, opts)).toEqual(out);
    for (const [i, o] of out.entries()) {
      const last = o.tokens[o.tokens.length - 1];
      expect(o.stopped).toBe(last === SPECIAL.EOS || last === SPECIAL.THINK_END);
      if (!o.stopped) expect(o.tokens).toHaveLength(6);
      const plain = plainLogp([...prefixes[i], ...o.tokens]);
      o.logp.forEach((lp, j) => expect(Math.abs(lp - plain[prefixes[i].length - 1 + j])).toBeLessThan(1e-4));
    }
    await expect(generate(policy, prefixes, { ...opts, maxTokens: 1000 })).rejects.toThrow(/maxTokens/);
    await expect(generate(policy, [[1, 99]], opts)).rejects.toThrow(/prefixes\[0\]/);
  });

  it('sampling leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await sampleRollouts(policy, toyTask, problems.slice(0, 3), { ...options, maxBranchRows: 4 });
    await generate(policy, [[SPECIAL.BOS, 7]], { maxTokens: 5, seed: 0 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a policy too short for the rollouts, naming the field', async () => {
    await expect(sampleRollouts(policy, toyTask, problems, { ...options, budgets: [100] })).rejects.toThrow(/maxSeqLen/);
  });
});

describe('tree-packed training forward', () => {
  it('equals separate plain forwards and the sampler log-probs (≤1e-4)', () => {
    // Full rollouts plus short copies (first prefix group, one summary) that must share rows.
    const traces: Rollout[] = [...rollouts, ...rollouts.map((r) => ({ ...r, groups: [{ ...r.groups[0], summaries: r.groups[0].summaries.slice(0, 1) }] }))];
    const batch = packTraces(traces, policy.config.maxSeqLen);
    const { logp, entropy } = tf.tidy(() => packedLogProbs(policy, batch));
    const packed = logp.dataSync();
    const ent = entropy.dataSync();
    tf.dispose([logp, entropy]);
    const { kind, rollout, thinkIndex, group, sample, summaryIndex, oldLogp } = batch.layout;
    let vsPlain = 0;
    let vsSampler = 0;
    const seen = { thinking: 0, summary: 0, forcing: 0 };
    const trunks = traces.map((ro) => plainLogp([SPECIAL.BOS, ...ro.prompt, ...ro.thinking]));
    const branches = traces.map((ro) =>
      ro.groups.map((g) => g.summaries.map((s) => plainLogp([SPECIAL.BOS, ...ro.prompt, ...ro.thinking.slice(0, g.cutLength), ...g.forcing, ...s.tokens]))),
    );
    for (let i = 0; i < kind.length; i++) {
      if (kind[i] === TokenKind.NONE) continue;
      const r = rollout[i];
      const ro = traces[r];
      // Columns of trace r lie in its row, from its offset on.
      const col = i - batch.traceRow[r] * batch.length;
      expect(Math.floor(i / batch.length)).toBe(batch.traceRow[r]);
      expect(col).toBeGreaterThanOrEqual(batch.traceOffset[r]);
      expect(ent[i]).toBeGreaterThan(0);
      if (kind[i] === TokenKind.THINKING) {
        seen.thinking++;
        const j = thinkIndex[i];
        expect(batch.targets[i]).toBe(ro.thinking[j]);
        vsPlain = Math.max(vsPlain, Math.abs(packed[i] - trunks[r][ro.prompt.length + j]));
        vsSampler = Math.max(vsSampler, Math.abs(packed[i] - ro.thinkingLogp[j]));
        expect(oldLogp[i]).toBeCloseTo(ro.thinkingLogp[j], 6);
      } else {
        const g = ro.groups[group[i]];
        const s = g.summaries[sample[i]];
        const prefix = 1 + ro.prompt.length + g.cutLength;
        if (kind[i] === TokenKind.FORCING) {
          seen.forcing++;
          expect(g.forcing).toContain(batch.targets[i]);
          continue;
        }
        seen.summary++;
        const k = summaryIndex[i];
        expect(batch.targets[i]).toBe(s.tokens[k]);
        expect(oldLogp[i]).toBeCloseTo(s.logp[k], 6);
        // In the plain sequence, summary token k sits at prefix + |forcing| + k, scored from the column before.
        vsPlain = Math.max(vsPlain, Math.abs(packed[i] - branches[r][group[i]][sample[i]][prefix + g.forcing.length + k - 1]));
        vsSampler = Math.max(vsSampler, Math.abs(packed[i] - s.logp[k]));
      }
    }
    const expected = {
      thinking: traces.reduce((n, r) => n + r.thinking.length, 0),
      summary: traces.reduce((n, r) => n + r.groups.reduce((m, g) => m + g.summaries.reduce((k, s) => k + s.tokens.length, 0), 0), 0),
      // Every forcing token but the first of each branch is scored inside the branch.
      forcing: traces.reduce((n, r) => n + r.groups.reduce((m, g) => m + g.summaries.length * (g.forcing.length - 1), 0), 0),
    };
    expect(seen).toEqual(expected);
    // Short traces share rows (the longest sets the row length).
    expect(batch.rows).toBeLessThan(traces.length);
    expect(vsPlain).toBeLessThanOrEqual(1e-4);
    expect(vsSampler).toBeLessThanOrEqual(1e-4);
  });

  it('gives gradients for every parameter and leaks nothing', () => {
    const batch = packTraces(rollouts.slice(0, 4), policy.config.maxSeqLen);
    const weights = tf.tensor1d(Array.from(batch.layout.kind, (k) => (k === TokenKind.THINKING || k === TokenKind.SUMMARY ? 1 : 0)));
    const step = (): number[] => {
      const { value, grads } = tf.variableGrads(
        () => tf.neg(tf.sum(tf.mul(packedLogProbs(policy, batch).logp, weights))) as tf.Scalar,
        policy.variables(),
      );
      const normTensors = Object.values(grads).map((g) => tf.norm(g));
      const norms = normTensors.map((n) => n.dataSync()[0]);
      tf.dispose(normTensors);
      tf.dispose([value, ...Object.values(grads)]);
      return norms;
    };
    step();
    const before = tf.memory().numTensors;
    const norms = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(norms).toHaveLength(policy.variables().length);
    for (const n of norms) expect(n).toBeGreaterThan(0);
    weights.dispose();
  });

  it('checks the forcing of a hand-made tree', () => {
    const batch = packTraces(
      [{ prompt: [7], thinking: [8, 9, SPECIAL.THINK_END], groups: [{ cutLength: 1, cut: true, summaries: [{ tokens: [10, 2] }] }, { cutLength: 3, cut: false, summaries: [{ tokens: [11, 2] }] }] }],
      64,
    );
    const T = batch.length;
    // Trunk BOS 7 8 9 </think> | ... </think> <answer> 10 EOS | <answer> 11 EOS
    expect(Array.from(batch.ids.slice(0, T))).toEqual([1, 7, 8, 9, 3, 5, 3, 4, 10, 2, 4, 11, 2]);
    expect(Array.from(batch.pos.slice(0, T))).toEqual([0, 1, 2, 3, 4, 3, 4, 5, 6, 7, 5, 6, 7]);
    expect(forcingTokens(true)).toEqual([5, 3, 4]);
    // The token "10" (column 8) sees BOS, 7, 8 (prefix) and its own branch, nothing else.
    const row = Array.from(batch.mask.slice(8 * T, 9 * T), (m) => (m === 0 ? 1 : 0));
    expect(row).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
  });
});
