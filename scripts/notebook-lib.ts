/**
 * What scripts/notebooks.ts and the notebook tests share: the paired-script format, building an
 * .ipynb from its script, the two Jupyter kernels (tslab and Deno) and executing a notebook with
 * real Jupyter (Debian's nbconvert) and checking what came back.
 *
 * Paired scripts. Each notebook `notebooks/NN-name.ipynb` is built from `notebooks/NN-name.ts`,
 * its reviewable source, which also runs as a plain script from the repository root
 * (`npx tsx notebooks/NN-name.ts`, `deno run -A notebooks/NN-name.ts`):
 *
 *   // %% [markdown]
 *   // # A heading
 *   // Markdown text, every line a `//` comment.
 *   // %%
 *   const code = 'a code cell, up to the next marker';
 *   // %% tags=["no-output"]
 *   // a code cell with Jupyter tags
 *
 * The file starts with a marker. A code cell's leading and trailing blank lines are dropped.
 * Import specifiers that start with `../` become `./` in the notebook: the script imports
 * `../src/…` relative to itself, while both kernels resolve imports from the repository root,
 * where they start (see the kernelspecs below).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
export const NOTEBOOK_DIR = join(ROOT, 'notebooks');

// ---------------------------------------------------------------------------------------------
// Paired scripts and .ipynb files

export interface ScriptCell {
  type: 'markdown' | 'code';
  source: string;
  tags: string[];
}

const MARKER = /^\/\/ %%(?: \[(markdown)\])?(?: tags=(\[.*\]))?\s*$/;

/** Splits a paired script into cells; throws with the line number on a malformed file. */
export function parseScript(text: string, file = 'script'): ScriptCell[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const cells: ScriptCell[] = [];
  let current: { type: 'markdown' | 'code'; tags: string[]; lines: string[]; line: number } | undefined;
  const close = () => {
    if (!current) return;
    let body = current.lines;
    if (current.type === 'markdown') {
      body = body.map((l, i) => {
        if (l.trim() === '') return '';
        if (!l.startsWith('//')) throw new Error(`${file}:${current!.line + i + 1}: a markdown cell's lines must all be '//' comments, got: ${l}`);
        return l.replace(/^\/\/ ?/, '');
      });
    }
    while (body.length && body[0].trim() === '') body = body.slice(1);
    while (body.length && body[body.length - 1].trim() === '') body = body.slice(0, -1);
    cells.push({ type: current.type, tags: current.tags, source: body.join('\n') });
  };
  lines.forEach((line, i) => {
    const m = MARKER.exec(line);
    if (m) {
      close();
      let tags: string[] = [];
      if (m[2]) {
        try {
          tags = JSON.parse(m[2]) as string[];
        } catch {
          throw new Error(`${file}:${i + 1}: tags must be a JSON array of strings, e.g. tags=["no-output"], got ${m[2]}`);
        }
        if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new Error(`${file}:${i + 1}: tags must be a JSON array of strings`);
      }
      current = { type: m[1] ? 'markdown' : 'code', tags, lines: [], line: i + 1 };
      return;
    }
    if (!current) {
      if (line.trim() === '') return;
      throw new Error(`${file}:${i + 1}: a paired script starts with a '// %%' or '// %% [markdown]' marker, got: ${line}`);
    }
    current.lines.push(line);
  });
  close();
  if (cells.length === 0) throw new Error(`${file}: no cells (expected '// %%' markers)`);
  return cells;
}

