/**
 * What a fresh clone needs, checked without running anything long: the README's two commands,
 * CI running exactly the README's test command, `npm test` running every part, nothing that
 * reaches outside the repository (the development machine's shared folder, which a clone does not
 * have), and links that resolve. The clone-and-run smoke test is test/clone.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeCommands, withoutComment } from './repo-helpers.js';

const ROOT = resolve('.');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** Files a clone has: tracked ones, plus new ones not ignored (so that uncommitted work is checked too). */
const cloneFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && existsSync(join(ROOT, f)));

describe("the README's two commands", () => {
  it('open the README: a title, then one code block whose first two lines are the main job and the test command', () => {
    expect(readme.split('\n').slice(0, 3)).toEqual(['# anytime', '', '```bash']);
    const { main, test } = readmeCommands(readme);
    expect(withoutComment(main)).toBe('npm ci && npx anytime reproduce');
    expect(withoutComment(test)).toBe('npm ci && npm run setup && npm test');
  });

  it('.ci/run runs exactly the README test command, and nothing else', () => {
    const printed = execFileSync('bash', ['.ci/run', '--print'], { cwd: ROOT, encoding: 'utf8' }).trimEnd();
    expect(printed).toBe(readmeCommands(readme).test);
    const code = readFileSync(join(ROOT, '.ci/run'), 'utf8')
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
    expect(code).not.toMatch(/\bnpm (ci|test|run|install|exec)\b|\bnpx\b|apt-get|scripts\/|vitest|jupyter/);
    expect(code).toContain('exec bash -c "$command"');
  });

  it('npm test type-checks, runs vitest on wasm and WebGPU (the browser test included), then the notebooks under every kernel', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // Once the notebooks runner can choose a kernel (tslab, Deno), npm test must ask for all of them.
    const runner = readFileSync(join(ROOT, 'scripts/notebooks.ts'), 'utf8');
    const notebooks = runner.includes("'--kernel'") ? 'npm run notebooks -- --kernel all' : 'npm run notebooks';
    expect(scripts.test).toBe(`npm run typecheck && npm run test:webgpu && ${notebooks}`);
    expect(scripts['test:webgpu']).toBe('ANYTIME_TEST_BACKENDS=wasm,webgpu vitest run');
    // The quick run: vitest alone, without the two tests that install from the registry.
    expect(scripts['test:unit']).toBe('vitest run --exclude test/clone.test.ts --exclude test/package.test.ts');
    expect(scripts.setup).toBe('bash scripts/setup.sh');
  });
});

describe('a clone carries everything it uses', () => {
  // Built from pieces so that this file does not match itself.
  const outside = [['..', 'shared'].join('/'), ['', 'work', 'shared'].join('/')];

  it('no file refers to the development machine\'s shared folder', () => {
    const offenders = cloneFiles
      .filter((f) => !/\.(png|jpe?g|wasm|ckpt|bin|gz)$/.test(f))
      .filter((f) => {
        const text = readFileSync(join(ROOT, f), 'utf8');
        return outside.some((o) => text.includes(o));
      });
    expect(offenders).toEqual([]);
    // The folders the issue names are among those searched.
    for (const dir of ['src/', 'test/', 'notebooks/', 'scripts/', 'kernels/', 'bin/', 'docs/']) {
      expect(cloneFiles.some((f) => f.startsWith(dir))).toBe(true);
    }
  });

  it('relative links in README.md, docs/, notebooks/ and other READMEs resolve inside the clone', () => {
    const documents = cloneFiles.filter((f) => /(^|\/)README\.md$|^docs\/.*\.md$|^notebooks\/.*\.ipynb$/.test(f));
    expect(documents).toContain('README.md');
    expect(documents).toContain('docs/method.md');
    const broken: string[] = [];
    let checked = 0;
    for (const doc of documents) {
      const raw = readFileSync(join(ROOT, doc), 'utf8');
      const text = doc.endsWith('.ipynb')
        ? (JSON.parse(raw) as { cells: { cell_type: string; source: string[] | string }[] }).cells
            .filter((c) => c.cell_type === 'markdown')
            .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
            .join('\n')
        : raw;
      for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        const target = m[1];
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
        const path = resolve(dirname(join(ROOT, doc)), decodeURIComponent(target.split('#')[0]));
        checked++;
        if (relative(ROOT, path).startsWith('..') || !existsSync(path)) broken.push(`${doc}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it('the README and the notebooks point to the method in docs/method.md', () => {
    expect(readme).toContain('[docs/method.md](docs/method.md)');
    const method = readFileSync(join(ROOT, 'docs/method.md'), 'utf8');
    for (const name of ['compute_summary_advantage', 'compute_cot_advantage', 'verl/trainer/ppo/brpo.py', 'A = 1']) expect(method).toContain(name);
    for (const section of ['## 1.', '## 2.', '## 3.', '## 4.', '## 5.', '## 6.', '## 7.', '## 8.']) expect(method).toContain(section);
  });
});
