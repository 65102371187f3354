/**
 * The notebook helpers outside a kernel: PNG rendering of plots, the display bundle of a plot,
 * the plain-script fallback of `display`, the assertion helpers and the method diagram.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as aq from 'arquero';
import { lineChartSvg, svgToPng } from '../src/plot/index.js';
import { check, checkClose, checkEqual, display, notebookHost, NotebookCheckError, plotBundle } from '../src/notebook/index.js';
import { methodDiagramSvg } from '../src/notebook/diagram.js';

/** Width and height from a PNG's IHDR chunk. */
const pngSize = (png: Uint8Array) => {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
};

const chart = (title: string) => lineChartSvg({ title, xLabel: 'budget', yLabel: 'accuracy', series: [{ name: 'grpo', points: [{ x: 1, y: 0.2 }, { x: 2, y: 0.4 }] }], width: 200, height: 100 });

describe('svgToPng', () => {
  it('renders a PNG at twice the SVG size, byte-identical on a second call', async () => {
    const svg = await chart('A title');
    const png = await svgToPng(svg);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const w = Number(/width="(\d+)"/.exec(svg)![1]);
    const h = Number(/height="(\d+)"/.exec(svg)![1]);
    expect(pngSize(png)).toEqual({ width: 2 * w, height: 2 * h });
    expect(Buffer.from(await svgToPng(svg)).equals(Buffer.from(png))).toBe(true);
    expect(pngSize(await svgToPng(svg, { scale: 1 }))).toEqual({ width: w, height: h });
  });

  it('draws text (with the bundled fonts, whatever the machine has)', async () => {
    const text = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30"><rect width="120" height="30" fill="white"/><text x="4" y="20" font-family="sans-serif" font-size="16">budget</text></svg>';
    const blank = text.replace('budget', '');
    const a = await svgToPng(text);
    const b = await svgToPng(blank);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(a.length).toBeGreaterThan(b.length + 200);
  });

  it('names the bad argument', async () => {
    await expect(svgToPng('not svg')).rejects.toThrow(/svg: must be an SVG document/);
    await expect(svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', { scale: 0 })).rejects.toThrow(/scale: must be a number in \(0, 16\]/);
  });
});

describe('display outside a kernel', () => {
  afterEach(() => vi.restoreAllMocks());

  it('runs as a plain script: prints the text form of each output', async () => {
    expect(notebookHost()).toBe('script');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await display.table('Runs', aq.table({ run: ['grpo'], anytime: [0.5] }));
    await display.markdown('**bold**');
    await display.plot(await chart('Accuracy & budget'));
    const printed = log.mock.calls.map((c) => String(c[0]));
    expect(printed[0]).toBe('Runs\n|run|anytime|\n|:-|-:|\n|grpo|0.5|\n');
    expect(printed[1]).toBe('**bold**');
    expect(printed[2]).toBe('[plot: Accuracy & budget]');
  });

  it('gives a plot SVG, PNG, the PNG as an <img> at the SVG width, and a text alternative', async () => {
    const svg = await chart('T');
    const bundle = await plotBundle(svg, 'a <chart>');
    expect(Object.keys(bundle).sort()).toEqual(['image/png', 'image/svg+xml', 'text/html', 'text/plain']);
    expect(bundle['image/svg+xml']).toBe(svg);
    expect(bundle['text/html']).toBe(`<img src="data:image/png;base64,${bundle['image/png']}" alt="a &lt;chart&gt;" width="${/width="(\d+)"/.exec(svg)![1]}">`);
    expect(Buffer.from(bundle['image/png'], 'base64').equals(Buffer.from(await svgToPng(svg)))).toBe(true);
  });
});

describe('assertion helpers', () => {
  afterEach(() => vi.restoreAllMocks());

  it('print a ✓ line with the value when the fact holds and throw when it does not', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    checkClose('returns', [0.5, 1 / 3], [0.5, 0.3333333333]);
    checkEqual('budgets', [24, 48], [24, 48]);
    check('plain', true);
    expect(log.mock.calls.map((c) => c[0])).toEqual(['✓ returns ([0.5, 0.333333])', '✓ budgets ([24, 48])', '✓ plain']);
    expect(() => checkClose('returns', [0.5], [0.6])).toThrow(NotebookCheckError);
    expect(() => checkClose('returns', [0.5], [0.6])).toThrow(/✗ returns \(got \[0\.5\], expected \[0\.6\]/);
    expect(() => checkClose('shape', [1, 2], [1])).toThrow(/Infinity/);
    expect(() => checkEqual('x', { a: 1 }, { a: 2 })).toThrow(/✗ x/);
  });
});

describe('method diagram', () => {
  it('draws the cuts, the scores and the build-up of R and the BRPO baseline', () => {
    const svg = methodDiagramSvg({ budgets: [24, 48, 72, 96], probs: [0.25, 0.25, 0.25, 0.25], length: 60, finished: true, scores: [0.25, 0.5, 1, 1], groupMean: [0.5, 0.4, 0.3, 0.2], ownProgress: [0, 0.2, 0.3, 0.2] });
    for (const s of ['b1 = 24', 'b4 = 96', '60 tokens, closed by &lt;/think&gt;', '&lt;answer&gt; (merged)', 'r̄ = 0.25', '0.125 + R[3] = 0.625', '(1·V1 + 3·V2)/4 = 0.35', 'R[1] = Σ p_j · r̄_j = 0.688']) expect(svg).toContain(s);
    expect(() => methodDiagramSvg({ budgets: [1, 2], probs: [1], length: 1, finished: true, scores: [0, 0], groupMean: [0, 0], ownProgress: [0, 0] })).toThrow(/probs: must have one entry per budget \(2\), got 1/);
  });
});
