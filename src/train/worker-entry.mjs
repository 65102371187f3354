// Worker threads do not inherit the parent's TypeScript loader: register tsx, then load the
// worker's module (`workerData.module`, relative to this folder; by default the reproduce worker).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData?.module ?? './worker.ts');
