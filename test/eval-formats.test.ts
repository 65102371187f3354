/**
 * Recorded responses in vLLM's and llama.cpp's `/v1/completions` layouts (test/fixtures/eval/,
 * each written from the server's source behaviour it names) read into exact token counts, and
 * the fake servers (test/eval-fake-server.ts) answering the same generations in every layout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readThinking, type TokenizerCalls } from '../src/eval/trace.js';
import { alignTokenStrings } from '../src/eval/formats.js';
import type { CompletionResponse } from '../src/eval/client.js';

const DIR = join(__dirname, 'fixtures', 'eval');

interface Fixture {
  server: 'vllm' | 'llama.cpp';
  behaviour: string;
  source: string;
  thinkEnd: string;
  stopTokenCount?: number;
  vocab?: Record<string, number[]>;
  response: CompletionResponse;
  expect:
    | { format: string; generated: number; length: number; finished: boolean; eos: boolean; prefixes: Record<string, string> }
    | { unaligned: string };
}

const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: f.replace(/\.json$/, ''), fixture: JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Fixture }));

/** The tokenizer endpoints a fixture's server would answer. */
function calls(f: Fixture, log: string[]): TokenizerCalls {
  return {
    detokenize: async (ids) => {
      log.push(`detokenize ${ids.length}`);
      const bytes = ids.flatMap((id) => {
        const b = f.vocab?.[String(id)];
        if (!b) throw new Error(`fixture has no token ${id}`);
        return id === 2 ? [] : b; // the end-of-sequence token is special: not decoded
      });
      return new TextDecoder().decode(Uint8Array.from(bytes));
    },
    stopTokenCount: async (text) => {
      log.push(`tokenize ${text}`);
      if (f.stopTokenCount === undefined) throw new Error('fixture has no stopTokenCount');
      return f.stopTokenCount;
    },
  };
}

describe('recorded responses of real servers', () => {
  it('covers both servers and every case of the issue', () => {
    const names = fixtures.map((f) => f.name);
    expect(names.filter((n) => n.startsWith('vllm-')).length).toBeGreaterThanOrEqual(10);
    expect(names.filter((n) => n.startsWith('llamacpp-')).length).toBeGreaterThanOrEqual(10);
    for (const f of fixtures) expect(f.fixture.source.length, f.name).toBeGreaterThan(20);
  });

  for (const { name, fixture: f } of fixtures) {
    it(`${name}: ${f.behaviour}`, async () => {
      const log: string[] = [];
      const exp = f.expect;
      const length = 'length' in exp ? exp.length : 8;
      // Budgets 1..length ask for the text of every cut.
      const budgets = Array.from({ length }, (_, i) => i + 1);
      const t = await readThinking(f.response, { thinkEnd: f.thinkEnd, budgets, calls: calls(f, log) });
      if ('unaligned' in exp) {
        expect(t.unaligned).toContain(exp.unaligned);
        expect(() => t.prefix(1)).toThrow(/unaligned/);
        return;
      }
      expect(t.unaligned).toBeNull();
      expect({ format: t.format, generated: t.generated, length: t.length, finished: t.finished, eos: t.eos }).toEqual({
        format: exp.format,
        generated: exp.generated,
        length: exp.length,
        finished: exp.finished,
        eos: exp.eos,
      });
      for (const [k, text] of Object.entries(exp.prefixes)) expect(t.prefix(Number(k)), `prefix(${k})`).toBe(text);
      // The full cut of a trace that ended on end-of-sequence is never sent (it scores 0).
      if (exp.eos) expect(() => t.prefix(exp.length)).toThrow(/no text prepared/);
      if (f.server === 'llama.cpp' && exp.finished) expect(log).toContain(`tokenize ${f.thinkEnd}`);
    });
  }
});

