/**
 * `anytime reproduce [--preset quick|full|notebook] [--task chain|search] [--steps N] [--seeds N] [--runs grpo,ar-uniform,…] [--out DIR]`
 */
import { AnytimeInputError } from '../core/errors.js';
import { MultiProgress } from '../util/progress.js';
import { PRESET_NAMES } from '../train/presets.js';
import { RUN_NAMES, type RunName } from '../train/config.js';
import { defaultOutDir, reproduce, resolvePreset } from '../train/reproduce.js';
import { TASK_NAMES } from '../tasks/index.js';
import { parseArgs, usage } from './args.js';

export const summary = 'train GRPO and AnytimeReasoner runs on a synthetic task and write the comparison report';

const SPEC = {
  preset: { type: 'string', help: `one of ${PRESET_NAMES.join(', ')} (default quick)` },
  task: { type: 'string', help: `synthetic task, one of ${TASK_NAMES.join(', ')} (default: the preset's, chain)` },
  steps: { type: 'int', help: 'RL steps per run (default: the preset\'s)' },
  seeds: { type: 'int', help: 'seeds per run (default: the preset\'s)' },
  runs: { type: 'string', help: `comma-separated subset of ${RUN_NAMES.join(',')}` },
  out: { type: 'string', help: 'output folder (default runs/<preset>)' },
  workers: { type: 'int', help: 'worker threads (default: one per core; 0 = in this thread)' },
} as const;

/** A percentage over seeds: `72.6 ± 1.3 (3 seeds)`; one seed has no spread to show: `72.6 (1 seed)`. */
export function overSeeds(stat: { mean: number; std: number }, seeds: number): string {
  const mean = (100 * stat.mean).toFixed(1);
  return seeds > 1 ? `${mean} ± ${(100 * stat.std).toFixed(1)} (${seeds} seeds)` : `${mean} (${seeds} seed)`;
}

export async function run(argv: string[]): Promise<number> {
  try {
    const { values, help } = parseArgs(argv, SPEC);
    if (help) {
      console.log(usage('reproduce', summary, SPEC));
      return 0;
    }
    const bars = new MultiProgress();
    const started = Date.now();
    const result = await reproduce({
      preset: values.preset,
      task: values.task,
      steps: values.steps,
      seeds: values.seeds,
      runs: values.runs?.split(',').map((r) => r.trim()) as RunName[] | undefined,
      out: values.out,
      workers: values.workers,
      onProgress: (p) => bars.update(p.id, p.phase, p.done, p.total, p.status),
    });
    const out = values.out ?? defaultOutDir(resolvePreset({ preset: values.preset, task: values.task, steps: values.steps }));
    console.log(`\nreport: ${out}/report.md (${((Date.now() - started) / 60000).toFixed(1)} min)`);
    console.log(`${'run'.padEnd(14)} ${'anytime'.padEnd(22)} final`);
    if (result.base) console.log(`${'base policy'.padEnd(14)} ${(100 * result.base.anytime).toFixed(1).padEnd(22)} ${(100 * result.base.final).toFixed(1)}`);
    for (const r of result.runs) {
      console.log(`${r.run.padEnd(14)} ${overSeeds(r.anytime, r.seeds).padEnd(22)} ${overSeeds(r.final, r.seeds)}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof AnytimeInputError) {
      console.error(`anytime reproduce: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
