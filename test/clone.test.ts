/**
 * Clone and run, as a new user would: `git clone` of this repository (its committed state: a
 * file that is not committed is not in the clone) into a temporary folder, then the README's
 * main command, read from the clone's own README, run there as typed. About a minute on an idle
 * 2-core machine (npm ci from the npm cache, then the quick preset), more under load.
 *
 * The test command itself is not run here (it runs this suite); test/clone-static.test.ts
 * checks that CI runs exactly it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanNpmEnv, readmeCommands } from './repo-helpers.js';

const ROOT = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: resolve('.'), encoding: 'utf8' }).trim();

let tmp: string;
let clone: string;
let command: string;
let result: { code: number; output: string };

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'anytime-clone-'));
  clone = join(tmp, 'anytime');
  execFileSync('git', ['clone', '--quiet', ROOT, clone]);
  command = readmeCommands(readFileSync(join(clone, 'README.md'), 'utf8')).main;
  // One stream, in order, as a terminal would show it (stderr holds the progress lines).
  result = await new Promise((done) =>
    // The command keeps its trailing comment, so it goes on a line of its own.
    execFile('bash', ['-c', `exec 2>&1\n${command}\n`], { cwd: clone, env: cleanNpmEnv(), maxBuffer: 256 << 20 }, (error, stdout) =>
      done({ code: error ? Number(error.code ?? 1) : 0, output: stdout }),
    ),
  );
}, 1_800_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("a fresh clone runs the README's main command", () => {
  it('finishes successfully', () => {
    expect(command).toMatch(/^npm ci && npx anytime reproduce\b/);
    if (result.code !== 0) throw new Error(`'${command}' exited with ${result.code}:\n${result.output.slice(-4000)}`);
  });

  it('prints no native warnings and no npm warnings that matter', () => {
    expect(result.output).toContain('report: ');
    const lines = result.output.split('\n');
    const native = lines.filter((l) => /^Warning: |libEGL warning|MESA-|vkCreateInstance|eglInitialize|Couldn't load|artificially reduced|ExperimentalWarning|DeprecationWarning/.test(l));
    expect(native).toEqual([]);
    const npmWarnings = lines.filter((l) => /npm warn (EBADENGINE|install-scripts|ERESOLVE)/i.test(l));
    expect(npmWarnings).toEqual([]);
  });

  it('says once which backend runs and why', () => {
    const backendLines = result.output.split('\n').filter((l) => l.startsWith('[anytime] backend:'));
    expect(backendLines).toHaveLength(1);
    expect(backendLines[0]).toMatch(/^\[anytime\] backend: (webgpu|fell back to wasm)\b.*\S: \S/);
  });

  it('shows progress without zero rates, and a one-seed summary without a made-up spread', () => {
    expect(result.output).toMatch(/\[#+\.*\] \d+\/\d+ /);
    expect(result.output).not.toMatch(/\b0\.0+ \w+\/s\b/);
    expect(result.output).not.toMatch(/± 0\.0\b/);
  });

  it('writes a sane report: base policy and both runs scored in [0, 100]', () => {
    const reportLine = result.output.split('\n').find((l) => l.startsWith('report: '));
    expect(reportLine).toMatch(/^report: runs\/quick\/report\.md \(\d+\.\d min\)$/);
    expect(existsSync(join(clone, 'runs', 'quick', 'report.md'))).toBe(true);
    // The run table: base policy and each run, with anytime and final accuracy (and intervals) in percent.
    const lines = result.output.split('\n');
    const header = lines.findIndex((l) => /^run\s+seeds\s/.test(l));
    expect(header).toBeGreaterThan(0);
    const end = lines.findIndex((l, i) => i > header && l.trim() === '');
    const rows = lines.slice(header + 1, end < 0 ? undefined : end);
    expect(rows.map((l) => /^(base policy|grpo|ar-uniform)/.exec(l)![1]).sort()).toEqual(['ar-uniform', 'base policy', 'grpo']);
    for (const row of rows) {
      const percents = [...row.matchAll(/-?\d+\.\d+/g)].map((m) => Number(m[0]));
      expect(percents.length).toBeGreaterThanOrEqual(2);
      for (const value of percents) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(100);
      }
    }
  });
});
