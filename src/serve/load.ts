/**
 * Loading a checkpoint to serve: the policy, and the task whose codec reads its prompts.
 * Warm-start checkpoints record the task in `meta.task`; RL checkpoints (src/train) record
 * only the run, so their task is given with `--task`.
 */
import { basename } from 'node:path';
import { fail } from '../core/errors.js';
import { loadCheckpoint, type Checkpoint } from '../model/checkpoint.js';
import type { TransformerPolicy } from '../model/transformer.js';
import { getTask } from '../tasks/index.js';
import type { Task } from '../tasks/types.js';

export interface ServedModel {
  policy: TransformerPolicy;
  task: Task;
  checkpoint: Checkpoint;
  /** `modelId` as given, else the checkpoint's file name without `.ckpt`. */
  modelId: string;
  /** Facts shown in /v1/models. */
  info: Record<string, unknown>;
}

/** Loads `path`; `task` overrides (or supplies) the checkpoint's task name. */
export function loadServedModel(path: string, opts: { task?: string; modelId?: string } = {}): ServedModel {
  const { policy, checkpoint } = loadCheckpoint(path);
  try {
    const recorded = typeof checkpoint.meta.task === 'string' ? checkpoint.meta.task : undefined;
    const name = opts.task ?? recorded;
    if (!name) fail('--task', `is required: checkpoint '${path}' does not record its task (meta has ${Object.keys(checkpoint.meta).join(', ') || 'no fields'})`);
    const task = getTask(name);
    if (task.vocab.length > policy.config.vocabSize) {
      fail('--task', `'${name}' has ${task.vocab.length} tokens but the checkpoint's policy only ${policy.config.vocabSize}`);
    }
    const modelId = opts.modelId ?? basename(path).replace(/\.ckpt$/, '');
    const info: Record<string, unknown> = { checkpoint: path, parameters: policy.parameterCount() };
    for (const key of ['kind', 'run', 'step']) if (checkpoint.meta[key] !== undefined) info[key] = checkpoint.meta[key];
    return { policy, task, checkpoint, modelId, info };
  } catch (e) {
    policy.dispose();
    throw e;
  }
}
