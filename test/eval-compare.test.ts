/**
 * Intervals and counts in the results, and `anytime eval --compare A.json B.json`: the paired
 * per-budget difference of two evaluated models (core/stats `pairedBootstrapDiff`), printed and
 * plotted, refused when the runs' questions or budgets differ.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runEvalCommand } from '../src/cli/eval.js';
import { bootstrapMeans, clusteredMean, pairedBootstrapDiff } from '../src/core/stats.js';
import { questionValues, readResults } from '../src/eval/results.js';
import { startFakeServer, trace, type FakeServer, type FakeTrace } from './eval-fake-server.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

const quiet = () => new Writable({ write: (_c, _e, cb) => cb() });
async function cli(args: string[]): Promise<{ code: number; log: string }> {
  const lines: string[] = [];
  const code = await runEvalCommand(args, { log: (l) => lines.push(l), progressStream: quiet() });
  return { code, log: lines.join('\n') };
}

/** A "model": trace i states the answer at position `at(i)`, so models differ at small budgets. */
function model(at: (i: number) => number, extra: Record<string, FakeTrace> = {}): Record<string, FakeTrace> {
  const traces: Record<string, FakeTrace> = {};
  for (let i = 1; i <= 12; i++) traces[`P${i}`] = trace(10, i % 4 !== 0, { at: at(i), answer: String(i) });
  return { ...traces, ...extra };
}

function workdir(n = 12): { dir: string; data: string } {
  const dir = mkdtempSync(join(tmpdir(), 'anytime-compare-'));
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, Array.from({ length: n }, (_, i) => JSON.stringify({ problem: `P${i + 1}`, answer: String(i + 1) })).join('\n') + '\n');
  return { dir, data };
}

async function evaluate(traces: Record<string, FakeTrace>, data: string, out: string, extra: string[] = []): Promise<void> {
  const server = await startFakeServer({ traces });
  servers.push(server);
  const args = ['--base-url', server.url, '--model', 'fake-r1', '--data', data, '--out', out, '--max-budget', '12', '--budgets', '3,6,9,12', '--resamples', '500', ...extra];
  const { code, log } = await cli(args);
  expect(code, log).toBe(0);
}

describe('results carry intervals and counts', () => {
  it('standard errors over questions, bootstrap intervals, pass@k, and the counts', async () => {
    const { dir, data } = workdir(5);
    // P5's token strings are raw vocabulary entries ("Ġw1"): it cannot be cut exactly.
    const traces = model((i) => 2 * i - 1, { P5: { ...trace(6, true, { at: 2, answer: '5' }), rawVocabularyStrings: true } });
    traces.P2 = { tokens: [' w1', ' so=2', ' w3'], ending: 'eos', wrongChoices: (i) => i === 0 };
    await evaluate(traces, data, join(dir, 'a.json'), ['--samples', '2', '--summaries', '3']);
    const s = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
    const records = readResults(join(dir, 'a.samples.jsonl')).records;
    expect(s.count).toBe(10);
    expect(s.scored).toBe(8);
    expect(s.counts.unaligned).toBe(2);
    expect(s.counts.unalignedReasons[0].reason).toMatch(/does not spell the text/);
    expect(records.filter((r) => r.unaligned !== null).every((r) => r.scores.length === 0 && r.problem === 4)).toBe(true);
    expect(s.counts.eosEnded).toBe(2);
    // Per budget: the clustered mean and SE over the scored samples, the bootstrap over questions.
    const scored = records.filter((r) => r.unaligned === null);
    const byQ = [0, 1, 2, 3].map((q) => scored.filter((r) => r.problem === q));
    s.budgets.forEach((_: number, j: number) => {
      const e = clusteredMean(byQ.map((rows) => rows.map((r) => r.scores[j])));
      expect(s.accuracy[j]).toBeCloseTo(e.mean, 12);
      expect(s.stderr[j]).toBeCloseTo(e.se, 12);
      expect(s.ci[j].lo).toBeLessThanOrEqual(s.accuracy[j] + 1e-12);
      expect(s.ci[j].hi).toBeGreaterThanOrEqual(s.accuracy[j] - 1e-12);
    });
    const boot = bootstrapMeans([questionValues(records, s.prior.probs).values], { resamples: 500 });
    expect(s.ci.map((c: { lo: number }) => c.lo)).toEqual(boot.slice(0, 4).map((i) => i.lo));
    expect(s.anytimeCi).toEqual({ lo: boot[4].lo, hi: boot[4].hi });
    // pass@k for k = 1..3: pass@1 is the accuracy; pass@3 is "any of the 3 right".
    expect(s.passAtK.map((p: { k: number }) => p.k)).toEqual([1, 2, 3]);
    s.budgets.forEach((_: number, j: number) => expect(s.passAtK[0].byBudget[j].mean).toBeCloseTo(s.accuracy[j], 12));
    // P2 (answer at token 2, A = 3, choice 0 wrong): at budget 3 (the trace is 4 long with its EOS),
    // 2 of 3 right, so pass@1 = 2/3 and pass@2 = pass@3 = 1; at budget 6 the cut ends in EOS: 0.
    const p2 = scored.filter((r) => r.problem === 1);
    expect(p2.map((r) => r.scores)).toEqual([[2 / 3, 0, 0, 0], [2 / 3, 0, 0, 0]]);
    // Traces cut at each budget (cut mid-thinking, not past a closed end, not an EOS cut).
    expect(s.counts.cutAtBudget).toEqual(s.budgets.map((_: number, j: number) => scored.filter((r) => r.groups.some((g) => g.budgetIndices.includes(j) && g.cut && !g.scoresZero)).length));
    expect(s.counts.cutAtBudget[0]).toBe(8);
    expect(s.counts.unparseableSummaries).toBe(0);
  });
});

