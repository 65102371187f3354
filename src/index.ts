/**
 * anytime: budget priors, truncation, returns, advantages (GRPO, BRPO), losses, metrics and
 * answer verification for anytime reasoning. The pure-math core has no tensor dependency.
 * Browsers get src/browser.ts: all of this but `evaluation`.
 */
export * from './browser.js';
export * as evaluation from './eval/index.js';
