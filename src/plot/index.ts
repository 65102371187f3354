/** SVG plots from plain data (vega-lite + vega, headless). */
export { renderVegaLiteSvg } from './render.js';
export { lineChartSpec, lineChartSvg } from './line.js';
export type { LineChartInput, LinePoint, LineSeries } from './line.js';
export { barChartSpec, barChartSvg } from './bar.js';
export type { BarChartInput, BarSeries, BarValue } from './bar.js';
export { svgToPng } from './png.js';
export type { PngOptions } from './png.js';
export { CATEGORY_COLORS, colorMap } from './validate.js';
export type { ChartFrame, ReferenceLine } from './validate.js';
