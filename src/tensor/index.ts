/**
 * Tensor (TensorFlow.js) versions of the core math, for batches on the backend: returns,
 * advantages, token scatter and the clipped PPO loss. The pure-TS definitions in src/core/
 * are the reference. Read results with `await t.data()` / `await t.array()`.
 */
export * from './advantages.js';
export * from './loss.js';
