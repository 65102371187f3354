/**
 * Runs toolkit computations in headless Debian Chromium (WebGPU on SwiftShader, and WASM)
 * and checks the numbers against Node's cpu backend. Needs /usr/bin/chromium
 * (`npm run setup` installs it): without it this test fails, it does not skip.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './backend-env.js';
import { COMPUTATIONS, maxRelativeError, runComputation, type Nested } from './browser/computations.js';
import type { BrowserResults } from './browser/page.js';
import { BROWSER_TRAINING_STEPS } from './browser/training.js';

const CHROMIUM = process.env.ANYTIME_CHROMIUM ?? '/usr/bin/chromium';
const BROWSER_BACKENDS = ['webgpu', 'wasm'];
const WASM_DIR = resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist');

let server: Server;
let context: BrowserContext;
let profileDir: string;
const pageLog: string[] = [];

async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [resolve('test/browser/page.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    // The Dawn binding is Node-only; src/backend.ts never reaches it in a browser.
    external: ['webgpu'],
    logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

function serve(bundle: string): Promise<number> {
  const html = '<!doctype html><html><head><meta charset="utf-8"></head><body><script src="/bundle.js"></script></body></html>';
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } else if (path === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (/^\/wasm\/[\w.-]+\.wasm$/.test(path)) {
      try {
        const bytes = readFileSync(join(WASM_DIR, path.slice('/wasm/'.length)));
        res.writeHead(200, { 'content-type': 'application/wasm' }).end(bytes);
      } catch {
        res.writeHead(404).end();
      }
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok((server.address() as { port: number }).port)));
}

/** Bundles, serves and runs the page once; every test awaits it, so a failure fails each test. */
async function runInBrowser(): Promise<BrowserResults> {
  const port = await serve(await bundlePage());
  profileDir = mkdtempSync(join(tmpdir(), 'anytime-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--enable-unsafe-webgpu',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => pageLog.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`));
  await page.goto(`http://127.0.0.1:${port}/?backends=${BROWSER_BACKENDS.join(',')}`);
  await page.waitForSelector('body[data-state]', { state: 'attached', timeout: 100_000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'done') {
    const error = await page.evaluate(() => (window as unknown as { __anytimeError?: string }).__anytimeError);
    throw new Error(`browser page failed: ${error}\npage log:\n${pageLog.join('\n')}`);
  }
  return page.evaluate(() => (window as unknown as { __anytime: BrowserResults }).__anytime);
}

let browserRun: Promise<BrowserResults> | undefined;
const browserResults = (): Promise<BrowserResults> => (browserRun ??= runInBrowser());

afterAll(async () => {
  await context?.close();
  server?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

describe('headless Chromium', () => {
  const reference: Record<string, Nested[]> = {};

  beforeAll(async () => {
    await useBackend('cpu');
    for (const [name, compute] of Object.entries(COMPUTATIONS)) reference[name] = await runComputation(compute);
    for (const [name, step] of Object.entries(BROWSER_TRAINING_STEPS)) reference[name] = await step();
  });

  it('starts WebGPU on a software adapter and WASM with SIMD', async () => {
    const results = await browserResults();
    expect(results.webgpu.info.name).toBe('webgpu');
    expect(results.webgpu.info.adapter?.software).toBe(true);
    expect(results.webgpu.info.reason).toContain("prefer: 'webgpu'");
    expect(results.wasm.info).toMatchObject({ name: 'wasm', simd: true });
  }, 150_000);

  it.each(BROWSER_BACKENDS)('%s: every computation matches Node, with no leaked tensors', async (backend) => {
    const results = await browserResults();
    const names = [...Object.keys(COMPUTATIONS), ...Object.keys(BROWSER_TRAINING_STEPS)];
    expect(Object.keys(results[backend].values).sort()).toEqual(names.sort());
    for (const name of names) {
      const err = maxRelativeError(results[backend].values[name], reference[name]);
      expect(err, `${backend} ${name}`).toBeLessThan(1e-4);
    }
    expect(results[backend].leakedTensors).toBe(0);
  }, 150_000);
});
