/**
 * Training / held-out split of a task's problems.
 *
 * Disjointness is by problem, not by seed: a problem is held out when a hash of its prompt
 * tokens falls in a fixed 1/HELD_OUT_MODULUS slice of the hash space. `heldOutSet` keeps
 * only such problems and `trainingSampler` rejects them, so no evaluation problem can ever
 * be drawn for training, whatever seeds either side uses. (Separating seed streams alone
 * would not do: these tasks have only ~10^5-10^6 distinct prompts, so two independent
 * streams collide often.) The two sides also draw from different seed streams,
 * `deriveSeed(seed, 'heldout', task)` and `deriveSeed(seed, 'train', task)`.
 *
 * The held-out slice is a hash slice, so its problems have the same distribution as the
 * training problems (same step counts, targets, ...).
 */
import { checkPositiveInt, fail } from '../core/errors.js';
import { deriveSeed, seededRng } from '../core/rng.js';
import type { Task, TaskProblem } from './types.js';

/** One problem in HELD_OUT_MODULUS is held out. */
export const HELD_OUT_MODULUS = 8;

/** FNV-1a over the prompt ids: a fixed, seed-free fingerprint of a problem. */
export function promptHash(prompt: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const id of prompt) {
    h ^= id & 0xff;
    h = Math.imul(h, 0x01000193);
    h ^= (id >>> 8) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** True when the problem belongs to the held-out slice (never used for training). */
export function isHeldOut(problem: TaskProblem): boolean {
  return promptHash(problem.prompt) % HELD_OUT_MODULUS === 0;
}

/**
 * A fixed evaluation set: `n` distinct held-out problems drawn from the seed stream
 * `deriveSeed(seed, 'heldout', task.name)`. The same (task, n, seed) always gives the same
 * list, and a larger n extends a smaller one.
 */
export function heldOutSet(task: Task, n: number, seed = 0): TaskProblem[] {
  checkPositiveInt('n', n);
  const rng = seededRng(deriveSeed(seed, 'heldout', task.name));
  const seen = new Set<string>();
  const out: TaskProblem[] = [];
  // Enough attempts for the 1/8 acceptance rate plus duplicates; beyond it the slice is exhausted.
  const maxAttempts = 200 * HELD_OUT_MODULUS * n;
  for (let attempt = 0; out.length < n; attempt++) {
    if (attempt >= maxAttempts) {
      fail('n', `asks for ${n} distinct held-out ${task.name} problems, found only ${out.length}; use a smaller n`);
    }
    const p = task.sample(rng);
    if (!isHeldOut(p) || seen.has(p.id)) continue;
    seen.add(p.id);
    out.push(p);
  }
  return out;
}

/**
 * A training problem source: draws from `deriveSeed(seed, 'train', task.name)` and skips
 * held-out problems. Deterministic given the seed.
 */
export function trainingSampler(task: Task, seed = 0): () => TaskProblem {
  const rng = seededRng(deriveSeed(seed, 'train', task.name));
  return () => {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const p = task.sample(rng);
      if (!isHeldOut(p)) return p;
    }
    return fail('task', `${task.name} produced only held-out problems in 10000 draws`);
  };
}
