/**
 * anytime in the browser (the `browser` condition of the package's `.` export): everything the
 * main entry exports except `evaluation`, whose result files and data loading need Node's file
 * system. src/index.ts re-exports this module, so the two entries cannot drift apart.
 */
export * from './core/index.js';
export * from './verify/index.js';
export * as tasks from './tasks/index.js';
export * from './plot/index.js';
