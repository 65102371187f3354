/** Kernel-neutral notebook helpers: rich display (tslab, Deno, plain script) and assertion cells. */
export { display, displayBundle, liveDisplay, notebookHost, plotBundle, printLine, escapeHtml } from './display.js';
export type { HtmlTable, MimeBundle, NotebookHost } from './display.js';
export { check, checkClose, checkEqual, describeValue, maxAbsDifference, NotebookCheckError } from './check.js';
export type { NumberTree } from './check.js';
