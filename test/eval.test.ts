import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runEvalCommand } from '../src/cli/eval.js';
import { readResults } from '../src/eval/results.js';
import { DEFAULT_PROMPT_TEMPLATE } from '../src/eval/planner.js';
import { FORMATS, startFakeServer, trace, type FakeServer, type FakeServerOptions } from './eval-fake-server.js';

// Four problems, budgets 3/6/9/12, A = 2 summaries. Scores by hand (see each trace):
//   P1: 9 thinking tokens + </think> = length 10, answer token at 4   -> [0, 1, 1, 1], 4 prefixes
//   P2: never finishes, 12 tokens at the cap, answer token at 7, the summary with choice
//       index 1 always answers wrong                                  -> [0, 0, .5, .5], 4 prefixes
//   P3: 4 tokens + </think> = length 5, never states the answer       -> [0, 0, 0, 0], 2 prefixes (6, 9, 12 merged)
//   P4: 3 tokens + </think> = length 4, answer token at 2             -> [1, 1, 1, 1], 2 prefixes (6, 9, 12 merged)
const TRACES: FakeServerOptions['traces'] = {
  P1: trace(9, true, { at: 4, answer: '3' }),
  P2: { ...trace(20, false, { at: 7, answer: '5' }), wrongChoices: (i: number) => i % 2 === 1 },
  P3: trace(4, true),
  P4: trace(3, true, { at: 2, answer: '2' }),
};
const ACCURACY = [0.25, 0.5, 0.625, 0.625];
const SUMMARY_REQUESTS_PER_ROUND = 4 + 4 + 2 + 2;
const DATA = [
  { problem: 'P1', answer: '3' },
  { problem: 'P2', answer: 5 },
  { problem: 'P3', answer: '8' },
  { problem: 'P4', answer: '2' },
];

const servers: FakeServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

async function fake(opts: Partial<FakeServerOptions> = {}): Promise<FakeServer> {
  const s = await startFakeServer({ traces: TRACES, ...opts });
  servers.push(s);
  return s;
}

function workdir(): { dir: string; data: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'anytime-eval-'));
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, DATA.map((d) => JSON.stringify(d)).join('\n') + '\n');
  return { dir, data, out: join(dir, 'run.json') };
}

const quiet = () => new Writable({ write: (_c, _e, cb) => cb() });

async function cli(args: string[], signal?: AbortSignal): Promise<{ code: number; log: string }> {
  const lines: string[] = [];
  const code = await runEvalCommand(args, { log: (l) => lines.push(l), progressStream: quiet(), signal });
  return { code, log: lines.join('\n') };
}

function baseArgs(url: string, data: string, out: string, extra: string[] = []): string[] {
  return ['--base-url', url, '--model', 'fake-r1', '--data', data, '--out', out, '--max-budget', '12', '--budget-count', '4', '--summaries', '2', '--retry-base-ms', '20', ...extra];
}

const summaryOf = (out: string) => JSON.parse(readFileSync(out, 'utf8'));

