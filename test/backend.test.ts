import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { currentBackend, initBackend, resolveBackendOptions, summarizeAdapter, type BackendInfo } from '../src/backend.js';

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

/** Runs initBackend in a child process whose Dawn can find no adapter on either route. */
async function initWithoutAdapters(opts: object): Promise<{ info?: BackendInfo; error?: string }> {
  const env = {
    ...process.env,
    VK_ICD_FILENAMES: '/nonexistent/no-vulkan-driver.json', // route B: no Vulkan driver
    VK_DRIVER_FILES: '/nonexistent/no-vulkan-driver.json',
    EGL_PLATFORM: 'none', // route A: an EGL platform that does not exist
    ANYTIME_BACKEND: '',
    ANYTIME_ALLOW_SOFTWARE_GPU: '',
  };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/backend-fallback-child.ts', JSON.stringify(opts)], { env });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as { info?: BackendInfo; error?: string };
}

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
