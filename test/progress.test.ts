import { describe, expect, it } from 'vitest';
import { formatRate, MultiProgress, ProgressBar, progressState, renderProgressLine } from '../src/util/progress.js';

/** A stream that records what is written, as a non-terminal (plain lines). */
function recorder(): { stream: NodeJS.WritableStream & { isTTY?: boolean }; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream & { isTTY?: boolean };
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

describe('formatRate', () => {
  it('shows units per second from one per second up, seconds per unit below', () => {
    expect(formatRate(progressState(30, 100, 10_000), 'step')).toBe('3.0 step/s');
    expect(formatRate(progressState(3, 100, 10_000), 'step')).toBe('3.3 s/step');
    expect(formatRate(progressState(1, 100, 25_000), 'it')).toBe('25 s/it');
  });

  it('is empty, never zero, while nothing is done or no time has passed', () => {
    expect(formatRate(progressState(0, 100, 5_000), 'it')).toBe('');
    expect(formatRate(progressState(100, 100, 0), 'it')).toBe('');
  });
});

describe('renderProgressLine', () => {
  it('has count, rate and ETA while running', () => {
    expect(renderProgressLine('grpo', progressState(10, 40, 20_000), 'step', 'reward=0.41', 10)).toBe(
      'grpo [###.......] 10/40 2.0 s/step ETA 01:00 reward=0.41',
    );
  });

  it('shows the elapsed time once finished, and nothing made up for work finished on arrival', () => {
    expect(renderProgressLine('run', progressState(40, 40, 48_000), 'step', '', 4)).toBe('run [####] 40/40 1.2 s/step in 00:48');
    expect(renderProgressLine('run', progressState(2, 2, 0), 'it', '', 4)).toBe('run [####] 2/2');
  });
});

describe('progress displays never print a zero rate', () => {
  it('MultiProgress: a new phase and a finished job', () => {
    const { stream, lines } = recorder();
    let t = 0;
    const bars = new MultiProgress({ stream, now: () => t, plainIntervalMs: 0 });
    bars.update('grpo/s0', 'train', 0, 100);
    t = 3000;
    bars.update('grpo/s0', 'train', 1, 100, 'reward=0.69');
    t = 300_000;
    bars.update('grpo/s0', 'train', 100, 100);
    bars.update('grpo/s0', 'done', 100, 100);
    const out = lines();
    expect(out).toHaveLength(4);
    for (const l of out) expect(l).not.toMatch(/\b0\.0+ \w+\/s|NaN|Infinity/);
    expect(out[1]).toContain('1/100 3.0 s/it ETA 04:57 reward=0.69');
    expect(out[2]).toContain('100/100 3.0 s/it in 05:00');
    expect(out[3]).toMatch(/done\s+\[#+\] 100\/100$/);
  });

  it('MultiProgress: a resumed run counts only the steps done since, and a job found finished shows no rate', () => {
    const { stream, lines } = recorder();
    let t = 0;
    const bars = new MultiProgress({ stream, now: () => t, plainIntervalMs: 0 });
    bars.update('ar-uniform/s1', 'train', 300, 600); // resumed from its checkpoint at step 300
    t = 10_000;
    bars.update('ar-uniform/s1', 'train', 310, 600);
    t = 10_001;
    bars.update('grpo/s0', 'done', 600, 600); // finished by an earlier invocation
    const out = lines();
    expect(out[1]).toContain('310/600 1.0 it/s ETA 04:50');
    expect(out[2]).toMatch(/done\s+\[#+\] 600\/600$/);
  });

  it('ProgressBar: the first update, before any time has passed', () => {
    const { stream, lines } = recorder();
    const bar = new ProgressBar({ label: 'eval', total: 8, unit: 'sample', stream, now: () => 0, plainIntervalMs: 0 });
    bar.update(0);
    expect(lines()).toEqual(['eval [........................] 0/8 ETA --:--']);
  });
});
