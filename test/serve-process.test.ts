/**
 * `npx anytime serve` as a real process: the eval survives the server being killed mid-run
 * (rerun with the same arguments completes every sample exactly once, with the same results
 * as an in-process evaluation), and SIGTERM / SIGINT stop the server gracefully.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runEvalCommand } from '../src/cli/eval.js';
import { readResults } from '../src/eval/results.js';
import { CompletionEngine } from '../src/serve/engine.js';
import { loadServedModel } from '../src/serve/load.js';
import { TEXT_MAPS } from '../src/serve/protocol.js';
import { comparable, evalArgs, inProcessEval, makeCheckpoint, writeProblems } from './serve-fixture.js';

const ROOT = join(__dirname, '..');
let dir: string;
let ckpt: string;
const children: ChildProcess[] = [];

interface Served {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `anytime serve` and resolves once it prints its address. */
function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, ['bin/anytime.js', 'serve', '--checkpoint', ckpt, '--box-answers', '--backend', 'wasm', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/\S+)\/v1/.exec(stdout);
      if (m) resolve({ child, url: m[1], stdout: () => stdout, exited });
    });
    void exited.then(({ code }) => reject(new Error(`serve exited (${code}) before listening:\n${stdout}\n${stderr}`)));
  });
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  dir = mkdtempSync(join(tmpdir(), 'anytime-serve-proc-'));
  ckpt = await makeCheckpoint(dir);
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

describe('anytime serve as a process', () => {
  it('a killed server loses nothing: after a restart the same eval command finishes every sample exactly once', async () => {
    const data = writeProblems(dir, 12);
    const out = join(dir, 'run.json');
    const samples = join(dir, 'run.samples.jsonl');
    const first = await serve(['--port', '0', '--batch-wait-ms', '20']);
    const port = new URL(first.url).port;
    const args = evalArgs({ baseUrl: first.url, model: 'arith-tiny', data, out, extra: ['--concurrency', '2', '--retries', '0'] });
    const log: string[] = [];
    const lines = () => (existsSync(samples) ? readResults(samples).records.length : 0);
    // Kill the server (SIGKILL: no goodbye) once a few samples are written.
    const killer = setInterval(() => {
      if (lines() >= 3 && first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
    }, 10);
    const interrupted = await runEvalCommand(args, { log: (l) => log.push(l), progressStream: quiet });
    clearInterval(killer);
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(interrupted, log.join('\n')).toBe(3); // server error: rerun to resume
    const afterKill = readResults(samples).records.length;
    expect(afterKill).toBeGreaterThanOrEqual(3);
    expect(afterKill).toBeLessThan(24);

    const second = await serve(['--port', port]);
    log.length = 0;
    const rerun = await runEvalCommand(args, { log: (l) => log.push(l), progressStream: quiet });
    expect(rerun, log.join('\n')).toBe(0);
    expect(log.join('\n')).toContain(`resuming: ${afterKill} samples already in`);
    const records = readResults(samples).records;
    const keys = records.map((r) => `${r.problem}:${r.sample}`);
    expect(keys).toHaveLength(24);
    expect(new Set(keys).size).toBe(24);

    // The interrupted-and-resumed run equals one uninterrupted in-process evaluation.
    const model = loadServedModel(ckpt);
    try {
      const engine = new CompletionEngine(model.policy, model.task, { modelId: model.modelId, textMap: TEXT_MAPS.paper, boxAnswers: true, seed: 0 });
      const reference = await inProcessEval(engine, data, join(dir, 'reference.samples.jsonl'));
      expect(comparable(records)).toEqual(comparable(reference));
      const summary = JSON.parse(readFileSync(out, 'utf8'));
      [0, 1, 2, 3].forEach((j) => expect(summary.accuracy[j]).toBeCloseTo(reference.reduce((a, r) => a + r.scores[j], 0) / reference.length, 12));
    } finally {
      model.policy.dispose();
    }

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    // Two CLI processes and a server process: it ran past 90 s on the 2-core machine at load ~6.
  }, 300_000);

  it('SIGTERM answers the requests in progress, then exits 0; SIGINT too', async () => {
    // A long batch wait keeps the request queued when the signal arrives.
    const s = await serve(['--port', '0', '--batch-wait-ms', '1500']);
    const pending = fetch(`${s.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: '3 + 4 ?', max_tokens: 30, n: 3, seed: 1 }),
    });
    await new Promise((r) => setTimeout(r, 300));
    s.child.kill('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect((await res.json()).choices).toHaveLength(3);
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.stdout()).toContain('SIGTERM: finishing requests in progress');
    expect(s.stdout()).toContain('stopped after 1 requests in 1 batches');
    await expect(fetch(`${s.url}/v1/models`)).rejects.toThrow();

    const idle = await serve(['--port', '0']);
    idle.child.kill('SIGINT');
    expect(await idle.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
