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
