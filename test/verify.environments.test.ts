/**
 * The verifier gives the same results in every environment the toolkit supports, and a
 * dependency that cannot be loaded is an error naming it, never a silent change of
 * results (issue 11: inside the tslab kernel `require('@cortex-js/compute-engine')`
 * returned `{}` and every comparison that needed the parser graded "not equal").
 *
 * - CommonJS as tslab runs it: a small program is compiled with tslab's own TypeScript
 *   (5.0, `--module commonjs --moduleResolution node`), run with node, and its results
 *   compared with the same calls made here under ES modules; and the same program run as
 *   notebook cells through tslab's own converter and executor (the kernel without Jupyter).
 * - The browser bundle: the same calls bundled by esbuild for the browser and run in a
 *   bare JS context (no `require`, no `process`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { AnytimeDependencyError } from '../src/core/errors.js';
import { gradeSummary, verifyAnswer } from '../src/verify/index.js';
import { resolveComputeEngine, type RequireLike } from '../src/verify/engine-loader.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSLAB_TSC = path.join(ROOT, 'node_modules/@tslab/typescript-for-tslab/bin/tsc');

/** Calls whose results must agree across environments: [prediction, gold]. */
const CALLS: [string, string][] = [
  ['0.5', '\\frac12'],
  ['2\\sqrt2', '\\sqrt8'],
  ['1/2', '\\frac{1}{2}'],
  ['\\boxed{\\frac{\\sqrt{3}}{3}}', '\\frac{1}{\\sqrt{3}}'],
  ['\\boxed{(x-1)(x+1)}', 'x^2-1'],
  ['\\boxed{2^{1009}}', '2 \\cdot 2^{1008}'],
  ['\\boxed{x > 2}', '(2,\\infty)'],
  ['\\boxed{y = 2x+1}', '2x+1 = y'],
  ['\\boxed{0.33}', '\\frac{1}{3}'],
  ['The answer is $\\frac{3}{4}$.', '0.75'],
  ['QX7B', '7'],
];
const SUMMARIES: [string, string][] = [
  ['</think>\n\n**Final Answer**\n\\boxed{\\frac12}', '0.5'],
  ['</think>\n\n**Final Answer**\n\\boxed{\\sqrt8}', '2\\sqrt2'],
];

/** The program every environment runs: prints the results as JSON. */
function programSource(importPath: string): string {
  return [
    `import { gradeSummary, verifyAnswer } from '${importPath}';`,
    `const calls: [string, string][] = ${JSON.stringify(CALLS)};`,
    `const summaries: [string, string][] = ${JSON.stringify(SUMMARIES)};`,
    'const out = {',
    '  verify: calls.map(([p, g]) => verifyAnswer(p, g)),',
    '  grade: summaries.map(([s, g]) => gradeSummary(s, g)),',
    '};',
    'console.log(JSON.stringify(out));',
    '',
  ].join('\n');
}

const expected = {
  verify: CALLS.map(([p, g]) => verifyAnswer(p, g)),
  grade: SUMMARIES.map(([s, g]) => gradeSummary(s, g)),
};

const workDirs: string[] = [];
afterAll(() => {
  for (const d of workDirs) rmSync(d, { recursive: true, force: true });
});

