/**
 * Child of test/parallel.test.ts's Ctrl-C test: a long training run on 2 threads that prints a
 * line after each step, so the test can interrupt it mid-run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { runConfig } from '../src/train/config.js';
import { train } from '../src/train/train.js';

await initBackend({ prefer: 'wasm', strict: true });
const config = runConfig('ar-uniform', {
  task: 'search', maxBudget: 16, steps: 1000, questionsPerStep: 4, groupSize: 2, evalQuestions: 4, evalSamples: 1, evalBudgetCount: 4, checkpointEvery: 1000, threads: 2,
});
console.log('threads 2');
await train(config, {
  outDir: mkdtempSync(join(tmpdir(), 'anytime-sigint-')),
  basePolicy: process.argv[2],
  onStep: (m) => console.log(`step ${m.step} done`),
});
