import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  achievedGflops,
  anchorRefusal,
  pairedSpeedRatio,
  renderMarkdown,
  rlParityDiff,
  summarizeTimes,
  targets,
  type Anchor,
  type BlasInfo,
  type ConfigRuns,
  type KernelsJson,
  type ReportInput,
  type WorkerResult,
} from '../scripts/bench-report.js';
import { forwardFlops, makeTinyInputs, TINY_BENCH, workloadFlops, writeTorchInputs } from '../scripts/bench-tiny-inputs.js';
import { trainerChunks } from '../scripts/bench-pool.js';
import { DEFAULT_TRAIN_CONFIG } from '../src/train/config.js';
import { makeConfig } from '../src/model/transformer.js';

function result(train: number[], sample = [10], forward = [5], rl?: number[]): WorkerResult {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return {
    medianMs: { train: med(train), sample: med(sample), forward: med(forward), ...(rl ? { rl: med(rl) } : {}) },
    timesMs: { train, sample, forward, ...(rl ? { rl } : {}) },
    parity: { loss: 3.4, gradNorm: 0.9, promptLogitsSum: -278 },
  };
}

const runs = (id: string, rounds: (WorkerResult | undefined)[], missing?: string, threads?: number): ConfigRuns => ({ id, label: id, rounds, missing, threads });

