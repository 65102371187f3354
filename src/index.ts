/**
 * anytime: budget priors, truncation, returns, advantages (GRPO, BRPO), losses, metrics and
 * answer verification for anytime reasoning. The pure-math core has no tensor dependency.
 * Browsers get src/browser.ts: all of this but `evaluation` and `svgToPng` (both need Node's fs).
 */
export * from './browser.js';
export * as evaluation from './eval/index.js';
export { svgToPng } from './plot/png.js';
export type { PngOptions } from './plot/png.js';
