/**
 * Choosing and starting the TensorFlow.js backend the toolkit runs on.
 *
 * Order of preference for `prefer: 'auto'`: WebGPU on a hardware adapter, else WASM with
 * SIMD, else the pure-JS `cpu` backend (15-40x slower than wasm: a last resort). A
 * software WebGPU adapter (llvmpipe/lavapipe, SwiftShader) is slower than wasm for the
 * toolkit's small models, so it is used only when asked for (`allowSoftwareGpu`, or
 * `prefer: 'webgpu'`). Every fallback is spelled out in the returned `reason`, and one line
 * (`[anytime] backend: ...`, console.warn) says which backend runs and why whenever the choice
 * was the library's (`auto`) or a preference could not be met, so a run never silently lands on
 * a slower backend.
 *
 * Works in Node and in the browser. In Node, WebGPU comes from the `webgpu` npm package
 * (Dawn). Without a GPU, Dawn finds a software adapter by one of two routes (see
 * scripts/setup.sh, `npm run setup`, for the packages):
 *   - Vulkan lavapipe from Mesa >= 25 (Debian 12: `mesa-vulkan-drivers` from
 *     bookworm-backports), a full WebGPU adapter;
 *   - OpenGL llvmpipe through EGL surfaceless (`EGL_PLATFORM=surfaceless`, Dawn's
 *     `backend=opengl`), which only offers the `'compatibility'` feature level.
 * Both are tried, in that order. The probe is quiet: on Linux it first checks that the libraries
 * Dawn loads (libvulkan.so.1, libEGL.so) exist, and when the adapter might go unused (a software
 * one under `auto`) it runs in a child process whose stderr is captured, because Dawn prints its
 * native warnings straight to the terminal.
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

/** One way Dawn can reach a GPU driver, tried in this order (see the module comment). */
interface DawnRoute {
  name: 'vulkan' | 'opengl';
  label: string;
  flags: string[];
  request: Record<string, unknown>;
  /** Why this route gave no adapter, for the backend's reason. */
  missing: string;
}

const DAWN_ROUTES: readonly DawnRoute[] = [
  {
    name: 'vulkan',
    label: 'Dawn default (Vulkan)',
    flags: [],
    request: { powerPreference: 'high-performance' },
    missing: 'Dawn default backend (Vulkan): no adapter (needs libvulkan1 and a Vulkan driver; lavapipe needs Mesa >= 25)',
  },
  {
    // OpenGL through EGL without a display; Dawn offers it only at the 'compatibility' feature
    // level, which tfjs does not ask for, hence the fixed adapter.
    name: 'opengl',
    label: 'Dawn OpenGL (EGL, compatibility)',
    flags: ['backend=opengl'],
    request: { featureLevel: 'compatibility', powerPreference: 'high-performance' },
    missing: 'Dawn OpenGL backend via EGL: no adapter (needs libegl-mesa0 and libegl-dev, whose libEGL.so Dawn loads; EGL_PLATFORM=surfaceless)',
  },
];

/** The libraries Dawn loads on Linux to reach a driver: the Vulkan loader and the unversioned libEGL.so. */
export const DAWN_LINUX_LIBRARIES = ['libvulkan.so.1', 'libEGL.so'] as const;

/** What `findLinkerLibraries` looks at (injected so that tests can describe any machine). */
export interface LinkerView {
  /** The dynamic linker's cache (/etc/ld.so.cache), or null when there is none. */
  cache: Uint8Array | null;
  /** LD_LIBRARY_PATH. */
  libraryPath: string | undefined;
  exists: (path: string) => boolean;
}

/**
 * Which of `names` the dynamic linker can load: a file of that name in an LD_LIBRARY_PATH
 * directory, or an entry in its cache, which stores each name NUL-terminated, alone or as the
 * end of a path (ldconfig shares string suffixes), so after a NUL or a '/'. Returns null
 * when this cannot be told (no cache: not a glibc Linux), so that the caller probes instead.
 */
export function findLinkerLibraries(names: readonly string[], view: LinkerView): string[] | null {
  if (view.cache === null) return null;
  const dirs = (view.libraryPath ?? '').split(':').filter((d) => d !== '');
  // Names are ASCII: any one-byte decoding keeps them intact.
  const text = new TextDecoder('latin1').decode(view.cache);
  const inCache = (name: string): boolean => text.startsWith(`${name}\0`) || text.includes(`\0${name}\0`) || text.includes(`/${name}\0`);
  return names.filter((name) => dirs.some((d) => view.exists(`${d}/${name}`)) || inCache(name));
}

