/**
 * Progress display for long work: a bar with count, rate and ETA on a terminal, one plain
 * line per update elsewhere (CI logs, notebooks), throttled so logs stay readable.
 */
export interface ProgressOptions {
  /** Label shown before the bar. */
  label: string;
  /** Total units of work. */
  total: number;
  /** Unit name for the rate, e.g. 'step' or 'sample'. */
  unit?: string;
  /** Where to write; defaults to process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Minimum milliseconds between non-TTY lines. */
  plainIntervalMs?: number;
  /** Function returning the current time in ms (injectable for tests). */
  now?: () => number;
}

export interface ProgressState {
  done: number;
  total: number;
  elapsedMs: number;
  ratePerSec: number;
  etaMs: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * `doneAtStart`: units already done when the clock started (a resumed run, or a job found finished):
 * they took no time here, so they count towards the bar but not towards the rate.
 */
export function progressState(done: number, total: number, elapsedMs: number, doneAtStart = 0): ProgressState {
  const ratePerSec = elapsedMs > 0 ? (Math.max(0, done - doneAtStart) * 1000) / elapsedMs : 0;
  const etaMs = ratePerSec > 0 ? ((total - done) / ratePerSec) * 1000 : Number.POSITIVE_INFINITY;
  return { done, total, elapsedMs, ratePerSec, etaMs };
}

/**
 * The rate part of a progress line: `12.5 step/s` when at least one unit per second, else the
 * time per unit (`3.4 s/step`, easier to read than `0.294 step/s`). Empty while nothing is done
 * or no time has passed: a rate of zero there would be a guess, not a measurement.
 */
export function formatRate(st: ProgressState, unit: string): string {
  if (st.done <= 0 || !(st.ratePerSec > 0) || !Number.isFinite(st.ratePerSec)) return '';
  if (st.ratePerSec >= 1) return `${st.ratePerSec.toFixed(1)} ${unit}/s`;
  const perUnit = 1 / st.ratePerSec;
  return `${perUnit < 10 ? perUnit.toFixed(1) : perUnit.toFixed(0)} s/${unit}`;
}

/**
 * Renders one progress line, e.g. `grpo s0 [#####.....] 12/40 1.2 s/step ETA 00:33 reward=0.41`.
 * Finished work shows its elapsed time instead of an ETA (`40/40 1.2 s/step in 00:48`); work that
 * was already finished when its phase began (no time measured) shows neither rate nor time.
 */
export function renderProgressLine(label: string, st: ProgressState, unit: string, extra: string, width = 24): string {
  const frac = st.total > 0 ? Math.min(1, st.done / st.total) : 1;
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const rate = formatRate(st, unit);
  const finished = st.done >= st.total;
  const time = finished ? (rate ? `in ${formatDuration(st.elapsedMs)}` : '') : `ETA ${formatDuration(st.etaMs)}`;
  return [`${label} [${bar}] ${st.done}/${st.total}`, rate, time, extra].filter((part) => part !== '').join(' ');
}

export class ProgressBar {
  private readonly opts: Required<Omit<ProgressOptions, 'stream'>> & { stream: ProgressOptions['stream'] };
  private readonly start: number;
  private done = 0;
  private lastPlain = -Infinity;
  private extra = '';

  constructor(opts: ProgressOptions) {
    this.opts = {
      unit: 'it',
      plainIntervalMs: 5000,
      now: () => Date.now(),
      ...opts,
      stream: opts.stream ?? process.stderr,
    };
    this.start = this.opts.now();
  }

  /** Advances by `n` units and redraws; `extra` is shown after the ETA (e.g. current reward). */
  tick(n = 1, extra?: string): void {
    this.update(this.done + n, extra);
  }

  update(done: number, extra?: string): void {
    this.done = done;
    if (extra !== undefined) this.extra = extra;
    const stream = this.opts.stream!;
    const now = this.opts.now();
    const line = renderProgressLine(this.opts.label, progressState(done, this.opts.total, now - this.start), this.opts.unit, this.extra);
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${line}`);
      if (done >= this.opts.total) stream.write('\n');
    } else if (now - this.lastPlain >= this.opts.plainIntervalMs || done >= this.opts.total) {
      this.lastPlain = now;
      stream.write(line + '\n');
    }
  }

  state(): ProgressState {
    return progressState(this.done, this.opts.total, this.opts.now() - this.start);
  }
}

/**
 * Several bars at once (one per job): redrawn in place on a terminal, otherwise one plain line
 * per job on each phase change and at most every `plainIntervalMs`.
 */
export class MultiProgress {
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly now: () => number;
  private readonly plainIntervalMs: number;
  private readonly jobs = new Map<string, { phase: string; start: number; startDone: number; done: number; total: number; extra: string; lastPlain: number }>();
  private drawn = 0;

  constructor(opts: { stream?: ProgressOptions['stream']; now?: () => number; plainIntervalMs?: number } = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? (() => Date.now());
    this.plainIntervalMs = opts.plainIntervalMs ?? 10_000;
  }

  update(id: string, phase: string, done: number, total: number, extra = ''): void {
    const now = this.now();
    const prev = this.jobs.get(id);
    // A new phase restarts the clock so rate and ETA describe the phase in progress.
    const fresh = !prev || prev.phase !== phase;
    const job = fresh ? { phase, start: now, startDone: done, done, total, extra, lastPlain: -Infinity } : prev;
    job.done = done;
    job.total = total;
    job.extra = extra;
    this.jobs.set(id, job);
    if (this.stream.isTTY) {
      this.redraw();
    } else if (fresh || now - job.lastPlain >= this.plainIntervalMs || done >= total) {
      job.lastPlain = now;
      this.stream.write(this.line(id) + '\n');
    }
  }

  private line(id: string): string {
    const j = this.jobs.get(id)!;
    return renderProgressLine(`${id.padEnd(16)} ${j.phase.padEnd(14)}`, progressState(j.done, j.total, this.now() - j.start, j.startDone), 'it', j.extra);
  }

  private redraw(): void {
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    const lines = [...this.jobs.keys()].map((id) => `\r\x1b[2K${this.line(id)}`);
    this.stream.write(up + lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}
