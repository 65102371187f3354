/**
 * Pure summarising and formatting for `npm run bench` (scripts/bench.ts): per-round medians,
 * paired ratios with their range across rounds, target checks, and the markdown report.
 * No I/O here, so it can be tested on plain data.
 */

/** Workloads timed on the tiny policy. */
export const WORKLOADS = ['train', 'sample', 'forward'] as const;
export type Workload = (typeof WORKLOADS)[number];

export const WORKLOAD_LABELS: Record<Workload, string> = {
  train: 'training step (forward + token log-probs + loss + backward + Adam)',
  sample: 'KV-cache sampling, 80 tokens x 64 rows',
  forward: 'training forward to token log-probs, no gradient',
};

/** What one worker process (tfjs or PyTorch) reports. */
export interface WorkerResult {
  medianMs: Record<Workload, number>;
  timesMs: Record<Workload, number[]>;
  parity: { loss: number; gradNorm: number; promptLogitsSum: number };
  [key: string]: unknown;
}

/** One benchmarked configuration: its results, one per round (undefined where it did not run). */
export interface ConfigRuns {
  id: string;
  label: string;
  rounds: (WorkerResult | undefined)[];
  /** Why the configuration is absent (e.g. PyTorch not installed, no hardware GPU adapter). */
  missing?: string;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface TimeSummary {
  /** Median over every timed repeat of every round. */
  medianMs: number;
  /** Per-round medians, in round order (NaN where the round has no result). */
  roundMediansMs: number[];
  minRoundMs: number;
  maxRoundMs: number;
}

/** Times of one workload of one configuration across rounds. */
export function summarizeTimes(runs: ConfigRuns, w: Workload): TimeSummary | undefined {
  const present = runs.rounds.filter((r): r is WorkerResult => r !== undefined);
  if (present.length === 0) return undefined;
  const roundMediansMs = runs.rounds.map((r) => (r ? r.medianMs[w] : NaN));
  const finite = roundMediansMs.filter(Number.isFinite);
  return {
    medianMs: median(present.flatMap((r) => r.timesMs[w])),
    roundMediansMs,
    minRoundMs: Math.min(...finite),
    maxRoundMs: Math.max(...finite),
  };
}

export interface Ratio {
  /** Median of the per-round ratios. */
  median: number;
  min: number;
  max: number;
  perRound: number[];
}

/**
 * Speed ratio `reference / candidate` of two configurations, paired by round (both ran back to
 * back in the same round, so they saw similar load): > 1 means the candidate is faster.
 */
export function pairedSpeedRatio(reference: ConfigRuns, candidate: ConfigRuns, w: Workload): Ratio | undefined {
  const perRound: number[] = [];
  const n = Math.min(reference.rounds.length, candidate.rounds.length);
  for (let i = 0; i < n; i++) {
    const a = reference.rounds[i];
    const b = candidate.rounds[i];
    if (a && b) perRound.push(a.medianMs[w] / b.medianMs[w]);
  }
  if (perRound.length === 0) return undefined;
  return { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), perRound };
}

/** A row of scripts/bench-kernels.ts's kernels.json. */
export interface KernelRow {
  group: string;
  shape: string;
  baseline: string;
  candidate: string;
  baselineMs: number;
  candidateMs: number;
  speedup: number;
  baselinePeakMB: number;
  candidatePeakMB: number;
  memoryRatio: number;
  gflops?: { baseline: number; candidate: number };
  peakGflopsSameRun?: number;
}

export interface KernelsJson {
  backend: string;
  wasmSimdPeakGflops: number;
  gemmTileL1Gflops: number;
  rows: KernelRow[];
  parityMaxRelError: Record<string, number>;
}

/** Rows that compare a kernel with the stock ops it replaces (the ≥ 2x target applies to these). */
export function isStockComparison(row: KernelRow): boolean {
  return /^(composed \(stock|stock)/.test(row.baseline) && !row.group.endsWith('SIMD matMul alone');
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean | undefined;
}

const x2 = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 0) : 'n/a');
const range = (r: Ratio) => `${x2(r.median)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})`;

/**
 * Kernel targets (≥ 2x the stock composed ops) and model targets (≥ 1.0x PyTorch CPU), the
 * latter once per PyTorch configuration in `references`.
 */
