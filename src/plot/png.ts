/**
 * SVG → PNG, headless and without system packages: resvg (a Rust SVG renderer) compiled to
 * WebAssembly (@resvg/resvg-wasm), with the DejaVu Sans fonts from the dejavu-fonts-ttf package.
 *
 * Why PNG at all: notebook outputs carry each plot as PNG next to the SVG because some viewers
 * drop inline SVG (Debian's nbconvert 6.5 HTML export, several static renderers). Why this
 * renderer: the WebAssembly build gives byte-identical images on every platform and in every
 * host (Node ESM, tslab's CommonJS, Deno), needs no native addon or install script, and draws
 * text with the fonts we hand it, so a bare machine without any system font still gets labels.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fail } from '../core/errors.js';

/** The part of @resvg/resvg-wasm's API used here. */
interface ResvgModule {
  initWasm(input: Uint8Array): Promise<void>;
  Resvg: new (
    svg: string,
    options: { font: { fontBuffers: Uint8Array[]; defaultFontFamily: string; sansSerifFamily: string }; fitTo: { mode: 'zoom'; value: number }; background?: string },
  ) => { render(): { asPng(): Uint8Array; width: number; height: number; free(): void }; free(): void };
}

/** Resolves a file inside an installed package, from this module's folder or the working directory. */
function packageFile(specifier: string): string {
  // `__filename` exists under CommonJS (tslab) and vitest; Node ESM and Deno fall back to the
  // working directory, where the notebooks and scripts run (the repository root).
  const bases = [typeof __filename === 'string' ? __filename : undefined, join(process.cwd(), 'package.json')];
  for (const base of bases) {
    if (!base) continue;
    try {
      return createRequire(base).resolve(specifier);
    } catch {
      // try the next base
    }
  }
  throw new Error(`svgToPng: cannot load the dependency '${specifier}' from ${bases.filter(Boolean).join(' or ')} (run \`npm ci\`)`);
}

let loaded: Promise<{ resvg: ResvgModule; fonts: Uint8Array[] }> | undefined;

/** Loads the renderer and the fonts once per process. */
function loadRenderer(): Promise<{ resvg: ResvgModule; fonts: Uint8Array[] }> {
  loaded ??= (async () => {
    const resvg = (await import('@resvg/resvg-wasm')) as unknown as ResvgModule;
    await resvg.initWasm(readFileSync(packageFile('@resvg/resvg-wasm/index_bg.wasm')));
    const fonts = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => new Uint8Array(readFileSync(packageFile(`dejavu-fonts-ttf/ttf/${f}`))));
    return { resvg, fonts };
  })();
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

export interface PngOptions {
  /** Pixels per SVG unit (default 2: sharp on high-density screens, still small files). */
  scale?: number;
}

/**
 * Rasterises an SVG document (e.g. from `lineChartSvg`) to PNG bytes. Text in any font family
 * is drawn with DejaVu Sans (bold where the SVG asks for bold). Pure: the same SVG and scale
 * give the same bytes.
 */
export async function svgToPng(svg: string, options: PngOptions = {}): Promise<Uint8Array> {
  const scale = options.scale ?? 2;
  if (typeof svg !== 'string' || !svg.includes('<svg')) {
    fail('svg', `must be an SVG document string (containing '<svg'), got ${typeof svg === 'string' ? JSON.stringify(svg.slice(0, 40)) : typeof svg}`);
  }
  if (!Number.isFinite(scale) || scale <= 0 || scale > 16) fail('scale', `must be a number in (0, 16], got ${String(scale)}`);
  const { resvg, fonts } = await loadRenderer();
  const renderer = new resvg.Resvg(svg, {
    font: { fontBuffers: fonts, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: scale },
  });
  try {
    const image = renderer.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    renderer.free();
  }
}
