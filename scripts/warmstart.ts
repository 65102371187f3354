/**
 * Builds (or loads from data/base/) the warm-started base policy of a task and reports its
 * loss, time and held-out accuracy at each budget of the support.
 *
 *   npx tsx scripts/warmstart.ts [task=arithmetic] [--steps 800] [--lr 3e-3] [--batch 32] [--layers 2] [--seed 0] [--eval 256] [--force]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import { rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { getTask, heldOutSet } from '../src/tasks/index.js';
import { budgetSupport } from '../src/core/budget.js';
import { basePolicy, meanTail, warmStartHash } from '../src/model/warmstart.js';
import { sampleRollouts, type Rollout } from '../src/model/sampler.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  // initBackend registers the project's SIMD kernels on wasm (several times faster training).
  await initBackend({ prefer: 'wasm' });
  const taskName = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'arithmetic';
  const task = getTask(taskName);
  const options = { steps: arg('steps', 800), seed: arg('seed', 0), lr: arg('lr', 3e-3), batchSize: arg('batch', 32), model: { nLayers: arg('layers', 2) }, onStep: ({ step, loss }: { step: number; loss: number }) => {
    if (step % 50 === 0) console.log(`step ${step} loss ${loss.toFixed(3)}`);
  } };
  const path = join('data', 'base', `${task.name}-${warmStartHash(task, options)}.ckpt`);
  if (process.argv.includes('--force') && existsSync(path)) rmSync(path);
  const { policy, cached, meta } = await basePolicy(task, options);
  const losses = meta.losses as number[];
  console.log(`${cached ? 'loaded' : 'trained'} ${path}: ${policy.parameterCount()} parameters, ${options.steps} steps in ${Number(meta.seconds).toFixed(1)} s, loss ${losses[0].toFixed(3)} → ${meanTail(losses, 20).toFixed(3)} (mean of last 20)`);

  const n = arg('eval', 256);
  const budgets = budgetSupport(task.maxThinking, 8);
  const problems = heldOutSet(task, n, 0);
  for (const temperature of [1, 0]) {
    const t0 = performance.now();
    const rollouts: Rollout[] = [];
    for (let i = 0; i < n; i += 64) {
      rollouts.push(...(await sampleRollouts(policy, task, problems.slice(i, i + 64), { budgets, summariesPerGroup: 1, seed: 1, temperature })));
    }
    const acc = budgets.map((_, j) => rollouts.reduce((s, r) => s + r.groups[r.plan.cuts[j].group].summaries[0].score, 0) / n);
    const finished = rollouts.filter((r) => r.finished).length / n;
    const meanLen = rollouts.reduce((s, r) => s + r.thinking.length, 0) / n;
    console.log(`held-out n=${n}, temperature ${temperature}: finished ${finished.toFixed(2)}, mean thinking ${meanLen.toFixed(1)} tokens, sampling ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    console.log(`  accuracy at budgets ${budgets.join(' ')}: ${acc.map((a) => a.toFixed(3)).join(' ')}`);
  }
  policy.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
