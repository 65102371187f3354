import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  pairedSpeedRatio,
  renderMarkdown,
  summarizeTimes,
  targets,
  type ConfigRuns,
  type KernelsJson,
  type WorkerResult,
} from '../scripts/bench-report.js';
import { forwardFlops, makeTinyInputs, TINY_BENCH, workloadFlops, writeTorchInputs } from '../scripts/bench-tiny-inputs.js';
import { makeConfig } from '../src/model/transformer.js';

function result(train: number[], sample = [10], forward = [5]): WorkerResult {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return {
    medianMs: { train: med(train), sample: med(sample), forward: med(forward) },
    timesMs: { train, sample, forward },
    parity: { loss: 3.4, gradNorm: 0.9, promptLogitsSum: -278 },
  };
}

const runs = (id: string, rounds: (WorkerResult | undefined)[], missing?: string): ConfigRuns => ({ id, label: id, rounds, missing });

describe('bench report', () => {
  it('pairs speed ratios by round and skips rounds where either side is missing', () => {
    const reference = runs('torch', [result([100]), result([200]), undefined]);
    const candidate = runs('tfjs', [result([50]), result([400]), result([10])]);
    const r = pairedSpeedRatio(reference, candidate, 'train')!;
    expect(r.perRound).toEqual([2, 0.5]);
    expect(r.median).toBe(1.25);
    expect([r.min, r.max]).toEqual([0.5, 2]);
    expect(pairedSpeedRatio(runs('torch', []), candidate, 'train')).toBeUndefined();
  });

  it('summarises times as the pooled median with the range of round medians', () => {
    const s = summarizeTimes(runs('tfjs', [result([1, 2, 9]), undefined, result([3, 4, 5])]), 'train')!;
    expect(s.medianMs).toBe(3.5);
    expect(s.roundMediansMs[1]).toBeNaN();
    expect([s.minRoundMs, s.maxRoundMs]).toEqual([2, 4]);
  });

  it('judges fused kernels against 2x, the XNNPACK routing row against 1x, and leaves missing PyTorch undecided', () => {
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
    const kernels: KernelsJson = {
      backend: 'wasm',
      wasmSimdPeakGflops: 50,
      gemmTileL1Gflops: 40,
      parityMaxRelError: {},
      rows: [
        row('composed (stock kernels)', 'fused kernel', 1.9),
        row('composed (SIMD matMul)', 'fused kernel', 1.1), // not a stock comparison: no target
        row('stock (XNNPACK)', 'SIMD GEMM', 1.2),
        row('stock (scalar loop)', 'SIMD GEMM', 12),
      ],
    };
    const torch = runs('torch', [], 'python3 cannot import torch');
    const t = targets(kernels, [torch], runs('tfjs', [result([1])]));
    expect(t.map((x) => x.met)).toEqual([false, true, true, undefined, undefined]);
    expect(t[3].measured).toContain('python3 cannot import torch');
  });

  it('renders a report that says the PyTorch columns are missing and how to install them', () => {
    const md = renderMarkdown({
      when: 'now',
      command: 'npm run bench',
      machine: 'test',
      kernelsError: 'not run',
      references: [runs('torch', [], 'no torch; install it with `sudo scripts/setup-bench.sh`')],
      tfjs: [runs('wasm-kernels', [result([300, 310])]), runs('wasm-stock', [result([600, 620])])],
      primary: 'wasm-kernels',
      flops: { train: 4.6e9, sample: 1.4e9, forward: 1.5e9 },
      notes: ['a note'],
      elapsedS: 1,
    });
    expect(md).toContain('**PyTorch columns missing:** no torch; install it with `sudo scripts/setup-bench.sh`');
    expect(md).toContain('Not measured: not run.');
    expect(md).toMatch(/\| train \| 2\.00x \(2\.00-2\.00\) \|/); // kernels on vs off: 610 / 305
    expect(md).toContain('- a note');
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

  it('counts FLOPs from the layer shapes', () => {
    const config = makeConfig({ vocabSize: 2, maxSeqLen: 4, dModel: 2, nLayers: 1, nHeads: 1, dMlp: 4 });
    // per token: linear 2·(4·2·2 + 2·2·4) = 64, head 2·2·2 = 8, attention over 3 keys 2·2·3·2 = 24
    expect(forwardFlops(config, 5, 3)).toBe(5 * (64 + 8 + 24));
    const w = workloadFlops(makeTinyInputs().config);
    expect(w.train).toBe(3 * w.forward);
    expect(w.sample).toBeGreaterThan(0);
  });
});
