/**
 * Line chart (e.g. accuracy vs budget, reward vs step): several named series, optional error
 * bars, a legend.
 */
import { fail } from '../core/errors.js';
import { renderVegaLiteSvg } from './render.js';
import { checkChart, checkErr, errRange, specFrame, type ChartFrame } from './validate.js';

export interface LinePoint {
  x: number;
  y: number;
  /** Half-width of the error bar drawn from `y - err` to `y + err` (e.g. a standard error). */
  err?: number;
  /** An asymmetric interval `[lo, hi]` around y (e.g. a bootstrap confidence interval); not with `err`. */
  lo?: number;
  hi?: number;
}

export interface LineSeries {
  /** Legend label; distinct across series. */
  name: string;
  points: LinePoint[];
}

/** A line chart: the frame (e.g. yDomain [0, 1] for accuracies) and the series. */
export interface LineChartInput extends ChartFrame {
  series: LineSeries[];
  /** How intervals are drawn: vertical bars (default) or a shaded band along each line. */
  intervals?: 'bars' | 'band';
  /** Horizontal reference lines, e.g. `{ y: 0 }` under a difference or `{ y: 1 }` over a ratio. */
  rules?: { y: number; label?: string }[];
  /** Colour of each series by name (CSS colours); series not named get the default scheme. */
  colors?: Record<string, string>;
}

/** Vega's default categorical scheme (tableau10), for series without an explicit colour. */
const DEFAULT_SCHEME = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** The Vega-Lite spec of a line chart; exposed so notebooks can tweak it before rendering. */
export function lineChartSpec(input: LineChartInput): object {
  const { series } = input;
  checkChart(input, '{ name, points }');

  const rows: Record<string, number | string | null>[] = [];
  let anyErr = false;
  series.forEach((s, i) => {
    if (!Array.isArray(s.points) || s.points.length === 0) fail(`series[${i}].points`, `series '${s.name}' has no points; give at least one { x, y }`);
    s.points.forEach((p, j) => {
      const where = `series[${i}].points[${j}]`;
      if (!Number.isFinite(p?.x)) fail(`${where}.x`, `must be a finite number, got ${String(p?.x)}`);
      if (!Number.isFinite(p.y)) fail(`${where}.y`, `must be a finite number, got ${String(p.y)}`);
      checkErr(`${where}.err`, p.err);
      const interval = p.lo !== undefined || p.hi !== undefined;
      if (interval) {
        if (p.err !== undefined) fail(`${where}.err`, 'give either err (symmetric) or lo and hi (an interval), not both');
        if (!Number.isFinite(p.lo) || !Number.isFinite(p.hi) || !(p.lo! <= p.hi!)) {
          fail(`${where}.lo`, `lo and hi must both be finite with lo <= hi, got lo ${String(p.lo)}, hi ${String(p.hi)}`);
        }
      }
      if (p.err !== undefined || interval) anyErr = true;
      rows.push({ series: s.name, x: p.x, y: p.y, ...(interval ? { lo: p.lo!, hi: p.hi! } : errRange(p.y, p.err)) });
    });
  });
  const rules = input.rules ?? [];
  rules.forEach((r, i) => {
    if (!Number.isFinite(r?.y)) fail(`rules[${i}].y`, `must be a finite number, got ${String(r?.y)}`);
  });
  const intervals = input.intervals ?? 'bars';
  if (intervals !== 'bars' && intervals !== 'band') fail('intervals', `must be one of 'bars', 'band', got '${String(intervals)}'`);

  const names = series.map((s) => s.name);
  const yScale = input.yDomain ? { domain: input.yDomain, zero: false } : { zero: false };
  const y = { field: 'y', type: 'quantitative', title: input.yLabel, scale: yScale };
  const layers: object[] = [
    { mark: { type: 'line', strokeWidth: 2 }, encoding: { y } },
    { mark: { type: 'point', filled: true, size: 30 }, encoding: { y } },
  ];
  if (anyErr) {
    layers.push({
      transform: [{ filter: 'isValid(datum.lo)' }],
      mark: intervals === 'band' ? { type: 'area', opacity: 0.18 } : { type: 'rule', strokeWidth: 1.5 },
      encoding: { y: { field: 'lo', type: 'quantitative', scale: yScale }, y2: { field: 'hi' } },
    });
  }
  const xs = rows.map((r) => r.x as number);
  for (const r of rules) {
    // A constant rule across the data's x range, drawn under the data in grey, outside the legend.
    layers.unshift({
      data: { values: [{ x: Math.min(...xs), x2: Math.max(...xs), ry: r.y }] },
      mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1 },
      encoding: { x2: { field: 'x2' }, y: { field: 'ry', type: 'quantitative', scale: yScale }, color: { value: '#666' } },
    });
  }
  const colorScale = input.colors ? { domain: names, range: names.map((n, i) => input.colors![n] ?? DEFAULT_SCHEME[i % DEFAULT_SCHEME.length]) } : { domain: names };
  return {
    ...specFrame(input, rows),
    encoding: {
      x: { field: 'x', type: 'quantitative', title: input.xLabel, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, sort: names, scale: colorScale, legend: { labelLimit: 400 } },
    },
    layer: layers,
  };
}

/**
 * Renders a multi-series line chart to an SVG string: one line per series (drawn as one
 * path), filled points, vertical error bars where `err` is given, and a legend of the names.
 */
export async function lineChartSvg(input: LineChartInput): Promise<string> {
  return renderVegaLiteSvg(lineChartSpec(input));
}