describe('anytime eval against a fake OpenAI-compatible server', () => {
  it('computes per-budget accuracy, anytime score and merged summary requests exactly, in every server format', async () => {
    for (const format of FORMATS) {
      const server = await fake({ format });
      const { data, out, dir } = workdir();
      const { code, log } = await cli(baseArgs(server.url, data, out, ['--prior', 'linear', '--concurrency', '3']));
      expect(code, `${format}: ${log}`).toBe(0);
      const s = summaryOf(out);
      expect(s.budgets).toEqual([3, 6, 9, 12]);
      expect(s.accuracy).toEqual(ACCURACY);
      expect(s.prior.kind).toBe('linear');
      expect(s.anytime).toBeCloseTo(0.1 * 0.25 + 0.2 * 0.5 + 0.3 * 0.625 + 0.4 * 0.625, 12);
      expect(s.final).toBe(0.625);
      expect(s.meanThinkingLength).toBe((10 + 12 + 5 + 4) / 4);
      expect(s.finishedFraction).toBe(0.75);
      // Intervals by hand (one sample per question, so the SE is sd/√4 of the question scores).
      [0.25, Math.sqrt(1 / 3) / 2, Math.sqrt(0.6875 / 3) / 2, Math.sqrt(0.6875 / 3) / 2].forEach((se, j) => expect(s.stderr[j]).toBeCloseTo(se, 12));
      s.ci.forEach((c: { lo: number; hi: number }, j: number) => expect(c.lo <= ACCURACY[j] && ACCURACY[j] <= c.hi).toBe(true));
      // pass@2: P2's two summaries at budgets 9 and 12 are one right, one wrong, so pass@2 = 1 there.
      expect(s.passAtK.map((p: { k: number }) => p.k)).toEqual([1, 2]);
      expect(s.passAtK[1].byBudget.map((e: { mean: number }) => e.mean)).toEqual([0.25, 0.5, 0.75, 0.75]);
      // Traces cut mid-thinking per budget: P1 (10 long) at 3, 6, 9; P2 (never closed) at all; P3, P4 at 3.
      expect(s.counts).toMatchObject({ cutAtBudget: [4, 2, 2, 1], eosEnded: 0, unparseableSummaries: 0, unaligned: 0 });
      // One thinking request per sample, one summary request per distinct prefix (merged past the end).
      expect(server.requests.filter((r) => r.kind === 'thinking')).toHaveLength(4);
      expect(server.requests.filter((r) => r.kind === 'summary')).toHaveLength(SUMMARY_REQUESTS_PER_ROUND);
      for (const r of server.requests.filter((q) => q.kind === 'thinking')) {
        expect(r.body).toMatchObject({ max_tokens: 12, stop: ['</think>'], logprobs: 1, temperature: 0.6 });
      }
      for (const r of server.requests.filter((q) => q.kind === 'summary')) expect(r.body).toMatchObject({ n: 2, max_tokens: 128 });
      // Exact forced-summary prompts: P4 cut at 3 tokens, and P4 finished (shared by budgets 6, 9, 12).
      const prompts = server.requests.map((r) => r.body.prompt);
      const p4 = DEFAULT_PROMPT_TEMPLATE.replace('{problem}', 'P4');
      expect(prompts).toContain(`${p4} w1 so=2 w3...\n\n...\n\n</think>\n\n**Final Answer**\n`);
      expect(prompts).toContain(`${p4} w1 so=2 w3</think>\n\n**Final Answer**\n`);
      // P1 cut one token before its end-of-thinking (budget 9 < length 10) gets the cut suffix.
      expect(prompts).toContain(`${DEFAULT_PROMPT_TEMPLATE.replace('{problem}', 'P1')} w1 w2 w3 so=3 w5 w6 w7 w8 w9...\n\n...\n\n</think>\n\n**Final Answer**\n`);
      expect(log).toContain('anytime accuracy (linear prior): 56.3%');
      const svg = readFileSync(join(dir, 'run.svg'), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('fake-r1 (anytime 56.3%)');
      await servers.pop()!.close();
    }
  });

  it('retries 429 and 500 with exponential backoff and a timeout, and ends with the same results', async () => {
    // Request 0 (first thinking) gets 429; request 2 gets 500 twice in a row; request 5 hangs past the timeout.
    const plan = new Map<number, 429 | 500 | 'hang'>([[0, 429], [2, 500], [3, 500], [6, 'hang']]);
    const server = await fake({ fault: (i) => plan.get(i) ?? 'ok' });
    const { data, out } = workdir();
    const { code, log } = await cli(baseArgs(server.url, data, out, ['--concurrency', '1', '--timeout-ms', '300']));
    expect(code, log).toBe(0);
    expect(summaryOf(out).accuracy).toEqual(ACCURACY);
    expect(summaryOf(out).requests).toEqual({ attempts: 4 + SUMMARY_REQUESTS_PER_ROUND + 4, retries: 4 });
    const at = server.requests.map((r) => r.at);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(20 - 2); // first retry: base delay
    expect(at[3] - at[2]).toBeGreaterThanOrEqual(20 - 2);
    expect(at[4] - at[3]).toBeGreaterThanOrEqual(40 - 2); // second retry of the same request: doubled
    // Timeout, then backoff. The client's 300 ms start when it sends, before the server records
    // the request; on a loaded machine that gap has measured over 10 ms, so the bound leaves 100.
    expect(at[7] - at[6]).toBeGreaterThanOrEqual(300 + 20 - 100);
    expect(log).toMatch(/retry 1\/5 in 20 ms: .*HTTP 429/);
    expect(log).toMatch(/retry 2\/5 in 40 ms: .*HTTP 500/);
    expect(log).toMatch(/timed out after 300 ms/);
  });

  it('gives up with exit code 3 after the last retry', async () => {
    const server = await fake({ fault: () => 500 });
    const { data, out } = workdir();
    const { code, log } = await cli(baseArgs(server.url, data, out, ['--retries', '2', '--retry-base-ms', '1']));
    expect(code).toBe(3);
    expect(log).toMatch(/HTTP 500.*gave up after 3 attempts/);
  });

  it('resumes after an interruption: each sample once, same aggregate as an uninterrupted run', async () => {
    const full = workdir();
    const server = await fake();
    const args = (w: { data: string; out: string }) => baseArgs(server.url, w.data, w.out, ['--samples', '2', '--concurrency', '2']);
    expect((await cli(args(full))).code).toBe(0);
    const reference = summaryOf(full.out);

    // Same data file content at a new path would differ in identity; reuse the path, new out.
    const part = { data: full.data, out: join(full.dir, 'part.json') };
    const controller = new AbortController();
    let thinking = 0;
    const server2 = await fake({
      onRequest: (_b, kind) => {
        if (kind === 'thinking' && ++thinking === 4) controller.abort(new Error('killed'));
      },
    });
    const args2 = (w: { data: string; out: string }) => baseArgs(server2.url, w.data, w.out, ['--samples', '2', '--concurrency', '2']);
    const first = await cli(args2(part), controller.signal);
    expect(first.code).toBe(130);
    expect(first.log).toContain('rerun the same command to resume');
    const partial = readResults(part.out.replace(/\.json$/, '.samples.jsonl'));
    expect(partial.records.length).toBeGreaterThan(0);
    expect(partial.records.length).toBeLessThan(8);
    // A kill in the middle of a write leaves half a line: it is dropped on resume.
    appendFileSync(part.out.replace(/\.json$/, '.samples.jsonl'), '{"type":"sample","problem":3,"sa');

    const before = server2.requests.filter((r) => r.kind === 'thinking').length;
    const second = await cli(args2(part));
    expect(second.code, second.log).toBe(0);
    expect(second.log).toMatch(new RegExp(`resuming: ${partial.records.length} samples already in`));
    const after = server2.requests.filter((r) => r.kind === 'thinking').length;
    expect(after - before).toBe(8 - partial.records.length); // finished samples are not asked again
    const final = readResults(part.out.replace(/\.json$/, '.samples.jsonl'));
    const keys = final.records.map((r) => `${r.problem}:${r.sample}`).sort();
    expect(keys).toEqual(['0:0', '0:1', '1:0', '1:1', '2:0', '2:1', '3:0', '3:1']);
    const resumed = summaryOf(part.out);
    for (const k of ['accuracy', 'stderr', 'anytime', 'final', 'meanThinkingLength', 'count'] as const) expect(resumed[k]).toEqual(reference[k]);
  });

  it('refuses to mix results of different arguments in one file', async () => {
    const server = await fake();
    const w = workdir();
    expect((await cli(baseArgs(server.url, w.data, w.out))).code).toBe(0);
    const requests = server.requests.length;
    const { code, log } = await cli(baseArgs(server.url, w.data, w.out, ['--temperature', '1.0']));
    expect(code).toBe(2);
    expect(log).toMatch(/different arguments, refusing to mix them:\n\s+temperature: 0.6 → 1/);
    expect(server.requests.length).toBe(requests);
    // The prior only changes the aggregate, so it may differ.
    const other = await cli(baseArgs(server.url, w.data, w.out, ['--prior', 'base']));
    expect(other.code).toBe(0);
    expect(summaryOf(w.out).anytime).toBe(0.625);
    expect(server.requests.length).toBe(requests);
  });

  it('fails clearly on an unreachable server, malformed JSON and missing logprobs', async () => {
    const w = workdir();
    const closed = await fake();
    const url = closed.url;
    await servers.pop()!.close();
    const down = await cli(baseArgs(url, w.data, w.out));
    expect(down.code).toBe(3);
    expect(down.log).toMatch(/cannot reach the server at http:\/\/127\.0\.0\.1:\d+\/v1\/models \(ECONNREFUSED\)/);

    const bad = await fake({ fault: () => 'malformed' });
    const malformed = await cli(baseArgs(bad.url, w.data, join(w.dir, 'm.json')));
    expect(malformed.code).toBe(3);
    expect(malformed.log).toMatch(/server error \(malformed\): .*not JSON/);
    expect(bad.requests).toHaveLength(1); // not retried

    const nolp = await fake({ fault: () => 'no-logprobs' });
    const missing = await cli(baseArgs(nolp.url, w.data, join(w.dir, 'l.json')));
    expect(missing.code).toBe(3);
    expect(missing.log).toMatch(/no per-token output \(choices\[0\]\.logprobs\.tokens/);
  });

  it('rejects bad input before sending any request', async () => {
    const server = await fake();
    const w = workdir();
    const badData = join(w.dir, 'bad.jsonl');
    writeFileSync(badData, '{"problem":"P1","answer":"3"}\n\n{"problem":"P2"}\n');
    const badArray = join(w.dir, 'bad.json');
    writeFileSync(badArray, JSON.stringify([{ problem: 'P1', answer: '3' }, { answer: '1' }]));
    const cases: [string[], RegExp][] = [
      [baseArgs(server.url, badData, w.out), /bad\.jsonl line 3: is missing the field "answer"/],
      [baseArgs(server.url, badArray, w.out), /bad\.json \[index 1\]: is missing the field "problem"/],
      [['--base-url', server.url, '--model', 'm', '--data', w.data, '--out', w.out, '--budgets', '100,abc'], /--budgets: entry 2 'abc' is not a whole number/],
      [['--base-url', server.url, '--model', 'm', '--data', w.data, '--out', w.out, '--max-budget', '1000', '--budgets', '500,2000'], /--budgets\[1\] = 2000 is above --max-budget 1000/],
      [['--base-url', server.url, '--model', 'm', '--data', w.data, '--out', w.out, '--budgets', '500,400'], /--budgets: must be strictly increasing/],
      [baseArgs(server.url, w.data, w.out, ['--prior', 'cubic']), /--prior: must be one of 'base', 'uniform', 'linear', 'linear-decreasing', got 'cubic'/],
      [baseArgs(server.url, w.data, w.out, ['--samples', 'two']), /--samples: must be a number, got 'two'/],
      [baseArgs(server.url, w.data, w.out, ['--prompt-template', 'no placeholder']), /--prompt-template: must contain the placeholder \{problem\}/],
      [['--model', 'm', '--data', w.data, '--out', w.out], /--base-url: is required/],
      [baseArgs(server.url, join(w.dir, 'missing.jsonl'), w.out), /--data: cannot read .*missing\.jsonl' \(ENOENT\)/],
      [baseArgs(server.url, w.data, w.out, ['--bogus']), /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const { code, log } = await cli(args);
      expect(code, log).toBe(2);
      expect(log).toMatch(message);
    }
    expect(server.requests).toHaveLength(0);
    expect(existsSync(w.out)).toBe(false);
  });

  it('prints usage for --help', async () => {
    const { code, log } = await cli(['--help']);
    expect(code).toBe(0);
    expect(log).toMatch(/^usage: anytime eval --base-url URL \[--base-url URL …\] --model NAME --data FILE --out FILE/);
    for (const opt of ['--forcing', '--compare', '--resamples', '--budgets', '--budget-count', '--samples', '--summaries', '--temperature', '--concurrency', '--prior', '--prompt-template', '--force-cut', '--force-answer', '--limit', '--seed', '--timeout-ms', '--retries']) {
      expect(log).toContain(opt);
    }
  });
});
