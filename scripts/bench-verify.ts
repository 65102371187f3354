/**
 * Time per `verifyAnswer` call (issue 14: median ≤ 5 ms, worst case under the call's time
 * limit), over the 1,560 golds of data/math and the grader table of test/verify.cases.ts.
 *
 *   npm run bench:verify                       # print the report
 *   npm run bench:verify -- --out build/bench/verify.json   # also write the numbers (atomically)
 *   npm run bench:verify -- --rounds 3         # repeat every call (default 1)
 *
 * Calls, per gold: the gold itself, `\boxed{gold}`, `The answer is $gold$.`, and a wrong
 * answer (the next gold of the file, boxed). Plus every table case. Each call is timed on
 * its own (performance.now); the first call of the process, which builds the
 * compute-engine, is reported apart. As a reference, the same script times the plain
 * normalised-string comparison on the same inputs, so the report also gives the verifier's
 * cost as a ratio to that.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { answerKey, goldAlternatives, normalizeAnswer, verifyAnswer, type GoldAnswer } from '../src/verify/index.js';
import { writeJsonAtomic } from '../src/util/fs.js';
import { ProgressBar } from '../src/util/progress.js';
import { GRADER_CASES } from '../test/verify.cases.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TIME_LIMIT_MS = 2000; // verifyAnswer's default budget

interface Call {
  set: string;
  prediction: string;
  gold: GoldAnswer;
}

function parseArgs(argv: string[]): { out: string | null; rounds: number } {
  let out: string | null = null;
  let rounds = 1;
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--out') out = argv[++k] ?? null;
    else if (argv[k] === '--rounds') rounds = Number(argv[++k]);
    else throw new Error(`bench-verify: unknown argument '${argv[k]}' (allowed: --out FILE, --rounds N)`);
  }
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bench-verify: --rounds must be a positive integer, got ${rounds}`);
  return { out, rounds };
}

function loadCalls(): Call[] {
  const calls: Call[] = [];
  const dir = path.join(ROOT, 'data/math');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const rows = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { answer: GoldAnswer }[];
    rows.forEach((row, k) => {
      const gold = row.answer;
      const first = goldAlternatives(gold)[0] ?? '';
      const other = goldAlternatives(rows[(k + 1) % rows.length].answer)[0] ?? '';
      calls.push(
        { set: 'golds: gold itself', prediction: first, gold },
        { set: 'golds: \\boxed{gold}', prediction: `\\boxed{${first}}`, gold },
        { set: 'golds: "The answer is $gold$."', prediction: `The answer is $${first}$.`, gold },
        { set: 'golds: another gold (wrong)', prediction: `\\boxed{${other}}`, gold },
      );
    });
  }
  for (const [family, prediction, gold] of GRADER_CASES) calls.push({ set: `table: ${family}`, prediction, gold });
  return calls;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

interface Stats {
  calls: number;
  medianMs: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

function stats(times: number[]): Stats {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    calls: times.length,
    medianMs: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1],
    meanMs: times.reduce((s, t) => s + t, 0) / Math.max(1, times.length),
  };
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3));
const short = (s: string) => (s.length > 70 ? `${s.slice(0, 67)}...` : s).replace(/\n/g, '\\n');

function main(): void {
  const { out, rounds } = parseArgs(process.argv.slice(2));
  const calls = loadCalls();

  const firstStart = performance.now();
  verifyAnswer('\\boxed{\\frac{1}{2}}', '0.5'); // builds the compute-engine
  const firstCallMs = performance.now() - firstStart;

  const bySet = new Map<string, number[]>();
  const all: number[] = [];
  const reference: number[] = [];
  const slowest: { ms: number; call: Call; reason: string }[] = [];
  let overLimit = 0;
  const bar = new ProgressBar({ label: 'verifyAnswer', total: calls.length * rounds, unit: 'call' });
  for (let round = 0; round < rounds; round++) {
    for (const call of calls) {
      const t0 = performance.now();
      const r = verifyAnswer(call.prediction, call.gold);
      const ms = performance.now() - t0;
      all.push(ms);
      if (ms > TIME_LIMIT_MS) overLimit++;
      const list = bySet.get(call.set) ?? [];
      list.push(ms);
      bySet.set(call.set, list);
      if (slowest.length < 5 || ms > slowest[slowest.length - 1].ms) {
        slowest.push({ ms, call, reason: r.reason });
        slowest.sort((a, b) => b.ms - a.ms);
        slowest.length = Math.min(slowest.length, 5);
      }
      // Reference: the plain normalised-string comparison of the same pair.
      const s0 = performance.now();
      const key = answerKey(normalizeAnswer(call.prediction));
      goldAlternatives(call.gold).some((g) => answerKey(normalizeAnswer(g)) === key);
      reference.push(performance.now() - s0);
      bar.tick();
    }
  }

  const total = stats(all);
  const ref = stats(reference);
  const lines: string[] = [];
  lines.push(`verifyAnswer timing: ${total.calls} calls (${calls.length} inputs x ${rounds} round${rounds > 1 ? 's' : ''}), Node ${process.version}`);
  lines.push(`first call of the process (builds the compute-engine): ${fmt(firstCallMs)} ms`);
  lines.push('');
  lines.push('| inputs | calls | median ms | p90 ms | p99 ms | max ms |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [set, times] of [...bySet.entries()].sort()) {
    const s = stats(times);
    lines.push(`| ${set} | ${s.calls} | ${fmt(s.medianMs)} | ${fmt(s.p90Ms)} | ${fmt(s.p99Ms)} | ${fmt(s.maxMs)} |`);
  }
  lines.push(`| **all** | ${total.calls} | ${fmt(total.medianMs)} | ${fmt(total.p90Ms)} | ${fmt(total.p99Ms)} | ${fmt(total.maxMs)} |`);
  lines.push('');
  lines.push(`reference (normalised-string comparison only): median ${fmt(ref.medianMs)} ms, mean ${fmt(ref.meanMs)} ms;`);
  lines.push(`verifyAnswer / reference: median ${(total.medianMs / ref.medianMs).toFixed(1)}x, mean ${(total.meanMs / ref.meanMs).toFixed(1)}x`);
  lines.push(`calls over the ${TIME_LIMIT_MS} ms time limit: ${overLimit}`);
  lines.push(`median <= 5 ms: ${total.medianMs <= 5 ? 'yes' : 'NO'}; worst case under the time limit: ${total.maxMs < TIME_LIMIT_MS ? 'yes' : 'NO'}`);
  lines.push('');
  lines.push('slowest calls:');
  for (const s of slowest) lines.push(`  ${fmt(s.ms)} ms  [${s.call.set}] ${short(s.call.prediction)}  vs  ${short(String(s.call.gold))}  -> ${s.reason}`);
  console.log(lines.join('\n'));

  if (out !== null) {
    writeJsonAtomic(path.resolve(out), {
      node: process.version,
      rounds,
      firstCallMs,
      all: total,
      reference: ref,
      overLimit,
      bySet: Object.fromEntries([...bySet.entries()].map(([k, v]) => [k, stats(v)])),
      slowest: slowest.map((s) => ({ ms: s.ms, set: s.call.set, prediction: short(s.call.prediction), gold: short(String(s.call.gold)), reason: s.reason })),
    });
  }
}

main();
