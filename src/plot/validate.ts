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
}

/**
 * Checks a chart's series list (non-empty, `what` names the element shape in the error) with
 * its series names, and the frame's size and y range.
 */
export function checkChart(input: ChartFrame & { series: readonly { name: unknown }[] }, what: string): void {
  const { series } = input;
  if (!Array.isArray(series) || series.length === 0) fail('series', `must be a non-empty array of ${what}`);
  checkSeriesNames('series', series.map((s) => s.name));
  checkSize('width', input.width);
  checkSize('height', input.height);
  checkDomain('yDomain', input.yDomain);
}

/** The error-bar ends of a value with half-width `err`, null when there is none. */
export function errRange(value: number, err: number | undefined): { lo: number | null; hi: number | null } {
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

/** Vega's default categorical scheme (tableau10), for series without an explicit colour. */
export const DEFAULT_SCHEME = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** The colour encoding of named series (legend in `names` order): `colors[name]` where given, else the default scheme. */
export function seriesColor(field: string, names: string[], colors?: Record<string, string>): object {
  const scale = colors ? { domain: names, range: names.map((n, i) => colors[n] ?? DEFAULT_SCHEME[i % DEFAULT_SCHEME.length]) } : { domain: names };
  return { field, type: 'nominal', title: null, sort: names, scale, legend: { labelLimit: 400 } };
}
