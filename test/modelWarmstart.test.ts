import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '../src/core/rng.js';
import { SPECIAL } from '../src/tasks/types.js';
import { basePolicy, teacherTree, warmStart, warmStartHash } from '../src/model/warmstart.js';
import { toyTask } from './modelToyTask.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const small = { batchSize: 16, warmupSteps: 5, model: { dModel: 32, dMlp: 64, nLayers: 1 } };

describe('warm start', () => {
  it('builds teacher trees with a summary per prefix group after the right forcing', () => {
    const problem = toyTask.sample(seededRng(1));
    const tree = teacherTree(toyTask, problem, [1, 4, 8], 8, seededRng(2));
    const L = problem.prompt.length + 1;
    expect(tree.thinking).toEqual([...problem.prompt, SPECIAL.THINK_END]);
    expect(tree.groups[0]).toMatchObject({ cutLength: 1, cut: true, forcing: [SPECIAL.ELLIPSIS, SPECIAL.THINK_END, SPECIAL.ANSWER] });
    const last = tree.groups[tree.groups.length - 1];
    expect(last).toMatchObject({ cutLength: L, cut: false, forcing: [SPECIAL.ANSWER] });
    // The summary of the whole trace is the teacher's correct answer.
    expect(toyTask.score(problem, last.summaries[0].tokens)).toBe(1);
    expect(last.summaries[0].tokens[last.summaries[0].tokens.length - 1]).toBe(SPECIAL.EOS);
  });

  it('a few steps reduce the loss, reproducibly, without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const a = await warmStart(toyTask, { ...small, steps: 25, seed: 3 });
    const paramTensors = a.policy.variables().length;
    expect(tf.memory().numTensors).toBe(before + paramTensors);
    const head = a.losses.slice(0, 3).reduce((x, y) => x + y) / 3;
    const tail = a.losses.slice(-3).reduce((x, y) => x + y) / 3;
    expect(tail).toBeLessThan(0.8 * head);
    const b = await warmStart(toyTask, { ...small, steps: 25, seed: 3 });
    expect(b.losses).toEqual(a.losses);
    a.policy.dispose();
    b.policy.dispose();
  });

  it('caches the base policy by config hash and loads identical weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anytime-base-'));
    const first = await basePolicy(toyTask, { ...small, steps: 2, seed: 4 }, dir);
    expect(first.cached).toBe(false);
    expect(readdirSync(dir)).toEqual([first.path.slice(dir.length + 1)]);
    const second = await basePolicy(toyTask, { ...small, steps: 2, seed: 4 }, dir);
    expect(second.cached).toBe(true);
    expect(second.path).toBe(first.path);
    expect(await second.policy.weights()).toEqual(await first.policy.weights());
    expect(second.meta.losses).toEqual(first.meta.losses);
    // Spelling out a default model field names the same policy; changing one does not.
    expect(warmStartHash(toyTask, { ...small, model: { ...small.model, nHeads: 4 } })).toBe(warmStartHash(toyTask, small));
    expect(warmStartHash(toyTask, { ...small, model: { ...small.model, nHeads: 2 } })).not.toBe(warmStartHash(toyTask, small));
    // A task's format version is part of the key: a new version never loads an old base.
    expect(warmStartHash({ ...toyTask, version: 2 }, small)).not.toBe(warmStartHash(toyTask, small));
    expect(warmStartHash({ ...toyTask, version: 2 }, small)).not.toBe(warmStartHash({ ...toyTask, version: 3 }, small));
    const other = await basePolicy(toyTask, { ...small, steps: 2, seed: 5 }, dir);
    expect(other.path).not.toBe(first.path);
    for (const p of [first, second, other]) p.policy.dispose();
  });
});
