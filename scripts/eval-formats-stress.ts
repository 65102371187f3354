/**
 * How often each server layout's thinking responses read back exactly (the rest are reported
 * unaligned; a wrong read is a bug): 30 seeds × 300 generated traces per layout, every budget
 * 1..length, for math-like text and for text split into random byte tokens (where the
 * server's tokenizer also sometimes spells `</think>` in 3 tokens).
 * Run: npx tsx scripts/eval-formats-stress.ts
 */
import { FORMATS } from '../test/eval-fake-server.js';
import { mathTrace, randomTrace, readBack } from '../test/eval-generations.js';

for (const [name, make, sampledShare, stopTokenCounts] of [
  ['math-like', mathTrace, 0.9, [1]],
  ['random byte splits', randomTrace, 0.8, [1, 1, 1, 1, 3]],
] as const) {
  for (const format of FORMATS) {
    let exact = 0;
    let unaligned = 0;
    let wrong = 0;
    for (let seed = 0; seed < 30; seed++) {
      const r = await readBack(format, make, { seed: 1000 * seed + 1, count: 300, sampledShare, stopTokenCounts: [...stopTokenCounts] });
      exact += r.exact;
      unaligned += r.unaligned;
      wrong += r.wrong.length;
    }
    const n = exact + unaligned + wrong;
    console.log(`${name.padEnd(20)} ${format.padEnd(12)} exact ${((100 * exact) / n).toFixed(1)}%  unaligned ${((100 * unaligned) / n).toFixed(1)}%  wrong ${wrong} (of ${n})`);
  }
}
