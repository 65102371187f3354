import { describe, expect, it } from 'vitest';
import { runColor, runColors, scatterChartSpec, scatterChartSvg, type ScatterPoint } from '../src/plot/index.js';

const points: ScatterPoint[] = [
  { name: 'grpo', x: 44, y: 0.65, xLo: 42, xHi: 46, yLo: 0.63, yHi: 0.67 },
  { name: 'thinkprune', x: 31, y: 0.62, xLo: 30, xHi: 33, yLo: 0.6, yHi: 0.64 },
  { name: 'plain', x: 50, y: 0.5 },
];

describe('scatterChartSvg (frontier plots)', () => {
  it('draws each point with its name, its colour and interval bars on both axes', async () => {
    const svg = await scatterChartSvg({ title: 'Frontier', xLabel: 'mean thinking length', yLabel: 'anytime accuracy', points, colors: runColors(points.map((p) => p.name)) });
    expect(svg.startsWith('<svg')).toBe(true);
    for (const name of ['grpo', 'thinkprune', 'plain', 'Frontier', 'mean thinking length']) expect(svg).toContain(name);
    expect(svg).toContain(runColor('grpo'));
    expect(svg).toContain(runColor('thinkprune'));
    const spec = scatterChartSpec({ xLabel: 'x', yLabel: 'y', points }) as { layer: { mark: { type: string } }[]; data: { values: Record<string, unknown>[] } };
    expect(spec.layer.map((l) => l.mark.type)).toEqual(['rule', 'rule', 'point', 'text']);
    expect(spec.data.values[2]).toEqual({ name: 'plain', x: 50, y: 0.5, xLo: null, xHi: null, yLo: null, yHi: null });
    const bare = scatterChartSpec({ xLabel: 'x', yLabel: 'y', points, labels: false }) as { layer: unknown[] };
    expect(bare.layer.length).toBe(3);
  });
  it('rejects bad points by name', () => {
    expect(() => scatterChartSpec({ xLabel: 'x', yLabel: 'y', points: [] })).toThrow(/^series: must be a non-empty array/);
    expect(() => scatterChartSpec({ xLabel: 'x', yLabel: 'y', points: [{ name: 'a', x: NaN, y: 1 }] })).toThrow(/points\[0\]\.x: must be a finite number/);
    expect(() => scatterChartSpec({ xLabel: 'x', yLabel: 'y', points: [{ name: 'a', x: 1, y: 1, yLo: 0 }] })).toThrow(/points\[0\]\.yLo: yLo and yHi must both be finite/);
    expect(() => scatterChartSpec({ xLabel: 'x', yLabel: 'y', points: [{ name: 'a', x: 5, y: 1, xLo: 1, xHi: 2 }] })).toThrow(/points\[0\]\.x: must lie in its interval \[1, 2\]/);
    expect(() => scatterChartSpec({ xLabel: 'x', yLabel: 'y', points: [points[0], points[0]] })).toThrow(/series\[1\]\.name: duplicates/);
    expect(() => scatterChartSpec({ xLabel: 'x', yLabel: 'y', points, xDomain: [3, 1] })).toThrow(/xDomain: must be \[lo, hi\]/);
  });
  it('the arena methods have distinct fixed colours, distinct from the paper runs', () => {
    const names = ['grpo', 'ar-base', 'ar-linear', 'ar-uniform', 'grpo-dense', 'grpo-decouple', 'grpo-vr', 'thinkprune', 'elastic-reasoning', 'l1-exact', 'l1-max', 'dapo', 'kimi-length', 'shorter-better', 'grpo-mask-truncated'];
    expect(new Set(names.map(runColor)).size).toBe(names.length);
  });
});
