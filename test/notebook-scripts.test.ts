/**
 * The notebooks' paired scripts and committed .ipynb files: the script format, the builder, and
 * what a reader of the committed notebooks must find (outputs of a real run, plots that every
 * viewer shows, facts checked, links). Fast: no kernel is started (test/notebook-kernels does that,
 * and `npm run notebooks` executes the notebooks themselves).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  buildNotebook,
  checkedFacts,
  joinText,
  NOTEBOOK_DIR,
  notebookProblems,
  notebookScripts,
  parseScript,
  readNotebook,
  rootRelativeImports,
  shorthandHazards,
  syncProblems,
  type Notebook,
} from '../scripts/notebook-lib.js';

describe('paired-script format', () => {
  it('splits markdown and code cells, strips the comment markers, keeps tags', () => {
    const cells = parseScript(['// %% [markdown]', '// # Title', '//', '// text', '// %%', '', "import { x } from '../src/a.js';", 'x();', '', '// %% tags=["no-output"]', 'y();'].join('\n'));
    expect(cells).toEqual([
      { type: 'markdown', tags: [], source: '# Title\n\ntext' },
      { type: 'code', tags: [], source: "import { x } from '../src/a.js';\nx();" },
      { type: 'code', tags: ['no-output'], source: 'y();' },
    ]);
  });

  it('rejects a file without a leading marker, a markdown line that is not a comment, and bad tags', () => {
    expect(() => parseScript('const a = 1;\n// %%\n', 'x.ts')).toThrow(/x\.ts:1: a paired script starts with/);
    expect(() => parseScript('// %% [markdown]\n// ok\nnot a comment\n', 'x.ts')).toThrow(/x\.ts:3: a markdown cell's lines must all be '\/\/' comments/);
    expect(() => parseScript('// %% tags=[no-output]\n', 'x.ts')).toThrow(/tags must be a JSON array/);
  });

  it("rewrites '../' import specifiers to './' (kernels resolve from the repository root)", () => {
    const code = "import * as a from '../src/a.js';\nimport '../src/side.js';\nconst b = await import('../kernels/index.js');\nimport { c } from './already.js';\nconst p = '../data/x.json';";
    expect(rootRelativeImports(code)).toBe("import * as a from './src/a.js';\nimport './src/side.js';\nconst b = await import('./kernels/index.js');\nimport { c } from './already.js';\nconst p = '../data/x.json';");
  });

  it('builds an nbformat 4.5 notebook with stable cell ids and the kernel named', () => {
    const nb = buildNotebook(parseScript("// %% [markdown]\n// hi\n// %%\nimport '../src/x.js';\n"), 'deno');
    expect(nb.nbformat).toBe(4);
    expect(nb.nbformat_minor).toBe(5);
    expect(nb.cells.map((c) => c.id)).toEqual(['cell-01', 'cell-02']);
    expect(joinText(nb.cells[1].source)).toBe("import './src/x.js';");
    expect((nb.metadata.kernelspec as { name: string }).name).toBe('anytime-deno');
  });

  it('reports a committed notebook whose cells differ from its script', () => {
    const a = buildNotebook(parseScript('// %%\nconst a = 1;\n'), 'tslab');
    const b = buildNotebook(parseScript('// %%\nconst a = 2;\n'), 'tslab');
    expect(syncProblems(a, a)).toEqual([]);
    expect(syncProblems(a, b)[0]).toMatch(/cell 1 differs/);
  });

  it("finds shorthand properties that name an earlier cell's variable, and only those", () => {
    const cells = parseScript(
      "// %%\nconst seed = 1;\nconst budgets = [1];\n// %%\nf({ budgets, x: 1 });\nconst o = {\n  seed,\n};\nconst g = ({ seed }) => seed;\nconst { seed: s2 } = o;\nf(a, seed, [seed, budgets]);\nif (x) { seed }\n",
    );
    expect(shorthandHazards(cells).map((h) => h.replace(/:.*?'(\w+)'.*/, ' $1'))).toEqual(['cell 2, line 1 budgets', 'cell 2, line 3 seed']);
  });

  it('treats a code cell without output after an error as a failure (tslab skips the rest silently)', () => {
    const nb = buildNotebook(parseScript('// %%\nthrow 1;\n// %%\nconst b = 2;\n// %% tags=["no-output"]\nconst c = 3;\n'), 'tslab');
    nb.cells[0].outputs = [{ output_type: 'error', ename: 'Error', evalue: 'boom', traceback: [] }];
    const problems = notebookProblems(nb);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/Error: boom/);
    expect(problems[1]).toMatch(/code cell 2 .* produced no output/);
  });
});

const scripts = notebookScripts();
const committed: [string, Notebook][] = scripts.map((s) => [s, readNotebook(join(NOTEBOOK_DIR, s.replace(/\.ts$/, '.ipynb')))]);

