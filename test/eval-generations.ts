/**
 * Generated thinking traces with their ground truth (what the method says each cut is), read
 * back through the server emulators of ./eval-fake-server.ts: shared by test/eval-formats.test.ts
 * and scripts/eval-formats-stress.ts (which measures how often each layout reads exactly).
 */
import { seededRng } from '../src/core/rng.js';
import type { CompletionResponse } from '../src/eval/client.js';
import { readThinking } from '../src/eval/trace.js';
import { emulateThinking, type FakeTrace, type ServerFormatName, type TokenSpec } from './eval-fake-server.js';

/** Complete characters of the bytes of `tokens`. */
export function wholeText(tokens: TokenSpec[]): string {
  const bytes = tokens.flatMap((t) => (typeof t === 'string' ? [...new TextEncoder().encode(t)] : t));
  const d = new TextDecoder('utf-8', { fatal: true });
  for (let n = bytes.length; n >= 0; n--) {
    try {
      return d.decode(Uint8Array.from(bytes.slice(0, n)));
    } catch {
      /* a shorter prefix */
    }
  }
  return '';
}

/** Random text cut into byte tokens of 1-4 bytes (characters split everywhere; "<" and "</" too). */
export function randomTrace(rng: () => number): FakeTrace {
  const words = [' x', ' = ', ' π', ' ≤', ' é', ' 中文', ' 😀', ' so', ' <', ' 5', 'ab', '\n', '</', ' </'];
  let text = '';
  const n = 1 + Math.floor(rng() * 12);
  for (let i = 0; i < n; i++) text += words[Math.floor(rng() * words.length)];
  const bytes = [...new TextEncoder().encode(text)];
  const tokens: TokenSpec[] = [];
  for (let at = 0; at < bytes.length; ) {
    const len = 1 + Math.floor(rng() * 4);
    tokens.push(bytes.slice(at, at + len));
    at += len;
  }
  const r = rng();
  const ending = r < 0.4 ? 'think-end' : r < 0.7 ? 'eos' : 'none';
  return { tokens, ending, ...(ending === 'think-end' && rng() < 0.3 ? { thinkEndTokens: ['</', 'think', '>'] } : {}) };
}

/**
 * Math-like thinking: ASCII words as whole tokens, now and then a non-ASCII symbol, which a
 * byte-level tokenizer sometimes splits into byte tokens (as a rare character would be).
 */
export function mathTrace(rng: () => number): FakeTrace {
  const ascii = [' Let', ' x', ' =', ' 2', ' so', ' the', ' answer', ' is', ',', '.', '\n\n', ' (', ')', ' +', ' <', ' 5'];
  const symbols = [' π', ' ≤', ' √', ' θ', ' 中', ' 😀'];
  const tokens: TokenSpec[] = [];
  const n = 5 + Math.floor(rng() * 30);
  for (let i = 0; i < n; i++) {
    if (rng() < 0.08) {
      const sym = symbols[Math.floor(rng() * symbols.length)];
      if (rng() < 0.5) tokens.push(sym);
      else {
        const bytes = [...new TextEncoder().encode(sym)];
        const cut = 1 + Math.floor(rng() * (bytes.length - 1));
        tokens.push(bytes.slice(0, cut), bytes.slice(cut));
      }
    } else tokens.push(ascii[Math.floor(rng() * ascii.length)]);
  }
  const r = rng();
  const ending = r < 0.5 ? 'think-end' : r < 0.7 ? 'eos' : 'none';
  return { tokens, ending, ...(ending === 'think-end' && rng() < 0.2 ? { thinkEndTokens: ['</', 'think', '>'] } : {}) };
}

/** What the method says for a trace under a cap: length by the convention, text of each cut. */
export function truth(t: FakeTrace, cap: number): { length: number; finished: boolean; eos: boolean; prefix: (k: number) => string } {
  const marker = t.thinkEndTokens ?? ['</think>'];
  const n = t.tokens.length;
  if (t.ending === 'think-end' && n + marker.length <= cap) {
    return { length: n + 1, finished: true, eos: false, prefix: (k) => (k === n + 1 ? wholeText(t.tokens) + '</think>' : wholeText(t.tokens.slice(0, k))) };
  }
  if (t.ending === 'eos' && n + 1 <= cap) return { length: n + 1, finished: false, eos: true, prefix: (k) => wholeText(t.tokens.slice(0, k)) };
  // Stopped at the cap: thinking tokens, then any marker tokens or filler the model went on with.
  const after = t.ending === 'think-end' ? marker : t.ending === 'eos' ? [] : Array.from({ length: cap }, () => ' z');
  const all = [...t.tokens, ...after].slice(0, cap);
  return { length: Math.min(cap, all.length), finished: false, eos: false, prefix: (k) => wholeText(all.slice(0, k)) };
}

/**
 * Emulates `count` generations of `make` in `format`, reads each at every budget 1..length and
 * compares with `truth`: exact reads, unaligned reads (with their reasons), wrong reads (which
 * must never happen). `sampledShare`: for llama.cpp, the share of entries whose `top_logprobs`
 * hold the sampled token.
 */
export async function readBack(
  format: ServerFormatName,
  make: (rng: () => number) => FakeTrace,
  opts: { seed: number; count: number; sampledShare: number; stopTokenCounts?: number[] },
): Promise<{ exact: number; unaligned: number; wrong: number[]; firstWrong: string; reasons: string[] }> {
  const rng = seededRng(opts.seed);
  let exact = 0;
  let unaligned = 0;
  const wrong: number[] = [];
  let firstWrong = '';
  const reasons = new Set<string>();
  for (let i = 0; i < opts.count; i++) {
    const t = make(rng);
    const cap = 2 + Math.floor(rng() * (t.tokens.length + 4));
    const stopTokenCount = opts.stopTokenCounts ? opts.stopTokenCounts[Math.floor(rng() * opts.stopTokenCounts.length)] : 1;
    const topIsSampled = (k: number) => ((k * 37 + i * 11) % 100) / 100 < opts.sampledShare;
    const { response, calls } = emulateThinking(format, t, cap, { topIsSampled, stopTokenCount });
    const want = truth(t, cap);
    const budgets = Array.from({ length: want.length }, (_, k) => k + 1);
    const got = await readThinking(response as CompletionResponse, { thinkEnd: '</think>', budgets, calls });
    if (got.unaligned !== null) {
      unaligned++;
      reasons.add(got.unaligned);
      continue;
    }
    let ok = got.length === want.length && got.finished === want.finished && got.eos === want.eos;
    for (const b of budgets) if (ok && !(want.eos && b === want.length) && got.prefix(b) !== want.prefix(b)) ok = false;
    if (ok) exact++;
    else {
      wrong.push(i);
      firstWrong ||= `generation ${i} (cap ${cap}): ${JSON.stringify(t)}`;
    }
  }
  return { exact, unaligned, wrong, firstWrong, reasons: [...reasons] };
}
