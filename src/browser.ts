/**
 * anytime in the browser (the `browser` condition of the package's `.` export): everything the
 * main entry exports except `evaluation` and `svgToPng`, whose files (results, data, WebAssembly, fonts) need Node's file
 * system. src/index.ts re-exports this module, so the two entries cannot drift apart.
 */
export * from './core/index.js';
export * from './verify/index.js';
export * as tasks from './tasks/index.js';
// The plots, but not svgToPng (src/plot/png.ts reads its WebAssembly and fonts with Node's fs):
// imported from the modules themselves, since a bundler resolves every import of plot/index.js.
export { renderVegaLiteSvg } from './plot/render.js';
export { lineChartSpec, lineChartSvg } from './plot/line.js';
export type { LineChartInput, LinePoint, LineSeries } from './plot/line.js';
export { barChartSpec, barChartSvg } from './plot/bar.js';
export type { BarChartInput, BarSeries, BarValue } from './plot/bar.js';
export { runColor, runColors } from './plot/colors.js';
export { scatterChartSpec, scatterChartSvg } from './plot/scatter.js';
export type { ScatterChartInput, ScatterPoint } from './plot/scatter.js';
