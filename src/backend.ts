/**
 * Choosing and starting the TensorFlow.js backend the toolkit runs on.
 *
 * Order of preference for `prefer: 'auto'`: WebGPU on a hardware adapter, else WASM with
 * SIMD, else the pure-JS `cpu` backend (15-40x slower than wasm: a last resort). A
 * software WebGPU adapter (llvmpipe/lavapipe, SwiftShader) is slower than wasm for the
 * toolkit's small models, so it is used only when asked for (`allowSoftwareGpu`, or
 * `prefer: 'webgpu'`). Every fallback is spelled out in the returned `reason` and also
 * printed with `console.warn`, so a run never silently lands on a slower backend.
 *
 * Works in Node and in the browser. In Node, WebGPU comes from the `webgpu` npm package
 * (Dawn). Without a GPU, Dawn finds a software adapter by one of two routes (see
 * scripts/ci-setup-webgpu.sh for the packages):
 *   - Vulkan lavapipe from Mesa >= 25 (Debian 12: `mesa-vulkan-drivers` from
 *     bookworm-backports), a full WebGPU adapter;
 *   - OpenGL llvmpipe through EGL surfaceless (`EGL_PLATFORM=surfaceless`, Dawn's
 *     `backend=opengl`), which only offers the `'compatibility'` feature level.
 * Both are tried, in that order.
 *
 * Reading tensors: on `webgpu` in Node, `dataSync()`/`arraySync()` fail with
 * "OffscreenCanvas is not defined" on any tensor that lives on the GPU (a 256x256 matMul
 * result, a reduction of one). Tiny results that tfjs hands off to the CPU happen to work,
 * so small tests do not catch it. Toolkit code must read with `await t.data()` or
 * `await t.array()`, which work on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels, registerWebGpuKernels } from '../kernels/index.js';
import '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { checkOneOf, fail } from './core/errors.js';

/** Backends `initBackend` can select. */
export const BACKEND_CHOICES = ['auto', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendOptions {
  /** Which backend to use; default from `ANYTIME_BACKEND`, else `'auto'`. */
  prefer?: BackendChoice;
  /**
   * Accept a software WebGPU adapter under `'auto'` (it is always accepted under
   * `prefer: 'webgpu'`). Default from `ANYTIME_ALLOW_SOFTWARE_GPU=1`, else false.
   */
  allowSoftwareGpu?: boolean;
  /**
   * Throw instead of falling back when the preferred backend cannot start (tests use it
   * so that a requested backend that did not come up fails loudly). Default false.
   */
  strict?: boolean;
  /**
   * Browser only: URL prefix (ending in '/') where the tfjs-backend-wasm `.wasm` files are
   * served, passed to `setWasmPaths`. Node finds them in node_modules by itself.
   */
  wasmPaths?: string;
}

export interface GpuAdapterSummary {
  vendor?: string;
  architecture?: string;
  description?: string;
  /** True for CPU-emulated adapters (llvmpipe, lavapipe, SwiftShader, ...). */
  software: boolean;
}

export interface BackendInfo {
  /** The active tfjs backend: 'webgpu', 'wasm' or 'cpu'. */
  name: string;
  /** The WebGPU adapter in use (only when `name === 'webgpu'`). */
  adapter?: GpuAdapterSummary;
  /** WASM SIMD in use (only ever true on 'wasm'). */
  simd: boolean;
  /** Threads the backend computes with on the CPU side (1 for webgpu and cpu). */
  threads: number;
  /** Why this backend was chosen, including why each better one was not. */
  reason: string;
}

/** Options after defaults and environment variables were applied. */
export interface ResolvedBackendOptions {
  prefer: BackendChoice;
  allowSoftwareGpu: boolean;
  strict: boolean;
  wasmPaths?: string;
}

type EnvLike = Record<string, string | undefined>;

function processEnv(): EnvLike {
  return typeof process !== 'undefined' && process.env ? process.env : {};
}

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions && !!process.versions.node;
}

/**
 * Applies defaults and the environment variables `ANYTIME_BACKEND` (auto|webgpu|wasm|cpu)
 * and `ANYTIME_ALLOW_SOFTWARE_GPU` (1/true/yes or 0/false/no). Explicit options win over
 * the environment. Throws AnytimeInputError naming the option or variable on bad values.
 */