type NodeFs = typeof import('node:fs');
type NodeChildProcess = typeof import('node:child_process');
type NodeModule = typeof import('node:module');

/**
 * A Node built-in module, fetched at run time so that browser bundles never see an import of
 * it (Node >= 20.16; Deno and browsers lack the function and get null).
 */
function nodeBuiltin<T>(id: string): T | null {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return typeof get === 'function' ? ((get(id) as T | undefined) ?? null) : null;
}

/** Linux: the Dawn libraries this machine has (null when unknown); other systems: null. */
function dawnLibrariesHere(): string[] | null {
  const fs = nodeBuiltin<NodeFs>('node:fs');
  if (process.platform !== 'linux' || !fs) return null;
  let cache: Uint8Array | null = null;
  try {
    cache = fs.readFileSync('/etc/ld.so.cache');
  } catch {
    cache = null;
  }
  return findLinkerLibraries(DAWN_LINUX_LIBRARIES, { cache, libraryPath: process.env.LD_LIBRARY_PATH, exists: (p) => fs.existsSync(p) });
}

/** What a probe in a child process found: an adapter on a route, no adapter (why), or nothing known. */
interface ChildProbe {
  route: DawnRoute['name'] | null;
  info?: AdapterLike['info'];
  why: string;
}

/**
 * The probe the child process runs (CommonJS, `node -e`): loads Dawn's addon from the path it is
 * given, tries the routes in order, prints one JSON line and exits (Dawn's threads would keep
 * it alive).
 */
const CHILD_PROBE_SCRIPT = `
const [dawnPath, routesJson] = process.argv.slice(1);
const done = (x) => { process.stdout.write(JSON.stringify(x) + '\\n'); process.exit(0); };
(async () => {
  const { create } = require(dawnPath);
  const tried = [];
  for (const r of JSON.parse(routesJson)) {
    try {
      const a = await create(r.flags).requestAdapter(r.request);
      if (a) {
        const i = a.info;
        return done({ route: r.name, info: { vendor: i.vendor, architecture: i.architecture, description: i.description, device: i.device, isFallbackAdapter: i.isFallbackAdapter } });
      }
      tried.push(r.missing);
    } catch (e) {
      tried.push(r.label + ' failed: ' + (e && e.message ? e.message : String(e)));
    }
  }
  done({ route: null, why: tried.join('; ') });
})().catch((e) => done({ route: null, why: 'probe failed: ' + (e && e.message ? e.message : String(e)) }));
`;

/** Seconds the child probe may take (Dawn's first start on a loaded machine takes about one). */
const CHILD_PROBE_TIMEOUT_S = 60;

/**
 * Looks for an adapter in a child process, so that Dawn's native warnings (a missing
 * libvulkan.so.1, a failed eglInitialize, llvmpipe's reduced limits) go to the child's captured
 * stderr instead of the user's terminal. Costs one Node start, about 0.5 s. Returns null when
 * the child cannot be run (Dawn's addon not found among loaded modules, no child_process): the
 * caller then probes in this process.
 */
async function probeInChildProcess(): Promise<ChildProbe | null> {
  const cp = nodeBuiltin<NodeChildProcess>('node:child_process');
  const mod = nodeBuiltin<NodeModule>('node:module');
  if (!cp || !mod || (process.versions as Record<string, string | undefined>).deno) return null;
  // The 'webgpu' package has loaded its addon with require(), so the CommonJS cache names it.
  const dawnPath = Object.keys(mod.createRequire(`${process.cwd()}/`).cache).find((k) => /[\\/]dawn\.node$/.test(k));
  if (!dawnPath) return null;
  const env = { ...process.env, EGL_PLATFORM: process.env.EGL_PLATFORM || 'surfaceless' };
  return new Promise((resolveProbe) => {
    cp.execFile(
      process.execPath,
      ['-e', CHILD_PROBE_SCRIPT, dawnPath, JSON.stringify(DAWN_ROUTES)],
      { env, encoding: 'utf8', timeout: CHILD_PROBE_TIMEOUT_S * 1000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          const parsed = JSON.parse(line) as ChildProbe;
          if (parsed.route === null || DAWN_ROUTES.some((r) => r.name === parsed.route)) return resolveProbe({ ...parsed, why: parsed.why ?? '' });
        } catch {
          // fall through: report how the child ended
        }
        const lastErr = stderr.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
        const how = error?.killed ? `did not answer within ${CHILD_PROBE_TIMEOUT_S} s` : `ended with ${error?.signal ?? `exit code ${String(error?.code ?? 0)}`}`;
        resolveProbe({ route: null, why: `the WebGPU probe process ${how}${lastErr ? `: ${lastErr}` : ''}` });
      },
    );
  });
}

