/**
 * Child process for test/backend.test.ts: runs initBackend in a fresh process (the
 * backend is process-wide state) under whatever environment the test gives it, and
 * prints one JSON line: {"info": BackendInfo} or {"error": message}.
 * Usage: tsx test/backend-fallback-child.ts '<options as JSON>' [worker]
 * With `worker`, a worker thread then runs initBackend with the same options too (as
 * `anytime reproduce` does), and its result is printed as a second JSON line.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendOptions } from '../src/backend.js';

async function init(opts: BackendOptions): Promise<string> {
  try {
    return JSON.stringify({ info: await initBackend(opts) });
  } catch (e) {
    return JSON.stringify({ error: e instanceof Error ? e.message : String(e) });
  }
}

async function main(): Promise<void> {
  if (!isMainThread) {
    parentPort!.postMessage(await init(workerData as BackendOptions));
    return;
  }
  const opts = JSON.parse(process.argv[2] ?? '{}') as BackendOptions;
  console.log(await init(opts));
  if (process.argv[3] === 'worker') {
    // Worker threads do not inherit tsx's loader: register it there first (as src/train/worker-entry.mjs does).
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
    const worker = new Worker(boot, { eval: true, workerData: opts });
    console.log(await new Promise<string>((ok, fail) => worker.once('message', ok).once('error', fail)));
    await worker.terminate();
  }
}

void main();