export function resolveBackendOptions(opts: BackendOptions = {}, env: EnvLike = processEnv()): ResolvedBackendOptions {
  if (opts === null || typeof opts !== 'object') fail('initBackend options', 'must be an object or undefined');
  let prefer: BackendChoice;
  if (opts.prefer !== undefined) {
    checkOneOf('prefer', opts.prefer, BACKEND_CHOICES);
    prefer = opts.prefer;
  } else if (env.ANYTIME_BACKEND !== undefined && env.ANYTIME_BACKEND !== '') {
    const fromEnv = env.ANYTIME_BACKEND.trim().toLowerCase() as BackendChoice;
    checkOneOf('ANYTIME_BACKEND', fromEnv, BACKEND_CHOICES);
    prefer = fromEnv;
  } else {
    prefer = 'auto';
  }
  let allowSoftwareGpu: boolean;
  if (opts.allowSoftwareGpu !== undefined) {
    if (typeof opts.allowSoftwareGpu !== 'boolean') {
      fail('allowSoftwareGpu', `must be true or false, got ${String(opts.allowSoftwareGpu)}`);
    }
    allowSoftwareGpu = opts.allowSoftwareGpu;
  } else {
    allowSoftwareGpu = parseFlag('ANYTIME_ALLOW_SOFTWARE_GPU', env.ANYTIME_ALLOW_SOFTWARE_GPU);
  }
  if (opts.strict !== undefined && typeof opts.strict !== 'boolean') {
    fail('strict', `must be true or false, got ${String(opts.strict)}`);
  }
  if (opts.wasmPaths !== undefined && (typeof opts.wasmPaths !== 'string' || opts.wasmPaths === '')) {
    fail('wasmPaths', `must be a non-empty URL prefix string, got ${String(opts.wasmPaths)}`);
  }
  return { prefer, allowSoftwareGpu, strict: opts.strict ?? false, wasmPaths: opts.wasmPaths };
}

function parseFlag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return fail(name, `must be one of '1', 'true', 'yes', 'on', '0', 'false', 'no', 'off', got '${value}'`);
}

/** Names and descriptions of CPU-emulated GPU drivers. */
const SOFTWARE_ADAPTER_PATTERN = /llvmpipe|lavapipe|softpipe|swiftshader|basic render|software/i;

/** Minimal view of a WebGPU adapter, enough to inspect it (the DOM types vary by version). */
interface AdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}

/** Summarises an adapter and decides whether it is a software (CPU-emulated) one. */
export function summarizeAdapter(adapter: AdapterLike): GpuAdapterSummary {
  const info = adapter.info ?? {};
  const text = [info.vendor, info.architecture, info.description, info.device].filter(Boolean).join(' ');
  const software =
    info.architecture === 'software' ||
    info.isFallbackAdapter === true ||
    adapter.isFallbackAdapter === true ||
    SOFTWARE_ADAPTER_PATTERN.test(text);
  // Dawn's OpenGL adapter names the driver (llvmpipe) only in `device`.
  const describe =
    [info.description, info.device && !(info.description ?? '').includes(info.device) ? info.device : '']
      .filter(Boolean)
      .join(', ') || undefined;
  return {
    vendor: info.vendor || undefined,
    architecture: info.architecture || undefined,
    description: describe,
    software,
  };
}

function adapterLabel(a: GpuAdapterSummary): string {
  const parts = [a.vendor, a.architecture, a.description].filter(Boolean).join(' / ');
  return `'${parts || 'unnamed adapter'}' (${a.software ? 'software' : 'hardware'})`;
}

interface GpuCandidate {
  adapter: AdapterLike;
  summary: GpuAdapterSummary;
  route: string;
  /** A navigator.gpu stand-in that hands tfjs exactly this adapter. */
  gpu: GpuLike;
}

