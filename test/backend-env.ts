/**
 * Which backends the cross-backend tests run on: `ANYTIME_TEST_BACKENDS`, a comma-separated
 * list of 'wasm', 'webgpu', 'cpu' (default 'wasm'; CI sets 'wasm,webgpu'). Shared by every
 * parity test, so a typo fails loudly instead of silently testing less.
 */
import { fail } from '../src/core/errors.js';
import { initBackend, type BackendInfo } from '../src/backend.js';

export const TESTABLE_BACKENDS = ['wasm', 'webgpu', 'cpu'] as const;
export type TestableBackend = (typeof TESTABLE_BACKENDS)[number];

/** Parses `ANYTIME_TEST_BACKENDS` (or the given value); throws naming the variable on bad entries. */
export function testBackends(value: string | undefined = process.env.ANYTIME_TEST_BACKENDS): TestableBackend[] {
  const raw = value === undefined || value.trim() === '' ? 'wasm' : value;
  const names = raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  for (const n of names) {
    if (!(TESTABLE_BACKENDS as readonly string[]).includes(n)) {
      fail('ANYTIME_TEST_BACKENDS', `entries must be among 'wasm', 'webgpu', 'cpu', got '${n}' in '${raw}'`);
    }
  }
  return [...new Set(names)] as TestableBackend[];
}

/**
 * Switches to `name` or throws: a requested backend that does not come up (no WebGPU adapter)
 * must fail the test run, never skip it. Software WebGPU adapters are accepted (CI has no GPU).
 */
export async function useBackend(name: TestableBackend): Promise<BackendInfo> {
  const info = await initBackend({ prefer: name, strict: true, allowSoftwareGpu: true });
  if (info.name !== name) throw new Error(`asked for backend '${name}' but got '${info.name}': ${info.reason}`);
  return info;
}