describe('anytime eval --compare', () => {
  it('prints and plots the paired per-budget difference with intervals', async () => {
    const { dir, data } = workdir();
    // A states each answer early, B late: A is better at small budgets, equal at the cap.
    await evaluate(model(() => 2), data, join(dir, 'early.json'));
    await evaluate(model((i) => 4 + (i % 6)), data, join(dir, 'late.json'));
    const out = join(dir, 'diff.json');
    const { code, log } = await cli(['--compare', join(dir, 'early.json'), join(dir, 'late.json'), '--out', out, '--resamples', '500']);
    expect(code, log).toBe(0);
    const d = JSON.parse(readFileSync(out, 'utf8'));
    const a = JSON.parse(readFileSync(join(dir, 'early.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(dir, 'late.json'), 'utf8'));
    expect(d.budgets).toEqual([3, 6, 9, 12]);
    expect(d.questions).toBe(12);
    // The estimate is the plain difference of the accuracies (one sample per question).
    d.diff.forEach((x: { estimate: number; lo: number; hi: number }, j: number) => {
      expect(x.estimate).toBeCloseTo(a.accuracy[j] - b.accuracy[j], 12);
      expect(x.lo).toBeLessThanOrEqual(x.estimate + 1e-12);
      expect(x.hi).toBeGreaterThanOrEqual(x.estimate - 1e-12);
    });
    // And it is core/stats' paired bootstrap over the shared questions.
    const ra = readResults(join(dir, 'early.samples.jsonl')).records;
    const rb = readResults(join(dir, 'late.samples.jsonl')).records;
    const probs = a.prior.probs;
    const want = pairedBootstrapDiff([questionValues(ra, probs).values], [questionValues(rb, probs).values], { resamples: 500 });
    expect(d.diff).toEqual(want.slice(0, 4));
    expect(d.anytime).toEqual(want[4]);
    expect(d.diff[0].lo).toBeGreaterThan(0); // early answers win at budget 3, clearly
    expect(d.diff[3]).toMatchObject({ estimate: 0, lo: 0, hi: 0 }); // and tie at the cap
    expect(log).toMatch(/budget\s+A %\s+B %\s+A−B\s+95% CI/);
    expect(log).toMatch(/^\s+3\s+100\.0\s+\d+\.\d\s+\+\d+\.\d\s+\+\d+\.\d … \+\d+\.\d\s+\*$/m);
    expect(log).toContain('paired over 12 questions');
    const svg = readFileSync(out.replace(/\.json$/, '.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('95% interval, lower');
  });

  it('refuses runs whose budgets or questions differ, naming the difference', async () => {
    const { dir, data } = workdir();
    await evaluate(model(() => 2), data, join(dir, 'a.json'));
    await evaluate(model(() => 2), data, join(dir, 'other-budgets.json'), ['--budgets', '4,8,12']);
    const fewer = join(dir, 'fewer.jsonl');
    writeFileSync(fewer, readFileSync(data, 'utf8').split('\n').slice(0, 6).join('\n') + '\n');
    await evaluate(model(() => 2), fewer, join(dir, 'other-data.json'));
    const budgets = await cli(['--compare', join(dir, 'a.json'), join(dir, 'other-budgets.json')]);
    expect(budgets.code).toBe(2);
    expect(budgets.log).toMatch(/--compare: the runs were evaluated at different budgets \(.*a\.json: 3,6,9,12; .*other-budgets\.json: 4,8,12\)/);
    const questions = await cli(['--compare', join(dir, 'a.json'), join(dir, 'other-data.json')]);
    expect(questions.code).toBe(2);
    expect(questions.log).toMatch(/--compare: the runs asked different questions/);
    const missing = await cli(['--compare', join(dir, 'a.json'), join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.log).toMatch(/--compare B: cannot read .*nope\.json/);
    const one = await cli(['--compare', join(dir, 'a.json')]);
    expect(one.code).toBe(2);
    expect(one.log).toMatch(/--compare: takes two result files/);
    expect(existsSync(join(dir, 'a-vs-other-budgets.json'))).toBe(false);
  });
});
