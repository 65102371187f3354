/**
 * Loads `@cortex-js/compute-engine` in every environment the toolkit runs in, or fails
 * with an {@link AnytimeDependencyError} that names it. Never a silent fallback: without
 * its parser the verifier would grade `0.5` vs `\frac12` as different.
 *
 * - ES modules (tsx, vitest, Deno, esbuild/browser bundles): the static import below
 *   resolves the package's `"import"` export, an ES module build. Nothing else to do.
 * - CommonJS (tslab compiles notebook cells, and the files they import, to CommonJS): the
 *   package's `"require"` export, `dist/compute-engine.min.js`, is a UMD script, but the
 *   package declares `"type": "module"`, so Node loads that file as an ES module; the UMD
 *   wrapper then finds no `exports` object, exports nothing, and `require()` returns `{}`.
 *   We evaluate that same file, the one the package names for `require`, as the CommonJS
 *   script it is written as (with a real `exports`). This needs no particular Node version
 *   and no file the package does not export. (On Node < 20.19, where `require()` of an ES
 *   module is not available, the compiled `require` of the package itself already throws
 *   Node's `ERR_REQUIRE_ESM`, which names the package too.)
 */
import * as computeEngineModule from '@cortex-js/compute-engine';
import type { ComputeEngine } from '@cortex-js/compute-engine';
import { AnytimeDependencyError } from '../core/errors.js';

export const COMPUTE_ENGINE_PACKAGE = '@cortex-js/compute-engine';

/** The engine's constructor. */
export type ComputeEngineClass = typeof ComputeEngine;

/** The parts of Node's `require` the CommonJS path uses. */
export interface RequireLike {
  (id: string): unknown;
  resolve(id: string): string;
}

interface ModuleRecord {
  ComputeEngine?: unknown;
  default?: { ComputeEngine?: unknown };
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The constructor exported by a loaded module record (or its `default`), or undefined. */
function constructorOf(mod: unknown): ComputeEngineClass | undefined {
  if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) return undefined;
  const rec = mod as ModuleRecord;
  const ctor = rec.ComputeEngine ?? rec.default?.ComputeEngine;
  return typeof ctor === 'function' ? (ctor as ComputeEngineClass) : undefined;
}

/** Runs the package's UMD `require` bundle as a CommonJS script and returns its exports. */
function loadUmdBundle(req: RequireLike): unknown {
  const file = req.resolve(COMPUTE_ENGINE_PACKAGE);
  const fs = req('fs') as { readFileSync(path: string, encoding: 'utf8'): string };
  const vm = req('vm') as { runInThisContext(code: string, options: { filename: string }): unknown };
  const source = fs.readFileSync(file, 'utf8');
  const wrapper = vm.runInThisContext(`(function (exports, module) {${source}\n})`, { filename: file }) as (
    exports: object,
    module: { exports: object },
  ) => void;
  const record = { exports: {} as object };
  wrapper(record.exports, record);
  return record.exports;
}

/**
 * Finds the constructor given the statically imported module record and, in CommonJS, the
 * module's `require`. Exported separately so the failure paths can be tested.
 */
export function resolveComputeEngine(imported: unknown, req: RequireLike | undefined): ComputeEngineClass {
  const direct = constructorOf(imported);
  if (direct !== undefined) return direct;
  if (req === undefined) {
    throw new AnytimeDependencyError(COMPUTE_ENGINE_PACKAGE, 'this environment (ES modules)', 'the import has no ComputeEngine export');
  }
  let loaded: unknown;
  try {
    loaded = loadUmdBundle(req);
  } catch (e) {
    throw new AnytimeDependencyError(COMPUTE_ENGINE_PACKAGE, 'CommonJS', describe(e));
  }
  const ctor = constructorOf(loaded);
  if (ctor === undefined) {
    throw new AnytimeDependencyError(COMPUTE_ENGINE_PACKAGE, 'CommonJS', 'its require() bundle has no ComputeEngine export');
  }
  return ctor;
}

/** This module's `require` when it runs as CommonJS; undefined under ES modules. */
function commonJsRequire(): RequireLike | undefined {
  return typeof require === 'function' ? (require as unknown as RequireLike) : undefined;
}

let loaded: { ctor: ComputeEngineClass } | { error: AnytimeDependencyError } | null = null;

/**
 * The engine's constructor, loaded once. Throws {@link AnytimeDependencyError} (every
 * call, not just the first) when the package cannot be loaded.
 */
export function computeEngineClass(): ComputeEngineClass {
  if (loaded === null) {
    try {
      loaded = { ctor: resolveComputeEngine(computeEngineModule, commonJsRequire()) };
    } catch (e) {
      loaded = {
        error: e instanceof AnytimeDependencyError ? e : new AnytimeDependencyError(COMPUTE_ENGINE_PACKAGE, 'this environment', describe(e)),
      };
    }
  }
  if ('error' in loaded) throw loaded.error;
  return loaded.ctor;
}
