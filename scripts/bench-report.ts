/**
 * Pure summarising and formatting for `npm run bench` (scripts/bench.ts): per-round medians,
 * paired ratios with their range across rounds, target checks (refused against an unoptimised
 * BLAS), memory, and the markdown report. No I/O here, so it can be tested on plain data.
 */
import type { RlStepWork } from './bench-rl.js';

/** Workloads timed on the tiny policy. */
export const WORKLOADS = ['train', 'sample', 'rl', 'forward'] as const;
export type Workload = (typeof WORKLOADS)[number];

export const WORKLOAD_LABELS: Record<Workload, string> = {
  train: 'training step (forward + token log-probs + loss + backward + Adam)',
  sample: 'KV-cache sampling, 80 tokens x 64 rows',
  rl: "trainer's RL step (rollouts with forced summaries + 2 updates, as `train` runs it)",
  forward: 'training forward to token log-probs, no gradient',
};

/** The model targets of issue 15, judged against PyTorch on 2 threads with an optimised BLAS. */
export const MODEL_TARGETS: { workload: Workload; name: string; goal: number }[] = [
  { workload: 'train', name: 'training step', goal: 1.2 },
  { workload: 'sample', name: 'KV-cache sampling', goal: 2 },
  { workload: 'rl', name: "trainer's whole RL step", goal: 1.5 },
];

/** The BLAS PyTorch ran on, as scripts/bench_torch.py reports it. */
export interface BlasInfo {
  /** 'openblas', 'mkl', 'blis', 'atlas', 'reference' or 'unknown'. */
  kind: string;
  optimised: boolean;
  /** The file torch's sgemm_ comes from. */
  library: string | null;
  buildSetting: string;
  torchThreads: number;
  blasThreads?: number;
  blasConfig?: string;
  /** Why it does not count as optimised. */
  why?: string;
}

/** Peak memory of one workload (MB): tensor bytes (tfjs only) and process RSS. */
export interface WorkloadMemory {
  peakTensorMB?: number;
  peakRssMB: number | null;
}

/** What one worker process (tfjs or PyTorch) reports. */
export interface WorkerResult {
  medianMs: Partial<Record<Workload, number>>;
  timesMs: Partial<Record<Workload, number[]>>;
  parity: { loss: number; gradNorm: number; promptLogitsSum: number };
  /** PyTorch workers: the BLAS they ran on. */
  blas?: BlasInfo;
  /** tfjs workers with --rl: `train`'s loss and gradient norm per step, and each timed step's work. */
  rl?: { steps: StepParity[]; work: RlStepWork[] };
  /** PyTorch workers with --rl: the same per step, and how far its replayed log-probs are from tfjs's. */
  rlParity?: { steps: StepParity[]; rolloutLogpMaxDiff: number; rolloutTokens: number };
  memory?: { rssAtStartMB: number | null; peak: Partial<Record<Workload, WorkloadMemory>> };
  [key: string]: unknown;
}

export interface StepParity {
  loss: number;
  gradNorm: number;
}

/** Work of one RL step: one definition, where it is measured (scripts/bench-rl.ts). */
export type { RlStepWork };

