/**
 * Measures what the `arena` preset costs, to size it (docs/arena.md, "Time budget"): for every run
 * of the preset, a few training steps at the preset's batch size (CPU seconds per step, the first
 * two left out as warm-up) and one final evaluation on `--eval-questions` questions (CPU seconds
 * per question), all in this one thread. Then the preset's wall time with one worker thread per
 * core: Σ over runs and seeds of (steps × s/step + evaluations), divided by the workers.
 *
 * CPU time, not wall time: on a machine shared with other jobs the wall time of a step swings
 * with the load (from 2.4 to 22 s for the same GRPO step within minutes at load 15-20 on 2 cores);
 * CPU time swings less but is inflated too (0.83 CPU s against 0.149 wall s on an idle machine).
 * So the estimate is also given with every cost scaled by `--grpo-step` / (GRPO's measured CPU
 * s/step): the ratios between runs, measured back to back, anchored on GRPO's idle step time
 * (default 0.149 s: the mean step of the committed search runs, 2 workers on 2 idle cores).
 *
 *   npx tsx scripts/arena-timing.ts [--task search] [--steps 8] [--eval-questions 256] [--workers 2] [--grpo-step 0.149]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend.js';
import { getTask } from '../src/tasks/index.js';
import { warmStartHash } from '../src/model/warmstart.js';
import { runConfig, DEFAULT_TRAIN_CONFIG, type RunName } from '../src/train/config.js';
import { getPreset, seedsOf, warmStartFor } from '../src/train/presets.js';
import { train } from '../src/train/train.js';

const { values } = parseArgs({
  options: {
    task: { type: 'string', default: 'search' },
    steps: { type: 'string', default: '8' },
    'eval-questions': { type: 'string', default: '256' },
    workers: { type: 'string', default: '2' },
    'grpo-step': { type: 'string', default: '0.149' },
    runs: { type: 'string' },
  },
});
const task = getTask(values.task!);
const steps = Number(values.steps);
const evalQuestions = Number(values['eval-questions']);
const workers = Number(values.workers);
const preset = getPreset('arena');
const runs = (values.runs?.split(',') as RunName[] | undefined) ?? preset.runs;
const base = join('data', 'base', `${task.name}-${warmStartHash(task, warmStartFor(task.name))}.ckpt`);
await initBackend({ prefer: 'wasm' });

const p = { ...DEFAULT_TRAIN_CONFIG, ...preset.train };
const evalsPerRun = p.evalEvery > 0 ? Math.floor((p.steps - 1) / p.evalEvery) : 0;
console.log(`task ${task.name}; preset: ${p.steps} steps, final evaluation on ${p.evalQuestions} questions × ${p.evalSamples}, ${evalsPerRun} during training on ${p.evalEveryQuestions}`);
console.log('run                   CPU s/step   ×GRPO   eval CPU s/question');
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const measured: { run: RunName; step: number; evalPerQuestion: number }[] = [];
for (const run of runs) {
  const dir = mkdtempSync(join(tmpdir(), 'arena-timing-'));
  const config = runConfig(run, { ...preset.train, task: task.name, steps, evalQuestions, evalSamples: 1, evalEvery: 0, checkpointEvery: steps, threads: 1 });
  const marks: number[] = [];
  await train(config, { outDir: dir, basePolicy: base, onStep: () => marks.push(cpu()) });
  const end = cpu();
  rmSync(dir, { recursive: true, force: true });
  // marks[k] is the CPU clock when step k + 1 ended: steps 3..n are marks[2..n−1] (the first two
  // warm up the kernels); the evaluation is what follows the last step.
  if (marks.length < 3) throw new Error('--steps must be at least 3');
  const step = (marks[marks.length - 1] - marks[1]) / (marks.length - 2);
  const evalPerQuestion = (end - marks[marks.length - 1]) / evalQuestions;
  measured.push({ run, step, evalPerQuestion });
  const grpo = measured.find((m) => m.run === 'grpo')?.step ?? step;
  console.log(`${run.padEnd(20)} ${step.toFixed(3).padStart(11)} ${(step / grpo).toFixed(2).padStart(7)} ${evalPerQuestion.toFixed(4).padStart(14)}`);
}

let seconds = 0;
for (const m of measured) {
  const perRun = p.steps * m.step + m.evalPerQuestion * (p.evalQuestions * p.evalSamples + evalsPerRun * p.evalEveryQuestions);
  seconds += seedsOf(preset, m.run) * perRun;
}
console.log(`\nthe preset's ${measured.length} runs as measured: ${(seconds / 3600).toFixed(2)} CPU hours, ${(seconds / workers / 3600).toFixed(2)} h on ${workers} workers`);
const grpoStep = measured.find((m) => m.run === 'grpo')?.step;
if (grpoStep) {
  const scale = Number(values['grpo-step']) / grpoStep;
  console.log(`scaled to GRPO's idle step of ${values['grpo-step']} s: ${((seconds * scale) / workers / 3600).toFixed(2)} h on ${workers} workers`);
}
