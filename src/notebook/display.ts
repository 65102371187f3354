/**
 * Rich output for the notebooks that works the same under both notebook kernels and as a plain
 * script, so notebook code never names its kernel:
 *
 * - Deno's Jupyter kernel (`deno jupyter`): `Deno.jupyter.display(bundle, { raw: true })`;
 * - tslab (`tslab kernel`): its per-cell `display_data` writer (the one `tslab.display` uses,
 *   which sends a single MIME type; we send a whole bundle);
 * - a plain script (`npx tsx notebooks/01-toolkit-tour.ts`, `deno run -A …`): the bundle's
 *   `text/plain` goes to stdout.
 *
 * Every function is async (Deno's display is) and must be awaited, so outputs keep their order.
 *
 * A plot is one output carrying three forms of the same picture: `image/svg+xml` (vector, for
 * viewers that render it), `image/png` (for viewers that render only safe images, e.g. JupyterLab
 * before a notebook is trusted) and `text/html` holding that PNG as an `<img>`: HTML outranks
 * both images in nbconvert's HTML export, and its sanitiser (lxml) removes inline SVG and SVG
 * data URIs but keeps a PNG data URI, so an exported page shows every chart.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { svgToPng } from '../plot/png.js';

/** MIME type → content (binary types base64-encoded), as Jupyter's display_data carries it. */
export type MimeBundle = Record<string, string>;

/** Where the code runs: which kernel, or a plain script. */
export type NotebookHost = 'deno' | 'tslab' | 'script';

interface DenoJupyter {
  display(obj: unknown, options: { raw: boolean; update?: boolean; display_id?: string }): Promise<void>;
}
type TslabWriter = (data: { data: MimeBundle; metadata: object; transient: { display_id?: string } }, update: boolean) => void;

/** Deno's Jupyter API; reading `Deno.jupyter` outside `deno jupyter` throws, so that means "none". */
function denoJupyter(): DenoJupyter | undefined {
  const deno = (globalThis as { Deno?: { jupyter?: DenoJupyter } }).Deno;
  if (!deno) return undefined;
  try {
    return deno.jupyter;
  } catch {
    return undefined;
  }
}

/**
 * tslab's display writer for the cell being executed, or undefined outside tslab. tslab sets it
 * on its `dist/jupyter` module for each execute request; the kernel runs in the repository root,
 * so resolving tslab from the working directory finds the very module instance the kernel loaded.
 */