describe('alignTokenStrings', () => {
  it('marks a token boundary inside several split characters as undetermined, not guessed', () => {
    // Two 2-byte characters over three tokens shown as U+FFFD: the middle boundary could be in either.
    const r = alignTokenStrings(['x', '\uFFFD', '\uFFFD\uFFFD', ' y'], 'xπé y', false);
    expect(r).not.toBeTypeOf('string');
    const { ends } = r as { ends: (number | null)[] };
    expect(ends).toEqual([1, null, 3, 5]);
  });

  it('lets the token that reaches a stop string run past it and ignores later tokens', () => {
    expect(alignTokenStrings(['a', '</think>\n\n', 'b'], 'a</think>', true)).toEqual({ ends: [1, 9, null], used: 2 });
  });

  it('rejects strings that do not spell the text', () => {
    expect(alignTokenStrings(['a', 'c'], 'ab', false)).toMatch(/does not spell/);
  });
});

import { FORMATS } from './eval-fake-server.js';
import { mathTrace, randomTrace, readBack } from './eval-generations.js';

describe('every server layout of the same generations reads back exactly, or is marked unaligned', () => {
  for (const format of FORMATS) {
    it(`${format}: 300 math-like generations (rare split symbols, stops, end-of-sequence, caps)`, async () => {
      const r = await readBack(format, mathTrace, { seed: 17 + format.length, count: 300, sampledShare: 0.9 });
      expect(r.wrong, r.firstWrong).toEqual([]);
      expect(r.exact, `${format}: ${r.reasons.join(' | ')}`).toBeGreaterThanOrEqual(format === 'vllm-ids' ? 300 : 285);
    });
    it(`${format}: 300 adversarial generations (random byte splits everywhere) are never misread`, async () => {
      const r = await readBack(format, randomTrace, { seed: format.length * 7919, count: 300, sampledShare: 0.8 });
      expect(r.wrong, r.firstWrong).toEqual([]);
      // What the layouts carry: token ids always suffice; the strings and entries lose the split
      // of several characters across a few tokens, which is then reported, not guessed.
      expect(r.exact, `${format}: ${r.reasons.join(' | ')}`).toBeGreaterThanOrEqual(format === 'vllm-ids' ? 300 : 150);
    });
  }
});

describe('tokenizer endpoints that fail', () => {
  it('mark the sample unaligned (an HTTP error) instead of stopping the run', async () => {
    const { EvalServerError } = await import('../src/eval/client.js');
    const f = fixtures.find((x) => x.name === 'llamacpp-stop-single-token')!.fixture;
    const noTokenize = { stopTokenCount: async () => Promise.reject(new EvalServerError('http', 'POST http://x/tokenize answered HTTP 404: not found', 404)) };
    const t = await readThinking(f.response, { thinkEnd: '</think>', budgets: [1, 2, 3], calls: noTokenize });
    expect(t.unaligned).toMatch(/counting the tokens it dropped failed: POST http:\/\/x\/tokenize answered HTTP 404/);
    const ids = fixtures.find((x) => x.name === 'vllm-token-ids')!.fixture;
    const noDetokenize = { detokenize: async () => Promise.reject(new EvalServerError('http', 'POST http://x/detokenize answered HTTP 404', 404)) };
    const u = await readThinking(ids.response, { thinkEnd: '</think>', budgets: [1, 2, 3], calls: noDetokenize });
    expect(u.unaligned).toMatch(/POST \/detokenize failed/);
    // A server that does not answer at all is a server error, not an unaligned sample.
    const dead = { detokenize: async () => Promise.reject(new EvalServerError('unreachable', 'POST /detokenize: ECONNREFUSED')) };
    await expect(readThinking(ids.response, { thinkEnd: '</think>', budgets: [1, 2, 3], calls: dead })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('vLLM with include_stop_str_in_output', () => {
  it('reads a text that keeps the stop string like one that does not', async () => {
    const tokens = ['a', ' b', '</think>'];
    const t = await readThinking({ choices: [{ text: 'a b</think>', finish_reason: 'stop', stop_reason: '</think>', logprobs: { tokens } }] }, { thinkEnd: '</think>', budgets: [1, 2, 3] });
    expect(t).toMatchObject({ length: 3, finished: true, unaligned: null });
    expect([1, 2, 3].map((k) => t.prefix(k))).toEqual(['a', 'a b', 'a b</think>']);
  });
});