const OPENBLAS: BlasInfo = {
  kind: 'openblas',
  optimised: true,
  library: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
  buildSetting: 'generic',
  torchThreads: 2,
  blasThreads: 1,
  blasConfig: 'OpenBLAS 0.3.21 DYNAMIC_ARCH Zen',
};
const REFERENCE: BlasInfo = { kind: 'reference', optimised: false, library: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0', buildSetting: 'generic', torchThreads: 2 };
const GEMM = { n: 512, medianGflops: 21.5, bestGflops: 24 };
const withBlas = (r: WorkerResult, blas: BlasInfo): WorkerResult => ({ ...r, blas });

const kernelsWith = (rows: KernelsJson['rows'], peak = 50): KernelsJson => ({ backend: 'wasm', wasmSimdPeakGflops: peak, gemmTileL1Gflops: 40, parityMaxRelError: {}, rows });
const row = (baseline: string, candidate: string, speedup: number) => ({
  group: 'g',
  shape: 's',
  baseline,
  candidate,
  baselineMs: speedup,
  candidateMs: 1,
  speedup,
  baselinePeakMB: 1,
  candidatePeakMB: 1,
  memoryRatio: 1,
});

describe('bench report', () => {
  it('pairs speed ratios by round and skips rounds where either side is missing', () => {
    const reference = runs('torch', [result([100]), result([200]), undefined]);
    const candidate = runs('tfjs', [result([50]), result([400]), result([10])]);
    const r = pairedSpeedRatio(reference, candidate, 'train')!;
    expect(r.perRound).toEqual([2, 0.5]);
    expect(r.median).toBe(1.25);
    expect([r.min, r.max]).toEqual([0.5, 2]);
    expect(pairedSpeedRatio(runs('torch', []), candidate, 'train')).toBeUndefined();
    // A workload a round did not time (the RL step) is skipped, not NaN.
    expect(pairedSpeedRatio(reference, candidate, 'rl')).toBeUndefined();
  });

  it('summarises times as the pooled median with the range of round medians', () => {
    const s = summarizeTimes(runs('tfjs', [result([1, 2, 9]), undefined, result([3, 4, 5])]), 'train')!;
    expect(s.medianMs).toBe(3.5);
    expect(s.roundMediansMs[1]).toBeNaN();
    expect([s.minRoundMs, s.maxRoundMs]).toEqual([2, 4]);
  });

  it('judges fused kernels against 2x and the XNNPACK routing row against 1x', () => {
    const kernels = kernelsWith([
      row('composed (stock kernels)', 'fused kernel', 1.9),
      row('composed (SIMD matMul)', 'fused kernel', 1.1), // not a stock comparison: no target
      row('stock (XNNPACK)', 'SIMD GEMM', 1.2),
      row('stock (scalar loop)', 'SIMD GEMM', 12),
    ]);
    const t = targets(kernels, runs('torch', [], 'python3 cannot import torch'), [], {});
    expect(t.map((x) => x.met)).toEqual([false, true, true]);
  });

  it('judges the model targets (train 1.2x, sampling 2x, RL step 1.5x) on the median ratio vs PyTorch on an optimised BLAS', () => {
    // ratios per round: train 1.5, 1.1, 1.3 → median 1.3 (met); sample 1.9 (not met); rl 2 (met)
    const torch = runs('torch', [130, 110, 130].map((t) => withBlas(result([t], [19], [5], [200]), OPENBLAS)), undefined, 2);
    const tfjs = runs('tfjs', [100, 100, 100].map(() => result([100], [10], [5], [100])), undefined, 1);
    tfjs.rounds[0] = result([130 / 1.5], [10], [5], [100]);
    const anchor: Anchor = { blas: OPENBLAS, gemm: GEMM };
    const t = targets(undefined, torch, [tfjs], anchor).slice(1);
    expect(t.map((x) => x.name)).toEqual(['training step, tfjs', 'KV-cache sampling, tfjs', "trainer's whole RL step, tfjs"]);
    expect(t.map((x) => x.goal)).toEqual(['>= 1.2x torch', '>= 2x torch', '>= 1.5x torch']);
    expect(t.map((x) => x.met)).toEqual([true, false, true]);
    expect(t[0].measured).toBe('1.30x (1.10-1.50)');
  });

  it('refuses to judge model targets against an unoptimised BLAS, and says why', () => {
    // tfjs is "5x faster" here, as it was against Debian's reference BLAS: not a result.
    const torch = runs('torch', [withBlas(result([500], [50], [5], [500]), REFERENCE)], undefined, 2);
    const tfjs = runs('tfjs', [result([100], [10], [5], [100])]);
    const anchor: Anchor = { blas: REFERENCE, gemm: { n: 512, medianGflops: 1.2, bestGflops: 1.4 } };
    const why = anchorRefusal(anchor, torch)!;
    expect(why).toMatch(/unoptimised BLAS \(reference, \/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so\.3\.11\.0: 1\.2 GFLOP\/s on a 512² GEMM\)/);
    expect(why).toContain('setup-bench.sh');
    const t = targets(undefined, torch, [tfjs], anchor).slice(1);
    expect(t.map((x) => x.met)).toEqual([undefined, undefined, undefined]);
    expect(t[0].measured).toBe('5.00x (5.00-5.00)');
    expect(t[0].why).toBe(why);
    // One round on the reference BLAS is enough to refuse, whatever the probe said.
    const mixed = runs('torch', [withBlas(result([100]), OPENBLAS), withBlas(result([100]), REFERENCE)]);
    expect(anchorRefusal({ blas: OPENBLAS, gemm: GEMM }, mixed)).toMatch(/unoptimised/);
    expect(anchorRefusal({ blas: OPENBLAS, gemm: GEMM }, runs('torch', [withBlas(result([100]), OPENBLAS)]))).toBeUndefined();
    expect(anchorRefusal({}, runs('torch', [], 'no torch'))).toBe('PyTorch did not run: no torch');
  });

  it("gives the fraction of the wasm SIMD peak (× the configuration's threads) each step reaches", () => {
    const torch = runs('torch', [withBlas(result([100], [10], [5], [1000]), OPENBLAS)]);
    const work = (flops: number) => ({ traces: 64, thinkingTokens: 1, summaryRows: 1, summaryTokens: 1, minibatches: [] as [number, number][], flops });
    const one = runs('tfjs', [{ ...result([100], [10], [5], [500, 1500]), rl: { steps: [], work: [work(10e9), work(30e9)] } }], undefined, 1);
    // RL: Σ FLOPs / Σ time = 40 GFLOP / 2 s = 20 GFLOP/s
    expect(achievedGflops(one, 'rl', {})).toBeCloseTo(20, 9);
    // train: 5 GFLOP in 100 ms = 50 GFLOP/s
    expect(achievedGflops(one, 'train', { train: 5e9 })).toBeCloseTo(50, 9);
    const two = { ...one, id: 'two', label: 'two', threads: 2 };
    const t = targets(kernelsWith([], 100), torch, [one, two], { blas: OPENBLAS }, { train: 5e9 });
    const train = t.filter((x) => x.name.startsWith('training step'));
    expect(train.map((x) => x.peakFraction)).toEqual([0.5, 0.25]);
    const rl = t.filter((x) => x.name.startsWith("trainer's"));
    expect(rl[0].peakFraction).toBeCloseTo(0.2, 9);
  });

  it('compares the RL steps PyTorch replayed with train\'s by their largest relative difference', () => {
    const d = rlParityDiff(
      [{ loss: -0.002, gradNorm: 0.004 }, { loss: -0.003, gradNorm: 0.01 }],
      [{ loss: -0.002002, gradNorm: 0.004 }, { loss: -0.003, gradNorm: 0.0101 }],
    );
    expect(d.steps).toBe(2);
    expect(d.loss).toBeCloseTo(1e-3, 9);
    expect(d.gradNorm).toBeCloseTo(1e-2, 9);
  });

  const baseInput = (over: Partial<ReportInput>): ReportInput => ({
    when: 'now',
    command: 'npm run bench',
    machine: 'test',
    kernelsError: 'not run',
    references: [runs('torch', [], 'no torch; install it with `sudo bash scripts/setup-bench.sh`')],
    tfjs: [runs('wasm-kernels', [result([300, 310])]), runs('wasm-stock', [result([600, 620])])],
    candidates: ['wasm-kernels'],
    anchor: {},
    primary: 'wasm-kernels',
    flops: { train: 4.6e9, sample: 1.4e9, forward: 1.5e9 },
    notes: ['a note'],
    elapsedS: 1,
    ...over,
  });

  it('renders a report that says the PyTorch columns are missing and how to install them', () => {
    const md = renderMarkdown(baseInput({}));
    expect(md).toContain('**PyTorch columns missing:** no torch; install it with `sudo bash scripts/setup-bench.sh`');
    expect(md).toContain('Not measured: not run.');
    expect(md).toMatch(/\| train \| 2\.00x \(2\.00-2\.00\) \|/); // kernels on vs off: 610 / 305
    expect(md).toContain('- a note');
    expect(md).toContain('**Model targets not judged:** PyTorch did not run');
  });

  it('names the BLAS, its threads and the GEMM probe, and reports memory and RL parity', () => {
    const memory = (peak: WorkerResult['memory']) => peak;
    const torchRound: WorkerResult = {
      ...withBlas(result([100], [20], [5], [900]), OPENBLAS),
      memory: memory({ rssAtStartMB: 230, peak: { train: { peakRssMB: 300 }, rl: { peakRssMB: 405 } } }),
      rlParity: { steps: [{ loss: -0.0020563, gradNorm: 0.0032764 }], rolloutLogpMaxDiff: 1.4e-5, rolloutTokens: 17606 },
    };
    const tfjsRound: WorkerResult = {
      ...result([80], [10], [5], [600]),
      memory: memory({ rssAtStartMB: 150, peak: { train: { peakTensorMB: 42.5, peakRssMB: 480 } } }),
      rl: { steps: [{ loss: -0.0020563107, gradNorm: 0.0032764135 }], work: [] },
    };
    const md = renderMarkdown(
      baseInput({
        references: [runs('torch', [torchRound], undefined, 2)],
        tfjs: [runs('wasm-kernels', [tfjsRound], undefined, 1)],
        anchor: { blas: OPENBLAS, gemm: GEMM, env: { OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '1' } },
      }),
    );
    expect(md).toContain('BLAS **openblas**');
    expect(md).toContain('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3');
    expect(md).toContain('2 torch threads, 1 BLAS thread (OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1)');
    expect(md).toContain('512² float32 GEMM probe 21.5 GFLOP/s');
    expect(md).not.toContain('Model targets not judged');
    expect(md).toMatch(/\| training step, wasm-kernels \| >= 1\.2x torch \| 1\.25x \(1\.25-1\.25\) \|  \| yes \|/);
    expect(md).toMatch(/\| trainer's whole RL step, wasm-kernels \| >= 1\.5x torch \| 1\.50x \(1\.50-1\.50\) \|  \| yes \|/);
    expect(md).toMatch(/\| KV-cache sampling, wasm-kernels \| >= 2x torch \| 2\.00x \(2\.00-2\.00\) \|  \| yes \|/);
    expect(md).toMatch(/\| train \| 300 \| 43 \/ 480 \|/);
    expect(md).toMatch(/\| rl \| 405 \| n\/a \|/);
    expect(md).toMatch(/\| RSS before the workloads \| 230 \| 150 \|/);
    expect(md).toMatch(/RL step: over 1 steps .* at most 5\.2e-6 and 4\.1e-6 \(relative\); .* 17606 replayed tokens .* at most 1\.4e-5/);
  });

  it('judges the targets on the every-core configuration only, says "no" with the range when one is missed, and compares it with one thread', () => {
    // PyTorch 2 threads: train 130/110/130, sampling 19, RL 300 per round.
    const torch = runs('torch', [130, 110, 130].map((t) => withBlas(result([t], [19], [5], [300]), OPENBLAS)), undefined, 2);
    // One thread: slower than PyTorch everywhere; every core: train 1.3x (1.1-1.3), sampling 1.9x, RL 1.5x.
    const one = runs('wasm-kernels', [0, 1, 2].map(() => result([200], [30], [5], [400])), undefined, 1);
    const all = runs('wasm-kernels-all', [0, 1, 2].map(() => ({ ...result([100], [10], [5], [200]), medianMs: { train: 100, sample: 10, rl: 200 }, timesMs: { train: [100], sample: [10], rl: [200] } })), undefined, 2);
    const md = renderMarkdown(
      baseInput({
        references: [torch],
        tfjs: [one, all],
        candidates: ['wasm-kernels-all'],
        everyCore: { one: 'wasm-kernels', all: 'wasm-kernels-all' },
        anchor: { blas: OPENBLAS, gemm: GEMM },
      }),
    );
    const targetRows = md.split('\n').filter((l) => /^\| (training step|KV-cache sampling|trainer's whole RL step), .* \| >= [0-9.]+x torch \|/.test(l));
    expect(targetRows).toHaveLength(3);
    expect(targetRows.every((l) => l.includes(', wasm-kernels-all |'))).toBe(true);
    expect(targetRows[0]).toMatch(/\| >= 1\.2x torch \| 1\.30x \(1\.10-1\.30\) \| .*\| yes \|$/);
    expect(targetRows[1]).toMatch(/\| >= 2x torch \| 1\.90x \(1\.90-1\.90\) \| .*\| \*\*no\*\* \|$/);
    expect(targetRows[2]).toMatch(/\| >= 1\.5x torch \| 1\.50x \(1\.50-1\.50\) \| .*\| yes \|$/);
    expect(md).toContain('judged on wasm-kernels-all; the other configurations are in the tables below, for reference.');
    // The one-thread configuration keeps its ratio rows vs PyTorch, without a target.
    expect(md).toMatch(/\| train \| wasm-kernels \| \*\*0\.65x \(0\.55-0\.65\)\*\* \|/);
    // Every core vs one thread, paired by round; the forward the pool does not time has no row.
    expect(md).toMatch(/Every core vs one thread \(wasm-kernels time \/ wasm-kernels-all time/);
    expect(md).toMatch(/\| sample \| 3\.00x \(3\.00-3\.00\) \|/);
    expect(md).toMatch(/\| rl \| 2\.00x \(2\.00-2\.00\) \|/);
    expect(md).not.toMatch(/\| forward \| [0-9.]+x \([0-9.-]+\) \|$/m);
  });

  it('marks a reference-BLAS anchor in the report and judges no model target', () => {
    const md = renderMarkdown(
      baseInput({
        references: [runs('torch', [withBlas(result([1000], [100]), REFERENCE)], undefined, 2)],
        anchor: { blas: REFERENCE, gemm: { n: 512, medianGflops: 1.2, bestGflops: 1.4 } },
      }),
    );
    expect(md).toContain('BLAS **reference** (NOT optimised)');
    expect(md).toMatch(/\*\*Model targets not judged:\*\* PyTorch ran on an unoptimised BLAS \(reference/);
    expect(md).toMatch(/\| training step, wasm-kernels \| >= 1\.2x torch \| [0-9.]+x \([0-9.-]+\) \|  \| not judged \|/);
    expect(md).not.toMatch(/\| (yes|\*\*no\*\*) \|$/m);
  });
});

describe('tiny-policy workload', () => {
  it('builds the 64 x (16 + 80) batch and writes it for PyTorch', () => {
    const inputs = makeTinyInputs();
    const T = TINY_BENCH.promptLength + TINY_BENCH.newTokens;
    expect([inputs.batch.rows, inputs.batch.length]).toEqual([TINY_BENCH.rows, T]);
    const scored = inputs.lossWeights.filter((w) => w > 0);
    expect(scored.length).toBe(TINY_BENCH.rows * TINY_BENCH.newTokens);
    expect(scored.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(inputs.prompts.every((p) => p.length === TINY_BENCH.promptLength && p[0] === 1)).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), 'bench-inputs-'));
    writeTorchInputs(dir, inputs);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const count = (manifest.params as [string, number[]][]).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
    expect(count).toBe(110368);
    expect(statSync(join(dir, 'params.f32')).size).toBe(4 * count);
    expect(statSync(join(dir, 'mask.f32')).size).toBe(4 * TINY_BENCH.rows * T * T);
    const ids = new Int32Array(Uint8Array.from(readFileSync(join(dir, 'ids.i32'))).buffer);
    expect(Array.from(ids.subarray(0, T))).toEqual(Array.from(inputs.batch.ids.subarray(0, T)));
  });

  it("splits the batch into the trainer's gradient chunks: every row once, its 80 targets, the benchmark's loss weights", () => {
    const inputs = makeTinyInputs();
    const chunks = trainerChunks(inputs);
    expect(chunks).toHaveLength(DEFAULT_TRAIN_CONFIG.gradientChunks);
    const traces = chunks.flatMap((c) => c.traces);
    expect(traces).toHaveLength(TINY_BENCH.rows);
    const T = inputs.batch.length;
    const byPrompt = new Map(inputs.prompts.map((p, r) => [p.slice(1).join(','), r]));
    for (const t of traces) {
      const r = byPrompt.get(t.prompt.join(','))!;
      expect(t.thinking).toEqual(Array.from(inputs.batch.targets.subarray(r * T + TINY_BENCH.promptLength - 1, (r + 1) * T - 1)));
    }
    expect(new Set(traces.map((t) => byPrompt.get(t.prompt.join(',')))).size).toBe(TINY_BENCH.rows);
    const weight = chunks.flatMap((c) => c.targets).reduce((n, t) => n + t.thinkingWeight.reduce((a, b) => a + b, 0), 0);
    expect(weight).toBeCloseTo(1, 5);
    expect(trainerChunks(inputs, 1)).toHaveLength(1);
  });

  it('counts FLOPs from the layer shapes', () => {
    const config = makeConfig({ vocabSize: 2, maxSeqLen: 4, dModel: 2, nLayers: 1, nHeads: 1, dMlp: 4 });
    // per token: linear 2·(4·2·2 + 2·2·4) = 64, head 2·2·2 = 8, attention over 3 keys 2·2·3·2 = 24
    expect(forwardFlops(config, 5, 3)).toBe(5 * (64 + 8 + 24));
    const w = workloadFlops(makeTinyInputs().config);
    expect(w.train).toBe(3 * w.forward);
    expect(w.sample).toBeGreaterThan(0);
  });
});
