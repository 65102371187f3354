// Worker threads do not inherit the parent's TypeScript loader: register tsx, then load the
// worker's module (`workerData.module`, relative to this folder; by default the reproduce worker).
// Deno runs TypeScript itself (and has no tsx loader hooks), so there the worker loads directly.
import { workerData } from 'node:worker_threads';

if (!globalThis.Deno) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData?.module ?? './worker.ts');