/** Result of looking for a WebGPU adapter: one to use, or why there is none. */
// Plain fields rather than a discriminated union: tslab compiles without strictNullChecks,
// where narrowing on a boolean literal does not work.
interface GpuSearch {
  candidate: GpuCandidate | null;
  why: string;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function findNodeAdapter(): Promise<GpuSearch> {
  let dawn: { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
  try {
    // Node only. Browser bundles must mark 'webgpu' as external (esbuild `external`);
    // tslab's CommonJS output turns this into require(), which loads this ES module on
    // Node >= 20.19.
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (e) {
    return { candidate: null, why: `the 'webgpu' npm package (Dawn) could not be loaded: ${errorText(e)}` };
  }
  // tfjs-backend-webgpu uses the GPU* constants (GPUBufferUsage, ...) as globals.
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const tried: string[] = [];
  // Route 1: Dawn's default backend (Vulkan on Linux: a GPU driver, or lavapipe).
  try {
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter) {
      return { why: '', candidate: { adapter, summary: summarizeAdapter(adapter), route: 'Dawn default (Vulkan)', gpu: fixedAdapterGpu(gpu, adapter) } };
    }
    tried.push('Dawn default backend (Vulkan): no adapter (needs libvulkan1 and a Vulkan driver; lavapipe needs Mesa >= 25)');
  } catch (e) {
    tried.push(`Dawn default backend (Vulkan) failed: ${errorText(e)}`);
  }
  // Route 2: OpenGL through EGL without a display; Dawn offers it only at the
  // 'compatibility' feature level, which tfjs does not ask for, hence the fixed adapter.
  try {
    if (typeof process !== 'undefined' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
    const gpu = dawn.create(['backend=opengl']);
    const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility', powerPreference: 'high-performance' });
    if (adapter) {
      return { why: '', candidate: { adapter, summary: summarizeAdapter(adapter), route: 'Dawn OpenGL (EGL, compatibility)', gpu: fixedAdapterGpu(gpu, adapter) } };
    }
    tried.push('Dawn OpenGL backend via EGL: no adapter (needs libegl-mesa0 and libegl-dev, whose libEGL.so Dawn loads; EGL_PLATFORM=surfaceless)');
  } catch (e) {
    tried.push(`Dawn OpenGL backend failed: ${errorText(e)}`);
  }
  return { candidate: null, why: `no WebGPU adapter in Node: ${tried.join('; ')}` };
}

/**
 * A navigator.gpu that always returns the adapter already chosen and inspected. It keeps
 * a reference to the Dawn instance: if that is garbage-collected, the process dies
 * ("The futex facility returned an unexpected error code") at the next GPU readback.
 */
function fixedAdapterGpu(instance: GpuLike, adapter: AdapterLike): GpuLike & { instance: GpuLike } {
  return { instance, requestAdapter: async () => adapter };
}

async function findBrowserAdapter(): Promise<GpuSearch> {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  if (!nav || !nav.gpu) {
    return { candidate: null, why: 'navigator.gpu is missing (WebGPU not supported or not enabled in this browser)' };
  }
  try {
    // Same descriptor tfjs-backend-webgpu uses, so it gets this very adapter.
    const adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { candidate: null, why: 'navigator.gpu.requestAdapter() returned null' };
    return { why: '', candidate: { adapter, summary: summarizeAdapter(adapter), route: 'navigator.gpu', gpu: nav.gpu } };
  } catch (e) {
    return { candidate: null, why: `navigator.gpu.requestAdapter() failed: ${errorText(e)}` };
  }
}

let webgpuImported = false;

/** Registers tfjs-backend-webgpu on the given GPU. Only the first call has any effect. */
async function registerWebgpu(candidate: GpuCandidate): Promise<void> {
  if (webgpuImported) return;
  if (isNode()) {
    const g = globalThis as { navigator?: { gpu?: GpuLike } };
    if (!g.navigator) {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu: candidate.gpu }, configurable: true, writable: true });
    } else {
      Object.defineProperty(g.navigator, 'gpu', { value: candidate.gpu, configurable: true, writable: true });
    }
  }
  // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is imported.
  await import('@tensorflow/tfjs-backend-webgpu');
  webgpuImported = true;
}

