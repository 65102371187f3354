import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { currentBackend, findLinkerLibraries, initBackend, resolveBackendOptions, summarizeAdapter, type BackendInfo } from '../src/backend.js';

const run = promisify(execFile);

describe('resolveBackendOptions', () => {
  it('defaults to auto without software GPUs', () => {
    expect(resolveBackendOptions({}, {})).toEqual({ prefer: 'auto', allowSoftwareGpu: false, strict: false, wasmPaths: undefined });
  });

  it('reads ANYTIME_BACKEND and ANYTIME_ALLOW_SOFTWARE_GPU, and explicit options win', () => {
    const env = { ANYTIME_BACKEND: 'WebGPU', ANYTIME_ALLOW_SOFTWARE_GPU: '1' };
    expect(resolveBackendOptions({}, env)).toMatchObject({ prefer: 'webgpu', allowSoftwareGpu: true });
    expect(resolveBackendOptions({ prefer: 'cpu', allowSoftwareGpu: false }, env)).toMatchObject({ prefer: 'cpu', allowSoftwareGpu: false });
    expect(resolveBackendOptions({}, { ANYTIME_ALLOW_SOFTWARE_GPU: 'no' }).allowSoftwareGpu).toBe(false);
  });

  it('names the option or variable and the allowed values on bad input', () => {
    expect(() => resolveBackendOptions({ prefer: 'gpu' as never }, {})).toThrow(
      "prefer: must be one of 'auto', 'webgpu', 'wasm', 'cpu', got 'gpu'",
    );
    expect(() => resolveBackendOptions({}, { ANYTIME_BACKEND: 'tpu' })).toThrow(/^ANYTIME_BACKEND: must be one of 'auto', 'webgpu', 'wasm', 'cpu'/);
    expect(() => resolveBackendOptions({}, { ANYTIME_ALLOW_SOFTWARE_GPU: 'maybe' })).toThrow(/^ANYTIME_ALLOW_SOFTWARE_GPU: must be one of '1'/);
    expect(() => resolveBackendOptions({ allowSoftwareGpu: 'yes' as never }, {})).toThrow(/^allowSoftwareGpu: must be true or false/);
  });
});

