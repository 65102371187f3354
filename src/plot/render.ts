/**
 * Turns a Vega-Lite spec into an SVG string with vega-lite + vega, headless (no canvas).
 *
 * vega and vega-lite are ESM-only and vega's graph has a top-level await, so a CommonJS build
 * (tslab notebooks compile with TypeScript 5.0 CommonJS) cannot `require()` them. We load them
 * with a native dynamic `import()` hidden from the TypeScript emitter, which works from both
 * ESM and CommonJS; the minimal interfaces below type the part of their API we use.
 */

/** The part of vega-lite's API used here. */
interface VegaLiteModule {
  compile(spec: object): { spec: object };
}

interface VegaView {
  toSVG(scaleFactor?: number): Promise<string>;
  finalize(): void;
}

/** The part of vega's API used here. */
interface VegaModule {
  parse(spec: object, config?: object): object;
  View: new (runtime: object, options: { renderer: 'none' | 'svg' | 'canvas' }) => VegaView;
}

// `import()` written inside a Function body is not rewritten to `require()` by a CommonJS emit.
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/**
 * Imports an ESM-only package from ESM or CommonJS. A plain `import()` works in ESM hosts
 * (tsx, vitest's module runner, whose vm scripts cannot run a hidden native import); a
 * CommonJS emit turns it into `require()`, which rejects vega's top-level await, so we then
 * fall back to the native import.
 */
async function importEsm(specifier: string): Promise<unknown> {
  try {
    return await import(specifier);
  } catch (first) {
    try {
      return await nativeImport(specifier);
    } catch {
      throw first;
    }
  }
}

let modules: Promise<{ vl: VegaLiteModule; vega: VegaModule }> | undefined;

/** Loads vega-lite and vega once per process. */
function loadVega(): Promise<{ vl: VegaLiteModule; vega: VegaModule }> {
  modules ??= Promise.all([importEsm('vega-lite'), importEsm('vega')]).then(([vl, vega]) => ({
    vl: vl as VegaLiteModule,
    vega: vega as VegaModule,
  }));
  modules.catch(() => (modules = undefined));
  return modules;
}

/** Compiles a Vega-Lite spec and renders it to a standalone SVG document string. */
export async function renderVegaLiteSvg(spec: object): Promise<string> {
  const { vl, vega } = await loadVega();
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
