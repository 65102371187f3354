/**
 * Where a policy falls short of its teacher: mean negative log-likelihood on fresh teacher traces,
 * grouped by the token before the scored one (thinking) and for summaries.
 *
 *   npx tsx scripts/teacher-loss.ts <checkpoint> [task=arithmetic] [--traces 64]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { getTask, trainingSampler } from '../src/tasks/index.js';
import { budgetSupport } from '../src/core/budget.js';
import { seededRng } from '../src/core/rng.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { teacherTree } from '../src/model/warmstart.js';
import { packTraces, packedLogProbs, TokenKind } from '../src/model/forward.js';

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  const [path, taskName = 'arithmetic'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (!path) throw new Error('usage: teacher-loss.ts <checkpoint> [task]');
  const i = process.argv.indexOf('--traces');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 64;
  const task = getTask(taskName);
  const { policy } = loadCheckpoint(path);
  const next = trainingSampler(task, 12345);
  const rng = seededRng(6789);
  const trees = Array.from({ length: n }, () => teacherTree(task, next(), budgetSupport(task.maxThinking, 4), task.maxThinking, rng));
  const batch = packTraces(trees, policy.config.maxSeqLen);
  const out = tf.tidy(() => packedLogProbs(policy, batch).logp);
  const logp = await out.data();
  out.dispose();
  const groups = new Map<string, { sum: number; count: number }>();
  for (let c = 0; c < logp.length; c++) {
    const kind = batch.layout.kind[c];
    if (kind !== TokenKind.THINKING && kind !== TokenKind.SUMMARY) continue;
    const key = kind === TokenKind.SUMMARY ? 'summary' : `thinking after '${task.vocab[batch.ids[c]]}'`;
    const g = groups.get(key) ?? { sum: 0, count: 0 };
    g.sum -= logp[c];
    g.count++;
    groups.set(key, g);
  }
  for (const [key, g] of [...groups].sort((a, b) => b[1].sum / b[1].count - a[1].sum / a[1].count)) {
    console.log(`${key.padEnd(24)} ${(g.sum / g.count).toFixed(3)} nats over ${g.count} tokens`);
  }
  policy.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