/** One benchmarked configuration: its results, one per round (undefined where it did not run). */
export interface ConfigRuns {
  id: string;
  label: string;
  rounds: (WorkerResult | undefined)[];
  /** Threads it computes on (the SIMD peak it is measured against is the one-thread peak × this). */
  threads?: number;
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

const has = (r: WorkerResult | undefined, w: Workload): r is WorkerResult => r !== undefined && Number.isFinite(r.medianMs[w]);

/** Times of one workload of one configuration across rounds. */
export function summarizeTimes(runs: ConfigRuns, w: Workload): TimeSummary | undefined {
  const present = runs.rounds.filter((r): r is WorkerResult => has(r, w));
  if (present.length === 0) return undefined;
  const roundMediansMs = runs.rounds.map((r) => (has(r, w) ? r.medianMs[w]! : NaN));
  const finite = roundMediansMs.filter(Number.isFinite);
  return {
    medianMs: median(present.flatMap((r) => r.timesMs[w] ?? [])),
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
    if (has(a, w) && has(b, w)) perRound.push(a.medianMs[w]! / b.medianMs[w]!);
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

/** The PyTorch anchor: the BLAS its runs reported and the GEMM probe (scripts/bench_torch.py --probe). */
export interface Anchor {
  /** The BLAS each PyTorch run reported (first run of each configuration); undefined without PyTorch. */
  blas?: BlasInfo;
  gemm?: { n: number; medianGflops: number; bestGflops: number };
  /** Environment the reference ran under (thread settings). */
  env?: Record<string, string>;
}

/**
 * Why model targets cannot be judged against this anchor, or undefined when they can: PyTorch
 * must have run (every round of the reference) on an optimised BLAS.
 */
export function anchorRefusal(anchor: Anchor, reference: ConfigRuns): string | undefined {
  if (reference.missing) return `PyTorch did not run: ${reference.missing}`;
  const bad = reference.rounds.find((r) => r?.blas && !r.blas.optimised)?.blas;
  const blas = bad ?? anchor.blas;
  if (!blas) return 'the PyTorch runs did not report their BLAS';
  if (!blas.optimised) {
    return (
      `PyTorch ran on an unoptimised BLAS (${blas.kind}${blas.library ? `, ${blas.library}` : ''}` +
      `${anchor.gemm ? `: ${anchor.gemm.medianGflops.toFixed(1)} GFLOP/s on a ${anchor.gemm.n}² GEMM` : ''}), ` +
      'which makes it several times slower than it is: a ratio against it says nothing. Run `sudo bash scripts/setup-bench.sh`'
    );
  }
  return undefined;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  /** true / false; undefined = not judged (see `why`). */
  met: boolean | undefined;
  why?: string;
  /** Fraction of the measured wasm SIMD peak (× the configuration's threads) the candidate reaches. */
  peakFraction?: number;
}

const x2 = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 0) : 'n/a');
const mb = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(v < 10 ? 1 : 0));
const range = (r: Ratio) => `${x2(r.median)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})`;
const pct = (f: number | undefined) => (f === undefined || !Number.isFinite(f) ? 'n/a' : `${(100 * f).toFixed(0)}%`);

/** FLOPs of one repeat of each workload (RL: per step, from the steps' own work). */
export type WorkloadFlops = Partial<Record<Workload, number>>;

/**
 * Achieved GFLOP/s of a configuration's workload: FLOPs / median time. For the RL step, whose
 * steps differ, Σ FLOPs / Σ time over the timed steps of every round that reports its work (or
 * the replay's FLOPs per step, for PyTorch, which replays the same steps).
 */
export function achievedGflops(c: ConfigRuns, w: Workload, flops: WorkloadFlops): number | undefined {
  if (w === 'rl') {
    let f = 0;
    let t = 0;
    for (const r of c.rounds) {
      const times = r?.timesMs.rl;
      if (!times || times.length === 0) continue;
      const work = r?.rl?.work;
      if (work && work.length === times.length) f += work.reduce((n, x) => n + x.flops, 0);
      else if (flops.rl !== undefined) f += flops.rl * times.length;
      else continue;
      t += times.reduce((a, b) => a + b, 0);
    }
    return t > 0 ? f / t / 1e6 : undefined;
  }
  const s = summarizeTimes(c, w);
  return s && flops[w] !== undefined ? flops[w]! / s.medianMs / 1e6 : undefined;
}

/**
 * Kernel targets (≥ 2x the stock composed ops) and the model targets of MODEL_TARGETS for each
 * candidate configuration against `reference` (PyTorch, 2 threads). A model target is judged on
 * the median of the per-round ratios; it is left undecided, with the reason, when the anchor is
 * refused (`anchorRefusal`) or a side did not run.
 */
