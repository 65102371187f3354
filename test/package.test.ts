/**
 * The package as a consumer gets it: `npm pack` (which builds dist/), installed from the tarball
 * into a fresh project with the registry's dependencies and none of this project's `overrides`,
 * then each entry point (`anytime`, `anytime/backend`, `anytime/tensor`) is used from plain Node
 * ESM, from CommonJS `require`, from a type-checked TypeScript project, and bundled for a browser.
 * Needs the npm registry (or a warm npm cache); takes one to three minutes.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanNpmEnv } from './repo-helpers.js';

const run = promisify(execFile);
const ROOT = resolve('.');
const ownPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};



let tmp: string;
let consumer: string;
let installLog: string;

/** What each consumer prints, computed through all three entry points. */
const CHECKS = `
  const out = {};
  out.budgets = anytime.budgetSupport(8000, 4);
  out.returns = anytime.budgetReturns([[1, 0, 1, 1]], [0.1, 0.2, 0.3, 0.4])[0].map((x) => Math.round(x * 1000) / 1000);
  out.half = anytime.verifyAnswer('\\\\boxed{\\\\frac12}', '0.5').correct;
  out.sqrt8 = anytime.verifyAnswer('\\\\boxed{2\\\\sqrt2}', '\\\\sqrt8').correct;
  out.evaluation = typeof anytime.evaluation.parseProblems;
  const info = await backend.initBackend({ prefer: 'wasm' });
  out.backend = info.name;
  const R = tensor.budgetReturnsTensor([[1, 0, 1, 1]], [0.1, 0.2, 0.3, 0.4]);
  out.tensorReturns = Array.from(await R.data()).map((x) => Math.round(x * 1000) / 1000);
  R.dispose();
  console.log(JSON.stringify(out));
`;

const EXPECTED = {
  budgets: [2000, 4000, 6000, 8000],
  returns: [0.8, 0.7, 0.7, 0.4],
  half: true,
  sqrt8: true,
  evaluation: 'function',
  backend: 'wasm',
  tensorReturns: [0.8, 0.7, 0.7, 0.4],
};

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop() ?? '') as unknown;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'anytime-pack-'));
  // prepack builds dist/ from the sources first.
  const pack = await run('npm', ['pack', '--pack-destination', tmp], { cwd: ROOT, env: cleanNpmEnv(), maxBuffer: 64 << 20 });
  const tarball = join(tmp, pack.stdout.trim().split('\n').pop()!);
  consumer = join(tmp, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2));
  const tools = [`typescript@${ownPackage.devDependencies.typescript}`, `@types/node@${ownPackage.devDependencies['@types/node']}`];
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...tools], { cwd: consumer, env: cleanNpmEnv(), maxBuffer: 64 << 20 });
  installLog = install.stdout + install.stderr;
}, 900_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('npm pack, installed into a fresh project', () => {
  it('installs without engine or peer warnings, and with only the dependencies it declares', async () => {
    expect(installLog).not.toMatch(/EBADENGINE|ERESOLVE|peer dep/i);
    const installed = JSON.parse(readFileSync(join(consumer, 'node_modules', 'anytime', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      files: string[];
    };
    expect(Object.keys(installed.dependencies).sort()).toEqual(Object.keys(ownPackage.dependencies).sort());
    // The tree is complete and consistent without this project's overrides.
    await run('npm', ['ls', '--all'], { cwd: consumer, env: cleanNpmEnv(), maxBuffer: 64 << 20 });
  });

  it('ships compiled JavaScript and types, not the TypeScript sources', async () => {
    const { stdout } = await run('tar', ['-tzf', join(tmp, (await run('ls', [tmp])).stdout.split('\n').find((f) => f.endsWith('.tgz'))!)]);
    const files = stdout.split('\n').filter((f) => f !== '');
    expect(files).toContain('package/dist/src/index.js');
    expect(files).toContain('package/dist/src/index.d.ts');
    expect(files).toContain('package/dist/src/browser.js');
    expect(files).toContain('package/bin/anytime.js');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('imports from plain Node ESM', async () => {
    const script = `import * as anytime from 'anytime'; import * as backend from 'anytime/backend'; import * as tensor from 'anytime/tensor';\n${CHECKS}`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer, env: cleanNpmEnv() });
    expect(lastJson(stdout)).toEqual(EXPECTED);
  });

  it('requires from CommonJS', async () => {
    const script = `const anytime = require('anytime'); const backend = require('anytime/backend'); const tensor = require('anytime/tensor');\n(async () => {${CHECKS}})();`;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=commonjs', '-e', script], { cwd: consumer, env: cleanNpmEnv() });
    expect(lastJson(stdout)).toEqual(EXPECTED);
    expect(stderr).not.toMatch(/ExperimentalWarning/);
  });

  it('runs its command line from the installed package', async () => {
    const { stdout } = await run(join(consumer, 'node_modules', '.bin', 'anytime'), ['--help'], { cwd: consumer, env: cleanNpmEnv() });
    expect(stdout).toMatch(/reproduce/);
  });

  it('gives types to a TypeScript project (ESM and CommonJS files), and they are real types', async () => {
    const ts = join(consumer, 'ts');
    mkdirSync(ts, { recursive: true });
    writeFileSync(
      join(ts, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
        include: ['*.mts', '*.cts'],
      }),
    );
    writeFileSync(
      join(ts, 'use.mts'),
      [
        "import { budgetSupport, makePrior, verifyAnswer, type VerifyResult } from 'anytime';",
        "import { initBackend, type BackendInfo } from 'anytime/backend';",
        "import { budgetReturnsTensor } from 'anytime/tensor';",
        'const budgets: number[] = budgetSupport(8000, 4);',
        "const prior = makePrior('linear', budgets);",
        "const verdict: VerifyResult = verifyAnswer('\\\\boxed{1}', '1');",
        "const info: Promise<BackendInfo> = initBackend({ prefer: 'wasm' });",
        'const R = budgetReturnsTensor([[1, 0]], [0.5, 0.5]);',
        "// @ts-expect-error budgetSupport takes numbers: proves the types are not 'any'",
        "budgetSupport('8000', 4);",
        "// @ts-expect-error 'gpu' is not a backend choice",
        "void initBackend({ prefer: 'gpu' });",
        'export { prior, verdict, info, R };',
      ].join('\n'),
    );
    writeFileSync(
      join(ts, 'use.cts'),
      ["import anytime = require('anytime');", 'export const budgets: number[] = anytime.budgetSupport(8000, 4);', '// @ts-expect-error a string is not a budget count', "anytime.budgetSupport(8000, 'four');"].join('\n'),
    );
    const tsc = join(consumer, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', ts], { cwd: consumer, env: cleanNpmEnv() }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
    expect(result.stdout).toBe('');
    expect('failed' in result).toBe(false);
  });

  it('bundles for the browser: no Node built-ins, no Dawn binding, no evaluation file I/O', async () => {
    writeFileSync(
      join(consumer, 'browser-entry.mjs'),
      "import * as anytime from 'anytime'; import { initBackend } from 'anytime/backend'; import * as tensor from 'anytime/tensor';\nglobalThis.result = [anytime.budgetSupport(8000, 4), typeof initBackend, typeof tensor.budgetReturnsTensor, 'evaluation' in anytime];\n",
    );
    const out = await build({
      absWorkingDir: consumer,
      entryPoints: ['browser-entry.mjs'],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      logLevel: 'silent',
    });
    expect(out.errors).toEqual([]);
    expect(out.warnings.map((w) => w.text)).toEqual([]);
    const code = out.outputFiles[0].text;
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
    expect(code).not.toContain('dawn.node');
  });
});
