/**
 * Runs the project's TypeScript notebooks (notebooks/*.ipynb) headlessly with real Jupyter and
 * fails loudly when any of them does not work.
 *
 *   npm run notebooks                        # install the kernel if needed, execute all, check
 *   npm run notebooks -- 01 03               # only notebooks whose file name contains '01' or '03'
 *   npm run notebooks -- --update            # also write the executed copies back to notebooks/
 *   npm run notebooks -- --install-kernel    # only install/refresh the 'anytime-tslab' kernelspec
 *
 * Options: --timeout SECONDS (per cell, default 1500), --python PATH (the interpreter that has
 * Jupyter; default $ANYTIME_JUPYTER_PYTHON or /usr/bin/python3 — Debian's packages
 * jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core, see
 * `npm run setup`), --out DIR (default build/notebooks).
 *
 * Why a project kernelspec: tslab compiles imports relative to the kernel's working directory,
 * and Jupyter starts kernels in the notebook's folder, where `../src/...` is "not under rootDir".
 * The 'anytime-tslab' kernel first changes to the repository root, so notebooks import
 * `./src/index` from wherever Jupyter (or VS Code) was started.
 *
 * Why the checks: after a failing cell tslab cancels the queued cells, which come back with no
 * output and no error, even with --allow-errors. So a notebook passes only when every code cell
 * produced output (cells tagged `no-output` are exempt), no cell produced an error, and no cell
 * wrote to stderr (cells tagged `allow-stderr` are exempt). Executed copies go to build/notebooks/
 * (never over the sources unless --update), with wall-clock times in build/notebooks/timings.json.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const KERNEL_NAME = 'anytime-tslab';
const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

interface Options {
  update: boolean;
  installOnly: boolean;
  timeout: number;
  python: string;
  out: string;
  filters: string[];
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    update: false,
    installOnly: false,
    timeout: 1500,
    python: process.env.ANYTIME_JUPYTER_PYTHON || '/usr/bin/python3',
    out: join(ROOT, 'build', 'notebooks'),
    filters: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`notebooks: ${a} needs a value`);
      return v;
    };
    if (a === '--update') opts.update = true;
    else if (a === '--install-kernel') opts.installOnly = true;
    else if (a === '--timeout') opts.timeout = Number(value());
    else if (a === '--python') opts.python = value();
    else if (a === '--out') opts.out = resolve(value());
    else if (a.startsWith('-')) {
      throw new Error(`notebooks: unknown option '${a}' (allowed: --update, --install-kernel, --timeout SECONDS, --python PATH, --out DIR, name filters)`);
    } else opts.filters.push(a);
  }
  if (!Number.isFinite(opts.timeout) || opts.timeout <= 0) throw new Error(`notebooks: --timeout must be a positive number of seconds, got ${opts.timeout}`);
  return opts;
}

function run(cmd: string, args: string[], opts: { capture?: boolean } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: opts.capture ? 'pipe' : ['ignore', 'inherit', 'inherit'], maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`notebooks: could not run ${cmd}: ${r.error.message}`);
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function checkJupyter(python: string): void {
  const r = run(python, ['-c', 'import nbconvert, nbclient, jupyter_client, ipykernel'], { capture: true });
  if (r.status !== 0) {
    throw new Error(
      `notebooks: ${python} has no Jupyter (${r.stderr.trim().split('\n').pop()}). On Debian/Ubuntu run ` +
        '`sudo npm run setup -- notebooks` (jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core), ' +
        'or pass --python / set ANYTIME_JUPYTER_PYTHON to an interpreter that has them.',
    );
  }
}

/** The kernelspec: `cd <repo root>` then start this checkout's tslab with this Node. */
function kernelSpec(): object {
  const tslab = join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!existsSync(tslab)) throw new Error(`notebooks: ${tslab} is missing: run \`npm ci\` (tslab is a devDependency)`);
  return {
    argv: ['/bin/sh', '-c', 'cd "$1" && exec "$2" "$3" kernel --config-path "$4"', KERNEL_NAME, ROOT, process.execPath, tslab, '{connection_file}'],
    display_name: 'TypeScript (anytime)',
    language: 'typescript',
    metadata: { anytimeRoot: ROOT },
  };
}

