export * from './errors.js';
export * from './rng.js';
export * from './budget.js';
export * from './truncation.js';
export * from './advantages.js';
export * from './loss.js';
export * from './metrics.js';
export * from './stats.js';
