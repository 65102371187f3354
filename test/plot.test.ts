import { describe, expect, it } from 'vitest';
import { barChartSvg, lineChartSpec, lineChartSvg, runColor, runColors } from '../src/plot/index.js';

/**
 * Minimal XML well-formedness check: every tag closes in order, attributes are quoted, and
 * there is exactly one root <svg> element. Returns the element count.
 */
function checkWellFormedSvg(svg: string): number {
  const stack: string[] = [];
  let elements = 0;
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf('<', i);
    const text = svg.slice(i, lt < 0 ? svg.length : lt);
    // Text must not contain raw '&' outside an entity or a stray '>'.
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) throw new Error(`raw & in text near ${i}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    if (!m) throw new Error(`malformed tag at ${lt}: ${svg.slice(lt, lt + 80)}`);
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${lt}`);
    } else {
      elements++;
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name);
    }
    i = lt + m[0].length;
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1 || !svg.startsWith('<svg')) throw new Error(`expected one <svg> root, got ${roots}`);
  return elements;
}

/** Contents of each `<g class="mark-TYPE role-mark ...">` group (they do not nest). */
function markGroups(svg: string, type: string): string[] {
  const re = new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, 'g');
  return [...svg.matchAll(re)].map((m) => m[1]);
}

const count = (s: string, sub: string) => s.split(sub).length - 1;

describe('lineChartSvg', () => {
  const series = [
    { name: 'GRPO', points: [{ x: 1000, y: 0.3, err: 0.05 }, { x: 2000, y: 0.5, err: 0.04 }, { x: 3000, y: 0.6 }] },
    { name: 'AR-uniform & <linear>', points: [{ x: 1000, y: 0.4 }, { x: 2000, y: 0.55 }, { x: 3000, y: 0.62 }] },
    { name: 'base', points: [{ x: 1500, y: 0.2 }] },
  ];

  it('renders well-formed SVG with every series name, one line path per series, and error bars', async () => {
    const svg = await lineChartSvg({ title: 'Accuracy vs budget', xLabel: 'budget', yLabel: 'accuracy', series, yDomain: [0, 1] });
    expect(checkWellFormedSvg(svg)).toBeGreaterThan(20);
    expect(svg).toContain('Accuracy vs budget');
    expect(svg).toContain('>GRPO<');
    expect(svg).toContain('>AR-uniform &amp; &lt;linear&gt;<');
    expect(svg).toContain('>base<');
    const lines = markGroups(svg, 'line');
    const paths = lines.flatMap((g) => g.match(/<path [^>]*>/g) ?? []);
    expect(paths).toHaveLength(series.length);
    // Each line path belongs to a different series (distinct stroke colours).
    expect(new Set(paths.map((p) => /stroke="([^"]+)"/.exec(p)![1])).size).toBe(series.length);
    // One point symbol per data point, one error bar (rule) per point that has `err`.
    expect(count(markGroups(svg, 'symbol').join(''), '<path')).toBe(7);
    expect(count(markGroups(svg, 'rule').join(''), '<line')).toBe(2);
  });

  it('draws no error bars when no point has err', async () => {
    const svg = await lineChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'only', points: [{ x: 0, y: 1 }, { x: 1, y: 2 }] }] });
    checkWellFormedSvg(svg);
    expect(markGroups(svg, 'rule')).toHaveLength(0);
    expect(markGroups(svg, 'line')).toHaveLength(1);
  });

  it('respects width and height', async () => {
    const small = await lineChartSvg({ xLabel: 'x', yLabel: 'y', width: 200, height: 100, series: [{ name: 'a', points: [{ x: 0, y: 1 }] }] });
    expect(small).toMatch(/d="M0.5,0.5h200v100h-200Z"/);
  });

  it('rejects empty or malformed input with the field named', async () => {
    await expect(lineChartSvg({ xLabel: 'x', yLabel: 'y', series: [] })).rejects.toThrow(/^series: must be a non-empty array/);
    await expect(lineChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [] }] })).rejects.toThrow(/series\[0\]\.points: series 'a' has no points/);
    await expect(lineChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [{ x: 0, y: NaN }] }] })).rejects.toThrow(/series\[0\]\.points\[0\]\.y: must be a finite number/);
    await expect(lineChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [{ x: 0, y: 1, err: -1 }] }] })).rejects.toThrow(/err: must be a finite number >= 0/);
    const dup = [{ name: 'a', points: [{ x: 0, y: 1 }] }, { name: 'a', points: [{ x: 0, y: 2 }] }];
    await expect(lineChartSvg({ xLabel: 'x', yLabel: 'y', series: dup })).rejects.toThrow(/series\[1\]\.name: duplicates/);
    await expect(lineChartSvg({ xLabel: 'x', yLabel: 'y', yDomain: [1, 0], series: [{ name: 'a', points: [{ x: 0, y: 1 }] }] })).rejects.toThrow(/yDomain: must be \[lo, hi\]/);
  });
});

