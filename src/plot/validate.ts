import { fail } from '../core/errors.js';

/** Checks a plot size argument (pixels), if given. */
export function checkSize(argument: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0) fail(argument, `must be a positive number of pixels, got ${String(value)}`);
}

/** Checks an optional `[lo, hi]` axis domain. */
export function checkDomain(argument: string, domain: readonly [number, number] | undefined): void {
  if (domain === undefined) return;
  if (!Array.isArray(domain) || domain.length !== 2 || !domain.every(Number.isFinite) || !(domain[0] < domain[1])) {
    fail(argument, `must be [lo, hi] with finite lo < hi, got ${JSON.stringify(domain)}`);
  }
}

/** Checks an optional error-bar half-width. */
export function checkErr(argument: string, err: number | undefined): void {
  if (err === undefined) return;
  if (!Number.isFinite(err) || err < 0) fail(argument, `must be a finite number >= 0 (half-width of the error bar), got ${String(err)}`);
}

/** Checks that every series name is a non-empty string and that names are distinct. */
export function checkSeriesNames(argument: string, names: readonly unknown[]): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (typeof name !== 'string' || name.length === 0) fail(`${argument}[${i}].name`, `must be a non-empty string, got ${JSON.stringify(name)}`);
    if (seen.has(name)) fail(`${argument}[${i}].name`, `duplicates an earlier series name '${name}'; names must be distinct (they label the legend)`);
    seen.add(name);
  });
}

/** A horizontal reference line (e.g. y = 1: "no variance reduction"), dashed, with an optional label. */
export interface ReferenceLine {
  y: number;
  label?: string;
}

/** What every chart takes besides its series: labels, size in pixels (480 x 300 by default), y range. */
export interface ChartFrame {
  title?: string;
  xLabel: string;
  yLabel: string;
  /** Plot area width in pixels (default 480). */
  width?: number;
  /** Plot area height in pixels (default 300). */
  height?: number;
  /** Fixed y range; by default the chart fits the data. */
  yDomain?: [number, number];
  /** Horizontal reference lines drawn behind the data. */
  rules?: ReferenceLine[];
}

/**
 * Checks a chart's series list (non-empty, `what` names the element shape in the error) with
 * its series names, and the frame's size and y range.
 */
export function checkChart(input: ChartFrame & { series: readonly { name: unknown; color?: unknown }[] }, what: string): void {
  const { series } = input;
  if (!Array.isArray(series) || series.length === 0) fail('series', `must be a non-empty array of ${what}`);
  checkSeriesNames('series', series.map((s) => s.name));
  checkSize('width', input.width);
  checkSize('height', input.height);
  checkDomain('yDomain', input.yDomain);
  if (input.rules !== undefined) {
    if (!Array.isArray(input.rules)) fail('rules', 'must be an array of { y, label? }');
    input.rules.forEach((r, i) => {
      if (!Number.isFinite(r?.y)) fail(`rules[${i}].y`, `must be a finite number, got ${String(r?.y)}`);
    });
  }
  checkColors('series', input.series);
}

/** Checks optional per-series colours (CSS colour strings). */
export function checkColors(argument: string, series: readonly { name: unknown; color?: unknown }[]): void {
  series.forEach((s, i) => {
    if (s.color !== undefined && (typeof s.color !== 'string' || s.color.length === 0)) {
      fail(`${argument}[${i}].color`, `must be a CSS colour string such as '#4c78a8', got ${JSON.stringify(s.color)}`);
    }
  });
}

/**
 * The ten colours of the Tableau 10 scheme (vega's default for categories): what a series gets
 * when it names no colour. `colorMap` fixes one per name, so a run keeps its colour in every plot.
 */
export const CATEGORY_COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'] as const;

/** One colour per name, in order, cycling through `CATEGORY_COLORS`. */
export function colorMap(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n, i) => [n, CATEGORY_COLORS[i % CATEGORY_COLORS.length]]));
}

/** The colour scale of a chart: the series names in order, with their colours where any is given. */
export function colorScale(series: readonly { name: string; color?: string }[]): object {
  const domain = series.map((s) => s.name);
  if (!series.some((s) => s.color)) return { domain };
  return { domain, range: series.map((s, i) => s.color ?? CATEGORY_COLORS[i % CATEGORY_COLORS.length]) };
}

/** Dashed reference-line layers (one rule and, if labelled, a text at its right end). */
export function ruleLayers(rules: readonly ReferenceLine[] | undefined, yScale: object): object[] {
  if (!rules || rules.length === 0) return [];
  const data = { values: rules.map((r) => ({ ry: r.y, rlabel: r.label ?? '' })) };
  const y = { field: 'ry', type: 'quantitative', scale: yScale };
  return [
    { data, mark: { type: 'rule', strokeDash: [4, 4], color: '#555', strokeWidth: 1 }, encoding: { y } },
    {
      data,
      mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -2, dy: -2, color: '#555', x: 'width' },
      encoding: { y, text: { field: 'rlabel' } },
    },
  ];
}

/** Checks an optional explicit interval `[lo, hi]` around `value` (e.g. a bootstrap confidence interval). */
export function checkInterval(argument: string, value: number, lo: number | undefined, hi: number | undefined, err: number | undefined): void {
  if (lo === undefined && hi === undefined) return;
  if (err !== undefined) fail(argument, 'give either err or lo and hi, not both');
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo! <= value && value <= hi!)) {
    fail(argument, `lo and hi must be finite with lo <= value <= hi, got lo ${String(lo)}, value ${value}, hi ${String(hi)}`);
  }
}

/** The error-bar ends of a value: `[lo, hi]` when given, else value ± err, null when there is none. */
export function errRange(value: number, err: number | undefined, lo?: number, hi?: number): { lo: number | null; hi: number | null } {
  if (lo !== undefined && hi !== undefined) return { lo, hi };
  return err === undefined ? { lo: null, hi: null } : { lo: value - err, hi: value + err };
}

/** The Vega-Lite envelope every chart shares: schema, title, size, white background, data rows. */
export function specFrame(input: ChartFrame, rows: object[]): object {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(input.title ? { title: input.title } : {}),
    width: input.width ?? 480,
    height: input.height ?? 300,
    background: 'white',
    data: { values: rows },
  };
}
