/**
 * Throughput of `anytime eval` itself (client, planning, grading, JSONL) against the in-process
 * fake server of the tests: 50 problems, traces of 2100-7000 tokens, 32 budgets up to 8000, A = 4.
 * Run: npx tsx scripts/bench-eval.ts
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeServer, trace, type FakeTrace } from '../test/eval-fake-server.js';
import { runEvalCommand } from '../src/cli/eval.js';
const traces: Record<string, FakeTrace> = {};
const data = [];
for (let i = 1; i <= 50; i++) { traces[`P${i}`] = trace(2000 + 100 * i, i % 3 !== 0, { at: 500 + 50 * i, answer: String(i) }); data.push({ problem: `P${i}`, answer: String(i) }); }
const server = await startFakeServer({ traces, format: 'vllm' });
const dir = mkdtempSync(join(tmpdir(), 'bench-eval-'));
writeFileSync(join(dir, 'd.json'), JSON.stringify(data));
const t0 = performance.now();
const code = await runEvalCommand(['--base-url', server.url, '--model', 'fake-r1', '--data', join(dir, 'd.json'), '--out', join(dir, 'o.json'), '--max-budget', '8000', '--budget-count', '32', '--summaries', '4', '--concurrency', '8'], { log: (l) => console.log(l) });
console.log('code', code, 'ms', (performance.now() - t0).toFixed(0), 'requests', server.requests.length);
await server.close();
