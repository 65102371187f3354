import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readResults } from '../src/eval/results.js';
import { startFakeServer, trace, type FakeServer } from './eval-fake-server.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

/** Runs `npx anytime eval` as a real process; `killWhen` SIGKILLs it when it returns true. */
function runCli(args: string[], killWhen?: () => boolean): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/anytime.js', 'eval', ...args], { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', () => {});
    const timer = killWhen ? setInterval(() => killWhen() && child.kill('SIGKILL'), 20) : undefined;
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe('anytime eval as a process', () => {
  it('loses nothing when SIGKILLed mid-run: the rerun completes every sample exactly once', async () => {
    const traces = { P1: trace(9, true, { at: 4, answer: '3' }), P2: trace(20, false, { at: 7, answer: '5' }), P3: trace(4, true), P4: trace(3, true, { at: 2, answer: '2' }) };
    const server = await startFakeServer({ traces, format: 'llama.cpp', delayMs: 30 });
    servers.push(server);
    const dir = mkdtempSync(join(tmpdir(), 'anytime-kill-'));
    const data = join(dir, 'data.json');
    writeFileSync(data, JSON.stringify(['3', '5', '8', '2'].map((answer, i) => ({ id: `q${i}`, problem: `P${i + 1}`, answer }))));
    const out = join(dir, 'run.json');
    const samples = join(dir, 'run.samples.jsonl');
    const args = ['--base-url', `${server.url}/v1`, '--model', 'fake-r1', '--data', data, '--out', out, '--max-budget', '12', '--budgets', '3,6,9,12', '--samples', '3', '--concurrency', '2'];

    const sampleLines = () => (existsSync(samples) ? readFileSync(samples, 'utf8').split('\n').filter((l) => l.includes('"type":"sample"')).length : 0);
    const killed = await runCli(args, () => sampleLines() >= 3);
    expect(killed.signal).toBe('SIGKILL');
    const afterKill = readResults(samples).records.length;
    expect(afterKill).toBeGreaterThanOrEqual(3);
    expect(afterKill).toBeLessThan(12);

    const rerun = await runCli(args);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`resuming: ${afterKill} samples already in`);
    const keys = readResults(samples).records.map((r) => `${r.id}:${r.sample}`);
    expect(new Set(keys).size).toBe(12);
    expect(keys).toHaveLength(12);
    const summary = JSON.parse(readFileSync(out, 'utf8'));
    [0.25, 0.5, 0.75, 0.75].forEach((a, j) => expect(summary.accuracy[j]).toBeCloseTo(a, 12));
    expect(summary.anytime).toBeCloseTo(0.5625, 12);
  }, 180_000); // two `anytime eval` processes: slow when the machine is loaded
});