export function targets(
  kernels: KernelsJson | undefined,
  reference: ConfigRuns,
  candidates: ConfigRuns[],
  anchor: Anchor,
  flops: WorkloadFlops = {},
): Target[] {
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
  const refusal = anchorRefusal(anchor, reference);
  for (const t of MODEL_TARGETS) {
    for (const c of candidates) {
      const r = pairedSpeedRatio(reference, c, t.workload);
      const g = achievedGflops(c, t.workload, flops);
      const peak = kernels ? kernels.wasmSimdPeakGflops * (c.threads ?? 1) : undefined;
      const why = refusal ?? (r ? undefined : `not measured (${c.missing ?? reference.missing ?? 'no result'})`);
      out.push({
        name: `${t.name}, ${c.label}`,
        goal: `>= ${t.goal}x ${reference.label}`,
        measured: r ? range(r) : 'not measured',
        met: why ? undefined : r!.median >= t.goal,
        why,
        peakFraction: g !== undefined && peak ? g / peak : undefined,
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
  /** The PyTorch configurations (the first is the targets' reference: 2 threads). */
  references: ConfigRuns[];
  tfjs: ConfigRuns[];
  /** Configurations the model targets are judged for (ids of `tfjs`). */
  candidates: string[];
  anchor: Anchor;
  /** One profiled repeat of the primary configuration, per workload. */
  profile?: Record<string, WorkProfile>;
  /** Configuration the kernels-on/off comparison and the profile are about. */
  primary: string;
  /** The one-thread and the every-core configuration of the same backend (ids of `tfjs`), compared in their own table. */
  everyCore?: { one: string; all: string };
  flops: WorkloadFlops;
  notes: string[];
  elapsedS: number;
}

/** Relative difference |a − b| / max(|b|, 1e-12). */
export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
}

/** Largest relative difference of loss and gradient norm over the steps both sides report. */
export function rlParityDiff(tfjs: StepParity[], torch: StepParity[]): { loss: number; gradNorm: number; steps: number } {
  const n = Math.min(tfjs.length, torch.length);
  let loss = 0;
  let gradNorm = 0;
  for (let i = 0; i < n; i++) {
    loss = Math.max(loss, relDiff(torch[i].loss, tfjs[i].loss));
    gradNorm = Math.max(gradNorm, relDiff(torch[i].gradNorm, tfjs[i].gradNorm));
  }
  return { loss, gradNorm, steps: n };
}

/** The anchor's one-line description. */
export function describeAnchor(anchor: Anchor, reference: ConfigRuns): string {
  const b = anchor.blas;
  if (!b) return `PyTorch: ${reference.missing ?? 'no BLAS reported'}`;
  const threads = `${b.torchThreads} torch thread${b.torchThreads === 1 ? '' : 's'}` + (b.blasThreads !== undefined ? `, ${b.blasThreads} BLAS thread${b.blasThreads === 1 ? '' : 's'}` : '');
  const env = anchor.env ? ` (${Object.entries(anchor.env).map(([k, v]) => `${k}=${v}`).join(' ')})` : '';
  const gemm = anchor.gemm ? `; ${anchor.gemm.n}² float32 GEMM probe ${anchor.gemm.medianGflops.toFixed(1)} GFLOP/s (best ${anchor.gemm.bestGflops.toFixed(1)})` : '';
  return `${reference.label}: BLAS **${b.kind}**${b.optimised ? '' : ' (NOT optimised)'} — sgemm from \`${b.library ?? `linked into torch (BLAS_INFO=${b.buildSetting})`}\`${b.blasConfig ? `, ${b.blasConfig}` : ''}; ${threads}${env}${gemm}.`;
}

/** The markdown report. */
export function renderMarkdown(input: ReportInput): string {
  const { kernels, references, tfjs, flops, anchor } = input;
  const torch = references[0];
  const primary = tfjs.find((c) => c.id === input.primary) ?? tfjs[0];
  const candidates = tfjs.filter((c) => input.candidates.includes(c.id));
  const rounds = Math.max(...references.map((c) => c.rounds.length), ...tfjs.map((c) => c.rounds.length));
  const refusal = anchorRefusal(anchor, torch);
  const allTargets = targets(kernels, torch, candidates, anchor, flops);
  const lines: string[] = [
    '# Benchmark: custom kernels and the tiny policy vs PyTorch',
    '',
    `\`${input.command}\` — ${input.when}, ${input.machine}, ${input.elapsedS.toFixed(0)} s in all.`,
    'Every figure is a ratio of two timings taken in the same run; ranges are over rounds run back to back',
    `(${rounds} rounds; each round runs every configuration in a fresh process, order rotated). Absolute times move with machine load.`,
    '',
    '## The PyTorch anchor',
    '',
    describeAnchor(anchor, torch),
    '',
  ];
  if (refusal) lines.push(`**Model targets not judged:** ${refusal}.`, '');
  lines.push(
    '## Targets',
    '',
    'Model targets: median of the per-round ratios PyTorch time / tfjs time (range over rounds), judged on ' +
      `${candidates.length ? candidates.map((c) => c.label).join(', ') : 'no configuration (none ran)'}; the other configurations are in the tables below, for reference.`,
    `"% of SIMD peak" is the configuration's achieved GFLOP/s over the measured one-thread wasm SIMD peak × the threads it computes on.`,
    '',
    '| target | goal | measured: median (range over rounds) | % of SIMD peak | met |',
    '| --- | --- | --- | ---: | --- |',
    ...allTargets.map(
      (t) =>
        `| ${t.name} | ${t.goal} | ${t.measured} | ${t.peakFraction === undefined ? '' : pct(t.peakFraction)} | ${t.met === undefined ? `not judged${t.why && t.why !== refusal ? `: ${t.why}` : ''}` : t.met ? 'yes' : '**no**'} |`,
    ),
    '',
    '## (a) Kernels vs the composed ops they replace',
    '',
  );
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
    );
  } else {
    lines.push(`Not measured: ${input.kernelsError ?? 'kernels.json missing'}.`, '');
  }

  lines.push('## (b) The tiny policy vs PyTorch (same model, weights, batch and loss)', '');
  lines.push(
    'B = 64 sequences of 16 prompt + 80 new tokens; d_model 64, 2 layers, 4 heads, MLP 256, vocab 32 (src/model as exported:',
    '`packedLogProbs` for the training forward, `generate` for sampling; Adam lr 1e-3 on both sides). The RL step is the',
    "reproduction's AR-uniform run on `chain` from its base policy (8 questions × 8 traces, 4 budgets × 4 forced summaries,",
    '2 updates): `train` itself on tfjs; PyTorch replays the same rollouts and updates (scripts/bench-rl.ts, bench_torch.py --rl).',
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
      if (ratios.every((r) => r === 'n/a') && !summarizeTimes(c, w)) continue;
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
  const stock = tfjs.find((c) => c.id !== primary.id && c.id.startsWith('wasm-stock'));
  if (stock) {
    lines.push(`Kernels on vs off (${stock.label} time / ${primary.label} time, paired by round):`, '');
    lines.push('| workload | speed-up |', '| --- | ---: |');
    for (const w of WORKLOADS) {
      const r = pairedSpeedRatio(stock, primary, w);
      if (r) lines.push(`| ${w} | ${range(r)} |`);
    }
    lines.push('');
  }

  const one = input.everyCore && tfjs.find((c) => c.id === input.everyCore!.one);
  const all = input.everyCore && tfjs.find((c) => c.id === input.everyCore!.all);
  if (one && all) {
    lines.push(`Every core vs one thread (${one.label} time / ${all.label} time, paired by round; the training step compares the trainer's chunked update with the one-pass step):`, '');
    lines.push('| workload | speed-up |', '| --- | ---: |');
    for (const w of WORKLOADS) {
      const r = pairedSpeedRatio(one, all, w);
      if (r) lines.push(`| ${w} | ${range(r)} |`);
    }
    lines.push('');
  }

  lines.push('### Peak memory', '');
  lines.push(
    'Per workload, one untimed run in the first round: tfjs tensor bytes at their peak (tf.profile: every live tensor, weights',
    "and optimiser state included) / the process's peak RSS while the workload ran (Linux VmHWM, reset before it; workloads run",
    "in the order forward, sample, train, then the RL step, and tfjs-wasm's heap never shrinks, so RSS includes what earlier ones left).",
    "On several threads the tensor bytes are this thread's alone; the RSS is the whole process's, worker threads included. MB.",
    '',
    `| workload | ${configs.map((c) => c.label).join(' | ')} |`,
    `| --- | ${configs.map(() => '---:').join(' | ')} |`,
  );
  for (const w of WORKLOADS) {
    const cells = configs.map((c) => {
      const m = c.rounds.find((r) => r?.memory)?.memory;
      const p = m?.peak[w];
      if (!p) return 'n/a';
      return p.peakTensorMB !== undefined ? `${mb(p.peakTensorMB)} / ${mb(p.peakRssMB)}` : mb(p.peakRssMB);
    });
    if (cells.every((c) => c === 'n/a')) continue;
    lines.push(`| ${w} | ${cells.join(' | ')} |`);
  }
  const startRss = configs.map((c) => mb(c.rounds.find((r) => r?.memory)?.memory?.rssAtStartMB));
  lines.push(`| RSS before the workloads | ${startRss.join(' | ')} |`, '');

  lines.push('### Achieved GFLOP/s', '');
  lines.push(
    'FLOPs counted analytically (2 per multiply-add; linear layers and head, attention QKᵀ and P·V dense over the keys attended; backward = 2x forward):',
    `train ${((flops.train ?? NaN) / 1e9).toFixed(2)} GFLOP, sampling ${((flops.sample ?? NaN) / 1e9).toFixed(3)} GFLOP, forward ${((flops.forward ?? NaN) / 1e9).toFixed(2)} GFLOP` +
      (flops.rl !== undefined ? `, RL step ${(flops.rl / 1e9).toFixed(2)} GFLOP (mean of the replayed steps, on the replay's schedule).` : '.'),
    kernels ? `Reference: the wasm SIMD peak probe, ${kernels.wasmSimdPeakGflops.toFixed(1)} GFLOP/s on one thread; % of it × the configuration's threads.` : '',
    '',
    `| workload | ${configs.map((c) => c.label).join(' | ')} |`,
    `| --- | ${configs.map(() => '---:').join(' | ')} |`,
  );
  for (const w of WORKLOADS) {
    const cells = configs.map((c) => {
      const g = achievedGflops(c, w, flops);
      if (g === undefined) return 'n/a';
      const isTfjs = tfjs.includes(c);
      const peak = kernels && isTfjs && c.id !== 'webgpu' ? kernels.wasmSimdPeakGflops * (c.threads ?? 1) : undefined;
      return `${g.toFixed(1)}${peak ? ` (${pct(g / peak)} of peak)` : ''}`;
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

  lines.push('### Same math check (not timed)', '');
  lines.push('Tiny policy at the initial weights:', '');
  lines.push('| configuration | loss | rel. diff vs PyTorch | gradient norm | rel. diff | prompt logits sum | rel. diff |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const torchParity = references.map((c) => c.rounds.find((r) => r)?.parity).find((p) => p);
  for (const c of configs) {
    const p = c.rounds.find((r) => r)?.parity;
    if (!p) continue;
    const d = (k: keyof WorkerResult['parity']) => (torchParity && !references.includes(c) ? relDiff(p[k], torchParity[k]).toExponential(1) : '');
    lines.push(`| ${c.label} | ${p.loss.toFixed(6)} | ${d('loss')} | ${p.gradNorm.toFixed(6)} | ${d('gradNorm')} | ${p.promptLogitsSum.toFixed(3)} | ${d('promptLogitsSum')} |`);
  }
  lines.push('');
  const rlTorch = references.map((c) => c.rounds.find((r) => r?.rlParity)?.rlParity).find((p) => p);
  const rlTfjs = tfjs.map((c) => c.rounds.find((r) => r?.rl)?.rl).find((p) => p);
  if (rlTorch && rlTfjs) {
    const d = rlParityDiff(rlTfjs.steps, rlTorch.steps);
    lines.push(
      `RL step: over ${d.steps} steps (warm-up included), PyTorch's loss and gradient norm differ from \`train\`'s by at most ` +
        `${d.loss.toExponential(1)} and ${d.gradNorm.toExponential(1)} (relative); the log-probs PyTorch computes for the ${rlTorch.rolloutTokens} ` +
        `replayed tokens differ from those tfjs sampled them with by at most ${rlTorch.rolloutLogpMaxDiff.toExponential(1)}.`,
      '',
    );
  }
  if (input.notes.length > 0) lines.push('## Notes', '', ...input.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}
