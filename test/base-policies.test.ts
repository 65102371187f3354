/**
 * The committed base policies (data/base/) that the reproduction presets start from: each loads
 * from its cache key, and its held-out behaviour still shows what makes anytime reasoning
 * matter, the (a)-(c) measured in the task files: (a) trace lengths spread over the budget
 * support with some cut at b_max; (b) accuracy rising gradually with the budget; (c) final
 * accuracy well below 100%. Guards the presets against a kernel or model change that would
 * quietly break the cached weights, and against a task change that forgot to bump its version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { budgetSupport } from '../src/core/budget.js';
import { getTask, heldOutSet } from '../src/tasks/index.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { sampleRollouts, type Rollout } from '../src/model/sampler.js';
import { warmStartHash } from '../src/model/warmstart.js';
import { warmStartFor } from '../src/train/presets.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

for (const name of ['chain', 'search']) {
  describe(`${name}: committed base policy`, () => {
    const task = getTask(name);
    const path = join('data', 'base', `${name}-${warmStartHash(task, warmStartFor(name))}.ckpt`);
    const budgets = budgetSupport(task.maxThinking, 8);
    const n = 256;
    let rollouts: Rollout[] = [];
    let accuracy: number[] = [];

    beforeAll(async () => {
      expect(existsSync(path), `${path} is committed, so reproduce needs no warm start`).toBe(true);
      const { policy } = loadCheckpoint(path);
      const problems = heldOutSet(task, n, 0);
      rollouts = [];
      for (let i = 0; i < n; i += 64) {
        rollouts.push(...(await sampleRollouts(policy, task, problems.slice(i, i + 64), { budgets, summariesPerGroup: 1, seed: 1, temperature: 1 })));
      }
      policy.dispose();
      accuracy = budgets.map((_, j) => rollouts.reduce((s, r) => s + r.groups[r.plan.cuts[j].group].summaries[0].score, 0) / n);
    }, 120_000);
    afterAll(() => {
      rollouts = [];
    });

    it('(a) spreads its thinking lengths over the support, with some traces cut at b_max', () => {
      const finished = rollouts.filter((r) => r.finished).length / n;
      expect(finished).toBeGreaterThan(0.6);
      expect(finished).toBeLessThan(0.97);
      // Lengths (THINK_END included) per segment (b_{j-1}, b_j]: at least half the segments hold 4% of the traces.
      const perSegment = budgets.map((b, j) => rollouts.filter((r) => r.finished && r.thinking.length <= b && r.thinking.length > (j === 0 ? 0 : budgets[j - 1])).length);
      expect(perSegment.filter((c) => c >= 0.04 * n).length).toBeGreaterThanOrEqual(4);
    });

    it('(b) gains accuracy gradually with the budget', () => {
      const rise = accuracy[7] - accuracy[0];
      expect(rise).toBeGreaterThan(0.3);
      for (let j = 1; j < budgets.length; j++) {
        expect(accuracy[j]).toBeGreaterThan(accuracy[j - 1] - 0.06);
        expect(accuracy[j] - accuracy[j - 1]).toBeLessThan(0.5 * rise); // no single step carries it
      }
    });

    it('(c) leaves room to improve at b_max', () => {
      expect(accuracy[7]).toBeLessThan(0.92);
    });
  });
}
