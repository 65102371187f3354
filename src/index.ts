/**
 * anytime: budget priors, truncation, returns, advantages (GRPO, BRPO), losses, metrics and
 * answer verification for anytime reasoning. The pure-math core has no tensor dependency.
 */
export * from './core/index.js';
export * from './verify/index.js';
export * as tasks from './tasks/index.js';
export * from './plot/index.js';
export * as evaluation from './eval/index.js';
