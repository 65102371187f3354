/**
 * Builds the project's TypeScript notebooks from their paired scripts (notebooks/NN-name.ts →
 * .ipynb), runs them headlessly with real Jupyter under the tslab and/or the Deno kernel, and
 * fails loudly when any of them does not work.
 *
 *   npm run notebooks                          # tslab kernel: build, execute all, check
 *   npm run notebooks -- --kernel deno         # the same under Deno's Jupyter kernel
 *   npm run notebooks -- --kernel all          # both kernels; their checked facts must agree
 *   npm run notebooks -- 01 03                 # only notebooks whose file name contains '01' or '03'
 *   npm run notebooks -- --update              # also write the executed notebooks back to notebooks/
 *   npm run notebooks -- --sync                # only rebuild the .ipynb cells from the scripts (no outputs)
 *   npm run notebooks -- --install-kernel      # only install/refresh the kernelspec(s) of --kernel
 *
 * Options: --kernel tslab|deno|all (default tslab), --timeout SECONDS (per cell, default 1500),
 * --python PATH (the interpreter that has Jupyter; default $ANYTIME_JUPYTER_PYTHON or
 * /usr/bin/python3 — Debian's jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client
 * jupyter-core, see `npm run setup`), --out DIR (default build/notebooks).
 *
 * What fails a notebook: a cell error (every assertion cell throws when its fact does not hold),
 * stderr output, a code cell without output (after an error tslab silently skips the rest), a
 * committed .ipynb whose cells differ from its script (unless --update or --sync rewrites it), a
 * shorthand property naming another cell's variable (breaks under tslab only: see shorthandHazards),
 * and, with --kernel all, checked facts (the ✓ lines) that differ between the kernels.
 * Executed copies go to build/notebooks/<kernel>/, wall-clock times to build/notebooks/timings.json.
 * The kernelspecs and the paired-script format are described in scripts/notebook-lib.ts and
 * notebooks/README.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  buildNotebook,
  checkedFacts,
  checkJupyter,
  defaultPython,
  executeNotebook,
  installKernel,
  KERNEL_NAMES,
  KERNELS,
  NOTEBOOK_DIR,
  notebookProblems,
  notebookScripts,
  numberExecutedCells,
  parseScript,
  readNotebook,
  ROOT,
  shorthandHazards,
  syncProblems,
  writeNotebook,
  type KernelName,
  type Notebook,
} from './notebook-lib.js';

interface Options {
  kernels: KernelName[];
  update: boolean;
  syncOnly: boolean;
  installOnly: boolean;
  timeout: number;
  python: string;
  out: string;
  filters: string[];
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    kernels: ['tslab'],
    update: false,
    syncOnly: false,
    installOnly: false,
    timeout: 1500,
    python: defaultPython(),
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
    else if (a === '--sync') opts.syncOnly = true;
    else if (a === '--install-kernel') opts.installOnly = true;
    else if (a === '--kernel' || a.startsWith('--kernel=')) {
      const k = a.includes('=') ? a.slice(a.indexOf('=') + 1) : value();
      if (k === 'all') opts.kernels = [...KERNEL_NAMES];
      else if ((KERNEL_NAMES as readonly string[]).includes(k)) opts.kernels = [k as KernelName];
      else throw new Error(`notebooks: --kernel must be one of tslab, deno, all; got '${k}'`);
    } else if (a === '--timeout') opts.timeout = Number(value());
    else if (a === '--python') opts.python = value();
    else if (a === '--out') opts.out = resolve(value());
    else if (a.startsWith('-')) {
      throw new Error(
        `notebooks: unknown option '${a}' (allowed: --kernel tslab|deno|all, --update, --sync, --install-kernel, --timeout SECONDS, --python PATH, --out DIR, name filters)`,
      );
    } else opts.filters.push(a);
  }
  if (!Number.isFinite(opts.timeout) || opts.timeout <= 0) throw new Error(`notebooks: --timeout must be a positive number of seconds, got ${opts.timeout}`);
  return opts;
}

/** The notebook a script builds, and the committed one's problems of sync with it. */
function built(script: string, kernel: KernelName): { nb: Notebook; ipynb: string; sync: string[]; hazards: string[] } {
  const cells = parseScript(readFileSync(join(NOTEBOOK_DIR, script), 'utf8'), `notebooks/${script}`);
  const nb = buildNotebook(cells, kernel);
  const ipynb = script.replace(/\.ts$/, '.ipynb');
  const path = join(NOTEBOOK_DIR, ipynb);
  const sync = existsSync(path) ? syncProblems(readNotebook(path), nb) : ['the .ipynb does not exist'];
  return { nb, ipynb, sync, hazards: shorthandHazards(cells) };
}

