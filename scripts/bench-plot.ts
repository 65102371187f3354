/**
 * Render time of src/plot: first call (includes loading vega + vega-lite) and warm calls.
 * Run: npx tsx scripts/bench-plot.ts
 */
import { barChartSvg, lineChartSvg } from '../src/plot/index.js';

const budgets = Array.from({ length: 32 }, (_, i) => (i + 1) * 250);
const line = {
  title: 'Accuracy vs budget',
  xLabel: 'thinking budget (tokens)',
  yLabel: 'accuracy',
  yDomain: [0, 1] as [number, number],
  series: ['base', 'GRPO', 'AR-linear', 'AR-uniform'].map((name, k) => ({
    name,
    points: budgets.map((b) => ({ x: b, y: 0.5 * (1 - Math.exp(-b / (1500 + 300 * k))), err: 0.02 })),
  })),
};
const bar = {
  xLabel: 'run',
  yLabel: 'accuracy',
  series: ['final', 'anytime'].map((name, k) => ({
    name,
    values: ['base', 'GRPO', 'AR-linear', 'AR-uniform'].map((category, j) => ({ category, value: 0.4 + 0.03 * j - 0.05 * k, err: 0.01 })),
  })),
};

async function time(label: string, fn: () => Promise<string>, reps: number): Promise<void> {
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < reps; i++) bytes = (await fn()).length;
  const ms = (performance.now() - t0) / reps;
  console.log(`${label.padEnd(36)} ${ms.toFixed(1)} ms/render  (${bytes} bytes SVG, ${reps} reps)`);
}

await time('line, first call (loads vega)', () => lineChartSvg(line), 1);
await time('line, 4 series x 32 points + err', () => lineChartSvg(line), 20);
await time('bar, 2 series x 4 runs + err', () => barChartSvg(bar), 20);