function tslabWriter(): TslabWriter | undefined {
  if (denoJupyter()) return undefined;
  const versions = (globalThis as { process?: { versions?: { node?: string; deno?: string } } }).process?.versions;
  if (!versions?.node || versions.deno) return undefined;
  try {
    const jupyter = createRequire(join(process.cwd(), 'package.json'))('tslab/dist/jupyter') as { lastWriteDisplayData?: TslabWriter | null };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/** Which host this code runs in. */
export function notebookHost(): NotebookHost {
  if (denoJupyter()) return 'deno';
  if (tslabWriter()) return 'tslab';
  return 'script';
}

/**
 * Shows one output made of several representations of the same thing; the viewer picks the
 * richest it can render. With `displayId`, `update: true` replaces that earlier output in place.
 */
export async function displayBundle(bundle: MimeBundle, options: { displayId?: string; update?: boolean } = {}): Promise<void> {
  const deno = denoJupyter();
  if (deno) {
    await deno.display(bundle, { raw: true, update: options.update ?? false, ...(options.displayId ? { display_id: options.displayId } : {}) });
    return;
  }
  const writer = tslabWriter();
  if (writer) {
    writer({ data: bundle, metadata: {}, transient: options.displayId ? { display_id: options.displayId } : {} }, options.update ?? false);
    return;
  }
  console.log(bundle['text/plain'] ?? `[${Object.keys(bundle).join(', ')}]`);
}

/**
 * Prints one line to the cell's output. Under Deno's kernel it goes out as an awaited plain-text
 * display message: `console.log` output there travels separately and can arrive after the cell
 * has finished, where a headless executor (nbconvert) no longer collects it.
 */
export async function printLine(text: string): Promise<void> {
  const deno = denoJupyter();
  // A display_data message: consecutive 'stream' broadcasts were dropped by nbconvert after the first.
  if (deno) {
    await deno.display({ 'text/plain': text }, { raw: true });
    // Deno resolves display() before its message is on the wire; a cell that ends right after
    // (a ✓ line is often a cell's last output) could report idle first, and nbclient then drops
    // the line (seen under load: 3 of 4 facts in notebook 05). A short pause lets it go out first.
    await new Promise((resolve) => setTimeout(resolve, 50));
  } else console.log(text);
}

/** `<`, `>`, `&` and quotes escaped for HTML text and attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What `display.table` needs of a table: arquero's `Table` has both. */
export interface HtmlTable {
  toHTML(options?: { limit?: number }): string;
  toMarkdown(options?: { limit?: number }): string;
}

/** The width and height attributes of an SVG document's root element, when it has them. */
function svgSize(svg: string): { width?: number; height?: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const attr = (name: string) => {
    const m = new RegExp(`\\s${name}="([0-9.]+)"`).exec(root);
    return m ? Number(m[1]) : undefined;
  };
  return { width: attr('width'), height: attr('height') };
}

/** Base64 of bytes, without Node's Buffer (Deno and browsers have btoa). */
function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * The output bundle of a plot: SVG, PNG, the PNG as HTML `<img>`, and `alt` as text. The PNG
 * is rendered at 2x and shown at the SVG's size, so it stays sharp on high-density screens.
 */
export async function plotBundle(svg: string, alt = 'plot'): Promise<MimeBundle> {
  const png = base64(await svgToPng(svg, { scale: 2 }));
  const { width } = svgSize(svg);
  const img = `<img src="data:image/png;base64,${png}" alt="${escapeHtml(alt)}"${width ? ` width="${width}"` : ''}>`;
  return { 'image/svg+xml': svg, 'image/png': png, 'text/html': img, 'text/plain': `[plot: ${alt}]` };
}

/** The rich outputs notebooks use; each returns when the output has been sent. */
export const display = {
  /** Markdown (also printed as-is by a plain script). */
  markdown: (md: string) => displayBundle({ 'text/markdown': md, 'text/plain': md }),
  /** HTML, with a plain-text alternative for a plain script. */
  html: (html: string, plain = html.replace(/<[^>]+>/g, '')) => displayBundle({ 'text/html': html, 'text/plain': plain }),
  /** A table (arquero) under a bold caption; a plain script prints it as a markdown table. */
  table: (caption: string, table: HtmlTable, options: { limit?: number } = {}) =>
    displayBundle({
      'text/html': `<p><b>${escapeHtml(caption)}</b></p>${table.toHTML({ limit: options.limit ?? Infinity })}`,
      'text/plain': `${caption}\n${table.toMarkdown({ limit: options.limit ?? Infinity })}`,
    }),
  /** An SVG plot (e.g. from `lineChartSvg`) as SVG + PNG; `alt` describes it in words. */
  plot: async (svg: string, alt?: string) => displayBundle(await plotBundle(svg, alt ?? svgTitle(svg) ?? 'plot')),
};

/** The chart title vega writes into the SVG (its first bold text), if any. */
function svgTitle(svg: string): string | undefined {
  const m = /role-title-text[^>]*>\s*<text[^>]*>([^<]*)</.exec(svg);
  return m ? m[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'") : undefined;
}

/**
 * One output that later calls replace in place (a live progress table). In a plain script,
 * where nothing can be replaced, it prints at most once every `scriptEverySeconds` (and always
 * when `final` is set).
 */
export function liveDisplay(scriptEverySeconds = 10): { markdown(md: string, options?: { final?: boolean }): Promise<void> } {
  const displayId = `live-${Math.random().toString(16).slice(2)}-${Date.now().toString(16)}`;
  let shown = false;
  let lastPrint = -Infinity;
  return {
    async markdown(md, options = {}) {
      if (notebookHost() === 'script') {
        if (options.final || performance.now() - lastPrint >= scriptEverySeconds * 1000) {
          lastPrint = performance.now();
          console.log(md);
        }
        return;
      }
      await displayBundle({ 'text/markdown': md, 'text/plain': md }, { displayId, update: shown });
      shown = true;
    },
  };
}
