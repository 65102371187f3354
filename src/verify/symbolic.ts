/**
 * The `@cortex-js/compute-engine` side of the verifier: LaTeX → MathJSON parsing (for our
 * numeric evaluator) and, as a last resort, the engine's own equality test.
 *
 * One engine instance is created lazily and shared (construction costs ~20 ms). Parses
 * are cached, since the same gold answer is compared against many predictions.
 */
import type { ComputeEngine } from '@cortex-js/compute-engine';
import { AnytimeDependencyError } from '../core/errors.js';
import { COMPUTE_ENGINE_PACKAGE, computeEngineClass } from './engine-loader.js';
import type { MathJson } from './evaluate.js';

/** Longest LaTeX string handed to the engine; longer inputs are compared as strings only. */
export const MAX_ENGINE_INPUT = 400;

let engine: ComputeEngine | null = null;
/**
 * The shared engine. Throws {@link AnytimeDependencyError} when the package cannot be
 * loaded or constructed: callers must let that through, not read it as "does not parse".
 */
export function getEngine(): ComputeEngine {
  if (engine === null) {
    const Engine = computeEngineClass();
    try {
      engine = new Engine();
    } catch (e) {
      throw new AnytimeDependencyError(COMPUTE_ENGINE_PACKAGE, 'this environment', `constructing the engine failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return engine;
}

const parseCache = new Map<string, MathJson | null>();
const CACHE_LIMIT = 20_000;

/**
 * True when the tree contains an `Error` node (the engine could not read part of it) or a
 * symbol made only of punctuation (the engine reads a stray `*` as a symbol named `*`).
 */
export function hasError(node: MathJson): boolean {
  if (typeof node === 'string') return !node.startsWith("'") && !/[A-Za-z0-9]/.test(node);
  if (Array.isArray(node)) {
    if (node[0] === 'Error' || node[0] === 'ErrorCode') return true;
    for (let k = 1; k < node.length; k++) if (hasError(node[k] as MathJson)) return true;
    return false;
  }
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.fn)) return hasError(o.fn as MathJson);
  }
  return false;
}

/**
 * Rewrites constructs the engine does not read into ones it does: `\binom{n}{k}` as a
 * ratio of factorials, accented names (`\dot{x}`, `\hat{p}`) and `\odot` subscripts as
 * plain symbols.
 */
function forEngine(latex: string): string {
  return latex
    .replace(/\\binom\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, '\\frac{($1)!}{($2)!(($1)-($2))!}')
    .replace(/\\(dot|ddot|hat|bar|tilde|vec|overline)\s*\{\s*\\?([a-zA-Z]+)\s*\}/g, '\\mathrm{$1$2}')
    .replace(/\\odot(?![a-zA-Z])/g, '\\mathrm{sun}');
}

/**
 * Parses LaTeX without canonicalisation (so `2/4` stays a division, symbols stay as
 * written). Returns null when the input is too long, does not parse, or contains error
 * nodes.
 */
export function parseLatex(latex: string): MathJson | null {
  if (latex.length === 0 || latex.length > MAX_ENGINE_INPUT) return null;
  const cached = parseCache.get(latex);
  if (cached !== undefined) return cached;
  const ce = getEngine();
  let result: MathJson | null = null;
  try {
    const json = ce.parse(forEngine(latex), { canonical: false }).json as MathJson;
    result = hasError(json) ? null : json;
  } catch {
    result = null;
  }
  if (parseCache.size >= CACHE_LIMIT) parseCache.clear();
  parseCache.set(latex, result);
  return result;
}

/**
 * The engine's canonical equality (`isEqual`), used only when the numeric evaluator
 * could not decide (e.g. `2^{1009}` overflows a double). `undefined` when the engine
 * cannot decide either, or throws.
 */
export function engineEqual(a: string, b: string): boolean | undefined {
  if (a.length > MAX_ENGINE_INPUT || b.length > MAX_ENGINE_INPUT) return undefined;
  const ce = getEngine();
  try {
    const ea = ce.parse(a);
    const eb = ce.parse(b);
    if (!ea.isValid || !eb.isValid) return undefined;
    const r = ea.isEqual(eb);
    return typeof r === 'boolean' ? r : undefined;
  } catch {
    return undefined;
  }
}
