/**
 * The toolkit gives the same results inside the real notebook kernels as in Node ESM: a
 * representative set of calls (test/notebook/toolkit-probe.ts: verifier equalities, returns and
 * BRPO advantages, a seeded rollout of the committed chain base policy, a PNG plot) runs here
 * (vitest, Node ESM), in a one-cell notebook executed by Jupyter under the tslab kernel
 * (CommonJS) and under Deno's kernel, and as a plain `deno run` script; the JSON must be equal.
 *
 * Needs Debian's Jupyter (`sudo npm run setup -- notebooks`):
 * without it the test fails and says so, it does not skip.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildNotebook,
  checkJupyter,
  defaultPython,
  denoBinary,
  executeNotebook,
  installKernel,
  joinText,
  notebookProblems,
  parseScript,
  readNotebook,
  ROOT,
  writeNotebook,
  type KernelName,
} from '../scripts/notebook-lib.js';
import { toolkitProbe } from './notebook/toolkit-probe.js';

const DIR = join(ROOT, 'build', 'test-notebook-kernels');
const MARK = 'TOOLKIT-PROBE ';
// The paired-script form of the probe notebook: the runner's own builder turns '../test/' into './test/'.
const SCRIPT = `// %%
import { toolkitProbe } from '../test/notebook/toolkit-probe.js';
console.log('${MARK}' + JSON.stringify(await toolkitProbe()));
`;

let expected: Record<string, unknown>;
const python = defaultPython();

beforeAll(async () => {
  checkJupyter(python);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  expected = await toolkitProbe();
}, 300_000);

afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** The probe's JSON from the executed notebook's stdout, or the notebook's problems as an error. */
function probeOutput(kernel: KernelName): Record<string, unknown> {
  installKernel(python, kernel);
  const path = join(DIR, `probe-${kernel}.ipynb`);
  writeNotebook(path, buildNotebook(parseScript(SCRIPT), kernel));
  const r = executeNotebook(python, kernel, path, 600);
  expect(r.status).toBe(0);
  const nb = readNotebook(path);
  expect(notebookProblems(nb)).toEqual([]);
  const line = nb.cells.flatMap((c) => c.outputs ?? []).flatMap((o) => joinText(o.text).split('\n')).find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`no '${MARK}' line in the ${kernel} notebook's output`);
  return JSON.parse(line.slice(MARK.length)) as Record<string, unknown>;
}

describe('toolkit results are identical in Node ESM and the notebook kernels', () => {
  it('computes the expected facts in Node ESM (the reference)', () => {
    const verifier = expected.verifier as { p: string; g: string; correct: boolean }[];
    expect(verifier.filter((v) => v.correct).map((v) => v.p)).toEqual(['0.5', '2\\sqrt{2}', '1/2', '\\dfrac{3}{4}', 'x^2+2x+1', '\\{2,1\\}', '10\\%', '\\pi/2']);
    expect(expected.graded).toBe(1);
    expect((expected.rollout as unknown[]).length).toBe(4);
  });

  it('tslab kernel (CommonJS) gives the same results', () => {
    expect(probeOutput('tslab')).toEqual(expected);
  }, 900_000);

  it("Deno's kernel gives the same results", () => {
    expect(probeOutput('deno')).toEqual(expected);
  }, 900_000);

  it('a plain `deno run` script gives the same results', () => {
    const script = join(DIR, 'probe.ts');
    writeFileSync(script, `import { toolkitProbe } from '../../test/notebook/toolkit-probe.js';\nconsole.log('${MARK}' + JSON.stringify(await toolkitProbe()));\n`);
    const r = spawnSync(denoBinary(), ['run', '-A', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }, maxBuffer: 16 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith(MARK));
    expect(line, r.stdout + r.stderr).toBeDefined();
    expect(JSON.parse(line!.slice(MARK.length))).toEqual(expected);
  }, 300_000);
});