/** Installs the kernelspec for the current user unless an identical one is installed already. */
function installKernel(python: string): void {
  const spec = kernelSpec();
  const list = run(python, ['-m', 'jupyter', 'kernelspec', 'list', '--json'], { capture: true });
  if (list.status !== 0) throw new Error(`notebooks: jupyter kernelspec list failed: ${list.stderr}`);
  const installed = (JSON.parse(list.stdout) as { kernelspecs: Record<string, { spec: { argv: string[] } }> }).kernelspecs[KERNEL_NAME];
  if (installed && JSON.stringify(installed.spec.argv) === JSON.stringify((spec as { argv: string[] }).argv)) return;
  const dir = join(mkdtempSync(join(tmpdir(), 'anytime-kernel-')), KERNEL_NAME);
  mkdirSync(dir);
  writeFileSync(join(dir, 'kernel.json'), JSON.stringify(spec, null, 2));
  const r = run(python, ['-m', 'jupyter', 'kernelspec', 'install', '--user', '--replace', '--name', KERNEL_NAME, dir], { capture: true });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`notebooks: installing the kernelspec failed: ${r.stderr}`);
  console.log(`notebooks: installed Jupyter kernel '${KERNEL_NAME}' (starts tslab in ${ROOT})`);
}

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
  traceback?: string[];
}
interface Cell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[] };
  outputs?: Output[];
}

const text = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join('') : (s ?? ''));
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Problems with one executed notebook: errors, stderr, and code cells that came back empty. */
function notebookProblems(nb: { cells: Cell[] }): string[] {
  const problems: string[] = [];
  let codeIndex = 0;
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    codeIndex++;
    const src = text(cell.source).trim();
    if (!src) continue;
    const tags = cell.metadata?.tags ?? [];
    const where = `code cell ${codeIndex} (${src.split('\n')[0].slice(0, 60)})`;
    const outputs = cell.outputs ?? [];
    for (const o of outputs) {
      if (o.output_type === 'error') {
        problems.push(`${where}: ${o.ename}: ${o.evalue}\n${plain((o.traceback ?? []).join('\n')).slice(0, 2000)}`);
      } else if (o.output_type === 'stream' && o.name === 'stderr' && !tags.includes('allow-stderr')) {
        problems.push(`${where} wrote to stderr:\n${plain(text(o.text)).slice(0, 2000)}`);
      }
    }
    if (outputs.length === 0 && !tags.includes('no-output')) {
      problems.push(`${where} produced no output (tslab skips the cells after a failing one; tag a cell 'no-output' if that is intended)`);
    }
  }
  return problems;
}

function main(): number {
  const opts = parseArgs(process.argv.slice(2));
  checkJupyter(opts.python);
  installKernel(opts.python);
  if (opts.installOnly) return 0;

  const srcDir = join(ROOT, 'notebooks');
  const names = readdirSync(srcDir)
    .filter((f) => f.endsWith('.ipynb'))
    .filter((f) => opts.filters.length === 0 || opts.filters.some((p) => f.includes(p)))
    .sort();
  if (names.length === 0) throw new Error(`notebooks: no notebook in ${srcDir} matches ${opts.filters.join(', ') || '*'}`);
  mkdirSync(opts.out, { recursive: true });

  const timings: { notebook: string; seconds: number; ok: boolean }[] = [];
  const failed: string[] = [];
  for (const name of names) {
    console.log(`notebooks: executing ${name} ...`);
    const outPath = join(opts.out, name);
    rmSync(outPath, { force: true });
    const t0 = performance.now();
    const r = run(opts.python, [
      '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--allow-errors',
      `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
      `--ExecutePreprocessor.timeout=${opts.timeout}`,
      // Per-cell timestamps would make every re-run a diff of the committed notebooks.
      '--ExecutePreprocessor.record_timing=False',
      '--output-dir', opts.out, join(srcDir, name),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    let problems: string[];
    if (r.status !== 0 || !existsSync(outPath)) problems = [`jupyter nbconvert exited with status ${r.status}`];
    else problems = notebookProblems(JSON.parse(readFileSync(outPath, 'utf8')) as { cells: Cell[] });
    timings.push({ notebook: name, seconds: Math.round(seconds * 10) / 10, ok: problems.length === 0 });
    if (problems.length > 0) {
      failed.push(name);
      console.error(`notebooks: ${name} FAILED after ${seconds.toFixed(1)} s:\n  - ${problems.join('\n  - ')}`);
      continue;
    }
    console.log(`notebooks: ${name} ok in ${seconds.toFixed(1)} s`);
    if (opts.update) copyFileSync(outPath, join(srcDir, basename(outPath)));
  }
  writeFileSync(join(opts.out, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
  console.log('\n| notebook | seconds | result |\n| --- | --- | --- |');
  for (const t of timings) console.log(`| ${t.notebook} | ${t.seconds} | ${t.ok ? 'ok' : 'FAILED'} |`);
  if (opts.update) console.log(`\nnotebooks: wrote ${timings.filter((t) => t.ok).length} executed notebook(s) back to notebooks/`);
  if (failed.length > 0) {
    console.error(`\nnotebooks: ${failed.length} notebook(s) failed: ${failed.join(', ')} (executed copies in ${opts.out})`);
    return 1;
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
