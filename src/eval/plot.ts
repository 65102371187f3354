import { lineChartSvg } from '../plot/line.js';
import type { EvalAggregate } from './results.js';

/** Accuracy vs thinking budget with standard-error bars, one line per named aggregate. */
export function accuracyPlotSvg(runs: { name: string; aggregate: EvalAggregate }[], title?: string): Promise<string> {
  return lineChartSvg({
    title,
    xLabel: 'thinking budget (tokens)',
    yLabel: 'accuracy',
    yDomain: [0, 1],
    series: runs.map(({ name, aggregate }) => ({
      name: `${name} (anytime ${(100 * aggregate.anytime).toFixed(1)}%)`,
      points: aggregate.budgets.map((b, j) => ({ x: b, y: aggregate.accuracy[j], err: aggregate.stderr[j] })),
    })),
  });
}
