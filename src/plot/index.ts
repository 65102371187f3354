/** SVG plots from plain data (vega-lite + vega, headless). */
export { renderVegaLiteSvg } from './render.js';
export { lineChartSpec, lineChartSvg } from './line.js';
export type { LineChartInput, LinePoint, LineSeries } from './line.js';
export { barChartSpec, barChartSvg } from './bar.js';
export type { BarChartInput, BarSeries, BarValue } from './bar.js';
export { runColor, runColors } from './colors.js';
