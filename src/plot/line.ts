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
}

export interface LineSeries {
  /** Legend label; distinct across series. */
  name: string;
  points: LinePoint[];
}

/** A line chart: the frame (e.g. yDomain [0, 1] for accuracies) and the series. */
export interface LineChartInput extends ChartFrame {
  series: LineSeries[];
}

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
      if (p.err !== undefined) anyErr = true;
      rows.push({ series: s.name, x: p.x, y: p.y, ...errRange(p.y, p.err) });
    });
  });

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
      mark: { type: 'rule', strokeWidth: 1.5 },
      encoding: { y: { field: 'lo', type: 'quantitative', scale: yScale }, y2: { field: 'hi' } },
    });
  }
  return {
    ...specFrame(input, rows),
    encoding: {
      x: { field: 'x', type: 'quantitative', title: input.xLabel, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, sort: names, scale: { domain: names }, legend: { labelLimit: 400 } },
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