/** Starts a tfjs backend and proves it can compute and read back a result. */
async function startBackend(name: string): Promise<string | null> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend('${name}') returned false (its initialisation failed; see the warning above)`;
    // Our SIMD kernels (fast transposed/batched matMul, fused attention and log-probs, gather's
    // gradient) replace or add to the stock wasm ones; idempotent.
    if (name === 'wasm') registerWasmKernels();
    // WGSL fused token log-probabilities (and gradient) on webgpu; idempotent.
    if (name === 'webgpu') registerWebGpuKernels();
    await tf.ready();
    const probe = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])));
    const values = await probe.data();
    probe.dispose();
    if (values[0] !== 4 || values[1] !== 6) return `backend '${name}' computed [1,2]+[3,4] = [${Array.from(values)}]`;
    return null;
  } catch (e) {
    return `backend '${name}' failed to start: ${errorText(e)}`;
  }
}

async function wasmDetails(): Promise<{ simd: boolean; threads: number }> {
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  let threads = 1;
  try {
    threads = getThreadsCount();
  } catch {
    threads = 1;
  }
  return { simd, threads };
}

async function select(o: ResolvedBackendOptions): Promise<BackendInfo> {
  const notes: string[] = [];
  const giveUp = (what: string): never => {
    throw new Error(`initBackend: prefer '${o.prefer}' with strict: ${what}`);
  };

  if (o.prefer === 'auto' || o.prefer === 'webgpu') {
    const acceptSoftware = o.prefer === 'webgpu' || o.allowSoftwareGpu;
    const search = isNode() ? await findNodeAdapter() : await findBrowserAdapter();
    if (search.candidate === null) {
      notes.push(search.why);
    } else if (search.candidate.summary.software && !acceptSoftware) {
      notes.push(
        `WebGPU adapter ${adapterLabel(search.candidate.summary)} is software-emulated and allowSoftwareGpu is off ` +
          `(set allowSoftwareGpu: true or ANYTIME_ALLOW_SOFTWARE_GPU=1 to use it)`,
      );
    } else {
      const candidate = search.candidate;
      let problem: string | null = null;
      try {
        await registerWebgpu(candidate);
      } catch (e) {
        problem = `loading @tensorflow/tfjs-backend-webgpu failed: ${errorText(e)}`;
      }
      problem = problem ?? (await startBackend('webgpu'));
      if (problem === null) {
        const why = o.prefer === 'webgpu' ? "prefer: 'webgpu'" : candidate.summary.software ? 'auto with allowSoftwareGpu' : 'auto: hardware adapter found';
        return {
          name: 'webgpu',
          adapter: candidate.summary,
          simd: false,
          threads: 1,
          reason: `webgpu (${why}) on ${adapterLabel(candidate.summary)} via ${candidate.route}`,
        };
      }
      notes.push(`WebGPU adapter ${adapterLabel(candidate.summary)} found but ${problem}`);
    }
    if (o.prefer === 'webgpu' && o.strict) giveUp(notes.join('; '));
  }

  if (o.prefer !== 'cpu') {
    if (o.wasmPaths) setWasmPaths(o.wasmPaths);
    const problem = await startBackend('wasm');
    if (problem === null) {
      const { simd, threads } = await wasmDetails();
      const head = o.prefer === 'wasm' ? "wasm (prefer: 'wasm')" : 'fell back to wasm';
      const simdNote = simd ? '' : '; WASM SIMD is not available, expect slow matMul';
      return { name: 'wasm', simd, threads, reason: [head, ...notes].join(': ') + simdNote };
    }
    notes.push(problem);
    if (o.strict) giveUp(notes.join('; '));
  }

  const problem = await startBackend('cpu');
  if (problem !== null) throw new Error(`initBackend: no backend could start: ${[...notes, problem].join('; ')}`);
  const head = o.prefer === 'cpu' ? "cpu (prefer: 'cpu')" : 'fell back to the pure-JS cpu backend (15-40x slower than wasm)';
  return { name: 'cpu', simd: false, threads: 1, reason: [head, ...notes].join(': ') };
}

let current: { key: string; info: BackendInfo } | undefined;
/** Calls run one after another: two concurrent selections would race on tf.setBackend. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Selects, starts and reports the backend (see the module comment for the policy).
 * Idempotent: repeated calls with the same resolved options return the same result
 * without re-initialising; a call with different options switches backend. Concurrent
 * calls are served in order.
 *
 * @param opts.prefer 'auto' | 'webgpu' | 'wasm' | 'cpu' (default: ANYTIME_BACKEND or 'auto')
 * @param opts.allowSoftwareGpu use a software WebGPU adapter under 'auto'
 *   (default: ANYTIME_ALLOW_SOFTWARE_GPU=1)
 * @param opts.strict throw instead of falling back
 * @param opts.wasmPaths browser only: where the tfjs-backend-wasm .wasm files are served
 * @returns the backend in use and the reason for the choice; any fallback is also
 *   reported with console.warn.
 */
export function initBackend(opts?: BackendOptions): Promise<BackendInfo> {
  let resolved: ResolvedBackendOptions;
  try {
    resolved = resolveBackendOptions(opts);
  } catch (e) {
    return Promise.reject(e);
  }
  const run = queue.then(() => initResolved(resolved));
  queue = run.catch(() => undefined);
  return run;
}

async function initResolved(resolved: ResolvedBackendOptions): Promise<BackendInfo> {
  const key = JSON.stringify(resolved);
  // Same options and nobody switched with tf.setBackend since: nothing to do.
  if (current && current.key === key && tf.getBackend() === current.info.name) return current.info;
  current = undefined;
  const info = await select(resolved);
  current = { key, info };
  if (info.reason.startsWith('fell back')) console.warn(`[anytime] backend: ${info.reason}`);
  return info;
}

/** The result of the last successful initBackend call, or undefined before one. */
export function currentBackend(): BackendInfo | undefined {
  return current?.info;
}