export function targets(kernels: KernelsJson | undefined, references: ConfigRuns[], model: ConfigRuns): Target[] {
  const out: Target[] = [];
  if (kernels) {
    for (const row of kernels.rows.filter(isStockComparison)) {
      // The plain 2-D product already runs on XNNPACK: the SIMD GEMM replaces no composed op there,
      // it is only a routing choice, so it must merely not be slower.
      const routing = row.baseline.includes('XNNPACK');
      out.push({
        name: `${row.group} (${kernels.backend}): ${row.candidate} vs ${row.baseline}`,
        goal: routing ? '>= 1x (routing choice, not a fused kernel)' : '>= 2x the stock ops it replaces',
        measured: x2(row.speedup),
        met: row.speedup >= (routing ? 1 : 2),
      });
    }
  } else {
    out.push({ name: 'fused kernels', goal: '>= 2x stock composed ops', measured: 'not measured', met: undefined });
  }
  for (const w of ['train', 'sample'] as const) {
    for (const torch of references) {
      const r = pairedSpeedRatio(torch, model, w);
      out.push({
        name: `${w === 'train' ? 'training step' : 'sampling'} throughput, ${model.label}`,
        goal: `>= 1.0x ${torch.label}`,
        measured: r ? range(r) : `not measured (${torch.missing ?? model.missing ?? 'no result'})`,
        met: r ? r.median >= 1 : undefined,
      });
    }
  }
  return out;
}

/** Kernel time by kernel name for one workload (scripts/bench-tiny-tfjs.ts --profile). */
export interface WorkProfile {
  wallMs: number;
  kernelMs: number;
  kernels: number;
  top: [string, number, number][];
}

export interface ReportInput {
  when: string;
  command: string;
  machine: string;
  kernels?: KernelsJson;
  kernelsError?: string;
  /** The PyTorch configurations (the first is the brief's: 2 threads). */
  references: ConfigRuns[];
  tfjs: ConfigRuns[];
  /** One profiled repeat of the primary configuration, per workload. */
  profile?: Record<string, WorkProfile>;
  /** Configuration the model targets are judged on (the model as src/model exports it, kernels registered). */
  primary: string;
  flops: Record<Workload, number>;
  notes: string[];
  elapsedS: number;
}

/** Relative difference |a − b| / max(|b|, 1e-12). */
export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
}