describe('lineChartSvg: intervals, reference lines, colours', () => {
  const series = [
    { name: 'grpo', points: [{ x: 1, y: 0.5, lo: 0.4, hi: 0.55 }, { x: 2, y: 0.6, lo: 0.5, hi: 0.7 }] },
    { name: 'ar-uniform', points: [{ x: 1, y: 0.52, lo: 0.45, hi: 0.6 }, { x: 2, y: 0.7, lo: 0.65, hi: 0.72 }] },
  ];
  it('draws asymmetric intervals as a band, a dashed reference line, and the given colours', async () => {
    const svg = await lineChartSvg({ xLabel: 'x', yLabel: 'y', series, intervals: 'band', rules: [{ y: 0.55 }], colors: runColors(['grpo', 'ar-uniform']) });
    checkWellFormedSvg(svg);
    expect(count(markGroups(svg, 'area').join(''), '<path')).toBe(2);
    expect(svg).toContain('stroke-dasharray="4,3"');
    expect(svg).toContain(runColor('grpo'));
    expect(svg).toContain(runColor('ar-uniform'));
    const spec = lineChartSpec({ xLabel: 'x', yLabel: 'y', series, colors: { grpo: '#123456' } }) as { encoding: { color: { scale: { range: string[] } } } };
    expect(spec.encoding.color.scale.range[0]).toBe('#123456');
  });
  it('the same name always gets the same colour; the paper runs have fixed ones', () => {
    expect(runColor('thinkprune')).toBe(runColor('thinkprune'));
    expect(runColors(['grpo', 'ar-linear'])).toEqual({ grpo: runColor('grpo'), 'ar-linear': runColor('ar-linear') });
    expect(new Set(['grpo', 'ar-base', 'ar-linear', 'ar-uniform', 'grpo-dense', 'grpo-decouple', 'grpo-vr'].map(runColor)).size).toBe(7);
  });
  it('rejects malformed intervals and options, naming them', async () => {
    const bad = (p: object) => lineChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [{ x: 0, y: 1, ...p }] }] });
    await expect(bad({ lo: 2, hi: 1 })).rejects.toThrow(/series\[0\]\.points\[0\]\.lo: lo and hi must both be finite with lo <= hi/);
    await expect(bad({ lo: 0 })).rejects.toThrow(/lo and hi must both be finite/);
    await expect(bad({ lo: 0, hi: 2, err: 0.1 })).rejects.toThrow(/err: give either err \(symmetric\) or lo and hi/);
    await expect(lineChartSvg({ xLabel: 'x', yLabel: 'y', series, rules: [{ y: Number.NaN }] })).rejects.toThrow(/rules\[0\]\.y: must be a finite number/);
    await expect(lineChartSvg({ xLabel: 'x', yLabel: 'y', series, intervals: 'whiskers' as never })).rejects.toThrow(/intervals: must be one of 'bars', 'band'/);
  });
});

describe('barChartSvg', () => {
  it('renders grouped bars with error bars and a legend', async () => {
    const svg = await barChartSvg({
      title: 'Runs',
      xLabel: 'run',
      yLabel: 'accuracy',
      series: [
        { name: 'final', values: [{ category: 'GRPO', value: 0.5, err: 0.02 }, { category: 'AR-uniform', value: 0.52, err: 0.03 }] },
        { name: 'anytime', values: [{ category: 'GRPO', value: 0.43 }, { category: 'AR-uniform', value: 0.46 }] },
      ],
    });
    checkWellFormedSvg(svg);
    for (const name of ['final', 'anytime', 'GRPO', 'AR-uniform', 'Runs']) expect(svg).toContain(`>${name}<`);
    expect(count(markGroups(svg, 'rect').join(''), '<path')).toBe(4);
    expect(count(markGroups(svg, 'rule').join(''), '<line')).toBe(2);
  });

  it('rejects empty series, duplicate categories and non-finite values', async () => {
    await expect(barChartSvg({ xLabel: 'x', yLabel: 'y', series: [] })).rejects.toThrow(/^series: must be a non-empty array/);
    await expect(barChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'a', values: [] }] })).rejects.toThrow(/series\[0\]\.values: series 'a' has no values/);
    const twice = [{ category: 'c', value: 1 }, { category: 'c', value: 2 }];
    await expect(barChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'a', values: twice }] })).rejects.toThrow(/values\[1\]\.category: 'c' appears twice/);
    await expect(barChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'a', values: [{ category: 'c', value: Infinity }] }] })).rejects.toThrow(/value: must be a finite number/);
  });
});