describe('the committed notebooks', () => {
  it('has a paired script for every .ipynb and the other way round', () => {
    const ipynbs = readdirSync(NOTEBOOK_DIR).filter((f) => f.endsWith('.ipynb')).sort();
    expect(ipynbs.map((f) => f.replace(/\.ipynb$/, '.ts'))).toEqual(scripts);
    expect(scripts.length).toBeGreaterThanOrEqual(5);
  });

  it.each(committed)('%s: the .ipynb cells are the ones its script builds', (script, nb) => {
    const built = buildNotebook(parseScript(readFileSync(join(NOTEBOOK_DIR, script), 'utf8'), script), 'tslab');
    expect(syncProblems(nb, built)).toEqual([]);
  });

  it.each(committed)("%s: has no shorthand property naming another cell's variable (tslab cannot run it)", (script) => {
    expect(shorthandHazards(parseScript(readFileSync(join(NOTEBOOK_DIR, script), 'utf8'), script))).toEqual([]);
  });

  it.each(committed)('%s: carries the outputs of a passing run, with execution counts 1, 2, …', (_, nb) => {
    expect(notebookProblems(nb)).toEqual([]);
    const counts = nb.cells.filter((c) => c.cell_type === 'code').map((c) => c.execution_count);
    expect(counts).toEqual(counts.map((_, i) => i + 1));
    expect(checkedFacts(nb).length).toBeGreaterThanOrEqual(3);
  });

  it.each(committed)('%s: every plot carries SVG, PNG and the PNG as HTML (visible in every viewer)', (_, nb) => {
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data);
    const plots = outputs.filter((o) => o.data!['image/svg+xml'] || o.data!['image/png']);
    for (const o of plots) {
      expect(Object.keys(o.data!).sort()).toEqual(['image/png', 'image/svg+xml', 'text/html', 'text/plain']);
      const png = Buffer.from(joinText(o.data!['image/png']), 'base64');
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(joinText(o.data!['text/html'])).toMatch(/^<img src="data:image\/png;base64,/);
    }
  });

  it.each(committed)('%s: says how long it takes under each kernel, links the method and the next notebook, never the development machine\'s folder', (script, nb) => {
    const markdown = nb.cells.filter((c) => c.cell_type === 'markdown').map((c) => joinText(c.source)).join('\n');
    expect(markdown).toMatch(/How long it takes\.\*\*[\s\S]{0,600}tslab[\s\S]{0,300}Deno/);
    expect(markdown).toContain('docs/method.md');
    expect(markdown).toMatch(/\*\*Next:\*\* .*\(\d\d-[a-z0-9-]+\.ipynb\)/);
    const all = nb.cells.map((c) => joinText(c.source)).join('\n') + readFileSync(join(NOTEBOOK_DIR, script), 'utf8');
    // Built from parts so that this file does not itself name the development machine's folder.
    const sharedFolder = new RegExp(`\\.\\./${'shar'}ed|'${'shar'}ed'`);
    expect(all).not.toMatch(sharedFolder);
    for (const m of markdown.matchAll(/\]\((\d\d-[a-z0-9-]+\.ipynb)\)/g)) expect(existsSync(join(NOTEBOOK_DIR, m[1]))).toBe(true);
  });
});

describe("tslab's compiler on every notebook", () => {
  // tslab type-checks and compiles each cell with its own TypeScript 5.0, carrying the previous
  // cells' declarations; some valid TypeScript crashes that compiler (an awaited inline async arrow
  // after declarations in the same cell: "Debug Failure … Paths must either both be absolute or
  // both be relative"), and the kernel then skips every later cell. Converting the cells in order
  // with tslab's own converter finds that in seconds, without Jupyter.
  const require = createRequire(import.meta.url);
  const { createConverter } = require('tslab/dist/converter.js') as {
    createConverter: () => { convert: (prevDecl: string, src: string) => { declOutput?: string }; close: () => void };
  };
  it.each(scripts)('%s: every cell compiles under tslab without a compiler crash', (script) => {
    // As the kernel gets them: imports rewritten to the repository root (tslab's working directory).
    const cells = buildNotebook(parseScript(readFileSync(join(NOTEBOOK_DIR, script), 'utf8'), script), 'tslab')
      .cells.filter((c) => c.cell_type === 'code')
      .map((c) => ({ source: joinText(c.source) }));
    const converter = createConverter();
    const crashes: string[] = [];
    let previous = '';
    try {
      cells.forEach((cell, i) => {
        try {
          previous = converter.convert(previous, cell.source).declOutput ?? previous;
        } catch (e) {
          crashes.push(`code cell ${i + 1}: ${(e as Error).message.split('\n')[0]}`);
        }
      });
    } finally {
      converter.close();
    }
    expect(crashes).toEqual([]);
    // 4–8 s per notebook on an idle core; 218 s was measured for 01 beside the rest of the suite at load ~6.
  }, 900_000);
});