function softwareAdapterNote(summary: GpuAdapterSummary): string {
  return (
    `WebGPU adapter ${adapterLabel(summary)} is software-emulated and allowSoftwareGpu is off ` +
    `(set allowSoftwareGpu: true or ANYTIME_ALLOW_SOFTWARE_GPU=1 to use it)`
  );
}

/**
 * Finds a WebGPU adapter in Node, quietly. First, on Linux, whether the libraries Dawn needs
 * are there at all (no Dawn is loaded without them). Then, when the adapter found might go
 * unused (a software one under 'auto'), the probe runs in a child process with its stderr
 * captured, and Dawn starts in this process only if its adapter is to be used.
 */
async function findNodeAdapter(acceptSoftware: boolean): Promise<GpuSearch> {
  const libraries = dawnLibrariesHere();
  if (libraries !== null && libraries.length === 0) {
    return {
      candidate: null,
      why: `no WebGPU adapter in Node: none of the libraries Dawn loads (${DAWN_LINUX_LIBRARIES.join(', ')}) is on this machine (\`npm run setup\` installs Mesa's software drivers)`,
    };
  }
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
  let routes = DAWN_ROUTES;
  if (!acceptSoftware) {
    const probe = await probeInChildProcess();
    if (probe !== null) {
      if (probe.route === null) return { candidate: null, why: `no WebGPU adapter in Node: ${probe.why}` };
      const summary = summarizeAdapter({ info: probe.info });
      if (summary.software) return { candidate: null, why: softwareAdapterNote(summary) };
      routes = DAWN_ROUTES.filter((r) => r.name === probe.route);
    }
  }
  const tried: string[] = [];
  for (const route of routes) {
    try {
      if (route.name === 'opengl' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
      const gpu = dawn.create(route.flags);
      const adapter = await gpu.requestAdapter(route.request);
      if (adapter) {
        return { why: '', candidate: { adapter, summary: summarizeAdapter(adapter), route: route.label, gpu: fixedAdapterGpu(gpu, adapter) } };
      }
      tried.push(route.missing);
    } catch (e) {
      tried.push(`${route.label} failed: ${errorText(e)}`);
    }
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
    const search = isNode() ? await findNodeAdapter(acceptSoftware) : await findBrowserAdapter();
    if (search.candidate === null) {
      notes.push(search.why);
    } else if (search.candidate.summary.software && !acceptSoftware) {
      notes.push(softwareAdapterNote(search.candidate.summary));
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
  announce(resolved, info);
  return info;
}

/** The line last announced, per thread; ANYTIME_BACKEND_ANNOUNCED carries it to worker threads. */
let announced: string | undefined;

/**
 * Prints one line saying which backend runs and why, when the library chose it (`auto`) or
 * could not honour the preference; an explicit choice that worked stays quiet. A line already
 * printed, by this thread or by the thread that started it (worker threads inherit the
 * environment), is not printed again.
 */
function announce(resolved: ResolvedBackendOptions, info: BackendInfo): void {
  if (resolved.prefer !== 'auto' && info.name === resolved.prefer) return;
  const line = `[anytime] backend: ${info.reason}`;
  const env = processEnv();
  if (line === announced || line === env.ANYTIME_BACKEND_ANNOUNCED) return;
  announced = line;
  if (typeof process !== 'undefined' && process.env) process.env.ANYTIME_BACKEND_ANNOUNCED = line;
  console.warn(line);
}

/** The result of the last successful initBackend call, or undefined before one. */
export function currentBackend(): BackendInfo | undefined {
  return current?.info;
}
