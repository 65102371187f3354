/**
 * Scale-out: `--base-url` given once per replica. Work is spread over the servers; a server
 * killed mid-run (its sockets destroyed, its port closed: requests in flight get ECONNRESET,
 * new ones ECONNREFUSED) loses nothing, its requests are sent to the others, and the results
 * are identical to a run on one server with the same seeds.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runEvalCommand } from '../src/cli/eval.js';
import { readResults, type SampleRecord } from '../src/eval/results.js';
import { splitBytes, startFakeServer, trace, type FakeServer, type FakeServerOptions, type FakeTrace, type ServerFormatName } from './eval-fake-server.js';

// Six problems: closed and cut traces, one that ends on end-of-sequence, one with a character
// split across tokens; summaries go wrong as a function of the request's seed (so a replica that
// ignored or changed seeds would change the results).
const wrongBySeed = (i: number, seed: number | null) => seed === null || (seed + i) % 3 === 0;
const TRACES: Record<string, FakeTrace> = {
  P1: { ...trace(9, true, { at: 4, answer: '3' }), wrongChoices: wrongBySeed },
  P2: { ...trace(20, false, { at: 7, answer: '5' }), wrongChoices: wrongBySeed },
  P3: { tokens: [' w1', ' so=8', ' w3'], ending: 'eos', wrongChoices: wrongBySeed },
  P4: { ...trace(3, true, { at: 2, answer: '2' }), wrongChoices: wrongBySeed },
  P5: { tokens: [' x', ...splitBytes(' π', [2, 1]), ' so=7', ' w5', ' w6'], ending: 'think-end', wrongChoices: wrongBySeed },
  P6: { ...trace(11, true, { at: 10, answer: '6' }), wrongChoices: wrongBySeed },
};
const DATA = ['3', '5', '8', '2', '7', '6'].map((answer, i) => ({ id: `q${i + 1}`, problem: `P${i + 1}`, answer }));

const servers: FakeServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

async function fake(opts: Partial<FakeServerOptions>): Promise<FakeServer> {
  const s = await startFakeServer({ traces: TRACES, ...opts });
  servers.push(s);
  return s;
}

const quiet = () => new Writable({ write: (_c, _e, cb) => cb() });

async function run(urls: string[], out: string, data: string): Promise<{ code: number; log: string }> {
  const lines: string[] = [];
  const args = [
    ...urls.flatMap((u) => ['--base-url', u]),
    '--model', 'fake-r1', '--data', data, '--out', out,
    '--max-budget', '12', '--budgets', '3,6,9,12', '--samples', '2', '--summaries', '3', '--seed', '7',
    '--concurrency', '2', '--retry-base-ms', '20', '--retries', '6',
  ];
  const code = await runEvalCommand(args, { log: (l) => lines.push(l), progressStream: quiet() });
  return { code, log: lines.join('\n') };
}

/** Every sample's trace and graded summaries, by key (what must not depend on the servers). */
function comparable(records: SampleRecord[]): unknown[] {
  return [...records]
    .sort((a, b) => a.problem - b.problem || a.sample - b.sample)
    .map((r) => ({
      key: `${r.problem}:${r.sample}`,
      r: { ...r, groups: r.groups.map((g) => ({ ...g, summaries: g.summaries.map((s) => ({ ...s })) })) },
    }));
}

const STAT_FIELDS = ['accuracy', 'stderr', 'ci', 'anytime', 'anytimeCi', 'final', 'passAtK', 'counts', 'meanThinkingLength', 'count', 'scored'] as const;

describe('anytime eval over several replicas', () => {
  for (const format of ['vllm', 'llama.cpp'] as ServerFormatName[]) {
    it(`${format}: three local servers, one killed mid-run, give the same results as one server`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'anytime-scale-'));
      const data = join(dir, 'data.json');
      writeFileSync(data, JSON.stringify(DATA));

      const single = await fake({ format, delayMs: 5 });
      const one = await run([single.url], join(dir, 'one.json'), data);
      expect(one.code, one.log).toBe(0);

      // Server B dies after its 4th request, with requests in flight (each waits 40 ms).
      let killedAt = 0;
      const a = await fake({ format, delayMs: 40 });
      let b!: FakeServer;
      b = await fake({
        format,
        delayMs: 40,
        onRequest: () => {
          if (b.requests.length === 4) {
            killedAt = performance.now();
            // Closed now, while this 4th request waits for its answer: it is dropped in flight
            // whatever the machine's load (a timer here let a loaded machine answer it first).
            void b.close();
          }
        },
      });
      const c = await fake({ format, delayMs: 40 });
      const three = await run([a.url, b.url, c.url], join(dir, 'three.json'), data);
      expect(three.code, three.log).toBe(0);
      expect(killedAt).toBeGreaterThan(0);
      expect(three.log).toContain(`server ${b.url} is not answering; its requests go to the other servers`);
      // B took requests and dropped some in flight; A and C did the rest.
      expect(b.requests.length).toBeGreaterThanOrEqual(4);
      expect(b.answered).toBeLessThan(b.requests.length);
      expect(a.answered).toBeGreaterThan(0);
      expect(c.answered).toBeGreaterThan(0);
      const answered = a.answered + b.answered + c.answered;
      expect(answered).toBe(single.answered); // every request answered exactly once somewhere

      const recordsOne = readResults(join(dir, 'one.samples.jsonl')).records;
      const recordsThree = readResults(join(dir, 'three.samples.jsonl')).records;
      expect(recordsThree).toHaveLength(12);
      expect(comparable(recordsThree)).toEqual(comparable(recordsOne));
      const s1 = JSON.parse(readFileSync(join(dir, 'one.json'), 'utf8'));
      const s3 = JSON.parse(readFileSync(join(dir, 'three.json'), 'utf8'));
      for (const k of STAT_FIELDS) expect(s3[k], k).toEqual(s1[k]);
      expect(s3.requests.retries).toBeGreaterThan(0);
      expect(s3.servers).toEqual([a.url, b.url, c.url].map((u) => `${u}/v1`));
      // The seeds matter: the summaries are not all right or all wrong.
      expect(s1.accuracy.some((x: number) => x > 0 && x < 1)).toBe(true);
      expect(s1.counts.eosEnded).toBe(2);
    }, 60_000);
  }

  it('goes on when one of the servers is down from the start, and fails clearly when all are', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anytime-scale-'));
    const data = join(dir, 'data.json');
    writeFileSync(data, JSON.stringify(DATA.slice(0, 2)));
    const dead = await fake({});
    const deadUrl = dead.url;
    await servers.pop()!.close();
    const live = await fake({});
    const r = await run([deadUrl, live.url], join(dir, 'r.json'), data);
    expect(r.code, r.log).toBe(0);
    expect(r.log).toMatch(/warning: cannot reach the server at http:\/\/127\.0\.0\.1:\d+\/v1\/models \(ECONNREFUSED\).*going on with the other servers/);
    expect(live.answered).toBeGreaterThan(0);

    const other = await fake({});
    const otherUrl = other.url;
    await servers.pop()!.close();
    const none = await run([deadUrl, otherUrl], join(dir, 'n.json'), data);
    expect(none.code).toBe(3);
    expect(none.log).toMatch(/cannot reach the server/);
  });

  it('refuses the same URL twice', async () => {
    const { code, log } = await run(['http://127.0.0.1:9', 'http://127.0.0.1:9'], '/tmp/never.json', '/tmp/never-data.json');
    expect(code).toBe(2);
    expect(log).toMatch(/--base-url: 'http:\/\/127\.0\.0\.1:9' is given twice/);
  });
});
