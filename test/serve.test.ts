/**
 * `anytime serve` in this process on a loopback port: the eval pipeline through HTTP against
 * the same pipeline in-process, request validation over the wire, /v1/models, batching of
 * concurrent requests, and the sampler's agreement with a plain forward.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvalCommand } from '../src/cli/eval.js';
import { readResults } from '../src/eval/results.js';
import { causalMask } from '../src/model/transformer.js';
import { CompletionEngine } from '../src/serve/engine.js';
import { choiceRows, decodeRows, generate } from '../src/serve/generate.js';
import { startServer, type RunningServer } from '../src/serve/http.js';
import { loadServedModel, type ServedModel } from '../src/serve/load.js';
import { TEXT_MAPS } from '../src/serve/protocol.js';
import { SPECIAL } from '../src/tasks/types.js';
import { comparable, evalArgs, inProcessEval, makeCheckpoint, writeProblems } from './serve-fixture.js';

let dir: string;
let model: ServedModel;
let engine: CompletionEngine;
let server: RunningServer;
const batches: { requests: number; rows: number }[] = [];

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  dir = mkdtempSync(join(tmpdir(), 'anytime-serve-'));
  const ckpt = await makeCheckpoint(dir);
  model = loadServedModel(ckpt);
  engine = new CompletionEngine(model.policy, model.task, { modelId: model.modelId, textMap: TEXT_MAPS.paper, boxAnswers: true, seed: 0, info: model.info });
  server = await startServer({ engine, port: 0, maxBatch: 16, batchWaitMs: 20, onBatch: (b) => batches.push(b) });
});

afterAll(async () => {
  await server?.close();
  model?.policy.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const post = async (body: unknown, raw = false): Promise<{ status: number; json: any }> => {
  const res = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
};

describe('anytime serve over HTTP', () => {
  it('lists the checkpoint in /v1/models', async () => {
    const res = await fetch(`${server.url}/v1/models`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.object).toBe('list');
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ id: 'arith-tiny', object: 'model', task: 'arithmetic', max_model_len: model.policy.config.maxSeqLen, kind: 'warm-start' });
    expect(body.data[0].checkpoint).toContain('arith-tiny.ckpt');
  });

  it('rejects malformed requests with 400 and a JSON error naming the field', async () => {
    const ok = { prompt: '3 + 4 ?', max_tokens: 4 };
    const cases: [unknown, string | null, RegExp][] = [
      [{ max_tokens: 4 }, 'prompt', /required/],
      [{ ...ok, max_tokens: -1 }, 'max_tokens', /1\.\./],
      [{ ...ok, max_tokens: 2.5 }, 'max_tokens', /integer/],
      [{ ...ok, max_tokens: 1000 }, 'max_tokens', /context is \d+: at most \d+/],
      [{ ...ok, n: 0 }, 'n', /1\.\.128/],
      [{ ...ok, temperature: 'NaN' }, 'temperature', /finite number/],
      [{ ...ok, temperature: -0.5 }, 'temperature', /≥ 0/],
      [{ ...ok, prompt: 'hello' }, 'prompt', /unknown token.*allowed tokens/],
      [{ ...ok, prompt: [1, 99] }, 'prompt', /\[1\] must be a token id/],
      [{ ...ok, prompt: ['3 ?', '4 ?'] }, 'prompt', /one prompt per request/],
      [{ ...ok, stop: ['x'] }, 'stop', /\[0\] unknown token/],
      [{ ...ok, stop: ['  '] }, 'stop', /whitespace/],
      [{ ...ok, stop: 5 }, 'stop', /string or an array/],
      [{ ...ok, logprobs: 21 }, 'logprobs', /0\.\.20/],
      [{ ...ok, seed: 1.5 }, 'seed', /integer/],
      [{ ...ok, top_p: 0.9 }, 'top_p', /not supported/],
      [{ ...ok, stream: true }, 'stream', /not supported/],
      [[ok], null, /JSON object/],
    ];
    for (const [body, param, message] of cases) {
      const { status, json } = await post(body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error.param, JSON.stringify(body)).toBe(param);
      expect(json.error.type).toBe('invalid_request_error');
      expect(json.error.message).toMatch(message);
    }
    // JSON has no NaN: a literal NaN is a body that does not parse.
    const nan = await post('{"prompt": "3 ?", "temperature": NaN}', true);
    expect(nan.status).toBe(400);
    expect(nan.json.error.message).toMatch(/not valid JSON/);
    const wrongModel = await post({ ...ok, model: 'gpt-4' });
    expect(wrongModel.status).toBe(404);
    expect(wrongModel.json.error).toMatchObject({ param: 'model', type: 'not_found_error' });
    expect((await fetch(`${server.url}/v1/completions`)).status).toBe(405);
    expect((await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('ignores unknown fields and accepts neutral values of unsupported ones', async () => {
    const base = { prompt: '3 + 4 ?', max_tokens: 12, seed: 9, temperature: 1 };
    const plain = await post(base);
    const extra = await post({ ...base, user: 'me', some_vendor_option: { a: 1 }, top_p: 1, stream: false, echo: false, best_of: 1 });
    expect(plain.status).toBe(200);
    expect(extra.status).toBe(200);
    expect(extra.json.choices).toEqual(plain.json.choices);
  });

  it('answers in the completions layout: stop strings, finish reasons, logprobs that spell the text', async () => {
    const { status, json } = await post({ model: 'arith-tiny', prompt: '<bos> 3 + 4 * 7 ?', max_tokens: 40, n: 6, stop: ['</think>', ';'], logprobs: 3, seed: 1, temperature: 1 });
    expect(status).toBe(200);
    expect(json.object).toBe('text_completion');
    expect(json.choices).toHaveLength(6);
    expect(json.usage.prompt_tokens).toBe(7); // <bos> 3 + 4 * 7 ?: BOS given once, not doubled
    for (const [i, c] of json.choices.entries()) {
      expect(c.index).toBe(i);
      // As vLLM: the tokens spell the text, then the stop string (or EOS) that ended it.
      const spelled = c.logprobs.tokens.join('');
      if (c.stop_reason !== null) expect(spelled).toBe(c.text + c.stop_reason);
      else if (c.finish_reason === 'stop') expect(spelled).toBe(c.text + c.logprobs.tokens.at(-1));
      else expect(spelled).toBe(c.text);
      expect(c.logprobs.token_logprobs).toHaveLength(c.logprobs.tokens.length);
      c.logprobs.tokens.forEach((t: string, k: number) => {
        expect(spelled.startsWith(t, c.logprobs.text_offset[k])).toBe(true);
        const top = c.logprobs.top_logprobs[k];
        expect(top[t]).toBe(c.logprobs.token_logprobs[k]);
        expect(Object.keys(top).length).toBeGreaterThanOrEqual(3);
        expect(Math.max(...(Object.values(top) as number[]))).toBeLessThanOrEqual(0);
      });
      expect(['stop', 'length']).toContain(c.finish_reason);
      if (c.finish_reason === 'length') expect(c.logprobs.tokens).toHaveLength(40);
      if (c.stop_reason !== null) expect(c.finish_reason).toBe('stop');
      expect(c.text).not.toContain('</think>');
      expect(c.text).not.toContain(';');
      // Re-encoding prompt + text gives back the prompt's and the generated ids.
      expect(model.task.encode(spelled)).toHaveLength(c.logprobs.tokens.length);
    }
    expect(json.choices.some((c: any) => c.stop_reason === ';' || c.stop_reason === '</think>')).toBe(true);
  });

  it('boxes summaries (prompts ending in the answer header) so the eval can grade them', async () => {
    const summary = await post({ prompt: '3 + 4 ? 3 + 4 = 7 ; ...\n\n...\n\n</think>\n\n**Final Answer**\n', max_tokens: 3, n: 4, seed: 2 });
    for (const c of summary.json.choices) expect(c.text).toMatch(/^\\boxed\{.*\}$/);
    const thinking = await post({ prompt: '3 + 4 ?', max_tokens: 3, n: 4, seed: 2 });
    for (const c of thinking.json.choices) expect(c.text).not.toContain('boxed');
  });

  it('batches concurrent requests, with the same results as sequential and unbatched ones', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => ({
      prompt: ['3 + 4 ?', '9 * 2 - 5 + 1 ?', '7 - 3 ? 7 - 3 = 4 ; </think> <answer>', '1 + 2 * 3 * 4 - 5 + 6 ?'][i % 4],
      max_tokens: 10 + 5 * i,
      n: 1 + (i % 3),
      temperature: [1, 0.6, 0][i % 3],
      logprobs: i % 2 === 0 ? 2 : null,
      stop: i % 2 === 0 ? ['</think>'] : ['; 9'],
      seed: 100 + i,
    }));
    // A server with a wide batching window of its own: on a loaded CI machine the 8 requests can
    // arrive further apart than the main server's 20 ms window, which would make this test flaky.
    const wide = await startServer({ engine, port: 0, maxBatch: 64, batchWaitMs: 1500, onBatch: (b) => batches.push(b) });
    const postTo = async (url: string, body: unknown) => {
      const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, json: await res.json() };
    };
    const concurrent = await Promise.all(bodies.map((b) => postTo(wide.url, b)));
    const used = wide.stats.batches;
    const wideStats = await (await fetch(`${wide.url}/stats`)).json();
    await wide.close();
    expect(used).toBeLessThan(bodies.length);
    expect(batches.at(-used)!.requests).toBeGreaterThan(1);
    expect(wideStats.maxRequestsPerBatch).toBeGreaterThan(1);
    const sequential: { status: number; json: any }[] = [];
    for (const b of bodies) sequential.push(await post(b));
    const direct = await Promise.all(bodies.map((b) => engine.complete(b)));
    bodies.forEach((_, i) => {
      expect(concurrent[i].status).toBe(200);
      const strip = (choices: any[]) => choices.map((c) => ({ ...c, logprobs: c.logprobs?.tokens ?? null }));
      expect(strip(concurrent[i].json.choices)).toEqual(strip(sequential[i].json.choices));
      expect(strip(concurrent[i].json.choices)).toEqual(strip(direct[i].choices));
      concurrent[i].json.choices.forEach((c: any, j: number) => {
        if (!c.logprobs) return;
        c.logprobs.token_logprobs.forEach((lp: number, k: number) => expect(lp).toBeCloseTo(direct[i].choices[j].logprobs!.token_logprobs[k], 4));
      });
    });
    const stats = await (await fetch(`${server.url}/stats`)).json();
    expect(stats.batches).toBe(server.stats.batches);
  });

  it('gives the eval the same per-budget results as the in-process pipeline with the same seeds', async () => {
    const data = writeProblems(dir, 8);
    const out = join(dir, 'http.json');
    const lines: string[] = [];
    const code = await runEvalCommand(evalArgs({ baseUrl: server.url, model: 'arith-tiny', data, out, extra: ['--concurrency', '4'] }), {
      log: (l) => lines.push(l),
      progressStream: { write: () => true } as unknown as NodeJS.WritableStream,
    });
    expect(code, lines.join('\n')).toBe(0);
    const viaHttp = readResults(join(dir, 'http.samples.jsonl')).records;
    const inProcess = await inProcessEval(engine, data, join(dir, 'inprocess.samples.jsonl'));
    expect(viaHttp).toHaveLength(16);
    expect(comparable(viaHttp)).toEqual(comparable(inProcess));
    const summary = JSON.parse(readFileSync(out, 'utf8'));
    const accuracy = [0, 1, 2, 3].map((j) => inProcess.reduce((a, r) => a + r.scores[j], 0) / inProcess.length);
    accuracy.forEach((a, j) => expect(summary.accuracy[j]).toBeCloseTo(a, 12));
    // The checkpoint is weak but the check is not vacuous: some answers are right, some traces are cut.
    expect(Math.max(...accuracy)).toBeGreaterThan(0);
    expect(inProcess.some((r) => r.groups.some((g) => g.cut && !g.scoresZero))).toBe(true);
    expect(summary.formattedFraction).toBeGreaterThan(0.5);
    // 16 samples through HTTP and again in process: it ran past the default 60 s on the 2-core machine at load ~6.
  }, 240_000);
});

describe('serve sampler', () => {
  it('seeds each choice on its own: choice i does not depend on n, batching or its neighbours', async () => {
    const prompt = model.task.encode('<bos> 5 * 3 + 2 ?');
    const four = await generate(model.policy, prompt, { maxTokens: 20, seed: 4, n: 4 });
    const one = await generate(model.policy, prompt, { maxTokens: 20, seed: 4, n: 1 });
    expect(one[0].tokens).toEqual(four[0].tokens);
    expect(new Set(four.map((c) => c.tokens.join(','))).size).toBeGreaterThan(1);
    const other = model.task.encode('<bos> 1 ?');
    const mixed = await decodeRows(model.policy, [...choiceRows(other, { maxTokens: 30, seed: 8, n: 3 }), ...choiceRows(prompt, { maxTokens: 20, seed: 4, n: 4 })]);
    expect(mixed.slice(3).map((c) => c.tokens)).toEqual(four.map((c) => c.tokens));
  });

  it('reports the log-probs a plain causal forward gives, for left-padded batched rows', async () => {
    const prompts = ['<bos> 5 * 3 + 2 - 7 * 4 ?', '<bos> 1 ?'].map((t) => model.task.encode(t));
    const rows = prompts.flatMap((p, i) => choiceRows(p, { maxTokens: 25, seed: 11 + i, n: 2, topLogprobs: 1 }));
    const outs = await decodeRows(model.policy, rows);
    const tensorsBefore = tf.memory().numTensors;
    for (const [r, out] of outs.entries()) {
      const seq = [...rows[r].prefix, ...out.tokens];
      const T = seq.length;
      const logp = tf.tidy(() => {
        const { logits } = model.policy.run({
          ids: tf.tensor2d(seq, [1, T], 'int32'),
          pos: tf.tensor2d(Array.from({ length: T }, (_, i) => i), [1, T], 'int32'),
          mask: tf.tensor3d(causalMask([0], T), [1, T, T]),
        });
        return tf.logSoftmax(logits);
      });
      const values = (await logp.data()) as Float32Array;
      logp.dispose();
      const V = model.policy.config.vocabSize;
      out.tokens.forEach((t, k) => {
        const at = rows[r].prefix.length - 1 + k;
        expect(out.logprobs[k]).toBeCloseTo(values[at * V + t], 4);
      });
      expect(out.top!.every((alts, k) => alts[0].logprob >= out.logprobs[k] - 1e-12)).toBe(true);
      if (out.finishReason === 'stop') expect(out.tokens.at(-1)).toBe(SPECIAL.EOS);
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    await decodeRows(model.policy, rows);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // no tensors leak from decoding
  });
});
