/**
 * Scatter chart of labelled points with intervals on both axes, e.g. an accuracy–length frontier:
 * one point per method at (mean thinking length, accuracy), its 95% intervals drawn as a
 * horizontal and a vertical bar, its name next to it and in the legend.
 */
import { fail } from '../core/errors.js';
import { renderVegaLiteSvg } from './render.js';
import { checkChart, checkDomain, seriesColor, specFrame, type ChartFrame } from './validate.js';

export interface ScatterPoint {
  /** Legend label and the text next to the point; distinct across points. */
  name: string;
  x: number;
  y: number;
  /** Optional interval `[xLo, xHi]` around x (both or neither). */
  xLo?: number;
  xHi?: number;
  /** Optional interval `[yLo, yHi]` around y (both or neither). */
  yLo?: number;
  yHi?: number;
}

export interface ScatterChartInput extends ChartFrame {
  points: ScatterPoint[];
  /** Fixed x range; by default the chart fits the data. */
  xDomain?: [number, number];
  /** Colour of each point by name (CSS colours); others get Vega's default scheme. */
  colors?: Record<string, string>;
  /** Draw each point's name next to it (default true). */
  labels?: boolean;
}

function checkInterval(where: string, v: number, lo: number | undefined, hi: number | undefined, axis: string): boolean {
  if (lo === undefined && hi === undefined) return false;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo! <= hi!)) {
    fail(`${where}.${axis}Lo`, `${axis}Lo and ${axis}Hi must both be finite with ${axis}Lo <= ${axis}Hi, got ${String(lo)}, ${String(hi)}`);
  }
  if (!(lo! <= v && v <= hi!)) fail(`${where}.${axis}`, `must lie in its interval [${lo}, ${hi}], got ${v}`);
  return true;
}

/** The Vega-Lite spec of a scatter chart; exposed so notebooks can tweak it before rendering. */
export function scatterChartSpec(input: ScatterChartInput): object {
  const points = input.points;
  // Each point is its own series (a legend entry): the frame's checks apply to the points.
  checkChart({ ...input, series: points }, '{ name, x, y }');
  checkDomain('xDomain', input.xDomain);
  const rows = points.map((p, i) => {
    const where = `points[${i}]`;
    if (!Number.isFinite(p.x)) fail(`${where}.x`, `must be a finite number, got ${String(p.x)}`);
    if (!Number.isFinite(p.y)) fail(`${where}.y`, `must be a finite number, got ${String(p.y)}`);
    const hasX = checkInterval(where, p.x, p.xLo, p.xHi, 'x');
    const hasY = checkInterval(where, p.y, p.yLo, p.yHi, 'y');
    return { name: p.name, x: p.x, y: p.y, xLo: hasX ? p.xLo! : null, xHi: hasX ? p.xHi! : null, yLo: hasY ? p.yLo! : null, yHi: hasY ? p.yHi! : null };
  });
  const names = points.map((p) => p.name);
  // Padding keeps the interval bars' ends and the labels off the frame.
  const xScale = input.xDomain ? { domain: input.xDomain, zero: false } : { zero: false, padding: 16 };
  const yScale = input.yDomain ? { domain: input.yDomain, zero: false } : { zero: false, padding: 16 };
  const x = { field: 'x', type: 'quantitative', title: input.xLabel, scale: xScale };
  const y = { field: 'y', type: 'quantitative', title: input.yLabel, scale: yScale };
  const layers: object[] = [
    {
      transform: [{ filter: 'isValid(datum.xLo)' }],
      mark: { type: 'rule', strokeWidth: 1.5 },
      encoding: { x: { field: 'xLo', type: 'quantitative', scale: xScale }, x2: { field: 'xHi' }, y },
    },
    {
      transform: [{ filter: 'isValid(datum.yLo)' }],
      mark: { type: 'rule', strokeWidth: 1.5 },
      encoding: { x, y: { field: 'yLo', type: 'quantitative', scale: yScale }, y2: { field: 'yHi' } },
    },
    { mark: { type: 'point', filled: true, size: 70 }, encoding: { x, y } },
  ];
  if (input.labels ?? true) {
    layers.push({ mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10 }, encoding: { x, y, text: { field: 'name' } } });
  }
  return { ...specFrame(input, rows), encoding: { color: seriesColor('name', names, input.colors) }, layer: layers };
}

/** Renders a scatter chart with interval bars on both axes to an SVG string. */
export async function scatterChartSvg(input: ScatterChartInput): Promise<string> {
  return renderVegaLiteSvg(scatterChartSpec(input));
}
