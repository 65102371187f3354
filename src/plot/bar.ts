/**
 * Grouped bar chart for per-run comparisons (e.g. final and anytime accuracy of several runs,
 * or accuracy per benchmark), with optional error bars.
 */
import { fail } from '../core/errors.js';
import { renderVegaLiteSvg } from './render.js';
import { checkChart, checkErr, errRange, specFrame, type ChartFrame } from './validate.js';

export interface BarValue {
  /** Position on the x axis (a run, a benchmark, a metric). */
  category: string;
  value: number;
  /** Half-width of the error bar drawn from `value - err` to `value + err`. */
  err?: number;
  /** An asymmetric interval `[lo, hi]` around value (e.g. a bootstrap or interquartile range); not with `err`. */
  lo?: number;
  hi?: number;
}

export interface BarSeries {
  /** Legend label; distinct across series. Series are drawn side by side within a category. */
  name: string;
  values: BarValue[];
}

/** A bar chart: the frame (its y range defaults to starting at zero and fitting the data) and the series. */
export interface BarChartInput extends ChartFrame {
  series: BarSeries[];
  /** Horizontal reference lines across the chart, e.g. `{ y: 1 }` under speed-ups. */
  rules?: { y: number; label?: string }[];
  /** Colour of each series by name (CSS colours, e.g. from `runColors`); others get the default scheme. */
  colors?: Record<string, string>;
}

/** Vega's default categorical scheme (tableau10), for series without an explicit colour. */
const DEFAULT_SCHEME = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** The Vega-Lite spec of a grouped bar chart; exposed so notebooks can tweak it before rendering. */
export function barChartSpec(input: BarChartInput): object {
  const { series } = input;
  checkChart(input, '{ name, values }');

  const rows: Record<string, number | string | null>[] = [];
  const categories: string[] = [];
  let anyErr = false;
  series.forEach((s, i) => {
    if (!Array.isArray(s.values) || s.values.length === 0) fail(`series[${i}].values`, `series '${s.name}' has no values; give at least one { category, value }`);
    const seen = new Set<string>();
    s.values.forEach((v, j) => {
      const where = `series[${i}].values[${j}]`;
      if (typeof v?.category !== 'string' || v.category.length === 0) fail(`${where}.category`, `must be a non-empty string, got ${JSON.stringify(v?.category)}`);
      if (seen.has(v.category)) fail(`${where}.category`, `'${v.category}' appears twice in series '${s.name}'`);
      seen.add(v.category);
      if (!Number.isFinite(v.value)) fail(`${where}.value`, `must be a finite number, got ${String(v.value)}`);
      checkErr(`${where}.err`, v.err);
      const interval = v.lo !== undefined || v.hi !== undefined;
      if (interval) {
        if (v.err !== undefined) fail(`${where}.err`, 'give either err (symmetric) or lo and hi (an interval), not both');
        if (!Number.isFinite(v.lo) || !Number.isFinite(v.hi) || !(v.lo! <= v.hi!)) {
          fail(`${where}.lo`, `lo and hi must both be finite with lo <= hi, got lo ${String(v.lo)}, hi ${String(v.hi)}`);
        }
      }
      if (v.err !== undefined || interval) anyErr = true;
      if (!categories.includes(v.category)) categories.push(v.category);
      rows.push({ series: s.name, category: v.category, value: v.value, ...(interval ? { lo: v.lo!, hi: v.hi! } : errRange(v.value, v.err)) });
    });
  });

  const rules = input.rules ?? [];
  rules.forEach((r, i) => {
    if (!Number.isFinite(r?.y)) fail(`rules[${i}].y`, `must be a finite number, got ${String(r?.y)}`);
  });
  const names = series.map((s) => s.name);
  const yScale = input.yDomain ? { domain: input.yDomain } : {};
  const grouped = series.length > 1;
  const offset = grouped ? { xOffset: { field: 'series', type: 'nominal', sort: names, scale: { domain: names } } } : {};
  const layers: object[] = [{ mark: { type: 'bar' }, encoding: { y: { field: 'value', type: 'quantitative', title: input.yLabel, scale: yScale } } }];
  if (anyErr) {
    layers.push({
      transform: [{ filter: 'isValid(datum.lo)' }],
      mark: { type: 'rule', strokeWidth: 1.5 },
      // An encoded colour would override the mark's, so the bars' series colour is replaced here.
      encoding: { y: { field: 'lo', type: 'quantitative', scale: yScale }, y2: { field: 'hi' }, color: { value: 'black' } },
    });
  }
  for (const r of rules) {
    // A dashed grey rule across the whole plot width, over the bars, outside the legend.
    layers.push({
      data: { values: [{ ry: r.y }] },
      mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1 },
      encoding: { x: { value: 0 }, x2: { value: 'width' }, xOffset: null, y: { field: 'ry', type: 'quantitative', scale: yScale }, color: { value: '#666' } },
    });
  }
  const colorScale = input.colors ? { domain: names, range: names.map((n, i) => input.colors![n] ?? DEFAULT_SCHEME[i % DEFAULT_SCHEME.length]) } : { domain: names };
  return {
    ...specFrame(input, rows),
    encoding: {
      x: { field: 'category', type: 'nominal', title: input.xLabel, sort: categories, axis: { labelAngle: 0 } },
      color: { field: 'series', type: 'nominal', title: null, sort: names, scale: colorScale, legend: { labelLimit: 400 } },
      ...offset,
    },
    layer: layers,
  };
}

/**
 * Renders a grouped bar chart to an SVG string: one bar per (category, series), series side
 * by side and coloured, error bars where `err` is given, a legend of the series names.
 */
export async function barChartSvg(input: BarChartInput): Promise<string> {
  return renderVegaLiteSvg(barChartSpec(input));
}
