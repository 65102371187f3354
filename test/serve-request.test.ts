/**
 * The server's pure parts: text protocol, request validation, response layout, batching queue
 * (with a stand-in decoder, to pin down the scheduling rule).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_FORCE_ANSWER, DEFAULT_FORCE_CUT, DEFAULT_PROMPT_TEMPLATE, DEFAULT_THINK_END, renderPrompt } from '../src/eval/planner.js';
import { forcedSummaryText } from '../src/core/truncation.js';
import { getTask } from '../src/tasks/index.js';
import { SPECIAL, forcingTokens } from '../src/tasks/types.js';
import { makeProtocol, TEXT_MAPS } from '../src/serve/protocol.js';
import { parseCompletionRequest, ServeError, type RequestContext } from '../src/serve/request.js';
import { formatChoice } from '../src/serve/response.js';
import { BatchQueue } from '../src/serve/queue.js';
import type { RowOutput, RowSpec } from '../src/serve/generate.js';
import { gradeSummary } from '../src/verify/index.js';

const task = getTask('arithmetic');
const paper = makeProtocol(task, TEXT_MAPS.paper);
const plain = makeProtocol(task, TEXT_MAPS.none);
const ctx: RequestContext = { modelId: 'm', vocabSize: task.vocab.length, maxSeqLen: 119, protocol: paper };

describe('text protocol', () => {
  const problem = task.sample(() => 0.3);
  const thinking = task.decode([6, 16, 7, 19, 9, 20]); // "0 + 1 = 3 ;"

  it("maps the eval's default prompt and forcing strings onto the tokens the policy was trained with", () => {
    const prompt = renderPrompt(DEFAULT_PROMPT_TEMPLATE, task.decode(problem.prompt));
    expect(paper.encodePrompt(prompt)).toEqual([SPECIAL.BOS, ...problem.prompt]);
    const strings = { cutSuffix: DEFAULT_FORCE_CUT, answerHeader: DEFAULT_FORCE_ANSWER, thinkEnd: DEFAULT_THINK_END };
    const ids = task.encode(thinking);
    // A cut trace: [ELLIPSIS, THINK_END, ANSWER]; a finished one (its text ends in </think>): [ANSWER] after it.
    expect(paper.encodePrompt(prompt + forcedSummaryText(thinking, true, strings))).toEqual([SPECIAL.BOS, ...problem.prompt, ...ids, ...forcingTokens(true)]);
    expect(paper.encodePrompt(prompt + forcedSummaryText(thinking + ' </think>', false, strings))).toEqual([
      SPECIAL.BOS, ...problem.prompt, ...ids, SPECIAL.THINK_END, ...forcingTokens(false),
    ]);
  });

  it("with no text map, the vocabulary's own spellings give the same ids", () => {
    const text = `${task.decode(problem.prompt)} ${thinking} ... </think> <answer>`;
    expect(plain.encodePrompt(text)).toEqual([SPECIAL.BOS, ...problem.prompt, ...task.encode(thinking), ...forcingTokens(true)]);
    expect(plain.encodePrompt('<bos> ' + text)).toEqual(plain.encodePrompt(text));
    expect(() => plain.encodePrompt(DEFAULT_FORCE_ANSWER)).toThrow(/unknown token/);
  });

  it('token pieces spell the codec text and re-encode to the same ids', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: task.vocab.length - 1 }), { minLength: 2, maxLength: 30 }), (ids) => {
        const pieces = ids.slice(1).map((id, k) => paper.piece(ids[k], id));
        expect(task.decode(ids[0] === 0 ? [] : [ids[0]]) + pieces.join('')).toBe(task.decode(ids));
        expect(task.encode(pieces.join(''))).toEqual(ids.slice(1));
      }),
    );
  });
});

describe('request validation', () => {
  const parse = (body: unknown) => parseCompletionRequest(body, ctx);
  const error = (body: unknown): ServeError => {
    try {
      parse(body);
    } catch (e) {
      if (e instanceof ServeError) return e;
      throw e;
    }
    throw new Error('no error');
  };

  it('fills the OpenAI defaults', () => {
    expect(parse({ prompt: '3 + 4 ?' })).toEqual({ promptIds: [SPECIAL.BOS, ...task.encode('3 + 4 ?')], maxTokens: 16, temperature: 1, n: 1, stops: [], logprobs: null, seed: null });
  });

  it('encodes stops and accepts token-id prompts', () => {
    const p = parse({ prompt: [7, 16, 8], stop: '</think>', logprobs: 0, seed: -3, n: 2, temperature: 0 });
    expect(p.promptIds).toEqual([SPECIAL.BOS, 7, 16, 8]);
    expect(p.stops).toEqual([{ ids: [SPECIAL.THINK_END], text: '</think>' }]);
    expect(p).toMatchObject({ logprobs: 0, seed: -3, n: 2, temperature: 0 });
    expect(parse({ prompt: '1 ?', stop: ['= 7', ';'] }).stops.map((s) => s.ids)).toEqual([task.encode('= 7'), task.encode(';')]);
  });

  it('names the bad field', () => {
    expect(error({}).param).toBe('prompt');
    expect(error({ prompt: '1 ?', max_tokens: 0 }).param).toBe('max_tokens');
    expect(error({ prompt: '1 ?', max_tokens: 117 }).message).toMatch(/at most 116/);
    expect(parse({ prompt: '1 ?', max_tokens: 116 }).maxTokens).toBe(116);
    expect(error({ prompt: '1 ?', n: 129 }).param).toBe('n');
    expect(error({ prompt: '1 ?', temperature: null as unknown as number, n: 'two' }).param).toBe('n');
    expect(error({ prompt: '1 ?', temperature: Infinity }).param).toBe('temperature'); // (cannot come from JSON, but from in-process callers)
    expect(error({ prompt: '1 ?', logprobs: true }).param).toBe('logprobs');
    expect(error({ prompt: '1 ?', best_of: 3 }).param).toBe('best_of');
    expect(error({ prompt: '1 ?', model: 'other' }).status).toBe(404);
    expect(error('text').body()).toEqual({ error: { message: expect.stringMatching(/JSON object/), type: 'invalid_request_error', param: null, code: 400 } });
  });
});

describe('response layout', () => {
  const out = (tokens: number[], extra: Partial<RowOutput> = {}): RowOutput => ({
    tokens,
    logprobs: tokens.map((_, k) => -0.1 * (k + 1)),
    top: tokens.map((t) => [{ token: t === 6 ? 7 : 6, logprob: -0.01 }]),
    finishReason: 'stop',
    stop: null,
    stopLength: 1,
    ...extra,
  });

  it('cuts the text where the stop string begins and keeps the stop in the tokens, as vLLM does', () => {
    const prompt = [SPECIAL.BOS, ...task.encode('3 + 4 ?')];
    const c = formatChoice(0, prompt, out(task.encode('3 + 4 = 7 ; </think>'), { stop: { ids: [SPECIAL.THINK_END], text: '</think>' } }), { protocol: paper, logprobs: true, boxAnswers: true });
    expect(c.text).toBe(' 3 + 4 = 7 ; ');
    expect(c.stop_reason).toBe('</think>');
    expect(c.logprobs!.tokens).toEqual([' 3', ' +', ' 4', ' =', ' 7', ' ;', ' </think>']);
    expect(c.logprobs!.tokens.join('')).toBe(c.text + '</think>');
    expect(c.logprobs!.text_offset).toEqual([0, 2, 4, 6, 8, 10, 12]);
    expect(c.logprobs!.top_logprobs[0]).toEqual({ ' 0': -0.01, ' 3': -0.1 });
  });

  it('boxes a summary (prompt ending in ANSWER) so gradeSummary reads it; a length-capped one too', () => {
    const prompt = [SPECIAL.BOS, ...task.encode('3 + 4 ? </think> <answer>')];
    const eos = formatChoice(0, prompt, out([13, SPECIAL.EOS]), { protocol: paper, logprobs: true, boxAnswers: true });
    expect(eos.text).toBe('\\boxed{7}');
    expect(eos.logprobs!.tokens).toEqual([' 7', ' <eos>']); // EOS stays in the tokens, not in the text
    expect(eos.logprobs!.text_offset).toEqual([7, 8]);
    expect(gradeSummary(eos.text, '7').score).toBe(1);
    const capped = formatChoice(0, prompt, out([13, 14], { finishReason: 'length', stopLength: 0 }), { protocol: paper, logprobs: false, boxAnswers: true });
    expect(capped).toMatchObject({ text: '\\boxed{78}', finish_reason: 'length', stop_reason: null, logprobs: null });
    expect(gradeSummary(capped.text, '7').score).toBe(0);
    expect(formatChoice(0, prompt, out([13, SPECIAL.EOS]), { protocol: paper, logprobs: false, boxAnswers: false }).text).toBe(' 7');
  });
});

describe('batching queue', () => {
  const row = (id: number, maxTokens = 1): RowSpec => ({ prefix: [SPECIAL.BOS, id], maxTokens, temperature: 1, seed: id, stops: [], topLogprobs: null });
  /** A stand-in decoder: row r "generates" its prefix id; rows finish in order of maxTokens. */
  function fakeDecoder(log: number[][]) {
    return async (rows: RowSpec[], opts: { onRowDone?: (r: number, o: RowOutput) => void }) => {
      log.push(rows.map((r) => r.prefix[1]));
      const outs = rows.map((r): RowOutput => ({ tokens: [r.prefix[1]], logprobs: [0], top: null, finishReason: 'length', stop: null, stopLength: 0 }));
      const order = rows.map((_, i) => i).sort((a, b) => rows[a].maxTokens - rows[b].maxTokens);
      for (const i of order) {
        await new Promise((r) => setTimeout(r, rows[i].maxTokens));
        opts.onRowDone?.(i, outs[i]);
      }
      return outs;
    };
  }

  it('decodes requests that arrive within the wait together, up to maxBatch rows, in arrival order', async () => {
    const log: number[][] = [];
    const q = new BatchQueue(fakeDecoder(log), { maxBatch: 4, waitMs: 30 });
    const a = q.submit([row(1), row(2)]);
    await new Promise((r) => setTimeout(r, 5));
    const b = q.submit([row(3)]);
    const c = q.submit([row(4), row(5)]); // does not fit: next batch
    expect((await a).map((o) => o.tokens[0])).toEqual([1, 2]);
    expect((await b).map((o) => o.tokens[0])).toEqual([3]);
    expect((await c).map((o) => o.tokens[0])).toEqual([4, 5]);
    expect(log).toEqual([[1, 2, 3], [4, 5]]);
    expect(q.stats).toMatchObject({ batches: 2, requests: 3, rows: 5, maxRequestsPerBatch: 2, maxRowsPerBatch: 3, waiting: 0 });
  });

  it('starts at once when maxBatch rows wait, and answers a request when its own rows are done', async () => {
    const log: number[][] = [];
    const q = new BatchQueue(fakeDecoder(log), { maxBatch: 2, waitMs: 10_000 });
    const started = Date.now();
    const slow = q.submit([row(1, 200)]);
    const fast = q.submit([row(2, 1)]);
    await fast;
    const fastAt = Date.now() - started;
    await slow;
    expect(fastAt).toBeLessThan(150);
    expect(log).toEqual([[1, 2]]);
  });

  it('on close, finishes what is queued and refuses new requests with 503', async () => {
    const log: number[][] = [];
    const q = new BatchQueue(fakeDecoder(log), { maxBatch: 8, waitMs: 10_000 });
    const queued = q.submit([row(1)]);
    await q.close();
    expect((await queued)[0].tokens).toEqual([1]);
    await expect(q.submit([row(2)])).rejects.toMatchObject({ status: 503 });
  });

  it('rejects every request of a batch whose decoding fails', async () => {
    const q = new BatchQueue(async () => {
      throw new Error('boom');
    }, { maxBatch: 8, waitMs: 0 });
    await expect(q.submit([row(1)])).rejects.toThrow('boom');
  });
});