describe('summarizeAdapter', () => {
  it('flags CPU-emulated adapters as software', () => {
    const lavapipe = { info: { vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7' } };
    const gl = { info: { vendor: '', architecture: '', description: 'OpenGL version 4.5 (Core Profile) Mesa 25', device: 'llvmpipe-llvm-15' } };
    const swiftshader = { info: { vendor: 'google', architecture: 'swiftshader', description: '' } };
    const nvidia = { info: { vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3080' } };
    expect(summarizeAdapter(lavapipe).software).toBe(true);
    expect(summarizeAdapter(gl)).toEqual({ description: 'OpenGL version 4.5 (Core Profile) Mesa 25, llvmpipe-llvm-15', software: true, vendor: undefined, architecture: undefined });
    expect(summarizeAdapter(swiftshader).software).toBe(true);
    expect(summarizeAdapter({ info: { ...nvidia.info, isFallbackAdapter: true } }).software).toBe(true);
    expect(summarizeAdapter(nvidia)).toEqual({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3080', software: false });
  });
});

describe('initBackend in this process', () => {
  it('starts wasm with SIMD, idempotently', async () => {
    const first = await initBackend({ prefer: 'wasm' });
    expect(first).toMatchObject({ name: 'wasm', simd: true, threads: 1 });
    expect(first.reason).toContain("prefer: 'wasm'");
    const again = await initBackend({ prefer: 'wasm' });
    expect(again).toBe(first);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('switches to cpu and back', async () => {
    const cpu = await initBackend({ prefer: 'cpu' });
    expect(cpu).toMatchObject({ name: 'cpu', simd: false, threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await initBackend({ prefer: 'wasm' });
    expect(wasm.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('serves concurrent calls in order', async () => {
    const [cpu, wasm] = await Promise.all([initBackend({ prefer: 'cpu' }), initBackend({ prefer: 'wasm' })]);
    expect([cpu.name, wasm.name]).toEqual(['cpu', 'wasm']);
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackend()).toBe(wasm);
  });

  it('auto uses only a hardware adapter, and says why when it falls back', async () => {
    const info = await initBackend({ prefer: 'auto', allowSoftwareGpu: false });
    if (info.name === 'webgpu') {
      expect(info.adapter?.software).toBe(false);
    } else {
      expect(info.name).toBe('wasm');
      expect(info.reason).toMatch(/^fell back to wasm: (WebGPU adapter .* is software-emulated and allowSoftwareGpu is off|no WebGPU adapter)/);
    }
  });

  it('rejects bad options before touching the backend', async () => {
    await expect(initBackend({ prefer: 'webgl' as never })).rejects.toThrow(/^prefer: must be one of 'auto', 'webgpu', 'wasm', 'cpu', got 'webgl'/);
  });
});

type ChildResult = { info?: BackendInfo; error?: string; stderr: string };

/** Runs initBackend in a fresh child process (see backend-fallback-child.ts). */
async function initInChild(opts: object, env: NodeJS.ProcessEnv, withWorker = false): Promise<ChildResult & { worker?: ChildResult }> {
  const args = ['--import', 'tsx', 'test/backend-fallback-child.ts', JSON.stringify(opts), ...(withWorker ? ['worker'] : [])];
  const { stdout, stderr } = await run(process.execPath, args, { env: { ...env, ANYTIME_BACKEND_ANNOUNCED: '' } });
  const [main, worker] = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ChildResult);
  return { ...main, stderr, worker };
}

/** An environment in which Dawn finds no adapter on either route (the libraries are there, no driver answers). */
const NO_ADAPTER_ENV = {
  ...process.env,
  VK_ICD_FILENAMES: '/nonexistent/no-vulkan-driver.json', // route B: no Vulkan driver
  VK_DRIVER_FILES: '/nonexistent/no-vulkan-driver.json',
  EGL_PLATFORM: 'none', // route A: an EGL platform that does not exist
  ANYTIME_BACKEND: '',
  ANYTIME_ALLOW_SOFTWARE_GPU: '',
};

/** Runs initBackend in a child process whose Dawn can find no adapter on either route. */
const initWithoutAdapters = (opts: object) => initInChild(opts, NO_ADAPTER_ENV);

const stderrLines = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.trim() !== '');

describe('initBackend without any WebGPU adapter (child process)', () => {
  it('auto falls back to wasm and reports what was tried', async () => {
    const { info, error } = await initWithoutAdapters({ prefer: 'auto', allowSoftwareGpu: true });
    expect(error).toBeUndefined();
    expect(info?.name).toBe('wasm');
    expect(info?.reason).toMatch(/^fell back to wasm: no WebGPU adapter in Node: Dawn default backend \(Vulkan\).*; Dawn OpenGL backend/);
  });

  it("prefer 'webgpu' with strict throws instead of falling back", async () => {
    const { info, error } = await initWithoutAdapters({ prefer: 'webgpu', strict: true });
    expect(info).toBeUndefined();
    expect(error).toMatch(/^initBackend: prefer 'webgpu' with strict: no WebGPU adapter in Node/);
  });

  it("prefer 'webgpu' without strict falls back with the reason", async () => {
    const { info } = await initWithoutAdapters({ prefer: 'webgpu' });
    expect(info?.name).toBe('wasm');
    expect(info?.reason).toContain('no WebGPU adapter');
  });
});

describe('findLinkerLibraries', () => {
  // A linker cache holds names NUL-terminated, alone or as the tail of a path (shared suffixes).
  const cache = new TextEncoder().encode('ld.so-1.7.0\0glibc-ld.so.cache1.1\0libm.so.6\0/lib/x86_64-linux-gnu/libEGL.so\0libvulkan.so.1.3\0');
  const nowhere = { exists: () => false, libraryPath: undefined };

  it('finds names in the cache, whole names only', () => {
    expect(findLinkerLibraries(['libvulkan.so.1', 'libEGL.so', 'libm.so.6'], { cache, ...nowhere })).toEqual(['libEGL.so', 'libm.so.6']);
    expect(findLinkerLibraries(['libEGL.so.1', 'm.so.6', 'u/libEGL.so'], { cache, ...nowhere })).toEqual([]);
  });

  it('finds names in LD_LIBRARY_PATH directories', () => {
    const exists = (p: string) => p === '/opt/vk/lib/libvulkan.so.1';
    expect(findLinkerLibraries(['libvulkan.so.1', 'libEGL.so'], { cache, exists, libraryPath: '/usr/x::/opt/vk/lib' })).toEqual(['libvulkan.so.1', 'libEGL.so']);
  });

  it('says it cannot tell when there is no linker cache', () => {
    expect(findLinkerLibraries(['libEGL.so'], { cache: null, exists: () => true, libraryPath: '/x' })).toBeNull();
  });
});

describe('the backend line: quiet probe, one line', () => {
  it('auto without a usable adapter prints no native warnings, only the one line', async () => {
    const r = await initWithoutAdapters({ prefer: 'auto' });
    expect(r.info?.name).toBe('wasm');
    expect(r.info?.reason).toMatch(/^fell back to wasm: no WebGPU adapter in Node: Dawn default backend \(Vulkan\).*; Dawn OpenGL backend/);
    expect(stderrLines(r)).toEqual([`[anytime] backend: ${r.info!.reason}`]);
  });

  it('on this machine: auto prints exactly one line and nothing else, and a worker thread started after it stays quiet', async () => {
    const r = await initInChild({ prefer: 'auto' }, { ...process.env, ANYTIME_BACKEND: '', ANYTIME_ALLOW_SOFTWARE_GPU: '' }, true);
    expect(r.error).toBeUndefined();
    expect(r.worker?.info?.reason).toBe(r.info?.reason);
    expect(stderrLines(r)).toEqual([`[anytime] backend: ${r.info!.reason}`]);
  });

  it('an explicit choice that works prints nothing', async () => {
    const r = await initInChild({ prefer: 'wasm' }, process.env);
    expect(r.info?.name).toBe('wasm');
    expect(stderrLines(r)).toEqual([]);
  });
});