/** Compiles the program with tslab's TypeScript to CommonJS; returns the compiled tree and entry. */
function compileCommonJs(): { outDir: string; entry: string } {
  mkdirSync(path.join(ROOT, 'build'), { recursive: true });
  const dir = mkdtempSync(path.join(ROOT, 'build', 'verify-cjs-'));
  workDirs.push(dir);
  const source = path.join(dir, 'program.ts');
  const rel = path.relative(dir, path.join(ROOT, 'src/verify/index.js')).split(path.sep).join('/');
  writeFileSync(source, programSource(rel));
  const outDir = path.join(dir, 'out');
  const tsc = spawnSync(
    process.execPath,
    [TSLAB_TSC, '--module', 'commonjs', '--moduleResolution', 'node', '--target', 'es2022', '--lib', 'es2022', '--esModuleInterop',
      '--skipLibCheck', '--types', 'node', '--rootDir', ROOT, '--outDir', outDir, source],
    { cwd: ROOT, encoding: 'utf8' },
  );
  expect(tsc.status, `${tsc.stdout}\n${tsc.stderr}`).toBe(0);
  // The repository is "type": "module"; the compiled tree is CommonJS, as in tslab.
  writeFileSync(path.join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
  return { outDir, entry: path.join(outDir, path.relative(ROOT, source)).replace(/\.ts$/, '.js') };
}

function runNode(args: string[]) {
  return spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
}

describe('verifier under CommonJS (tslab)', () => {
  const { outDir, entry } = compileCommonJs();

  it('tslab TypeScript 5.0 compiles the toolkit import to a plain require', () => {
    const compiled = runNode(['-e', `process.stdout.write(require('fs').readFileSync(${JSON.stringify(entry)}, 'utf8'))`]).stdout;
    expect(compiled).toMatch(/require\("[./]+src\/verify\/index\.js"\)/);
  });

  it('gives the same results as ES modules', () => {
    const run = runNode([entry]);
    expect(run.status, run.stderr).toBe(0);
    const got = JSON.parse(run.stdout) as typeof expected;
    expect(got).toEqual(expected);
    // And they are the right ones (the defect graded all of these "not equal").
    expect(got.verify.slice(0, 3).map((r) => r.correct)).toEqual([true, true, true]);
    expect(got.grade.map((g) => g.score)).toEqual([1, 1]);
  });

  it('a package that cannot be loaded is an AnytimeDependencyError naming it, from verifyAnswer and gradeSummary', () => {
    // Simulates a broken installation: require() of the package returns {} (as it did in
    // tslab) and the package's files cannot be found.
    const hook = path.join(outDir, 'break-compute-engine.cjs');
    writeFileSync(
      hook,
      [
        "const Module = require('module');",
        "const name = '@cortex-js/compute-engine';",
        'const load = Module._load;',
        'Module._load = function (request, ...rest) { return request === name ? {} : load.call(this, request, ...rest); };',
        'const resolve = Module._resolveFilename;',
        "Module._resolveFilename = function (request, ...rest) { if (request === name) throw new Error('Cannot find module ' + name); return resolve.call(this, request, ...rest); };",
        '',
      ].join('\n'),
    );
    const probe = path.join(outDir, 'probe.cjs');
    writeFileSync(
      probe,
      [
        "const v = require('./src/verify/index.js');",
        'const out = [];',
        "for (const call of [() => v.verifyAnswer('0.5', '\\\\frac12'), () => v.verifyAnswer('7', '7'), () => v.compareAnswers('1', '1'),",
        "  () => v.gradeSummary('**Final Answer**\\n\\\\boxed{1}', '1')]) {",
        '  try { out.push({ returned: call() }); } catch (e) { out.push({ name: e.name, message: e.message, dependency: e.dependency }); }',
        '}',
        'console.log(JSON.stringify(out));',
        '',
      ].join('\n'),
    );
    const run = runNode(['-r', hook, probe]);
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { name?: string; message?: string; dependency?: string; returned?: unknown }[];
    expect(out).toHaveLength(4);
    for (const o of out) {
      expect(o.returned, 'must throw, not grade').toBeUndefined();
      expect(o.name).toBe('AnytimeDependencyError');
      expect(o.dependency).toBe('@cortex-js/compute-engine');
      expect(o.message).toMatch(/^@cortex-js\/compute-engine could not be loaded in CommonJS: Cannot find module @cortex-js\/compute-engine/);
    }
  });
});

describe('verifier in tslab\'s converter and executor', () => {
  it('notebook cells importing ./src/verify/index give the same results as ES modules', () => {
    const dir = mkdtempSync(path.join(ROOT, 'build', 'verify-tslab-'));
    workDirs.push(dir);
    const [importLine, ...body] = programSource('./src/verify/index').split('\n');
    const driver = path.join(dir, 'run-cells.cjs');
    writeFileSync(
      driver,
      [
        "const { createConverter } = require('tslab/dist/converter');",
        "const { createExecutor } = require('tslab/dist/executor');",
        'const node = createConverter({ isJS: false, isBrowser: false });',
        'const convs = { node, browser: node, close() { node.close(); } };',
        'const errors = [];',
        'const executor = createExecutor(process.cwd(), convs, { log: console.log, error: (...a) => errors.push(a.join(" ")) });',
        `const cells = ${JSON.stringify([importLine, body.join('\n')])};`,
        '(async () => {',
        '  for (const cell of cells) if (!(await executor.execute(cell))) errors.push("cell failed: " + cell);',
        '  executor.close();',
        '  convs.close();',
        '  if (errors.length > 0) { console.error(errors.join("\\n")); process.exit(1); }',
        '})();',
        '',
      ].join('\n'),
    );
    const run = runNode([driver]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop() ?? '')).toEqual(expected);
  }, 400_000); // tslab compiles the whole import graph: measured 25 s and 128 s on the shared 2-core machine at different loads
});

