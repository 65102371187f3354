/**
 * Writes the README's results section from the committed result sets (data/results/<set>/summary.json),
 * so every number the README states is the measured one. The section lies between the markers
 * `<!-- results:begin -->` and `<!-- results:end -->`; test/readme-results.test.ts checks that the
 * README holds exactly what this script generates.
 *
 *   npx tsx scripts/readme-results.ts          # rewrite README.md's section
 *   npx tsx scripts/readme-results.ts --check  # exit 1 when it is out of date
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/util/fs.js';
import { fmtDiff, fmtInterval, pct, type ReportSummary } from '../src/train/report.js';
import type { PressureStudy } from '../src/train/pressure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BEGIN = '<!-- results:begin -->';
export const END = '<!-- results:end -->';

/** The committed headline sets, in the order the README shows them, with the command that made each. */
export const HEADLINE_SETS = [
  { dir: 'full-search', command: 'npx anytime reproduce --preset full --task search --out data/results/full-search' },
];
export const PRESSURE_SET = { dir: 'pressure-search', command: 'npx anytime reproduce --preset pressure --max-budgets 96,48,32 --seeds 3 --out data/results/pressure-search' };

const read = <T>(dir: string, file = 'summary.json'): T | null => {
  const p = join(ROOT, 'data', 'results', dir, file);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : null;
};

/** Minutes a set took, from the `minutes` file its run left (written by hand from the log), if any. */
const minutes = (dir: string): string | null => {
  const p = join(ROOT, 'data', 'results', dir, 'minutes.txt');
  return existsSync(p) ? readFileSync(p, 'utf8').trim() : null;
};

function headline(dir: string, command: string, s: ReportSummary): string[] {
  const lines: string[] = [];
  const m = minutes(dir);
  const seeds = [...new Set(s.runs.map((r) => r.seeds))].sort((a, b) => b - a).join(' or ');
  lines.push(`**\`${s.task}\`** — \`${command}\`${m ? `, ${m}` : ''}. ${s.runs.length} runs × ${seeds} seeds; report: [\`data/results/${dir}/report.md\`](data/results/${dir}/report.md).`, '');
  lines.push('| run | seeds | anytime accuracy (%) [95% CI] | final accuracy (%) [95% CI] | Δ anytime vs GRPO (points) | Δ final vs GRPO | budgets above / below GRPO | mean length |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  if (s.base) lines.push(`| base policy | – | ${fmtInterval(s.base.anytimeCI)} | ${fmtInterval(s.base.finalCI)} | | | | ${s.base.meanLength.toFixed(1)} |`);
  for (const r of s.runs) {
    const c = s.comparisons.find((x) => x.run === r.run && x.reference === 'grpo');
    const S = r.budgets.length;
    lines.push(
      `| ${r.run} | ${r.seeds} | ${fmtInterval(r.anytime)} | ${fmtInterval(r.final)} | ${c ? fmtDiff(c.anytime) : '–'} | ${c ? fmtDiff(c.final) : '–'} | ${c ? `${c.budgetsAbove} / ${c.budgetsBelow} of ${S}` : '–'} | ${r.meanLength.mean.toFixed(1)} |`,
    );
  }
  lines.push('');
  for (const [file, alt] of [['accuracy-vs-budget.svg', 'accuracy vs thinking budget'], ['difference-vs-grpo.svg', 'difference from GRPO per budget']]) {
    if (existsSync(join(ROOT, 'data', 'results', dir, file))) lines.push(`![${s.task}: ${alt}](data/results/${dir}/${file})`);
  }
  lines.push('');
  return lines;
}

export function resultsSection(): string {
  const lines: string[] = [BEGIN, ''];
  const sets = HEADLINE_SETS.map((h) => ({ ...h, s: read<ReportSummary>(h.dir) })).filter((h) => h.s !== null) as (typeof HEADLINE_SETS[number] & { s: ReportSummary })[];
  for (const h of sets) lines.push(...headline(h.dir, h.command, h.s));
  if (sets.length > 0) {
    lines.push("The paper's claims, as measured (verdict rules in each report; significant = the paired 95% interval excludes 0):", '');
    lines.push('| claim | task | run | verdict | evidence |', '| --- | --- | --- | --- | --- |');
    for (const h of sets) for (const c of h.s.claims) lines.push(`| ${c.claim} | ${h.s.task} | ${c.subject} | **${c.verdict}** | ${c.evidence} |`);
    lines.push('');
    const named = (d: string) => sets.flatMap((h) => h.s.claims.filter((c) => c.direction === d).map((c) => `${c.subject} (${c.claim.startsWith('final') ? 'final' : c.claim.startsWith('ablation') ? 'ablation' : c.claim.startsWith('AR') ? 'anytime' : 'variance'})`));
    lines.push(
      `In short: significant in the paper's direction — ${named('for').join(', ') || 'nothing'}; significant against it — ${named('against').join(', ') || 'nothing'}; within noise — ${named('noise').join(', ') || 'nothing'}.`,
      '',
    );
  }
  const p = read<PressureStudy>(PRESSURE_SET.dir);
  if (p) {
    const m = minutes(PRESSURE_SET.dir);
    lines.push(`**Budget pressure** (\`${p.task}\`) — \`${PRESSURE_SET.command}\`${m ? `, ${m}` : ''}; report: [\`data/results/${PRESSURE_SET.dir}/report.md\`](data/results/${PRESSURE_SET.dir}/report.md).`, '');
    lines.push('| b_max | base policy cut at b_max | run | anytime Δ vs GRPO (points) | final Δ vs GRPO | budgets above / below GRPO |', '| --- | --- | --- | --- | --- | --- |');
    for (const l of p.levels) {
      for (const g of l.gains) lines.push(`| ${l.maxBudget} | ${pct(l.baseCutFraction)}% | ${g.run} | ${fmtDiff(g.anytime)} | ${fmtDiff(g.final)} | ${g.budgetsAbove} / ${g.budgetsBelow} of ${g.budgets} |`);
    }
    lines.push('', `![gain over GRPO vs budget pressure](data/results/${PRESSURE_SET.dir}/gain-vs-budget-pressure.svg)`, '');
  }
  lines.push(END);
  return lines.join('\n');
}

/** README.md with its results section replaced by the generated one. */
export function updatedReadme(readme: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${BEGIN} … ${END} section`);
  return readme.slice(0, a) + resultsSection() + readme.slice(b + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = join(ROOT, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const next = updatedReadme(readme);
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md results section is out of date: run npx tsx scripts/readme-results.ts');
      process.exit(1);
    }
    console.log('README.md results section is up to date');
  } else {
    writeFileAtomic(path, next);
    console.log(next === readme ? 'README.md unchanged' : 'README.md results section rewritten');
  }
}