/** The markdown report. */
export function renderMarkdown(input: ReportInput): string {
  const { kernels, references, tfjs, flops } = input;
  const torch = references[0];
  const primary = tfjs.find((c) => c.id === input.primary) ?? tfjs[0];
  const rounds = Math.max(...references.map((c) => c.rounds.length), ...tfjs.map((c) => c.rounds.length));
  const lines: string[] = [
    '# Benchmark: custom kernels and the tiny policy vs PyTorch',
    '',
    `\`${input.command}\` — ${input.when}, ${input.machine}, ${input.elapsedS.toFixed(0)} s in all.`,
    'Every figure is a ratio of two timings taken in the same run; ranges are over rounds run back to back',
    `(${rounds} rounds; each round runs every configuration in a fresh process, order rotated). Absolute times move with machine load.`,
    '',
    '## Targets',
    '',
    '| target | goal | measured: median (range over rounds) | met |',
    '| --- | --- | --- | --- |',
    ...targets(kernels, references, primary).map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === undefined ? 'n/a' : t.met ? 'yes' : '**no**'} |`),
    '',
    '## (a) Kernels vs the composed ops they replace',
    '',
  ];
  if (kernels) {
    lines.push(
      `Backend ${kernels.backend} (from kernels.json, scripts/bench-kernels.ts). wasm SIMD peak probe: ${kernels.wasmSimdPeakGflops.toFixed(1)} GFLOP/s (one thread).`,
      'Speed-up = baseline time / kernel time; memory ratio = baseline peak tensor bytes / kernel peak tensor bytes.',
      '',
      '| op | baseline | candidate | speed-up | memory ratio | baseline → candidate ms | peak MB |',
      '| --- | --- | --- | ---: | ---: | --- | --- |',
      ...kernels.rows.map(
        (r) =>
          `| ${r.group} | ${r.baseline} | ${r.candidate} | **${x2(r.speedup)}** | ${x2(r.memoryRatio)} | ${ms(r.baselineMs)} → ${ms(r.candidateMs)} | ${r.baselinePeakMB.toFixed(2)} → ${r.candidatePeakMB.toFixed(2)} |`,
      ),
      '',
      'WebGPU: no custom kernels are registered for `webgpu`; `fusedAttention`/`fusedTokenLogProbs` run the composed ops there (ratio 1 by construction).',
      '',
    );
  } else {
    lines.push(`Not measured: ${input.kernelsError ?? 'kernels.json missing'}.`, '');
  }

  lines.push('## (b) The tiny policy vs PyTorch (same model, weights, batch and loss)', '');
  lines.push(
    'B = 64 sequences of 16 prompt + 80 new tokens; d_model 64, 2 layers, 4 heads, MLP 256, vocab 32 (src/model as exported:',
    '`packedLogProbs` for the training forward, `generate` for sampling; Adam lr 1e-3 on both sides).',
    '',
  );
  if (torch.missing) lines.push(`**PyTorch columns missing:** ${torch.missing}`, '');
  const configs = [...references.filter((c) => !c.missing), ...tfjs];
  lines.push('Speed vs PyTorch (PyTorch time / tfjs time, median of per-round ratios, range):', '');
  lines.push(
    `| workload | configuration | ${references.map((c) => `vs ${c.label}`).join(' | ')} |`,
    `| --- | --- | ${references.map(() => '---:').join(' | ')} |`,
  );
  for (const w of WORKLOADS) {
    for (const c of tfjs) {
      const ratios = references.map((ref) => {
        const r = pairedSpeedRatio(ref, c, w);
        return r ? `**${range(r)}**` : 'n/a';
      });
      lines.push(`| ${w} | ${c.label} | ${ratios.join(' | ')} |`);
    }
  }
  lines.push('', 'Times (ms): median over all repeats (range of per-round medians):', '');
  lines.push(`| workload | ${configs.map((c) => c.label).join(' | ')} |`, `| --- | ${configs.map(() => '---:').join(' | ')} |`);
  for (const w of WORKLOADS) {
    const cells = configs.map((c) => {
      const s = summarizeTimes(c, w);
      return s ? `${ms(s.medianMs)} (${ms(s.minRoundMs)}-${ms(s.maxRoundMs)})` : 'n/a';
    });
    lines.push(`| ${WORKLOAD_LABELS[w]} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  const stock = tfjs.find((c) => c.id !== primary.id && c.id.startsWith('wasm'));
  if (stock) {
    lines.push(`Kernels on vs off (${stock.label} time / ${primary.label} time, paired by round):`, '');
    lines.push('| workload | speed-up |', '| --- | ---: |');
    for (const w of WORKLOADS) {
      const r = pairedSpeedRatio(stock, primary, w);
      lines.push(`| ${w} | ${r ? range(r) : 'n/a'} |`);
    }
    lines.push('');
  }

  lines.push('### Achieved GFLOP/s', '');
  lines.push(
    'FLOPs counted analytically (2 per multiply-add; linear layers and head, attention QKᵀ and P·V dense; backward = 2x forward):',
    `train ${(flops.train / 1e9).toFixed(2)} GFLOP, sampling ${(flops.sample / 1e9).toFixed(3)} GFLOP, forward ${(flops.forward / 1e9).toFixed(2)} GFLOP.`,
    kernels ? `Reference: the wasm SIMD peak probe, ${kernels.wasmSimdPeakGflops.toFixed(1)} GFLOP/s on one thread (tfjs-wasm is single-threaded in Node).` : '',
    '',
    `| workload | ${configs.map((c) => c.label).join(' | ')} |`,
    `| --- | ${configs.map(() => '---:').join(' | ')} |`,
  );
  for (const w of WORKLOADS) {
    const cells = configs.map((c) => {
      const s = summarizeTimes(c, w);
      if (!s) return 'n/a';
      const g = flops[w] / s.medianMs / 1e6;
      const pct = kernels && c.id.startsWith('wasm') ? ` (${((100 * g) / kernels.wasmSimdPeakGflops).toFixed(0)}% of peak)` : '';
      return `${g.toFixed(1)}${pct}`;
    });
    lines.push(`| ${w} | ${cells.join(' | ')} |`);
  }
  lines.push('');

  if (input.profile) {
    lines.push(`### Where the time goes (${primary.label}, one profiled repeat)`, '');
    lines.push(
      'Kernel ms = time the backend reports inside kernels (tf.profile); wall − kernel ≈ JS dispatch, tensor bookkeeping and reads.',
      '',
      '| workload | wall ms | kernel ms | kernel calls | top kernels (ms / calls) |',
      '| --- | ---: | ---: | ---: | --- |',
    );
    for (const [w, p] of Object.entries(input.profile)) {
      const top = p.top.slice(0, 6).map(([name, t, n]) => `${name} ${t.toFixed(0)}/${n}`).join(', ');
      lines.push(`| ${w} | ${p.wallMs.toFixed(0)} | ${p.kernelMs.toFixed(0)} | ${p.kernels} | ${top} |`);
    }
    lines.push('');
  }

  lines.push('### Same math check (initial weights, not timed)', '');
  lines.push('| configuration | loss | rel. diff vs PyTorch | gradient norm | rel. diff | prompt logits sum | rel. diff |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const torchParity = references.map((c) => c.rounds.find((r) => r)?.parity).find((p) => p);
  for (const c of configs) {
    const p = c.rounds.find((r) => r)?.parity;
    if (!p) continue;
    const d = (k: keyof WorkerResult['parity']) => (torchParity && !references.includes(c) ? relDiff(p[k], torchParity[k]).toExponential(1) : '');
    lines.push(`| ${c.label} | ${p.loss.toFixed(6)} | ${d('loss')} | ${p.gradNorm.toFixed(6)} | ${d('gradNorm')} | ${p.promptLogitsSum.toFixed(3)} | ${d('promptLogitsSum')} |`);
  }
  lines.push('');
  if (input.notes.length > 0) lines.push('## Notes', '', ...input.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}