describe('verifier in a browser bundle', () => {
  it('gives the same results as Node ES modules, with no require or process', async () => {
    const dir = mkdtempSync(path.join(ROOT, 'build', 'verify-browser-'));
    workDirs.push(dir);
    const entry = path.join(dir, 'entry.ts');
    const rel = path.relative(dir, path.join(ROOT, 'src/verify/index.js')).split(path.sep).join('/');
    writeFileSync(entry, programSource(rel).replace('console.log(JSON.stringify(out));', '(globalThis as { result?: string }).result = JSON.stringify(out);'));
    const bundle = await build({ entryPoints: [entry], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2020', logLevel: 'error' });
    const context = vm.createContext({ navigator: { userAgent: 'vm' } });
    vm.runInContext(bundle.outputFiles[0].text, context);
    expect(JSON.parse((context as { result: string }).result)).toEqual(expected);
  });
});

describe('resolveComputeEngine (the loader on its own)', () => {
  class FakeEngine {}
  it('takes the constructor from the import, or from its default export', () => {
    expect(resolveComputeEngine({ ComputeEngine: FakeEngine }, undefined)).toBe(FakeEngine);
    expect(resolveComputeEngine({ default: { ComputeEngine: FakeEngine } }, undefined)).toBe(FakeEngine);
  });
  it('without an export and without require (ES modules), throws naming the package', () => {
    expect(() => resolveComputeEngine({}, undefined)).toThrow(AnytimeDependencyError);
    expect(() => resolveComputeEngine({}, undefined)).toThrow(/^@cortex-js\/compute-engine could not be loaded in this environment \(ES modules\)/);
  });
  it('in CommonJS, a bundle without the export is an error, not an empty engine', () => {
    const req = Object.assign((id: string) => {
      if (id === 'fs') return { readFileSync: () => 'exports.somethingElse = 1;' };
      if (id === 'vm') return vm;
      throw new Error(id);
    }, { resolve: (id: string) => `/fake/${id}.js` }) as RequireLike;
    expect(() => resolveComputeEngine({}, req)).toThrow(/could not be loaded in CommonJS: its require\(\) bundle has no ComputeEngine export/);
  });
  it('in CommonJS, evaluates the UMD bundle with a real exports object', () => {
    const req = Object.assign((id: string) => {
      if (id === 'fs') return { readFileSync: () => "(function (g, f) { typeof exports === 'object' && typeof module !== 'undefined' ? f(exports) : f(g.X = {}); })(this, function (e) { e.ComputeEngine = function Engine() {}; });" };
      if (id === 'vm') return vm;
      throw new Error(id);
    }, { resolve: (id: string) => `/fake/${id}.js` }) as RequireLike;
    expect(typeof resolveComputeEngine({}, req)).toBe('function');
  });
});