/** `'../x'` → `'./x'` in import specifiers (static `from`, side-effect `import`, dynamic `import()`). */
export function rootRelativeImports(code: string): string {
  return code.replace(/(\bfrom\s*|\bimport\s*\(?\s*)(['"])\.\.\//g, '$1$2./');
}

/** Code with comments, strings and template literals blanked out (same length), for scanning. */
function blankNonCode(code: string): string {
  return code.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|(['"`])(?:\\[\s\S]|(?!\1)[\s\S])*\1/g, (m) => m.replace(/[^\n]/g, ' '));
}

/**
 * Shorthand properties (`{ budgets }`) that name a variable declared at the top level of an earlier
 * code cell: tslab rewrites such variables into its cell-export object but not inside a shorthand
 * property, so the cell fails with "budgets is not defined" under tslab only. Write `{ budgets: budgets }`.
 * Object literals only: destructuring patterns (`const { a } =`, arrow parameters `({ a }) =>`) are skipped.
 */
export function shorthandHazards(cells: ScriptCell[]): string[] {
  const declared = new Set<string>();
  const hazards: string[] = [];
  cells.forEach((cell, i) => {
    if (cell.type !== 'code') return;
    const code = blankNonCode(cell.source);
    if (declared.size > 0) {
      const stack: number[] = [];
      const closeOf = new Map<number, number>();
      for (let k = 0; k < code.length; k++) {
        if ('{(['.includes(code[k])) stack.push(k);
        else if ('})]'.includes(code[k]) && stack.length) closeOf.set(stack.pop()!, k);
      }
      const open: number[] = [];
      for (let k = 0; k < code.length; k++) {
        const c = code[k];
        if ('{(['.includes(c)) { open.push(k); continue; }
        if ('})]'.includes(c)) { open.pop(); continue; }
        if (!/[A-Za-z_$]/.test(c) || /[\w$.]/.test(code[k - 1] ?? '')) continue;
        const name = /^[A-Za-z_$][\w$]*/.exec(code.slice(k))![0];
        const innermost = open[open.length - 1];
        const prev = code.slice(0, k).trimEnd().slice(-1);
        const next = code.slice(k + name.length).trimStart()[0];
        k += name.length - 1;
        if (!declared.has(name) || innermost === undefined || code[innermost] !== '{' || !(prev === '{' || prev === ',') || !(next === ',' || next === '}')) continue;
        // An object literal's brace follows an operator or an opening; a block's follows ')' or '=>' or a keyword.
        const beforeBrace = code.slice(0, innermost).trimEnd();
        if (!/(^|[=(,:[?]|return|\{)$/.test(beforeBrace) || /\b(const|let|var)\s*$/.test(beforeBrace)) continue;
        const afterClose = code.slice((closeOf.get(innermost) ?? code.length) + 1);
        if (/^\s*(\)\s*)?(=>|=[^=>])/.test(afterClose) || /^\s*(:[^,)]*)?\)\s*=>/.test(afterClose)) continue;
        const line = code.slice(0, k).split('\n').length;
        hazards.push(`cell ${i + 1}, line ${line}: shorthand property '${name}' names a variable of an earlier cell; write '${name}: ${name}' (tslab does not rewrite shorthand properties)`);
      }
    }
    for (const line of cell.source.split('\n')) {
      const d = /^(?:export\s+)?(?:const|let|var|function\*?|async\s+function|class)\s+([A-Za-z_$][\w$]*)/.exec(line);
      if (d) declared.add(d[1]);
      const destructured = /^(?:const|let|var)\s*\{([^}]*)\}\s*=/.exec(line);
      if (destructured) for (const part of destructured[1].split(',')) { const n = part.split(':').pop()!.split('=')[0].trim(); if (n) declared.add(n); }
      const arrayDestructured = /^(?:const|let|var)\s*\[([^\]]*)\]\s*=/.exec(line);
      if (arrayDestructured) for (const part of arrayDestructured[1].split(',')) { const n = part.trim(); if (/^[A-Za-z_$][\w$]*$/.test(n)) declared.add(n); }
    }
  });
  return hazards;
}

export interface NotebookCell {
  cell_type: 'markdown' | 'code';
  id: string;
  metadata: { tags?: string[]; [key: string]: unknown };
  source: string[];
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  metadata?: object;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  execution_count?: number | null;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** Jupyter's multi-line string form: lines that keep their '\n', the last without one. */
function toLines(s: string): string[] {
  if (s === '') return [];
  const parts = s.split('\n');
  return parts.map((p, i) => (i < parts.length - 1 ? p + '\n' : p)).filter((p) => p !== '');
}

export const joinText = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join('') : (s ?? ''));

/** The unexecuted notebook of a paired script, for a kernel. */
export function buildNotebook(cells: ScriptCell[], kernel: KernelName): Notebook {
  return {
    cells: cells.map((c, i) => {
      const id = `cell-${String(i + 1).padStart(2, '0')}`;
      const metadata = c.tags.length ? { tags: c.tags } : {};
      if (c.type === 'markdown') return { cell_type: 'markdown', id, metadata, source: toLines(c.source) };
      return { cell_type: 'code', id, metadata, source: toLines(rootRelativeImports(c.source)), outputs: [], execution_count: null };
    }),
    metadata: {
      kernelspec: { display_name: KERNELS[kernel].displayName, language: 'typescript', name: KERNELS[kernel].name },
      language_info: { name: 'typescript', file_extension: '.ts', mimetype: 'text/typescript', codemirror_mode: { name: 'javascript', typescript: true } },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** A notebook's cells as (type, source, tags): what must match between a script and its .ipynb. */
export function cellShapes(nb: Notebook): { type: string; source: string; tags: string[] }[] {
  return nb.cells.map((c) => ({ type: c.cell_type, source: joinText(c.source), tags: c.metadata?.tags ?? [] }));
}

/** Differences between a committed notebook and the one its script builds (empty when in sync). */
export function syncProblems(committed: Notebook, built: Notebook): string[] {
  const a = cellShapes(committed);
  const b = cellShapes(built);
  const problems: string[] = [];
  if (a.length !== b.length) problems.push(`${a.length} cells in the .ipynb, ${b.length} in the script`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
      problems.push(`cell ${i + 1} differs (${a[i].type} "${a[i].source.split('\n')[0].slice(0, 50)}" vs ${b[i].type} "${b[i].source.split('\n')[0].slice(0, 50)}")`);
      break;
    }
  }
  return problems;
}

/** The paired scripts in notebooks/ (NN-name.ts), sorted, optionally filtered by name parts. */
export function notebookScripts(filters: string[] = []): string[] {
  return readdirSync(NOTEBOOK_DIR)
    .filter((f) => /^\d\d-.*\.ts$/.test(f))
    .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
    .sort();
}

/** Writes a notebook as Jupyter does (one-space indent, trailing newline). */
export function writeNotebook(path: string, nb: Notebook): void {
  writeFileSync(path, JSON.stringify(nb, null, 1) + '\n');
}

export function readNotebook(path: string): Notebook {
  return JSON.parse(readFileSync(path, 'utf8')) as Notebook;
}

// ---------------------------------------------------------------------------------------------
// Kernels

export type KernelName = 'tslab' | 'deno';
export const KERNEL_NAMES: readonly KernelName[] = ['tslab', 'deno'];

/**
 * The project's kernelspecs. Both first change to the repository root: Jupyter starts a kernel
 * in the notebook's folder, but tslab compiles imports relative to its working directory ('../src'
 * is "not under rootDir") and Deno resolves them, and finds deno.json (sloppy imports, the npm
 * packages in node_modules), from there too. So notebooks import `./src/…` wherever Jupyter
 * (or VS Code) was started.
 */
export const KERNELS: Record<KernelName, { name: string; displayName: string; argv: () => string[]; env?: Record<string, string> }> = {
  tslab: {
    name: 'anytime-tslab',
    displayName: 'TypeScript (anytime, tslab)',
    argv: () => {
      const tslab = join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab');
      if (!existsSync(tslab)) throw new Error(`notebooks: ${tslab} is missing: run \`npm ci\` (tslab is a devDependency)`);
      return ['/bin/sh', '-c', 'cd "$1" && exec "$2" "$3" kernel --config-path "$4"', 'anytime-tslab', ROOT, process.execPath, tslab, '{connection_file}'];
    },
  },
  deno: {
    name: 'anytime-deno',
    displayName: 'TypeScript (anytime, Deno)',
    argv: () => ['/bin/sh', '-c', 'cd "$1" && exec "$2" jupyter --kernel --conn "$3"', 'anytime-deno', ROOT, denoBinary(), '{connection_file}'],
    // No update check (CI has no network to spare), no colours in tracebacks.
    env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  },
};

/** The Deno executable the `deno` npm devDependency ships (its platform package). */
export function denoBinary(): string {
  try {
    const install = createRequire(join(ROOT, 'package.json'))('deno/install_api.cjs') as { runInstall(): string };
    return install.runInstall();
  } catch (e) {
    throw new Error(`notebooks: the Deno binary is missing (${(e as Error).message.split('\n')[0]}): run \`npm ci\` (deno is a devDependency)`);
  }
}

export function run(cmd: string, args: string[], opts: { capture?: boolean; cwd?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, encoding: 'utf8', stdio: opts.capture ? 'pipe' : ['ignore', 'inherit', 'inherit'], maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`notebooks: could not run ${cmd}: ${r.error.message}`);
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The Python with Jupyter: $ANYTIME_JUPYTER_PYTHON or Debian's /usr/bin/python3. */
export const defaultPython = () => process.env.ANYTIME_JUPYTER_PYTHON || '/usr/bin/python3';

export function checkJupyter(python: string): void {
  const r = run(python, ['-c', 'import nbconvert, nbclient, jupyter_client, ipykernel'], { capture: true });
  if (r.status !== 0) {
    throw new Error(
      `notebooks: ${python} has no Jupyter (${r.stderr.trim().split('\n').pop()}). On Debian/Ubuntu run ` +
        '`sudo npm run setup -- notebooks` (jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core), ' +
        'or pass --python / set ANYTIME_JUPYTER_PYTHON to an interpreter that has them.',
    );
  }
}

/**
 * Installs a kernel's kernelspec for the current user (`jupyter kernelspec install --user`,
 * non-interactive) unless an identical one is installed already. For Deno this replaces
 * `deno jupyter --install`, whose kernelspec starts Deno in the notebook's folder.
 */
export function installKernel(python: string, kernel: KernelName): boolean {
  const k = KERNELS[kernel];
  const spec = { argv: k.argv(), display_name: k.displayName, language: 'typescript', ...(k.env ? { env: k.env } : {}), metadata: { anytimeRoot: ROOT } };
  const list = run(python, ['-m', 'jupyter', 'kernelspec', 'list', '--json'], { capture: true });
  if (list.status !== 0) throw new Error(`notebooks: jupyter kernelspec list failed: ${list.stderr}`);
  const installed = (JSON.parse(list.stdout) as { kernelspecs: Record<string, { spec: { argv: string[]; env?: object } }> }).kernelspecs[k.name];
  if (installed && JSON.stringify(installed.spec.argv) === JSON.stringify(spec.argv) && JSON.stringify(installed.spec.env ?? {}) === JSON.stringify(k.env ?? {})) return false;
  const dir = join(mkdtempSync(join(tmpdir(), 'anytime-kernel-')), k.name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'kernel.json'), JSON.stringify(spec, null, 2));
  const r = run(python, ['-m', 'jupyter', 'kernelspec', 'install', '--user', '--replace', '--name', k.name, dir], { capture: true });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`notebooks: installing the '${k.name}' kernelspec failed: ${r.stderr}`);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Executing and checking

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * Problems with one executed notebook: errors, stderr, and code cells that came back empty.
 * After a failing cell tslab cancels the queued cells, which come back with no output and no
 * error, even with --allow-errors; so every code cell must have output (cells tagged
 * `no-output` are exempt) and none may write to stderr (cells tagged `allow-stderr` are exempt).
 */
export function notebookProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  let codeIndex = 0;
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    codeIndex++;
    const src = joinText(cell.source).trim();
    if (!src) continue;
    const tags = cell.metadata?.tags ?? [];
    const where = `code cell ${codeIndex} (${src.split('\n')[0].slice(0, 60)})`;
    const outputs = cell.outputs ?? [];
    for (const o of outputs) {
      if (o.output_type === 'error') {
        problems.push(`${where}: ${o.ename}: ${o.evalue}\n${plain((o.traceback ?? []).join('\n')).slice(0, 2000)}`);
      } else if (o.output_type === 'stream' && o.name === 'stderr' && !tags.includes('allow-stderr')) {
        problems.push(`${where} wrote to stderr:\n${plain(joinText(o.text)).slice(0, 2000)}`);
      }
    }
    if (outputs.length === 0 && !tags.includes('no-output')) {
      problems.push(`${where} produced no output (the kernel skips the cells after a failing one; tag a cell 'no-output' if that is intended)`);
    }
  }
  return problems;
}

/** The ✓ lines (facts checked by assertion cells) a notebook printed, in order (stdout, or plain-text displays). */
export function checkedFacts(nb: Notebook): string[] {
  return nb.cells.flatMap((c) =>
    (c.outputs ?? []).flatMap((o) => {
      // printLine writes a stream under tslab and a text/plain display under Deno.
      const text = o.output_type === 'stream' && o.name === 'stdout' ? joinText(o.text) : o.output_type === 'display_data' && Object.keys(o.data ?? {}).join() === 'text/plain' ? joinText(o.data!['text/plain']) : '';
      return text.split('\n').filter((l) => l.startsWith('✓ '));
    }),
  );
}

/**
 * Gives the executed code cells their execution counts 1, 2, … in order (tslab's replies carry
 * none, so nbclient leaves them empty), and drops nbclient's per-run metadata.
 */
export function numberExecutedCells(nb: Notebook): void {
  let n = 0;
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    delete cell.metadata.execution;
    // A cell tagged no-output runs without output (definitions only); after an error tslab skips
    // the rest, but such a run fails the checks anyway, so a no-output cell counts as run.
    const tags = (cell.metadata.tags as string[] | undefined) ?? [];
    const ran = (cell.outputs ?? []).length > 0 || tags.includes('no-output');
    cell.execution_count = ran ? ++n : null;
    for (const o of cell.outputs ?? []) if (o.output_type === 'execute_result') o.execution_count = cell.execution_count;
  }
}

/**
 * Executes a notebook file in place with Jupyter (nbconvert --execute --allow-errors, so the
 * checks above see every error) under a kernel; returns the wall-clock seconds.
 */
export function executeNotebook(python: string, kernel: KernelName, path: string, timeoutSeconds: number): { status: number; seconds: number } {
  const t0 = performance.now();
  const dir = join(path, '..');
  const name = path.slice(dir.length + 1);
  const r = run(python, [
    '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--inplace',
    `--ExecutePreprocessor.kernel_name=${KERNELS[kernel].name}`,
    `--ExecutePreprocessor.timeout=${timeoutSeconds}`,
    // Per-cell timestamps would make every re-run a diff of the committed notebooks.
    '--ExecutePreprocessor.record_timing=False',
    name,
  ], { cwd: dir });
  return { status: r.status, seconds: (performance.now() - t0) / 1000 };
}
