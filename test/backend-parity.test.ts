/**
 * The same small computations (matMul, a gradient, softmax, two training steps) on every backend listed in
 * ANYTIME_TEST_BACKENDS, compared with the pure-JS cpu backend. Results are read with
 * `await t.array()` (dataSync fails on webgpu in Node).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { testBackends, useBackend } from './backend-env.js';
import { COMPUTATIONS, maxRelativeError, runComputation, type Nested } from './browser/computations.js';
import { BROWSER_TRAINING_STEPS } from './browser/training.js';

const backends = testBackends();
const reference: Record<string, Nested[]> = {};

beforeAll(async () => {
  await useBackend('cpu');
  for (const [name, compute] of Object.entries(COMPUTATIONS)) reference[name] = await runComputation(compute);
  for (const [name, step] of Object.entries(BROWSER_TRAINING_STEPS)) reference[name] = await step();
});

describe.each(backends)('backend %s', (backend) => {
  // Started inside each test (initBackend is idempotent, so this is cheap): a backend that
  // does not come up then fails every test by name instead of marking them skipped.
  it.each(Object.keys(COMPUTATIONS))('%s matches the cpu backend', async (name) => {
    await useBackend(backend);
    expect(tf.getBackend()).toBe(backend);
    const before = tf.memory().numTensors;
    const result = await runComputation(COMPUTATIONS[name]);
    expect(tf.memory().numTensors).toBe(before); // no leaked tensors
    expect(maxRelativeError(result, reference[name])).toBeLessThan(1e-4);
  });

  // One optimiser step each: a plain MLP (Adam), and the tiny policy on the toolkit's
  // advantages and clipped loss (SGD), as in the browser test.
  it.each(Object.keys(BROWSER_TRAINING_STEPS))('training %s matches the cpu backend', async (name) => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const result = await BROWSER_TRAINING_STEPS[name]();
    expect(tf.memory().numTensors).toBe(before);
    expect(maxRelativeError(result, reference[name])).toBeLessThan(1e-4);
  });
});

describe('ANYTIME_TEST_BACKENDS', () => {
  it('defaults to wasm and rejects unknown names', () => {
    expect(testBackends('')).toEqual(['wasm']);
    expect(testBackends(' wasm , webgpu,wasm')).toEqual(['wasm', 'webgpu']);
    expect(() => testBackends('wasm,webgl')).toThrow("ANYTIME_TEST_BACKENDS: entries must be among 'wasm', 'webgpu', 'cpu', got 'webgl'");
  });
});

describe('maxRelativeError', () => {
  it('sees a difference in one nested entry', () => {
    expect(maxRelativeError([[1, 2], [3, 4]], [[1, 2], [3, 4]])).toBe(0);
    expect(maxRelativeError([[1, 2], [3, 4.5]], [[1, 2], [3, 4]])).toBeCloseTo(0.1, 12);
    expect(() => maxRelativeError([[1, 2]], [[1, 2, 3]])).toThrow('shape mismatch');
  });
});
