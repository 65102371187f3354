/**
 * Child process for test/backend.test.ts: runs initBackend in a fresh process (the
 * backend is process-wide state) under whatever environment the test gives it, and
 * prints one JSON line: {"info": BackendInfo} or {"error": message}.
 * Usage: tsx test/backend-fallback-child.ts '<options as JSON>'
 */
import { initBackend, type BackendOptions } from '../src/backend.js';

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as BackendOptions;
  try {
    const info = await initBackend(opts);
    console.log(JSON.stringify({ info }));
  } catch (e) {
    console.log(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }));
  }
}

void main();
