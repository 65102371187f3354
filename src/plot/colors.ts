/**
 * One colour per run across every plot of a report or notebook, so a reader can follow a run from
 * chart to chart. The paper's runs have fixed colours; other names (arena methods, custom runs)
 * get a stable colour from a second palette by a hash of the name.
 */
const FIXED: Record<string, string> = {
  'base policy': '#7f7f7f',
  grpo: '#1f77b4',
  'ar-base': '#9467bd',
  'ar-linear': '#2ca02c',
  'ar-uniform': '#d62728',
  'grpo-dense': '#ff7f0e',
  'grpo-decouple': '#8c564b',
  'grpo-vr': '#e377c2',
};

const EXTRA = ['#17becf', '#bcbd22', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#e6550d', '#31a354', '#756bb1', '#636363'];

/** The colour of a run or series name. */
export function runColor(name: string): string {
  if (FIXED[name]) return FIXED[name];
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return EXTRA[(h >>> 0) % EXTRA.length];
}

/** Colours for a list of names (the `colors` option of a chart). */
export function runColors(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, runColor(n)]));
}
