/**
 * Input validation shared by every toolkit function.
 *
 * Errors name the argument and what was allowed, so a caller can fix a bad config
 * without reading the source.
 */
export class AnytimeInputError extends Error {
  readonly argument: string;
  constructor(argument: string, message: string) {
    // `fail('x', '[3] must be …')` reads as `x[3] must be …`; otherwise `x: …`.
    super(message.startsWith('[') ? `${argument}${message}` : `${argument}: ${message}`);
    this.name = 'AnytimeInputError';
    this.argument = argument;
  }
}

export function fail(argument: string, message: string): never {
  throw new AnytimeInputError(argument, message);
}

export function checkFinite(argument: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(argument, `must be a finite number, got ${String(value)}`);
  }
}

export function checkOneOf<T extends string>(argument: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) {
    fail(argument, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${String(value)}'`);
  }
}

export function checkPositiveInt(argument: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    fail(argument, `must be a positive integer, got ${String(value)}`);
  }
}

/** Checks a rectangular, non-empty matrix of finite numbers and returns its shape. */
export function checkMatrix(argument: string, m: ArrayLike<ArrayLike<number>>): [number, number] {
  if (!m || m.length === 0) fail(argument, 'must be a non-empty matrix [rows][cols], got 0 rows');
  const cols = m[0].length;
  if (cols === 0) fail(argument, 'must have at least one column, got row 0 with 0 entries');
  for (let i = 0; i < m.length; i++) {
    const row = m[i];
    if (!row || row.length !== cols) {
      fail(argument, `is ragged: row 0 has ${cols} entries but row ${i} has ${row ? row.length : 'none'}`);
    }
    for (let j = 0; j < cols; j++) {
      if (!Number.isFinite(row[j])) fail(argument, `[${i}][${j}] must be finite, got ${String(row[j])}`);
    }
  }
  return [m.length, cols];
}

export function checkVector(argument: string, v: ArrayLike<number>, length?: number): void {
  if (!v || v.length === 0) fail(argument, 'must be a non-empty array of numbers');
  if (length !== undefined && v.length !== length) {
    fail(argument, `must have length ${length} (to match the other inputs), got ${v.length}`);
  }
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) fail(argument, `[${i}] must be finite, got ${String(v[i])}`);
  }
}

/**
 * A package the toolkit depends on could not be loaded: a broken installation or an
 * environment the package does not support, never a bad input. It is thrown rather than
 * worked around, because a fallback would silently change results (a verifier without its
 * parser grades right answers wrong).
 */
export class AnytimeDependencyError extends Error {
  /** The package that could not be loaded, e.g. `@cortex-js/compute-engine`. */
  readonly dependency: string;
  constructor(dependency: string, environment: string, reason: string) {
    super(`${dependency} could not be loaded in ${environment}: ${reason}`);
    this.name = 'AnytimeDependencyError';
    this.dependency = dependency;
  }
}