function main(): number {
  const opts = parseArgs(process.argv.slice(2));
  const scripts = notebookScripts(opts.filters);
  if (scripts.length === 0) throw new Error(`notebooks: no paired script in ${NOTEBOOK_DIR} matches ${opts.filters.join(', ') || 'NN-*.ts'}`);

  if (opts.syncOnly) {
    // Rebuild the cells from the scripts; keep the outputs of cells whose source did not change.
    for (const script of scripts) {
      const { nb, ipynb, sync, hazards } = built(script, 'tslab');
      for (const h of hazards) console.warn(`notebooks: ${script}: ${h}`);
      if (sync.length === 0) continue;
      const path = join(NOTEBOOK_DIR, ipynb);
      if (existsSync(path)) {
        const old = readNotebook(path);
        const outputs = new Map(old.cells.filter((c) => c.cell_type === 'code').map((c) => [JSON.stringify(c.source), c]));
        for (const c of nb.cells) {
          const prev = c.cell_type === 'code' ? outputs.get(JSON.stringify(c.source)) : undefined;
          if (prev) [c.outputs, c.execution_count] = [prev.outputs, prev.execution_count];
        }
      }
      writeNotebook(path, nb);
      console.log(`notebooks: rebuilt ${ipynb} from ${script} (${sync.join('; ')})`);
    }
    return 0;
  }

  checkJupyter(opts.python);
  for (const k of opts.kernels) {
    if (installKernel(opts.python, k)) console.log(`notebooks: installed Jupyter kernel '${KERNELS[k].name}' (starts ${k} in ${ROOT})`);
  }
  if (opts.installOnly) return 0;

  const timings: { notebook: string; kernel: KernelName; seconds: number; ok: boolean }[] = [];
  const failed: string[] = [];
  const facts = new Map<string, Map<KernelName, string[]>>();
  for (const script of scripts) {
    for (const kernel of opts.kernels) {
      const { nb, ipynb, sync, hazards } = built(script, kernel);
      const dir = join(opts.out, kernel);
      mkdirSync(dir, { recursive: true });
      const outPath = join(dir, ipynb);
      writeNotebook(outPath, nb);
      console.log(`notebooks: executing ${ipynb} under ${kernel} ...`);
      const r = executeNotebook(opts.python, kernel, outPath, opts.timeout);
      const executed = readNotebook(outPath);
      numberExecutedCells(executed);
      writeNotebook(outPath, executed);
      const problems = r.status !== 0 ? [`jupyter nbconvert exited with status ${r.status}`] : notebookProblems(executed);
      problems.push(...hazards.map((h) => `notebooks/${script}: ${h}`));
      if (!opts.update && sync.length > 0) problems.push(`notebooks/${ipynb} is out of sync with notebooks/${script} (${sync.join('; ')}): run \`npm run notebooks -- --update ${script.slice(0, 2)}\``);
      timings.push({ notebook: ipynb, kernel, seconds: Math.round(r.seconds * 10) / 10, ok: problems.length === 0 });
      if (!facts.has(ipynb)) facts.set(ipynb, new Map());
      facts.get(ipynb)!.set(kernel, checkedFacts(executed));
      if (problems.length > 0) {
        failed.push(`${ipynb} (${kernel})`);
        console.error(`notebooks: ${ipynb} FAILED under ${kernel} after ${r.seconds.toFixed(1)} s:\n  - ${problems.join('\n  - ')}`);
        continue;
      }
      console.log(`notebooks: ${ipynb} ok under ${kernel} in ${r.seconds.toFixed(1)} s (${checkedFacts(executed).length} facts checked)`);
      // The committed copy comes from the first kernel asked for (tslab with --kernel all).
      if (opts.update && kernel === opts.kernels[0]) writeNotebook(join(NOTEBOOK_DIR, ipynb), executed);
    }
  }

  // The same notebook must establish the same facts, with the same values, under every kernel.
  if (opts.kernels.length > 1) {
    for (const [ipynb, byKernel] of facts) {
      const [first, ...rest] = opts.kernels;
      for (const k of rest) {
        const a = byKernel.get(first) ?? [];
        const b = byKernel.get(k) ?? [];
        const i = a.findIndex((line, j) => line !== b[j]);
        if (a.length !== b.length || i >= 0) {
          failed.push(`${ipynb} (${first} vs ${k})`);
          const at = i >= 0 ? i : Math.min(a.length, b.length);
          console.error(`notebooks: ${ipynb}: checked facts differ between ${first} and ${k} at fact ${at + 1}:\n  ${first}: ${a[at] ?? '(none)'}\n  ${k}: ${b[at] ?? '(none)'}`);
        }
      }
    }
  }

  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
  console.log('\n| notebook | kernel | seconds | result |\n| --- | --- | --- | --- |');
  for (const t of timings) console.log(`| ${t.notebook} | ${t.kernel} | ${t.seconds} | ${t.ok ? 'ok' : 'FAILED'} |`);
  if (opts.update) console.log(`\nnotebooks: wrote the executed notebooks that passed under ${opts.kernels[0]} back to notebooks/`);
  if (failed.length > 0) {
    console.error(`\nnotebooks: ${failed.length} failure(s): ${failed.join(', ')} (executed copies in ${opts.out})`);
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
